//! The target seam: where requests go (a base URL), with which credentials, and which fixture
//! IDs exist there. Steps and the fuzzer talk to a `Target`; whether the built-in stub or a
//! live endpoint is behind it, they cannot tell.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::hash::{Hash as _, Hasher as _};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::case::{Credentials, Request};
use crate::fixtures::{Fixtures, TaskPool};
use crate::oracle::Response;
use crate::signing;
use crate::spec::Spec;

/// A credential that never shows itself: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the target authenticates requests.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials are configured: every request goes without.
    None,
    /// An IAM token sent as `X-Auth-Token`.
    Token(Secret),
    /// AK/SK request signing (`SDK-HMAC-SHA256`).
    AkSk { ak: Secret, sk: Secret },
}

impl Auth {
    /// A name for reports: `none`, `token` or `aksk`.
    pub fn method(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Token(_) => "token",
            Auth::AkSk { .. } => "aksk",
        }
    }
}

/// An endpoint's base URL, if it is one: http or https, no password, no query or fragment.
pub fn parse_endpoint(base_url: &str) -> Result<reqwest::Url, TargetError> {
    let endpoint = |message: &str| TargetError::Endpoint {
        url: without_userinfo(base_url),
        message: message.to_owned(),
    };
    let parsed = reqwest::Url::parse(base_url).map_err(|e| endpoint(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(endpoint("the scheme must be http or https"));
    }
    // A password in a URL ends up in logs and reports; credentials come from `auth`.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(endpoint(
            "must not carry user:password@ (credentials come from the auth settings)",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(endpoint("an endpoint has no query or fragment"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(endpoint("the endpoint names no host"));
    }
    Ok(parsed)
}

/// `url` with any `user:password@` taken out, to be shown.
pub fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.find('@').filter(|at| !rest[..*at].contains('/')) {
            Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// A target that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("endpoint `{url}`: {message}")]
    Endpoint { url: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A request that got no answer.
#[derive(Debug, thiserror::Error)]
#[error("{url}: {message}")]
pub struct TransportError {
    pub url: String,
    pub message: String,
}

/// A configured endpoint to check.
#[derive(Debug)]
pub struct Target {
    name: String,
    /// `scheme://host[:port]` of the base URL.
    origin: String,
    /// The base URL's path prefix, without a trailing `/`.
    prefix: String,
    /// The Host header value requests carry (and AK/SK signs).
    host: String,
    auth: Auth,
    pub fixtures: Fixtures,
    pool: TaskPool,
    client: reqwest::Client,
    /// The lean client for a plain-http endpoint on this machine, where nothing stands
    /// between (no TLS, no proxy).
    loopback: Option<crate::loopback::Client>,
    /// Whether requests may use the target's failed tasks (retry, abort, and anything sent
    /// with a real failed task, which a server that does not conform might act on).
    mutations_allowed: bool,
    /// Whether to say what will be sent before the first such request.
    announce_mutations: bool,
    announced: AtomicBool,
    politeness: Politeness,
    limiter: Option<governor::DefaultDirectRateLimiter>,
    /// Answers of 400 and 403 by request, so that the same request is never sent again
    /// (the page says a client should not repeat it); off for the built-in stub.
    refusals: Option<Mutex<HashMap<u64, RefusalSlot>>>,
    traffic: Counters,
    /// The variable the token comes from, named in cURL reproductions.
    token_env: String,
}

/// The turn of identical requests, holding the refusal once one came.
type RefusalSlot = Arc<tokio::sync::Mutex<Option<Response>>>;

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

/// A target that answered none of this many requests is not sent more: it cannot be judged.
const GIVE_UP_AFTER: u64 = 3;

/// How many times a request may meet 429 before it is given up.
const MAX_THROTTLED: u32 = 5;

/// What the politeness layer did in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Traffic {
    /// Requests that went on the wire, retries included.
    pub sent: u64,
    /// Retries after a network error or a 5xx.
    pub retried: u64,
    /// Waits after a 429.
    pub throttled: u64,
    /// Requests not sent because the same request had been refused with 400 or 403.
    pub not_resent: u64,
    /// What the first retry was for.
    pub first_retry: Option<String>,
    /// Requests answered, and requests that got no answer.
    pub answered: u64,
    pub faults: u64,
    /// Why the first request that got no answer got none.
    pub first_fault: Option<String>,
}

#[derive(Debug, Default)]
struct Counters {
    /// Requests that got an answer, and requests that got none (after retries).
    answered: AtomicU64,
    faults: AtomicU64,
    sent: AtomicU64,
    retried: AtomicU64,
    throttled: AtomicU64,
    not_resent: AtomicU64,
    first_retry: Mutex<Option<String>>,
    first_fault: Mutex<Option<String>>,
}

/// Why a scenario that would use a real failed task did not run.
pub const MUTATION_SKIP_REASON: &str =
    "mutating: it names a real task; pass --allow-mutations (and failed_action_ids) to run it";

/// The variable a token is read from unless a profile names another.
pub const DEFAULT_TOKEN_ENV: &str = "CSS_CONFORMANCE_TOKEN";

impl Target {
    /// A target at `base_url` (scheme, host, port and an optional path prefix), connected
    /// with the default transport and no politeness (as the built-in stub needs).
    pub fn new(
        name: impl Into<String>,
        base_url: &str,
        auth: Auth,
        fixtures: Fixtures,
    ) -> Result<Target, TargetError> {
        Target::with_transport(name, base_url, auth, fixtures, &Transport::default())
    }

    /// `new`, connecting as `transport` says.
    pub fn with_transport(
        name: impl Into<String>,
        base_url: &str,
        auth: Auth,
        fixtures: Fixtures,
        transport: &Transport,
    ) -> Result<Target, TargetError> {
        let parsed = parse_endpoint(base_url)?;
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(transport.connect_timeout)
            .timeout(transport.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .tls_danger_accept_invalid_certs(transport.insecure);
        if let Some(pem) = &transport.ca_bundle {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| TargetError::Client(format!("the CA bundle: {}", error_chain(&e))))?;
            if certs.is_empty() {
                return Err(TargetError::Client(
                    "the CA bundle holds no PEM certificate".to_owned(),
                ));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| TargetError::Client(error_chain(&e)))?;
        let pool = TaskPool::new(&fixtures);
        // `parse_endpoint` has made sure there is a host.
        let host = match (parsed.host_str().unwrap_or_default(), parsed.port()) {
            (h, Some(port)) => format!("{h}:{port}"),
            (h, None) => h.to_owned(),
        };
        let loopback = (parsed.scheme() == "http"
            && parsed.host_str().is_some_and(crate::loopback::is_loopback))
        .then(|| {
            crate::loopback::Client::new(
                host.clone(),
                transport.connect_timeout,
                transport.request_timeout,
            )
        });
        Ok(Target {
            name: name.into(),
            origin: format!("{}://{host}", parsed.scheme()),
            prefix: parsed.path().trim_end_matches('/').to_owned(),
            host,
            auth,
            fixtures,
            pool,
            client,
            loopback,
            mutations_allowed: false,
            announce_mutations: true,
            announced: AtomicBool::new(false),
            politeness: Politeness::default(),
            limiter: None,
            refusals: Some(Mutex::new(HashMap::new())),
            traffic: Counters::default(),
            token_env: DEFAULT_TOKEN_ENV.to_owned(),
        })
    }

    /// Sends as `politeness` says.
    pub fn with_politeness(mut self, politeness: Politeness) -> Target {
        self.limiter = politeness
            .max_requests_per_second
            .filter(|r| *r > 0.0)
            .and_then(|rps| governor::Quota::with_period(Duration::from_secs_f64(1.0 / rps)))
            .map(|quota| governor::RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN)));
        self.politeness = politeness;
        self
    }

    /// Names the variable the token comes from in cURL reproductions.
    pub fn with_token_env(mut self, var: &str) -> Target {
        var.clone_into(&mut self.token_env);
        self
    }

    /// What the politeness layer did so far.
    pub fn traffic(&self) -> Traffic {
        let c = &self.traffic;
        Traffic {
            sent: c.sent.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            not_resent: c.not_resent.load(Ordering::Relaxed),
            first_retry: c.first_retry.lock().ok().and_then(|f| f.clone()),
            answered: c.answered.load(Ordering::Relaxed),
            faults: c.faults.load(Ordering::Relaxed),
            first_fault: c.first_fault.lock().ok().and_then(|f| f.clone()),
        }
    }

    /// Lets requests use the target's failed tasks.
    pub fn allow_mutations(mut self, allowed: bool) -> Target {
        self.mutations_allowed = allowed;
        self
    }

    /// A target whose tasks are the tool's own (the built-in stub): mutations allowed, and
    /// nothing to announce.
    pub fn owned_by_us(mut self) -> Target {
        self.mutations_allowed = true;
        self.announce_mutations = false;
        self.refusals = None;
        self
    }

    pub fn mutations_allowed(&self) -> bool {
        self.mutations_allowed
    }

    /// Before the first request that uses a real failed task, says on stderr what will be
    /// sent (credentials never shown).
    pub fn announce_mutation(&self, spec: &Spec, request: &Request, what: &str) {
        if self.announce_mutations && !self.announced.swap(true, Ordering::SeqCst) {
            eprintln!(
                "css-conformance: first mutating request to {} ({what}), mutations allowed:\n  {} {}",
                self.name,
                request.method(spec),
                self.url(spec, request)
            );
        }
    }

    /// What the target is called in reports: the endpoint, or "built-in stub".
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Takes a failed task that no other scenario of this run has used.
    pub fn take_failed_task(&self) -> Option<String> {
        self.pool.take()
    }

    /// The URL a request goes to (AK/SK signing puts the query in canonical order).
    pub fn url(&self, spec: &Spec, request: &Request) -> String {
        self.url_of(&self.request_target(spec, request))
    }

    /// The URL of a request target (path and query) of this target's.
    fn url_of(&self, request_target: &str) -> String {
        format!("{}{request_target}", self.origin)
    }

    /// The path and query as they go on the wire, behind the endpoint's path prefix.
    fn request_target(&self, spec: &Spec, request: &Request) -> String {
        let mut target = self.wire_path(spec, request);
        let query = match &self.auth {
            Auth::AkSk { .. } => signing::canonical_query(&request.query_pairs(spec)),
            _ => request.query_string(spec),
        };
        if !query.is_empty() {
            target.push('?');
            target.push_str(&query);
        }
        target
    }

    /// The request's path on the wire, behind the endpoint's path prefix.
    fn wire_path(&self, spec: &Spec, request: &Request) -> String {
        let mut path = self.prefix.clone();
        request.write_path(spec, &mut path);
        path
    }

    /// The headers that authenticate `request`, signed at `now` where AK/SK signs.
    pub fn auth_headers(
        &self,
        spec: &Spec,
        request: &Request,
        now: time::OffsetDateTime,
    ) -> Vec<(String, Secret)> {
        let token = |t: &Secret| vec![("X-Auth-Token".to_owned(), t.clone())];
        match (&self.auth, request.credentials) {
            (_, Credentials::Missing) | (Auth::None, Credentials::Valid) => Vec::new(),
            (Auth::Token(t), Credentials::Valid) => token(t),
            (Auth::Token(_) | Auth::None, _) => token(&Secret::new(WRONG_TOKEN)),
            (Auth::AkSk { ak, sk }, credentials) => {
                let date = match credentials {
                    Credentials::StaleDate => now - time::Duration::minutes(20),
                    _ => now,
                };
                let sk = match credentials {
                    Credentials::Wrong => Secret::new(WRONG_TOKEN),
                    _ => sk.clone(),
                };
                let supplied = vec![
                    ("Content-Type".to_owned(), "application/json".to_owned()),
                    ("X-Project-Id".to_owned(), self.fixtures.project_id.clone()),
                    ("X-Sdk-Date".to_owned(), signing::sdk_date(date)),
                ];
                let path = self.wire_path(spec, request);
                let query = request.query_pairs(spec);
                let unsigned = signing::Unsigned {
                    method: request.method(spec),
                    host: &self.host,
                    path: &path,
                    query: &query,
                    headers: &supplied,
                    body: b"",
                };
                let signed = signing::sign(&unsigned, ak, &sk);
                signed
                    .headers
                    .into_iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
                    .map(|(k, v)| {
                        let v = if credentials == Credentials::TamperedSignature
                            && k == "Authorization"
                        {
                            tamper(&v)
                        } else {
                            v
                        };
                        (k, Secret::new(v))
                    })
                    .collect()
            }
        }
    }

    /// Sends `request` and returns the answer, politely: within the rate limit, waiting out
    /// 429s, retrying network errors and 5xx a bounded number of times, and never sending
    /// again a request that was refused with 400 or 403 (its answer stands).
    pub async fn send(&self, spec: &Spec, request: &Request) -> Result<Response, TransportError> {
        // The URL without the origin, which is the same for every request: the full URL is
        // put together only where one is shown or reqwest sends it.
        let request_target = self.request_target(spec, request);
        if self.traffic.answered.load(Ordering::Relaxed) == 0
            && self.traffic.faults.load(Ordering::Relaxed) >= GIVE_UP_AFTER
        {
            return Err(TransportError {
                url: self.url_of(&request_target),
                message: format!(
                    "not sent: the target answered none of the first {GIVE_UP_AFTER} requests"
                ),
            });
        }
        // Identical requests take turns, so that one refused while another was in flight is
        // not sent again either.
        let turn = self.refusals.as_ref().and_then(|refusals| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (&request_target, request.credentials, &request.method).hash(&mut h);
            let fingerprint = h.finish();
            let slot = refusals
                .lock()
                .ok()?
                .entry(fingerprint)
                .or_default()
                .clone();
            Some((fingerprint, slot))
        });
        let mut refused = match &turn {
            Some((_, slot)) => Some(slot.lock().await),
            None => None,
        };
        if let Some(answer) = refused.as_deref().and_then(Option::as_ref) {
            self.traffic.not_resent.fetch_add(1, Ordering::Relaxed);
            return Ok(answer.clone());
        }
        let logged = tracing::enabled!(tracing::Level::DEBUG)
            .then(|| crate::report::shorten(&self.url_of(&request_target)).to_owned());
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
        let counter = match &response {
            Ok(_) => &self.traffic.answered,
            Err(e) => {
                remember_first(&self.traffic.first_fault, || e.message.clone());
                &self.traffic.faults
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let (Some((fingerprint, slot)), Some(refusals)) = (&turn, &self.refusals)
            && let Ok(mut refusals) = refusals.lock()
        {
            match &response {
                Ok(r) if matches!(r.status, 400 | 403) => {
                    if let Some(answer) = refused.as_deref_mut() {
                        *answer = Some(r.clone());
                    }
                    refusals.insert(*fingerprint, Arc::clone(slot));
                }
                // Only refusals are remembered; other answers may change when sent again.
                _ => {
                    refusals.remove(fingerprint);
                }
            }
        }
        response
    }

    /// Sends within the rate limit, waiting out 429s and retrying what may be retried.
    async fn send_politely(
        &self,
        spec: &Spec,
        request: &Request,
        request_target: &str,
    ) -> Result<Response, TransportError> {
        // A request naming a real task may have been acted on even if no answer came (asked
        // only when a retry is in question).
        let names_a_task = || self.fixtures.knows(&request.action_id);
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
                Ok((r, _))
                    if r.status >= 500 && retries < self.politeness.retries && !names_a_task() =>
                {
                    self.note_retry(format!(
                        "status {} for {}",
                        r.status,
                        self.url_of(request_target)
                    ));
                    retries += 1;
                    Some(self.backoff(retries - 1))
                }
                Err((e, connect))
                    if retries < self.politeness.retries && (*connect || !names_a_task()) =>
                {
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
    async fn pace(&self) {
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

    /// One exchange: the answer and its `Retry-After`, or the error and whether it happened
    /// before a connection was made.
    async fn send_once(
        &self,
        spec: &Spec,
        request: &Request,
        request_target: &str,
    ) -> Result<(Response, Option<Duration>), (TransportError, bool)> {
        if let Some(client) = &self.loopback {
            let headers = self.auth_headers(spec, request, time::OffsetDateTime::now_utc());
            return match client
                .send(request.method(spec), request_target, &headers)
                .await
            {
                Ok(answer) => Ok((
                    Response {
                        status: answer.status,
                        content_type: answer.content_type,
                        body: answer.body,
                    },
                    answer.retry_after.as_deref().and_then(retry_after),
                )),
                Err(failure) => Err((
                    TransportError {
                        url: self.url_of(request_target),
                        message: failure.message,
                    },
                    failure.connect,
                )),
            };
        }
        let url = &self.url_of(request_target);
        let fail = |e: reqwest::Error| {
            let connect = e.is_connect();
            let error = TransportError {
                url: url.to_owned(),
                message: error_chain(&e),
            };
            (error, connect)
        };
        let method = reqwest::Method::from_bytes(request.method(spec).as_bytes())
            .unwrap_or(reqwest::Method::PUT);
        let mut builder = self.client.request(method, url);
        for (name, value) in self.auth_headers(spec, request, time::OffsetDateTime::now_utc()) {
            builder = builder.header(name, value.expose());
        }
        let mut response = builder.send().await.map_err(fail)?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| retry_after(&v));
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            if crate::loopback::append_capped(&mut body, &chunk) {
                break;
            }
        }
        Ok((
            Response {
                status,
                content_type,
                body,
            },
            retry_after,
        ))
    }
}

/// A `Retry-After` value: seconds, or an HTTP date (a date in the past: no wait).
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

impl Target {
    /// A one-line cURL command that sends `request` as `send` does, with every credential
    /// replaced by a shell variable (`$CSS_CONFORMANCE_TOKEN`; for AK/SK the signature, which
    /// `css-conformance replay` makes anew, by `$CSS_CONFORMANCE_AUTHORIZATION`).
    pub fn curl(&self, spec: &Spec, request: &Request) -> String {
        let url = self.url(spec, request).replace('\'', "'\\''");
        let mut line = format!("curl -sS -i -X {} '{url}'", request.method(spec));
        let now = time::OffsetDateTime::now_utc();
        for (name, value) in self.auth_headers(spec, request, now) {
            let shown = match name.as_str() {
                "X-Auth-Token" if request.credentials == Credentials::Valid => {
                    format!("\"{name}: ${}\"", self.token_env)
                }
                "Authorization" => format!("\"{name}: $CSS_CONFORMANCE_AUTHORIZATION\""),
                _ => format!("'{name}: {}'", value.expose()),
            };
            let _ = write!(line, " -H {shown}");
        }
        line
    }
}

/// The signature with its last hex digit changed.
fn tamper(authorization: &str) -> String {
    let mut v = authorization.to_owned();
    let last = v.pop();
    v.push(if last == Some('0') { '1' } else { '0' });
    v
}

/// A token of plausible shape that no IAM issued.
const WRONG_TOKEN: &str = "MIIwrongTOKENcss-conformance-0000000000000000";

/// Keeps the first of a series of descriptions (the first retry, the first fault).
fn remember_first(slot: &Mutex<Option<String>>, what: impl FnOnce() -> String) {
    if let Ok(mut first) = slot.lock() {
        first.get_or_insert_with(what);
    }
}

/// reqwest's error with its causes, which say what actually went wrong (refused, TLS, ...).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// reqwest is built without a default TLS provider to keep the build lean; ring is ours.
fn install_crypto_provider() {
    // Err only means another provider is installed already, which serves as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("canary-7f3a");
        assert!(!format!("{s:?} {s}").contains("canary"));
        let auth = Auth::Token(s);
        assert!(!format!("{auth:?}").contains("canary"));
    }

    #[test]
    fn rejects_an_endpoint_that_is_not_http() {
        let err = Target::new("x", "ftp://example", Auth::None, Fixtures::builtin()).unwrap_err();
        assert!(err.to_string().contains("ftp://example"), "{err}");
    }
}
