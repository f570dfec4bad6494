//! The proxy (`css-conformance proxy`): a client's real traffic sent on unchanged to a live
//! endpoint or a stub, and both sides of each exchange judged. The server's answers are
//! judged by the oracle, under every reading the request may have for an observer who does
//! not know what the server knows (whether the credentials are valid, whose project it is,
//! what state the task is in): a clause is judged only where every reading agrees, so the
//! proxy never raises a false alarm against a correct server. Told the upstream is a stub
//! (its fixtures), it knows as much as the stub and judges as much. The client's requests are
//! judged by the spec's client clauses, through the stub's `Watch`. Nothing of a request but
//! its method, path and query is ever logged; memory is bounded (the served stub's limits,
//! the first `KEPT_BODY` bytes of an answer kept for judging, the rest streamed through).

mod forward;
mod tee;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::body::Incoming as Body;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};

use crate::contract::classify::{self, Identity, Partial, Parts, TaskState};
use crate::contract::oracle;
use crate::contract::spec::{Kind, Spec};
use crate::fixtures::{self, Fixtures};
use crate::servers::http_server::{self, Limits};
use crate::servers::stub::{self, ClientSummary, Incoming, Keys, RESET_PATH, Seen, Tally, Watch};
use crate::shown::shorten;

pub use forward::Upstream;

/// The bytes of an answer's body kept to judge it; the rest is streamed through unjudged.
pub const KEPT_BODY: usize = 1 << 20;

/// Tasks the proxy remembers having seen accepted (against a stub it knows).
const REMEMBERED_TASKS: usize = 100_000;

/// How the proxy runs.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    pub upstream: Upstream,
    pub limits: Limits,
    /// The longest the upstream may take to answer a request (head and body).
    pub upstream_timeout: Duration,
    /// What the upstream serves and accepts, when it is a stub the proxy is told of.
    pub knows: Option<(Fixtures, Keys)>,
}

/// What went through the proxy, both sides judged.
#[derive(Debug, Clone, Default)]
pub struct ProxySummary {
    /// Requests the proxy got (those it refused for a limit included).
    pub requests: u64,
    /// Requests the upstream gave no answer to (the client got a 502 or 504 from the proxy).
    pub unanswered: u64,
    /// Why the first of them got none.
    pub first_unanswered: Option<String>,
    /// Times the upstream spoke out of turn (bytes before a request or after its answer); an
    /// answer that may not be its request's is not forwarded (the client got a 502).
    pub out_of_turn: u64,
    /// Exchanges of the operation judged under more than one reading.
    pub ambiguous: u64,
    /// The server's clauses, over the exchanges that judged them.
    pub server: BTreeMap<String, Tally>,
    /// The client's side, as the stub's watch sees it.
    pub clients: ClientSummary,
}

/// What the proxy's connections share.
struct Judge {
    spec: Arc<Spec>,
    options: ProxyOptions,
    watch: Mutex<Watch>,
    summary: Mutex<ProxySummary>,
    /// Tasks of the known stub seen accepted: their state is no longer known.
    accepted: Mutex<HashSet<String>>,
}

/// A running proxy; it stops when dropped.
pub struct Proxy {
    judge: Arc<Judge>,
    url: String,
    accepting: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on `addr` and sends what comes on to `options.upstream`.
    pub async fn start(
        spec: Arc<Spec>,
        options: ProxyOptions,
        addr: SocketAddr,
    ) -> std::io::Result<Proxy> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        if options.upstream.is_at(local).await {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "the upstream {} is this proxy itself ({local}): each request would be sent on to itself",
                    options.upstream.url
                ),
            ));
        }
        let url = format!("http://{local}");
        let limits = options.limits;
        let judge = Arc::new(Judge {
            spec,
            options,
            watch: Mutex::new(Watch::default()),
            summary: Mutex::new(ProxySummary::default()),
            accepted: Mutex::new(HashSet::new()),
        });
        let shared = Arc::clone(&judge);
        let accepting = tokio::spawn(http_server::accept(listener, limits, true, move |_peer| {
            let judge = Arc::clone(&shared);
            let way = Arc::new(forward::Way::new(judge.options.upstream.clone()));
            move |req| {
                let (judge, way) = (Arc::clone(&judge), Arc::clone(&way));
                async move { exchange(&judge, &way, req).await }
            }
        }));
        Ok(Proxy {
            judge,
            url,
            accepting,
        })
    }

    /// The base URL clients reach it at, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What went through it so far.
    pub fn summary(&self) -> ProxySummary {
        let mut summary = lock(&self.judge.summary).clone();
        summary.clients = lock(&self.judge.watch).summary().clone();
        summary.out_of_turn = self.judge.options.upstream.out_of_turn();
        summary
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

type ProxyBody = Either<tee::Tee, Full<Bytes>>;

/// One exchange: the request read within the limits, sent on, its answer streamed back, and
/// both judged.
async fn exchange(
    judge: &Arc<Judge>,
    way: &forward::Way,
    req: Request<Body>,
) -> Response<ProxyBody> {
    let limits = judge.options.limits;
    let (parts, body) = req.into_parts();
    lock(&judge.summary).requests += 1;
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let method = parts.method.as_str().to_owned();
    let body = match http_server::read_body(&parts, body, limits).await {
        Ok(body) => body,
        Err(status) => {
            let incoming = Incoming {
                method: &method,
                target: &target,
                headers: &[],
                body: &[],
            };
            lock(&judge.watch).observe(&judge.spec, &incoming, status.as_u16(), &Seen::default());
            return http_server::refused(status).map(Either::Right);
        }
    };
    let headers = http_server::header_pairs(&parts.headers);
    let mut upstream = Request::new(Full::new(body.clone()));
    *upstream.method_mut() = parts.method.clone();
    *upstream.uri_mut() = target.parse().unwrap_or_default();
    *upstream.headers_mut() = tee::end_to_end(&parts.headers);
    // The case of the header names as received travels here.
    *upstream.extensions_mut() = parts.extensions;
    let timeout = judge.options.upstream_timeout;
    let answer = match way.send(upstream, timeout).await {
        Ok(answer) => answer,
        Err(none) => return no_answer(judge, &method, &target, none).map(Either::Right),
    };
    let incoming = Incoming {
        method: &method,
        target: &target,
        headers: &headers,
        body: &body,
    };
    let status = answer.status().as_u16();
    let read = judge.read(&incoming);
    judge.after(&incoming, status, &read);
    let (mut head, upstream_body) = answer.into_parts();
    let header = |name| {
        head.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(CONTENT_TYPE);
    // What a gateway compressed is judged as it reads; it goes on as it came.
    let encoding = header(hyper::header::CONTENT_ENCODING);
    head.headers = tee::end_to_end(&head.headers);
    let judging = Arc::clone(judge);
    let tee = tee::Tee::new(upstream_body, KEPT_BODY, timeout, move |body, whole| {
        let (body, _) = crate::transport::target::decoded(body, encoding.as_deref());
        judging.server_side(read, status, content_type, body, whole);
    });
    Response::from_parts(head, Either::Left(tee))
}

/// The upstream gave no answer to `method target`: said, counted, and answered by the proxy
/// (504 when it took too long, 502 otherwise).
fn no_answer(
    judge: &Judge,
    method: &str,
    target: &str,
    none: forward::NoAnswer,
) -> Response<Full<Bytes>> {
    let why = none.why;
    tracing::warn!(
        "{method} {}: no answer from the upstream: {why}",
        shorten(target)
    );
    let mut summary = lock(&judge.summary);
    summary.unanswered += 1;
    summary.first_unanswered.get_or_insert(why.clone());
    let status = if none.timed_out {
        StatusCode::GATEWAY_TIMEOUT
    } else {
        StatusCode::BAD_GATEWAY
    };
    unanswered(status, &why)
}

/// The proxy's own answer when the upstream gave none.
fn unanswered(status: StatusCode, why: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!(
        "css-conformance proxy: no answer from the upstream: {why}\n"
    ))));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// What the proxy made of a request: its parts if it is on the operation's path, and the
/// kinds it may be.
struct Read {
    shown: String,
    /// The credentials as the upstream judged them, when the proxy can tell.
    credentials: Option<Identity>,
    parts: Option<Parts<'static>>,
    readings: BTreeSet<Kind>,
}

impl Judge {
    /// Reads a request as far as the proxy knows the upstream.
    fn read(&self, incoming: &Incoming<'_>) -> Read {
        let spec = &self.spec;
        // A client's text, inert wherever it is shown.
        let shown = crate::shown::inert(&format!(
            "{} {}",
            incoming.method,
            shorten(classify::path_and_query(incoming.target))
        ))
        .into_owned();
        let presents = incoming.headers.iter().any(|(k, _)| {
            k.eq_ignore_ascii_case("authorization")
                || k.eq_ignore_ascii_case(crate::contract::request::TOKEN_HEADER)
        });
        let credentials = match &self.options.knows {
            Some((_, credentials)) => Some(credentials.judge(incoming)),
            None if presents => None,
            None => Some(Identity::Nothing),
        };
        let identities = credentials.map_or_else(
            || vec![Identity::Valid, Identity::Invalid],
            |known| vec![known],
        );
        let Some(parts) = Parts::of_wire(spec, incoming.method, incoming.target, identities[0])
        else {
            return Read {
                shown,
                credentials,
                parts: None,
                readings: BTreeSet::new(),
            };
        };
        let names = incoming.headers.iter().map(|(n, _)| n.as_str());
        let parts = parts.with_message(names, incoming.body).into_owned();
        let action = parts.id(crate::contract::spec::IdParam::Action).to_owned();
        let partial = Partial {
            identities,
            site: self
                .options
                .knows
                .as_ref()
                .map(|(f, _)| (f.project_id.as_str(), f.cluster_id.as_str())),
            task: self.task_states(&action),
        };
        let readings = classify::readings(spec, &partial, &parts);
        Read {
            shown,
            credentials,
            parts: Some(parts),
            readings,
        }
    }

    /// The states the task `id` may be in on the upstream.
    fn task_states(&self, id: &str) -> Vec<Option<TaskState>> {
        let unknown = vec![None, Some(TaskState::NotFailed), Some(TaskState::Failed)];
        let Some((f, _)) = &self.options.knows else {
            return unknown;
        };
        let failed = f.failed_action_ids.iter().any(|t| t == id)
            || (f.generated_failed_tasks && fixtures::generated_failed_task_index(id).is_some());
        if failed {
            let accepted = lock(&self.accepted);
            if accepted.contains(id) {
                // A stub's task retried or aborted never fails again (until a reset).
                return vec![Some(TaskState::NotFailed)];
            }
            if accepted.len() >= REMEMBERED_TASKS {
                return vec![Some(TaskState::Failed), Some(TaskState::NotFailed)];
            }
            return vec![Some(TaskState::Failed)];
        }
        if f.not_failed_action_id.as_deref() == Some(id) {
            return vec![Some(TaskState::NotFailed)];
        }
        vec![None]
    }

    /// What the answer's head tells at once: the client side judged; a task accepted; a
    /// stub's scope reset.
    fn after(&self, incoming: &Incoming<'_>, status: u16, read: &Read) {
        let spec = &self.spec;
        if incoming.method == "POST"
            && classify::split_target(incoming.target).0 == RESET_PATH
            && status == 204
        {
            lock(&self.accepted).clear();
            lock(&self.watch).reset();
        }
        if let Some(parts) = &read.parts
            && status == 200
            && read.readings.iter().any(|k| spec.expectation(*k).accepts())
        {
            let mut accepted = lock(&self.accepted);
            if accepted.len() < REMEMBERED_TASKS {
                accepted.insert(parts.id(crate::contract::spec::IdParam::Action).to_owned());
            }
        }
        let single = (read.readings.len() == 1)
            .then(|| read.readings.first().copied())
            .flatten();
        let seen = Seen {
            kind: single,
            operation: read.parts.is_some() && incoming.method == spec.operation.method,
            credentials: read.credentials,
            signature_fault: stub::signature_fault(incoming),
        };
        lock(&self.watch).observe(spec, incoming, status, &seen);
    }

    /// The server's side of an exchange, once its answer's body has gone through.
    fn server_side(
        &self,
        read: Read,
        status: u16,
        content_type: Option<String>,
        body: Vec<u8>,
        whole: bool,
    ) {
        let Some(parts) = &read.parts else {
            return;
        };
        let response = crate::contract::request::Response {
            status,
            content_type,
            body,
            headers: Vec::new(),
            truncated: false,
        };
        let mut verdict = oracle::judge_readings(&self.spec, &read.readings, parts, &response);
        if !whole {
            // Only part of the body came through the proxy (or was kept): what depends on
            // the whole body is not judged.
            let rules = &self.spec.rules;
            let partial = [&rules.error_body, &rules.error_code_form];
            verdict.checked.retain(|c| !partial.contains(&c));
            verdict.violations.retain(|v| !partial.contains(&&v.clause));
        }
        let mut summary = lock(&self.summary);
        if read.readings.len() > 1 {
            summary.ambiguous += 1;
        }
        for clause in &verdict.checked {
            let violation = verdict
                .violations
                .iter()
                .find(|v| &v.clause == clause)
                .map(|v| {
                    tracing::warn!("server fault: {}: {clause}: {}", read.shown, v.expected);
                    format!("{}: {v}", read.shown)
                });
            summary
                .server
                .entry(clause.clone())
                .or_default()
                .count(violation);
        }
    }
}
