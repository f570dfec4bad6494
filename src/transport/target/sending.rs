//! Sending a request: never after an interruption or to a target that answered nothing,
//! never again once refused (the memory of refusals), within the rate limit, waiting out
//! 429s and retrying what may be retried; one exchange at the end of it.

use std::sync::atomic::Ordering;

use crate::contract::request::{Request, Response};
use crate::contract::spec::Spec;
use crate::shown::shorten;

use super::Target;
use super::endpoint::{Exchanged, TransportError};
use super::politeness::{GIVE_UP_AFTER, MAX_THROTTLED};
use super::traffic::remember_first;

/// Whether a request is sent as any other (at most once after a refusal) or again on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    Once,
    Again,
}

impl Target {
    /// Sends `request` and returns the answer, politely: within the rate limit, waiting out
    /// 429s, retrying network errors and 5xx a bounded number of times, and never sending
    /// again a request that was refused with 400 or 403 (its answer stands).
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
        let response = self.send_politely(spec, request, &request_target).await;
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

    /// Why a request is not sent at all: the run was interrupted, or the target answered
    /// none of the first requests.
    fn not_sent(&self, request_target: &str) -> Option<TransportError> {
        let message = if self.interrupted.load(Ordering::SeqCst) {
            "not sent: the run was interrupted".to_owned()
        } else if self.traffic.answered.load(Ordering::Relaxed) == 0
            && self.traffic.faults.load(Ordering::Relaxed) >= GIVE_UP_AFTER
        {
            format!("not sent: the target answered none of the first {GIVE_UP_AFTER} requests")
        } else {
            return None;
        };
        Some(TransportError {
            url: self.endpoint.url_of(request_target),
            message,
        })
    }

    /// Counts an answer, or a fault (the first kept).
    fn count(&self, response: &Result<Response, TransportError>) {
        let counter = match response {
            Ok(_) => &self.traffic.answered,
            Err(e) => {
                remember_first(&self.traffic.first_fault, || e.message.clone());
                &self.traffic.faults
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// One exchange: the answer and its `Retry-After`, or the error and whether it happened
    /// before a connection was made.
    async fn send_once(&self, spec: &Spec, request: &Request, request_target: &str) -> Exchanged {
        let headers = self.auth_headers(spec, request, time::OffsetDateTime::now_utc());
        self.endpoint
            .exchange(request.method(spec), request_target, &headers)
            .await
    }

    /// Sends within the rate limit, waiting out 429s and retrying what may be retried.
    pub(super) async fn send_politely(
        &self,
        spec: &Spec,
        request: &Request,
        request_target: &str,
    ) -> Result<Response, TransportError> {
        // A request naming a real task may have been acted on even if no answer came (asked
        // only when a retry is in question).
        let names_a_task = || self.fixtures.knows(&request.action_id);
        let pacer = &self.pacer;
        let (mut retries, mut throttled) = (0, 0);
        loop {
            pacer.pace().await;
            self.traffic.sent.fetch_add(1, Ordering::Relaxed);
            let attempt = self.send_once(spec, request, request_target).await;
            let wait = match &attempt {
                Ok((r, retry_after)) if r.status == 429 => {
                    throttled += 1;
                    let wait = retry_after.unwrap_or_else(|| pacer.backoff(throttled - 1));
                    if throttled > MAX_THROTTLED || wait > pacer.max_retry_after() {
                        return Err(TransportError {
                            url: self.endpoint.url_of(request_target),
                            message: format!(
                                "throttled: 429 {throttled} time(s), asked to wait {} s",
                                wait.as_secs()
                            ),
                        });
                    }
                    self.traffic.throttled.fetch_add(1, Ordering::Relaxed);
                    Some(wait)
                }
                Ok((r, _)) if r.status >= 500 && !names_a_task() && pacer.may_retry(retries) => {
                    self.note_retry(format!(
                        "status {} for {}",
                        r.status,
                        self.endpoint.url_of(request_target)
                    ));
                    retries += 1;
                    Some(pacer.backoff(retries - 1))
                }
                Err((e, connect)) if (*connect || !names_a_task()) && pacer.may_retry(retries) => {
                    self.note_retry(e.to_string());
                    retries += 1;
                    Some(pacer.backoff(retries - 1))
                }
                _ => None,
            };
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return attempt.map(|(r, _)| r).map_err(|(e, _)| e),
            }
        }
    }

    fn note_retry(&self, what: String) {
        self.traffic.retried.fetch_add(1, Ordering::Relaxed);
        remember_first(&self.traffic.first_retry, || what);
    }
}
