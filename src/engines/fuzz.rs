//! The fuzzer, in proptest's manner: seeded generation of drafts from `strategy` (the
//! contract's cases, built on the domain-free core in `generation`), how to fuzz (`options`),
//! the run that sends them with bounded concurrency and judges them by the oracle (`run`);
//! each violated clause's first failing case is then shrunk, one request at a time, to a
//! minimal case that still violates it, sent again `repeats` times where that is safe
//! (reproduced, or intermittent), and becomes a `Finding` (`shrink`) that `replay` can
//! re-send.

mod case;
pub mod generation;
mod options;
mod replay;
mod run;
mod shrink;
pub mod soak;
pub mod strategy;

pub use crate::records::findings::{Finding, FindingError, Origin, Reproduction, Summary};
pub use case::drafts;
pub use options::{CONCURRENCY, FuzzOptions, REPEATS, SHRINK_BUDGET};
pub use replay::{Replay, replay};
pub use run::{GenerationFailed, run};
