//! The companion read API: the status of one of the target's tasks, read before and after a
//! request on it, so that an effect is pinned to the request that had it. Read-only, polite
//! (the rate limit holds), and its failures are the target's, never a clause's.

use std::sync::atomic::Ordering;
use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::contract::request::Credentials;
use crate::contract::spec::Spec;
use crate::transport::signing;

use super::Target;

impl Target {
    /// Reads the status of a task around each request on it, through the read API.
    pub fn with_read_api(mut self, read: bool) -> Target {
        self.observation.read_api = read;
        self
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

    /// The status the read API gives `task` (`None`: it lists no such task), read page by
    /// page (at most 10 pages); `Err` says why it could not be read.
    pub(crate) async fn task_status(
        &self,
        spec: &Spec,
        task: &str,
    ) -> Result<Option<String>, String> {
        let api = &spec.read_api;
        let mut path = self.endpoint.prefix.clone();
        let mut rest = api.path.as_str();
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            path.push_str(&rest[..open]);
            let value = match &rest[open + 1..close] {
                "project_id" => &self.fixtures.project_id,
                "cluster_id" => &self.fixtures.cluster_id,
                other => return Err(format!("the read API path names {{{other}}}")),
            };
            path.extend(utf8_percent_encode(value, NON_ALPHANUMERIC));
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        for page in 0..10u32 {
            let query = vec![
                ("limit".to_owned(), api.page_size.to_string()),
                ("offset".to_owned(), (page * api.page_size).to_string()),
            ];
            let target = format!("{path}?{}", signing::canonical_query(&query));
            let now = time::OffsetDateTime::now_utc();
            let headers = self.headers_for(&api.method, &path, &query, Credentials::Valid, now);
            self.pacer.pace().await;
            self.traffic.sent.fetch_add(1, Ordering::Relaxed);
            self.traffic.reads.fetch_add(1, Ordering::Relaxed);
            let (response, _) = self
                .endpoint
                .exchange(&api.method, &target, &headers)
                .await
                .map_err(|(e, _)| e.to_string())?;
            if response.status != 200 {
                return Err(format!(
                    "{} {}: status {}",
                    api.method,
                    crate::shown::shorten(&self.endpoint.url_of(&target)),
                    response.status
                ));
            }
            let body: serde_json::Value = serde_json::from_slice(&response.body)
                .map_err(|e| format!("the read API's answer is not JSON: {e}"))?;
            let Some(list) = body.get(&api.list_field).and_then(|l| l.as_array()) else {
                return Err(format!(
                    "the read API's answer has no list `{}`",
                    api.list_field
                ));
            };
            let found = list
                .iter()
                .find(|t| t.get(&api.id_field).and_then(|v| v.as_str()) == Some(task));
            if let Some(t) = found {
                return Ok(t
                    .get(&api.status_field)
                    .and_then(|s| s.as_str())
                    .map(str::to_owned));
            }
            if list.len() < api.page_size as usize {
                return Ok(None);
            }
        }
        Ok(None)
    }
}
