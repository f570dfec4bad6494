//! The companion read API as the spec describes it: where it lists a cluster's tasks, how a
//! task's entry reads, and what an accepted request's task shows once settled.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::kind::Kind;

/// The read API: `GET {path}?limit=N&offset=M[&listing_param=L]` answers
/// `{total_field: T, list_field: [{id_field, status_field}]}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReadApi {
    pub method: String,
    pub path: String,
    /// The `limit` asked for.
    pub page_size: u32,
    /// The largest `limit` the vendor documents.
    pub max_limit: u32,
    pub offset_param: String,
    /// The offset of the first task (1: the vendor counts from 1).
    pub first_offset: u32,
    /// The largest offset the vendor documents.
    pub max_offset: u32,
    pub limit_param: String,
    /// How many tasks the listing holds in all.
    pub total_field: String,
    /// The parameter that chooses a listing; left out: the default one.
    pub listing_param: String,
    /// The listings besides the default one, looked in after it.
    #[serde(default)]
    pub other_listings: Vec<String>,
    pub list_field: String,
    pub id_field: String,
    pub status_field: String,
    /// The field that counts how many times a task was retried (the vendor's `executeTimes`,
    /// a number or a string of one): the second witness of a retry where the status cannot
    /// tell (one that failed again at once).
    #[serde(default)]
    pub retries_field: Option<String>,
    pub failed_statuses: Vec<String>,
    /// Of `failed_statuses`, those in which a retry or abort must not be refused as "not
    /// failed".
    #[serde(default)]
    pub retryable_statuses: Vec<String>,
    /// What the read API shows of an accepted retry or abort, and the clause that judges it.
    #[serde(default)]
    pub after_accepted: Vec<AfterAccepted>,
    /// Every status the vendor documents for a task.
    #[serde(default)]
    pub documented_statuses: Vec<String>,
}

/// The statuses a task may have once an accepted request of `kind` on it has settled.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AfterAccepted {
    pub kind: Kind,
    pub clause: String,
    /// The statuses that show the request did what it says (empty: any not in `not_statuses`).
    #[serde(default)]
    pub statuses: Vec<String>,
    /// The statuses that show it did not.
    #[serde(default)]
    pub not_statuses: Vec<String>,
}

/// What the read API's status says of an accepted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// It did what its kind says.
    Holds,
    /// It did not (a status in `not_statuses`).
    Broken,
    /// A status the rule does not name: INFO, judged by no clause.
    Unnamed,
}

impl AfterAccepted {
    pub fn judge(&self, status: &str) -> Settled {
        if self.not_statuses.iter().any(|s| s == status) {
            Settled::Broken
        } else if self.statuses.is_empty() || self.statuses.iter().any(|s| s == status) {
            Settled::Holds
        } else {
            Settled::Unnamed
        }
    }
}

impl ReadApi {
    /// The rule for what an accepted `kind` request shows, if the spec gives one.
    pub(crate) fn after_accepted(&self, kind: Kind) -> Option<&AfterAccepted> {
        self.after_accepted.iter().find(|a| a.kind == kind)
    }

    /// Whether a task of `status` can be retried or aborted.
    pub(crate) fn is_failed(&self, status: &str) -> bool {
        self.failed_statuses.iter().any(|s| s == status)
    }

    /// Whether a task of `status` must be retried or aborted when asked (no server may
    /// refuse it as not failed).
    pub(crate) fn is_retryable(&self, status: &str) -> bool {
        self.retryable_statuses.iter().any(|s| s == status)
    }

    /// Whether a task read as `before` and then as `after` was retried or aborted in between:
    /// it left the failed state, or its count of retries grew (a retry that failed again at
    /// once shows no other sign).
    pub(crate) fn acted_between(&self, before: &TaskRead, after: &TaskRead) -> bool {
        let left_failed = self.is_failed(&before.status) && !self.is_failed(&after.status);
        let retried = matches!((before.retries, after.retries), (Some(b), Some(a)) if a > b);
        left_failed || retried
    }
}

/// What the read API shows of one task: its status (empty when it is listed without one) and
/// how many times it was retried, where its entry says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskRead {
    pub status: String,
    pub retries: Option<u64>,
}

impl TaskRead {
    /// A task read with `status` and no count of retries.
    pub fn of_status(status: &str) -> TaskRead {
        TaskRead {
            status: status.to_owned(),
            retries: None,
        }
    }
}

impl fmt::Display for TaskRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.status)?;
        match self.retries {
            Some(1) => write!(f, " (retried once)"),
            Some(n) => write!(f, " (retried {n} times)"),
            None => Ok(()),
        }
    }
}
