//! No false alarms: answers that are not the operation's are not judged as if they were. The
//! gateway's 404 for a path with an empty segment is INFO; another method's 405 (without the
//! vendor's error body) is fine. And both checks still fail what they must.

use std::sync::Arc;

use css_conformance::contract::features;
use css_conformance::contract::oracle;
use css_conformance::contract::request::Response;
use css_conformance::contract::request::{Credentials, Request};
use css_conformance::contract::spec::{Kind, Spec};
use css_conformance::engines::scenarios::runner;
use css_conformance::fixtures::Fixtures;
use css_conformance::grading::report::{Grade, Report};
use css_conformance::records::judgement::ScenarioOutcome;

fn request(action_id: &str, method: Option<&str>) -> Request {
    let f = Fixtures::builtin();
    Request {
        project_id: f.project_id,
        cluster_id: f.cluster_id,
        action_id: action_id.to_owned(),
        retry_mode: Vec::new(),
        extra_query: Vec::new(),
        credentials: Credentials::Valid,
        method: method.map(str::to_owned),
        shape: css_conformance::contract::request::Shape::default(),
    }
}

fn answer(status: u16, body: &str) -> Response {
    Response {
        status,
        content_type: None,
        body: body.as_bytes().to_vec(),
        headers: Vec::new(),
        truncated: false,
    }
}

#[test]
fn a_gateway_404_for_an_empty_segment_is_info_and_nothing_else_is() {
    let spec = Spec::embedded();
    let empty = request("", None);
    let v = oracle::judge_request(&spec, Kind::MalformedId, &empty, &answer(404, "Not Found"));
    assert!(v.passed() && v.checked.is_empty(), "{v}");
    assert!(
        v.note.as_deref().is_some_and(|n| n.contains("gateway")),
        "{v}"
    );
    assert!(v.to_string().contains("INFO"), "{v}");
    // The operation's answer to the same request is judged as usual: a 200 accepts it.
    let v = oracle::judge_request(&spec, Kind::MalformedId, &empty, &answer(200, ""));
    assert!(v.violates("RUT-PATH-01"), "{v}");
    // And a 404 where no segment is empty is the operation's, undocumented.
    let unknown = request("00000000-0000-4000-8000-000000000000", None);
    let v = oracle::judge_request(&spec, Kind::UnknownTask, &unknown, &answer(404, ""));
    assert!(v.violates("RUT-STATUS-01") && v.note.is_none(), "{v}");
}

#[test]
fn another_methods_405_without_the_error_body_is_not_a_failure() {
    let spec = Spec::embedded();
    let get = request("00000000-0000-4000-8000-000000000000", Some("GET"));
    for status in [405, 404] {
        let v = oracle::judge_request(&spec, Kind::OtherMethod, &get, &answer(status, ""));
        assert!(v.passed(), "{status}: {v}");
        assert!(!v.checked.contains("RUT-STATUS-01"), "{v}");
        assert!(!v.checked.contains("RUT-ERR-01"), "{v}");
    }
    // Even a 200 is no failure: what it answered is not the operation's, and whether it acted
    // is judged by what the task does next (a note says so). A 5xx still is.
    let v = oracle::judge_request(&spec, Kind::OtherMethod, &get, &answer(200, "<html>"));
    assert!(v.passed(), "{v}");
    assert!(
        v.note
            .as_deref()
            .is_some_and(|n| n.contains("RUT-METHOD-01")),
        "{v}"
    );
    assert!(!v.checked.contains("RUT-RESP-01"), "{v}");
    let v = oracle::judge_request(&spec, Kind::OtherMethod, &get, &answer(500, ""));
    assert!(v.violates("RUT-STATUS-02"), "{v}");
}

/// The built-in stub answers an empty ID as the vendor's gateway does (404, no route) and
/// another method with 405: the run reports those scenarios as INFO and PASS, and nothing fails.
#[tokio::test]
async fn against_the_conforming_stub_gateway_answers_are_info_and_405_passes() {
    let spec = Arc::new(Spec::embedded());
    let run = runner::run_against_stub(
        Arc::clone(&spec),
        None,
        features::embedded(),
        &runner::ScenarioOptions::default(),
    )
    .await
    .unwrap();
    let empty: Vec<_> = run
        .records
        .iter()
        .filter(|r| r.scenario.starts_with("An empty"))
        .cloned()
        .collect();
    assert_eq!(empty.len(), 3);
    for r in &empty {
        assert_eq!(r.outcome, ScenarioOutcome::Passed, "{}", r.location);
        assert!(
            r.judgements
                .iter()
                .all(|j| j.status == 404 && j.verdict.note.is_some())
        );
    }
    // Judged on those scenarios alone, the clause is INFO: exercised, judged by nothing.
    let alone = Report::build(&spec, &run.target, &empty, None, &[]);
    assert_eq!(alone.clause("RUT-PATH-01").unwrap().grade, Grade::Info);
    assert!(alone.conformant());

    let methods: Vec<_> = run
        .records
        .iter()
        .filter(|r| {
            r.clauses.iter().any(|c| c == "RUT-METHOD-01")
                && r.location.starts_with("features/methods.feature")
        })
        .collect();
    assert_eq!(methods.len(), 7);
    assert!(
        methods
            .iter()
            .all(|r| r.judgements.iter().all(|j| j.status == 405))
    );
    // Those scenarios passed; that the whole run has no false alarm is
    // `deviations::the_conforming_stub_passes_every_clause`.
    assert!(methods.iter().all(|r| r.outcome == ScenarioOutcome::Passed));
}
