//! A case: one request to send, and what kind of request it is. Features and (later) the
//! fuzzer build cases; the target sends them; the oracle judges the answer by the kind.

use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::spec::{Kind, Spec};
use crate::target::Target;

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

impl Credentials {
    /// Whether these credentials exist only for AK/SK signing.
    pub fn needs_signing(self) -> bool {
        matches!(
            self,
            Credentials::TamperedSignature | Credentials::StaleDate
        )
    }
}

/// One request of the operation. Path segments are given in their wire form: `%2F` stays
/// `%2F`; characters a URL path cannot carry (space, non-ASCII, `/`, `?`, `#`) are
/// percent-encoded when the request is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl Request {
    /// The method it is sent with.
    pub fn method<'a>(&'a self, spec: &'a Spec) -> &'a str {
        self.method.as_deref().unwrap_or(&spec.operation.method)
    }

    /// Whether a path parameter is empty, so that the path has an empty segment (`//`).
    pub fn has_empty_segment(&self) -> bool {
        [&self.project_id, &self.cluster_id, &self.action_id]
            .iter()
            .any(|id| id.is_empty())
    }
}

/// A request together with the kind the oracle judges it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub kind: Kind,
    pub request: Request,
}

/// Where a path parameter's value comes from, decided when the case is sent: the fuzzer's
/// cases name the role of an ID, so the same case means the same thing on any target and
/// when it is replayed (a failed task is consumed once; a replay takes a fresh one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// The target's own project or cluster.
    Own,
    /// A failed task taken from the target's pool (action_id only).
    FailedTask,
    /// A well-formed ID that names nothing on the target.
    Unknown,
    /// This exact value, in wire form.
    Literal(String),
}

/// A case before its IDs are chosen: what the fuzzer generates, shrinks and stores.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Draft {
    pub kind: Kind,
    pub project_id: Slot,
    pub cluster_id: Slot,
    pub action_id: Slot,
    pub retry_mode: Vec<String>,
    #[serde(default)]
    pub extra_query: Vec<(String, String)>,
    pub credentials: Credentials,
}

/// A project ID and a UUID of the observed formats that no target holds.
pub const UNKNOWN_PROJECT_ID: &str = "00000000000040008000000000005e57";
pub const UNKNOWN_UUID: &str = "00000000-5e57-4000-8000-000000000000";

impl Draft {
    /// The concrete case for `target`, or `None` when it needs a failed task and none is left.
    pub fn resolve(&self, target: &Target) -> Option<Case> {
        let f = &target.fixtures;
        let pick = |slot: &Slot, own: &str, unknown: &str| -> Option<String> {
            Some(match slot {
                Slot::Own => own.to_owned(),
                Slot::FailedTask => target.take_failed_task()?,
                Slot::Unknown => unknown.to_owned(),
                Slot::Literal(v) => v.clone(),
            })
        };
        Some(Case {
            kind: self.kind,
            request: Request {
                project_id: pick(&self.project_id, &f.project_id, UNKNOWN_PROJECT_ID)?,
                cluster_id: pick(&self.cluster_id, &f.cluster_id, UNKNOWN_UUID)?,
                action_id: pick(&self.action_id, UNKNOWN_UUID, UNKNOWN_UUID)?,
                retry_mode: self.retry_mode.clone(),
                extra_query: self.extra_query.clone(),
                credentials: self.credentials,
                method: None,
            },
        })
    }

    /// Whether sending it may change a task on a target that does not conform.
    pub fn mutates(&self) -> bool {
        self.action_id == Slot::FailedTask
    }
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
            let value = match &rest[open + 1..close] {
                "project_id" => &self.project_id,
                "cluster_id" => &self.cluster_id,
                "action_id" => &self.action_id,
                _ => {
                    // Not a parameter of this operation: the template text stays.
                    path.push_str(&rest[open..=close]);
                    rest = &rest[close + 1..];
                    continue;
                }
            };
            path.extend(utf8_percent_encode(value, SEGMENT));
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

    /// The kind a request with these `retry_mode` values is, for a failed task.
    pub fn retry_mode_kind(&self, spec: &Spec) -> Kind {
        let allowed = &spec.retry_mode().allowed_values;
        match self.retry_mode.as_slice() {
            [] => Kind::Retry,
            [one] if allowed.iter().any(|a| a == one) => Kind::Abort,
            [_] => Kind::InvalidRetryMode,
            _ => Kind::RepeatedRetryMode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(action: &str, modes: &[&str]) -> Request {
        Request {
            project_id: "p".into(),
            cluster_id: "c".into(),
            action_id: action.into(),
            retry_mode: modes.iter().map(|s| s.to_string()).collect(),
            extra_query: Vec::new(),
            credentials: Credentials::Valid,
            method: None,
        }
    }

    #[test]
    fn renders_the_template_with_encoded_segments_and_query() {
        let spec = Spec::embedded();
        let mut r = request("a b/%2Fé", &[" abort", "x&y"]);
        r.extra_query.push(("dry run".into(), "1".into()));
        assert_eq!(
            r.path_and_query(&spec),
            "/v1.0/p/clusters/c/upgrade/a%20b%2F%2F%C3%A9/retry?retry_mode=%20abort&retry_mode=x%26y&dry%20run=1"
        );
    }

    #[test]
    fn classifies_retry_mode_values() {
        let spec = Spec::embedded();
        assert_eq!(request("a", &[]).retry_mode_kind(&spec), Kind::Retry);
        assert_eq!(request("a", &["abort"]).retry_mode_kind(&spec), Kind::Abort);
        assert_eq!(
            request("a", &["ABORT"]).retry_mode_kind(&spec),
            Kind::InvalidRetryMode
        );
        assert_eq!(
            request("a", &[""]).retry_mode_kind(&spec),
            Kind::InvalidRetryMode
        );
        assert_eq!(
            request("a", &["abort", "abort"]).retry_mode_kind(&spec),
            Kind::RepeatedRetryMode
        );
    }
}
