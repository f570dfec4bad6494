//! The stub served for others (`css-conformance stub`): an HTTP/1.1 server of its own, fit to
//! expose on a network. Only the operation and the read API answer (there is no management
//! interface of any library to reach), through the same classifier and responder as the
//! in-process stub; and whatever a client sends, the server's memory, connections and time
//! are bounded (`Limits`): a request head or a body that is too large, too slow or malformed
//! gets a 4xx and the connection is closed, never a 5xx; an idle connection is closed; a
//! client that sends its request and half-closes still gets its answer. Nothing of a request
//! but its method, path and query is ever logged.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming as Body;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::answer::{Answer, Incoming};
use super::state::State;
use super::watch::ClientSummary;
use super::wire;
use crate::servers::http_server::{self, Limits};

/// The stub served on an address of its own until dropped.
pub struct Served {
    state: Arc<State>,
    url: String,
    accepting: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Serves `state` on `addr` within `limits`.
    pub(super) async fn start(
        state: Arc<State>,
        addr: SocketAddr,
        limits: Limits,
    ) -> std::io::Result<Served> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let accepting = tokio::spawn(accept(listener, Arc::clone(&state), limits));
        Ok(Served {
            state,
            url,
            accepting,
        })
    }

    /// The base URL clients reach it at, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What its clients did so far (empty unless it watches them).
    pub fn client_summary(&self) -> ClientSummary {
        self.state.client_summary()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Serves every connection with the stub's answers.
async fn accept(listener: tokio::net::TcpListener, state: Arc<State>, limits: Limits) {
    http_server::accept(listener, limits, false, move |peer| {
        let state = Arc::clone(&state);
        move |req| {
            let state = Arc::clone(&state);
            async move { wire::Body::of(handle(&state, limits, peer.ip(), req).await) }
        }
    })
    .await;
}

/// Answers one request: its body read within the limits, then the responder's answer.
async fn handle(
    state: &State,
    limits: Limits,
    peer: std::net::IpAddr,
    req: Request<Body>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    if http_server::head_bytes(&parts) > limits.max_head_bytes {
        let status = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        state.observe_refused(parts.method.as_str(), target, status.as_u16());
        return http_server::refused(status);
    }
    let headers = http_server::header_pairs(&parts.headers);
    let method = parts.method.as_str();
    let body = match http_server::read_body(&parts, body, limits).await {
        Ok(body) => body,
        Err(status) => {
            state.observe_refused(method, target, status.as_u16());
            return http_server::refused(status);
        }
    };
    let incoming = Incoming {
        method,
        target,
        headers: &headers,
        body: &body,
    };
    if target.split('?').next() == Some(RESET_PATH) {
        return reset(state, &incoming, peer).await;
    }
    let answer = state.answer(&incoming);
    let mut response = response(answer, method == "HEAD");
    wire::dress(&mut response, state.responder.variants(), &headers);
    response
}

/// The one path besides the API's: `POST` with the stub's credentials starts a new scope for
/// a client team's next run (every task as at the start, earlier refusals forgotten).
pub const RESET_PATH: &str = "/css-conformance/reset";

/// The reset: the right credentials first, answered at once, whoever else is guessing; a
/// wrong guess only after its cost in time (see `guesses`).
async fn reset(
    state: &State,
    incoming: &Incoming<'_>,
    peer: std::net::IpAddr,
) -> Response<Full<Bytes>> {
    let status = if incoming.method != "POST" {
        StatusCode::METHOD_NOT_ALLOWED
    } else if state.responder.authenticates(incoming) {
        state.reset();
        StatusCode::NO_CONTENT
    } else {
        let delay = state.guesses.refused();
        tracing::debug!("reset refused: wrong credentials from {peer}, answered in {delay:?}");
        tokio::time::sleep(delay).await;
        StatusCode::FORBIDDEN
    };
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// The responder's answer as hyper sends it (no body for a HEAD).
fn response(answer: Answer, head: bool) -> Response<Full<Bytes>> {
    let body = if head {
        Bytes::new()
    } else {
        Bytes::from(answer.body)
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if let Some(content_type) = answer.content_type {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if let Some(allow) = answer.allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
        headers.insert(ALLOW, allow);
    }
    for (name, value) in answer.extra_headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}
