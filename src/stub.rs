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
}

impl Deviation {
    pub const ALL: [Deviation; 7] = [
        Deviation::AcceptsAnyRetryMode,
        Deviation::AcceptsUpperCaseAbort,
        Deviation::BodyOnSuccess,
        Deviation::Unauthorized401,
        Deviation::ServerErrorOnLongId,
        Deviation::IgnoresMissingCredentials,
        Deviation::ServerErrorOnEncodedId,
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

    /// The base URL to send requests to, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
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
        let uri = req.uri_str();
        // The request target may come in absolute form; keep the path and query.
        let uri = match uri.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => uri,
        };
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let Some(ids) = self.route(path) else {
            return plain(404, "no such resource");
        };
        if req.method_str() != self.spec.operation.method {
            return plain(405, "method not allowed");
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

        if self.deviation == Some(Deviation::ServerErrorOnLongId)
            && parsed.ids.iter().any(|(_, v)| v.chars().count() > 64)
        {
            return plain(500, "internal server error");
        }
        if self.deviation == Some(Deviation::ServerErrorOnEncodedId)
            && path.split('/').any(|segment| segment.contains('%'))
        {
            return plain(500, "internal server error");
        }
        let kind = self.classify(&parsed, presented);
        self.respond(kind)
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
            Presented::Invalid => return Kind::InvalidCredentials,
            _ => {}
        }
        if req.ids.iter().any(|(name, value)| {
            !self
                .spec
                .observed_format(name)
                .is_some_and(|re| re.is_match(value))
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
        if *project != self.fixtures.project_id {
            return Kind::ForeignProject;
        }
        if *cluster != self.fixtures.cluster_id {
            return Kind::UnknownCluster;
        }
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        match tasks.state(action) {
            None => Kind::UnknownTask,
            Some(TaskState::Failed) => {
                tasks.spend(action, abort);
                if abort { Kind::Abort } else { Kind::Retry }
            }
            Some(_) => Kind::TaskNotFailed,
        }
    }

    fn respond(&self, kind: Kind) -> HttpMockResponse {
        let expectation = self.spec.expectation(kind);
        let status = expectation.outcomes[0].status;
        let status = match (self.deviation, kind) {
            (
                Some(Deviation::Unauthorized401),
                Kind::MissingCredentials | Kind::InvalidCredentials,
            ) => 401,
            _ => status,
        };
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
    /// Starts `exe stub --serve-for SECONDS` and reads the URL it prints first.
    pub fn start(exe: &std::path::Path, serve_for_secs: u64) -> std::io::Result<Standalone> {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(exe)
            .args(["stub", "--serve-for", &serve_for_secs.to_string()])
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
