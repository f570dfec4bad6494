//! What changed since an earlier run: its `report.json` read back (one target's, or several
//! targets' from a run of many), and each clause's verdict compared, target by target. A
//! clause *fails* when its verdict counts against conformance (FAIL, INTERMITTENT, and XPASS
//! in a strict run), so "new failure" means a clause that now fails and did not, "fixed" one
//! that failed and no longer does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::file_error::FileError;
use crate::grading::report::{Grade, Report};

/// The clause verdicts of an earlier run, by target.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub file: PathBuf,
    /// Each target's name and its clauses' verdict labels.
    targets: Vec<(String, BTreeMap<String, Before>)>,
}

/// A clause as the earlier run graded it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Before {
    verdict: String,
    failed: bool,
}

impl Before {
    /// Whether the clause was judged then (any verdict but SKIP and INFO).
    fn judged(&self) -> bool {
        !matches!(self.verdict.as_str(), "SKIP" | "INFO")
    }
}

/// The fields of a `report.json` the comparison reads.
#[derive(Deserialize)]
struct OneReport {
    target: String,
    #[serde(default)]
    strict: bool,
    clauses: Vec<ClauseVerdict>,
}

#[derive(Deserialize)]
struct ClauseVerdict {
    id: String,
    verdict: String,
}

/// The fields of a run of many targets' `report.json` the comparison reads.
#[derive(Deserialize)]
struct ManyReports {
    targets: Vec<NamedReport>,
}

#[derive(Deserialize)]
struct NamedReport {
    name: String,
    report: OneReport,
}

impl Baseline {
    /// Reads a `report.json` of `check`, of one target or of many.
    pub fn load(file: &Path) -> Result<Baseline, FileError> {
        let text = std::fs::read_to_string(file).map_err(|reason| FileError::Read {
            file: file.to_owned(),
            reason,
        })?;
        let invalid = |e: serde_json::Error| FileError::Invalid {
            file: file.to_owned(),
            line: e.line(),
            key: "clauses".to_owned(),
            message: format!("not a report.json of css-conformance check: {e}"),
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(invalid)?;
        let reports: Vec<(String, OneReport)> = if value.get("targets").is_some() {
            let many: ManyReports = serde_json::from_value(value).map_err(invalid)?;
            many.targets
                .into_iter()
                .map(|t| (t.name, t.report))
                .collect()
        } else {
            let one: OneReport = serde_json::from_value(value).map_err(invalid)?;
            vec![(one.target.clone(), one)]
        };
        let targets = reports
            .into_iter()
            .map(|(name, report)| {
                let strict = report.strict;
                let clauses = report
                    .clauses
                    .into_iter()
                    .map(|c| {
                        let failed = matches!(c.verdict.as_str(), "FAIL" | "INTERMITTENT")
                            || (strict && c.verdict == "XPASS");
                        let before = Before {
                            verdict: c.verdict,
                            failed,
                        };
                        (c.id, before)
                    })
                    .collect();
                (name, clauses)
            })
            .collect();
        Ok(Baseline {
            file: file.to_owned(),
            targets,
        })
    }

    /// The earlier verdicts of target `name`: by name, or the one target when each run had one.
    fn of(&self, name: &str, only_one_now: bool) -> Option<&BTreeMap<String, Before>> {
        self.targets
            .iter()
            .find(|(n, _)| n == name)
            .or(match self.targets.as_slice() {
                [one] if only_one_now => Some(one),
                _ => None,
            })
            .map(|(_, clauses)| clauses)
    }
}

/// How a clause's verdict changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// It fails now, and did not.
    NewFailure,
    /// It was judged then (passed or failed) and is not now (SKIP, INFO).
    NoLongerJudged,
    /// It failed, and no longer does.
    Fixed,
    /// An expected deviation is gone now, and was not before.
    NewXpass,
    /// Neither failing then nor now, or failing both times, under whatever verdict.
    Unchanged,
    /// The baseline has no verdict for it (a new target or clause).
    NotInBaseline,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::NewFailure => "new failure",
            Change::NoLongerJudged => "no longer judged",
            Change::Fixed => "fixed",
            Change::NewXpass => "new XPASS",
            Change::Unchanged => "unchanged",
            Change::NotInBaseline => "not in the baseline",
        }
    }
}

/// One clause of one target, then and now.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub target: String,
    pub clause: String,
    /// MUST, SHOULD or EXTENDED.
    pub level: crate::contract::spec::Level,
    pub before: Option<String>,
    pub now: String,
    pub change: Change,
}

/// Every clause of every target, compared with the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub baseline: PathBuf,
    pub clauses: Vec<Difference>,
}

impl Diff {
    /// Compares each of `runs` (target name and report) with `baseline`.
    pub fn compare(baseline: &Baseline, runs: &[(&str, &Report)]) -> Diff {
        let mut clauses = Vec::new();
        for (name, report) in runs {
            let before = baseline.of(name, runs.len() == 1);
            for c in &report.clauses {
                let then = before.and_then(|b| b.get(&c.id));
                let fails = report.counts(c);
                let judged_now = !matches!(c.grade, Grade::Skip | Grade::Info);
                let change = match then {
                    None => Change::NotInBaseline,
                    Some(t) if fails && !t.failed => Change::NewFailure,
                    Some(t) if !judged_now && t.judged() => Change::NoLongerJudged,
                    Some(t) if !fails && t.failed => Change::Fixed,
                    Some(t) if c.grade == Grade::Xpass && t.verdict != "XPASS" => Change::NewXpass,
                    Some(_) => Change::Unchanged,
                };
                clauses.push(Difference {
                    target: (*name).to_owned(),
                    clause: c.id.clone(),
                    level: c.level,
                    before: then.map(|t| t.verdict.clone()),
                    now: c.grade.label().to_owned(),
                    change,
                });
            }
        }
        Diff {
            baseline: baseline.file.clone(),
            clauses,
        }
    }

    /// How many clauses changed so.
    pub fn count(&self, change: Change) -> usize {
        self.clauses.iter().filter(|d| d.change == change).count()
    }

    /// What `--fail-on new` fails on: the clauses that fail now and did not, and the MUST
    /// clauses judged then and not now (a run that stopped judging what it did is no better).
    pub fn new_failures(&self) -> usize {
        self.clauses
            .iter()
            .filter(|d| {
                d.change == Change::NewFailure
                    || (d.change == Change::NoLongerJudged
                        && d.level == crate::contract::spec::Level::Must)
            })
            .count()
    }

    /// `new_failures` of target `name` alone.
    pub(crate) fn new_failures_of(&self, name: &str) -> usize {
        let of: Vec<Difference> = self
            .clauses
            .iter()
            .filter(|d| d.target == name)
            .cloned()
            .collect();
        Diff {
            baseline: self.baseline.clone(),
            clauses: of,
        }
        .new_failures()
    }

    /// The clauses that changed (all but the unchanged), new failures first.
    pub fn changed(&self) -> Vec<&Difference> {
        let mut changed: Vec<&Difference> = self
            .clauses
            .iter()
            .filter(|d| d.change != Change::Unchanged)
            .collect();
        changed.sort_by_key(|d| d.change);
        changed
    }

    /// The counts in a sentence: `Since the baseline (FILE): 1 new failure, 2 fixed, ...`.
    pub fn headline(&self) -> String {
        let mut parts = vec![
            format!("{} new failure(s)", self.count(Change::NewFailure)),
            format!("{} fixed", self.count(Change::Fixed)),
            format!("{} new XPASS", self.count(Change::NewXpass)),
            format!("{} unchanged", self.count(Change::Unchanged)),
        ];
        let dropped = self.count(Change::NoLongerJudged);
        if dropped > 0 {
            parts.push(format!("{dropped} no longer judged"));
        }
        let absent = self.count(Change::NotInBaseline);
        if absent > 0 {
            parts.push(format!("{absent} not in the baseline"));
        }
        format!(
            "Since the baseline ({}): {}",
            self.baseline.display(),
            parts.join(", ")
        )
    }
}
