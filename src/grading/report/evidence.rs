//! What a run showed about one clause, gathered from the scenario records and the fuzzer's
//! findings, and graded (expected deviations XFAIL, gone ones XPASS).

use crate::config::profile::ExpectedDeviation;
use crate::records::findings::Summary;
use crate::records::judgement::{ScenarioOutcome, ScenarioRecord};
use crate::shown::shorten;

use super::grade::Grade;

/// What an answer showed: its status and error code.
type Observed = (u16, Option<String>);

/// One failure of a clause: the evidence to show, and the answers it stands for (none when
/// the scenario did not get as far as a judged answer).
struct FailureSeen {
    seen: Vec<Observed>,
    text: String,
    /// Shown only by generated cases whose minimal case did not fail every time it was sent
    /// again.
    intermittent: bool,
}

/// What a run showed about one clause.
#[derive(Default)]
pub(super) struct Gathered {
    failures: Vec<FailureSeen>,
    skips: Vec<String>,
    /// Answers to the clause's scenarios that were not the operation's (INFO).
    notes: Vec<String>,
    /// Effects the run could not tell apart from a fixture problem: the clause is not judged.
    unconfirmed: Vec<String>,
    checked: bool,
    pub(super) scenarios: Vec<String>,
    pub(super) judged_by: std::collections::BTreeSet<String>,
}

impl Gathered {
    pub(super) fn gather(&mut self, id: &str, records: &[ScenarioRecord]) {
        for r in records {
            let tagged = r.clauses.iter().any(|c| c == id);
            if tagged {
                self.scenarios.push(r.location.clone());
            }
            for j in &r.judgements {
                for v in j.verdict.violations.iter().filter(|v| v.clause == id) {
                    self.failures.push(FailureSeen {
                        seen: vec![(v.evidence.status, v.evidence.error_code.clone())],
                        text: format!("{}: {} {}\n{v}", r.location, j.method, shorten(&j.url)),
                        intermittent: false,
                    });
                }
                let checked = j.verdict.checked.contains(id);
                self.checked |= checked;
                if checked && !tagged {
                    self.judged_by.insert(r.location.clone());
                }
                if j.verdict.unconfirmed.iter().any(|c| c == id) {
                    self.unconfirmed.push(format!(
                        "{}: not judged: {} {}: {}",
                        r.location,
                        j.method,
                        shorten(&j.url),
                        j.verdict.note.as_deref().unwrap_or("unconfirmed")
                    ));
                }
                if let (true, Some(note)) = (tagged, &j.verdict.note) {
                    self.notes.push(format!(
                        "{}: {} {}: {note}",
                        r.location,
                        j.method,
                        shorten(&j.url)
                    ));
                }
            }
            let judged_failure = r.judgements.iter().any(|j| !j.verdict.passed());
            match &r.outcome {
                // No answer judges nothing: the clause is not judged, not failed.
                ScenarioOutcome::NoAnswer(why) | ScenarioOutcome::Unjudged(why) if tagged => {
                    self.skips
                        .push(format!("{}: not judged: {why}", r.location));
                }
                ScenarioOutcome::Failed(why) if tagged && !judged_failure => {
                    self.failures.push(FailureSeen {
                        seen: Vec::new(),
                        text: format!("{}: the scenario did not complete: {why}", r.location),
                        intermittent: false,
                    });
                }
                ScenarioOutcome::Skipped(why) if tagged => {
                    self.skips.push(format!("{}: skipped: {why}", r.location));
                }
                _ => {}
            }
        }
    }

    /// The fuzzer's violations of the clause: one failure for every answer it saw.
    pub(super) fn gather_fuzz(&mut self, summary: &Summary, id: &str) {
        let Some(text) = fuzz_evidence(summary, id) else {
            return;
        };
        let seen = summary
            .observed
            .keys()
            .filter(|(clause, ..)| clause == id)
            .map(|(_, status, code)| (*status, code.clone()))
            .collect();
        let intermittent = summary
            .findings
            .iter()
            .any(|f| f.clause == id && f.reproduction.intermittent());
        self.failures.push(FailureSeen {
            seen,
            text,
            intermittent,
        });
    }

    /// The grade of clause `id` and the evidence to show, with its expected deviations: a
    /// failure whose every answer an entry describes is excused (XFAIL); an entry no answer
    /// matched is gone (XPASS when nothing else failed).
    pub(super) fn grade(&self, id: &str, expected: &[&ExpectedDeviation]) -> (Grade, Vec<String>) {
        let matches = |s: &Observed, e: &ExpectedDeviation| e.matches(id, s.0, s.1.as_deref());
        let observed = |e: &ExpectedDeviation| {
            self.failures
                .iter()
                .flat_map(|f| &f.seen)
                .any(|s| matches(s, e))
        };
        let (excused, unexpected): (Vec<&FailureSeen>, Vec<&FailureSeen>) =
            self.failures.iter().partition(|f| {
                !f.seen.is_empty()
                    && f.seen
                        .iter()
                        .all(|s| expected.iter().any(|e| matches(s, e)))
            });
        let gone = expected
            .iter()
            .filter(|e| !observed(e))
            .map(|e| format!("expected deviation not observed: {}", describe(e)));
        let texts = |fs: &[&FailureSeen]| fs.iter().map(|f| f.text.clone()).collect::<Vec<_>>();
        if !unexpected.is_empty() {
            let intermittent = unexpected.iter().all(|f| f.intermittent);
            (
                if intermittent {
                    Grade::Intermittent
                } else {
                    Grade::Fail
                },
                texts(&unexpected).into_iter().chain(gone).collect(),
            )
        } else if !excused.is_empty() {
            let shown = expected
                .iter()
                .filter(|e| observed(e))
                .map(|e| format!("expected deviation: {}", describe(e)))
                .chain(texts(&excused))
                .chain(gone)
                .collect();
            (Grade::Xfail, shown)
        } else if !self.unconfirmed.is_empty() {
            // An effect that may be the fixtures' doing leaves the clause unjudged, whatever
            // else passed.
            (Grade::Skip, self.unconfirmed.clone())
        } else if self.checked && !expected.is_empty() {
            (Grade::Xpass, gone.collect())
        } else if self.checked {
            (Grade::Pass, Vec::new())
        } else if !self.notes.is_empty() {
            (Grade::Info, self.notes.clone())
        } else if self.skips.is_empty() {
            (
                Grade::Skip,
                vec!["no scenario of this run exercised it".to_owned()],
            )
        } else {
            (Grade::Skip, self.skips.clone())
        }
    }
}

/// An expected deviation in a line.
fn describe(e: &ExpectedDeviation) -> String {
    let mut seen = Vec::new();
    if let Some(s) = e.status {
        seen.push(format!("status {s}"));
    }
    if let Some(c) = &e.error_code {
        seen.push(format!("error_code {c}"));
    }
    if seen.is_empty() {
        seen.push("any answer".to_owned());
    }
    format!("{} ({}): {}", e.clause, seen.join(", "), e.reason)
}

/// What the fuzzer showed against a clause, if it violated it.
fn fuzz_evidence(summary: &Summary, id: &str) -> Option<String> {
    let count = summary.violations.get(id).copied().filter(|n| *n > 0)?;
    Some(match summary.findings.iter().find(|f| f.clause == id) {
        Some(f) => {
            let violation = f
                .verdict
                .violations
                .iter()
                .find(|v| v.clause == id)
                .map_or_else(String::new, |v| v.to_string());
            format!(
                "fuzz: {count} generated case(s) (seed {}); minimal case, {}: {} {}\n{violation}\n{}",
                f.seed,
                f.reproduction.label(),
                f.method,
                shorten(&f.url),
                f.curl
            )
        }
        None => format!(
            "fuzz: {count} generated case(s) (seed {}); the first did not fail again when re-sent",
            summary.seed
        ),
    })
}
