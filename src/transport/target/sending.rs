//! Sending a request: never after an interruption or to a target that answered nothing (or
//! only transient answers), never again once refused (the memory of refusals), within the
//! rate limit, waiting out 429s and the gateway's transient answers and retrying what may be
//! retried; one exchange at the end of it.
//!
//! A gateway's 429, 502, 503 or 504, or a connection that ends before any answer, is the
//! way's, not the operation's: a request a conforming server would not act on is sent again
//! after the wait (`Retry-After` up to the profile's cap, else a backoff); one that may have
//! acted on a real task is not, and is settled through the read API (still failed: sent again)
//! or counted as used ([`Unanswered::Lost`]). An answer that is still transient after the
//! waits is the request's own only when the target serves a request sent after this one first
//! met a transient answer; if it answers nothing but transient answers, the run stops as
//! "target unavailable".

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::contract::classify::{self, Parts, Site, TaskState};
use crate::contract::request::{Request, Response};
use crate::contract::spec::{Kind, Spec};
use crate::secret::Secret;
use crate::shown::shorten;

use super::Target;
use super::endpoint::{Exchanged, TransportError, Unanswered};
use super::loopback::Payload;
use super::politeness::{
    GIVE_UP_AFTER, MAX_THROTTLED, MAX_TRANSIENT_WAITS, UNAVAILABLE_AFTER, is_transient,
};
use super::traffic::remember_first;

use crate::settings::flag;

/// An answer or a wait this long is said while the run goes on.
const SLOW: Duration = Duration::from_secs(5);
/// At most one such notice in this long.
const SLOW_NOTICE_EVERY: Duration = Duration::from_secs(30);

/// Whether a request is sent as any other (at most once after a refusal) or again on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    Once,
    Again,
}

/// Whether a request may be sent again after a transient answer (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resend {
    /// A read, or a request a conforming server would not act on: it is.
    Safe,
    /// It may have acted on a real failed task: not before the task is read still failed.
    MayAct,
}

/// How the polite exchange of one request ended.
pub(super) enum Ended {
    Answer(Response),
    /// Still a transient answer after every wait: the request's own, if the target answers
    /// others.
    /// `since`: how many requests had been sent when the first transient answer came.
    Persisting(Response, u64),
    /// A transient answer (or none) to a request that may have acted: what came.
    Unsettled(String),
    Fault(TransportError),
}

/// What one request has met so far: retries of a 5xx or a network error, 429s, waits out of a
/// transient answer, and how many requests had been sent when it first met a transient answer.
#[derive(Debug, Default)]
struct Tally {
    retries: u32,
    throttled: u32,
    waits: u32,
    since: Option<u64>,
}

impl Target {
    /// Sends `request` and returns the answer, politely: within the rate limit, waiting out
    /// 429s and transient answers, retrying network errors and 5xx a bounded number of times,
    /// and never sending again a request that was refused with 400 or 403 (its answer stands).
    pub async fn send(&self, spec: &Spec, request: &Request) -> Result<Response, TransportError> {
        self.send_as(spec, request, Sending::Once).await
    }

    /// Sends `request` once more to see whether a finding reproduces: the one exception to
    /// "never the same request twice" (its earlier answer, even a refusal, is not taken from
    /// memory), counted apart in the traffic. Politely all the same: within the rate limit
    /// and waiting out 429s.
    pub(crate) async fn send_again(
        &self,
        spec: &Spec,
        request: &Request,
    ) -> Result<Response, TransportError> {
        self.traffic.repeated.fetch_add(1, Ordering::Relaxed);
        self.send_as(spec, request, Sending::Again).await
    }

    async fn send_as(
        &self,
        spec: &Spec,
        request: &Request,
        sending: Sending,
    ) -> Result<Response, TransportError> {
        // The URL without the origin, which is the same for every request: the full URL is
        // put together only where one is shown or reqwest sends it.
        let request_target = self.request_target(spec, request);
        if let Some(why) = self.not_sent(&request_target) {
            return Err(why);
        }
        let turn = match sending {
            Sending::Once => self
                .refusals
                .as_ref()
                .and_then(|r| r.turn(&request_target, request)),
            Sending::Again => None,
        };
        let mut refused = match &turn {
            Some(turn) => Some(turn.slot.lock().await),
            None => None,
        };
        if let Some(answer) = refused.as_deref().and_then(Option::as_ref) {
            self.traffic.not_resent.fetch_add(1, Ordering::Relaxed);
            return Ok(answer.clone());
        }
        let logged = tracing::enabled!(tracing::Level::DEBUG)
            .then(|| shorten(&self.endpoint.url_of(&request_target)).to_owned());
        let response = self.send_settled(spec, request, &request_target).await;
        if let Some(url) = logged {
            match &response {
                Ok(r) => tracing::debug!(
                    status = r.status,
                    body_bytes = r.body.len(),
                    "{} {url}",
                    request.method(spec)
                ),
                Err(e) => tracing::debug!(error = %e.message, "{} {url}", request.method(spec)),
            }
        }
        self.count(&response);
        if let (Some(turn), Some(refusals)) = (&turn, &self.refusals) {
            refusals.record(spec, turn, refused.as_deref_mut(), &response);
        }
        response
    }

    /// Sends `request` politely and settles what the way left open: a request that may have
    /// acted and met a transient answer is sent again only once the read API shows its task
    /// still failed; an answer still transient after the waits is the request's only if the
    /// target answers another request.
    async fn send_settled(
        &self,
        spec: &Spec,
        request: &Request,
        request_target: &str,
    ) -> Result<Response, TransportError> {
        let resend = self.resend_of(spec, request);
        let method = request.method(spec);
        let headers = || self.auth_headers(spec, request, time::OffsetDateTime::now_utc());
        let payload = Payload {
            body: request.body(),
            version: request.shape.version,
        };
        let mut settled = 0;
        loop {
            match self
                .exchange_politely(method, request_target, &headers, payload, resend)
                .await
            {
                Ended::Answer(r) => {
                    // A retry or abort accepted: its task is failed no more.
                    if resend == Resend::MayAct && r.status == 200 {
                        self.note_task(&request.action_id, false);
                        self.note_used(&request.action_id);
                    }
                    return Ok(r);
                }
                Ended::Fault(e) => return Err(e),
                Ended::Persisting(r, since) => {
                    return self
                        .unless_unavailable(spec, r, request_target, since)
                        .await;
                }
                Ended::Unsettled(what) => {
                    settled += 1;
                    let still_failed = settled <= MAX_TRANSIENT_WAITS
                        && self.reads_tasks()
                        && self.still_failed(spec, &request.action_id).await;
                    if !still_failed {
                        self.note_used(&request.action_id);
                        return Err(self.lost(request_target, &what));
                    }
                    self.traffic.transient.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Whether `request` may be sent again after a transient answer: unless it names a real
    /// failed task and a conforming server would act on it (the one classifier says).
    fn resend_of(&self, spec: &Spec, request: &Request) -> Resend {
        self.on_site(|site| {
            let kind = classify::classify(spec, site, &Parts::of(spec, request));
            let e = spec.expectation(kind);
            // A form the page does not define is told before the task: it may act only on a
            // failed task the fixtures name.
            let on_a_failed_task = (site.task)(&request.action_id) == Some(TaskState::Failed);
            if e.accepts() && (!e.not_the_operation || on_a_failed_task) {
                Resend::MayAct
            } else {
                Resend::Safe
            }
        })
    }

    /// The kinds a server may take `request` (of `kind`) as on this target
    /// (`classify::either_first`).
    pub(crate) fn readings(&self, spec: &Spec, request: &Request, kind: Kind) -> BTreeSet<Kind> {
        self.on_site(|site| classify::either_first(site, kind, || Parts::of(spec, request)))
    }

    /// `f` of the target's site: its project and cluster, and each task's state as the
    /// fixtures and the run know it.
    fn on_site<R>(&self, f: impl FnOnce(&Site<'_>) -> R) -> R {
        let fixtures = &self.fixtures;
        let task = |id: &str| {
            if self.known_not_failed(id) {
                Some(TaskState::NotFailed)
            } else if self.fixture_failed(id) {
                Some(TaskState::Failed)
            } else {
                None
            }
        };
        f(&Site {
            project_id: &fixtures.project_id,
            cluster_id: &fixtures.cluster_id,
            task: &task,
        })
    }

    /// Whether `task` is read still failed once an effect had time to land.
    async fn still_failed(&self, spec: &Spec, task: &str) -> bool {
        tokio::time::sleep(self.settle_period()).await;
        matches!(
            self.task_status(spec, task).await,
            Ok(Some(read)) if spec.read_api.is_failed(&read.status)
        )
    }

    /// The error of a request that may have acted and whose answer the way lost.
    fn lost(&self, request_target: &str, what: &str) -> TransportError {
        self.traffic.lost.fetch_add(1, Ordering::Relaxed);
        let read = if self.reads_tasks() {
            "the read API shows its task no longer failed (or could not be read)".to_owned()
        } else {
            format!(
                "whether it acted is unknown without {}",
                const { flag("read_api") }
            )
        };
        TransportError::new(
            self.endpoint.url_of(request_target),
            format!(
                "answer lost on the way ({what}); the request may have acted, so it was not sent again: {read}; its task is counted as used and its clause is not judged from it"
            ),
            Unanswered::Lost,
        )
    }

    /// `answer`, still transient after every wait, as the request's own answer if the target
    /// served a request sent after this one first met a transient answer (`since` requests
    /// had been sent then: an answer to one sent before may have been on its way before the
    /// target went down), or serves one now (a request that names nothing); otherwise the
    /// target is unavailable and nothing more is sent.
    async fn unless_unavailable(
        &self,
        spec: &Spec,
        answer: Response,
        request_target: &str,
        since: u64,
    ) -> Result<Response, TransportError> {
        if self.traffic.last_served.load(Ordering::Relaxed) > since {
            return Ok(answer);
        }
        if let Some(why) = self.not_sent(request_target) {
            return Err(why);
        }
        let probe = Request::retry(
            self.fixtures.project_id.clone(),
            self.fixtures.cluster_id.clone(),
            self.unknown_task_id(),
        );
        let probe_target = self.request_target(spec, &probe);
        let headers = || self.auth_headers(spec, &probe, time::OffsetDateTime::now_utc());
        let method = probe.method(spec);
        match self
            .exchange_politely(method, &probe_target, &headers, Payload::NONE, Resend::Safe)
            .await
        {
            Ended::Answer(_) => Ok(answer),
            _ => {
                let why = format!(
                    "the target answered {} to {} and to a request naming nothing, after waiting {} times each",
                    answer.status,
                    shorten(&self.endpoint.url_of(request_target)),
                    MAX_TRANSIENT_WAITS
                );
                remember_first(&self.traffic.unavailable, || why.clone());
                Err(TransportError::new(
                    self.endpoint.url_of(request_target),
                    format!("target unavailable: {why}"),
                    Unanswered::Unavailable,
                ))
            }
        }
    }

    /// A well-formed task ID that names nothing, new each time (it is never sent twice).
    fn unknown_task_id(&self) -> String {
        let n = self.traffic.sent.load(Ordering::Relaxed);
        format!("00000000-0a1a-4000-8000-{:012x}", n & 0xffff_ffff_ffff)
    }

    /// Why a request is not sent at all: the run was interrupted, the target answered none
    /// of the first requests, or it is unavailable.
    fn not_sent(&self, request_target: &str) -> Option<TransportError> {
        let unavailable = self.traffic.unavailable.lock().ok().and_then(|u| u.clone());
        let (message, kind) = if self.interrupted.load(Ordering::SeqCst) {
            (
                "not sent: the run was interrupted".to_owned(),
                Unanswered::NotSent,
            )
        } else if self.traffic.answered.load(Ordering::Relaxed) == 0
            && self.traffic.faults.load(Ordering::Relaxed) >= GIVE_UP_AFTER
        {
            (
                format!("not sent: the target answered none of the first {GIVE_UP_AFTER} requests"),
                Unanswered::NotSent,
            )
        } else if let Some(why) = unavailable {
            (
                format!("not sent: target unavailable: {why}"),
                Unanswered::Unavailable,
            )
        } else {
            return None;
        };
        Some(TransportError::new(
            self.endpoint.url_of(request_target),
            message,
            kind,
        ))
    }

    /// Counts an answer, or a fault (the first kept); an answer lost on the way is counted as
    /// such (`lost`), not as a fault.
    fn count(&self, response: &Result<Response, TransportError>) {
        let counter = match response {
            Ok(_) => &self.traffic.answered,
            Err(e) if e.is_lost() => return,
            Err(e) => {
                remember_first(&self.traffic.first_fault, || e.message.clone());
                &self.traffic.faults
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends within the rate limit, waiting out 429s and transient answers and retrying what
    /// may be retried; `headers` are made anew for each attempt (a signature is dated).
    pub(super) async fn exchange_politely(
        &self,
        method: &str,
        request_target: &str,
        headers: &dyn Fn() -> Vec<(String, Secret)>,
        payload: Payload<'_>,
        resend: Resend,
    ) -> Ended {
        let mut tally = Tally::default();
        loop {
            if tally.waits > 0
                && let Some(why) = self.not_sent(request_target)
            {
                return Ended::Fault(why);
            }
            self.pacer.pace().await;
            let number = self.traffic.sent.fetch_add(1, Ordering::Relaxed) + 1;
            let began = std::time::Instant::now();
            let attempt: Exchanged = self
                .endpoint
                .exchange(method, request_target, &headers(), payload)
                .await;
            self.say_slow_after(began.elapsed(), || {
                format!(
                    "the target took {:.0} s to answer {method} {}; the run goes on",
                    began.elapsed().as_secs_f64(),
                    shorten(&self.endpoint.url_of(request_target))
                )
            });
            if let Some(why) = self.streak(&attempt, tally.waits > 0) {
                return Ended::Fault(why);
            }
            match &attempt {
                Ok((r, _)) if is_transient(r.status) => {
                    tally
                        .since
                        .get_or_insert_with(|| self.traffic.sent.load(Ordering::Relaxed));
                }
                Ok((r, _)) if r.status != 429 => {
                    self.traffic
                        .last_served
                        .fetch_max(number, Ordering::Relaxed);
                }
                _ => {}
            }
            let wait = match self.next_wait(attempt, &mut tally, request_target, resend, number) {
                Ok(wait) => wait,
                Err(ended) => return ended,
            };
            self.say_slow_after(wait, || {
                format!(
                    "waiting {:.0} s before {method} {} is sent again (the target asked for it, or it is the backoff)",
                    wait.as_secs_f64(),
                    shorten(&self.endpoint.url_of(request_target))
                )
            });
            tokio::time::sleep(wait).await;
        }
    }

    /// How long to wait before `attempt` (the `number`th request sent) is sent again, or how
    /// the exchange ended: an answer, a fault, a transient answer that persists, or one to a
    /// request that may have acted.
    fn next_wait(
        &self,
        attempt: Exchanged,
        tally: &mut Tally,
        request_target: &str,
        resend: Resend,
        number: u64,
    ) -> Result<Duration, Ended> {
        let pacer = &self.pacer;
        match attempt {
            Ok((r, retry_after)) if r.status == 429 => {
                tally.throttled += 1;
                let wait = retry_after.unwrap_or_else(|| pacer.backoff(tally.throttled - 1));
                if tally.throttled > MAX_THROTTLED || wait > pacer.max_retry_after() {
                    let asked = match retry_after {
                        Some(asked) => format!("asked to wait {} s", asked.as_secs()),
                        None => format!(
                            "no usable Retry-After, the backoff at {} ms",
                            wait.as_millis()
                        ),
                    };
                    return Err(Ended::Fault(TransportError::new(
                        self.endpoint.url_of(request_target),
                        format!("throttled: 429 {} time(s), {asked}", tally.throttled),
                        Unanswered::Fault,
                    )));
                }
                self.traffic.throttled.fetch_add(1, Ordering::Relaxed);
                Ok(wait)
            }
            Ok((r, _)) if is_transient(r.status) && resend == Resend::MayAct => {
                Err(Ended::Unsettled(format!("status {}", r.status)))
            }
            Ok((r, retry_after)) if is_transient(r.status) => {
                if tally.waits >= MAX_TRANSIENT_WAITS {
                    return Err(Ended::Persisting(r, tally.since.unwrap_or(number)));
                }
                tally.waits += 1;
                self.traffic.transient.fetch_add(1, Ordering::Relaxed);
                Ok(self.transient_wait(retry_after, tally.waits - 1))
            }
            Ok((r, _))
                if r.status >= 500 && resend == Resend::Safe && pacer.may_retry(tally.retries) =>
            {
                self.note_retry(format!(
                    "status {} for {}",
                    r.status,
                    self.endpoint.url_of(request_target)
                ));
                tally.retries += 1;
                Ok(pacer.backoff(tally.retries - 1))
            }
            Err(e) if !e.before_connection && resend == Resend::MayAct => {
                Err(Ended::Unsettled(e.message.clone()))
            }
            Err(e) if pacer.may_retry(tally.retries) => {
                self.note_retry(e.to_string());
                tally.retries += 1;
                Ok(pacer.backoff(tally.retries - 1))
            }
            Ok((r, _)) => Err(Ended::Answer(r)),
            Err(e) => Err(Ended::Fault(e)),
        }
    }

    /// Says `what` (as `say_slow` does) when `took` is long enough to be worth saying.
    fn say_slow_after(&self, took: Duration, what: impl FnOnce() -> String) {
        if took >= SLOW {
            self.say_slow(what);
        }
    }

    /// Says on stderr what the run waits for, at most once in `SLOW_NOTICE_EVERY`: a run that
    /// is slow because its target is says so while it runs.
    pub(super) fn say_slow(&self, what: impl FnOnce() -> String) {
        let Ok(mut last) = self.traffic.last_slow_notice.lock() else {
            return;
        };
        if last.is_some_and(|at| at.elapsed() < SLOW_NOTICE_EVERY) {
            return;
        }
        *last = Some(std::time::Instant::now());
        tracing::warn!("{}", what());
    }

    /// Counts transient answers in a row across every request to requests sent again after
    /// one (a first transient answer says little: many requests may meet one blip at once;
    /// another answer ends the streak); at `UNAVAILABLE_AFTER` the target is unavailable and
    /// nothing more is sent.
    fn streak(&self, attempt: &Exchanged, again: bool) -> Option<TransportError> {
        let streak = &self.traffic.streak;
        match attempt {
            Ok((r, _)) if is_transient(r.status) && !again => None,
            Ok((r, _)) if is_transient(r.status) => {
                let n = streak.fetch_add(1, Ordering::Relaxed) + 1;
                if n < UNAVAILABLE_AFTER {
                    return None;
                }
                remember_first(&self.traffic.unavailable, || {
                    format!(
                        "{n} transient answers in a row (the last: {}), and no other answer between",
                        r.status
                    )
                });
                self.not_sent("")
            }
            Ok(_) => {
                streak.store(0, Ordering::Relaxed);
                None
            }
            Err(_) => None,
        }
    }

    /// The wait before sending again after transient answer `n` (from 0): as `Retry-After`
    /// says, up to the profile's cap, else the backoff (at least a tenth of a second).
    fn transient_wait(&self, retry_after: Option<Duration>, n: u32) -> Duration {
        let pacer = &self.pacer;
        match retry_after {
            Some(wait) => wait.min(pacer.max_retry_after()),
            None => pacer
                .backoff(n)
                .max(Duration::from_millis(100) * 2u32.saturating_pow(n)),
        }
    }

    fn note_retry(&self, what: String) {
        self.traffic.retried.fetch_add(1, Ordering::Relaxed);
        remember_first(&self.traffic.first_retry, || what);
    }
}
