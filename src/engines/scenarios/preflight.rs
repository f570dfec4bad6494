//! The user's fixtures, proven before they are trusted: a wrong token, project or cluster,
//! or a task an earlier run used up, would otherwise look like a server that breaks clauses.
//! Before a live endpoint is judged, one safe request (a retry of a task that does not exist,
//! with the run's credentials) shows whether the credentials, the project and the cluster
//! are real; with the read API, each configured failed task is read and must be failed.

use std::fmt;

use crate::contract::oracle;
use crate::contract::request::{Credentials, Request};
use crate::engines::scenarios::run_state::RunState;
use crate::transport::target::ReadError;

/// What is wrong with the fixtures, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixtureError {
    /// Every request with the run's credentials on its project is refused.
    Refused {
        project: String,
        status: u16,
        code: Option<String>,
    },
    /// The cluster is not one of the project's.
    Cluster { cluster: String, code: String },
    /// The read API could not be read with the run's credentials.
    Unreadable { why: ReadError },
    /// A configured failed task the read API does not list.
    UnknownTask { task: String, cluster: String },
    /// A configured failed task the read API lists in another state.
    NotFailed { task: String, status: String },
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixtureError::Refused {
                project,
                status,
                code,
            } => write!(
                f,
                "the target refuses the requests of project {project} with {status}{}: check the token (or the AK/SK), that it belongs to this project, and the project ID (--project-id); nothing is judged with credentials it refuses",
                code.as_ref().map(|c| format!(" {c}")).unwrap_or_default()
            ),
            FixtureError::Cluster { cluster, code } => write!(
                f,
                "cluster {cluster} is not a cluster of the project ({code}): check --cluster-id (fixtures.cluster_id)"
            ),
            FixtureError::Unreadable { why } => {
                write!(f, "the read API cannot be read: {why}")
            }
            FixtureError::UnknownTask { task, cluster } => write!(
                f,
                "failed task {task} is not a task of cluster {cluster} (the read API does not list it): check --failed-action-id"
            ),
            FixtureError::NotFailed { task, status } => write!(
                f,
                "failed task {task} is {status}, not failed: an earlier run may have retried or aborted it; give a task in the failed state (--failed-action-id)"
            ),
        }
    }
}

/// The answers to a request with the run's credentials that say they are not the caller's:
/// a refusal of the credentials or the tenant, or no such cluster, by any code the vendor's
/// table gives for it, except the codes it gives for the unknown task the probe names too
/// (an answer a conforming server gives the probe is never a fixture error).
fn judge(run_state: &RunState, status: u16, code: Option<String>) -> Option<FixtureError> {
    use crate::contract::spec::Kind;
    let f = &run_state.target.fixtures;
    let spec = &run_state.spec;
    let code_ref = code.as_deref();
    let says = |kind: Kind| {
        spec.expectation(kind).is_refusal(spec, status, code_ref)
            && !spec
                .expectation(Kind::UnknownTask)
                .is_refusal(spec, status, code_ref)
    };
    let refused = status == 401
        || (status == 403 && code.is_none())
        || says(Kind::InvalidCredentials)
        || says(Kind::ForeignProject);
    if refused {
        return Some(FixtureError::Refused {
            project: f.project_id.clone(),
            status,
            code,
        });
    }
    says(Kind::UnknownCluster).then(|| FixtureError::Cluster {
        cluster: f.cluster_id.clone(),
        code: code.unwrap_or_default(),
    })
}

/// What is wrong with the run's fixtures, found with one safe request and, where the
/// target serves it, the read API (nothing: they may be used). A target that does not
/// answer is not a fixture error: the run says so itself.
pub async fn prove(run_state: &RunState) -> Vec<FixtureError> {
    let f = &run_state.target.fixtures;
    let mut errors = Vec::new();
    let probe = Request {
        project_id: f.project_id.clone(),
        cluster_id: f.cluster_id.clone(),
        action_id: run_state.synthetic_id(),
        retry_mode: Vec::new(),
        extra_query: Vec::new(),
        credentials: Credentials::Valid,
        method: None,
    };
    if let Ok(answer) = run_state.target.send(&run_state.spec, &probe).await
        && let Some(e) = judge(run_state, answer.status, oracle::error_code(&answer))
    {
        errors.push(e);
    }
    if !errors.is_empty() || !run_state.target.reads_tasks() {
        return errors;
    }
    let api = &run_state.spec.read_api;
    for task in &f.failed_action_ids {
        match run_state.target.task_status(&run_state.spec, task).await {
            Err(why) => {
                errors.push(FixtureError::Unreadable { why });
                break;
            }
            Ok(None) => errors.push(FixtureError::UnknownTask {
                task: task.clone(),
                cluster: f.cluster_id.clone(),
            }),
            Ok(Some(status)) if !api.is_failed(&status) => errors.push(FixtureError::NotFailed {
                task: task.clone(),
                status,
            }),
            Ok(Some(_)) => {}
        }
    }
    errors
}
