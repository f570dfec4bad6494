//! The step definitions, in the domain's words. A scenario builds one case at a time (Given:
//! which task, which credentials; When: how it is retried), sends it to the run's target, has
//! the oracle judge the answer, and its Then steps fail with the oracle's verdict. The
//! contract itself is not written here: a Then step only checks that its wording agrees with
//! the spec's expectation for the case, then asks the oracle.

use std::fmt;
use std::sync::Arc;

use cucumber::{given, then, when};

use crate::contract::oracle;
use crate::contract::request::{Credentials, Request};
use crate::contract::spec::{IdParam, Kind};
use crate::contract::verdict::Verdict;
use crate::engines::scenarios::run_state::{self, RunState, Unsettled, Wants};
use crate::records::judgement::{Judgement, Needs, Skip};
use crate::transport::target::Auth;

/// The state of one scenario.
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub(crate) struct Conformance {
    run_state: Arc<RunState>,
    request: Option<Request>,
    /// What the Given steps set up, before the When step's choices.
    base: Kind,
    /// A malformed path parameter the When step put in.
    malformed: bool,
    /// The failed task was retried or aborted successfully, so it is failed no more.
    consumed: bool,
    /// The request's action_id is a real task of the target.
    uses_real_task: bool,
    /// The real task the run gave the scenario (its requests may name it in another form).
    task: Option<String>,
    /// `file:line` of the scenario, which the run plans real tasks by.
    location: String,
    /// What the scenario asked of the target.
    needs: Needs,
    judgements: Vec<Judgement>,
    /// Why the scenario cannot run against this target, if it cannot.
    skipped: Option<Skip>,
    /// What a request that got no answer met, if one did: a target fault.
    no_answer: Option<String>,
    /// When the scenario's world was made: its start, for the reports' durations.
    started: std::time::Instant,
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
    fn real_task(&mut self, wants: Wants) -> Option<String> {
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

    fn set_up(&mut self, base: Kind, project: String, cluster: String, action: String) {
        self.base = base;
        self.request = Some(Request {
            project_id: project,
            cluster_id: cluster,
            action_id: action,
            retry_mode: Vec::new(),
            extra_query: Vec::new(),
            credentials: Credentials::Valid,
            method: None,
            shape: crate::contract::request::Shape::default(),
        });
    }

    fn request_mut(&mut self) -> &mut Request {
        self.request
            .as_mut()
            .expect("a Given step sets up the request before a When step changes it")
    }

    /// The kind of the request as it stands; one fault at a time, credentials first.
    fn kind(&self, request: &Request) -> Kind {
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

    async fn send(&mut self, retry_mode: Vec<String>) {
        if self.skipped.is_some() {
            return;
        }
        self.request_mut().retry_mode = retry_mode;
        let request = self.request.clone().expect("set above");
        let kind = self.kind(&request);
        // A request that names the real task in another form (an ID in capitals) goes to it
        // all the same: it is read, settled and judged as a request on that task.
        let task = self
            .task
            .clone()
            .unwrap_or_else(|| request.action_id.clone());
        if self.uses_real_task {
            self.run_state.first_send(&task, &request);
        }
        self.send_as(request, kind, &task).await;
        if matches!(kind, Kind::Retry | Kind::Abort)
            && self.judgements.last().is_some_and(|j| j.status == 200)
        {
            self.consumed = true;
        }
    }

    /// Sends `request`, a `kind` request on `task`, and keeps the oracle's judgement of the
    /// answer.
    async fn send_as(&mut self, request: Request, kind: Kind, task: &str) {
        let run_state = Arc::clone(&self.run_state);
        let url = run_state.target.url(&run_state.spec, &request);
        let accepted_kind = run_state.spec.expectation(kind).accepts();
        if self.uses_real_task {
            let what = format!("{kind} request on a real task");
            run_state
                .target
                .announce_mutation(&run_state.spec, &request, &what);
            // A refused request sent on the task before this one may act late: let it land.
            let a_form = run_state.spec.expectation(kind).not_the_operation;
            if accepted_kind && run_state.settle(task, a_form).await {
                run_state.forget_task_status(task);
            }
            // Between the refusals of one clause and another's, what the first did is let land
            // and the task read anew: a read API that shows an effect late then never points
            // across the two clauses. (Without one, the witnesses and the bisection tell.)
            if !accepted_kind
                && run_state.target.reads_tasks()
                && run_state.next_clause(task, kind)
                && run_state.settle(task, false).await
            {
                run_state.forget_task_status(task);
            }
        }
        // Where the target lists its tasks, the task's status before and after pins what
        // this request did to it.
        let reads = self.uses_real_task && run_state.target.reads_tasks();
        // The whole cluster is read just before a request that may act: what the requests
        // since the last read did to other tasks is theirs, what this one does is its own.
        if reads && accepted_kind {
            run_state
                .watch
                .look(&run_state.spec, &run_state.target)
                .await;
        }
        // A read made now (not the one last made after the request before) says when the
        // task was last seen as it was.
        let fresh = reads && !run_state.knows_status(task);
        let before = match reads {
            true => run_state.task_status(task).await,
            false => None,
        };
        let read_before = fresh.then(std::time::Instant::now);
        let sequence = run_state.next_sequence();
        let sent_at = std::time::Instant::now();
        let response = match run_state.target.send(&run_state.spec, &request).await {
            Ok(r) => r,
            // It may have acted on its task, and its answer is lost: the task is used, and
            // nothing is judged from it.
            Err(e) if e.is_lost() => {
                tracing::warn!("{kind} request on a real task: {e}");
                self.consumed = true;
                self.skip(Skip::AnswerLost);
                return;
            }
            Err(e) => {
                let why = format!("{NO_ANSWER} {kind} request: {e}");
                self.no_answer = Some(why.clone());
                panic!("{why}");
            }
        };
        if self.uses_real_task && !(accepted_kind && response.status == 200) {
            let by = match run_state.spec.expectation(kind).not_the_operation && accepted_kind {
                true => Unsettled::ByForms,
                false => Unsettled::ByRefusals,
            };
            run_state.unsettle(task, by);
        }
        let task_status = match (reads, before) {
            // An accepted request's effect is read once it has settled.
            (true, Some(before)) if request.method.is_none() && response.status == 200 => run_state
                .settled_task_status(task)
                .await
                .map(|after| (before, after)),
            (true, Some(before)) => run_state
                .read_task_status(task)
                .await
                .map(|after| (before, after)),
            _ => None,
        };
        let times = crate::records::judgement::Times {
            before: read_before.filter(|_| task_status.is_some()),
            sent: Some(sent_at),
            read: task_status.as_ref().map(|_| std::time::Instant::now()),
        };
        let verdict = oracle::judge_request(&run_state.spec, kind, &request, &response);
        let shown = crate::records::judgement::Shown::of(
            run_state.target.shown_headers(&run_state.spec, &request),
            &response,
        );
        let accepted = accepted_kind && response.status == 200;
        let judgement = Judgement {
            method: request.method(&run_state.spec).to_owned(),
            url,
            curl: run_state.target.curl(&run_state.spec, &request),
            status: response.status,
            error_code: oracle::error_code(&response),
            verdict,
            request,
            sequence,
            task: self.uses_real_task.then(|| task.to_owned()),
            derived: false,
            task_status,
            times,
            shown,
        };
        if reads {
            run_state.watch.sent(&self.location, &judgement).await;
            // Read once it has settled (its own task's read waited for that).
            if accepted {
                run_state
                    .watch
                    .look(&run_state.spec, &run_state.target)
                    .await;
            }
        }
        self.judgements.push(judgement);
    }

    /// Sends `request` on the scenario's real task unless the run sent it there already
    /// (then the earlier answer stands for it); whether it was sent.
    async fn send_once(&mut self, request: Request, kind: Kind, task: &str) -> bool {
        if self.skipped.is_some() || !self.run_state.first_send(task, &request) {
            return false;
        }
        self.send_as(request, kind, task).await;
        true
    }

    /// The last judgement, after checking that `wording` agrees with the spec for its kind.
    fn judged(
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
    fn all_judged(
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

    fn skip(&mut self, reason: Skip) {
        self.skipped.get_or_insert(reason);
    }
}

/// Reads a value cell of an Examples table: a JSON string (`" abort"`, `"\u0430bort"`),
/// optionally repeated (`"ab" * 5000`); for retry_mode also `absent` or a JSON array of
/// strings (the parameter given once per element). Gherkin trims cells, hence the quotes.
pub(crate) fn parse_values(cell: &str) -> Result<Vec<String>, String> {
    let cell = cell.trim();
    if cell == "absent" {
        return Ok(Vec::new());
    }
    if cell.starts_with('[') {
        return serde_json::from_str(cell).map_err(|e| format!("{cell}: {e}"));
    }
    let (literal, times) = match cell.rsplit_once(" * ") {
        Some((l, n)) => (
            l,
            n.trim()
                .parse::<usize>()
                .map_err(|e| format!("{cell}: repeat count: {e}"))?,
        ),
        None => (cell, 1),
    };
    let value: String = serde_json::from_str(literal).map_err(|e| format!("{cell}: {e}"))?;
    Ok(vec![value.repeat(times)])
}

fn one_value(cell: &str) -> String {
    match parse_values(cell) {
        Ok(mut v) if v.len() == 1 => v.remove(0),
        Ok(_) => panic!("{cell}: an ID cell holds exactly one JSON string"),
        Err(e) => panic!("{e}"),
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

#[given("a failed upgrade task")]
fn a_failed_task(w: &mut Conformance) {
    if let Some(task) = w.real_task(Wants::FailedTask) {
        let f = &w.run_state.target.fixtures;
        let (project, cluster) = (f.project_id.clone(), f.cluster_id.clone());
        w.set_up(Kind::Retry, project, cluster, task);
    }
}

#[given("an upgrade task that is not failed")]
fn a_task_not_failed(w: &mut Conformance) {
    // A server that does not conform might act on a real task, failed or not: a configured
    // one, or one an accepted retry or abort of this run took out of the failed state.
    if let Some(task) = w.real_task(Wants::TaskNotFailed) {
        let f = &w.run_state.target.fixtures;
        let (project, cluster) = (f.project_id.clone(), f.cluster_id.clone());
        w.set_up(Kind::TaskNotFailed, project, cluster, task);
    }
}

#[given("an unknown upgrade task")]
fn an_unknown_task(w: &mut Conformance) {
    let f = &w.run_state.target.fixtures;
    let (project, cluster) = (f.project_id.clone(), f.cluster_id.clone());
    let task = w.run_state.synthetic_id();
    w.set_up(Kind::UnknownTask, project, cluster, task);
}

#[given("an upgrade task of an unknown cluster")]
fn a_task_of_an_unknown_cluster(w: &mut Conformance) {
    let project = w.run_state.target.fixtures.project_id.clone();
    let (cluster, task) = (w.run_state.synthetic_id(), w.run_state.synthetic_id());
    w.set_up(Kind::UnknownCluster, project, cluster, task);
}

#[given("a failed upgrade task named under an unknown cluster")]
fn a_failed_task_under_an_unknown_cluster(w: &mut Conformance) {
    // Only a server that ignores cluster_id would act on it; that is the point of asking.
    if let Some(task) = w.real_task(Wants::FailedTask) {
        let project = w.run_state.target.fixtures.project_id.clone();
        let cluster = w.run_state.synthetic_id();
        w.set_up(Kind::UnknownCluster, project, cluster, task);
    }
}

#[given("an upgrade task in the project of another account")]
fn a_task_of_another_account(w: &mut Conformance) {
    let f = &w.run_state.target.fixtures;
    match f.foreign_project_id.clone() {
        Some(project) => {
            let cluster = f.cluster_id.clone();
            let task = w.run_state.synthetic_id();
            w.set_up(Kind::ForeignProject, project, cluster, task);
        }
        None => w.skip(Skip::NoForeignProject),
    }
    w.needs.foreign_project = true;
}

#[given("I send no credentials")]
fn no_credentials(w: &mut Conformance) {
    if w.skipped.is_none() {
        w.request_mut().credentials = Credentials::Missing;
    }
}

#[given("I send wrong credentials")]
fn wrong_credentials(w: &mut Conformance) {
    if w.skipped.is_none() {
        w.request_mut().credentials = Credentials::Wrong;
    }
}

#[given(regex = r"^I sign it with (a tampered signature|a stale X-Sdk-Date)$")]
fn signed_wrongly(w: &mut Conformance, how: String) {
    w.needs.aksk = true;
    if !matches!(w.run_state.target.auth(), Auth::AkSk { .. }) {
        w.skip(Skip::NeedsAkSk);
    }
    if w.skipped.is_none() {
        w.request_mut().credentials = if how.contains("tampered") {
            Credentials::TamperedSignature
        } else {
            Credentials::StaleDate
        };
    }
}

#[when(regex = r"^I retry it(?: again)?$")]
async fn retry(w: &mut Conformance) {
    w.send(Vec::new()).await;
}

#[when(regex = r"^I send it with the method (GET|POST|DELETE|PATCH|HEAD|OPTIONS|TRACE)$")]
async fn other_method(w: &mut Conformance, method: String) {
    if w.skipped.is_none() {
        w.request_mut().method = Some(method);
    }
    w.send(Vec::new()).await;
}

#[when("I abort it")]
async fn abort(w: &mut Conformance) {
    w.send(vec!["abort".to_owned()]).await;
}

#[when(regex = r"^I retry it with retry_mode (.+)$")]
async fn retry_with_mode(w: &mut Conformance, cell: String) {
    let values = parse_values(&cell).unwrap_or_else(|e| panic!("{e}"));
    w.send(values).await;
}

#[when(regex = r"^I retry it with the (project_id|cluster_id|action_id) set to (.+)$")]
async fn retry_with_id(w: &mut Conformance, param: String, cell: String) {
    if w.skipped.is_none() {
        let value = one_value(&cell);
        let param = IdParam::from_name(&param).expect("the step's pattern names a path parameter");
        *w.request_mut().id_mut(param) = value;
        w.malformed = true;
    }
    w.send(Vec::new()).await;
}

#[when(regex = r"^I retry it with the unknown query parameter (.+)=(.+)$")]
async fn retry_with_extra(w: &mut Conformance, name: String, value: String) {
    if w.skipped.is_none() {
        w.request_mut()
            .extra_query
            .push((one_value(&name), one_value(&value)));
    }
    w.send(Vec::new()).await;
}

#[then("the unknown parameter is ignored or the request rejected as invalid")]
fn extra_ignored_or_rejected(w: &mut Conformance) {
    w.judged(
        "the unknown parameter is ignored or the request rejected as invalid",
        |e| e.kind == Kind::ExtraParameter,
    );
}

#[then("the task is retried")]
fn task_retried(w: &mut Conformance) {
    w.judged("the task is retried", |e| {
        e.kind == Kind::Retry && e.accepts()
    });
}

#[then("the task is aborted")]
fn task_aborted(w: &mut Conformance) {
    w.judged("the task is aborted", |e| {
        e.kind == Kind::Abort && e.accepts()
    });
}

#[then("the request is rejected as invalid")]
fn rejected_as_invalid(w: &mut Conformance) {
    w.judged("the request is rejected as invalid", |e| {
        !e.accepts() && e.outcomes[0].status == 400
    });
}

#[then("the request is rejected")]
fn rejected(w: &mut Conformance) {
    w.judged("the request is rejected", |e| !e.accepts());
}

#[then("the task is left as it was")]
fn task_left_as_it_was(w: &mut Conformance) {
    // What the answer says is not judged (another method is not the operation); what the
    // task does next is, once the run has sent the request that follows on it.
    w.judged("the task is left as it was", |e| e.never_acts.is_some());
}

#[then("the request is refused")]
fn refused(w: &mut Conformance) {
    w.judged("the request is refused", |e| {
        e.outcomes.iter().all(|o| o.status == 403)
    });
}

#[then("the response has no body")]
fn no_body(w: &mut Conformance) {
    let clause = w.run_state.spec.rules.empty_success_body.clone();
    if let Some(v) = w.judged("the response has no body", |e| e.accepts()) {
        assert!(v.checked.contains(&clause), "{clause} was not exercised");
    }
}

#[then("the response carries the error body")]
fn error_body(w: &mut Conformance) {
    let clause = w.run_state.spec.rules.error_body.clone();
    if let Some(v) = w.judged("the response carries the error body", |e| !e.accepts()) {
        assert!(v.checked.contains(&clause), "{clause} was not exercised");
    }
}

#[then("the answer has a documented status")]
fn documented_status(w: &mut Conformance) {
    w.judged("the answer has a documented status", |_| true);
}

#[when("I send it through every door the plan gives it")]
async fn through_every_door(w: &mut Conformance) {
    w.needs.doors = true;
    let Some(base) = w.request.clone() else {
        return;
    };
    let run_state = Arc::clone(&w.run_state);
    for (_, door) in run_state.door_group() {
        // A form the target serves as the operation would be the retry on a real task (which
        // may act): it is no door there, and sent on one it would take the task another
        // scenario needs.
        if door.may_be_served(&run_state.spec) && run_state.serves(&door).await {
            continue;
        }
        let unknown = run_state.synthetic_id();
        let request = door.request(&run_state.target.fixtures, &base.action_id, &unknown);
        if matches!(
            request.credentials,
            Credentials::TamperedSignature | Credentials::StaleDate
        ) && !matches!(run_state.target.auth(), Auth::AkSk { .. })
        {
            continue;
        }
        w.send_once(request, door.kind, &base.action_id).await;
    }
}

#[then("every door is refused or is not the operation")]
fn every_door_refused(w: &mut Conformance) {
    w.all_judged("every door is refused or is not the operation", |e| {
        e.not_the_operation || !e.accepts()
    });
}

#[when("I retry it and abort it, each unless the run sent it on the task already")]
async fn retry_and_abort_once(w: &mut Conformance) {
    w.needs.probes = true;
    let Some(base) = w.request.clone() else {
        return;
    };
    let kind = w.kind(&base);
    for retry_mode in [
        Vec::new(),
        vec![w.run_state.spec.retry_mode().allowed_values[0].clone()],
    ] {
        let request = Request {
            retry_mode,
            ..base.clone()
        };
        w.send_once(request, kind, &base.action_id).await;
    }
}

#[then("each is rejected as invalid")]
fn each_rejected_as_invalid(w: &mut Conformance) {
    w.all_judged("each is rejected as invalid", |e| {
        !e.accepts() && e.outcomes[0].status == 400
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_value_cells() {
        assert_eq!(parse_values("absent").unwrap(), Vec::<String>::new());
        assert_eq!(parse_values(r#"" abort""#).unwrap(), [" abort"]);
        assert_eq!(parse_values(r#""""#).unwrap(), [""]);
        assert_eq!(parse_values(r#""\u0430bort""#).unwrap(), ["аbort"]);
        assert_eq!(
            parse_values(r#"["abort", "abort"]"#).unwrap(),
            ["abort", "abort"]
        );
        assert_eq!(parse_values(r#""ab" * 3"#).unwrap(), ["ababab"]);
        assert!(parse_values("abort").is_err());
        assert!(parse_values(r#""a" * x"#).is_err());
    }
}
