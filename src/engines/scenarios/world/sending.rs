//! A scenario's requests, sent: on a real task, what earlier refusals did is let land first,
//! the task (and, before a request that may act, the whole cluster) is read around the
//! request, and the oracle's judgement of the answer is kept.

use std::sync::Arc;

use crate::contract::oracle;
use crate::contract::request::{Request, Response};
use crate::contract::spec::Kind;
use crate::engines::scenarios::run_state::{RunState, Unsettled};
use crate::records::judgement::{Judgement, Shown, Skip, Times};
use crate::transport::target::TransportError;

use super::{Conformance, NO_ANSWER};

impl Conformance {
    pub(crate) async fn send(&mut self, retry_mode: Vec<String>) {
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
        let accepted_kind = run_state.spec.expectation(kind).accepts();
        if self.uses_real_task {
            let what = format!("{kind} request on a real task");
            run_state
                .target
                .announce_mutation(&run_state.spec, &request, &what);
            Self::let_earlier_land(&run_state, kind, task).await;
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
        let sent = run_state.target.send(&run_state.spec, &request).await;
        let Some(response) = self.answer_of(sent, kind) else {
            return;
        };
        if self.uses_real_task && !(accepted_kind && response.status == 200) {
            let by = match run_state.spec.expectation(kind).not_the_operation && accepted_kind {
                true => Unsettled::ByForms,
                false => Unsettled::ByRefusals,
            };
            run_state.unsettle(task, by);
        }
        let task_status = match before {
            Some(before) if reads => {
                // An accepted request's effect is read once it has settled.
                let after = match request.method.is_none() && response.status == 200 {
                    true => run_state.settled_task_status(task).await,
                    false => run_state.read_task_status(task).await,
                };
                after.map(|after| (before, after))
            }
            _ => None,
        };
        let times = Times {
            before: read_before.filter(|_| task_status.is_some()),
            sent: Some(sent_at),
            read: task_status.as_ref().map(|_| std::time::Instant::now()),
        };
        let accepted = accepted_kind && response.status == 200;
        let judgement = Judgement {
            sequence,
            task: self.uses_real_task.then(|| task.to_owned()),
            task_status,
            ..judgement_of(&run_state, kind, request, &response, times)
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

    /// The answer a request got, or `None` with the scenario skipped: it may have acted on
    /// its task and its answer is lost (the task is used, and nothing is judged from it). No
    /// answer at all fails the scenario as a target fault.
    fn answer_of(
        &mut self,
        sent: Result<Response, TransportError>,
        kind: Kind,
    ) -> Option<Response> {
        match sent {
            Ok(r) => Some(r),
            Err(e) if e.is_lost() => {
                tracing::warn!("{kind} request on a real task: {e}");
                self.consumed = true;
                self.skip(Skip::AnswerLost);
                None
            }
            Err(e) => {
                let why = format!("{NO_ANSWER} {kind} request: {e}");
                self.no_answer = Some(why.clone());
                panic!("{why}");
            }
        }
    }

    /// Sends `request` on the scenario's real task unless the run sent it there already
    /// (then the earlier answer stands for it); whether it was sent.
    pub(crate) async fn send_once(&mut self, request: Request, kind: Kind, task: &str) -> bool {
        if self.skipped.is_some() || !self.run_state.first_send(task, &request) {
            return false;
        }
        self.send_as(request, kind, task).await;
        true
    }

    /// Before a request on a real task: what refused requests sent on it earlier did is let
    /// land (they may act late), and the task's status read anew where one was let land.
    async fn let_earlier_land(run_state: &RunState, kind: Kind, task: &str) {
        let expectation = run_state.spec.expectation(kind);
        // A refused request sent on the task before this one may act late: let it land.
        if expectation.accepts() && run_state.settle(task, expectation.not_the_operation).await {
            run_state.forget_task_status(task);
        }
        // Between the refusals of one clause and another's, what the first did is let land
        // and the task read anew: a read API that shows an effect late then never points
        // across the two clauses. (Without one, the witnesses and the bisection tell.)
        if !expectation.accepts()
            && run_state.target.reads_tasks()
            && run_state.next_clause(task, kind)
            && run_state.settle(task, false).await
        {
            run_state.forget_task_status(task);
        }
    }
}

/// The oracle's judgement of `response`, the answer to `request` (a `kind` request), with
/// what shows the request again; the run's sequence, task and its status are the caller's.
fn judgement_of(
    run_state: &RunState,
    kind: Kind,
    request: Request,
    response: &Response,
    times: Times,
) -> Judgement {
    let spec = &run_state.spec;
    let target = &run_state.target;
    Judgement {
        method: request.method(spec).to_owned(),
        url: target.url(spec, &request),
        curl: target.curl(spec, &request),
        status: response.status,
        error_code: oracle::error_code(response),
        verdict: oracle::judge_request(spec, kind, &request, response),
        shown: Shown::of(target.shown_headers(spec, &request), response),
        request,
        sequence: 0,
        task: None,
        derived: false,
        task_status: None,
        times,
    }
}
