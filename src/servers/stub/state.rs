//! What the server's threads share: the responder, the watch on the clients, the guesses.

use std::sync::{Arc, Mutex};

use crate::contract::spec::Spec;
use crate::fixtures::Fixtures;

use super::answer::{self, Answer, Incoming, Responder};
use super::guesses::Guesses;
use super::keys::Keys;
use super::variant::Behaviour;
use super::watch::{ClientSummary, Seen, Watch};

/// What the server's threads share.
pub(super) struct State {
    pub(super) responder: Responder,
    /// What the stub's clients did, when it watches them (`css-conformance stub`).
    pub(super) watch: Option<Mutex<Watch>>,
    /// Wrong credentials on the reset path, per client.
    pub(super) guesses: Guesses,
}

impl State {
    pub(super) fn new(
        spec: Arc<Spec>,
        fixtures: &Fixtures,
        credentials: &Keys,
        behaviour: Behaviour,
        watch: bool,
    ) -> State {
        State {
            responder: Responder::new(spec, fixtures, credentials, behaviour),
            watch: watch.then(|| Mutex::new(Watch::default())),
            guesses: Guesses::default(),
        }
    }

    /// The answer to `incoming`, the client's side of it watched.
    pub(super) fn answer(&self, incoming: &Incoming<'_>) -> Answer {
        let (answer, kind) = self.responder.answer(incoming);
        self.observe(incoming, answer.status, kind);
        answer
    }

    /// Watches a request the server refused for a limit (its body too large or too slow).
    pub(super) fn observe_refused(&self, method: &str, target: &str, status: u16) {
        let incoming = Incoming {
            method,
            target,
            headers: &[],
            body: &[],
        };
        self.observe(&incoming, status, None);
    }

    pub(super) fn observe(
        &self,
        incoming: &Incoming<'_>,
        status: u16,
        kind: Option<crate::contract::spec::Kind>,
    ) {
        if let Some(watch) = &self.watch {
            let seen = Seen::by_stub(kind, answer::signature_fault(incoming));
            watch.lock().unwrap_or_else(|e| e.into_inner()).observe(
                self.responder.spec(),
                incoming,
                status,
                &seen,
            );
        }
    }

    /// Starts a new scope: the tasks as at the start, earlier refusals forgotten.
    pub(super) fn reset(&self) {
        self.responder.reset_tasks();
        if let Some(watch) = &self.watch {
            watch.lock().unwrap_or_else(|e| e.into_inner()).reset();
        }
    }

    /// What the clients did so far (empty unless watching).
    pub(super) fn client_summary(&self) -> ClientSummary {
        let mut summary = self
            .watch
            .as_ref()
            .map_or_else(ClientSummary::default, |w| {
                w.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .summary()
                    .clone()
            });
        summary.on_tasks = self.responder.any_method_on_tasks();
        summary
    }
}
