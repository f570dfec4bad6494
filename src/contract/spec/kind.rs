//! What kind of request a case is: the one vocabulary of the classifier, the oracle and the
//! stub.

use std::fmt;

use serde::{Deserialize, Serialize};

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
