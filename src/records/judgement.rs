//! What a run records of its scenarios: each request with the verdict on its answer, how
//! each scenario ended, why one did not run, and what it needed of the target.

use crate::contract::spec::TaskRead;
use std::fmt;

use serde::Serialize;

use crate::contract::request::{Request, Response, SHOWN_CHARS, shown_text};
use crate::contract::verdict::Verdict;

use crate::settings::{Flag, flag};

const ALLOW_MUTATIONS: &Flag = flag("safety.allow_mutations");
const FAILED_TASKS: &Flag = flag("fixtures.failed_action_ids");
const AUTH: &Flag = flag("auth.method");
const NOT_FAILED_TASK: &Flag = flag("fixtures.not_failed_action_id");
const FOREIGN_PROJECT: &Flag = flag("fixtures.foreign_project_id");

/// An exchange as the HTML report shows it to a human: the headers the tool set (each
/// credential as the variable that holds it) and what came back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// The answer's body, cut to `SHOWN_CHARS` characters.
    pub body_excerpt: String,
}

impl Shown {
    /// `response` to `request_headers`, as shown.
    pub fn of(request_headers: Vec<(String, String)>, response: &Response) -> Shown {
        let text = String::from_utf8_lossy(&response.body);
        let mut body_excerpt = shown_text(&text);
        if text.chars().count() > SHOWN_CHARS {
            body_excerpt.push('…');
        }
        Shown {
            request_headers,
            response_headers: response.headers.clone(),
            body_excerpt,
        }
    }
}

/// One request of a scenario and the oracle's verdict on its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    pub method: String,
    pub url: String,
    /// A cURL line that re-sends the request, credentials replaced by placeholders.
    pub curl: String,
    /// The status the target answered with, and the error code of its error body (if any).
    pub status: u16,
    pub error_code: Option<String>,
    pub verdict: Verdict,
    /// The request as the scenario built it.
    #[serde(skip)]
    pub request: Request,
    /// Its place among the run's requests, in the order they were sent.
    #[serde(skip)]
    pub sequence: u64,
    /// The real task the request was sent on (its action_id may name it in another form), if
    /// it was sent on one.
    #[serde(skip)]
    pub task: Option<String>,
    /// What a later request on the same task showed of this one's effect (not a request of
    /// its own).
    #[serde(skip)]
    pub derived: bool,
    /// The status the read API gave the request's task before and after it, where the
    /// target serves it and both reads succeeded.
    #[serde(skip)]
    pub task_status: Option<(TaskRead, TaskRead)>,
    /// When it was sent, and when the read of its task after it was made (where it was).
    #[serde(skip)]
    pub times: Times,
    /// The exchange as report.html shows it.
    #[serde(skip)]
    pub shown: Shown,
}

/// When a request's task was read anew just before it (not the read after the request
/// before), when it was sent, and when its task was read after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub before: Option<std::time::Instant>,
    pub sent: Option<std::time::Instant>,
    pub read: Option<std::time::Instant>,
}

impl Judgement {
    /// A judgement of what this request did, by `clause`: held, or broken as `expected`
    /// says (not a request of its own: derived).
    pub fn effect(
        &self,
        spec: &crate::contract::spec::Spec,
        clause: &str,
        holds: bool,
        expected: String,
    ) -> Judgement {
        use crate::contract::verdict::{Evidence, Violation};
        let level = spec
            .clause(clause)
            .map_or(crate::contract::spec::Level::Must, |c| c.level);
        let mut verdict = Verdict {
            kind: self.verdict.kind,
            checked: std::collections::BTreeSet::from([clause.to_owned()]),
            violations: Vec::new(),
            note: None,
            unconfirmed: Vec::new(),
        };
        if !holds {
            verdict.violations.push(Violation {
                clause: clause.to_owned(),
                level,
                expected,
                evidence: Evidence {
                    status: self.status,
                    error_code: self.error_code.clone(),
                    // The answer's body as shown, cut as the oracle cuts its excerpts.
                    body_excerpt: cut(&self.shown.body_excerpt, 80),
                },
            });
        }
        Judgement {
            verdict,
            derived: true,
            task_status: None,
            ..self.clone()
        }
    }
}

/// `text` cut to `chars` characters, an ellipsis saying so.
fn cut(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().count() > chars {
        out.push('…');
    }
    out
}

/// Why a scenario did not run against a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// It names a real task and mutations are not allowed.
    Mutating,
    /// Every configured failed task is spent.
    NoTaskLeft,
    /// It is about signatures and the target is not reached with AK/SK.
    NeedsAkSk,
    /// No task that is not failed is configured.
    NoTaskNotFailed,
    /// No project of another account is configured.
    NoForeignProject,
    /// The failed tasks are kept for clauses no request has judged yet.
    Economy,
    /// A request that may have acted on its task met a gateway's transient answer (or none):
    /// it was not sent again, its task is used, and its clause is not judged from it.
    AnswerLost,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Mutating => write!(
                f,
                "mutating: it retries or aborts a real task; give {ALLOW_MUTATIONS} and failed tasks ({FAILED_TASKS} ID, two of them) to run it"
            ),
            Skip::NoTaskLeft => write!(
                f,
                "no failed upgrade task left to consume: give more with {FAILED_TASKS} ID (a run uses up the tasks it retries or aborts: bring fresh ones each run)"
            ),
            Skip::NeedsAkSk => write!(f, "needs AK/SK credentials ({AUTH} aksk)"),
            Skip::NoTaskNotFailed => write!(
                f,
                "no task that is not failed is configured ({NOT_FAILED_TASK} ID)"
            ),
            Skip::NoForeignProject => write!(
                f,
                "no project of another account is configured ({FOREIGN_PROJECT} ID)"
            ),
            Skip::Economy => f.write_str(
                "not run: its clauses are judged already, and the failed tasks are kept for clauses that are not",
            ),
            Skip::AnswerLost => f.write_str(
                "its retry or abort met a transient answer of the way (429/502/503/504 or none) and may have acted: not sent again, its task counted as used; another failed task would judge it",
            ),
        }
    }
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ScenarioOutcome {
    Passed,
    /// A step failed: a verdict, or a scenario that did not complete.
    Failed(String),
    /// A request got no answer: a target fault, which judges nothing.
    NoAnswer(String),
    /// What the scenario assumed did not hold when it ran (its failed task had been acted on
    /// by a request before it), so its answers judge nothing.
    Unjudged(String),
    Skipped(Skip),
}

/// What a scenario asks of the target, as its steps said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Needs {
    /// A real task in the failed state.
    pub failed_task: bool,
    /// A real task that is not failed.
    pub task_not_failed: bool,
    /// A project of another account.
    pub foreign_project: bool,
    /// AK/SK signing.
    pub aksk: bool,
    /// It sends the doors the plan gives it (`features/doors.feature`).
    pub doors: bool,
    /// It sends a retry and an abort after an accepted one (`features/doors.feature`).
    pub probes: bool,
}

/// One scenario of a run, with every judgement it made.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRecord {
    pub feature: String,
    pub scenario: String,
    /// `file:line` of the scenario (the Examples row for an outline).
    pub location: String,
    pub clauses: Vec<String>,
    pub outcome: ScenarioOutcome,
    pub judgements: Vec<Judgement>,
    /// What it asked of the target.
    pub needs: Needs,
    /// From the scenario's start to its end.
    #[serde(skip)]
    pub duration: std::time::Duration,
}

impl ScenarioRecord {
    /// Where the scenario stands in its features (`file_order`).
    pub fn file_order(&self) -> (&str, u32) {
        file_order(&self.location)
    }
}

/// Where a scenario's `file:line` stands in its features: the file, then the line as a
/// number (so `:9` comes before `:10`). Scenarios in this order read the same whatever order
/// they finished in.
pub fn file_order(location: &str) -> (&str, u32) {
    let (file, line) = location.rsplit_once(':').unwrap_or((location, ""));
    (file, line.parse().unwrap_or(0))
}

#[cfg(test)]
impl ScenarioRecord {
    /// A scenario at `location` that passed, judging nothing (unit tests of the order of
    /// records).
    pub(crate) fn sample(location: &str) -> ScenarioRecord {
        ScenarioRecord {
            feature: "f".to_owned(),
            scenario: location.to_owned(),
            location: location.to_owned(),
            clauses: vec!["RUT-PATH-01".to_owned()],
            outcome: ScenarioOutcome::Passed,
            judgements: Vec::new(),
            needs: Needs::default(),
            duration: std::time::Duration::ZERO,
        }
    }
}

#[cfg(test)]
impl Judgement {
    /// `Request::sample` on task `t`, answered `status` (and `error_code`) and judged
    /// `verdict` (unit tests of what reads judgements).
    pub(crate) fn sample(verdict: Verdict, status: u16, error_code: Option<&str>) -> Judgement {
        Judgement {
            method: "PUT".to_owned(),
            url: "http://stub/x".to_owned(),
            curl: String::new(),
            status,
            error_code: error_code.map(str::to_owned),
            verdict,
            request: Request::sample(),
            sequence: 0,
            task: Some("t".to_owned()),
            derived: false,
            task_status: None,
            times: Times::default(),
            shown: Shown::default(),
        }
    }
}
