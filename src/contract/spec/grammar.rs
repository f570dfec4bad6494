//! The grammar of requests: the dimensions a request of the operation varies in, and in each
//! the families of values the page does not allow (each a door of a failed task).

use serde::{Deserialize, Serialize};

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
    /// Statuses a gateway in front of the operation may answer a request of this form with
    /// (HTTP's own: `505` for a version it does not serve): not the operation's answer, so
    /// judged by no clause (INFO).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateway_statuses: Vec<u16>,
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
    pub(crate) fn is_default(&self) -> bool {
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
