//! A clause's grade and its result.

use serde::Serialize;

use crate::contract::spec::Level;

/// A clause's grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Grade {
    Pass,
    Fail,
    /// A SHOULD or EXTENDED clause failed: reported, not counted against conformance unless
    /// the run is strict (then it is a FAIL).
    NonStrict,
    /// Failed, but only by generated cases that did not fail every time they were sent again:
    /// counts as a FAIL does, graded apart because a replay may not show it.
    Intermittent,
    /// Failed exactly as an expected deviation of the profile says.
    Xfail,
    /// Passed, though the profile expects it to fail: the expected deviation is gone.
    Xpass,
    Skip,
    /// Exercised only by answers that were not the operation's (a gateway's 404 for an empty
    /// path segment): informational, judged by nothing.
    Info,
}

impl Grade {
    pub fn label(self) -> &'static str {
        match self {
            Grade::Pass => "PASS",
            Grade::Fail => "FAIL",
            Grade::NonStrict => "NON-STRICT",
            Grade::Intermittent => "INTERMITTENT",
            Grade::Xfail => "XFAIL",
            Grade::Xpass => "XPASS",
            Grade::Skip => "SKIP",
            Grade::Info => "INFO",
        }
    }

    /// Whether a clause so graded counts against conformance, whatever the run's strictness
    /// (XPASS counts in strict runs too).
    pub fn counts(self) -> bool {
        matches!(self, Grade::Fail | Grade::Intermittent)
    }

    pub const ALL: [Grade; 8] = [
        Grade::Pass,
        Grade::Fail,
        Grade::Intermittent,
        Grade::NonStrict,
        Grade::Xfail,
        Grade::Xpass,
        Grade::Skip,
        Grade::Info,
    ];
}

/// One clause's result.
#[derive(Debug, Clone, Serialize)]
pub struct ClauseResult {
    pub id: String,
    pub level: Level,
    pub statement: String,
    #[serde(rename = "verdict")]
    pub grade: Grade,
    /// For a FAIL, what showed it (where, what was sent, what came back); for a SKIP, why.
    pub evidence: Vec<String>,
    /// The scenarios (`file:line`) tagged with the clause.
    pub scenarios: Vec<String>,
    /// How many of them were judged: they ran and got answers (not skipped, not left
    /// without an answer, not void).
    pub judged_scenarios: usize,
    /// Scenarios not tagged with the clause whose requests judged it too (`file:line`): what
    /// judged a clause none of whose own scenarios ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judged_by: Vec<String>,
    /// Whether its failures were all intermittent (kept for grading again when strict).
    #[serde(skip)]
    pub intermittent: bool,
    /// Judged only through the read API (the spec says so).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub needs_read_api: bool,
}
