//! The stub's deliberate departures from the contract, one per way a careless server goes
//! wrong. Each is a thin layer around the one classifier and the spec's answers: it changes
//! what the classifier is shown (the request, a task's state) or the answer given for the kind
//! it says, never the rule itself.

use std::borrow::Cow;

use crate::contract::classify::{Identity, Parts, TaskState};
use crate::contract::spec::{IdParam, Kind, Spec};

/// A deliberate departure from the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Deviation {
    /// Any `retry_mode` value, or several, is taken as a valid one.
    AcceptsAnyRetryMode,
    /// `retry_mode` is compared without regard to case, so `ABORT` aborts.
    AcceptsUpperCaseAbort,
    /// A 200 carries a JSON body.
    BodyOnSuccess,
    /// Missing or wrong credentials get 401 instead of 403.
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
    /// A refused request that names a failed task acts on it all the same.
    ActsOnRefusal,
    /// Another method on a failed task's path retries it, though it answers 405.
    OtherMethodActs,
    /// An accepted retry or abort answers 200 and leaves the task failed.
    AcceptsWithoutActing,
    /// A request without credentials that names a failed task acts on it, though refused.
    ActsOnMissingCredentials,
    /// A request with wrong credentials (a token no IAM issued, a bad signature) that names a
    /// failed task acts on it, though refused.
    ActsOnInvalidCredentials,
    /// A retry_mode other than `abort` is refused, but the task is retried all the same.
    ActsOnInvalidRetryMode,
    /// retry_mode given twice is refused, but the task is retried all the same.
    ActsOnRepeatedRetryMode,
    /// A malformed ID (another case, an appended character) is refused, but the task it names
    /// is retried all the same.
    ActsOnMalformedId,
    /// A failed task named under an unknown cluster is refused, but retried all the same.
    ActsOnUnknownCluster,
    /// A failed task named under another account's project is refused, but retried.
    ActsOnForeignProject,
    /// A request in a form the page does not define (a slash at the end of the path, a
    /// doubled slash, its words in capitals, a method-override header, a body) is refused,
    /// but the task it names is retried all the same.
    ActsOnOtherShape,
    /// A refused request that names a failed task acts on it one second later.
    ActsLateOnRefusal,
    /// An accepted retry or abort also retries another failed task of the cluster (the next
    /// one the read API lists), which no request named.
    ActsOnNeighbour,
    /// A refused request of one family of the spec's grammar (`acts-through=FAMILY`; of any
    /// family without one) that names a failed task acts on it all the same.
    ActsThrough,
    /// After an accepted retry, an abort of the task is accepted too (and a retry after an
    /// accepted abort).
    AcceptsOtherKindSecond,
    /// An accepted abort runs the task again (the read API shows it RUNNING) instead of
    /// terminating it.
    AbortRunsTask,
    /// A plain retry of a failed task is refused as not in the failed state (400 CSS.5090),
    /// though the read API shows it FAILED: what no fixture explains.
    RejectsRetryAsNotFailed,
}

/// Each deviation, in the order of the enum: its name on the command line
/// (`--stub-deviation accepts-upper-case-abort`) and what it does, in a line (the `--help`
/// text).
const ROWS: [(Deviation, &str, &str); 34] = [
    (
        Deviation::AcceptsAnyRetryMode,
        "accepts-any-retry-mode",
        "Any `retry_mode` value, or several, is taken as a valid one",
    ),
    (
        Deviation::AcceptsUpperCaseAbort,
        "accepts-upper-case-abort",
        "`retry_mode` is compared without regard to case, so `ABORT` aborts",
    ),
    (
        Deviation::BodyOnSuccess,
        "body-on-success",
        "A 200 carries a JSON body",
    ),
    (
        Deviation::Unauthorized401,
        "unauthorized-401",
        "Missing or wrong credentials get 401 instead of 403",
    ),
    (
        Deviation::ServerErrorOnLongId,
        "server-error-on-long-id",
        "An ID longer than 64 characters makes it fail with 500",
    ),
    (
        Deviation::IgnoresMissingCredentials,
        "ignores-missing-credentials",
        "A request without credentials is served as if it had valid ones",
    ),
    (
        Deviation::ServerErrorOnEncodedId,
        "server-error-on-encoded-id",
        "A percent-encoded character in an ID makes it fail with 500",
    ),
    (
        Deviation::RejectsRetry,
        "rejects-retry",
        "A plain retry (no retry_mode) of a failed task is refused with 400",
    ),
    (
        Deviation::RejectsAbort,
        "rejects-abort",
        "An abort (`retry_mode=abort`) of a failed task is refused with 400",
    ),
    (
        Deviation::AcceptsUpperCaseId,
        "accepts-upper-case-id",
        "IDs are compared without regard to case, so an upper-case ID is taken as valid",
    ),
    (
        Deviation::NotFoundForMalformedId,
        "not-found-for-malformed-id",
        "A malformed ID gets 404, a status the page does not document",
    ),
    (
        Deviation::IgnoresClusterId,
        "ignores-cluster-id",
        "The cluster_id is not looked at: any well-formed one reaches the task",
    ),
    (
        Deviation::AcceptsUnknownTask,
        "accepts-unknown-task",
        "An unknown task is \"retried\" with 200 as if it were a failed one",
    ),
    (
        Deviation::IgnoresProjectId,
        "ignores-project-id",
        "The project_id is not checked against the credentials: another project is served",
    ),
    (
        Deviation::BareErrors,
        "bare-errors",
        "A 400 or 403 comes without the error body",
    ),
    (
        Deviation::AcceptsAnyToken,
        "accepts-any-token",
        "Any token is taken as valid",
    ),
    (
        Deviation::RetriesOnAnyMethod,
        "retries-on-any-method",
        "Any method on the path is taken as PUT, so a GET retries the task",
    ),
    (
        Deviation::ActsOnRefusal,
        "acts-on-refusal",
        "A refused request that names a failed task acts on it all the same",
    ),
    (
        Deviation::OtherMethodActs,
        "other-method-acts",
        "Another method on a failed task's path retries it, though it answers 405",
    ),
    (
        Deviation::AcceptsWithoutActing,
        "accepts-without-acting",
        "An accepted retry or abort answers 200 and leaves the task failed",
    ),
    (
        Deviation::ActsOnMissingCredentials,
        "acts-on-missing-credentials",
        "A request without credentials on a failed task is refused, but acts on it",
    ),
    (
        Deviation::ActsOnInvalidCredentials,
        "acts-on-invalid-credentials",
        "A request with wrong credentials on a failed task is refused, but acts on it",
    ),
    (
        Deviation::ActsOnInvalidRetryMode,
        "acts-on-invalid-retry-mode",
        "A retry_mode other than abort is refused, but the task is retried",
    ),
    (
        Deviation::ActsOnRepeatedRetryMode,
        "acts-on-repeated-retry-mode",
        "retry_mode given twice is refused, but the task is retried",
    ),
    (
        Deviation::ActsOnMalformedId,
        "acts-on-malformed-id",
        "An ID in another case or with an appended character is refused, but the task it names is retried",
    ),
    (
        Deviation::ActsOnUnknownCluster,
        "acts-on-unknown-cluster",
        "A failed task named under an unknown cluster is refused, but retried",
    ),
    (
        Deviation::ActsOnForeignProject,
        "acts-on-foreign-project",
        "A failed task named under another account's project is refused, but retried",
    ),
    (
        Deviation::ActsOnOtherShape,
        "acts-on-other-shape",
        "A request in a form the page does not define (a slash at the end of the path, a body ...) is refused, but retried",
    ),
    (
        Deviation::ActsLateOnRefusal,
        "acts-late-on-refusal",
        "A refused request that names a failed task acts on it one second later",
    ),
    (
        Deviation::ActsOnNeighbour,
        "acts-on-neighbour",
        "An accepted retry or abort also retries another failed task of the cluster, one no request named",
    ),
    (
        Deviation::ActsThrough,
        "acts-through",
        "A refused request of one family of the grammar (acts-through=FAMILY; any family without one) acts on its task",
    ),
    (
        Deviation::AcceptsOtherKindSecond,
        "accepts-other-kind-second",
        "After an accepted retry an abort is accepted too, and a retry after an abort",
    ),
    (
        Deviation::AbortRunsTask,
        "abort-runs-task",
        "An accepted abort runs the task again (RUNNING) instead of terminating it",
    ),
    (
        Deviation::RejectsRetryAsNotFailed,
        "rejects-retry-as-not-failed",
        "A plain retry of a failed task is refused as not in the failed state, though the read API shows it FAILED",
    ),
];

super::named::named!(Deviation, ROWS, 34);

impl Deviation {
    /// The status it fails with before looking at the request any further, if it does:
    /// `ids` decoded, `path` as on the wire.
    pub(crate) fn fails_first(self, ids: &[Cow<'_, str>; 3], path: &str) -> Option<u16> {
        let fails = match self {
            Deviation::ServerErrorOnLongId => ids.iter().any(|v| v.chars().count() > 64),
            Deviation::ServerErrorOnEncodedId => path.split('/').any(|s| s.contains('%')),
            _ => false,
        };
        fails.then_some(500)
    }

    /// Changes what the classifier is shown of a request, as a server with this fault sees
    /// it; `own` are the site's project and cluster.
    pub fn distort(self, spec: &Spec, own: [&str; 2], parts: &mut Parts<'_>) {
        let allowed = || Cow::Owned(spec.retry_mode().allowed_values[0].clone());
        let well_formed = |p: IdParam, v: &str| {
            spec.observed_format(p.name())
                .is_some_and(|re| re.is_match(v))
        };
        match self {
            Deviation::RetriesOnAnyMethod => {
                parts.method = Cow::Owned(spec.operation.method.clone())
            }
            Deviation::IgnoresMissingCredentials if parts.identity == Identity::Nothing => {
                parts.identity = Identity::Valid;
            }
            Deviation::AcceptsAnyToken if parts.identity == Identity::Invalid => {
                parts.identity = Identity::Valid;
            }
            Deviation::AcceptsUpperCaseId => {
                for id in &mut parts.ids {
                    *id = Cow::Owned(id.to_ascii_lowercase());
                }
            }
            Deviation::AcceptsAnyRetryMode if !parts.retry_mode.is_empty() => {
                parts.retry_mode = vec![allowed()];
            }
            Deviation::AcceptsUpperCaseAbort => {
                if let [one] = parts.retry_mode.as_mut_slice()
                    && spec.retry_mode().allowed_values[0].eq_ignore_ascii_case(one)
                {
                    *one = allowed();
                }
            }
            Deviation::IgnoresProjectId | Deviation::IgnoresClusterId => {
                let (param, own) = if self == Deviation::IgnoresProjectId {
                    (IdParam::Project, own[0])
                } else {
                    (IdParam::Cluster, own[1])
                };
                let id = &mut parts.ids[param as usize];
                if well_formed(param, id) {
                    *id = Cow::Owned(own.to_owned());
                }
            }
            _ => {}
        }
    }

    /// A task's state as a server with this fault takes it.
    pub fn task_state(self, state: Option<TaskState>) -> Option<TaskState> {
        match (self, state) {
            (Deviation::AcceptsUnknownTask, None) => Some(TaskState::Failed),
            _ => state,
        }
    }

    /// The kind it answers as, for a request the classifier said is `kind` (an accepted one
    /// whose `retry_mode` is `aborts` or not).
    pub(crate) fn answer_as(self, kind: Kind, accepted: bool, aborts: bool) -> Kind {
        match self {
            Deviation::RejectsRetry if accepted && !aborts => Kind::InvalidRetryMode,
            Deviation::RejectsAbort if accepted && aborts => Kind::InvalidRetryMode,
            Deviation::RejectsRetryAsNotFailed if accepted && !aborts => Kind::TaskNotFailed,
            _ => kind,
        }
    }

    /// Whether it acts on a failed task named by a `kind` request, which a conforming server
    /// acts on when it is `accepted`.
    pub fn acts(self, kind: Kind, accepted: bool) -> bool {
        let through = match self {
            Deviation::AcceptsWithoutActing => return false,
            Deviation::ActsOnRefusal => kind != Kind::OtherMethod,
            Deviation::OtherMethodActs => kind == Kind::OtherMethod,
            Deviation::ActsOnMissingCredentials => kind == Kind::MissingCredentials,
            Deviation::ActsOnInvalidCredentials => kind == Kind::InvalidCredentials,
            Deviation::ActsOnInvalidRetryMode => kind == Kind::InvalidRetryMode,
            Deviation::ActsOnRepeatedRetryMode => kind == Kind::RepeatedRetryMode,
            Deviation::ActsOnMalformedId => kind == Kind::MalformedId,
            Deviation::ActsOnUnknownCluster => kind == Kind::UnknownCluster,
            Deviation::ActsOnForeignProject => kind == Kind::ForeignProject,
            Deviation::ActsOnOtherShape => kind == Kind::OtherShape,
            _ => false,
        };
        accepted || through
    }

    /// How long after a refused `kind` request on a failed task it acts on it, if it does late.
    pub(crate) fn acts_late(self, kind: Kind, accepted: bool) -> Option<std::time::Duration> {
        (self == Deviation::ActsLateOnRefusal && !accepted && kind != Kind::OtherMethod)
            .then_some(std::time::Duration::from_secs(1))
    }

    /// How long its effects take to land: the settle period a run against it needs.
    pub fn settle(self) -> std::time::Duration {
        match self {
            Deviation::ActsLateOnRefusal => std::time::Duration::from_millis(1_500),
            _ => std::time::Duration::ZERO,
        }
    }

    /// Whether only the read API shows it (what an accepted request did, or that a task it
    /// refused as not failed was failed).
    pub(crate) fn shows_in_the_read_api(self) -> bool {
        matches!(
            self,
            Deviation::AbortRunsTask
                | Deviation::RejectsRetryAsNotFailed
                | Deviation::ActsOnNeighbour
        )
    }

    /// The status it answers a `kind` request with, instead of the spec's `status`.
    pub fn status(self, kind: Kind, status: u16) -> u16 {
        match (self, kind) {
            (Deviation::Unauthorized401, Kind::MissingCredentials | Kind::InvalidCredentials) => {
                401
            }
            (Deviation::NotFoundForMalformedId, Kind::MalformedId) => 404,
            _ => status,
        }
    }
}
