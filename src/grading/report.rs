//! The clause-by-clause result of a run: each clause of the spec graded from the scenarios'
//! judgements and the fuzzer's violations. The writers render it.

use serde::Serialize;

use crate::config::profile::ExpectedDeviation;
use crate::contract::spec::{Level, Spec};
pub use crate::grading::exit::RunVerdict;
use crate::records::findings::Summary;
use crate::records::judgement::ScenarioOutcome;
use crate::records::judgement::ScenarioRecord;

mod clients;
mod evidence;
mod grade;

use evidence::Gathered;
pub use grade::{ClauseResult, Grade};

/// The result of a run, clause by clause.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    /// The edition of the vendor's page the contract was traced to: what the verdict was
    /// checked against.
    #[serde(default)]
    pub page: Option<crate::contract::spec::PageRef>,
    /// Whether SHOULD and EXTENDED failures, and XPASS, count against conformance.
    pub strict: bool,
    pub clauses: Vec<ClauseResult>,
    pub scenarios_passed: usize,
    pub scenarios_failed: usize,
    pub scenarios_skipped: usize,
    /// Scenarios whose requests got no answer (a target fault).
    #[serde(default)]
    pub scenarios_unanswered: usize,
    /// Why the run could not be judged at all (the target answered nothing), if it could not.
    #[serde(default)]
    pub target_fault: Option<String>,
    /// The signal that stopped the run, and the exit code it gives (130 SIGINT, 143 SIGTERM).
    #[serde(skip)]
    pub interrupted: Option<(String, u8)>,
    /// Whether a MUST clause not judged fails the run (`--require-complete`).
    #[serde(default)]
    pub require_complete: bool,
    /// Whether the run read the target's tasks through the read API (as its caller says; not
    /// by default); without it, a clause only the read API judges is not judged and the run
    /// is complete without it.
    pub read_api: bool,
    /// The user's fixtures the run found not usable for sure (a task not failed or unknown).
    #[serde(skip)]
    pub fixture_errors: Vec<String>,
    /// With `--fail-on new` and a baseline: how many clauses fail now that did not then (a
    /// non-conformance without any exits 0).
    #[serde(skip)]
    pub new_failures: Option<usize>,
    /// Each scenario's result as the grades count it, by `file:line`.
    #[serde(skip)]
    pub scenario_results: Vec<(String, ScenarioResult)>,
    /// Each scenario's outcome and the clauses it violated, to count them anew when grades
    /// change.
    #[serde(skip)]
    pub outcomes: Vec<(String, ScenarioOutcome, Vec<String>)>,
}

/// How a scenario counts, once the clauses are graded: the one definition the console and
/// JUnit both use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ScenarioResult {
    Passed,
    /// A violation of a clause that counts (FAIL), or it did not complete.
    Failed,
    /// Violations only of clauses that do not count (NON-STRICT, XFAIL).
    Noted,
    Skipped,
    /// Its requests got no answer.
    Unanswered,
}

impl Report {
    /// Grades every clause of `spec` from the scenario records of a run and, if it fuzzed,
    /// the fuzzer's violations; failures an expected deviation describes become XFAIL, and
    /// expected deviations that did not show make their clause XPASS.
    pub fn build(
        spec: &Spec,
        target: &str,
        records: &[ScenarioRecord],
        fuzz: Option<&Summary>,
        expected: &[ExpectedDeviation],
    ) -> Report {
        let clauses = spec
            .clauses
            .iter()
            .map(|clause| {
                let mut evidence = Gathered::default();
                evidence.gather(&clause.id, records);
                if let Some(f) = fuzz {
                    evidence.gather_fuzz(f, &clause.id);
                }
                let entries: Vec<&ExpectedDeviation> =
                    expected.iter().filter(|e| e.clause == clause.id).collect();
                let (grade, shown) = evidence.grade(&clause.id, &entries);
                let judged_scenarios = records
                    .iter()
                    .filter(|r| {
                        r.clauses.iter().any(|c| c == &clause.id)
                            && matches!(
                                r.outcome,
                                ScenarioOutcome::Passed | ScenarioOutcome::Failed(_)
                            )
                    })
                    .count();
                ClauseResult {
                    id: clause.id.clone(),
                    level: clause.level,
                    statement: clause.statement.clone(),
                    grade,
                    evidence: shown,
                    scenarios: evidence.scenarios,
                    judged_by: evidence.judged_by.into_iter().collect(),
                    judged_scenarios,
                    intermittent: grade == Grade::Intermittent,
                    needs_read_api: clause.needs_read_api,
                }
            })
            .collect();
        let mut report = Report::of(target, clauses);
        report.page = spec.page.clone();
        report
            .with_outcomes(records)
            // Lenient unless the caller says otherwise: SHOULD and EXTENDED failures are NON-STRICT.
            .strict(false)
    }

    /// A report of `clauses` as graded, with nothing else yet: lenient, complete, no scenario.
    fn of(target: &str, clauses: Vec<ClauseResult>) -> Report {
        Report {
            target: target.to_owned(),
            page: None,
            strict: false,
            clauses,
            scenarios_passed: 0,
            scenarios_failed: 0,
            scenarios_skipped: 0,
            scenarios_unanswered: 0,
            target_fault: None,
            interrupted: None,
            require_complete: false,
            read_api: false,
            fixture_errors: Vec::new(),
            new_failures: None,
            scenario_results: Vec::new(),
            outcomes: Vec::new(),
        }
    }

    /// Keeps what the scenarios did, to count them as the grades say.
    fn with_outcomes(mut self, records: &[ScenarioRecord]) -> Report {
        self.outcomes = records
            .iter()
            .map(|r| {
                let violated: Vec<String> = r
                    .judgements
                    .iter()
                    .flat_map(|j| j.verdict.violations.iter().map(|v| v.clause.clone()))
                    .collect();
                (r.location.clone(), r.outcome.clone(), violated)
            })
            .collect();
        self.recount();
        self
    }

    /// Counts the scenarios as the grades say (`scenario_result`).
    fn recount(&mut self) {
        let results: Vec<(String, ScenarioResult)> = self
            .outcomes
            .iter()
            .map(|(location, outcome, violated)| {
                (location.clone(), self.scenario_result(outcome, violated))
            })
            .collect();
        let n = |r: ScenarioResult| results.iter().filter(|(_, x)| *x == r).count();
        self.scenarios_passed = n(ScenarioResult::Passed) + n(ScenarioResult::Noted);
        self.scenarios_failed = n(ScenarioResult::Failed);
        self.scenarios_skipped = n(ScenarioResult::Skipped);
        self.scenarios_unanswered = n(ScenarioResult::Unanswered);
        self.scenario_results = results;
    }

    /// How a scenario counts: failed when a clause it violated counts (FAIL) or it did not
    /// complete; noted when all it violated does not count.
    pub fn scenario_result(
        &self,
        outcome: &ScenarioOutcome,
        violated: &[String],
    ) -> ScenarioResult {
        match outcome {
            ScenarioOutcome::Passed => ScenarioResult::Passed,
            ScenarioOutcome::Skipped(_) | ScenarioOutcome::Unjudged(_) => ScenarioResult::Skipped,
            ScenarioOutcome::NoAnswer(_) => ScenarioResult::Unanswered,
            ScenarioOutcome::Failed(_) if violated.is_empty() => ScenarioResult::Failed,
            ScenarioOutcome::Failed(_) => {
                let counts = violated
                    .iter()
                    .any(|c| self.clause(c).is_none_or(|c| self.counts(c)));
                if counts {
                    ScenarioResult::Failed
                } else {
                    ScenarioResult::Noted
                }
            }
        }
    }

    /// The result of the scenario at `location`.
    pub(crate) fn result_of(&self, location: &str) -> Option<ScenarioResult> {
        self.scenario_results
            .iter()
            .find(|(l, _)| l == location)
            .map(|(_, r)| *r)
    }

    /// The same report, for a target that answered nothing: `why`.
    /// The report of a run a signal stopped: never conformant, whatever it judged.
    pub(crate) fn interrupted_by(mut self, signal: Option<(String, u8)>) -> Report {
        self.interrupted = signal;
        self
    }

    pub(crate) fn with_target_fault(mut self, why: Option<String>) -> Report {
        self.target_fault = why;
        self
    }

    /// The same report, failing the run when a MUST clause was not judged.
    pub fn require_complete(mut self, require: bool) -> Report {
        self.require_complete = require;
        self
    }

    /// The same report, knowing which of the user's fixtures the run found not usable.
    pub(crate) fn with_fixture_errors(mut self, errors: Vec<String>) -> Report {
        self.fixture_errors = errors;
        self
    }

    /// The same report, exiting 1 for a non-conformance only when a clause fails that did not
    /// in the baseline (`--fail-on new`; `new_failures`: how many).
    pub(crate) fn failing_on_new(mut self, new_failures: usize) -> Report {
        self.new_failures = Some(new_failures);
        self
    }

    /// The MUST clauses no scenario judged (SKIP, or INFO: only answers not the operation's).
    pub(crate) fn unjudged_must(&self) -> Vec<&str> {
        self.clauses
            .iter()
            .filter(|c| c.level == Level::Must && matches!(c.grade, Grade::Skip | Grade::Info))
            .filter(|c| self.read_api || !c.needs_read_api)
            .map(|c| c.id.as_str())
            .collect()
    }

    /// The clauses that did not pass, but for those only the read API judges in a run without
    /// it (not judged, said apart).
    pub fn not_passed(&self) -> impl Iterator<Item = &ClauseResult> {
        let unread = self.unjudged_without_read_api();
        self.clauses
            .iter()
            .filter(move |c| c.grade != Grade::Pass && !unread.contains(&c.id.as_str()))
    }

    /// The clauses only the read API judges, in a run without it: not judged, said apart.
    pub(crate) fn unjudged_without_read_api(&self) -> Vec<&str> {
        self.clauses
            .iter()
            .filter(|c| !self.read_api && c.needs_read_api && c.grade == Grade::Skip)
            .map(|c| c.id.as_str())
            .collect()
    }

    /// Says whether the run read the target's tasks through the read API.
    pub fn with_read_api(mut self, read_api: bool) -> Report {
        self.read_api = read_api;
        self
    }

    /// The page the verdict was checked against, in a line: `Page: NAME, EDITION (sha256 ...)`.
    pub(crate) fn page_line(&self) -> Option<String> {
        self.page.as_ref().map(|p| {
            format!(
                "Checked against the vendor's page {} ({}; sha256 {})",
                crate::shown::inert(&p.name),
                crate::shown::inert(&p.edition),
                crate::shown::inert(&p.sha256[..p.sha256.len().min(12)])
            )
        })
    }

    /// Whether the verdict is complete: the target answered, and every MUST clause was judged.
    pub fn complete(&self) -> bool {
        self.target_fault.is_none() && self.interrupted.is_none() && self.unjudged_must().is_empty()
    }

    /// The verdict, in the words every report uses.
    pub fn verdict(&self) -> RunVerdict {
        if self.interrupted.is_some() {
            RunVerdict::Interrupted
        } else if self.target_fault.is_some() {
            RunVerdict::NotJudged
        } else if !self.must_failures().is_empty() {
            RunVerdict::NotConformant
        } else if !self.complete() && !self.fixture_errors.is_empty() {
            RunVerdict::FixtureError
        } else if !self.complete() {
            RunVerdict::Incomplete
        } else {
            RunVerdict::Conformant
        }
    }

    /// The exit code the run ends with, as docs/reference.md documents it: 3 when the target answered
    /// nothing, 1 when a clause that counts failed (or, with `--require-complete`, a MUST
    /// clause was not judged), 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        let verdict = self.verdict();
        let code = crate::grading::exit::of_verdict(
            verdict,
            self.require_complete,
            self.interrupted.as_ref().map(|(_, code)| *code),
        );
        // `--fail-on new` forgives a non-conformance known from the baseline; never an
        // incomplete run that must be complete (`--require-complete` wins).
        match self.new_failures {
            Some(new) if verdict == RunVerdict::NotConformant => {
                crate::grading::exit::failing_on_new(code, new)
            }
            _ => code,
        }
    }

    /// Whether `--fail-on new` turned a non-conformance into exit 0.
    pub fn forgiven(&self) -> bool {
        self.verdict() == RunVerdict::NotConformant && self.exit_code() == 0
    }

    pub fn clause(&self, id: &str) -> Option<&ClauseResult> {
        self.clauses.iter().find(|c| c.id == id)
    }

    /// Grades as `--strict` says: SHOULD and EXTENDED failures become FAIL, and an XPASS
    /// (an expected deviation that is gone) counts against conformance too.
    pub fn strict(mut self, strict: bool) -> Report {
        self.strict = strict;
        for c in &mut self.clauses {
            match c.grade {
                Grade::NonStrict if strict && c.intermittent => c.grade = Grade::Intermittent,
                Grade::NonStrict if strict => c.grade = Grade::Fail,
                Grade::Fail | Grade::Intermittent if !strict && c.level != Level::Must => {
                    c.grade = Grade::NonStrict
                }
                _ => {}
            }
        }
        if !self.outcomes.is_empty() {
            self.recount();
        }
        self
    }

    /// The clauses that count against conformance: every FAIL and INTERMITTENT (an XFAIL is
    /// expected, a NON-STRICT is a SHOULD, a SKIP was not judged), and in strict runs every
    /// XPASS.
    pub fn must_failures(&self) -> Vec<&str> {
        self.clauses
            .iter()
            .filter(|c| self.counts(c))
            .map(|c| c.id.as_str())
            .collect()
    }

    /// Whether a clause counts against conformance in this run: FAIL and INTERMITTENT, and
    /// XPASS when strict.
    pub fn counts(&self, c: &ClauseResult) -> bool {
        c.grade.counts() || (self.strict && c.grade == Grade::Xpass)
    }

    /// Conformant: the run exits 0 (no clause counts against it, the target answered, and
    /// with `--require-complete` every MUST clause was judged).
    pub fn conformant(&self) -> bool {
        self.exit_code() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::contract::request::{Request, Response};
    use crate::contract::spec::Kind;
    use crate::contract::{oracle, verdict::Verdict as Judged};
    use crate::records::judgement::{Judgement, Needs};

    /// A scenario tagged with `clause` whose one request of `kind` got `response`.
    fn record(spec: &Spec, clause: &str, kind: Kind, response: &Response) -> ScenarioRecord {
        let verdict = oracle::judge_request(spec, kind, &Request::sample(), response);
        with_verdict(clause, verdict, response.status)
    }

    fn with_verdict(clause: &str, verdict: Judged, status: u16) -> ScenarioRecord {
        let outcome = if verdict.passed() {
            ScenarioOutcome::Passed
        } else {
            ScenarioOutcome::Failed("a verdict".to_owned())
        };
        ScenarioRecord {
            feature: "f".to_owned(),
            scenario: "s".to_owned(),
            location: "features/f.feature:1".to_owned(),
            clauses: vec![clause.to_owned()],
            outcome,
            judgements: vec![Judgement::sample(verdict, status, None)],
            needs: Needs::default(),
            duration: std::time::Duration::ZERO,
        }
    }

    fn ok() -> Response {
        Response {
            status: 200,
            content_type: None,
            body: Vec::new(),
            headers: Vec::new(),
            truncated: false,
        }
    }

    #[test]
    fn a_broken_must_clause_fails_the_run_and_a_kept_one_passes() {
        let spec = Spec::embedded();
        let body = Response {
            body: b"{}".to_vec(),
            ..ok()
        };
        let broken = [record(&spec, "RUT-RESP-01", Kind::Retry, &body)];
        let report = Report::build(&spec, "t", &broken, None, &[]);
        assert_eq!(report.clause("RUT-RESP-01").unwrap().grade, Grade::Fail);
        assert_eq!(report.verdict(), RunVerdict::NotConformant);
        assert_eq!(report.exit_code(), 1);

        let kept = [record(&spec, "RUT-RESP-01", Kind::Retry, &ok())];
        let report = Report::build(&spec, "t", &kept, None, &[]);
        assert_eq!(report.clause("RUT-RESP-01").unwrap().grade, Grade::Pass);
        // Most clauses were judged by nothing: not conformant, not a failure either.
        assert_eq!(report.clause("RUT-AUTH-01").unwrap().grade, Grade::Skip);
        assert_eq!(report.verdict(), RunVerdict::Incomplete);
        assert_eq!(report.exit_code(), 0);
        assert_eq!(report.require_complete(true).exit_code(), 1);
    }

    #[test]
    fn a_broken_should_clause_is_non_strict_unless_the_run_is_strict() {
        let spec = Spec::embedded();
        let clause = "RUT-ERR-02";
        let level = spec.clauses.iter().find(|c| c.id == clause).unwrap().level;
        assert_eq!(level, Level::Should);
        let verdict = Judged {
            kind: Kind::InvalidRetryMode,
            checked: BTreeSet::from([clause.to_owned()]),
            violations: vec![crate::contract::verdict::Violation {
                clause: clause.to_owned(),
                level,
                expected: "an error body".to_owned(),
                evidence: crate::contract::verdict::Evidence {
                    status: 400,
                    error_code: None,
                    body_excerpt: String::new(),
                },
            }],
            note: None,
            unconfirmed: Vec::new(),
        };
        let records = [with_verdict(clause, verdict, 400)];
        let report = Report::build(&spec, "t", &records, None, &[]);
        assert_eq!(report.clause(clause).unwrap().grade, Grade::NonStrict);
        assert!(report.must_failures().is_empty());
        let strict = report.strict(true);
        assert_eq!(strict.clause(clause).unwrap().grade, Grade::Fail);
        assert_eq!(strict.exit_code(), 1);
    }

    #[test]
    fn an_expected_deviation_is_xfail_and_one_that_is_gone_xpass() {
        let spec = Spec::embedded();
        let expected = [ExpectedDeviation {
            clause: "RUT-RESP-01".to_owned(),
            status: None,
            error_code: None,
            reason: "ticket 1".to_owned(),
        }];
        let body = Response {
            body: b"{}".to_vec(),
            ..ok()
        };
        let broken = [record(&spec, "RUT-RESP-01", Kind::Retry, &body)];
        let report = Report::build(&spec, "t", &broken, None, &expected);
        assert_eq!(report.clause("RUT-RESP-01").unwrap().grade, Grade::Xfail);
        assert_eq!(report.exit_code(), 0);

        let kept = [record(&spec, "RUT-RESP-01", Kind::Retry, &ok())];
        let report = Report::build(&spec, "t", &kept, None, &expected);
        assert_eq!(report.clause("RUT-RESP-01").unwrap().grade, Grade::Xpass);
        assert_eq!(report.exit_code(), 0);
        assert_eq!(report.strict(true).exit_code(), 1);
    }

    #[test]
    fn a_target_that_answered_nothing_or_an_interrupted_run_has_its_own_exit() {
        let spec = Spec::embedded();
        let report = Report::build(&spec, "t", &[], None, &[]);
        let fault = report
            .clone()
            .with_target_fault(Some("no answer".to_owned()));
        assert_eq!(
            (fault.verdict(), fault.exit_code()),
            (RunVerdict::NotJudged, 3)
        );
        let stopped = report.interrupted_by(Some(("SIGTERM".to_owned(), 143)));
        assert_eq!(
            (stopped.verdict(), stopped.exit_code()),
            (RunVerdict::Interrupted, 143)
        );
    }
}
