//! What the politeness layer did in a run: requests sent, retried, throttled, not re-sent,
//! answered and unanswered.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::records::traffic::Traffic;

#[derive(Debug, Default)]
pub(super) struct Counters {
    /// Requests that got an answer, and requests that got none (after retries).
    pub(super) answered: AtomicU64,
    pub(super) faults: AtomicU64,
    pub(super) sent: AtomicU64,
    /// The highest number (in the order sent, counting from 1) of a request that got an
    /// answer other than a transient one or a 429: whether the target answered a request
    /// sent after another met a transient answer.
    pub(super) last_served: AtomicU64,
    pub(super) retried: AtomicU64,
    pub(super) throttled: AtomicU64,
    pub(super) transient: AtomicU64,
    pub(super) lost: AtomicU64,
    pub(super) unavailable: Mutex<Option<String>>,
    /// Transient answers in a row, across requests, with no other answer between.
    pub(super) streak: AtomicU64,
    /// When the run last said it was waiting on the target (slow answers, long waits).
    pub(super) last_slow_notice: Mutex<Option<std::time::Instant>>,
    pub(super) not_resent: AtomicU64,
    pub(super) repeated: AtomicU64,
    pub(super) reads: AtomicU64,
    /// Reads of the read API that got no usable answer (said on stderr the first time).
    pub(super) read_faults: AtomicU64,
    pub(super) first_retry: Mutex<Option<String>>,
    pub(super) first_fault: Mutex<Option<String>>,
}

impl Counters {
    /// What they counted so far.
    pub(super) fn snapshot(&self) -> Traffic {
        let c = self;
        Traffic {
            sent: c.sent.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            transient: c.transient.load(Ordering::Relaxed),
            lost: c.lost.load(Ordering::Relaxed),
            unavailable: c.unavailable.lock().ok().and_then(|f| f.clone()),
            not_resent: c.not_resent.load(Ordering::Relaxed),
            repeated: c.repeated.load(Ordering::Relaxed),
            reads: c.reads.load(Ordering::Relaxed),
            first_retry: c.first_retry.lock().ok().and_then(|f| f.clone()),
            answered: c.answered.load(Ordering::Relaxed),
            faults: c.faults.load(Ordering::Relaxed),
            first_fault: c.first_fault.lock().ok().and_then(|f| f.clone()),
        }
    }
}

/// Keeps the first of a series of descriptions (the first retry, the first fault).
pub(super) fn remember_first(slot: &Mutex<Option<String>>, what: impl FnOnce() -> String) {
    if let Ok(mut first) = slot.lock() {
        first.get_or_insert_with(what);
    }
}
