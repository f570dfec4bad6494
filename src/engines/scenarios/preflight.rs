//! The user's fixtures, proven before they are trusted: a wrong token, project, cluster or
//! base URL, a task given twice or of the wrong shape, or a task an earlier run used up, would
//! otherwise look like a server that breaks clauses, and would use up the good tasks given
//! with it. What can be told without a request is told first (duplicates, shapes, the ledger
//! of used tasks); then one safe request (a retry of a task that does not exist, with the
//! run's credentials) shows whether the target answers as the CSS API does and whether the
//! credentials, the project and the cluster are real, with two more where its answer could be
//! either; with the read API, each configured failed task is read and must be failed.

use std::fmt;

use crate::contract::oracle;
use crate::contract::request::{Request, Response};
use crate::contract::spec::{IdParam, Kind, Spec};
use crate::engines::scenarios::run_state::RunState;
use crate::fixtures::Fixtures;
use crate::ledger::Used;
use crate::records::suspect::Suspicion;
use crate::settings::setting;
use crate::transport::target::ReadError;

use crate::settings::options::{LEDGER, REUSE_TASKS};
use crate::settings::{Flag, flag};

const FAILED_TASKS: &Flag = flag("fixtures.failed_action_ids");
const READ_API: &Flag = flag("read_api");
const NOT_FAILED_TASK: &Flag = flag("fixtures.not_failed_action_id");

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
    /// A task that is not failed is refused as another's: the project or the cluster is not
    /// the caller's.
    ProjectOrCluster {
        project: String,
        cluster: String,
        status: u16,
        code: Option<String>,
    },
    /// The read API could not be read with the run's credentials.
    Unreadable { why: ReadError },
    /// A configured failed task the read API does not list.
    UnknownTask { task: String, cluster: String },
    /// A configured failed task the read API lists in another state.
    NotFailed { task: String, status: String },
    /// A failed task given more than once.
    Twice { task: String },
    /// An ID without the shape of the vendor's IDs.
    Shape {
        /// The profile key it was given as.
        key: &'static str,
        id: String,
        shape: String,
    },
    /// The endpoint does not answer as the CSS API does.
    NotTheApi { endpoint: String, answer: String },
    /// An earlier run used the task (the ledger of used tasks says so).
    Used {
        used: Used,
        /// The ledger's file, where it is not the default one (`tasks list` needs it named).
        ledger: Option<std::path::PathBuf>,
    },
}

/// The flag (or way) a profile key is given by.
fn ways(key: &str) -> String {
    setting(key).map_or_else(|| key.to_owned(), |s| s.ways())
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
                "the target refuses the requests of project {project} with {status}{}: check the token (or the AK/SK), that it belongs to this project, and the project ID ({}); nothing is judged with credentials it refuses",
                code.as_ref()
                    .map(|c| format!(" {}", crate::shown::inert(c)))
                    .unwrap_or_default(),
                ways("project_id")
            ),
            FixtureError::ProjectOrCluster {
                project,
                cluster,
                status,
                code,
            } => write!(
                f,
                "the target refuses a task that is not failed of project {project}, cluster {cluster} with {status}{}, as it refuses a project or a cluster that is not yours: check the project ID ({}), the cluster ID ({}), and that the token (or the AK/SK) belongs to the project",
                code.as_ref()
                    .map(|c| format!(" {}", crate::shown::inert(c)))
                    .unwrap_or_default(),
                ways("project_id"),
                ways("fixtures.cluster_id")
            ),
            FixtureError::Cluster { cluster, code } => write!(
                f,
                "cluster {cluster} is not a cluster of the project ({}): check {}",
                crate::shown::inert(code),
                ways("fixtures.cluster_id")
            ),
            FixtureError::Unreadable { why } => {
                write!(f, "the read API cannot be read: {why}")
            }
            FixtureError::UnknownTask { task, cluster } => write!(
                f,
                "failed task {task} is not a task of cluster {cluster} (the read API does not list it): check {FAILED_TASKS}"
            ),
            FixtureError::NotFailed { task, status } => write!(
                f,
                "failed task {task} is {}, not failed: an earlier run may have retried or aborted it, or it never was a failed task; give a task in the failed state ({FAILED_TASKS})",
                crate::shown::inert(status)
            ),
            FixtureError::Twice { task } => write!(
                f,
                "failed task {task} is given twice: a task can be retried or aborted once; give each failed task once ({})",
                ways("fixtures.failed_action_ids")
            ),
            FixtureError::Shape { key, id, shape } => write!(
                f,
                "`{}` does not have the shape of the vendor's IDs ({shape}; no page states a format, but every example and the SDK's IDs have it): check {}",
                crate::shown::inert(id),
                ways(key)
            ),
            FixtureError::NotTheApi { endpoint, answer } => write!(
                f,
                "{endpoint} does not answer as the CSS API does: a retry of a task that does not exist got {answer}, not the vendor's JSON error (400 or 403 with error_code and error_msg); check the base URL ({})",
                ways("endpoint")
            ),
            FixtureError::Used { used, ledger } => write!(
                f,
                "failed task {} was used by an earlier run (the run that began {}, at {}): it may no longer be failed; give a task in the failed state (or {REUSE_TASKS} if it was restored; `css-conformance tasks list{}` shows the ledger)",
                crate::shown::inert(&used.task),
                crate::shown::inert(used.run.strip_prefix("check ").unwrap_or(&used.run)),
                crate::shown::inert(&used.at),
                ledger.as_ref().map_or(String::new(), |file| format!(
                    " {LEDGER} {}",
                    crate::shown::inert(&file.display().to_string())
                ))
            ),
        }
    }
}

/// What can be told of the fixtures without a request: a failed task given twice, an ID
/// without the shape of the vendor's IDs.
pub fn without_requests(spec: &Spec, fixtures: &Fixtures) -> Vec<FixtureError> {
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for task in &fixtures.failed_action_ids {
        if !seen.insert(task) {
            errors.push(FixtureError::Twice { task: task.clone() });
        }
    }
    let shaped = |key: &'static str, param: IdParam, id: &str| {
        let format = spec.observed_format(param.name())?;
        (!format.is_match(id)).then(|| FixtureError::Shape {
            key,
            id: id.to_owned(),
            shape: shape_of(param),
        })
    };
    let ids = [
        ("project_id", IdParam::Project, Some(&fixtures.project_id)),
        (
            "fixtures.cluster_id",
            IdParam::Cluster,
            Some(&fixtures.cluster_id),
        ),
        (
            "fixtures.foreign_project_id",
            IdParam::Project,
            fixtures.foreign_project_id.as_ref(),
        ),
        (
            "fixtures.not_failed_action_id",
            IdParam::Action,
            fixtures.not_failed_action_id.as_ref(),
        ),
    ];
    for (key, param, id) in ids {
        errors.extend(id.and_then(|id| shaped(key, param, id)));
    }
    for task in &fixtures.failed_action_ids {
        errors.extend(shaped("fixtures.failed_action_ids", IdParam::Action, task));
    }
    errors
}

/// The shape of an ID, in words.
fn shape_of(param: IdParam) -> String {
    match param {
        IdParam::Project => "32 lowercase hexadecimal characters".to_owned(),
        _ => "a UUID in lowercase, 8-4-4-4-12 hexadecimal characters".to_owned(),
    }
}

/// What the ledger says earlier runs used, and its file where it is not the default one.
pub struct Earlier<'a> {
    pub used: &'a [Used],
    pub file: Option<&'a std::path::Path>,
}

/// The tasks of `fixtures` at `endpoint` the ledger says an earlier run used.
pub(crate) fn used_before(
    endpoint: &str,
    fixtures: &Fixtures,
    ledger: &Earlier<'_>,
) -> Vec<FixtureError> {
    fixtures
        .failed_action_ids
        .iter()
        .filter_map(|task| {
            let used = ledger
                .used
                .iter()
                .rev()
                .find(|u| u.is(endpoint, &fixtures.project_id, &fixtures.cluster_id, task))?;
            Some(FixtureError::Used {
                used: used.clone(),
                ledger: ledger.file.map(std::path::Path::to_path_buf),
            })
        })
        .collect()
}

/// An answer as the preflight compares it: status and error code.
type Said = (u16, Option<String>);

fn said(answer: &Response) -> Said {
    (answer.status, oracle::error_code(answer))
}

/// Whether `answer` is not what the CSS API answers a retry of a task that does not exist: a
/// page of HTML, or a status no answer of the operation has (a gateway that does not know the
/// path, a redirect).
fn not_the_api(answer: &Response) -> bool {
    let html = answer
        .content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().contains("html"))
        || answer.body.trim_ascii_start().starts_with(b"<");
    html || matches!(answer.status, 300..=399 | 404 | 405)
}

/// What the answer to the probe says of the fixtures, as far as it alone tells: credentials
/// refused, the project or the cluster another's, by any code the vendor's table gives for it
/// that it does not give for the unknown task the probe names too (an answer a conforming
/// server gives that probe is never a fixture error).
fn judge(spec: &Spec, fixtures: &Fixtures, (status, code): &Said) -> Option<FixtureError> {
    let code_ref = code.as_deref();
    let says = |kind: Kind| {
        spec.expectation(kind).is_refusal(spec, *status, code_ref)
            && !spec
                .expectation(Kind::UnknownTask)
                .is_refusal(spec, *status, code_ref)
    };
    let refused = *status == 401
        || (*status == 403 && code.is_none())
        || says(Kind::InvalidCredentials)
        || says(Kind::ForeignProject);
    if refused {
        return Some(FixtureError::Refused {
            project: fixtures.project_id.clone(),
            status: *status,
            code: code.clone(),
        });
    }
    says(Kind::UnknownCluster).then(|| FixtureError::Cluster {
        cluster: fixtures.cluster_id.clone(),
        code: code.clone().unwrap_or_default(),
    })
}

/// What is wrong with the run's fixtures: told without a request (`without_requests`, the
/// `ledger`), then with one safe request and, where the target serves it, the read API
/// (nothing: they may be used). A target that does not answer is not a fixture error: the run
/// says so itself.
pub(crate) async fn prove(run_state: &RunState, ledger: &Earlier<'_>) -> Vec<FixtureError> {
    let spec = &run_state.spec;
    let target = &run_state.target;
    let f = target.fixtures();
    let mut errors = without_requests(spec, f);
    errors.extend(used_before(target.name(), f, ledger));
    if !errors.is_empty() {
        return errors;
    }
    let probe = |project: &str, cluster: &str, action: String| {
        Request::retry(project.to_owned(), cluster.to_owned(), action)
    };
    let send = |request: Request| async move { target.send(spec, &request).await.ok() };
    let Some(answer) = send(probe(
        &f.project_id,
        &f.cluster_id,
        run_state.synthetic_id(),
    ))
    .await
    else {
        return errors;
    };
    if not_the_api(&answer) {
        errors.push(FixtureError::NotTheApi {
            endpoint: crate::shown::shorten(target.name()).to_owned(),
            answer: describe(&answer),
        });
        return errors;
    }
    let first = said(&answer);
    if let Some(e) = judge(spec, f, &first) {
        errors.push(e);
        return errors;
    }
    // A 403 a conforming server may give an unknown task, or a project or a cluster that is
    // not the caller's: told apart by what it answers for a project and a cluster that surely
    // are not (the same answer: the run's may not be either); the read API, or a task that
    // is not failed, decides it.
    if first.0 == 403 && !target.reads_tasks() {
        let foreign = f
            .foreign_project_id
            .clone()
            .unwrap_or_else(|| crate::fixtures::UNKNOWN_PROJECT_ID.to_owned());
        let project_answer = send(probe(&foreign, &f.cluster_id, run_state.synthetic_id())).await;
        let cluster_answer = send(probe(
            &f.project_id,
            &run_state.synthetic_id(),
            run_state.synthetic_id(),
        ))
        .await;
        let like = |a: &Option<Response>| a.as_ref().is_some_and(|a| said(a) == first);
        if like(&project_answer) || like(&cluster_answer) {
            if let Some(e) = decided_by_a_task_not_failed(run_state, &first).await {
                errors.push(e);
                return errors;
            }
            let why = format!(
                "check the project ({}) and the cluster ({}): the target answers an unknown task of them as it answers a project or a cluster that is not yours ({} {}), so either may be wrong; {READ_API} or {NOT_FAILED_TASK} would tell before any task is tried",
                f.project_id,
                f.cluster_id,
                first.0,
                crate::shown::inert(first.1.as_deref().unwrap_or(""))
            );
            tracing::warn!("{why}");
            run_state.suspect(Suspicion {
                why,
                status: first.0,
                error_code: first.1.clone(),
            });
        }
    }
    if !errors.is_empty() || !target.reads_tasks() {
        return errors;
    }
    read_tasks(run_state, errors).await
}

/// With a task that is not failed: a retry of it on the run's project and cluster is refused
/// as not failed (400) where they are right, as another's (403) where they are not.
async fn decided_by_a_task_not_failed(run_state: &RunState, first: &Said) -> Option<FixtureError> {
    let f = run_state.target.fixtures();
    let task = f.not_failed_action_id.clone()?;
    let request = Request::retry(f.project_id.clone(), f.cluster_id.clone(), task);
    let answer = run_state
        .target
        .send(&run_state.spec, &request)
        .await
        .ok()?;
    (answer.status == 403).then(|| FixtureError::ProjectOrCluster {
        project: f.project_id.clone(),
        cluster: f.cluster_id.clone(),
        status: first.0,
        code: first.1.clone(),
    })
}

/// Each configured failed task read through the read API: listed, and failed. The whole
/// cluster is read once, and kept: what the run's later reads of it compare with.
async fn read_tasks(run_state: &RunState, mut errors: Vec<FixtureError>) -> Vec<FixtureError> {
    let f = run_state.target.fixtures();
    let api = &run_state.spec.read_api;
    let cluster = match run_state
        .watch
        .baseline(&run_state.spec, &run_state.target)
        .await
    {
        Ok(cluster) => cluster,
        Err(why) => {
            errors.push(FixtureError::Unreadable { why });
            return errors;
        }
    };
    for task in &f.failed_action_ids {
        // A cluster longer than the pages the watch reads: the task is looked for on its own.
        let read = match cluster.get(task) {
            Some(read) => Some(read.clone()),
            None => match run_state.target.task_status(&run_state.spec, task).await {
                Ok(read) => read,
                Err(why) => {
                    errors.push(FixtureError::Unreadable { why });
                    break;
                }
            },
        };
        match read.as_ref() {
            None => errors.push(FixtureError::UnknownTask {
                task: task.clone(),
                cluster: f.cluster_id.clone(),
            }),
            Some(read) if !api.is_failed(&read.status) => {
                errors.push(FixtureError::NotFailed {
                    task: task.clone(),
                    status: read.status.clone(),
                });
            }
            Some(_) => {}
        }
    }
    errors
}

/// An answer in a few words: status, content type, the start of the body.
fn describe(answer: &Response) -> String {
    let body: String = String::from_utf8_lossy(&answer.body)
        .chars()
        .take(60)
        .collect();
    format!(
        "{} ({}) {:?}",
        answer.status,
        answer.content_type.as_deref().unwrap_or("no content type"),
        crate::shown::inert(body.trim())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_given_twice_and_ids_of_another_shape_are_found_without_a_request() {
        let spec = Spec::embedded();
        let mut f = Fixtures::builtin();
        assert!(without_requests(&spec, &f).is_empty());
        f.failed_action_ids = vec![
            "bcdb711c-a7f0-4007-b8ee-9f13c05f8326".to_owned(),
            "bcdb711c-a7f0-4007-b8ee-9f13c05f8326".to_owned(),
            "bcdb711c-a7f0-4007-b8ee-9f13c05f832".to_owned(),
        ];
        f.project_id = "6204A5BD270343B5885144CF9C8C158D".to_owned();
        let errors = without_requests(&spec, &f);
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 3, "{shown:?}");
        assert!(shown[0].contains("given twice") && shown[0].contains("--failed-action-id"));
        assert!(
            shown
                .iter()
                .any(|s| s.contains("--project-id") && s.contains("32 lowercase"))
        );
        assert!(
            shown
                .iter()
                .any(|s| s.contains("9f13c05f832`") && s.contains("UUID"))
        );
    }

    #[test]
    fn a_task_the_ledger_holds_is_named_with_the_run_that_used_it() {
        let f = Fixtures::builtin();
        let used = Used {
            endpoint: "https://css.example/".to_owned(),
            project: f.project_id.clone(),
            cluster: f.cluster_id.clone(),
            task: f.failed_action_ids[1].clone(),
            at: "2026-12-05T03:00:00Z".to_owned(),
            run: "check 2026-12-05T02:59:00Z".to_owned(),
        };
        let ledger = Earlier {
            used: std::slice::from_ref(&used),
            file: None,
        };
        let errors = used_before("https://css.example", &f, &ledger);
        assert_eq!(
            errors,
            [FixtureError::Used {
                used: used.clone(),
                ledger: None
            }]
        );
        let said = errors[0].to_string();
        assert!(said.contains("began 2026-12-05T02:59:00Z"), "{said}");
        assert!(
            said.contains("`css-conformance tasks list` shows"),
            "{said}"
        );
        assert!(used_before("https://other.example", &f, &ledger).is_empty());
        // A ledger of the user's own is named, so that `tasks list` reads that one.
        let own = Earlier {
            file: Some(std::path::Path::new("/tmp/our ledger.jsonl")),
            ..ledger
        };
        let said = used_before("https://css.example", &f, &own)[0].to_string();
        assert!(
            said.contains("`css-conformance tasks list --ledger /tmp/our ledger.jsonl` shows"),
            "{said}"
        );
    }

    #[test]
    fn an_answer_no_css_api_gives_is_told_apart_from_a_refusal() {
        let answer = |status, content_type: Option<&str>, body: &str| Response {
            status,
            content_type: content_type.map(str::to_owned),
            body: body.as_bytes().to_vec(),
            headers: Vec::new(),
            truncated: false,
        };
        assert!(not_the_api(&answer(200, Some("text/html"), "<html>")));
        assert!(not_the_api(&answer(404, Some("application/json"), "{}")));
        assert!(not_the_api(&answer(301, None, "")));
        assert!(not_the_api(&answer(403, None, "<!DOCTYPE html>")));
        let css = r#"{"error_code":"CSS.0082","error_msg":"x"}"#;
        assert!(!not_the_api(&answer(400, Some("application/json"), css)));
        assert!(!not_the_api(&answer(403, None, "")));
        // An unknown task accepted is the server's deviation, not a wrong base URL.
        assert!(!not_the_api(&answer(200, None, "")));
    }

    #[test]
    fn only_a_code_the_table_gives_for_a_refusal_and_not_for_an_unknown_task_is_a_fixture_error() {
        let spec = Spec::embedded();
        let f = Fixtures::builtin();
        let judged = |status, code: &str| judge(&spec, &f, &(status, Some(code.to_owned())));
        assert!(matches!(
            judged(403, "CSS.0010"),
            Some(FixtureError::Refused { .. })
        ));
        assert!(matches!(
            judged(403, "CSS.5045"),
            Some(FixtureError::Refused { .. })
        ));
        assert!(matches!(
            judged(400, "CSS.0047"),
            Some(FixtureError::Cluster { .. })
        ));
        // What a conforming server answers an unknown task.
        assert_eq!(judged(403, "CSS.0015"), None);
        assert_eq!(judged(400, "CSS.0082"), None);
        assert!(matches!(
            judge(&spec, &f, &(401, None)),
            Some(FixtureError::Refused { .. })
        ));
    }
}
