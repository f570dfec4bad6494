//! One exchange with a target, as data: the request (in the domain's terms), the response, the
//! oracle's verdict on it, and how a scenario built of such exchanges ended. Everything here
//! is plain data; the oracle judges, the target sends, the classifier says what kind a
//! request is.

use std::collections::BTreeSet;
use std::fmt;

use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::spec::{IdParam, Kind, Level, Spec};

/// The header an IAM token travels in.
pub const TOKEN_HEADER: &str = "X-Auth-Token";

/// How a request presents credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credentials {
    /// The target's configured credentials.
    Valid,
    /// None at all.
    Missing,
    /// Credentials of the right shape that the target must not accept: a token no IAM
    /// issued, or an AK/SK signature made with the wrong secret key.
    Wrong,
    /// AK/SK only: a valid signature with one character changed.
    TamperedSignature,
    /// AK/SK only: a valid signature over an `X-Sdk-Date` 20 minutes old.
    StaleDate,
}

/// One request of the operation. Path segments are given in their wire form: `%2F` stays
/// `%2F`; characters a URL path cannot carry (space, non-ASCII, `/`, `?`, `#`) are
/// percent-encoded when the request is rendered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Request {
    pub project_id: String,
    pub cluster_id: String,
    pub action_id: String,
    /// The values of `retry_mode`, in order: empty when absent, more than one when repeated.
    pub retry_mode: Vec<String>,
    /// Query parameters the page does not define, sent after `retry_mode`.
    pub extra_query: Vec<(String, String)>,
    pub credentials: Credentials,
    /// Another method than the operation's, to ask whether it acts (`None`: the operation's).
    pub method: Option<String>,
}

/// A request together with the kind the oracle judges it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub kind: Kind,
    pub request: Request,
}

/// What a path segment must encode: controls, space, the URL delimiters, and `/` so that an
/// ID never splits into two segments. `%` is kept, so wire-form escapes pass through.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// The query encodes everything but the unreserved characters, as the vendor's SDK signs it.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl Request {
    /// The method it is sent with.
    pub fn method<'a>(&'a self, spec: &'a Spec) -> &'a str {
        self.method.as_deref().unwrap_or(&spec.operation.method)
    }

    /// The value of a path parameter, in wire form.
    pub fn id(&self, param: IdParam) -> &str {
        match param {
            IdParam::Project => &self.project_id,
            IdParam::Cluster => &self.cluster_id,
            IdParam::Action => &self.action_id,
        }
    }

    pub fn id_mut(&mut self, param: IdParam) -> &mut String {
        match param {
            IdParam::Project => &mut self.project_id,
            IdParam::Cluster => &mut self.cluster_id,
            IdParam::Action => &mut self.action_id,
        }
    }

    /// What it is on a failed task when accepted: an abort when it names a `retry_mode`, a
    /// retry when not.
    pub fn retry_or_abort(&self) -> Kind {
        if self.retry_mode.is_empty() {
            Kind::Retry
        } else {
            Kind::Abort
        }
    }

    /// Whether a path parameter is empty, so that the path has an empty segment (`//`).
    pub fn has_empty_segment(&self) -> bool {
        IdParam::ALL.iter().any(|p| self.id(*p).is_empty())
    }

    /// The path and query as they go on the wire, from the spec's path template.
    pub fn path_and_query(&self, spec: &Spec) -> String {
        let path = self.path(spec);
        let query = self.query_string(spec);
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }

    /// The path, from the spec's template, with each ID encoded as a segment.
    pub fn path(&self, spec: &Spec) -> String {
        let mut path = String::new();
        self.write_path(spec, &mut path);
        path
    }

    /// Appends the path (as `path` makes it) to `path`, so a prefix can come first.
    pub fn write_path(&self, spec: &Spec, path: &mut String) {
        let template = spec.operation.path.as_str();
        path.reserve(
            template.len() + self.project_id.len() + self.cluster_id.len() + self.action_id.len(),
        );
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            path.push_str(&rest[..open]);
            match IdParam::from_name(&rest[open + 1..close]) {
                Some(param) => path.extend(utf8_percent_encode(self.id(param), SEGMENT)),
                // Not a parameter of this operation: the template text stays.
                None => path.push_str(&rest[open..=close]),
            }
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
    }

    /// The query parameters in order, decoded: `retry_mode` values, then the extra ones.
    pub fn query_pairs(&self, spec: &Spec) -> Vec<(String, String)> {
        self.pairs(spec)
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    /// The query as it goes on the wire (without AK/SK signing, which sorts it).
    pub fn query_string(&self, spec: &Spec) -> String {
        let mut query = String::new();
        for (n, v) in self.pairs(spec) {
            if !query.is_empty() {
                query.push('&');
            }
            query.extend(utf8_percent_encode(n, QUERY_VALUE));
            query.push('=');
            query.extend(utf8_percent_encode(v, QUERY_VALUE));
        }
        query
    }

    /// `query_pairs`, borrowed.
    fn pairs<'a>(&'a self, spec: &'a Spec) -> impl Iterator<Item = (&'a str, &'a str)> {
        let name = spec.retry_mode().name.as_str();
        self.retry_mode
            .iter()
            .map(move |v| (name, v.as_str()))
            .chain(
                self.extra_query
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str())),
            )
    }
}

/// An answer as the oracle sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Its headers as reports show them (`shown_headers`); the oracle reads none of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

/// Headers shown to a human: at most this many, each name and value cut to `SHOWN_CHARS`.
pub const SHOWN_HEADERS: usize = 32;
const SHOWN_CHARS: usize = 200;

/// What a server's headers show in a report: the first `SHOWN_HEADERS`, in order, each name
/// and value cut and made inert (`text::inert`; a value that is not text is shown lossily).
pub fn shown_headers<'h>(
    headers: impl Iterator<Item = (&'h str, &'h [u8])>,
) -> Vec<(String, String)> {
    headers
        .take(SHOWN_HEADERS)
        .map(|(name, value)| {
            (
                shown_text(name),
                shown_text(&String::from_utf8_lossy(value)),
            )
        })
        .collect()
}

/// `text` cut to `SHOWN_CHARS` characters and made inert, copied once (every answer's
/// headers pass here, so this is the fuzzer's hot path).
fn shown_text(text: &str) -> String {
    let end = text
        .char_indices()
        .nth(SHOWN_CHARS)
        .map_or(text.len(), |(at, _)| at);
    crate::text::inert(&text[..end]).into_owned()
}

/// An exchange as the HTML report shows it to a human: the headers the tool set (each
/// credential as the variable that holds it) and what came back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// The answer's body, cut to `SHOWN_CHARS` characters.
    pub body_excerpt: String,
}

impl Shown {
    /// `response` to `request_headers`, as shown.
    pub fn of(request_headers: Vec<(String, String)>, response: &Response) -> Shown {
        let text = String::from_utf8_lossy(&response.body);
        let mut body_excerpt = shown_text(&text);
        if text.chars().count() > SHOWN_CHARS {
            body_excerpt.push('…');
        }
        Shown {
            request_headers,
            response_headers: response.headers.clone(),
            body_excerpt,
        }
    }
}

/// What the answer showed, kept with each violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub status: u16,
    pub error_code: Option<String>,
    pub body_excerpt: String,
}

/// One clause the answer broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub clause: String,
    pub level: Level,
    pub expected: String,
    pub evidence: Evidence,
}

/// The oracle's judgement of one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: Kind,
    /// Every clause this exchange exercised, violated or not.
    pub checked: BTreeSet<String>,
    pub violations: Vec<Violation>,
    /// Why the answer was judged by no clause, when it was not the operation's (INFO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Clauses this exchange would have failed but for a doubt the run could not remove (an
    /// effect that a used-up task would also explain): not judged, with `note` saying why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unconfirmed: Vec<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn violates(&self, clause: &str) -> bool {
        self.violations.iter().any(|v| v.clause == clause)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(note) = &self.note {
            return write!(f, "{} request: INFO: {note}", self.kind);
        }
        if self.passed() {
            return write!(f, "{} request: conforms", self.kind);
        }
        write!(
            f,
            "{} request: {} violation(s)",
            self.kind,
            self.violations.len()
        )?;
        for v in &self.violations {
            write!(f, "\n  {v}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] expected {}; got {}",
            self.clause, self.level, self.expected, self.evidence
        )
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {}", self.status)?;
        if let Some(code) = &self.error_code {
            write!(f, ", error_code {}", crate::text::inert(code))?;
        }
        if self.body_excerpt.is_empty() {
            write!(f, ", no body")
        } else {
            write!(f, ", body {:?}", self.body_excerpt)
        }
    }
}

/// One request of a scenario and the oracle's verdict on its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    pub method: String,
    pub url: String,
    /// A cURL line that re-sends the request, credentials replaced by placeholders.
    pub curl: String,
    /// The status the target answered with, and the error code of its error body (if any).
    pub status: u16,
    pub error_code: Option<String>,
    pub verdict: Verdict,
    /// The request as the scenario built it.
    #[serde(skip)]
    pub request: Request,
    /// Its place among the run's requests, in the order they were sent.
    #[serde(skip)]
    pub sequence: u64,
    /// The real task the request was sent on (its action_id may name it in another form), if
    /// it was sent on one.
    #[serde(skip)]
    pub task: Option<String>,
    /// What a later request on the same task showed of this one's effect (not a request of
    /// its own).
    #[serde(skip)]
    pub derived: bool,
    /// The status the read API gave the request's task before and after it, where the
    /// target serves it and both reads succeeded.
    #[serde(skip)]
    pub task_status: Option<(String, String)>,
    /// The exchange as report.html shows it.
    #[serde(skip)]
    pub shown: Shown,
}

/// Why a scenario did not run against a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// It names a real task and mutations are not allowed.
    Mutating,
    /// Every configured failed task is spent.
    NoTaskLeft,
    /// It is about signatures and the target is not reached with AK/SK.
    NeedsAkSk,
    /// No task that is not failed is configured.
    NoTaskNotFailed,
    /// No project of another account is configured.
    NoForeignProject,
    /// The failed tasks are kept for clauses no request has judged yet.
    Economy,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::Mutating => {
                "mutating: it retries or aborts a real task; give --allow-mutations and failed tasks (--failed-action-id ID, two of them) to run it"
            }
            Skip::NoTaskLeft => {
                "no failed upgrade task left to consume: give more with --failed-action-id ID (a run uses up the tasks it retries or aborts: bring fresh ones each run)"
            }
            Skip::NeedsAkSk => "needs AK/SK credentials (--auth aksk)",
            Skip::NoTaskNotFailed => {
                "no task that is not failed is configured (--not-failed-action-id ID)"
            }
            Skip::NoForeignProject => {
                "no project of another account is configured (--foreign-project-id ID)"
            }
            Skip::Economy => {
                "not run: its clauses are judged already, and the failed tasks are kept for clauses that are not"
            }
        })
    }
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ScenarioOutcome {
    Passed,
    /// A step failed: a verdict, or a scenario that did not complete.
    Failed(String),
    /// A request got no answer: a target fault, which judges nothing.
    NoAnswer(String),
    /// What the scenario assumed did not hold when it ran (its failed task had been acted on
    /// by a request before it), so its answers judge nothing.
    Unjudged(String),
    Skipped(Skip),
}

/// What a scenario asks of the target, as its steps said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Needs {
    /// A real task in the failed state.
    pub failed_task: bool,
    /// A real task that is not failed.
    pub task_not_failed: bool,
    /// A project of another account.
    pub foreign_project: bool,
    /// AK/SK signing.
    pub aksk: bool,
    /// It sends the doors the plan gives it (`features/doors.feature`).
    pub doors: bool,
    /// It sends a retry and an abort after an accepted one (`features/doors.feature`).
    pub probes: bool,
}
