//! What went on the wire in a run, as the politeness layer counted it.

/// What the politeness layer did in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Traffic {
    /// Requests that went on the wire, retries included.
    pub sent: u64,
    /// Retries after a network error or a 5xx.
    pub retried: u64,
    /// Waits after a 429.
    pub throttled: u64,
    /// Waits after a gateway's transient answer (502, 503, 504) or a connection that ended
    /// before any answer, the request then sent again.
    pub transient: u64,
    /// Requests that may have acted on a real task and met a transient answer: not sent
    /// again; their tasks counted as used, their clauses not judged from them.
    pub lost: u64,
    /// Why the run stopped sending: the target answered only transient answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// Requests not sent because the same request had been refused with 400 or 403.
    pub not_resent: u64,
    /// Requests sent again on purpose, to see whether a finding reproduces (in `sent` too).
    pub repeated: u64,
    /// Reads of the read API (in `sent` too).
    pub reads: u64,
    /// What the first retry was for.
    pub first_retry: Option<String>,
    /// Requests answered, and requests that got no answer.
    pub answered: u64,
    pub faults: u64,
    /// Why the first request that got no answer got none.
    pub first_fault: Option<String>,
}
