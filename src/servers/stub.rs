//! The built-in stub: a server that answers the operation as the vendor's page says, from the
//! spec and a set of fixtures, through the one classifier. Its concepts, one file each:
//! `answer` (route, classify, respond), `deviation` (deliberate faults, layered around the
//! classifier), `watch` (the client side of the contract), `served` (the HTTP/1.1 server
//! `css-conformance stub` runs), `stopping` (how long it serves: a time, or a signal),
//! `standalone` (the stub in a process of its own), `fixtures_file` (what
//! `css-conformance stub --fixtures FILE` reads).

mod answer;
mod deviation;
mod fixtures_file;
mod guesses;
mod keys;
mod named;
mod served;
mod standalone;
mod state;
mod stopping;
mod variant;
mod watch;
mod wire;

use std::sync::Arc;

use httpmock::{HttpMockRequest, MockServer};

use crate::contract::spec::Spec;
use crate::fixtures::Fixtures;

pub use crate::servers::http_server::Limits;
pub use answer::{Answer, Incoming, Responder, signature_fault};
pub use deviation::Deviation;
pub use fixtures_file::load_fixtures;
pub use keys::{Keys, STUB_ACCESS_KEY, STUB_SECRET_KEY, STUB_TOKEN, stub_keys};
pub use served::{RESET_PATH, Served};
pub use standalone::Standalone;
use state::State;
pub use stopping::stopped;
pub use variant::{Behaviour, Variant, Variants};
pub use watch::{ClientSummary, Seen, Tally, Watch};

/// Serves a stub that accepts `credentials` and serves `fixtures` (conforming, in the ways of
/// its variants, unless `behaviour` names a deviation) on `addr` within `limits`; when
/// `watch`, each request is logged with the stub's verdict and the client side of the
/// contract is checked.
pub async fn serve(
    spec: Arc<Spec>,
    fixtures: &Fixtures,
    credentials: &Keys,
    behaviour: Behaviour,
    watch: bool,
    addr: std::net::SocketAddr,
    limits: Limits,
) -> std::io::Result<Served> {
    let state = Arc::new(State::new(spec, fixtures, credentials, behaviour, watch));
    Served::start(state, addr, limits).await
}

/// A running built-in stub (an in-process httpmock server with one handler). Dropping it
/// returns the server to httpmock's pool.
///
/// For a client team's own tests, in the manner of wiremock's `MockServer`: start it, point
/// the client under test at it, then assert the client's side of the contract.
///
/// ```
/// # #[tokio::main(flavor = "multi_thread")]
/// # async fn main() {
/// use css_conformance::{STUB_TOKEN, Stub};
/// use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
///
/// let stub = Stub::start_for_clients().await;
/// let task = stub.fixtures().failed_action_ids[0].clone();
/// let url = stub.operation_url(&task, Some("abort"));
///
/// // The client under test; here a bare HTTP/1.1 request.
/// let send = |url: String| async move {
///     let (host, target) = url["http://".len()..].split_once('/').unwrap();
///     let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
///     let head = format!(
///         "PUT /{target} HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {STUB_TOKEN}\r\nConnection: close\r\n\r\n"
///     );
///     tcp.write_all(head.as_bytes()).await.unwrap();
///     let mut answer = String::new();
///     tcp.read_to_string(&mut answer).await.unwrap();
///     answer[9..12].parse::<u16>().unwrap()
/// };
/// assert_eq!(send(url.clone()).await, 200); // aborted
/// assert_eq!(send(url.clone()).await, 400); // no longer failed: CSS.5090
/// stub.verify(); // the client did not repeat a refusal unchanged
///
/// assert_eq!(send(url).await, 400); // ... until now
/// assert_eq!(stub.client_summary().resent, 1);
/// # }
/// ```
pub struct Stub {
    server: MockServer,
    state: Arc<State>,
}

impl Stub {
    /// Starts a stub that accepts `credentials` and serves `fixtures`, conforming unless
    /// `deviation`.
    pub async fn start(
        spec: Arc<Spec>,
        fixtures: &Fixtures,
        credentials: &Keys,
        deviation: Option<Deviation>,
    ) -> Stub {
        Stub::start_watching(spec, fixtures, credentials, deviation, false).await
    }

    /// `start`, and when `watch` log each request with the stub's verdict on it and check
    /// the client side of the contract (see `client_summary`).
    pub async fn start_watching(
        spec: Arc<Spec>,
        fixtures: &Fixtures,
        credentials: &Keys,
        deviation: Option<Deviation>,
        watch: bool,
    ) -> Stub {
        let state = Arc::new(State::new(
            spec,
            fixtures,
            credentials,
            deviation.into(),
            watch,
        ));
        let server = MockServer::start_async().await;
        let handler = Arc::clone(&state);
        server
            .mock_async(|_when, then| {
                then.respond_with(move |req: &HttpMockRequest| {
                    handler.answer(&Incoming::of(req)).into_httpmock()
                });
            })
            .await;
        Stub { server, state }
    }

    /// A conforming stub for a client team's tests: the built-in fixtures and credentials
    /// (`STUB_TOKEN`, `STUB_ACCESS_KEY`/`STUB_SECRET_KEY`), watching its clients.
    pub async fn start_for_clients() -> Stub {
        let spec = Arc::new(Spec::embedded());
        Stub::start_watching(spec, &Fixtures::builtin(), &stub_keys(), None, true).await
    }

    /// What it serves: its project, cluster and failed tasks.
    pub fn fixtures(&self) -> &Fixtures {
        self.state.responder.fixtures()
    }

    /// The operation's URL on this stub for `action_id` of its own project and cluster, with
    /// `retry_mode` when given.
    pub fn operation_url(&self, action_id: &str, retry_mode: Option<&str>) -> String {
        let f = self.fixtures();
        let spec = self.state.responder.spec();
        let request = crate::contract::request::Request {
            project_id: f.project_id.clone(),
            cluster_id: f.cluster_id.clone(),
            action_id: action_id.to_owned(),
            retry_mode: retry_mode.map(str::to_owned).into_iter().collect(),
            extra_query: Vec::new(),
            credentials: crate::contract::request::Credentials::Valid,
            method: None,
            shape: crate::contract::request::Shape::default(),
        };
        let mut url = self.base_url();
        request.write_path(spec, &mut url);
        let query = request.query_string(spec);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        url
    }

    /// Panics, naming what they did, if the clients broke a client clause of the spec (a
    /// request re-sent unchanged after a 400 or 403, a retry_mode the page does not allow, a
    /// malformed or stale signature); for a stub started watching its clients. The verdict
    /// itself is `client_summary`.
    pub fn verify(&self) {
        let summary = self.client_summary();
        let broken: Vec<String> = summary
            .clauses
            .iter()
            .filter(|(_, tally)| tally.violated > 0)
            .map(|(id, tally)| format!("{id}: {}", tally.examples.join("; ")))
            .collect();
        assert!(broken.is_empty(), "{summary}\n{}", broken.join("\n"));
    }

    /// How many requests so far named one of the stub's tasks (failed or not) as action_id:
    /// the requests that could have changed a task on a server that does not conform.
    pub fn requests_on_tasks(&self) -> u64 {
        self.state.responder.requests_on_tasks()
    }

    /// What the clients did so far (empty unless started watching).
    pub fn client_summary(&self) -> ClientSummary {
        self.state.client_summary()
    }

    /// Starts a new scope: every task as at the start, earlier refusals forgotten (so a
    /// client's next test does not inherit what the last one did).
    pub fn reset(&self) {
        self.state.reset();
    }

    /// The base URL to send requests to, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The address it listens on.
    pub fn address(&self) -> std::net::SocketAddr {
        *self.server.address()
    }
}
