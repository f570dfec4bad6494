//! The target seam: where requests go (a base URL), with which credentials, and which fixture
//! IDs exist there. Steps and the fuzzer talk to a `Target`; whether the built-in stub or a
//! live endpoint is behind it, they cannot tell. Its concepts, one file each: `auth` (the
//! credentials and how a request carries them), `endpoint` (the base URL), `politeness` (rate
//! limit, 429s, retries), `traffic` (what was sent), `curl` (a request as a command line),
//! `loopback` (the lean client for plain-http endpoints on this machine) and `open` (a target
//! from a profile, or the built-in stub with a target that reaches it).

mod auth;
mod curl;
mod endpoint;
pub mod loopback;
mod politeness;
mod read;
mod traffic;

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::profile::DEFAULT_TOKEN_ENV;
use crate::contract::request::{Request, Response};
use crate::contract::spec::Spec;
use crate::fixtures::{Fixtures, TaskPool};
use crate::secret::Secret;
use crate::text::{error_chain, shorten};
use crate::transport::signing;

pub use auth::Auth;
pub use endpoint::{TargetError, TransportError, parse_endpoint, without_userinfo};
pub use politeness::{Politeness, Transport};
pub use traffic::Traffic;

use auth::Signer;
use politeness::{GIVE_UP_AFTER, MAX_THROTTLED, retry_after};
use traffic::{Counters, remember_first};

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
    loopback: Option<loopback::Client>,
    /// Whether requests may use the target's failed tasks (retry, abort, and anything sent
    /// with a real failed task, which a server that does not conform might act on).
    mutations_allowed: bool,
    /// Whether its tasks are the tool's own (the built-in stub), to use as freely as tests need.
    owned: bool,
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
    /// Whether the target serves the read API, to read a task's status around requests.
    read_api: bool,
    /// How long an effect may take to land: waited before the request that follows refused
    /// ones on a task, and the longest a read is polled for a change.
    settle: std::time::Duration,
    /// Set when the run is interrupted: nothing more is sent.
    interrupted: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Retries of a 5xx or a network error left for the run.
    retry_budget: AtomicU64,
    /// Whether a 5xx or a network error is retried at all now (not while shrinking, where
    /// an answer is an answer).
    retries_allowed: AtomicBool,
}

/// The turn of identical requests, holding the refusal once one came.
type RefusalSlot = Arc<tokio::sync::Mutex<Option<Response>>>;

/// Whether a request is sent as any other (at most once after a refusal) or again on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    Once,
    Again,
}

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
    pub(crate) fn with_transport(
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
            && parsed.host_str().is_some_and(loopback::is_loopback))
        .then(|| {
            loopback::Client::new(
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
            owned: false,
            announce_mutations: true,
            announced: AtomicBool::new(false),
            politeness: Politeness::default(),
            limiter: None,
            refusals: Some(Mutex::new(HashMap::new())),
            traffic: Counters::default(),
            token_env: DEFAULT_TOKEN_ENV.to_owned(),
            read_api: false,
            settle: std::time::Duration::ZERO,
            interrupted: std::sync::Arc::default(),
            retry_budget: AtomicU64::new(politeness::RETRY_BUDGET),
            retries_allowed: AtomicBool::new(true),
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

    /// Whether a 5xx or a network error is retried (within the run's budget); off while
    /// shrinking, where a 5xx is an answer like another.
    pub(crate) fn retry_failures(&self, retry: bool) {
        self.retries_allowed.store(retry, Ordering::Relaxed);
    }

    /// Reads the status of a task around each request on it, through the read API.
    pub(crate) fn with_settle_period(mut self, settle: std::time::Duration) -> Target {
        self.settle = settle;
        self
    }

    /// The flag that stops the target's sending, for whoever handles an interruption.
    pub fn interruption(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        std::sync::Arc::clone(&self.interrupted)
    }

    /// How long an effect may take to land (0 for the built-in stub).
    pub(crate) fn settle_period(&self) -> std::time::Duration {
        self.settle
    }

    pub fn with_read_api(mut self, read: bool) -> Target {
        self.read_api = read;
        self
    }

    /// Names the variable the token comes from in cURL reproductions.
    pub(crate) fn with_token_env(mut self, var: &str) -> Target {
        var.clone_into(&mut self.token_env);
        self
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
        self.owned = true;
        self.announce_mutations = false;
        self.refusals = None;
        self
    }

    /// Whether its tasks are the tool's own (the built-in stub): a case that uses a failed task
    /// may then be sent again with a fresh one, to see whether a finding reproduces.
    pub fn is_owned_by_us(&self) -> bool {
        self.owned
    }

    pub fn mutations_allowed(&self) -> bool {
        self.mutations_allowed
    }

    /// Before the first request that uses a real failed task, says on stderr what will be
    /// sent (credentials never shown).
    pub(crate) fn announce_mutation(&self, spec: &Spec, request: &Request, what: &str) {
        if self.announce_mutations && !self.announced.swap(true, Ordering::SeqCst) {
            eprintln!(
                "css-conformance: first mutating request to {} ({what}), mutations allowed:\n  {} {}",
                self.name,
                request.method(spec),
                self.url(spec, request)
            );
        }
    }

    /// Before the first request that uses a real failed task, says on stderr how the run will
    /// use the failed tasks (nothing for the tool's own stub).
    pub(crate) fn announce_plan(&self, lines: &[String]) {
        if self.announce_mutations && !lines.is_empty() {
            eprintln!(
                "css-conformance: the failed tasks of {}, as a conforming server would have them used:",
                self.name
            );
            for line in lines {
                eprintln!("  {line}");
            }
        }
    }

    /// What the target is called in reports: the endpoint, or "built-in stub".
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The failed task kept for requests a conforming server refuses (they share it).
    pub(crate) fn refusal_task(&self) -> Option<String> {
        self.pool.refusal_task()
    }

    /// Says a request accepted on `task` may have spent it: if it is the task kept for
    /// refusals, the next refusal takes another.
    pub(crate) fn spent_refusal_task(&self, task: &str) {
        self.pool.spent_refusal_task(task);
    }

    /// Takes a failed task that no other scenario of this run has used.
    pub(crate) fn take_failed_task(&self) -> Option<String> {
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
        let turn = self.turn(&request_target, request, sending);
        let mut refused = match &turn {
            Some((_, slot)) => Some(slot.lock().await),
            None => None,
        };
        if let Some(answer) = refused.as_deref().and_then(Option::as_ref) {
            self.traffic.not_resent.fetch_add(1, Ordering::Relaxed);
            return Ok(answer.clone());
        }
        let logged = tracing::enabled!(tracing::Level::DEBUG)
            .then(|| shorten(&self.url_of(&request_target)).to_owned());
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
        if let (Some((fingerprint, slot)), Some(refusals)) = (&turn, &self.refusals)
            && let Ok(mut refusals) = refusals.lock()
        {
            match &response {
                // A refusal is not sent again (the page says so), nor a request the server
                // failed (after its retries): its answer stands for the run.
                Ok(r) if !spec.client_may_repeat(r.status) || r.status >= 500 => {
                    if let Some(answer) = refused.as_deref_mut() {
                        *answer = Some(remembered(r));
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
            url: self.url_of(request_target),
            message,
        })
    }

    /// The request's place in the memory of refusals, when it is sent once: identical
    /// requests take turns, so that one refused while another was in flight is not sent
    /// again either. Memory is bounded: past the cap, a new request is not remembered (if it
    /// comes again it goes out again).
    fn turn(
        &self,
        request_target: &str,
        request: &Request,
        sending: Sending,
    ) -> Option<(u64, RefusalSlot)> {
        let refusals = self
            .refusals
            .as_ref()
            .filter(|_| sending == Sending::Once)?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (request_target, request.credentials, &request.method).hash(&mut h);
        let fingerprint = h.finish();
        let mut remembered = refusals.lock().ok()?;
        if remembered.len() >= MAX_REMEMBERED && !remembered.contains_key(&fingerprint) {
            return None;
        }
        let slot = remembered.entry(fingerprint).or_default().clone();
        Some((fingerprint, slot))
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
    async fn send_once(
        &self,
        spec: &Spec,
        request: &Request,
        request_target: &str,
    ) -> Result<(Response, Option<Duration>), (TransportError, bool)> {
        let headers = self.auth_headers(spec, request, time::OffsetDateTime::now_utc());
        self.exchange(request.method(spec), request_target, &headers)
            .await
    }

    /// One exchange of `method` on `request_target` (path and query on the wire) with
    /// `headers`: the answer and its `Retry-After`, or the error and whether it happened
    /// before a connection was made.
    async fn exchange(
        &self,
        method: &str,
        request_target: &str,
        headers: &[(String, Secret)],
    ) -> Result<(Response, Option<Duration>), (TransportError, bool)> {
        if let Some(client) = &self.loopback {
            return match client.send(method, request_target, headers).await {
                Ok(answer) => Ok((
                    Response {
                        status: answer.status,
                        content_type: answer.content_type,
                        body: answer.body,
                        headers: answer.headers,
                    },
                    answer.retry_after.as_deref().and_then(retry_after),
                )),
                Err(failure) => Err((
                    TransportError {
                        url: self.url_of(request_target),
                        message: with_scheme_hint(failure.message),
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
                message: with_scheme_hint(error_chain(&e)),
            };
            (error, connect)
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::PUT);
        let mut builder = self.client.request(method, url);
        for (name, value) in headers {
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
        let shown = crate::contract::request::shown_headers(
            response
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_bytes())),
        );
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            if loopback::append_capped(&mut body, &chunk) {
                break;
            }
        }
        Ok((
            Response {
                status,
                content_type,
                body,
                headers: shown,
            },
            retry_after,
        ))
    }
}

/// How many refusals a target remembers (each a few hundred bytes).
const MAX_REMEMBERED: usize = 10_000;

/// What of a refusal is remembered: what judging it again needs, and no more. An error body
/// is kept with its message cut to 200 characters (it parses as before); another body is cut
/// to 200 bytes (and, should the cut make it parse as an error body, kept from doing so).
fn remembered(answer: &Response) -> Response {
    use crate::contract::oracle::ErrorFields;
    const KEPT: usize = 200;
    let body = match serde_json::from_slice::<ErrorFields>(&answer.body) {
        Ok(mut e) => {
            e.error_code = e.error_code.chars().take(KEPT.max(64)).collect();
            e.error_msg = e.error_msg.chars().take(KEPT).collect();
            serde_json::to_vec(&e).unwrap_or_default()
        }
        Err(_) if answer.body.len() <= KEPT => answer.body.clone(),
        Err(_) => {
            let mut cut = answer.body[..KEPT].to_vec();
            if serde_json::from_slice::<ErrorFields>(&cut).is_ok() {
                cut.insert(0, b'#');
            }
            cut
        }
    };
    // Headers judge nothing: not kept.
    Response {
        status: answer.status,
        content_type: answer.content_type.clone(),
        body,
        headers: Vec::new(),
    }
}

/// reqwest is built without a default TLS provider to keep the build lean; ring is ours.
/// The error, with a hint where TLS met a server that speaks plain HTTP, or the reverse.
fn with_scheme_hint(message: String) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("invalidcontenttype") || lower.contains("corrupt message") {
        format!(
            "{message} (hint: the endpoint is https:// but the server seems to speak plain HTTP; try http://)"
        )
    } else if lower.contains("invalid http version") {
        format!(
            "{message} (hint: the server did not answer in HTTP; if it speaks TLS, the endpoint should be https://)"
        )
    } else {
        message
    }
}

fn install_crypto_provider() {
    // Err only means another provider is installed already, which serves as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Target {
    /// The headers that authenticate `request`, signed at `now` where AK/SK signs.
    pub fn auth_headers(
        &self,
        spec: &Spec,
        request: &Request,
        now: time::OffsetDateTime,
    ) -> Vec<(String, Secret)> {
        // Only a signature names the path and the query: a token needs neither worked out.
        let (path, query) = match self.auth {
            Auth::AkSk { .. } => (self.wire_path(spec, request), request.query_pairs(spec)),
            Auth::None | Auth::Token(_) => (String::new(), Vec::new()),
        };
        self.headers_for(
            request.method(spec),
            &path,
            &query,
            request.credentials,
            now,
        )
    }

    /// The headers that authenticate a `method` request of `path` and `query`.
    fn headers_for(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        credentials: crate::contract::request::Credentials,
        now: time::OffsetDateTime,
    ) -> Vec<(String, Secret)> {
        let signer = Signer {
            host: &self.host,
            project_id: &self.fixtures.project_id,
        };
        self.auth
            .headers(&signer, method, path, query, credentials, now)
    }

    /// What the politeness layer did so far.
    pub fn traffic(&self) -> Traffic {
        self.traffic.snapshot()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_do_not_print() {
        let auth = Auth::Token(crate::secret::Secret::new("canary-7f3a"));
        assert!(!format!("{auth:?}").contains("canary"));
    }

    #[test]
    fn a_remembered_refusal_is_small_and_judged_as_the_answer_was() {
        let spec = crate::contract::spec::Spec::embedded();
        let kind = crate::contract::spec::Kind::InvalidRetryMode;
        let huge =
            serde_json::json!({ "error_code": "CSS.0001", "error_msg": "x".repeat(1 << 20) });
        for body in [
            huge.to_string().into_bytes(),
            vec![b'y'; 1 << 20],
            format!(
                r#"{{"error_code":"CSS.0001","error_msg":"m"}}{}"#,
                " ".repeat(300)
            )
            .into_bytes(),
            br#"{"error_code":"CSS.0001","error_msg":"m"}"#.to_vec(),
        ] {
            let answer = Response {
                status: 400,
                content_type: Some("application/json".to_owned()),
                body,
                headers: Vec::new(),
            };
            let kept = remembered(&answer);
            assert!(kept.body.len() <= 300, "{}", kept.body.len());
            let judged = |r: &Response| {
                let v = crate::contract::oracle::judge(&spec, kind, r);
                (
                    v.violations
                        .into_iter()
                        .map(|v| v.clause)
                        .collect::<Vec<_>>(),
                    v.checked,
                )
            };
            assert_eq!(judged(&kept), judged(&answer));
        }
        // A body that is no error body stays none when cut.
        let mut tricky = br#"{"error_code":"CSS.0001","error_msg":"m"}"#.to_vec();
        tricky.resize(201, b'}');
        let answer = Response {
            status: 400,
            content_type: None,
            body: tricky,
            headers: Vec::new(),
        };
        let v = |r: &Response| {
            crate::contract::oracle::judge(&spec, kind, r)
                .violations
                .len()
        };
        assert_eq!(v(&remembered(&answer)), v(&answer));
    }

    #[test]
    fn no_form_of_a_password_in_an_endpoint_is_shown() {
        for endpoint in [
            "http://user:p@ss-SECRET@127.0.0.1:18411",
            "https://user:pa/ss-SECRET@host",
            "https://user:SECRET@host/prefix",
            "user:SECRET@host",
            "https://:SECRET@host",
        ] {
            let shown = without_userinfo(endpoint);
            assert!(!shown.contains("SECRET"), "{endpoint}: {shown}");
            let err = Target::new("x", endpoint, Auth::None, Fixtures::builtin()).unwrap_err();
            assert!(!err.to_string().contains("SECRET"), "{endpoint}: {err}");
        }
        assert_eq!(without_userinfo("https://host/p"), "https://host/p");
    }

    #[test]
    fn rejects_an_endpoint_that_is_not_http() {
        let err = Target::new("x", "ftp://example", Auth::None, Fixtures::builtin()).unwrap_err();
        assert!(err.to_string().contains("ftp://example"), "{err}");
    }
}
