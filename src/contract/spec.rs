//! The contract as data: the typed model of `spec/retry_upgrade_task.yaml` and its loading
//! (its validation is `validation`'s). Everything else (oracle, stub, coverage, features) reads it from here.

use std::fmt;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::file_error::FileError;

mod grammar;
mod ground;
mod kind;
mod read_api;

pub use grammar::{Dimension, DoorCredentials, DoorPath, DoorSpec, HttpVersion};
pub use ground::{Ground, NoRule, PageRef, Place};
pub use kind::Kind;
pub use read_api::{AfterAccepted, ReadApi, Settled, TaskRead};

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
    pub(crate) fn served_by_the_stub(&self) -> bool {
        self.outcomes.first().is_some_and(|o| o.status == 200)
    }

    /// The vendor's first code for this rejection (what the built-in stub answers with).
    pub fn code(&self) -> Option<&str> {
        self.codes.first().map(String::as_str)
    }

    /// Whether an answer of `status` with `error_code` is one of the vendor's refusals of
    /// this kind: a code of `codes`, with the status the error table gives it.
    pub(crate) fn is_refusal(&self, spec: &Spec, status: u16, error_code: Option<&str>) -> bool {
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
    pub(crate) fn says_task_unusable(&self, status: u16, error_code: Option<&str>) -> bool {
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
    pub(crate) fn effect_clause(&self, kind: Kind) -> &str {
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
