//! The clause-by-clause result of a run: each clause of the spec graded from the scenarios'
//! judgements, and its rendering for the console.

use std::fmt::Write as _;

use serde::Serialize;

use crate::spec::{Level, Spec};
use crate::suite::{ScenarioOutcome, ScenarioRecord};

/// A clause's grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Grade {
    Pass,
    Fail,
    Skip,
}

impl Grade {
    pub fn label(self) -> &'static str {
        match self {
            Grade::Pass => "PASS",
            Grade::Fail => "FAIL",
            Grade::Skip => "SKIP",
        }
    }
}

/// One clause's result.
#[derive(Debug, Clone, Serialize)]
pub struct ClauseResult {
    pub id: String,
    pub level: Level,
    pub statement: String,
    pub grade: Grade,
    /// For a FAIL, what showed it (where, what was sent, what came back); for a SKIP, why.
    pub evidence: Vec<String>,
    /// The scenarios (`file:line`) tagged with the clause.
    pub scenarios: Vec<String>,
}

/// The result of a run, clause by clause.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub clauses: Vec<ClauseResult>,
    pub scenarios_passed: usize,
    pub scenarios_failed: usize,
    pub scenarios_skipped: usize,
}

/// How many pieces of evidence the console shows per clause.
const EVIDENCE_SHOWN: usize = 3;

impl Report {
    /// Grades every clause of `spec` from the scenario records of a run and, if it fuzzed,
    /// the fuzzer's violations.
    pub fn build(
        spec: &Spec,
        target: &str,
        records: &[ScenarioRecord],
        fuzz: Option<&crate::fuzz::Summary>,
    ) -> Report {
        let clauses = spec
            .clauses
            .iter()
            .map(|clause| {
                let mut result = grade(&clause.id, clause.level, &clause.statement, records);
                if let Some(evidence) = fuzz.and_then(|f| fuzz_evidence(f, &clause.id)) {
                    if result.grade != Grade::Fail {
                        result.evidence.clear();
                    }
                    result.grade = Grade::Fail;
                    result.evidence.push(evidence);
                }
                result
            })
            .collect();
        let count =
            |f: fn(&ScenarioOutcome) -> bool| records.iter().filter(|r| f(&r.outcome)).count();
        Report {
            target: target.to_owned(),
            clauses,
            scenarios_passed: count(|o| *o == ScenarioOutcome::Passed),
            scenarios_failed: count(|o| matches!(o, ScenarioOutcome::Failed(_))),
            scenarios_skipped: count(|o| matches!(o, ScenarioOutcome::Skipped(_))),
        }
    }

    pub fn clause(&self, id: &str) -> Option<&ClauseResult> {
        self.clauses.iter().find(|c| c.id == id)
    }

    /// The MUST clauses that did not pass.
    pub fn must_failures(&self) -> Vec<&str> {
        self.clauses
            .iter()
            .filter(|c| c.level == Level::Must && c.grade != Grade::Pass)
            .map(|c| c.id.as_str())
            .collect()
    }

    /// Conformant: every MUST clause passed.
    pub fn conformant(&self) -> bool {
        self.must_failures().is_empty()
    }

    /// The console rendering: one line per clause, evidence under failures, a summary.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Target: {}", self.target);
        for c in &self.clauses {
            let _ = writeln!(
                out,
                "{:<13} {:<8} {}  {}",
                c.id,
                c.level.to_string(),
                c.grade.label(),
                c.statement
            );
            if c.grade != Grade::Pass {
                for e in c.evidence.iter().take(EVIDENCE_SHOWN) {
                    let _ = writeln!(out, "      {}", e.replace('\n', "\n      "));
                }
                if c.evidence.len() > EVIDENCE_SHOWN {
                    let _ = writeln!(out, "      ({} more)", c.evidence.len() - EVIDENCE_SHOWN);
                }
            }
        }
        let n = |g: Grade| self.clauses.iter().filter(|c| c.grade == g).count();
        let _ = writeln!(
            out,
            "\n{} clauses: {} PASS, {} FAIL, {} SKIP; {} scenarios: {} passed, {} failed, {} skipped",
            self.clauses.len(),
            n(Grade::Pass),
            n(Grade::Fail),
            n(Grade::Skip),
            self.scenarios_passed + self.scenarios_failed + self.scenarios_skipped,
            self.scenarios_passed,
            self.scenarios_failed,
            self.scenarios_skipped,
        );
        let must = self.must_failures();
        if must.is_empty() {
            let _ = writeln!(out, "Conformant: every MUST clause passed.");
        } else {
            let _ = writeln!(
                out,
                "NOT conformant: MUST clauses not passed: {}",
                must.join(", ")
            );
        }
        out
    }
}

/// What the fuzzer showed against a clause, if it violated it.
fn fuzz_evidence(summary: &crate::fuzz::Summary, id: &str) -> Option<String> {
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
                "fuzz: {count} generated case(s) (seed {}); minimal case: {} {}\n{violation}\n{}",
                f.seed,
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

fn grade(id: &str, level: Level, statement: &str, records: &[ScenarioRecord]) -> ClauseResult {
    let mut failures = Vec::new();
    let mut skips = Vec::new();
    let mut checked = false;
    let mut scenarios = Vec::new();
    for r in records {
        let tagged = r.clauses.iter().any(|c| c == id);
        if tagged {
            scenarios.push(r.location.clone());
        }
        for j in &r.judgements {
            for v in j.verdict.violations.iter().filter(|v| v.clause == id) {
                failures.push(format!(
                    "{}: {} {}\n{v}",
                    r.location,
                    j.method,
                    shorten(&j.url)
                ));
            }
            checked |= j.verdict.checked.contains(id);
        }
        let judged_failure = r.judgements.iter().any(|j| !j.verdict.passed());
        match &r.outcome {
            ScenarioOutcome::Failed(why) if tagged && !judged_failure => {
                failures.push(format!(
                    "{}: the scenario did not complete: {why}",
                    r.location
                ));
            }
            ScenarioOutcome::Skipped(why) if tagged => {
                skips.push(format!("{}: skipped: {why}", r.location));
            }
            _ => {}
        }
    }
    let (grade, evidence) = if !failures.is_empty() {
        (Grade::Fail, failures)
    } else if checked {
        (Grade::Pass, Vec::new())
    } else if skips.is_empty() {
        (
            Grade::Skip,
            vec!["no scenario of this run exercised it".to_owned()],
        )
    } else {
        (Grade::Skip, skips)
    };
    ClauseResult {
        id: id.to_owned(),
        level,
        statement: statement.to_owned(),
        grade,
        evidence,
        scenarios,
    }
}

/// A URL cut in the middle to a readable length, saying how long it was; the start (host,
/// route) and the end (last segment, query) stay visible.
pub fn shorten(url: &str) -> String {
    const HEAD: usize = 110;
    const TAIL: usize = 60;
    let chars: Vec<char> = url.chars().collect();
    if chars.len() <= HEAD + TAIL {
        return url.to_owned();
    }
    let head: String = chars[..HEAD].iter().collect();
    let tail: String = chars[chars.len() - TAIL..].iter().collect();
    format!("{head}…[{} characters]…{tail}", chars.len())
}
