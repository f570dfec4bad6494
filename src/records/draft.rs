//! A fuzz case before its IDs are chosen: what the fuzzer generates, shrinks and stores in a
//! finding, resolved against a target when it is sent (`engines::fuzz::strategy`).

use serde::{Deserialize, Serialize};

use crate::contract::request::{Credentials, Shape};
use crate::contract::spec::Kind;

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
    /// The one `Own` or `Unknown` would give, in capitals.
    Upper,
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
    /// Another method than the operation's (a family of the spec's grammar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A form the page does not define: the path's shape, a header, a body (a family of the
    /// spec's grammar).
    #[serde(default, skip_serializing_if = "Shape::is_plain")]
    pub shape: Shape,
}
