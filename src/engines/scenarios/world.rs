//! The world of a scenario: the case it builds (which task, which credentials, how it is
//! retried), what kind of request that makes, and what it judged. The steps (`steps`) set it
//! up and ask; `world/sending.rs` sends its requests to the run's target.

use std::fmt;
use std::sync::Arc;

use crate::contract::request::{Credentials, Request};
use crate::contract::spec::Kind;
use crate::contract::verdict::Verdict;
use crate::engines::scenarios::run_state::{self, RunState, Wants};
use crate::records::judgement::{Judgement, Needs, Skip};

mod sending;

/// The state of one scenario.
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub(crate) struct Conformance {
    pub(super) run_state: Arc<RunState>,
    pub(super) request: Option<Request>,
    /// What the Given steps set up, before the When step's choices.
    pub(super) base: Kind,
    /// A malformed path parameter the When step put in.
    pub(super) malformed: bool,
    /// The failed task was retried or aborted successfully, so it is failed no more.
    pub(super) consumed: bool,
    /// The request's action_id is a real task of the target.
    pub(super) uses_real_task: bool,
    /// The real task the run gave the scenario (its requests may name it in another form).
    pub(super) task: Option<String>,
    /// `file:line` of the scenario, which the run plans real tasks by.
    pub(super) location: String,
    /// What the scenario asked of the target.
    pub(super) needs: Needs,
    pub(super) judgements: Vec<Judgement>,
    /// Why the scenario cannot run against this target, if it cannot.
    pub(super) skipped: Option<Skip>,
    /// What a request that got no answer met, if one did: a target fault.
    pub(super) no_answer: Option<String>,
    /// When the scenario's world was made: its start, for the reports' durations.
    pub(super) started: std::time::Instant,
}

/// How a scenario that got no answer fails: a target fault, not a judgement.
const NO_ANSWER: &str = "target fault: no answer to";

/// The steps were run by something other than `runner::run`.
#[derive(Debug, thiserror::Error)]
#[error("the steps run only inside css_conformance::engines::scenarios::runner::run")]
pub(crate) struct OutsideRun;

impl fmt::Debug for Conformance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conformance")
            .field("target", &self.run_state.target.name())
            .field("request", &self.request)
            .field("base", &self.base)
            .field("judgements", &self.judgements.len())
            .finish_non_exhaustive()
    }
}

impl Conformance {
    async fn new() -> Result<Self, OutsideRun> {
        let run_state = run_state::current().ok_or(OutsideRun)?;
        Ok(Conformance {
            run_state,
            request: None,
            base: Kind::Retry,
            malformed: false,
            consumed: false,
            uses_real_task: false,
            task: None,
            location: String::new(),
            needs: Needs::default(),
            judgements: Vec::new(),
            skipped: None,
            no_answer: None,
            started: std::time::Instant::now(),
        })
    }

    /// Where the scenario is (`file:line`), before its first step.
    pub(crate) fn locate(&mut self, location: String) {
        self.location = location;
    }

    /// What the scenario did: its judgements, why it skipped (if it did), what got no
    /// answer (if anything), what it asked of the target and how long it took.
    pub(crate) fn take_record(&mut self) -> Record {
        Record {
            judgements: std::mem::take(&mut self.judgements),
            skipped: self.skipped.take(),
            no_answer: self.no_answer.take(),
            needs: self.needs,
            duration: self.started.elapsed(),
        }
    }

    /// The real task the run planned for this scenario, or `None` with the scenario
    /// skipped: mutations are not allowed, or no task is left for it.
    pub(super) fn real_task(&mut self, wants: Wants) -> Option<String> {
        match wants {
            Wants::FailedTask => self.needs.failed_task = true,
            Wants::TaskNotFailed => self.needs.task_not_failed = true,
        }
        match self.run_state.task_for(&self.location, wants) {
            Ok(task) => {
                self.uses_real_task = true;
                self.task = Some(task.clone());
                Some(task)
            }
            Err(why) => {
                self.skip(why);
                None
            }
        }
    }

    pub(super) fn set_up(&mut self, base: Kind, project: String, cluster: String, action: String) {
        self.base = base;
        self.request = Some(Request::retry(project, cluster, action));
    }

    pub(super) fn request_mut(&mut self) -> &mut Request {
        self.request
            .as_mut()
            .expect("a Given step sets up the request before a When step changes it")
    }

    /// The kind of the request as it stands; one fault at a time, credentials first.
    pub(super) fn kind(&self, request: &Request) -> Kind {
        if request.method.is_some() {
            return Kind::OtherMethod;
        }
        match request.credentials {
            Credentials::Missing => return Kind::MissingCredentials,
            Credentials::Wrong | Credentials::TamperedSignature | Credentials::StaleDate => {
                return Kind::InvalidCredentials;
            }
            Credentials::Valid => {}
        }
        if self.malformed {
            return Kind::MalformedId;
        }
        match (self.retry_mode_kind(request), self.base) {
            (k @ (Kind::InvalidRetryMode | Kind::RepeatedRetryMode), _) => k,
            (_, Kind::Retry) if self.consumed => Kind::TaskNotFailed,
            (_, Kind::Retry) if !request.extra_query.is_empty() => Kind::ExtraParameter,
            (k, Kind::Retry) => k,
            (_, base) => base,
        }
    }

    /// The kind the request's `retry_mode` values make it, for a failed task.
    fn retry_mode_kind(&self, request: &Request) -> Kind {
        let allowed = &self.run_state.spec.retry_mode().allowed_values;
        match request.retry_mode.as_slice() {
            [] => Kind::Retry,
            [one] if allowed.contains(one) => Kind::Abort,
            [_] => Kind::InvalidRetryMode,
            _ => Kind::RepeatedRetryMode,
        }
    }

    /// The last judgement, after checking that `wording` agrees with the spec for its kind.
    pub(super) fn judged(
        &self,
        wording: &str,
        agrees: impl Fn(&crate::contract::spec::Expectation) -> bool,
    ) -> Option<&Verdict> {
        if self.skipped.is_some() {
            return None;
        }
        let judgement = self
            .judgements
            .last()
            .expect("a When step sends a request before a Then step judges it");
        let verdict = &judgement.verdict;
        let expectation = self.run_state.spec.expectation(verdict.kind);
        assert!(
            agrees(expectation),
            "the feature says \"{wording}\" but the spec expects {:?} for a {} request",
            expectation.outcomes,
            verdict.kind
        );
        assert!(
            verdict.passed(),
            "{} {}\n{verdict}",
            judgement.method,
            crate::shown::shorten(&judgement.url)
        );
        Some(verdict)
    }

    /// As `judged`, for every request the scenario sent (none: nothing to judge, as when
    /// every door was sent on the task before).
    pub(super) fn all_judged(
        &self,
        wording: &str,
        agrees: impl Fn(&crate::contract::spec::Expectation) -> bool,
    ) {
        if self.skipped.is_some() {
            return;
        }
        for j in &self.judgements {
            let expectation = self.run_state.spec.expectation(j.verdict.kind);
            assert!(
                agrees(expectation),
                "the feature says \"{wording}\" but the spec expects {:?} for a {} request",
                expectation.outcomes,
                j.verdict.kind
            );
            assert!(
                j.verdict.passed(),
                "{} {}\n{}",
                j.method,
                crate::shown::shorten(&j.url),
                j.verdict
            );
        }
    }

    pub(super) fn skip(&mut self, reason: Skip) {
        self.skipped.get_or_insert(reason);
    }
}

/// What a scenario did, for its record.
#[derive(Debug, Default)]
pub(crate) struct Record {
    pub judgements: Vec<Judgement>,
    pub skipped: Option<Skip>,
    pub no_answer: Option<String>,
    pub needs: Needs,
    pub duration: std::time::Duration,
}
