//! A run of several targets (`check --profile A --profile B`), as every writer renders it
//! (`Writer::render_many`): a clause x target table in every form, JUnit with one testsuite
//! per target, and, with a baseline, what changed since, shown first. Each target's own
//! reports are written beside it, in a folder named after the target.

use crate::grading::baseline::Diff;
use crate::grading::report::{Grade, Report};

use super::document::Document;

/// Several targets' documents, each under its name, and the comparison with a baseline.
pub struct ManyTargets<'a> {
    pub runs: Vec<(String, &'a Document)>,
    pub diff: Option<&'a Diff>,
    /// A target's non-conformance exits 1 only when a clause of it fails that did not in the
    /// baseline (`--fail-on new`).
    pub fail_on_new: bool,
    /// When the run of them all started.
    pub started: time::OffsetDateTime,
}

/// The `schema` value of a run of several targets' `report.json`.
pub const MANY_SCHEMA: &str = "css-conformance-report-many/1";

impl ManyTargets<'_> {
    /// The worst exit code of the targets (3 not judged, 1 not conformant, 0).
    pub fn exit_code(&self) -> u8 {
        crate::grading::exit::worst(self.runs.iter().map(|(name, d)| {
            let report = &d.report;
            match self.diff {
                Some(diff)
                    if self.fail_on_new
                        && report.verdict()
                            == crate::grading::report::RunVerdict::NotConformant =>
                {
                    crate::grading::exit::failing_on_new(
                        report.exit_code(),
                        diff.new_failures_of(name),
                    )
                }
                _ => report.exit_code(),
            }
        }))
    }

    /// The clause IDs, in the first target's order, with their level.
    pub(super) fn rows(&self) -> Vec<(&str, String)> {
        self.runs.first().map_or_else(Vec::new, |(_, d)| {
            d.report
                .clauses
                .iter()
                .map(|c| (c.id.as_str(), c.level.to_string()))
                .collect()
        })
    }

    pub(super) fn grade(report: &Report, id: &str) -> Option<Grade> {
        report.clause(id).map(|c| c.grade)
    }

    /// A cell of the table: the clause's verdict on a target, `-` when it has none.
    pub(super) fn label(report: &Report, id: &str) -> &'static str {
        Self::grade(report, id).map_or("-", Grade::label)
    }

    /// Whether the targets' verdicts differ for clause `id`.
    pub(super) fn differs(&self, id: &str) -> bool {
        let mut grades = self.runs.iter().map(|(_, d)| Self::grade(&d.report, id));
        let first = grades.next().flatten();
        grades.any(|g| g != first)
    }
}
