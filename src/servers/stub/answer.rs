//! How the stub answers a request: route it, take it apart, ask the one classifier what kind
//! it is, and answer with the spec's first outcome for that kind. The deviations are applied
//! around the classifier (see `deviation`), and a task it accepted is spent. Independent of
//! any HTTP server library: the server hands in the method, target, headers and body.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::contract::classify::{self, Identity, Parts, Site, TaskState};
use crate::contract::request::TOKEN_HEADER;
use crate::contract::spec::{IdParam, Kind, Spec};
use crate::fixtures::Fixtures;
use crate::transport::signing;

use super::deviation::Deviation;
use super::keys::Keys;
use super::variant::{self, Behaviour, Variant, Variants};

mod read_api;
mod tasks;

use tasks::{Task, Tasks};

/// What the stub answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<&'static str>,
    pub body: String,
    /// The methods a 405 names in `Allow` (RFC 9110 requires the header).
    pub allow: Option<String>,
    /// Headers a variant adds (`Retry-After` of the flaky gateway, `X-Request-Id`).
    pub extra_headers: Vec<(&'static str, String)>,
}

impl Answer {
    /// As httpmock sends it.
    pub fn into_httpmock(self) -> httpmock::HttpMockResponse {
        let mut response = httpmock::HttpMockResponse::builder().status(self.status);
        if let Some(allow) = &self.allow {
            response = response.header("allow", allow);
        }
        for (name, value) in &self.extra_headers {
            response = response.header(*name, value);
        }
        if let Some(content_type) = self.content_type {
            response = response
                .header("content-type", content_type)
                .body(self.body);
        }
        response.build()
    }

    fn empty(status: u16) -> Answer {
        Answer {
            status,
            content_type: None,
            body: String::new(),
            allow: None,
            extra_headers: Vec::new(),
        }
    }

    fn json(status: u16, body: String) -> Answer {
        Answer {
            status,
            content_type: Some("application/json"),
            body,
            allow: None,
            extra_headers: Vec::new(),
        }
    }

    fn plain(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: Some("text/plain"),
            body: body.to_owned(),
            allow: None,
            extra_headers: Vec::new(),
        }
    }
}

/// A request as the server got it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub method: &'a str,
    /// The request target: path and query, or an absolute URI.
    pub target: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl<'a> Incoming<'a> {
    /// A request as httpmock received it.
    pub fn of(req: &'a httpmock::HttpMockRequest) -> Incoming<'a> {
        Incoming {
            method: req.method_str(),
            target: req.uri_str(),
            headers: req.headers_vec(),
            body: req.body_ref(),
        }
    }
}

/// The doors of the grammar's families a stub acting through `family` acts through (every
/// family's without one), as a target reached with AK/SK and a project of another account
/// would send them.
fn through_doors(
    spec: &Spec,
    fixtures: &Fixtures,
    family: Option<u16>,
) -> Vec<crate::contract::doors::Door> {
    let foreign = fixtures
        .foreign_project_id
        .clone()
        .unwrap_or_else(|| crate::fixtures::UNKNOWN_PROJECT_ID.to_owned());
    let reach = crate::contract::doors::Reach {
        aksk: true,
        foreign_project: Some(&foreign),
    };
    let name = family.and_then(|i| spec.families().nth(usize::from(i)).map(|(n, _)| n));
    crate::contract::doors::of_spec(spec, reach)
        .unwrap_or_default()
        .into_iter()
        .filter(|d| name.is_none() || d.family == name)
        .collect()
}

/// The stub's answering side: spec, fixtures, the credentials it accepts, its deviation and
/// the state of its tasks.
pub struct Responder {
    spec: std::sync::Arc<Spec>,
    fixtures: Fixtures,
    credentials: Keys,
    deviation: Option<Deviation>,
    variants: Variants,
    /// With `Deviation::ActsThrough`: the doors of the families it acts through.
    through: Vec<crate::contract::doors::Door>,
    tasks: Mutex<Tasks>,
    /// Requests so far, for the flaky gateway's turn.
    requests: AtomicU64,
    /// Requests that named one of the stub's tasks, whatever came of them.
    on_tasks: AtomicU64,
    /// The same, with any method.
    any_method_on_tasks: AtomicU64,
}

impl Responder {
    pub fn new(
        spec: std::sync::Arc<Spec>,
        fixtures: &Fixtures,
        credentials: &Keys,
        behaviour: Behaviour,
    ) -> Responder {
        let through = match behaviour.deviation {
            Some(Deviation::ActsThrough) => through_doors(&spec, fixtures, behaviour.through),
            _ => Vec::new(),
        };
        Responder {
            spec,
            tasks: Mutex::new(Tasks::new(fixtures, behaviour.variants)),
            fixtures: fixtures.clone(),
            credentials: credentials.clone(),
            deviation: behaviour.deviation,
            variants: behaviour.variants,
            through,
            requests: AtomicU64::new(0),
            on_tasks: AtomicU64::new(0),
            any_method_on_tasks: AtomicU64::new(0),
        }
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// What it serves.
    pub fn fixtures(&self) -> &Fixtures {
        &self.fixtures
    }

    /// Puts every task back in its state at the start.
    pub(crate) fn reset_tasks(&self) {
        *self.tasks.lock().unwrap_or_else(|e| e.into_inner()) =
            Tasks::new(&self.fixtures, self.variants);
    }

    /// The conforming variants it answers in.
    pub(crate) fn variants(&self) -> Variants {
        self.variants
    }

    /// Whether `req` presents credentials the stub accepts.
    pub fn authenticates(&self, req: &Incoming<'_>) -> bool {
        self.credentials.judge(req) == Identity::Valid
    }

    /// How many requests of the operation so far named one of the stub's tasks as action_id.
    pub fn requests_on_tasks(&self) -> u64 {
        self.on_tasks.load(Ordering::SeqCst)
    }

    /// How many requests on the operation's path, with any method, named one of its tasks.
    pub(crate) fn any_method_on_tasks(&self) -> u64 {
        self.any_method_on_tasks.load(Ordering::SeqCst)
    }

    /// The stub's answer to `req`, and the kind of request it took it for (none when it is
    /// not this operation's path, the gateway answered, or a deviation failed before
    /// classifying it).
    pub fn answer(&self, req: &Incoming<'_>) -> (Answer, Option<Kind>) {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let (answer, kind) = self.answer_unvaried(req, n);
        (self.as_varied(answer, n), kind)
    }

    /// The answer to the `n`th request, before the variants that dress every answer
    /// (`X-Request-Id`).
    fn answer_unvaried(&self, req: &Incoming<'_>, n: u64) -> (Answer, Option<Kind>) {
        if self.variants.has(Variant::FlakyGateway)
            && let Some(answer) = self.gateway(n)
        {
            return (answer, None);
        }
        let (path, query) = classify::split_target(req.target);
        if let Some(answer) = self.read(req, path, query) {
            return (answer, None);
        }
        let mut parts = match self.routed(req, path, query) {
            Ok(parts) => parts,
            Err(answer) => return (answer, None),
        };
        let names_a_task = self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .state(parts.id(IdParam::Action))
            .is_some();
        if names_a_task {
            self.any_method_on_tasks.fetch_add(1, Ordering::SeqCst);
        }
        // Another method is answered as such before anything else is looked at.
        if parts.method == self.spec.operation.method
            || self.deviation == Some(Deviation::RetriesOnAnyMethod)
        {
            if names_a_task {
                self.on_tasks.fetch_add(1, Ordering::SeqCst);
            }
            parts.identity = self.credentials.judge(req);
            if let Some(status) = self.deviation.and_then(|d| d.fails_first(&parts.ids, path)) {
                return (Answer::plain(status, "internal server error"), None);
            }
        }
        let own = [
            self.fixtures.project_id.as_str(),
            self.fixtures.cluster_id.as_str(),
        ];
        if let Some(d) = self.deviation {
            d.distort(&self.spec, own, &mut parts);
        }
        let aborts = !parts.retry_mode.is_empty();
        let (kind, accepted) = self.classify_and_act(&parts, own);
        let answered_as = self
            .deviation
            .map_or(kind, |d| d.answer_as(kind, accepted, aborts));
        (self.respond(answered_as), Some(kind))
    }

    /// The kind of request `parts` is, told against the stub's tasks (as its deviation sees
    /// them), and what it does to the task it names; whether its kind is accepted.
    fn classify_and_act(&self, parts: &Parts, own: [&str; 2]) -> (Kind, bool) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.land();
        let aborts = !parts.retry_mode.is_empty();
        let other_kind_second = self.deviation == Some(Deviation::AcceptsOtherKindSecond);
        let state = |id: &str| {
            let state = tasks.state(id);
            // The task was retried and this is an abort, or the other way round.
            let second = match tasks.listed.get(id) {
                Some(Task::Retrying) => aborts,
                Some(Task::Aborted) => !aborts,
                _ => false,
            };
            if other_kind_second && second {
                return Some(TaskState::Failed);
            }
            self.deviation.map_or(state, |d| d.task_state(state))
        };
        let site = Site {
            project_id: own[0],
            cluster_id: own[1],
            task: &state,
        };
        let kind = classify::classify(&self.spec, &site, parts);
        let accepted = self.spec.expectation(kind).served_by_the_stub();
        let through = !accepted
            && self
                .through
                .iter()
                .any(|d| d.seen_in(&self.spec, parts, kind));
        self.act(
            &mut tasks,
            kind,
            accepted || through,
            aborts,
            parts.id(IdParam::Action),
        );
        (kind, accepted)
    }

    /// The parts of the request the gateway routes to the operation, or the gateway's answer
    /// (no route to a path not the operation's, or with an empty segment).
    fn routed<'a>(
        &self,
        req: &Incoming<'a>,
        path: &'a str,
        query: &'a str,
    ) -> Result<Parts<'a>, Answer> {
        let Some(parts) = Parts::of_split(&self.spec, req.method, path, query, Identity::Valid)
        else {
            return Err(Answer::plain(404, "no such resource"));
        };
        let names = req.headers.iter().map(|(n, _)| n.as_str());
        let mut parts = parts.with_message(names, req.body);
        // A server that routes on the raw path compares the IDs as they came.
        if self.variants.has(Variant::RawPath)
            && let Some(ids) = classify::route_raw(&self.spec.operation.path, path)
        {
            parts.ids = ids;
        }
        // The gateway does not route a path with an empty segment to the operation.
        if parts.has_empty_segment()
            && let Some(status) = self.spec.gateway_statuses_for_empty_segments.first()
        {
            return Err(Answer::plain(*status, "no route"));
        }
        Ok(parts)
    }

    /// What a request of `kind` does to the task it names (`named`), as the stub (and its
    /// deviation) acts: a conforming stub spends a failed task only on what it accepts.
    fn act(&self, tasks: &mut Tasks, kind: Kind, accepted: bool, aborts: bool, named: &str) {
        // The task the request names, as a server that acts on what it refuses finds it.
        let action = match tasks.state(named) {
            Some(_) => named.to_owned(),
            None => tasks.named(named).unwrap_or_else(|| named.to_owned()),
        };
        let acts = self.deviation.map_or(accepted, |d| d.acts(kind, accepted));
        // An abort that runs the task leaves it as a retry would.
        let as_abort = aborts && self.deviation != Some(Deviation::AbortRunsTask);
        if acts && tasks.state(&action) == Some(TaskState::Failed) {
            tasks.spend(&action, as_abort);
            if self.deviation == Some(Deviation::ActsOnNeighbour)
                && let Some(neighbour) = tasks.failed_neighbour(&action)
            {
                tasks.spend(&neighbour, false);
            }
        }
        if let Some(after) = self.deviation.and_then(|d| d.acts_late(kind, accepted))
            && tasks.state(&action) == Some(TaskState::Failed)
        {
            tasks
                .late
                .push((Instant::now() + after, action.clone(), as_abort));
        }
    }

    /// The spec's answer for a `kind` request, as this stub's deviation distorts it; a 405
    /// names the operation's method in `Allow`.
    fn respond(&self, kind: Kind) -> Answer {
        let mut answer = self.respond_body(kind);
        if answer.status == 405 {
            answer.allow = Some(self.spec.operation.method.clone());
        }
        answer
    }

    fn respond_body(&self, kind: Kind) -> Answer {
        let expectation = self.spec.expectation(kind);
        // The case's code as the variants choose it, with its status in the vendor's table.
        let codes = &expectation.codes;
        let code = match self.variants.code_of(kind) {
            Some(chosen) => codes.iter().find(|c| *c == chosen),
            None => codes.get(self.variants.code_index(codes.len())),
        }
        .and_then(|c| self.spec.error_code(c));
        let status = code.map_or(expectation.outcomes[0].status, |c| c.status);
        let status = self.deviation.map_or(status, |d| d.status(kind, status));
        if self.deviation == Some(Deviation::BareErrors) && status >= 400 {
            return Answer::empty(status);
        }
        let Some(code) = code else {
            return if self.deviation == Some(Deviation::BodyOnSuccess) {
                Answer::json(status, r#"{"result":"success"}"#.to_owned())
            } else {
                Answer::empty(status)
            };
        };
        let body = if self.variants.has(Variant::VerboseErrors) {
            serde_json::json!({
                "error_code": code.code,
                "error_msg": format!("{} (Anfrage abgelehnt: 请求被拒绝)", code.meaning),
                "request_id": format!("{:032x}", self.requests.load(Ordering::Relaxed)),
                "encoded_authorization_message": null,
                "details": [],
            })
        } else {
            serde_json::json!({ "error_code": code.code, "error_msg": code.meaning })
        };
        Answer::json(status, body.to_string())
    }

    /// The flaky gateway's answer to the `n`th request, if it answers it: before the service
    /// sees the request (nothing is acted on, nothing classified).
    fn gateway(&self, n: u64) -> Option<Answer> {
        let (status, retry_after, body) = variant::gateway_answer(n)?;
        let mut answer = if body.starts_with('{') {
            Answer::json(status, body.to_owned())
        } else {
            Answer {
                content_type: Some("text/html"),
                ..Answer::plain(status, body)
            }
        };
        if let Some(wait) = retry_after {
            answer.extra_headers.push(("retry-after", wait.to_owned()));
        }
        Some(answer)
    }

    /// `answer` as the variants dress every answer.
    fn as_varied(&self, mut answer: Answer, n: u64) -> Answer {
        if self.variants.has(Variant::VerboseErrors) {
            answer
                .extra_headers
                .push(("x-request-id", format!("{n:032x}")));
        }
        answer
    }
}

/// What is wrong with an AK/SK request's signature as such, if anything: no signature of the
/// vendor's form, or an X-Sdk-Date missing, malformed or too far from now (a wrong or unknown
/// key is the credentials', not the signature's form). None for a request without
/// `Authorization`.
pub fn signature_fault(req: &Incoming<'_>) -> Option<&'static str> {
    if !req
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    {
        return None;
    }
    match signing::form_fault(req.headers, time::OffsetDateTime::now_utc())? {
        signing::Rejection::Malformed => Some("no Authorization of the SDK-HMAC-SHA256 form"),
        signing::Rejection::BadDate => Some("X-Sdk-Date missing or malformed"),
        _ => Some("X-Sdk-Date more than 15 minutes from now"),
    }
}

impl Keys {
    /// The credentials a request presents: a token, or an AK/SK signature checked as the
    /// vendor's gateway does (including `X-Sdk-Date` within 15 minutes).
    pub fn judge(&self, req: &Incoming<'_>) -> Identity {
        // Every request comes here: its headers are looked up as they are, copied only to
        // verify a signature.
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        if header("authorization").is_some() {
            let (path, query) = classify::split_target(req.target);
            return match self.verify(req, path, query) {
                Ok(()) => Identity::Valid,
                Err(_) => Identity::Invalid,
            };
        }
        match header(TOKEN_HEADER) {
            None => Identity::Nothing,
            Some(t) if self.token.matches(t) => Identity::Valid,
            Some(_) => Identity::Invalid,
        }
    }

    /// Verifies an AK/SK request's signature as the vendor's gateway does (`X-Sdk-Date`
    /// within 15 minutes included).
    fn verify(
        &self,
        req: &Incoming<'_>,
        path: &str,
        query: &str,
    ) -> Result<(), signing::Rejection> {
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        let host = headers
            .iter()
            .find(|(k, _)| k == "host")
            .map_or("", |(_, v)| v.as_str());
        let pairs: Vec<(String, String)> = classify::query_pairs(query)
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        let unsigned = signing::Unsigned {
            method: req.method,
            host,
            path,
            query: &pairs,
            headers: &headers,
            body: req.body,
        };
        let c = self;
        let sk = |ak: &str| (ak == c.access_key).then(|| c.secret_key.clone());
        signing::verify(&unsigned, time::OffsetDateTime::now_utc(), sk)
    }
}
