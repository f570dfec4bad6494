//! The clause-by-clause result of a run: each clause of the spec graded from the scenarios'
//! judgements and the fuzzer's violations. The writers render it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::profile::ExpectedDeviation;
use crate::contract::spec::{Clause, Level, Spec};
pub use crate::grading::exit::RunVerdict;
use crate::records::clients::{ClientSummary, Tally};
use crate::records::findings::Summary;
use crate::records::judgement::ScenarioOutcome;
use crate::records::judgement::ScenarioRecord;
use crate::shown::shorten;

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
    pub fn interrupted_by(mut self, signal: Option<(String, u8)>) -> Report {
        self.interrupted = signal;
        self
    }

    pub fn with_target_fault(mut self, why: Option<String>) -> Report {
        self.target_fault = why;
        self
    }

    /// The same report, failing the run when a MUST clause was not judged.
    pub fn require_complete(mut self, require: bool) -> Report {
        self.require_complete = require;
        self
    }

    /// The same report, knowing which of the user's fixtures the run found not usable.
    pub fn with_fixture_errors(mut self, errors: Vec<String>) -> Report {
        self.fixture_errors = errors;
        self
    }

    /// The same report, exiting 1 for a non-conformance only when a clause fails that did not
    /// in the baseline (`--fail-on new`; `new_failures`: how many).
    pub fn failing_on_new(mut self, new_failures: usize) -> Report {
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
    pub fn unjudged_without_read_api(&self) -> Vec<&str> {
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
    pub fn page_line(&self) -> Option<String> {
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

impl Report {
    /// The client side of a served stub's run: each client clause of `spec` graded from what
    /// the stub's clients did, strictly (the stub is asked to check its clients, so a SHOULD
    /// or EXTENDED clause they broke fails the run too); a clause no request gave occasion to
    /// judge is SKIP, saying why.
    pub fn of_clients(spec: &Spec, target: &str, summary: &ClientSummary) -> Report {
        let why = "not judged: the stub answers no 429, so no client had to wait";
        Report::of(target, client_results(spec, summary, why)).strict(true)
    }

    /// A proxy's run: the server's clauses graded from the exchanges that judged them
    /// (`strict` as for `check`), then the client clauses as `of_clients` grades them; a
    /// server clause no exchange judged is SKIP, saying why. `fault` says why the upstream
    /// answered nothing, if it did not; `knows_upstream`, whether the proxy knew what the
    /// upstream knows (its reason for a SKIP).
    pub fn of_proxy(
        spec: &Spec,
        target: &str,
        server: &BTreeMap<String, Tally>,
        clients: &ClientSummary,
        strict: bool,
        fault: Option<String>,
        knows_upstream: bool,
    ) -> Report {
        let rules = &spec.rules;
        let by_effect: Vec<&String> = [
            &rules.refusal_leaves_task,
            &rules.acceptance_acts,
            &rules.named_task_only,
        ]
        .into_iter()
        .chain(
            spec.expectations
                .iter()
                .filter_map(|e| e.never_acts.as_ref()),
        )
        .collect();
        let results = graded(&spec.clauses, server, |clause| {
            if by_effect.contains(&&clause.id) {
                "not judged: the proxy sees what the server answered, not what it did to a task (`check` judges it with a failed task)"
            } else if knows_upstream {
                "not judged: no exchange through the proxy gave occasion to"
            } else {
                "not judged: no exchange settled it (judged only where every reading of a request agrees; --stub-fixtures tells what a stub upstream knows)"
            }
        });
        let mut report = Report::of(target, results)
            .strict(strict)
            .with_target_fault(fault);
        report.clauses.extend(client_results(
            spec,
            clients,
            "not judged: no 429 came, so no client had to wait",
        ));
        report
    }
}

/// Each client clause graded from what the clients did (FAIL when broken at all: strict);
/// `no_429` says why the clause on Retry-After was not judged, if it was not.
fn client_results(spec: &Spec, summary: &ClientSummary, no_429: &'static str) -> Vec<ClauseResult> {
    let rules = &spec.client_rules;
    graded(&spec.client_clauses, &summary.clauses, |clause| {
        if clause.id == rules.honours_retry_after {
            no_429
        } else if clause.id == rules.well_formed_signature {
            "not judged: no AK/SK request came"
        } else {
            "not judged: no request of the operation came"
        }
    })
}

/// Each of `clauses` graded from its tally: FAIL when violated, PASS when judged, otherwise
/// SKIP with `not_judged`'s reason.
fn graded(
    clauses: &[Clause],
    tallies: &BTreeMap<String, Tally>,
    not_judged: impl Fn(&Clause) -> &'static str,
) -> Vec<ClauseResult> {
    clauses
        .iter()
        .map(|clause| {
            let tally = tallies.get(&clause.id).cloned().unwrap_or_default();
            let (grade, evidence) = if tally.violated > 0 {
                let mut shown = vec![format!(
                    "violated in {} of the {} judged",
                    tally.violated, tally.judged
                )];
                shown.extend(tally.examples.iter().map(|e| shorten(e).to_owned()));
                (Grade::Fail, shown)
            } else if tally.judged > 0 {
                (Grade::Pass, Vec::new())
            } else {
                (Grade::Skip, vec![not_judged(clause).to_owned()])
            };
            ClauseResult {
                id: clause.id.clone(),
                level: clause.level,
                statement: clause.statement.clone(),
                grade,
                evidence,
                scenarios: Vec::new(),
                judged_scenarios: 0,
                judged_by: Vec::new(),
                intermittent: false,
                needs_read_api: clause.needs_read_api,
            }
        })
        .collect()
}

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
struct Gathered {
    failures: Vec<FailureSeen>,
    skips: Vec<String>,
    /// Answers to the clause's scenarios that were not the operation's (INFO).
    notes: Vec<String>,
    /// Effects the run could not tell apart from a fixture problem: the clause is not judged.
    unconfirmed: Vec<String>,
    checked: bool,
    scenarios: Vec<String>,
    judged_by: std::collections::BTreeSet<String>,
}

impl Gathered {
    fn gather(&mut self, id: &str, records: &[ScenarioRecord]) {
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
    fn gather_fuzz(&mut self, summary: &Summary, id: &str) {
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
    fn grade(&self, id: &str, expected: &[&ExpectedDeviation]) -> (Grade, Vec<String>) {
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
