//! The target seam: where requests go (a base URL), with which credentials, and which fixture
//! IDs exist there. Steps and the fuzzer talk to a `Target`; whether the built-in stub or a
//! live endpoint is behind it, they cannot tell. Its concepts, one file each: `endpoint` (the
//! base URL and the clients that carry an exchange there), `loopback` (the lean client for
//! plain-http endpoints on this machine), `auth` (the credentials and how a request carries
//! them), `consent` (whether requests may use the failed tasks, and saying so first),
//! `politeness` (rate limit, 429s, retries), `refusals` (the memory that keeps a refused
//! request from going out again), `traffic` (what was sent), `read` (the companion read API)
//! and `curl` (a request as a command line).

mod auth;
mod consent;
mod curl;
mod endpoint;
pub mod loopback;
mod politeness;
mod read;
mod read_error;
mod refusals;
mod sending;
mod traffic;

use std::time::Duration;

use crate::config::profile::DEFAULT_TOKEN_ENV;
use crate::contract::request::Request;
use crate::contract::spec::Spec;
use crate::fixtures::{Fixtures, TaskPool};
use crate::secret::Secret;
use crate::transport::signing;

pub use crate::shown::without_userinfo;
pub use auth::Auth;
pub(crate) use endpoint::decoded;
pub use endpoint::{TargetError, TransportError, Unanswered, parse_endpoint};
pub use politeness::{Politeness, Transport};
pub use read_error::ReadError;

/// Every task of the cluster the read API lists, by ID, as read.
pub(crate) type Cluster = std::collections::BTreeMap<String, crate::contract::spec::TaskRead>;
pub use crate::records::traffic::Traffic;

use auth::Signer;
use consent::Consent;
use endpoint::Endpoint;
use politeness::Pacer;
use refusals::Refusals;
use traffic::Counters;

/// A configured endpoint to check.
#[derive(Debug)]
pub struct Target {
    name: String,
    /// A stub started for the run alone (gone with it): its URLs reach nothing afterwards.
    ephemeral: bool,
    endpoint: Endpoint,
    auth: Auth,
    /// The variable the token comes from, named in cURL reproductions.
    token_env: String,
    fixtures: Fixtures,
    /// The fixtures' listed failed tasks, to look one up without reading the whole list (the
    /// fuzzer asks for every case).
    listed_failed: std::collections::HashSet<String>,
    pool: TaskPool,
    consent: Consent,
    pacer: Pacer,
    /// Answers of 400 and 403 by request, so that the same request is never sent again
    /// (the page says a client should not repeat it); off for the built-in stub.
    refusals: Option<Refusals>,
    traffic: Counters,
    observation: Observation,
    /// Where the read API last listed each task: the listing (0: the default one) and the
    /// offset of the page.
    listing_of: std::sync::Mutex<std::collections::BTreeMap<String, (usize, u64)>>,
    /// The real tasks known to be out of the failed state (accepted with 200, or read so): a
    /// request on one of them is one a conforming server refuses, safe to send again.
    not_failed: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The real tasks a request of this run may have used: accepted with 200, or met a
    /// transient answer that may have acted (for the ledger of used tasks).
    used: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Set when the run is interrupted: nothing more is sent.
    interrupted: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How a target's effects are observed.
#[derive(Debug, Clone, Copy, Default)]
struct Observation {
    /// Whether the target serves the read API, to read a task's status around requests.
    read_api: bool,
    /// How long an effect may take to land: waited before the request that follows refused
    /// ones on a task, and the longest a read is polled for a change.
    settle: Duration,
    /// The most pages of one listing read for a task (0: the default).
    read_pages: u32,
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
        Ok(Target {
            name: name.into(),
            ephemeral: false,
            endpoint: Endpoint::connect(base_url, transport)?,
            auth,
            token_env: DEFAULT_TOKEN_ENV.to_owned(),
            pool: TaskPool::new(&fixtures),
            listed_failed: fixtures.failed_action_ids.iter().cloned().collect(),
            fixtures,
            consent: Consent::live(),
            pacer: Pacer::default(),
            refusals: Some(Refusals::default()),
            traffic: Counters::default(),
            observation: Observation::default(),
            listing_of: std::sync::Mutex::default(),
            not_failed: std::sync::Mutex::default(),
            used: std::sync::Mutex::default(),
            interrupted: std::sync::Arc::default(),
        })
    }

    /// The IDs known to exist on the target.
    pub fn fixtures(&self) -> &Fixtures {
        &self.fixtures
    }

    /// Whether `task` is a failed task of the fixtures: listed, or of the generated family
    /// where the target holds it.
    pub(crate) fn fixture_failed(&self, task: &str) -> bool {
        self.fixtures
            .failed_given(task, |t| self.listed_failed.contains(t))
    }

    /// Whether `id` names a task or the cluster of the fixtures (`Fixtures::knows`, looked up).
    fn knows(&self, id: &str) -> bool {
        self.fixtures
            .knows_given(id, |t| self.listed_failed.contains(t))
    }

    /// A target that lives only as long as the run (the built-in stub).
    pub(crate) fn ephemeral(mut self) -> Target {
        self.ephemeral = true;
        self
    }

    /// Whether it lives only as long as the run.
    pub(crate) fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }

    /// Sends as `politeness` says.
    pub fn with_politeness(mut self, politeness: Politeness) -> Target {
        self.pacer.set(politeness);
        self
    }

    /// Whether a 5xx or a network error is retried (within the run's budget); off while
    /// shrinking, where a 5xx is an answer like another.
    pub(crate) fn retry_failures(&self, retry: bool) {
        self.pacer.allow_retries(retry);
    }

    /// The flag that stops the target's sending, for whoever handles an interruption.
    pub fn interruption(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        std::sync::Arc::clone(&self.interrupted)
    }

    /// Names the variable the token comes from in cURL reproductions.
    pub(crate) fn with_token_env(mut self, var: &str) -> Target {
        var.clone_into(&mut self.token_env);
        self
    }

    /// Before the first request that uses a real failed task, says on stderr what will be
    /// sent (credentials never shown).
    pub(crate) fn announce_mutation(&self, spec: &Spec, request: &Request, what: &str) {
        if self.consent.first_to_announce() {
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
        if self.consent.announce && !lines.is_empty() {
            eprintln!(
                "css-conformance: the failed tasks of {}, as a conforming server would have them used:",
                self.name
            );
            for line in lines {
                eprintln!("  {line}");
            }
        }
    }

    /// Lets requests use the target's failed tasks.
    pub fn allow_mutations(mut self, allowed: bool) -> Target {
        self.consent.allowed = allowed;
        self
    }

    /// A target whose tasks are the tool's own (the built-in stub): mutations allowed, nothing
    /// to announce, and no memory of refusals (tests send what they need).
    pub fn owned_by_us(mut self) -> Target {
        self.consent = Consent::owned();
        self.refusals = None;
        self
    }

    /// Whether its tasks are the tool's own (the built-in stub): a case that uses a failed task
    /// may then be sent again with a fresh one, to see whether a finding reproduces.
    pub(crate) fn is_owned_by_us(&self) -> bool {
        self.consent.owned
    }

    pub fn mutations_allowed(&self) -> bool {
        self.consent.allowed
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

    /// Whether a request of this run may have named `task`: the task not failed the user
    /// gave, or a failed task the run took (handed out to a scenario, the fuzzer or the
    /// refusals). A failed task still waiting in the pool was named by nothing.
    pub(crate) fn named_by_the_run(&self, task: &str) -> bool {
        let f = &self.fixtures;
        if f.not_failed_action_id.as_deref() == Some(task) {
            return true;
        }
        if self.listed_failed.contains(task) {
            return !self.pool.holds(task);
        }
        f.generated_failed_tasks && crate::fixtures::generated_failed_task_index(task).is_some()
    }

    /// Takes a failed task that no other scenario of this run has used.
    pub(crate) fn take_failed_task(&self) -> Option<String> {
        self.pool.take()
    }

    /// Notes what a read or an answer showed of a real task: failed or not.
    pub(crate) fn note_task(&self, task: &str, failed: bool) {
        if let Ok(mut known) = self.not_failed.lock() {
            if failed {
                known.remove(task);
            } else if self.knows(task) && known.len() < 10_000 {
                known.insert(task.to_owned());
            }
        }
    }

    /// Notes that a request may have used `task` (accepted, or its answer lost).
    pub(crate) fn note_used(&self, task: &str) {
        if self.knows(task)
            && let Ok(mut used) = self.used.lock()
        {
            used.insert(task.to_owned());
        }
    }

    /// The real tasks a request of this run may have used, in order.
    pub(crate) fn used_tasks(&self) -> Vec<String> {
        let mut used: Vec<String> = self
            .used
            .lock()
            .map(|u| u.iter().cloned().collect())
            .unwrap_or_default();
        used.sort_unstable();
        used
    }

    /// Whether a real task is known to be out of the failed state.
    fn known_not_failed(&self, task: &str) -> bool {
        self.not_failed.lock().is_ok_and(|k| k.contains(task))
    }

    /// The URL a request goes to (AK/SK signing puts the query in canonical order).
    pub fn url(&self, spec: &Spec, request: &Request) -> String {
        self.endpoint.url_of(&self.request_target(spec, request))
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
        let mut path = self.endpoint.prefix.clone();
        request.write_path(spec, &mut path);
        path
    }
}

impl Target {
    /// The headers the tool sets on `request`: those that authenticate it (signed at `now`
    /// where AK/SK signs, over its body), then those of its shape (a method-override header;
    /// a body's content type).
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
        let signer = Signer {
            host: &self.endpoint.host,
            project_id: &self.fixtures.project_id,
        };
        let shape = &request.shape;
        let content_type = shape.body.as_ref().and_then(|(t, _)| t.as_deref());
        let message = auth::Message {
            path: &path,
            query: &query,
            body: request.body(),
            content_type,
        };
        let mut headers = self.auth.headers(
            &signer,
            request.method(spec),
            &message,
            request.credentials,
            now,
        );
        // A signature names the body's content type itself; a token does not.
        let typed = headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        if let (Some(t), false) = (content_type, typed) {
            headers.push(("Content-Type".to_owned(), Secret::new(t)));
        }
        for (name, value) in &shape.headers {
            headers.push((name.clone(), Secret::new(value.as_str())));
        }
        headers
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
            host: &self.endpoint.host,
            project_id: &self.fixtures.project_id,
        };
        let message = auth::Message {
            path,
            query,
            body: b"",
            content_type: None,
        };
        self.auth
            .headers(&signer, method, &message, credentials, now)
    }

    /// What the politeness layer did so far.
    pub fn traffic(&self) -> Traffic {
        self.traffic.snapshot()
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
    fn a_failed_task_is_looked_up_as_the_fixtures_list_it() {
        let mut fixtures = Fixtures::builtin();
        fixtures.failed_action_ids = vec!["t-1".to_owned(), "t-2".to_owned()];
        fixtures.generated_failed_tasks = false;
        let listed = Target::new("x", "http://127.0.0.1:9", Auth::None, fixtures.clone()).unwrap();
        let generated = crate::fixtures::generated_failed_task(7);
        for (id, failed) in [
            ("t-1", true),
            ("t-2", true),
            ("t-3", false),
            (&generated, false),
        ] {
            assert_eq!(listed.fixture_failed(id), failed, "{id}");
            assert_eq!(listed.knows(id), fixtures.knows(id), "{id}");
        }
        // The cluster and the task not failed are known, but not failed.
        let not_failed = fixtures.not_failed_action_id.clone().unwrap();
        for id in [&fixtures.cluster_id, &not_failed] {
            assert!(listed.knows(id) && !listed.fixture_failed(id), "{id}");
        }
        fixtures.generated_failed_tasks = true;
        let family = Target::new("x", "http://127.0.0.1:9", Auth::None, fixtures).unwrap();
        assert!(family.fixture_failed(&generated) && family.knows(&generated));
        assert!(!family.fixture_failed("t-3"));
    }

    #[test]
    fn the_used_tasks_come_in_order() {
        let target =
            Target::new("x", "http://127.0.0.1:9", Auth::None, Fixtures::builtin()).unwrap();
        let tasks = &target.fixtures().failed_action_ids;
        for task in [&tasks[3], &tasks[1], &tasks[2], &tasks[1]] {
            target.note_used(task);
        }
        target.note_used("not-a-task-of-the-fixtures");
        assert_eq!(target.used_tasks(), [&tasks[1..4]].concat());
    }

    #[test]
    fn rejects_an_endpoint_that_is_not_http() {
        let err = Target::new("x", "ftp://example", Auth::None, Fixtures::builtin()).unwrap_err();
        assert!(err.to_string().contains("ftp://example"), "{err}");
    }
}
