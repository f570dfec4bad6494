//! The built-in stub: a server that answers the operation as the vendor's page says, from the
//! spec and a set of fixtures, through the one classifier. Its concepts, one file each:
//! `answer` (route, classify, respond), `deviation` (deliberate faults, layered around the
//! classifier), `watch` (the client side of the contract), `server` (a fixed listen address,
//! shutdown signals), `standalone` (the stub in a process of its own), `fixtures_file` (what
//! `css-conformance stub --fixtures FILE` reads).

mod answer;
mod deviation;
mod fixtures_file;
mod server;
mod standalone;
mod watch;

use std::sync::{Arc, Mutex};

use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};

use crate::fixtures::Fixtures;
use crate::secret::Secret;
use crate::spec::Spec;

pub use answer::{Answer, Incoming, Responder};
pub use deviation::Deviation;
pub use fixtures_file::load_fixtures;
pub use server::stopped;
pub use standalone::Standalone;
pub use watch::{ClientSummary, Watch};

/// The token the built-in stub accepts; it guards nothing, so it may be printed.
pub const STUB_TOKEN: &str = "css-conformance-stub-token";
/// The AK/SK pair the built-in stub verifies signatures with; they guard nothing either.
pub const STUB_ACCESS_KEY: &str = "AKSTUBEXAMPLE0000001";
pub const STUB_SECRET_KEY: &str = "css-conformance-stub-secret-key";

/// The credentials the stub accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Accepted as `X-Auth-Token`.
    pub token: String,
    /// The access key and secret key AK/SK signatures are verified with.
    pub access_key: String,
    pub secret_key: Secret,
}

/// The credentials the built-in stub accepts.
pub fn stub_credentials() -> Credentials {
    Credentials {
        token: STUB_TOKEN.to_owned(),
        access_key: STUB_ACCESS_KEY.to_owned(),
        secret_key: Secret::new(STUB_SECRET_KEY),
    }
}

/// What the server's threads share.
struct State {
    responder: Responder,
    /// What the stub's clients did, when it watches them (`css-conformance stub`).
    watch: Option<Mutex<Watch>>,
}

impl State {
    fn answer(&self, req: &HttpMockRequest) -> HttpMockResponse {
        let incoming = Incoming::of(req);
        let (answer, kind) = self.responder.answer(&incoming);
        if let Some(watch) = &self.watch {
            watch.lock().unwrap_or_else(|e| e.into_inner()).observe(
                self.responder.spec(),
                &incoming,
                answer.status,
                kind,
            );
        }
        answer.into_httpmock()
    }
}

/// A running built-in stub (an in-process httpmock server with one handler). Dropping it
/// returns the server to httpmock's pool.
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
        credentials: &Credentials,
        deviation: Option<Deviation>,
    ) -> Stub {
        Stub::start_watching(spec, fixtures, credentials, deviation, false).await
    }

    /// `start`, and when `watch` log each request with the stub's verdict on it and check
    /// the client side of the contract (see `client_summary`).
    pub async fn start_watching(
        spec: Arc<Spec>,
        fixtures: &Fixtures,
        credentials: &Credentials,
        deviation: Option<Deviation>,
        watch: bool,
    ) -> Stub {
        let state = Arc::new(State {
            responder: Responder::new(spec, fixtures, credentials, deviation),
            watch: watch.then(|| Mutex::new(Watch::default())),
        });
        let server = MockServer::start_async().await;
        let handler = Arc::clone(&state);
        server
            .mock_async(|_when, then| {
                then.respond_with(move |req| handler.answer(req));
            })
            .await;
        Stub { server, state }
    }

    /// How many requests so far named one of the stub's tasks (failed or not) as action_id:
    /// the requests that could have changed a task on a server that does not conform.
    pub fn requests_on_tasks(&self) -> u64 {
        self.state.responder.requests_on_tasks()
    }

    /// What the clients did so far (empty unless started watching).
    pub fn client_summary(&self) -> ClientSummary {
        let mut summary = self
            .state
            .watch
            .as_ref()
            .map_or_else(ClientSummary::default, |w| {
                w.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .summary()
                    .clone()
            });
        summary.on_tasks = self.state.responder.any_method_on_tasks();
        summary
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
