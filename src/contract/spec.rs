//! The contract as data: the typed model of `spec/retry_upgrade_task.yaml` and its loading
//! (its validation is `validation`'s). Everything else (oracle, stub, coverage, features) reads it from here.

use std::fmt;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::file_error::FileError;

/// The contract shipped with the tool, embedded so an installed binary needs no source tree.
pub const EMBEDDED: &str = include_str!("../../spec/retry_upgrade_task.yaml");
/// The name the embedded contract is reported under.
pub(crate) const EMBEDDED_NAME: &str = "spec/retry_upgrade_task.yaml";

/// A contract that failed to load, with where it went wrong.
pub type SpecError = FileError;

/// The whole contract of the operation.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub operation: Operation,
    /// The vendor's page the clauses quote, in the edition they were traced to.
    #[serde(default)]
    pub page: Option<PageRef>,
    /// The page's statements that make no rule, each with why (`spec trace` counts them
    /// accounted for).
    #[serde(default)]
    pub no_rule: Vec<NoRule>,
    pub path_parameters: Vec<PathParameter>,
    pub query_parameters: Vec<QueryParameter>,
    pub request_body: Body,
    pub response_body: ResponseBody,
    pub status_codes: Vec<StatusCode>,
    pub error_body: ErrorBody,
    pub error_codes: Vec<ErrorCode>,
    pub rules: Rules,
    pub expectations: Vec<Expectation>,
    /// The companion read API that lists a cluster's upgrade tasks with their status.
    pub read_api: ReadApi,
    /// The grammar of requests: the dimensions a request varies in, each with its families
    /// (the fuzzer draws from them; each is a door of a failed task).
    #[serde(default)]
    pub grammar: Vec<Dimension>,
    /// Statuses the gateway in front of the operation answers a path with an empty segment
    /// with: not the operation's answer, so reported as INFO and judged by no clause.
    #[serde(default)]
    pub gateway_statuses_for_empty_segments: Vec<u16>,
    pub clauses: Vec<Clause>,
    /// The client's side of the contract, judged by the built-in stub on its clients'
    /// requests: which clause judges each rule, and the clauses.
    pub client_rules: ClientRules,
    pub client_clauses: Vec<Clause>,
    /// The spec's regular expressions, compiled once (validation has proven they compile).
    #[serde(skip)]
    compiled: std::sync::OnceLock<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    error_code_form: Regex,
    formats: std::collections::BTreeMap<String, Regex>,
}

/// The read API: `GET {path}?limit=N&offset=M[&listing_param=L]` answers
/// `{total_field: T, list_field: [{id_field, status_field}]}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReadApi {
    pub method: String,
    pub path: String,
    /// The `limit` asked for.
    pub page_size: u32,
    /// The largest `limit` the vendor documents.
    pub max_limit: u32,
    pub offset_param: String,
    /// The offset of the first task (1: the vendor counts from 1).
    pub first_offset: u32,
    /// The largest offset the vendor documents.
    pub max_offset: u32,
    pub limit_param: String,
    /// How many tasks the listing holds in all.
    pub total_field: String,
    /// The parameter that chooses a listing; left out: the default one.
    pub listing_param: String,
    /// The listings besides the default one, looked in after it.
    #[serde(default)]
    pub other_listings: Vec<String>,
    pub list_field: String,
    pub id_field: String,
    pub status_field: String,
    /// The field that counts how many times a task was retried (the vendor's `executeTimes`,
    /// a number or a string of one): the second witness of a retry where the status cannot
    /// tell (one that failed again at once).
    #[serde(default)]
    pub retries_field: Option<String>,
    pub failed_statuses: Vec<String>,
    /// Of `failed_statuses`, those in which a retry or abort must not be refused as "not
    /// failed".
    #[serde(default)]
    pub retryable_statuses: Vec<String>,
    /// What the read API shows of an accepted retry or abort, and the clause that judges it.
    #[serde(default)]
    pub after_accepted: Vec<AfterAccepted>,
    /// Every status the vendor documents for a task.
    #[serde(default)]
    pub documented_statuses: Vec<String>,
}

/// The statuses a task may have once an accepted request of `kind` on it has settled.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AfterAccepted {
    pub kind: Kind,
    pub clause: String,
    /// The statuses that show the request did what it says (empty: any not in `not_statuses`).
    #[serde(default)]
    pub statuses: Vec<String>,
    /// The statuses that show it did not.
    #[serde(default)]
    pub not_statuses: Vec<String>,
}

/// What the read API's status says of an accepted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// It did what its kind says.
    Holds,
    /// It did not (a status in `not_statuses`).
    Broken,
    /// A status the rule does not name: INFO, judged by no clause.
    Unnamed,
}

impl AfterAccepted {
    pub fn judge(&self, status: &str) -> Settled {
        if self.not_statuses.iter().any(|s| s == status) {
            Settled::Broken
        } else if self.statuses.is_empty() || self.statuses.iter().any(|s| s == status) {
            Settled::Holds
        } else {
            Settled::Unnamed
        }
    }
}

/// One dimension of the grammar of requests and its families.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub dimension: String,
    pub families: Vec<DoorSpec>,
}

/// One family of the grammar: a change to the plain retry of a failed task that a conforming
/// server refuses (or that is not the operation, or that it may serve as the retry); applied
/// to a real failed task, a door. See `grammar:` in the spec.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DoorSpec {
    /// Its name in its dimension (`dimension/family` in all).
    pub family: String,
    /// Its name as a door, in words.
    pub door: String,
    #[serde(default)]
    pub credentials: Option<DoorCredentials>,
    /// Only when the target is reached this way (`aksk`).
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub retry_mode: Option<Vec<String>>,
    /// The one retry_mode value repeated this many times.
    #[serde(default)]
    pub repeat: Option<usize>,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub cluster_id: Option<String>,
    #[serde(default)]
    pub action_id: Option<String>,
    /// The path's shape around its IDs.
    #[serde(default)]
    pub path: Option<DoorPath>,
    /// A header sent besides the credentials: `Name: value`.
    #[serde(default)]
    pub header: Option<String>,
    /// A body, sent with `content_type` if given.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// The HTTP version the request is sent in (`HTTP/1.0`; HTTP/1.1 when not given).
    #[serde(default)]
    pub version: Option<HttpVersion>,
    /// A variation a conforming server serves as the operation (a header HTTP defines that the
    /// page does not name): fuzzed on IDs that name nothing, never a door.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fuzz_only: bool,
}

/// The version of HTTP a request is sent in. Both are HTTP's own: a conforming server serves
/// the operation in either.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub enum HttpVersion {
    #[default]
    #[serde(rename = "HTTP/1.1")]
    Http11,
    #[serde(rename = "HTTP/1.0")]
    Http10,
}

impl HttpVersion {
    pub fn is_default(&self) -> bool {
        *self == HttpVersion::Http11
    }
}

/// The shape of a door's path (`request::PathForm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorPath {
    TrailingSlash,
    DoubledSlash,
    WordsInCapitals,
}

/// The credentials a door presents instead of the valid ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorCredentials {
    Missing,
    Wrong,
    TamperedSignature,
    StaleDate,
}

impl ReadApi {
    /// The rule for what an accepted `kind` request shows, if the spec gives one.
    pub(crate) fn after_accepted(&self, kind: Kind) -> Option<&AfterAccepted> {
        self.after_accepted.iter().find(|a| a.kind == kind)
    }

    /// Whether a task of `status` can be retried or aborted.
    pub(crate) fn is_failed(&self, status: &str) -> bool {
        self.failed_statuses.iter().any(|s| s == status)
    }

    /// Whether a task of `status` must be retried or aborted when asked (no server may
    /// refuse it as not failed).
    pub(crate) fn is_retryable(&self, status: &str) -> bool {
        self.retryable_statuses.iter().any(|s| s == status)
    }

    /// Whether a task read as `before` and then as `after` was retried or aborted in between:
    /// it left the failed state, or its count of retries grew (a retry that failed again at
    /// once shows no other sign).
    pub fn acted_between(&self, before: &TaskRead, after: &TaskRead) -> bool {
        let left_failed = self.is_failed(&before.status) && !self.is_failed(&after.status);
        let retried = matches!((before.retries, after.retries), (Some(b), Some(a)) if a > b);
        left_failed || retried
    }
}

/// What the read API shows of one task: its status (empty when it is listed without one) and
/// how many times it was retried, where its entry says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskRead {
    pub status: String,
    pub retries: Option<u64>,
}

impl TaskRead {
    /// A task read with `status` and no count of retries.
    pub fn of_status(status: &str) -> TaskRead {
        TaskRead {
            status: status.to_owned(),
            retries: None,
        }
    }
}

impl fmt::Display for TaskRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.status)?;
        match self.retries {
            Some(1) => write!(f, " (retried once)"),
            Some(n) => write!(f, " (retried {n} times)"),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub id: String,
    pub title: String,
    pub source: String,
    pub method: String,
    pub path: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PathParameter {
    pub name: String,
    pub mandatory: bool,
    #[serde(rename = "type")]
    pub ty: ParamType,
    pub description: String,
    pub example: String,
    /// The format the vendor's examples show; the page itself states none.
    pub observed_format: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueryParameter {
    pub name: String,
    pub mandatory: bool,
    #[serde(rename = "type")]
    pub ty: ParamType,
    pub description: String,
    pub allowed_values: Vec<String>,
    pub when_absent: String,
    pub when_value: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Body {
    None,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    #[serde(rename = "200")]
    pub ok: Body,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StatusCode {
    pub code: u16,
    pub meaning: String,
    pub client_may_repeat: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub content_type: String,
    pub fields: Vec<String>,
    pub code_pattern: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorCode {
    pub code: String,
    pub status: u16,
    pub meaning: String,
}

/// The rules that hold for every answer, each naming the clause it judges.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub documented_status: String,
    pub no_server_error: String,
    pub empty_success_body: String,
    pub error_body: String,
    pub error_code_form: String,
    /// What a refused request did to a failed task: nothing, judged by this clause.
    pub refusal_leaves_task: String,
    /// What an accepted retry or abort did: took the task out of the failed state.
    pub acceptance_acts: String,
    /// What any request did to the tasks it did not name: nothing.
    pub named_task_only: String,
}

/// The client's duties the stub judges, each by the clause it names.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientRules {
    /// retry_mode only as its allowed value, once, or not at all.
    pub retry_mode_allowed: String,
    /// No unchanged re-send of a request refused with a status not to be repeated.
    pub no_unchanged_resend: String,
    /// After a 429, no request before Retry-After has passed.
    pub honours_retry_after: String,
    /// AK/SK: a well-formed signature and a fresh X-Sdk-Date.
    pub well_formed_signature: String,
}

impl ClientRules {
    pub fn clauses(&self) -> [(&'static str, &str); 4] {
        [
            ("retry_mode_allowed", &self.retry_mode_allowed),
            ("no_unchanged_resend", &self.no_unchanged_resend),
            ("honours_retry_after", &self.honours_retry_after),
            ("well_formed_signature", &self.well_formed_signature),
        ]
    }
}

impl Spec {
    /// Every family of the grammar that is a door, named `dimension/family`, in the
    /// grammar's order.
    pub fn families(&self) -> impl Iterator<Item = (String, &DoorSpec)> {
        self.all_families().filter(|(_, f)| !f.fuzz_only)
    }

    /// The grammar's variations a conforming server serves as the operation (`fuzz_only`):
    /// drawn by the fuzzer on IDs that name nothing, never doors.
    pub fn variations(&self) -> impl Iterator<Item = (String, &DoorSpec)> {
        self.all_families().filter(|(_, f)| f.fuzz_only)
    }

    /// Every family and variation of the grammar, named `dimension/family`.
    pub(crate) fn all_families(&self) -> impl Iterator<Item = (String, &DoorSpec)> {
        self.grammar.iter().flat_map(|d| {
            d.families
                .iter()
                .map(move |f| (format!("{}/{}", d.dimension, f.family), f))
        })
    }
}

impl Rules {
    pub(crate) fn clauses(&self) -> [(&'static str, &str); 8] {
        [
            ("documented_status", &self.documented_status),
            ("no_server_error", &self.no_server_error),
            ("empty_success_body", &self.empty_success_body),
            ("error_body", &self.error_body),
            ("error_code_form", &self.error_code_form),
            ("refusal_leaves_task", &self.refusal_leaves_task),
            ("acceptance_acts", &self.acceptance_acts),
            ("named_task_only", &self.named_task_only),
        ]
    }
}

/// The operation's three path parameters. Their names are the spec's (validation holds the
/// spec's path parameters to these), so the model of a request and the contract agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdParam {
    Project,
    Cluster,
    Action,
}

impl IdParam {
    pub const ALL: [IdParam; 3] = [IdParam::Project, IdParam::Cluster, IdParam::Action];

    /// The name in the path template: `project_id`, `cluster_id`, `action_id`.
    pub fn name(self) -> &'static str {
        match self {
            IdParam::Project => "project_id",
            IdParam::Cluster => "cluster_id",
            IdParam::Action => "action_id",
        }
    }

    pub fn from_name(name: &str) -> Option<IdParam> {
        IdParam::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for IdParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of request a case is; the oracle judges by it and the stub classifies into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Retry,
    Abort,
    InvalidRetryMode,
    RepeatedRetryMode,
    MalformedId,
    UnknownCluster,
    UnknownTask,
    MissingCredentials,
    InvalidCredentials,
    ForeignProject,
    ExtraParameter,
    TaskNotFailed,
    /// Another method than the operation's on its path.
    OtherMethod,
    /// The operation's request in a form the page does not define (the path's shape, a
    /// method-override header, a body): served as the operation or refused.
    OtherShape,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Retry,
        Kind::Abort,
        Kind::InvalidRetryMode,
        Kind::RepeatedRetryMode,
        Kind::MalformedId,
        Kind::UnknownCluster,
        Kind::UnknownTask,
        Kind::MissingCredentials,
        Kind::InvalidCredentials,
        Kind::ForeignProject,
        Kind::ExtraParameter,
        Kind::TaskNotFailed,
        Kind::OtherMethod,
        Kind::OtherShape,
    ];
}

impl Kind {
    /// The name the YAML uses (`invalid_retry_mode`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Retry => "retry",
            Kind::Abort => "abort",
            Kind::InvalidRetryMode => "invalid_retry_mode",
            Kind::RepeatedRetryMode => "repeated_retry_mode",
            Kind::MalformedId => "malformed_id",
            Kind::UnknownCluster => "unknown_cluster",
            Kind::UnknownTask => "unknown_task",
            Kind::MissingCredentials => "missing_credentials",
            Kind::InvalidCredentials => "invalid_credentials",
            Kind::ForeignProject => "foreign_project",
            Kind::ExtraParameter => "extra_parameter",
            Kind::TaskNotFailed => "task_not_failed",
            Kind::OtherMethod => "other_method",
            Kind::OtherShape => "other_shape",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a conforming server answers for one kind of request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub kind: Kind,
    /// The codes the vendor's error table gives for this rejection, each answered with its
    /// status in the table: whatever recognises a refusal of this kind accepts each; the
    /// built-in stub answers with the first, its variants with the others.
    #[serde(default)]
    pub codes: Vec<String>,
    pub outcomes: Vec<ExpectedAnswer>,
    /// The clause a 200 violates when 200 is not an expected outcome.
    #[serde(default)]
    pub refused_by: Option<String>,
    /// The clause any other unexpected answer violates (none for what is not the operation).
    #[serde(default)]
    pub answered_by: Option<String>,
    /// What is not the operation is judged by what it did, not by what it answered: this
    /// clause says it never acts on the task.
    #[serde(default)]
    pub never_acts: Option<String>,
    /// The request is not this operation (another method): the rules for the operation's
    /// answers (documented status, error body) do not apply to its answer.
    #[serde(default)]
    pub not_the_operation: bool,
}

impl Expectation {
    /// Whether a conforming server accepts this kind of request with 200.
    pub fn accepts(&self) -> bool {
        self.outcomes.iter().any(|o| o.status == 200)
    }

    /// Whether the built-in stub serves this kind of request (it answers the first outcome):
    /// a kind a server may serve or refuse (a form the page does not define) it refuses.
    pub fn served_by_the_stub(&self) -> bool {
        self.outcomes.first().is_some_and(|o| o.status == 200)
    }

    /// The vendor's first code for this rejection (what the built-in stub answers with).
    pub fn code(&self) -> Option<&str> {
        self.codes.first().map(String::as_str)
    }

    /// Whether an answer of `status` with `error_code` is one of the vendor's refusals of
    /// this kind: a code of `codes`, with the status the error table gives it.
    pub fn is_refusal(&self, spec: &Spec, status: u16, error_code: Option<&str>) -> bool {
        error_code.is_some_and(|code| {
            self.codes.iter().any(|c| c == code)
                && spec.error_code(code).is_some_and(|c| c.status == status)
        })
    }

    /// Whether `status` (with `error_code` if the body had one) is one of the outcomes.
    pub fn allows(&self, status: u16, error_code: Option<&str>) -> bool {
        self.outcomes.iter().any(|o| {
            o.status == status
                && (o.error_codes.is_empty()
                    || error_code.is_some_and(|c| o.error_codes.iter().any(|e| e == c)))
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAnswer {
    pub status: u16,
    #[serde(default)]
    pub error_codes: Vec<String>,
}

/// One numbered requirement, in our words, tied to the section of the page it comes from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    pub id: String,
    pub level: Level,
    pub section: String,
    pub statement: String,
    /// Judged only through the read API: a run without it leaves the clause unjudged and is
    /// complete all the same (said as such).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub needs_read_api: bool,
    /// The words of the page it rests on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ground: Vec<Ground>,
}

/// The vendor's page in one edition: its file's name, the edition in words, the SHA-256 of
/// its bytes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PageRef {
    pub name: String,
    pub edition: String,
    pub sha256: String,
}

/// Words of the page a clause rests on, and where they are.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ground {
    /// The section, or a table's caption (`Query Parameters`).
    pub section: String,
    /// In a table: the row's first cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// In a table: the column's heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The page's words, exactly (markup aside): part of a sentence, or a whole cell or
    /// example.
    pub quote: String,
    /// The edition they come from, when not the one `page` names (a page not shipped: the
    /// words are then ours, `paraphrase`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paraphrase: bool,
}

impl Ground {
    pub fn place(&self) -> Place {
        Place {
            section: self.section.clone(),
            row: self.row.clone(),
            column: self.column.clone(),
        }
    }
}

/// Where on the page words are: a section, and in a table a row and a column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub section: String,
    pub row: Option<String>,
    pub column: Option<String>,
}

/// A statement of the page that makes no rule, and why.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoRule {
    pub section: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub quote: String,
    pub why: String,
}

impl NoRule {
    pub fn place(&self) -> Place {
        Place {
            section: self.section.clone(),
            row: self.row.clone(),
            column: self.column.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "EXTENDED")]
    Extended,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::Extended => "EXTENDED",
        })
    }
}

/// Clause IDs look like `RUT-QUERY-02`.
pub(crate) const CLAUSE_ID_PATTERN: &str = "^RUT-[A-Z]+-[0-9]{2}$";

impl Spec {
    /// The contract shipped with the tool.
    pub fn embedded() -> Spec {
        Spec::parse(EMBEDDED, Path::new(EMBEDDED_NAME))
            .unwrap_or_else(|e| unreachable!("the embedded spec is checked by tests: {e}"))
    }

    /// Loads and validates a contract file.
    pub fn load(file: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(file).map_err(|reason| SpecError::Read {
            file: file.to_owned(),
            reason,
        })?;
        Spec::parse(&text, file)
    }

    /// Parses and validates contract text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Spec, SpecError> {
        let spec: Spec = crate::file_error::from_yaml(file, text)?;
        spec.validate(text, file)?;
        Ok(spec)
    }

    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            let compile = |re: &str| {
                Regex::new(re).unwrap_or_else(|e| unreachable!("validated when loaded: {e}"))
            };
            Compiled {
                error_code_form: compile(&self.error_body.code_pattern),
                formats: self
                    .path_parameters
                    .iter()
                    .map(|p| (p.name.clone(), compile(&p.observed_format)))
                    .collect(),
            }
        })
    }

    /// The form an error_code has (`error_body.code_pattern`).
    pub(crate) fn error_code_form(&self) -> &Regex {
        &self.compiled().error_code_form
    }

    /// The observed format of a path parameter.
    pub fn observed_format(&self, param: &str) -> Option<&Regex> {
        self.compiled().formats.get(param)
    }

    /// A client clause by ID.
    pub fn client_clause(&self, id: &str) -> Option<&Clause> {
        self.client_clauses.iter().find(|c| c.id == id)
    }

    pub fn clause(&self, id: &str) -> Option<&Clause> {
        self.clauses.iter().find(|c| c.id == id)
    }

    /// Whether an answer of `status` with `error_code` says the task a retry or abort named is
    /// not usable: not in the failed state, or no such record (a code the vendor's table gives
    /// for a task not failed, or for an unknown task).
    pub fn says_task_unusable(&self, status: u16, error_code: Option<&str>) -> bool {
        [Kind::TaskNotFailed, Kind::UnknownTask]
            .iter()
            .any(|k| self.expectation(*k).is_refusal(self, status, error_code))
    }

    pub fn expectation(&self, kind: Kind) -> &Expectation {
        self.expectations
            .iter()
            .find(|e| e.kind == kind)
            .unwrap_or_else(|| unreachable!("validation ensures every kind has an expectation"))
    }

    /// The clause that judges what a request of `kind` did to its task: another method never
    /// acts (its own clause); any other refused request leaves the task failed.
    pub fn effect_clause(&self, kind: Kind) -> &str {
        self.expectation(kind)
            .never_acts
            .as_deref()
            .unwrap_or(&self.rules.refusal_leaves_task)
    }

    pub(crate) fn path_parameter(&self, name: &str) -> Option<&PathParameter> {
        self.path_parameters.iter().find(|p| p.name == name)
    }

    /// The one query parameter this operation has.
    pub fn retry_mode(&self) -> &QueryParameter {
        &self.query_parameters[0]
    }

    pub(crate) fn is_documented_status(&self, status: u16) -> bool {
        self.status_codes.iter().any(|s| s.code == status)
    }

    /// Whether a client may send a request again unchanged after this answer: the page's
    /// status table says so for each documented status (not after a 400 or 403); any other
    /// status is not the operation's to forbid.
    pub fn client_may_repeat(&self, status: u16) -> bool {
        self.status_codes
            .iter()
            .find(|s| s.code == status)
            .is_none_or(|s| s.client_may_repeat)
    }

    /// Whether `status` is one of the operation's refusals, which carry the error body: a
    /// documented status the error-code table gives codes for (400, 403).
    pub(crate) fn is_error_status(&self, status: u16) -> bool {
        self.is_documented_status(status) && self.error_codes.iter().any(|c| c.status == status)
    }

    pub fn error_code(&self, code: &str) -> Option<&ErrorCode> {
        self.error_codes.iter().find(|c| c.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_spec_loads() {
        let spec = Spec::embedded();
        assert_eq!(spec.operation.method, "PUT");
        assert_eq!(spec.path_parameters.len(), 3);
        assert!(spec.clause("RUT-QUERY-02").is_some());
    }

    #[test]
    fn kinds_print_as_in_the_yaml() {
        for kind in Kind::ALL {
            let yaml = serde_yaml::to_string(&kind).unwrap();
            assert_eq!(kind.to_string(), yaml.trim());
        }
    }
}
