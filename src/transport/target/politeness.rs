//! How politely requests go out: within a rate limit, waiting out 429s, retrying network
//! errors and 5xx a bounded number of times.

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
pub(super) const RETRY_BUDGET: u64 = 10;

/// A target that answered none of this many requests is not sent more: it cannot be judged.
pub(super) const GIVE_UP_AFTER: u64 = 3;

/// How many times a request may meet 429 before it is given up.
pub(super) const MAX_THROTTLED: u32 = 5;

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
