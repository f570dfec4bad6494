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
pub use stopping::{Stopped, stopped};
pub use variant::{Behaviour, Variant, Variants};
pub use watch::{ClientSummary, Seen, Tally, Watch};

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

/// What a stub will be (`Stub::builder`).
#[derive(Default)]
pub struct Builder {
    spec: Option<Arc<Spec>>,
    fixtures: Option<Fixtures>,
    keys: Option<Keys>,
    behaviour: Behaviour,
    watch: bool,
}

impl Builder {
    /// The contract it answers from (default: the embedded spec).
    pub fn spec(mut self, spec: Arc<Spec>) -> Builder {
        self.spec = Some(spec);
        self
    }

    /// Its project, cluster and tasks (default: `Fixtures::builtin()`).
    pub fn fixtures(mut self, fixtures: Fixtures) -> Builder {
        self.fixtures = Some(fixtures);
        self
    }

    /// The credentials it accepts (default: `stub_keys()`).
    pub fn keys(mut self, keys: Keys) -> Builder {
        self.keys = Some(keys);
        self
    }

    /// A deliberate deviation (default: none, conforming).
    pub fn deviation(mut self, deviation: Option<Deviation>) -> Builder {
        self.behaviour.deviation = deviation;
        self
    }

    /// Its deviation, conforming variants and the family it acts through, at once.
    pub fn behaviour(mut self, behaviour: Behaviour) -> Builder {
        self.behaviour = behaviour;
        self
    }

    /// Whether it logs each request with its verdict and checks the client side of the
    /// contract (see `Stub::client_summary`).
    pub fn watching(mut self, watch: bool) -> Builder {
        self.watch = watch;
        self
    }

    fn state(self) -> Arc<State> {
        let spec = self.spec.unwrap_or_else(|| Arc::new(Spec::embedded()));
        let fixtures = self.fixtures.unwrap_or_else(Fixtures::builtin);
        let keys = self.keys.unwrap_or_else(stub_keys);
        Arc::new(State::new(
            spec,
            &fixtures,
            &keys,
            self.behaviour,
            self.watch,
        ))
    }

    /// Starts it in process (an httpmock server from its pool, returned when the stub is
    /// dropped).
    pub async fn start(self) -> Stub {
        let state = self.state();
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

    /// Serves it on `addr` within `limits`, in HTTP/1.1 of its own (`css-conformance stub`).
    pub async fn serve(
        self,
        addr: std::net::SocketAddr,
        limits: Limits,
    ) -> std::io::Result<Served> {
        Served::start(self.state(), addr, limits).await
    }
}

impl Stub {
    /// A stub to configure, then start (in process) or serve (on an address of its own), as
    /// wiremock's `MockServer::builder()`: by default the embedded spec, the built-in fixtures
    /// and credentials, conforming, not watching its clients.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A conforming stub for a client team's tests: the built-in fixtures and credentials
    /// (`STUB_TOKEN`, `STUB_ACCESS_KEY`/`STUB_SECRET_KEY`), watching its clients.
    pub async fn start_for_clients() -> Stub {
        Stub::builder().watching(true).start().await
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
