//! How politely requests go out: within a rate limit, waiting out 429s, retrying network
//! errors and 5xx a bounded number of times.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::exchange::{Request, Response};
use crate::spec::Spec;

use super::traffic::remember_first;
use super::{Target, TransportError};

/// How to connect to a target.
#[derive(Debug, Clone)]
pub struct Transport {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// PEM certificates to trust besides the system's.
    pub ca_bundle: Option<Vec<u8>>,
    /// Accept any certificate (test servers only).
    pub insecure: bool,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(15),
            ca_bundle: None,
            insecure: false,
        }
    }
}

/// How politely requests go out: a rate limit, and retries of what may be retried.
#[derive(Debug, Clone, Default)]
pub struct Politeness {
    /// The most requests per second; `None`: as fast as answers come (the built-in stub).
    pub max_requests_per_second: Option<f64>,
    /// How often a network error or a 5xx is retried (never for a request naming a real
    /// task, which the server may have acted on, unless the connection was never made).
    pub retries: u32,
    /// The first wait before a retry; it doubles with each.
    pub backoff: Duration,
    /// The longest `Retry-After` waited for; a longer one makes the request a transport error.
    pub max_retry_after: Duration,
}

/// How many retries (of a 5xx or a network error) a run may make in all.
pub(super) const RETRY_BUDGET: u64 = 10;

/// A target that answered none of this many requests is not sent more: it cannot be judged.
pub(super) const GIVE_UP_AFTER: u64 = 3;

/// How many times a request may meet 429 before it is given up.
const MAX_THROTTLED: u32 = 5;

impl Target {
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
        // Retries draw from the run's budget, so that a server failing everything costs a
        // small multiple of a conforming run, not one every request.
        let may_retry = |retries: u32| {
            retries < self.politeness.retries
                && self.retries_allowed.load(Ordering::Relaxed)
                && self
                    .retry_budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
                    .is_ok()
        };
        let (mut retries, mut throttled) = (0, 0);
        loop {
            self.pace().await;
            self.traffic.sent.fetch_add(1, Ordering::Relaxed);
            let attempt = self.send_once(spec, request, request_target).await;
            let wait = match &attempt {
                Ok((r, retry_after)) if r.status == 429 => {
                    throttled += 1;
                    let wait = retry_after.unwrap_or_else(|| self.backoff(throttled - 1));
                    if throttled > MAX_THROTTLED || wait > self.politeness.max_retry_after {
                        return Err(TransportError {
                            url: self.url_of(request_target),
                            message: format!(
                                "throttled: 429 {throttled} time(s), asked to wait {} s",
                                wait.as_secs()
                            ),
                        });
                    }
                    self.traffic.throttled.fetch_add(1, Ordering::Relaxed);
                    Some(wait)
                }
                Ok((r, _)) if r.status >= 500 && !names_a_task() && may_retry(retries) => {
                    self.note_retry(format!(
                        "status {} for {}",
                        r.status,
                        self.url_of(request_target)
                    ));
                    retries += 1;
                    Some(self.backoff(retries - 1))
                }
                Err((e, connect)) if (*connect || !names_a_task()) && may_retry(retries) => {
                    self.note_retry(e.to_string());
                    retries += 1;
                    Some(self.backoff(retries - 1))
                }
                _ => None,
            };
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return attempt.map(|(r, _)| r).map_err(|(e, _)| e),
            }
        }
    }

    /// Waits for the rate limit, if there is one.
    pub(super) async fn pace(&self) {
        use governor::clock::{Clock as _, DefaultClock};
        let Some(limiter) = &self.limiter else {
            return;
        };
        while let Err(not_until) = limiter.check() {
            tokio::time::sleep(not_until.wait_time_from(DefaultClock::default().now())).await;
        }
    }

    /// The wait before retry `n` (from 0): the backoff, doubled each time, at most 30 s.
    fn backoff(&self, n: u32) -> Duration {
        (self.politeness.backoff * 2u32.saturating_pow(n)).min(Duration::from_secs(30))
    }

    fn note_retry(&self, what: String) {
        self.traffic.retried.fetch_add(1, Ordering::Relaxed);
        remember_first(&self.traffic.first_retry, || what);
    }
}

/// A `Retry-After` value: seconds, or an HTTP date (a date in the past: no wait).
pub(super) fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}
