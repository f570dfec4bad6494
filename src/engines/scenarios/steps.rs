//! The step definitions, in the domain's words. A scenario builds one case at a time (Given:
//! which task, which credentials; When: how it is retried), sends it to the run's target, has
//! the oracle judge the answer, and its Then steps fail with the oracle's verdict. The
//! contract itself is not written here: a Then step only checks that its wording agrees with
//! the spec's expectation for the case, then asks the oracle.

use std::sync::Arc;

use cucumber::{given, then, when};

use crate::contract::request::{Credentials, Request};
use crate::contract::spec::{IdParam, Kind};
use crate::engines::scenarios::run_state::Wants;
use crate::engines::scenarios::world::Conformance;
use crate::records::judgement::Skip;
use crate::transport::target::Auth;

/// Reads a value cell of an Examples table: a JSON string (`" abort"`, `"\u0430bort"`),
/// optionally repeated (`"ab" * 5000`); for retry_mode also `absent` or a JSON array of
/// strings (the parameter given once per element). Gherkin trims cells, hence the quotes.
pub(crate) fn parse_values(cell: &str) -> Result<Vec<String>, String> {
    let cell = cell.trim();
    if cell == "absent" {
        return Ok(Vec::new());
    }
    if cell.starts_with('[') {
        return serde_json::from_str(cell).map_err(|e| format!("{cell}: {e}"));
    }
    let (literal, times) = match cell.rsplit_once(" * ") {
        Some((l, n)) => (
            l,
            n.trim()
                .parse::<usize>()
                .map_err(|e| format!("{cell}: repeat count: {e}"))?,
        ),
        None => (cell, 1),
    };
    let value: String = serde_json::from_str(literal).map_err(|e| format!("{cell}: {e}"))?;
    Ok(vec![value.repeat(times)])
}

fn one_value(cell: &str) -> String {
    match parse_values(cell) {
        Ok(mut v) if v.len() == 1 => v.remove(0),
        Ok(_) => panic!("{cell}: an ID cell holds exactly one JSON string"),
        Err(e) => panic!("{e}"),
    }
}

#[given("a failed upgrade task")]
fn a_failed_task(w: &mut Conformance) {
    if let Some(task) = w.real_task(Wants::FailedTask) {
        let f = w.run_state.target.fixtures();
        let (project, cluster) = (f.project_id.clone(), f.cluster_id.clone());
        w.set_up(Kind::Retry, project, cluster, task);
    }
}

#[given("an upgrade task that is not failed")]
fn a_task_not_failed(w: &mut Conformance) {
    // A server that does not conform might act on a real task, failed or not: a configured
    // one, or one an accepted retry or abort of this run took out of the failed state.
    if let Some(task) = w.real_task(Wants::TaskNotFailed) {
        let f = w.run_state.target.fixtures();
        let (project, cluster) = (f.project_id.clone(), f.cluster_id.clone());
        w.set_up(Kind::TaskNotFailed, project, cluster, task);
    }
}

#[given("an unknown upgrade task")]
fn an_unknown_task(w: &mut Conformance) {
    let f = w.run_state.target.fixtures();
    let (project, cluster) = (f.project_id.clone(), f.cluster_id.clone());
    let task = w.run_state.synthetic_id();
    w.set_up(Kind::UnknownTask, project, cluster, task);
}

#[given("an upgrade task of an unknown cluster")]
fn a_task_of_an_unknown_cluster(w: &mut Conformance) {
    let project = w.run_state.target.fixtures().project_id.clone();
    let (cluster, task) = (w.run_state.synthetic_id(), w.run_state.synthetic_id());
    w.set_up(Kind::UnknownCluster, project, cluster, task);
}

#[given("a failed upgrade task named under an unknown cluster")]
fn a_failed_task_under_an_unknown_cluster(w: &mut Conformance) {
    // Only a server that ignores cluster_id would act on it; that is the point of asking.
    if let Some(task) = w.real_task(Wants::FailedTask) {
        let project = w.run_state.target.fixtures().project_id.clone();
        let cluster = w.run_state.synthetic_id();
        w.set_up(Kind::UnknownCluster, project, cluster, task);
    }
}

#[given("an upgrade task in the project of another account")]
fn a_task_of_another_account(w: &mut Conformance) {
    let f = w.run_state.target.fixtures();
    match f.foreign_project_id.clone() {
        Some(project) => {
            let cluster = f.cluster_id.clone();
            let task = w.run_state.synthetic_id();
            w.set_up(Kind::ForeignProject, project, cluster, task);
        }
        None => w.skip(Skip::NoForeignProject),
    }
    w.needs.foreign_project = true;
}

#[given("I send no credentials")]
fn no_credentials(w: &mut Conformance) {
    if w.skipped.is_none() {
        w.request_mut().credentials = Credentials::Missing;
    }
}

#[given("I send wrong credentials")]
fn wrong_credentials(w: &mut Conformance) {
    if w.skipped.is_none() {
        w.request_mut().credentials = Credentials::Wrong;
    }
}

#[given(regex = r"^I sign it with (a tampered signature|a stale X-Sdk-Date)$")]
fn signed_wrongly(w: &mut Conformance, how: String) {
    w.needs.aksk = true;
    if !matches!(w.run_state.target.auth(), Auth::AkSk { .. }) {
        w.skip(Skip::NeedsAkSk);
    }
    if w.skipped.is_none() {
        w.request_mut().credentials = if how.contains("tampered") {
            Credentials::TamperedSignature
        } else {
            Credentials::StaleDate
        };
    }
}

#[when(regex = r"^I retry it(?: again)?$")]
async fn retry(w: &mut Conformance) {
    w.send(Vec::new()).await;
}

#[when(regex = r"^I send it with the method (GET|POST|DELETE|PATCH|HEAD|OPTIONS|TRACE)$")]
async fn other_method(w: &mut Conformance, method: String) {
    if w.skipped.is_none() {
        w.request_mut().method = Some(method);
    }
    w.send(Vec::new()).await;
}

#[when("I abort it")]
async fn abort(w: &mut Conformance) {
    w.send(vec!["abort".to_owned()]).await;
}

#[when(regex = r"^I retry it with retry_mode (.+)$")]
async fn retry_with_mode(w: &mut Conformance, cell: String) {
    let values = parse_values(&cell).unwrap_or_else(|e| panic!("{e}"));
    w.send(values).await;
}

#[when(regex = r"^I retry it with the (project_id|cluster_id|action_id) set to (.+)$")]
async fn retry_with_id(w: &mut Conformance, param: String, cell: String) {
    if w.skipped.is_none() {
        let value = one_value(&cell);
        let param = IdParam::from_name(&param).expect("the step's pattern names a path parameter");
        *w.request_mut().id_mut(param) = value;
        w.malformed = true;
    }
    w.send(Vec::new()).await;
}

#[when(regex = r"^I retry it with the unknown query parameter (.+)=(.+)$")]
async fn retry_with_extra(w: &mut Conformance, name: String, value: String) {
    if w.skipped.is_none() {
        w.request_mut()
            .extra_query
            .push((one_value(&name), one_value(&value)));
    }
    w.send(Vec::new()).await;
}

#[then("the unknown parameter is ignored or the request rejected as invalid")]
fn extra_ignored_or_rejected(w: &mut Conformance) {
    w.judged(
        "the unknown parameter is ignored or the request rejected as invalid",
        |e| e.kind == Kind::ExtraParameter,
    );
}

#[then("the task is retried")]
fn task_retried(w: &mut Conformance) {
    w.judged("the task is retried", |e| {
        e.kind == Kind::Retry && e.accepts()
    });
}

#[then("the task is aborted")]
fn task_aborted(w: &mut Conformance) {
    w.judged("the task is aborted", |e| {
        e.kind == Kind::Abort && e.accepts()
    });
}

#[then("the request is rejected as invalid")]
fn rejected_as_invalid(w: &mut Conformance) {
    w.judged("the request is rejected as invalid", |e| {
        !e.accepts() && e.outcomes[0].status == 400
    });
}

#[then("the request is rejected")]
fn rejected(w: &mut Conformance) {
    w.judged("the request is rejected", |e| !e.accepts());
}

#[then("the task is left as it was")]
fn task_left_as_it_was(w: &mut Conformance) {
    // What the answer says is not judged (another method is not the operation); what the
    // task does next is, once the run has sent the request that follows on it.
    w.judged("the task is left as it was", |e| e.never_acts.is_some());
}

#[then("the request is refused")]
fn refused(w: &mut Conformance) {
    w.judged("the request is refused", |e| {
        e.outcomes.iter().all(|o| o.status == 403)
    });
}

#[then("the response has no body")]
fn no_body(w: &mut Conformance) {
    let clause = w.run_state.spec.rules.empty_success_body.clone();
    if let Some(v) = w.judged("the response has no body", |e| e.accepts()) {
        assert!(v.checked.contains(&clause), "{clause} was not exercised");
    }
}

#[then("the response carries the error body")]
fn error_body(w: &mut Conformance) {
    let clause = w.run_state.spec.rules.error_body.clone();
    if let Some(v) = w.judged("the response carries the error body", |e| !e.accepts()) {
        assert!(v.checked.contains(&clause), "{clause} was not exercised");
    }
}

#[then("the answer has a documented status")]
fn documented_status(w: &mut Conformance) {
    w.judged("the answer has a documented status", |_| true);
}

#[when("I send it through every door the plan gives it")]
async fn through_every_door(w: &mut Conformance) {
    w.needs.doors = true;
    let Some(base) = w.request.clone() else {
        return;
    };
    let run_state = Arc::clone(&w.run_state);
    for (_, door) in run_state.door_group() {
        // A form the target serves as the operation would be the retry on a real task (which
        // may act): it is no door there, and sent on one it would take the task another
        // scenario needs.
        if door.may_be_served(&run_state.spec) && run_state.serves(&door).await {
            continue;
        }
        let unknown = run_state.synthetic_id();
        let request = door.request(run_state.target.fixtures(), &base.action_id, &unknown);
        if matches!(
            request.credentials,
            Credentials::TamperedSignature | Credentials::StaleDate
        ) && !matches!(run_state.target.auth(), Auth::AkSk { .. })
        {
            continue;
        }
        w.send_once(request, door.kind, &base.action_id).await;
    }
}

#[then("every door is refused or is not the operation")]
fn every_door_refused(w: &mut Conformance) {
    w.all_judged("every door is refused or is not the operation", |e| {
        e.not_the_operation || !e.accepts()
    });
}

#[when("I retry it and abort it, each unless the run sent it on the task already")]
async fn retry_and_abort_once(w: &mut Conformance) {
    w.needs.probes = true;
    let Some(base) = w.request.clone() else {
        return;
    };
    let kind = w.kind(&base);
    for retry_mode in [
        Vec::new(),
        vec![w.run_state.spec.retry_mode().allowed_values[0].clone()],
    ] {
        let request = Request {
            retry_mode,
            ..base.clone()
        };
        w.send_once(request, kind, &base.action_id).await;
    }
}

#[then("each is rejected as invalid")]
fn each_rejected_as_invalid(w: &mut Conformance) {
    w.all_judged("each is rejected as invalid", |e| {
        !e.accepts() && e.outcomes[0].status == 400
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_value_cells() {
        assert_eq!(parse_values("absent").unwrap(), Vec::<String>::new());
        assert_eq!(parse_values(r#"" abort""#).unwrap(), [" abort"]);
        assert_eq!(parse_values(r#""""#).unwrap(), [""]);
        assert_eq!(parse_values(r#""\u0430bort""#).unwrap(), ["аbort"]);
        assert_eq!(
            parse_values(r#"["abort", "abort"]"#).unwrap(),
            ["abort", "abort"]
        );
        assert_eq!(parse_values(r#""ab" * 3"#).unwrap(), ["ababab"]);
        assert!(parse_values("abort").is_err());
        assert!(parse_values(r#""a" * x"#).is_err());
    }
}
