//! What the stub saw of its clients: the requests, by status, and each client clause's
//! tally.

use std::collections::BTreeMap;

/// What the stub's clients did, for the summary on shutdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSummary {
    pub requests: u64,
    pub by_status: BTreeMap<u16, u64>,
    /// Requests re-sent unchanged after a 400 or 403.
    pub resent: u64,
    /// The first few re-sent requests, described.
    pub examples: Vec<String>,
    /// Requests (any method) that named one of the stub's tasks.
    pub on_tasks: u64,
    /// Each client clause: the requests that gave occasion to judge it, and its violations.
    pub clauses: BTreeMap<String, Tally>,
}

/// One clause, over the requests (or exchanges) seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Requests it applied to.
    pub judged: u64,
    pub violated: u64,
    /// The first few violations, described.
    pub examples: Vec<String>,
}

impl Tally {
    /// Counts one occasion to judge the clause; `violation` says how it was broken, if it was.
    pub fn count(&mut self, violation: Option<String>) {
        self.judged += 1;
        if let Some(what) = violation {
            self.violated += 1;
            if self.examples.len() < 10 {
                self.examples.push(what);
            }
        }
    }
}
