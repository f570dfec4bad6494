//! The built-in stub: an in-process httpmock server that answers the operation as the vendor's
//! page says, from the spec and a set of fixtures. One `respond_with` handler classifies each
//! request into a kind and answers with the spec's expectation for that kind. A `Deviation`
//! makes it answer wrongly on purpose, so the harness can prove it catches that.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use percent_encoding::percent_decode_str;

use crate::fixtures::Fixtures;
use crate::signing;
use crate::spec::{Kind, Spec};
use crate::target::Secret;

/// A deliberate departure from the contract, one per way a careless server goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Deviation {
    /// Any `retry_mode` value, or several, is taken as a valid one.
    AcceptsAnyRetryMode,
    /// `retry_mode` is compared without regard to case, so `ABORT` aborts.
    AcceptsUpperCaseAbort,
    /// A 200 carries a JSON body.
    BodyOnSuccess,
    /// Missing or wrong credentials get 401 instead of 403.
    #[value(name = "unauthorized-401")]
    Unauthorized401,
    /// An ID longer than 64 characters makes it fail with 500.
    ServerErrorOnLongId,
    /// A request without credentials is served as if it had valid ones.
    IgnoresMissingCredentials,
    /// A percent-encoded character in an ID makes it fail with 500.
    ServerErrorOnEncodedId,
    /// A plain retry (no retry_mode) of a failed task is refused with 400.
    RejectsRetry,
    /// An abort (`retry_mode=abort`) of a failed task is refused with 400.
    RejectsAbort,
    /// IDs are compared without regard to case, so an upper-case ID is taken as valid.
    AcceptsUpperCaseId,
    /// A malformed ID gets 404, a status the page does not document.
    NotFoundForMalformedId,
    /// The cluster_id is not looked at: any well-formed one reaches the task.
    IgnoresClusterId,
    /// An unknown task is "retried" with 200 as if it were a failed one.
    AcceptsUnknownTask,
    /// The project_id is not checked against the credentials: another project is served.
    IgnoresProjectId,
    /// A 400 or 403 comes without the error body.
    BareErrors,
    /// Any token is taken as valid.
    AcceptsAnyToken,
    /// Any method on the path is taken as PUT, so a GET retries the task.
    RetriesOnAnyMethod,
}

impl Deviation {
    pub const ALL: [Deviation; 17] = [
        Deviation::AcceptsAnyRetryMode,
        Deviation::AcceptsUpperCaseAbort,
        Deviation::BodyOnSuccess,
        Deviation::Unauthorized401,
        Deviation::ServerErrorOnLongId,
        Deviation::IgnoresMissingCredentials,
        Deviation::ServerErrorOnEncodedId,
        Deviation::RejectsRetry,
        Deviation::RejectsAbort,
        Deviation::AcceptsUpperCaseId,
        Deviation::NotFoundForMalformedId,
        Deviation::IgnoresClusterId,
        Deviation::AcceptsUnknownTask,
        Deviation::IgnoresProjectId,
        Deviation::BareErrors,
        Deviation::AcceptsAnyToken,
        Deviation::RetriesOnAnyMethod,
    ];
}

/// The state of the stub's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskState {
    Failed,
    Retrying,
    Aborted,
    Running,
}

/// The credentials the stub accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Accepted as `X-Auth-Token`.
    pub token: String,
    /// The access key and secret key AK/SK signatures are verified with.
    pub access_key: String,
    pub secret_key: Secret,
}

/// What a request presented.
enum Presented {
    Nothing,
    Valid,
    Invalid,
}

/// What the handler works from; shared with the server's threads.
struct State {
    spec: Arc<Spec>,
    fixtures: Fixtures,
    credentials: Credentials,
    deviation: Option<Deviation>,
    tasks: Mutex<Tasks>,
    /// Requests that named one of the stub's tasks, whatever came of them.
    on_tasks: std::sync::atomic::AtomicU64,
    /// What the stub's clients did, when it watches them (`css-conformance stub`).
    watch: Option<Mutex<Watch>>,
}

/// The client side of the contract: a request refused with a status the page says not to
/// repeat unchanged (400, 403) must not come again unchanged. "Unchanged" is the method, path,
/// query, body and the identity presented (the token, or the AK of a signature), so a client
/// that re-signs the same request (a new X-Sdk-Date and signature) still counts as repeating it.
#[derive(Debug, Default)]
struct Watch {
    /// Refused requests by fingerprint, with the status they got.
    refused: std::collections::HashMap<u64, u16>,
    summary: ClientSummary,
}

/// What the stub's clients did, for the summary on shutdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSummary {
    pub requests: u64,
    pub by_status: BTreeMap<u16, u64>,
    /// Requests re-sent unchanged after a 400 or 403.
    pub resent: u64,
    /// The first few re-sent requests, described.
    pub examples: Vec<String>,
}

impl std::fmt::Display for ClientSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(status, n)| format!("{n} x {status}"))
            .collect();
        write!(
            f,
            "{} request(s) answered ({})",
            self.requests,
            if statuses.is_empty() {
                "none".to_owned()
            } else {
                statuses.join(", ")
            }
        )?;
        if self.resent == 0 {
            write!(f, "; no request was re-sent unchanged after a 400 or 403")
        } else {
            write!(
                f,
                "; CLIENT FAULT: {} request(s) re-sent unchanged after a 400 or 403, which the page says not to repeat:",
                self.resent
            )?;
            for e in &self.examples {
                write!(f, "\n  {e}")?;
            }
            Ok(())
        }
    }
}

/// The listed tasks by state, and which generated failed tasks have been spent (a bit each,
/// so the stub's memory does not grow with the number of requests).
struct Tasks {
    listed: BTreeMap<String, TaskState>,
    generated_spent: Vec<u64>,
}

/// A running built-in stub. Dropping it returns the server to httpmock's pool.
pub struct Stub {
    server: MockServer,
    mock_id: usize,
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
        let mut tasks: BTreeMap<String, TaskState> = fixtures
            .failed_action_ids
            .iter()
            .map(|id| (id.clone(), TaskState::Failed))
            .collect();
        if let Some(id) = &fixtures.not_failed_action_id {
            tasks.insert(id.clone(), TaskState::Running);
        }
        let state = Arc::new(State {
            spec,
            fixtures: fixtures.clone(),
            credentials: credentials.clone(),
            deviation,
            on_tasks: std::sync::atomic::AtomicU64::new(0),
            watch: watch.then(|| Mutex::new(Watch::default())),
            tasks: Mutex::new(Tasks {
                listed: tasks,
                generated_spent: if fixtures.generated_failed_tasks {
                    vec![0; (crate::fixtures::GENERATED_FAILED_TASKS / 64) as usize]
                } else {
                    Vec::new()
                },
            }),
        });
        let server = MockServer::start_async().await;
        let handler = Arc::clone(&state);
        let mock_id = server
            .mock_async(|_when, then| {
                then.respond_with(move |req| handler.answer(req));
            })
            .await
            .id();
        Stub {
            server,
            mock_id,
            state,
        }
    }

    /// How many requests so far named one of the stub's tasks (failed or not) as action_id:
    /// the requests that could have changed a task on a server that does not conform.
    pub fn requests_on_tasks(&self) -> u64 {
        self.state
            .on_tasks
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// What the clients did so far (empty unless started watching).
    pub fn client_summary(&self) -> ClientSummary {
        self.state
            .watch
            .as_ref()
            .map_or_else(ClientSummary::default, |w| {
                w.lock().unwrap_or_else(|e| e.into_inner()).summary.clone()
            })
    }

    /// The base URL to send requests to, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The address it listens on.
    pub fn address(&self) -> std::net::SocketAddr {
        *self.server.address()
    }

    /// The httpmock ID of the one mock that answers everything.
    pub fn mock_id(&self) -> usize {
        self.mock_id
    }
}

/// A request taken apart into what the stub decides on.
struct Parsed {
    ids: [(String, String); 3],
    retry_mode: Vec<String>,
}

impl Tasks {
    /// The state of `id`, if the stub holds such a task.
    fn state(&self, id: &str) -> Option<TaskState> {
        if let Some(state) = self.listed.get(id) {
            return Some(*state);
        }
        let n = crate::fixtures::generated_failed_task_index(id)?;
        let word = self.generated_spent.get((n / 64) as usize)?;
        Some(if word & (1 << (n % 64)) == 0 {
            TaskState::Failed
        } else {
            TaskState::Retrying
        })
    }

    /// Takes a failed task out of the failed state.
    fn spend(&mut self, id: &str, abort: bool) {
        if let Some(state) = self.listed.get_mut(id) {
            *state = if abort {
                TaskState::Aborted
            } else {
                TaskState::Retrying
            };
        } else if let Some(n) = crate::fixtures::generated_failed_task_index(id)
            && let Some(word) = self.generated_spent.get_mut((n / 64) as usize)
        {
            *word |= 1 << (n % 64);
        }
    }
}

impl State {
    fn answer(&self, req: &HttpMockRequest) -> HttpMockResponse {
        let (response, kind) = self.decide(req);
        if let Some(watch) = &self.watch {
            self.watch_client(watch, req, &response, kind);
        }
        response
    }

    /// Logs the request with the stub's verdict and checks it against the client's duties.
    fn watch_client(
        &self,
        watch: &Mutex<Watch>,
        req: &HttpMockRequest,
        response: &HttpMockResponse,
        kind: Option<Kind>,
    ) {
        use std::hash::{Hash as _, Hasher as _};
        let status = response.status.unwrap_or(200);
        let uri = path_and_query(req.uri_str());
        let shown = crate::report::shorten(uri);
        let verdict = kind.map_or_else(|| "not classified".to_owned(), |k| k.to_string());
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (req.method_str(), uri, req.body_ref(), identity(req)).hash(&mut h);
        let fingerprint = h.finish();
        let may_repeat = self
            .spec
            .status_codes
            .iter()
            .find(|s| s.code == status)
            .is_none_or(|s| s.client_may_repeat);
        let mut w = watch.lock().unwrap_or_else(|e| e.into_inner());
        let before = if may_repeat {
            w.refused.remove(&fingerprint)
        } else {
            w.refused.insert(fingerprint, status)
        };
        let summary = &mut w.summary;
        summary.requests += 1;
        *summary.by_status.entry(status).or_default() += 1;
        tracing::info!("{} {shown} -> {status} ({verdict})", req.method_str());
        if let Some(earlier) = before {
            summary.resent += 1;
            let what = format!(
                "{} {shown}: re-sent unchanged after a {earlier}",
                req.method_str()
            );
            tracing::warn!(
                "client fault: {what}; the page says a {earlier} is not to be repeated unchanged"
            );
            if summary.examples.len() < 10 {
                summary.examples.push(what);
            }
        }
    }

    /// The stub's answer to `req`, and the kind of request it took it for (none when it is
    /// not this operation, or a deviation answered before classifying it).
    fn decide(&self, req: &HttpMockRequest) -> (HttpMockResponse, Option<Kind>) {
        let uri = path_and_query(req.uri_str());
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let Some(ids) = self.route(path) else {
            return (plain(404, "no such resource"), None);
        };
        // The gateway does not route a path with an empty segment to the operation.
        if ids.iter().any(|(_, v)| v.is_empty())
            && let Some(status) = self.spec.gateway_statuses_for_empty_segments.first()
        {
            return (plain(*status, "no route"), None);
        }
        if req.method_str() != self.spec.operation.method
            && self.deviation != Some(Deviation::RetriesOnAnyMethod)
        {
            return (self.respond(Kind::OtherMethod), Some(Kind::OtherMethod));
        }
        let retry_name = &self.spec.retry_mode().name;
        let retry_mode = query
            .split('&')
            .filter_map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(name) == *retry_name).then(|| decode(value))
            })
            .collect();
        let action = &ids[2].1;
        if self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .state(action)
            .is_some()
        {
            self.on_tasks
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        let presented = self.presented(req, path, query);
        let parsed = Parsed { ids, retry_mode };

        // A deviating stub fails before it looks at the request any further.
        if self.deviation == Some(Deviation::ServerErrorOnLongId)
            && parsed.ids.iter().any(|(_, v)| v.chars().count() > 64)
        {
            return (plain(500, "internal server error"), None);
        }
        if self.deviation == Some(Deviation::ServerErrorOnEncodedId)
            && path.split('/').any(|segment| segment.contains('%'))
        {
            return (plain(500, "internal server error"), None);
        }
        let kind = self.classify(&parsed, presented);
        (self.respond(kind), Some(kind))
    }

    /// The credentials a request presents: a token, or an AK/SK signature checked as the
    /// vendor's gateway does (including `X-Sdk-Date` within 15 minutes).
    fn presented(&self, req: &HttpMockRequest, path: &str, query: &str) -> Presented {
        let headers: Vec<(String, String)> = req
            .headers_vec()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        if header("authorization").is_some() {
            let pairs: Vec<(String, String)> = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(name), decode(value))
                })
                .collect();
            let unsigned = signing::Unsigned {
                method: req.method_str(),
                host: header("host").map_or("", |h| h.as_str()),
                path,
                query: &pairs,
                headers: &headers,
                body: req.body_ref(),
            };
            let c = &self.credentials;
            let sk = |ak: &str| (ak == c.access_key).then(|| c.secret_key.clone());
            return match signing::verify(&unsigned, time::OffsetDateTime::now_utc(), sk) {
                Ok(()) => Presented::Valid,
                Err(_) => Presented::Invalid,
            };
        }
        match header("x-auth-token") {
            None => Presented::Nothing,
            Some(t) if *t == self.credentials.token => Presented::Valid,
            Some(_) => Presented::Invalid,
        }
    }

    /// The decoded path parameters if `path` is this operation's path.
    fn route(&self, path: &str) -> Option<[(String, String); 3]> {
        let template: Vec<&str> = self.spec.operation.path.split('/').collect();
        let actual: Vec<&str> = path.split('/').collect();
        if template.len() != actual.len() {
            return None;
        }
        let mut ids = Vec::with_capacity(3);
        for (t, a) in template.iter().zip(&actual) {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) => ids.push((name.to_owned(), decode(a))),
                None if t == a => {}
                None => return None,
            }
        }
        ids.try_into().ok()
    }

    fn classify(&self, req: &Parsed, presented: Presented) -> Kind {
        let deviation = self.deviation;
        match presented {
            Presented::Nothing if deviation != Some(Deviation::IgnoresMissingCredentials) => {
                return Kind::MissingCredentials;
            }
            Presented::Invalid if deviation != Some(Deviation::AcceptsAnyToken) => {
                return Kind::InvalidCredentials;
            }
            _ => {}
        }
        let fold = |v| fold_case(deviation, v);
        if req.ids.iter().any(|(name, value)| {
            !self
                .spec
                .observed_format(name)
                .is_some_and(|re| re.is_match(&fold(value)))
        }) {
            return Kind::MalformedId;
        }
        let allowed = &self.spec.retry_mode().allowed_values;
        let valid_mode = |v: &String| match deviation {
            Some(Deviation::AcceptsAnyRetryMode) => true,
            Some(Deviation::AcceptsUpperCaseAbort) => {
                allowed.iter().any(|a| a.eq_ignore_ascii_case(v))
            }
            _ => allowed.contains(v),
        };
        let abort = match req.retry_mode.as_slice() {
            [] => false,
            [one] if valid_mode(one) => true,
            [_] => return Kind::InvalidRetryMode,
            _ if deviation == Some(Deviation::AcceptsAnyRetryMode) => true,
            _ => return Kind::RepeatedRetryMode,
        };
        let [(_, project), (_, cluster), (_, action)] = &req.ids;
        let (project, cluster, action) = (fold(project), fold(cluster), fold(action));
        if project != self.fixtures.project_id && deviation != Some(Deviation::IgnoresProjectId) {
            return Kind::ForeignProject;
        }
        if cluster != self.fixtures.cluster_id && deviation != Some(Deviation::IgnoresClusterId) {
            return Kind::UnknownCluster;
        }
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let action = action.as_ref();
        match tasks.state(action) {
            None if deviation == Some(Deviation::AcceptsUnknownTask) => {
                if abort {
                    Kind::Abort
                } else {
                    Kind::Retry
                }
            }
            None => Kind::UnknownTask,
            Some(TaskState::Failed) => {
                tasks.spend(action, abort);
                if abort { Kind::Abort } else { Kind::Retry }
            }
            Some(_) => Kind::TaskNotFailed,
        }
    }

    fn respond(&self, kind: Kind) -> HttpMockResponse {
        let kind = match (self.deviation, kind) {
            (Some(Deviation::RejectsRetry), Kind::Retry)
            | (Some(Deviation::RejectsAbort), Kind::Abort) => Kind::InvalidRetryMode,
            _ => kind,
        };
        let expectation = self.spec.expectation(kind);
        let status = expectation.outcomes[0].status;
        let status = match (self.deviation, kind) {
            (
                Some(Deviation::Unauthorized401),
                Kind::MissingCredentials | Kind::InvalidCredentials,
            ) => 401,
            (Some(Deviation::NotFoundForMalformedId), Kind::MalformedId) => 404,
            _ => status,
        };
        if self.deviation == Some(Deviation::BareErrors) && status >= 400 {
            return HttpMockResponse::builder().status(status).build();
        }
        let Some(code) = &expectation.error_code else {
            return if self.deviation == Some(Deviation::BodyOnSuccess) {
                json(status, r#"{"result":"success"}"#.to_owned())
            } else {
                HttpMockResponse::builder().status(status).build()
            };
        };
        let meaning = self
            .spec
            .error_code(code)
            .map_or("", |c| c.meaning.as_str());
        let body = serde_json::json!({ "error_code": code, "error_msg": meaning });
        json(status, body.to_string())
    }
}

/// An ID as the stub compares it: as sent, unless it deviates by folding case.
fn fold_case(deviation: Option<Deviation>, id: &str) -> std::borrow::Cow<'_, str> {
    if deviation == Some(Deviation::AcceptsUpperCaseId) {
        id.to_ascii_lowercase().into()
    } else {
        id.into()
    }
}

/// The path and query of a request target, which may come in absolute form.
fn path_and_query(uri: &str) -> &str {
    match uri.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => uri,
    }
}

/// Who a request says it is: its token or the access key of its signature (not the date or
/// signature, which change every time a request is signed).
fn identity(req: &HttpMockRequest) -> Option<String> {
    req.headers_vec().iter().find_map(|(k, v)| {
        if k.eq_ignore_ascii_case("x-auth-token") {
            Some(format!("token {v}"))
        } else if k.eq_ignore_ascii_case("authorization") {
            let access = signing::authorization_field(v, "Access");
            Some(format!("ak {}", access.unwrap_or(v)))
        } else {
            None
        }
    })
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn json(status: u16, body: String) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body)
        .build()
}

fn plain(status: u16, body: &str) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.to_owned())
        .build()
}

/// The built-in stub served by `css-conformance stub` in a process of its own (for tests and
/// benchmarks that need a separate server on a loopback port); killed when dropped.
#[derive(Debug)]
pub struct Standalone {
    child: std::process::Child,
    url: String,
}

impl Standalone {
    /// Starts `exe stub --quiet --serve-for SECONDS` and reads the URL it prints first.
    pub fn start(exe: &std::path::Path, serve_for_secs: u64) -> std::io::Result<Standalone> {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(exe)
            .args([
                "stub",
                "--quiet",
                "--serve-for",
                &serve_for_secs.to_string(),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let mut url = String::new();
        if let Some(stdout) = child.stdout.take() {
            std::io::BufReader::new(stdout).read_line(&mut url)?;
        }
        if url.trim().is_empty() {
            let _ = child.kill();
            return Err(std::io::Error::other("the stub printed no URL"));
        }
        Ok(Standalone {
            child,
            url: url.trim().to_owned(),
        })
    }

    /// Its base URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fixtures file of `css-conformance stub --fixtures FILE`: what the stub serves and
/// accepts. Every key is optional; a missing one keeps the built-in stub's value.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FixturesFile {
    project_id: Option<String>,
    cluster_id: Option<String>,
    failed_action_ids: Option<Vec<String>>,
    not_failed_action_id: Option<String>,
    token: Option<String>,
    access_key: Option<String>,
    secret_key: Option<String>,
}

/// A fixtures file that cannot be used, with where the fault is.
#[derive(Debug, thiserror::Error)]
pub enum FixturesError {
    #[error("{}: cannot read: {reason}", file.display())]
    Read {
        file: std::path::PathBuf,
        reason: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", file.display())]
    Syntax {
        file: std::path::PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}: key `{key}`: {message}", file.display())]
    Invalid {
        file: std::path::PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

/// Reads a fixtures file over the built-in stub's fixtures and credentials; every ID must be
/// of the format the spec observed for its parameter, or the stub would take it as malformed.
pub fn load_fixtures(
    file: &std::path::Path,
    spec: &Spec,
    mut fixtures: Fixtures,
    mut credentials: Credentials,
) -> Result<(Fixtures, Credentials), FixturesError> {
    let text = std::fs::read_to_string(file).map_err(|reason| FixturesError::Read {
        file: file.to_owned(),
        reason,
    })?;
    let given: FixturesFile = if text.trim().is_empty() {
        FixturesFile::default()
    } else {
        serde_yaml::from_str(&text).map_err(|e| {
            let (line, column, message) = crate::spec::yaml_error(&e);
            FixturesError::Syntax {
                file: file.to_owned(),
                line,
                column,
                message,
            }
        })?
    };
    let check = |key: &str, param: &str, value: &str| {
        let fits = spec
            .observed_format(param)
            .is_some_and(|re| re.is_match(value));
        if fits {
            return Ok(());
        }
        let format = spec
            .path_parameter(param)
            .map_or("", |p| p.observed_format.as_str());
        Err(FixturesError::Invalid {
            file: file.to_owned(),
            line: crate::spec::line_of(&text, value, 0),
            key: key.to_owned(),
            message: format!(
                "`{value}` is not of the format {format}; the stub would take it for a malformed {param}"
            ),
        })
    };
    if let Some(v) = given.project_id {
        check("project_id", "project_id", &v)?;
        fixtures.project_id = v;
    }
    if let Some(v) = given.cluster_id {
        check("cluster_id", "cluster_id", &v)?;
        fixtures.cluster_id = v;
    }
    if let Some(ids) = given.failed_action_ids {
        for v in &ids {
            check("failed_action_ids", "action_id", v)?;
        }
        fixtures.failed_action_ids = ids;
    }
    if let Some(v) = given.not_failed_action_id {
        check("not_failed_action_id", "action_id", &v)?;
        fixtures.not_failed_action_id = Some(v);
    }
    if let Some(v) = given.token {
        credentials.token = v;
    }
    if let Some(v) = given.access_key {
        credentials.access_key = v;
    }
    if let Some(v) = given.secret_key {
        credentials.secret_key = Secret::new(v);
    }
    Ok((fixtures, credentials))
}
