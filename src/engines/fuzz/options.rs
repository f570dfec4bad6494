//! How to fuzz: the number of cases, the seed, the concurrency, the shrinking and repeating
//! budgets, and the defaults `check` and `fuzz` share.

use crate::records::findings::Origin;
use crate::records::suspect::Suspicion;

/// How to fuzz.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub cases: u64,
    pub seed: u64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Whether cases may use the target's failed tasks.
    pub mutations: bool,
    /// The most requests spent shrinking one finding.
    pub max_shrink_steps: u32,
    /// The most requests spent shrinking, all findings together: what is left is shared evenly
    /// among the findings still to shrink (each at most `max_shrink_steps`). Against a live
    /// endpoint at 5 requests/s, 256 steps for each of ten clauses would be eight minutes.
    pub shrink_budget: u32,
    /// How many times a finding's minimal case is sent again before it is reported, to tell a
    /// reproducible finding from an intermittent one (only where that is safe: never with a
    /// live endpoint's failed task).
    pub repeats: u32,
    /// The target as the command line named it, recorded in each finding.
    pub origin: Origin,
    /// Advanced once per case sent (hidden unless the caller shows it).
    pub progress: indicatif::ProgressBar,
    /// The answer a project or a cluster that is not the caller's gets, where the run could
    /// not tell its own from another's: a violation with it is set aside, not judged.
    pub set_aside: Option<Suspicion>,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            cases: 300,
            seed: 0,
            concurrency: usize::from(CONCURRENCY),
            mutations: true,
            max_shrink_steps: 256,
            shrink_budget: SHRINK_BUDGET,
            repeats: REPEATS,
            origin: Origin::default(),
            progress: indicatif::ProgressBar::hidden(),
            set_aside: None,
        }
    }
}

/// The default `FuzzOptions::shrink_budget`: four findings' worth of `max_shrink_steps`.
pub const SHRINK_BUDGET: u32 = 1024;

/// The default `FuzzOptions::concurrency` (and `fuzz --concurrency`).
pub const CONCURRENCY: u16 = 16;

/// The default `FuzzOptions::repeats`.
pub const REPEATS: u32 = 3;
