//! Consent to mutate: whether requests may use the target's failed tasks, whether those tasks
//! are the tool's own, and saying what will be sent before the first request that uses one.

use std::sync::atomic::{AtomicBool, Ordering};

/// What the run may do with the target's failed tasks.
#[derive(Debug)]
pub(super) struct Consent {
    /// Whether requests may use the target's failed tasks (retry, abort, and anything sent
    /// with a real failed task, which a server that does not conform might act on).
    pub(super) allowed: bool,
    /// Whether its tasks are the tool's own (the built-in stub), to use as freely as tests need.
    pub(super) owned: bool,
    /// Whether to say what will be sent before the first such request.
    pub(super) announce: bool,
    announced: AtomicBool,
}

impl Consent {
    /// A live endpoint's: no mutations until allowed, and the first one announced.
    pub(super) fn live() -> Consent {
        Consent {
            allowed: false,
            owned: false,
            announce: true,
            announced: AtomicBool::new(false),
        }
    }

    /// The tool's own tasks (the built-in stub): mutations allowed, nothing to announce.
    pub(super) fn owned() -> Consent {
        Consent {
            allowed: true,
            owned: true,
            announce: false,
            announced: AtomicBool::new(false),
        }
    }

    /// Whether the first mutating request is to be announced now (once a run, never for the
    /// tool's own tasks).
    pub(super) fn first_to_announce(&self) -> bool {
        self.announce && !self.announced.swap(true, Ordering::SeqCst)
    }
}
