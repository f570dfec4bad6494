//! The stub's read API, as the vendor's page documents it: `offset` counts from 1 (1-1000),
//! `limit` asks for 1-1000 tasks a page (default 10), `action_mode` chooses the upgrade tasks
//! (left out, or `UPGRADING`) or the AZ switchover tasks (`AZ_MIGRATION`); a value out of its
//! range is refused with 400. Each entry has every documented field. The variants choose
//! what the page leaves open: pages shorter than asked, AZ switchover tasks, a late read.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::contract::classify::{self, Identity};
use crate::contract::spec::Kind;

use super::{Answer, Incoming, Responder, Task, Variant};

impl Responder {
    /// The read API's answer, if `path` is its path: the stub's listed tasks with their
    /// status (a task retried is RUNNING; one aborted, ABORTED, since the vendor lists no
    /// status for a terminated task; one that is not failed, RUNNING).
    pub(super) fn read(&self, req: &Incoming<'_>, path: &str, query: &str) -> Option<Answer> {
        let api = &self.spec.read_api;
        fn param(t: &str) -> Option<&str> {
            t.strip_prefix('{').and_then(|t| t.strip_suffix('}'))
        }
        // Every request comes here first: a path that is not the read API's is told apart
        // before anything is decoded or kept, most by their last segment alone.
        if let Some(last) = api.path.rsplit('/').next().filter(|t| param(t).is_none())
            && path.rsplit('/').next().is_none_or(|a| a != last)
        {
            return None;
        }
        let mut actual = path.split('/');
        let is_read = api
            .path
            .split('/')
            .all(|t| actual.next().is_some_and(|a| t == a || param(t).is_some()))
            && actual.next().is_none();
        if !is_read {
            return None;
        }
        let raw = self.variants.has(Variant::RawPath);
        let ids: BTreeMap<&str, Cow<'_, str>> = api
            .path
            .split('/')
            .zip(path.split('/'))
            .filter_map(|(t, a)| {
                let value = if raw {
                    Cow::Borrowed(a)
                } else {
                    classify::decode(a)
                };
                Some((param(t)?, value))
            })
            .collect();
        let error = |kind: Kind| self.respond(kind);
        if req.method != api.method {
            let mut answer = error(Kind::OtherMethod);
            answer.allow = answer.allow.map(|_| api.method.clone());
            return Some(answer);
        }
        match self.credentials.judge(req) {
            Identity::Nothing => return Some(error(Kind::MissingCredentials)),
            Identity::Invalid => return Some(error(Kind::InvalidCredentials)),
            Identity::Valid => {}
        }
        let id = |name: &str| ids.get(name).map_or("", |v| v.as_ref());
        if id("project_id") != self.fixtures.project_id {
            return Some(error(Kind::ForeignProject));
        }
        if id("cluster_id") != self.fixtures.cluster_id {
            return Some(error(Kind::UnknownCluster));
        }
        // A parameter out of its documented range is refused as the operation refuses an
        // invalid value: 400, "incorrect parameters".
        let Some(asked) = Asked::of(&self.spec.read_api, query) else {
            return Some(error(Kind::InvalidRetryMode));
        };
        Some(self.listing(&asked))
    }

    /// One page of the listing `asked` names.
    fn listing(&self, asked: &Asked) -> Answer {
        let api = &self.spec.read_api;
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.land();
        let lag = self.variants.read_lag();
        let in_listing: Vec<(&String, &Task)> = tasks
            .order
            .iter()
            .filter_map(|id| Some((id, tasks.listed.get(id)?)))
            .filter(|(id, _)| tasks.az.contains(*id) == asked.az)
            .collect();
        let total = in_listing.len();
        let listed: Vec<serde_json::Value> = in_listing
            .into_iter()
            .skip(asked.offset - 1)
            .take(asked.limit.min(self.variants.page_cap()))
            .map(|(task, state)| {
                let status = match tasks.shown(task, *state, lag) {
                    Task::Failed => api.failed_statuses.first().map_or("FAILED", String::as_str),
                    Task::Retrying | Task::Running => "RUNNING",
                    Task::Aborted => "ABORTED",
                };
                let executed = tasks.executed.get(task.as_str()).copied().unwrap_or(0);
                entry(api, task, status, executed, asked.az)
            })
            .collect();
        let body = serde_json::json!({
            (api.total_field.as_str()): total,
            (api.list_field.as_str()): listed,
        });
        Answer::json(200, body.to_string())
    }
}

/// What a read asked for: from which task (1: the first), how many, which listing.
struct Asked {
    offset: usize,
    limit: usize,
    /// The AZ switchover tasks' listing.
    az: bool,
}

impl Asked {
    /// The read's parameters, or `None` when one is out of its documented range (or given
    /// twice).
    fn of(api: &crate::contract::spec::ReadApi, query: &str) -> Option<Asked> {
        let mut asked = Asked {
            offset: api.first_offset as usize,
            limit: 10,
            az: false,
        };
        let mut seen = std::collections::BTreeSet::new();
        for (name, value) in classify::query_pairs(query) {
            if !seen.insert(name.clone()) {
                return None;
            }
            let number = |max: u32| {
                value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=max as usize).contains(n))
            };
            if name == api.offset_param {
                asked.offset = number(api.max_offset)?;
            } else if name == api.limit_param {
                asked.limit = number(api.max_limit)?;
            } else if name == api.listing_param {
                match value.as_ref() {
                    "UPGRADING" => asked.az = false,
                    other if api.other_listings.iter().any(|l| l == other) => asked.az = true,
                    _ => return None,
                }
            }
        }
        Some(asked)
    }
}

/// A task's entry with every field the vendor documents.
fn entry(
    api: &crate::contract::spec::ReadApi,
    task: &str,
    status: &str,
    executed: u32,
    az: bool,
) -> serde_json::Value {
    let mut entry = serde_json::json!({
        (api.id_field.as_str()): task,
        "startTime": "2026-11-30T08:00:00",
        "endTime": if status == "RUNNING" { "" } else { "2026-11-30T08:41:07" },
        (api.status_field.as_str()): status,
        "agencyName": "css_upgrade_agency",
        "imageInfo": { "id": "7.10.2_24.3.0", "displayName": "7.10.2", "imageDesc": "" },
        "totalNodes": "css-node-1,css-node-2,css-node-3",
        "completedNodes": "css-node-1",
        "currentNodeName": "css-node-2",
        "executeTimes": executed.to_string(),
        "currentNodeDetail": [
            { "order": 1, "name": "CHECK", "status": "SUCCESS", "beginTime": "2026-11-30T08:00:00", "endTime": "2026-11-30T08:02:10", "desc": "" },
            { "order": 2, "name": "UPGRADE", "status": if status == "RUNNING" { "RUNNING" } else { "FAILED" }, "beginTime": "2026-11-30T08:02:10", "endTime": "", "desc": "" },
            { "order": 3, "name": "VERIFY", "status": "WAITING", "beginTime": "", "endTime": "", "desc": "" },
        ],
        "batchSize": 1,
        "currentBatchNodes": "css-node-2",
    });
    if az && let Some(fields) = entry.as_object_mut() {
        fields.insert(
            "migrateParam".to_owned(),
            serde_json::json!({ "source_az": "eu-de-01", "target_az": "eu-de-02" }),
        );
        fields.insert(
            "finalAzInfoMap".to_owned(),
            serde_json::json!({ "css-node-1": "eu-de-02" }),
        );
    }
    entry
}
