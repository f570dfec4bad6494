//! How politely requests go out: within a rate limit, waiting out 429s, retrying network
//! errors and 5xx a bounded number of times.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

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
const RETRY_BUDGET: u64 = 10;

/// A target that answered none of this many requests is not sent more: it cannot be judged.
pub(super) const GIVE_UP_AFTER: u64 = 3;

/// How many times a request may meet 429 before it is given up.
pub(super) const MAX_THROTTLED: u32 = 5;

/// How many transient answers (502, 503, 504) a request that is safe to send again is sent
/// again after; and how many times a request that may have acted is read still failed and
/// sent again.
pub(super) const MAX_TRANSIENT_WAITS: u32 = 3;

/// Transient answers in a row, across every request, with no other answer between, after
/// which the target is taken as unavailable (a passing blip gives one or two).
pub(super) const UNAVAILABLE_AFTER: u64 = 12;

/// Whether `status` is a gateway's passing answer (bad gateway, unavailable, timeout), not
/// the operation's: waited out, and judged only when it persists. 429 is waited out apart.
pub(super) fn is_transient(status: u16) -> bool {
    matches!(status, 502..=504)
}

/// Politeness at work: the rate limiter, and the retries left.
#[derive(Debug)]
pub(super) struct Pacer {
    politeness: Politeness,
    limiter: Option<governor::DefaultDirectRateLimiter>,
    /// Retries of a 5xx or a network error left for the run.
    retry_budget: AtomicU64,
    /// Whether a 5xx or a network error is retried at all now (not while shrinking, where
    /// an answer is an answer).
    retries_allowed: AtomicBool,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            politeness: Politeness::default(),
            limiter: None,
            retry_budget: AtomicU64::new(RETRY_BUDGET),
            retries_allowed: AtomicBool::new(true),
        }
    }
}

impl Pacer {
    /// Paces as `politeness` says from now on.
    pub(super) fn set(&mut self, politeness: Politeness) {
        self.limiter = politeness
            .max_requests_per_second
            .filter(|r| *r > 0.0)
            .and_then(|rps| governor::Quota::with_period(Duration::from_secs_f64(1.0 / rps)))
            .map(|quota| governor::RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN)));
        self.politeness = politeness;
    }

    /// The longest `Retry-After` waited for.
    pub(super) fn max_retry_after(&self) -> Duration {
        self.politeness.max_retry_after
    }

    pub(super) fn allow_retries(&self, retry: bool) {
        self.retries_allowed.store(retry, Ordering::Relaxed);
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

    /// Whether retry `retries + 1` may be made, taking it from the run's budget, so that a
    /// server failing everything costs a small multiple of a conforming run, not one every
    /// request.
    pub(super) fn may_retry(&self, retries: u32) -> bool {
        retries < self.politeness.retries
            && self.retries_allowed.load(Ordering::Relaxed)
            && self
                .retry_budget
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
                .is_ok()
    }

    /// The wait before retry `n` (from 0): the backoff, doubled each time, at most 30 s.
    pub(super) fn backoff(&self, n: u32) -> Duration {
        (self.politeness.backoff * 2u32.saturating_pow(n)).min(Duration::from_secs(30))
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
