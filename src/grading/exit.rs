//! How a run ends: its verdict, and the exit rule in one place, as docs/reference.md documents it: 0 conformant (or nothing
//! that counts failed), 1 not conformant, 2 a usage, configuration or fixture error, 3 the
//! target answered nothing (nothing was judged), 130 or 143 interrupted.

use serde::Serialize;

/// The verdict of a run, in the words every report uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunVerdict {
    /// Every MUST clause was judged and none failed.
    Conformant,
    /// A clause that counts failed.
    NotConformant,
    /// None failed, but a MUST clause was not judged.
    Incomplete,
    /// The target answered nothing.
    NotJudged,
    /// The run was stopped by a signal before it was done: what was judged so far.
    Interrupted,
    /// None failed, but a MUST clause was not judged because a fixture of the user's was found
    /// not usable (a task not failed or unknown): the user's to fix.
    FixtureError,
}

pub const CONFORMANT: u8 = 0;
pub const NOT_CONFORMANT: u8 = 1;
pub const USAGE_ERROR: u8 = 2;
/// The target answered nothing, so nothing was judged.
pub const NOT_JUDGED: u8 = 3;
/// Interrupted by a signal that names no code of its own (Ctrl-C).
pub const INTERRUPTED: u8 = 130;

/// The exit of a run with `verdict`: an incomplete run fails only when it must be complete;
/// an interrupted one exits with its signal's code.
pub(crate) fn of_verdict(
    verdict: RunVerdict,
    require_complete: bool,
    signal_code: Option<u8>,
) -> u8 {
    match verdict {
        RunVerdict::Interrupted => signal_code.unwrap_or(INTERRUPTED),
        RunVerdict::NotJudged => NOT_JUDGED,
        RunVerdict::NotConformant => NOT_CONFORMANT,
        RunVerdict::FixtureError => USAGE_ERROR,
        RunVerdict::Incomplete if require_complete => NOT_CONFORMANT,
        RunVerdict::Incomplete | RunVerdict::Conformant => CONFORMANT,
    }
}

/// The exit of several targets' runs: the worst of them (a signal's, then 3 nothing judged,
/// then 1 a failure, then 2 a fixture of the user's, then 0).
pub fn worst(codes: impl IntoIterator<Item = u8>) -> u8 {
    let rank = |code: u8| match code {
        CONFORMANT => 0,
        USAGE_ERROR => 1,
        NOT_CONFORMANT => 2,
        NOT_JUDGED => 3,
        _ => 4,
    };
    codes
        .into_iter()
        .max_by_key(|c| rank(*c))
        .unwrap_or(CONFORMANT)
}

/// The exit with `--fail-on new`: a non-conformance is exit 1 only when a clause fails that
/// did not in the baseline.
pub(crate) fn failing_on_new(code: u8, new_failures: usize) -> u8 {
    if code == NOT_CONFORMANT && new_failures == 0 {
        CONFORMANT
    } else {
        code
    }
}

/// The exit of a fuzz run or a replay: nothing answered is never a pass; a finding (or a
/// clause still violated) is a non-conformance.
pub fn of_findings(answered_nothing: bool, violated: bool) -> u8 {
    if answered_nothing {
        NOT_JUDGED
    } else if violated {
        NOT_CONFORMANT
    } else {
        CONFORMANT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verdict_has_its_exit() {
        assert_eq!(of_verdict(RunVerdict::Conformant, true, None), 0);
        assert_eq!(of_verdict(RunVerdict::Incomplete, false, None), 0);
        assert_eq!(of_verdict(RunVerdict::Incomplete, true, None), 1);
        assert_eq!(of_verdict(RunVerdict::NotConformant, false, None), 1);
        assert_eq!(of_verdict(RunVerdict::NotJudged, false, None), 3);
        assert_eq!(of_verdict(RunVerdict::FixtureError, true, None), 2);
        assert_eq!(of_verdict(RunVerdict::Interrupted, false, Some(143)), 143);
        assert_eq!(of_verdict(RunVerdict::Interrupted, false, None), 130);
    }

    #[test]
    fn several_targets_exit_with_the_worst_and_fail_on_new_forgives_only_old_failures() {
        assert_eq!(worst([0, 3, 1]), 3);
        assert_eq!(worst([2, 1, 0]), 1);
        assert_eq!(worst([2, 0]), 2);
        assert_eq!(worst([3, 130]), 130);
        assert_eq!(worst([]), 0);
        assert_eq!(failing_on_new(1, 0), 0);
        assert_eq!(failing_on_new(1, 2), 1);
        assert_eq!(failing_on_new(3, 0), 3);
        assert_eq!(of_findings(true, true), 3);
        assert_eq!(of_findings(false, true), 1);
        assert_eq!(of_findings(false, false), 0);
    }
}
