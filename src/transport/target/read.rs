//! The companion read API: the status of one of the target's tasks, read before and after a
//! request on it, so that an effect is pinned to the request that had it. Read as the vendor
//! documents it: `offset` from 1, pages as long as the server makes them (followed by what
//! came back and the total), the upgrade tasks first and then each other listing (AZ
//! switchover tasks). Read-only, polite (the rate limit holds, transient answers are waited
//! out), and its failures are the target's or the fixtures', never a clause's.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::contract::oracle::ErrorFields;
use crate::contract::request::{Credentials, encode_unreserved_kept};
use crate::contract::spec::{Spec, TaskRead};
use crate::transport::signing;

use super::loopback::Payload;
use super::read_error::{MAX_PAGES, ReadError, fix_for};
use super::sending::{Ended, Resend};
use super::{Cluster, Target};

/// The most pages of one listing a look at the whole cluster reads.
const WATCH_PAGES: u32 = 10;

impl Target {
    /// Says a fault of the read API (`what` failed: `why`) on stderr: the first of the run as
    /// a warning, the others at debug level only (a target that stopped answering would
    /// otherwise repeat it for every read; the report says what was not judged).
    pub(crate) fn say_read_fault(&self, what: &str, why: &ReadError) {
        let before = self.traffic.read_faults.fetch_add(1, Ordering::Relaxed);
        if before == 0 {
            tracing::warn!(
                "target fault: {what}: {why} (later faults of the read API are said at debug level only)"
            );
        } else {
            tracing::debug!("target fault: {what}: {why}");
        }
    }
}

impl Target {
    /// Reads the status of a task around each request on it, through the read API.
    pub fn with_read_api(mut self, read: bool) -> Target {
        self.observation.read_api = read;
        self
    }

    /// Reads at most `pages` pages of a listing for a task.
    pub(crate) fn with_read_pages(mut self, pages: u32) -> Target {
        self.observation.read_pages = pages;
        self
    }

    /// The most pages of one listing read for a task.
    fn read_pages(&self) -> u32 {
        match self.observation.read_pages {
            0 => MAX_PAGES,
            pages => pages,
        }
    }

    /// Gives an effect `settle` to land.
    pub(crate) fn with_settle_period(mut self, settle: Duration) -> Target {
        self.observation.settle = settle;
        self
    }

    /// How long an effect may take to land (0 for the built-in stub).
    pub(crate) fn settle_period(&self) -> Duration {
        self.observation.settle
    }

    /// Whether the target serves the read API (the profile says so).
    pub(crate) fn reads_tasks(&self) -> bool {
        self.observation.read_api
    }

    /// What the read API shows of `task` (`None`: no listing has such a task), looked for in
    /// the listing it was last found in first, then in each listing page by page.
    pub(crate) async fn task_status(
        &self,
        spec: &Spec,
        task: &str,
    ) -> Result<Option<TaskRead>, ReadError> {
        let api = &spec.read_api;
        let path = self.read_path(spec)?;
        let listings = 1 + api.other_listings.len();
        // Where the task was found last: its page is read first (a task seldom moves).
        let last = self
            .listing_of
            .lock()
            .ok()
            .and_then(|l| l.get(task).copied());
        if let Some((listing, offset)) = last {
            let mode = listing
                .checked_sub(1)
                .map(|i| api.other_listings[i].as_str());
            if let Found::Status(read) = self
                .find_in_listing(spec, &path, mode, task, offset, 1)
                .await?
            {
                return Ok(Some(read));
            }
        }
        let first = last.map_or(0, |(listing, _)| listing);
        let mut seen = 0;
        let mut cut = false;
        for listing in (0..listings).map(|i| (first + i) % listings) {
            let mode = listing
                .checked_sub(1)
                .map(|i| api.other_listings[i].as_str());
            let start = u64::from(api.first_offset);
            match self
                .find_in_listing(spec, &path, mode, task, start, self.read_pages())
                .await?
            {
                Found::Status(read) => return Ok(Some(read)),
                Found::Absent { seen: n, cut: c } => {
                    seen += n;
                    cut |= c;
                }
            }
        }
        if cut {
            return Err(ReadError::TooLong {
                seen,
                pages: self.read_pages(),
            });
        }
        Ok(None)
    }

    /// The read API's path for the run's project and cluster, behind the endpoint's prefix,
    /// each ID as the vendor's SDK writes it (unreserved characters never encoded).
    fn read_path(&self, spec: &Spec) -> Result<String, ReadError> {
        let mut path = self.endpoint.prefix.clone();
        let mut rest = spec.read_api.path.as_str();
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            path.push_str(&rest[..open]);
            let value = match &rest[open + 1..close] {
                "project_id" => &self.fixtures.project_id,
                "cluster_id" => &self.fixtures.cluster_id,
                other => {
                    return Err(ReadError::Malformed {
                        url: spec.read_api.path.clone(),
                        why: format!("the read API's path names {{{other}}}"),
                    });
                }
            };
            encode_unreserved_kept(&mut path, value);
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        Ok(path)
    }

    /// Looks for `task` in one listing (`mode`: the listing parameter's value, none for the
    /// default listing), from `offset` on, at most `pages` pages as the server cuts them; where
    /// it is found is remembered.
    async fn find_in_listing(
        &self,
        spec: &Spec,
        path: &str,
        mode: Option<&str>,
        task: &str,
        mut offset: u64,
        pages: u32,
    ) -> Result<Found, ReadError> {
        let mut seen = 0;
        for _ in 0..pages {
            let Some(page) = self.read_page(spec, path, mode, offset).await? else {
                return Ok(Found::Absent { seen, cut: false });
            };
            if let Some(read) = page.read_of(spec, task) {
                self.found(spec, task, &read, mode, offset);
                return Ok(Found::Status(read));
            }
            let n = page.entries.len();
            seen += n;
            offset += n as u64;
            if page.last(spec, seen, offset) {
                return Ok(Found::Absent { seen, cut: false });
            }
        }
        Ok(Found::Absent {
            seen,
            cut: pages == self.read_pages(),
        })
    }

    /// Every task the read API lists, in every listing (the upgrade tasks and the AZ
    /// switchover tasks), each as read: the whole cluster, to see what a request did to tasks
    /// it did not name.
    pub(crate) async fn cluster(&self, spec: &Spec) -> Result<Cluster, ReadError> {
        let api = &spec.read_api;
        let path = self.read_path(spec)?;
        let mut cluster = Cluster::new();
        let modes =
            std::iter::once(None).chain(api.other_listings.iter().map(|m| Some(m.as_str())));
        for mode in modes {
            let mut offset = u64::from(api.first_offset);
            let mut seen = 0;
            let mut whole = false;
            // Pages as long as the server cuts them, at most `WATCH_PAGES` of them (a look is
            // made around every request that may act: it must stay cheap).
            for _ in 0..self.read_pages().min(WATCH_PAGES) {
                let Some(page) = self.read_page(spec, &path, mode, offset).await? else {
                    whole = true;
                    break;
                };
                for entry in &page.entries {
                    if let Some(id) = entry.get(&api.id_field).and_then(|v| v.as_str()) {
                        let read = Page::read_entry(spec, entry);
                        self.found(spec, id, &read, mode, offset);
                        cluster.insert(id.to_owned(), read);
                    }
                }
                let n = page.entries.len();
                seen += n;
                offset += n as u64;
                if page.last(spec, seen, offset) {
                    whole = true;
                    break;
                }
            }
            if !whole {
                // Longer than the pages allow: what was read is watched, the rest is not (said
                // once), and a task beyond it is looked for on its own.
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    tracing::warn!(
                        "the read API lists more than the {seen} tasks of {} pages: the cluster watch sees those only",
                        self.read_pages().min(WATCH_PAGES)
                    );
                });
            }
        }
        Ok(cluster)
    }

    /// Remembers where `task` was found and what it showed.
    fn found(&self, spec: &Spec, task: &str, read: &TaskRead, mode: Option<&str>, offset: u64) {
        let api = &spec.read_api;
        if !read.status.is_empty() {
            self.note_task(task, api.is_failed(&read.status));
        }
        let listing = mode.map_or(0, |m| {
            1 + api.other_listings.iter().position(|l| l == m).unwrap_or(0)
        });
        if let Ok(mut found) = self.listing_of.lock() {
            // Bounded: a listing as long as the pages allow, and no more.
            if found.len() < 100_000 || found.contains_key(task) {
                found.insert(task.to_owned(), (listing, offset));
            }
        }
    }

    /// One page of a listing (`None`: a listing besides the default one that the server does
    /// not serve, which holds none of the run's tasks).
    async fn read_page(
        &self,
        spec: &Spec,
        path: &str,
        mode: Option<&str>,
        offset: u64,
    ) -> Result<Option<Page>, ReadError> {
        let api = &spec.read_api;
        let mut query = vec![
            (api.limit_param.clone(), api.page_size.to_string()),
            (api.offset_param.clone(), offset.to_string()),
        ];
        if let Some(mode) = mode {
            query.push((api.listing_param.clone(), mode.to_owned()));
        }
        let target = format!("{path}?{}", signing::canonical_query(&query));
        let url = self.endpoint.url_of(&target);
        let headers = || self.headers_for(&api.method, path, &query, Credentials::Valid, now());
        self.traffic.reads.fetch_add(1, Ordering::Relaxed);
        let response = match self
            .exchange_politely(&api.method, &target, &headers, Payload::NONE, Resend::Safe)
            .await
        {
            Ended::Answer(r) | Ended::Persisting(r, _) => r,
            Ended::Fault(e) => {
                return Err(ReadError::NoAnswer {
                    url,
                    why: e.message,
                });
            }
            Ended::Unsettled(why) => return Err(ReadError::NoAnswer { url, why }),
        };
        if response.truncated {
            return Err(ReadError::Malformed {
                url,
                why: format!(
                    "its answer is larger than the {} bytes read of one (a page shorter than `limit={}` asks would fit)",
                    response.body.len(),
                    api.page_size
                ),
            });
        }
        if response.status != 200 {
            if mode.is_some() && response.status == 400 {
                return Ok(None);
            }
            return Err(self.refused(spec, url, &response));
        }
        Page::of(spec, &response.body)
            .map(Some)
            .map_err(|why| ReadError::Malformed { url, why })
    }

    /// A refused read, with what the server said and the setting that fits its code.
    fn refused(
        &self,
        spec: &Spec,
        url: String,
        response: &crate::contract::request::Response,
    ) -> ReadError {
        let error: Option<ErrorFields> = serde_json::from_slice(&response.body).ok();
        let code = error.as_ref().map(|e| e.error_code.clone());
        let message = error.map(|e| e.error_msg);
        let fix = fix_for(
            spec,
            (&self.auth, &self.token_env),
            response.status,
            code.as_deref(),
        );
        ReadError::Refused {
            url,
            status: response.status,
            code,
            message,
            fix,
        }
    }
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// Where a task was looked for in one listing.
enum Found {
    Status(TaskRead),
    /// Not there: how many tasks were seen, and whether the listing was cut at `MAX_PAGES`.
    Absent {
        seen: usize,
        cut: bool,
    },
}

/// One page of a listing.
struct Page {
    entries: Vec<serde_json::Value>,
    total: Option<u64>,
}

impl Page {
    fn of(spec: &Spec, body: &[u8]) -> Result<Page, String> {
        let api = &spec.read_api;
        let mut body: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let total = body.get(&api.total_field).and_then(number);
        match body.get_mut(&api.list_field).map(serde_json::Value::take) {
            Some(serde_json::Value::Array(entries)) => Ok(Page { entries, total }),
            // No task at all may be given as no list.
            None | Some(serde_json::Value::Null) => Ok(Page {
                entries: Vec::new(),
                total,
            }),
            Some(_) => Err(format!("`{}` is not a list", api.list_field)),
        }
    }

    /// What this page shows of `task`, if it lists it.
    fn read_of(&self, spec: &Spec, task: &str) -> Option<TaskRead> {
        let api = &spec.read_api;
        let entry = self
            .entries
            .iter()
            .find(|t| t.get(&api.id_field).and_then(|v| v.as_str()) == Some(task))?;
        Some(Page::read_entry(spec, entry))
    }

    /// What one entry shows of its task: its status (empty if it has none) and its count of
    /// retries (a number or a string of one).
    fn read_entry(spec: &Spec, entry: &serde_json::Value) -> TaskRead {
        let api = &spec.read_api;
        let status = entry
            .get(&api.status_field)
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_owned();
        let retries = api
            .retries_field
            .as_ref()
            .and_then(|f| entry.get(f))
            .and_then(number);
        TaskRead { status, retries }
    }

    /// Whether this page is the listing's last: it listed nothing, or all the total says, or
    /// the next offset is beyond the documented range.
    fn last(&self, spec: &Spec, seen: usize, next_offset: u64) -> bool {
        self.entries.is_empty()
            || self.total.is_some_and(|t| seen as u64 >= t)
            || next_offset > u64::from(spec.read_api.max_offset)
    }
}

/// A count given as a number or as a string of one.
fn number(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_read_as_the_vendor_documents_it_whatever_form_its_total_takes() {
        let spec = Spec::embedded();
        let body = br#"{"totalSize":"3","detailList":[{"id":"a","status":"FAILED"},{"id":"b"}]}"#;
        let page = Page::of(&spec, body).expect("a page");
        assert_eq!((page.entries.len(), page.total), (2, Some(3)));
        assert_eq!(
            page.read_of(&spec, "a"),
            Some(TaskRead::of_status("FAILED"))
        );
        assert_eq!(page.read_of(&spec, "b"), Some(TaskRead::default()));
        assert_eq!(page.read_of(&spec, "c"), None);
        // The count of retries, as a string or a number.
        let counted = br#"{"detailList":[{"id":"a","status":"FAILED","executeTimes":"2"},{"id":"b","executeTimes":3}]}"#;
        let page = Page::of(&spec, counted).expect("a page");
        assert_eq!(page.read_of(&spec, "a").and_then(|r| r.retries), Some(2));
        assert_eq!(page.read_of(&spec, "b").and_then(|r| r.retries), Some(3));
        // No task at all may come as no list; a list of another type is not the listing.
        let empty = Page::of(&spec, br#"{"totalSize":0}"#).expect("a page");
        assert!(empty.entries.is_empty());
        assert!(Page::of(&spec, br#"{"detailList":{}}"#).is_err());
        assert!(Page::of(&spec, b"<html>").is_err());
    }

    #[test]
    fn the_read_apis_path_never_encodes_an_unreserved_character() {
        let mut path = String::new();
        encode_unreserved_kept(&mut path, "ea244205-d641_45d9.9dcb~AB");
        assert_eq!(path, "ea244205-d641_45d9.9dcb~AB");
        path.clear();
        encode_unreserved_kept(&mut path, "a b/c%");
        assert_eq!(path, "a%20b%2Fc%25");
    }
}
