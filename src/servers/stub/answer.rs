//! How the stub answers a request: route it, take it apart, ask the one classifier what kind
//! it is, and answer with the spec's first outcome for that kind. The deviations are applied
//! around the classifier (see `deviation`), and a task it accepted is spent. Independent of
//! any HTTP server library: the server hands in the method, target, headers and body.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::contract::classify::{self, Identity, Parts, Site, TaskState};
use crate::contract::request::TOKEN_HEADER;
use crate::contract::spec::{IdParam, Kind, Spec};
use crate::fixtures::{self, Fixtures};
use crate::transport::signing;

use super::deviation::Deviation;
use super::keys::Keys;

/// What the stub answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<&'static str>,
    pub body: String,
    /// The methods a 405 names in `Allow` (RFC 9110 requires the header).
    pub allow: Option<String>,
}

impl Answer {
    /// As httpmock sends it.
    pub fn into_httpmock(self) -> httpmock::HttpMockResponse {
        let mut response = httpmock::HttpMockResponse::builder().status(self.status);
        if let Some(allow) = &self.allow {
            response = response.header("allow", allow);
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
        }
    }

    fn json(status: u16, body: String) -> Answer {
        Answer {
            status,
            content_type: Some("application/json"),
            body,
            allow: None,
        }
    }

    fn plain(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: Some("text/plain"),
            body: body.to_owned(),
            allow: None,
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

/// The state of the stub's own tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    Failed,
    Retrying,
    Aborted,
    Running,
}

/// The listed tasks by state, and which generated failed tasks have been spent (a bit each,
/// so the stub's memory does not grow with the number of requests).
struct Tasks {
    listed: BTreeMap<String, Task>,
    generated_spent: Vec<u64>,
    /// Effects still to land: when, on which task, whether as an abort.
    late: Vec<(Instant, String, bool)>,
    /// Each listed task's state before its last change, and when it changed (for a read API
    /// that shows a change late).
    before: BTreeMap<String, (Task, Instant)>,
}

impl Tasks {
    fn new(fixtures: &Fixtures) -> Tasks {
        let mut listed: BTreeMap<String, Task> = fixtures
            .failed_action_ids
            .iter()
            .map(|id| (id.clone(), Task::Failed))
            .collect();
        if let Some(id) = &fixtures.not_failed_action_id {
            listed.insert(id.clone(), Task::Running);
        }
        Tasks {
            listed,
            late: Vec::new(),
            before: BTreeMap::new(),
            generated_spent: if fixtures.generated_failed_tasks {
                vec![0; (fixtures::GENERATED_FAILED_TASKS / 64) as usize]
            } else {
                Vec::new()
            },
        }
    }

    /// The state of `id`, if the stub holds such a task.
    fn state(&self, id: &str) -> Option<TaskState> {
        if let Some(task) = self.listed.get(id) {
            return Some(if *task == Task::Failed {
                TaskState::Failed
            } else {
                TaskState::NotFailed
            });
        }
        let n = fixtures::generated_failed_task_index(id)?;
        let word = self.generated_spent.get((n / 64) as usize)?;
        Some(if word & (1 << (n % 64)) == 0 {
            TaskState::Failed
        } else {
            TaskState::NotFailed
        })
    }

    /// Lands the late effects that are due.
    fn land(&mut self) {
        let now = Instant::now();
        let due: Vec<(String, bool)> = self
            .late
            .iter()
            .filter(|(at, _, _)| *at <= now)
            .map(|(_, id, abort)| (id.clone(), *abort))
            .collect();
        self.late.retain(|(at, _, _)| *at > now);
        for (id, abort) in due {
            if self.state(&id) == Some(TaskState::Failed) {
                self.spend(&id, abort);
            }
        }
    }

    /// The state of a listed task as a read API `lag` late shows it.
    fn shown(&self, id: &str, state: Task, lag: Duration) -> Task {
        match self.before.get(id) {
            Some((old, at)) if at.elapsed() < lag => *old,
            _ => state,
        }
    }

    /// The task a malformed ID names, as a careless server finds it: the ID in lower case and
    /// without the spaces around it.
    fn named(&self, id: &str) -> Option<String> {
        let id = id.trim().to_ascii_lowercase();
        self.state(&id).is_some().then_some(id)
    }

    /// Takes a failed task out of the failed state.
    fn spend(&mut self, id: &str, abort: bool) {
        if let Some(state) = self.listed.get_mut(id) {
            self.before.insert(id.to_owned(), (*state, Instant::now()));
            *state = if abort { Task::Aborted } else { Task::Retrying };
        } else if let Some(n) = fixtures::generated_failed_task_index(id)
            && let Some(word) = self.generated_spent.get_mut((n / 64) as usize)
        {
            *word |= 1 << (n % 64);
        }
    }
}

/// The stub's answering side: spec, fixtures, the credentials it accepts, its deviation and
/// the state of its tasks.
pub struct Responder {
    spec: std::sync::Arc<Spec>,
    fixtures: Fixtures,
    credentials: Keys,
    deviation: Option<Deviation>,
    tasks: Mutex<Tasks>,
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
        deviation: Option<Deviation>,
    ) -> Responder {
        Responder {
            spec,
            tasks: Mutex::new(Tasks::new(fixtures)),
            fixtures: fixtures.clone(),
            credentials: credentials.clone(),
            deviation,
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
        *self.tasks.lock().unwrap_or_else(|e| e.into_inner()) = Tasks::new(&self.fixtures);
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
        let (path, query) = classify::split_target(req.target);
        if let Some(answer) = self.read(req, path, query) {
            return (answer, None);
        }
        let Some(mut parts) = Parts::of_split(&self.spec, req.method, path, query, Identity::Valid)
        else {
            return (Answer::plain(404, "no such resource"), None);
        };
        // The gateway does not route a path with an empty segment to the operation.
        if parts.has_empty_segment()
            && let Some(status) = self.spec.gateway_statuses_for_empty_segments.first()
        {
            return (Answer::plain(*status, "no route"), None);
        }
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
        let kind = classify::classify(&self.spec, &site, &parts);
        let accepted = self.spec.expectation(kind).accepts();
        self.act(
            &mut tasks,
            kind,
            accepted,
            aborts,
            parts.id(IdParam::Action),
        );
        drop(tasks);
        let answered_as = self
            .deviation
            .map_or(kind, |d| d.answer_as(kind, accepted, aborts));
        (self.respond(answered_as), Some(kind))
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
        }
        if let Some(after) = self.deviation.and_then(|d| d.acts_late(kind, accepted))
            && tasks.state(&action) == Some(TaskState::Failed)
        {
            tasks
                .late
                .push((Instant::now() + after, action.clone(), as_abort));
        }
    }

    /// The read API's answer, if `path` is its path: the stub's listed tasks with their
    /// status (a task retried is RUNNING; one aborted, ABORTED, since the vendor lists no
    /// status for a terminated task; one that is not failed, RUNNING).
    fn read(&self, req: &Incoming<'_>, path: &str, query: &str) -> Option<Answer> {
        let api = &self.spec.read_api;
        fn param(t: &str) -> Option<&str> {
            t.strip_prefix('{').and_then(|t| t.strip_suffix('}'))
        }
        // Every request comes here first: a path that is not the read API's is told apart
        // before anything is decoded or kept, most by their last segment alone.
        if let Some(last) = api.path.rsplit('/').next().filter(|t| param(t).is_none())
            && path.rsplit('/').next().is_none_or(|a| a != last)
        {
            return None;
        }
        let mut actual = path.split('/');
        let is_read = api
            .path
            .split('/')
            .all(|t| actual.next().is_some_and(|a| t == a || param(t).is_some()))
            && actual.next().is_none();
        if !is_read {
            return None;
        }
        let ids: BTreeMap<&str, Cow<'_, str>> = api
            .path
            .split('/')
            .zip(path.split('/'))
            .filter_map(|(t, a)| Some((param(t)?, classify::decode(a))))
            .collect();
        let error = |kind: Kind| self.respond(kind);
        if req.method != api.method {
            let mut answer = error(Kind::OtherMethod);
            answer.allow = answer.allow.map(|_| api.method.clone());
            return Some(answer);
        }
        match self.credentials.judge(req) {
            Identity::Nothing => return Some(error(Kind::MissingCredentials)),
            Identity::Invalid => return Some(error(Kind::InvalidCredentials)),
            Identity::Valid => {}
        }
        let id = |name: &str| ids.get(name).map_or("", |v| v.as_ref());
        if id("project_id") != self.fixtures.project_id {
            return Some(error(Kind::ForeignProject));
        }
        if id("cluster_id") != self.fixtures.cluster_id {
            return Some(error(Kind::UnknownCluster));
        }
        let number = |name: &str, default: usize| {
            classify::query_pairs(query)
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(default)
        };
        let (limit, offset) = (number("limit", 10).clamp(1, 1000), number("offset", 0));
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.land();
        let lag = self.deviation.map_or(Duration::ZERO, |d| d.read_lag());
        let listed: Vec<serde_json::Value> = tasks
            .listed
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(task, state)| {
                let status = match tasks.shown(task, *state, lag) {
                    Task::Failed => api.failed_statuses.first().map_or("FAILED", String::as_str),
                    Task::Retrying | Task::Running => "RUNNING",
                    Task::Aborted => "ABORTED",
                };
                serde_json::json!({ (api.id_field.as_str()): task, (api.status_field.as_str()): status })
            })
            .collect();
        let body = serde_json::json!({
            "totalSize": tasks.listed.len(),
            (api.list_field.as_str()): listed,
        });
        Some(Answer::json(200, body.to_string()))
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
        let status = expectation.outcomes[0].status;
        let status = self.deviation.map_or(status, |d| d.status(kind, status));
        if self.deviation == Some(Deviation::BareErrors) && status >= 400 {
            return Answer::empty(status);
        }
        let Some(code) = &expectation.error_code else {
            return if self.deviation == Some(Deviation::BodyOnSuccess) {
                Answer::json(status, r#"{"result":"success"}"#.to_owned())
            } else {
                Answer::empty(status)
            };
        };
        let meaning = self
            .spec
            .error_code(code)
            .map_or("", |c| c.meaning.as_str());
        let body = serde_json::json!({ "error_code": code, "error_msg": meaning });
        Answer::json(status, body.to_string())
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
