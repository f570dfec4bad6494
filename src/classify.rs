//! Which kind of request this is: the one rule, beside the oracle that judges by it. The stub
//! answers with it; the steps and the strategies label their cases themselves, and a test
//! proves every label equals what this function says.
//!
//! The order of the checks is the order a server meets the faults in: another method is not
//! the operation; then credentials; then the form of the IDs; then `retry_mode`; then whose
//! project and cluster; then the task's state.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::exchange::{Credentials, Request};
use crate::spec::{IdParam, Kind, Spec};

/// The credentials a request presented, as the server judged them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    Nothing,
    Valid,
    Invalid,
}

impl Identity {
    /// What a conforming server makes of credentials a request was built with.
    pub fn of(credentials: Credentials) -> Identity {
        match credentials {
            Credentials::Valid => Identity::Valid,
            Credentials::Missing => Identity::Nothing,
            Credentials::Wrong | Credentials::TamperedSignature | Credentials::StaleDate => {
                Identity::Invalid
            }
        }
    }
}

/// The state of an upgrade task, as far as the operation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    Failed,
    /// Retrying, aborted, running, done: anything but failed.
    NotFailed,
}

/// A request taken apart into what its kind depends on: the method, the path parameters and
/// the query as the server decodes them, and the credentials as the server judged them.
#[derive(Debug, Clone)]
pub struct Parts<'a> {
    pub method: Cow<'a, str>,
    /// project_id, cluster_id, action_id, decoded.
    pub ids: [Cow<'a, str>; 3],
    /// The decoded values of `retry_mode`, in order.
    pub retry_mode: Vec<Cow<'a, str>>,
    /// Whether parameters the page does not define came too.
    pub extra_query: bool,
    pub identity: Identity,
}

impl Parts<'_> {
    pub fn id(&self, param: IdParam) -> &str {
        &self.ids[param as usize]
    }
}

impl<'a> Parts<'a> {
    /// The parts of a request the tool builds, as a conforming server sees them.
    pub fn of(spec: &'a Spec, request: &'a Request) -> Parts<'a> {
        Parts {
            method: Cow::Borrowed(request.method(spec)),
            ids: IdParam::ALL.map(|p| decode(request.id(p))),
            retry_mode: request
                .retry_mode
                .iter()
                .map(|v| Cow::Borrowed(v.as_str()))
                .collect(),
            extra_query: !request.extra_query.is_empty(),
            identity: Identity::of(request.credentials),
        }
    }
}

/// Where a request lands: the caller's own project and cluster, and the state of a task
/// (`None`: no such task).
pub struct Site<'a> {
    pub project_id: &'a str,
    pub cluster_id: &'a str,
    pub task: &'a dyn Fn(&str) -> Option<TaskState>,
}

/// The kind of request `parts` is, on `site`.
pub fn classify(spec: &Spec, site: &Site<'_>, parts: &Parts<'_>) -> Kind {
    if parts.method != spec.operation.method {
        return Kind::OtherMethod;
    }
    match parts.identity {
        Identity::Nothing => return Kind::MissingCredentials,
        Identity::Invalid => return Kind::InvalidCredentials,
        Identity::Valid => {}
    }
    if IdParam::ALL.iter().any(|p| {
        !spec
            .observed_format(p.name())
            .is_some_and(|re| re.is_match(parts.id(*p)))
    }) {
        return Kind::MalformedId;
    }
    let allowed = &spec.retry_mode().allowed_values;
    match parts.retry_mode.as_slice() {
        [] => {}
        [one] if allowed.iter().any(|a| a == one) => {}
        [_] => return Kind::InvalidRetryMode,
        _ => return Kind::RepeatedRetryMode,
    }
    if parts.id(IdParam::Project) != site.project_id {
        return Kind::ForeignProject;
    }
    if parts.id(IdParam::Cluster) != site.cluster_id {
        return Kind::UnknownCluster;
    }
    match (site.task)(parts.id(IdParam::Action)) {
        None => Kind::UnknownTask,
        Some(TaskState::NotFailed) => Kind::TaskNotFailed,
        Some(TaskState::Failed) if parts.extra_query => Kind::ExtraParameter,
        Some(TaskState::Failed) if parts.retry_mode.is_empty() => Kind::Retry,
        Some(TaskState::Failed) => Kind::Abort,
    }
}

/// A percent-encoded piece of a URL, decoded (invalid UTF-8 replaced).
pub fn decode(s: &str) -> Cow<'_, str> {
    percent_decode_str(s).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(action: &str, modes: &[&str]) -> Request {
        Request {
            project_id: "6204a5bd270343b5885144cf9c8c158d".into(),
            cluster_id: "ea244205-d641-45d9-9dcb-ab2236bcd07e".into(),
            action_id: action.into(),
            retry_mode: modes.iter().map(|s| s.to_string()).collect(),
            extra_query: Vec::new(),
            credentials: Credentials::Valid,
            method: None,
        }
    }

    const FAILED: &str = "bcdb711c-a7f0-4007-b8ee-9f13c05f8326";
    const DONE: &str = "5ba5e5c1-0000-4000-8000-00000000d0e5";

    fn kind_of(request: &Request) -> Kind {
        let spec = Spec::embedded();
        let task = |id: &str| match id {
            FAILED => Some(TaskState::Failed),
            DONE => Some(TaskState::NotFailed),
            _ => None,
        };
        let site = Site {
            project_id: "6204a5bd270343b5885144cf9c8c158d",
            cluster_id: "ea244205-d641-45d9-9dcb-ab2236bcd07e",
            task: &task,
        };
        classify(&spec, &site, &Parts::of(&spec, request))
    }

    #[test]
    fn classifies_retry_mode_values() {
        assert_eq!(kind_of(&request(FAILED, &[])), Kind::Retry);
        assert_eq!(kind_of(&request(FAILED, &["abort"])), Kind::Abort);
        assert_eq!(
            kind_of(&request(FAILED, &["ABORT"])),
            Kind::InvalidRetryMode
        );
        assert_eq!(kind_of(&request(FAILED, &[""])), Kind::InvalidRetryMode);
        assert_eq!(
            kind_of(&request(FAILED, &["abort", "abort"])),
            Kind::RepeatedRetryMode
        );
    }

    #[test]
    fn faults_are_met_in_the_servers_order() {
        let mut r = request(DONE, &["x"]);
        r.credentials = Credentials::Missing;
        r.method = Some("GET".into());
        assert_eq!(kind_of(&r), Kind::OtherMethod);
        r.method = None;
        assert_eq!(kind_of(&r), Kind::MissingCredentials);
        r.credentials = Credentials::StaleDate;
        assert_eq!(kind_of(&r), Kind::InvalidCredentials);
        r.credentials = Credentials::Valid;
        r.cluster_id = "EA244205-D641-45D9-9DCB-AB2236BCD07E".into();
        assert_eq!(kind_of(&r), Kind::MalformedId);
        r.cluster_id = "00000000-5e57-4000-8000-000000000000".into();
        assert_eq!(kind_of(&r), Kind::InvalidRetryMode);
        r.retry_mode.clear();
        assert_eq!(kind_of(&r), Kind::UnknownCluster);
        r.project_id = "00000000000040008000000000005e57".into();
        assert_eq!(kind_of(&r), Kind::ForeignProject);
        assert_eq!(kind_of(&request(DONE, &[])), Kind::TaskNotFailed);
        assert_eq!(
            kind_of(&request("00000000-5e57-4000-8000-000000000000", &[])),
            Kind::UnknownTask
        );
        let mut extra = request(FAILED, &[]);
        extra.extra_query.push(("dry_run".into(), "1".into()));
        assert_eq!(kind_of(&extra), Kind::ExtraParameter);
        // An encoded ID is judged as the server decodes it.
        assert_eq!(
            kind_of(&request("bcdb711c%2Da7f0-4007-b8ee-9f13c05f8326", &[])),
            Kind::Retry
        );
    }
}
