//! The harness is worth the deviations it catches: each deliberately deviant variant of the
//! built-in stub must make its clause FAIL, and the conforming stub must make none fail.

use std::sync::Arc;

use css_conformance::features;
use css_conformance::report::{Grade, Report};
use css_conformance::spec::Spec;
use css_conformance::stub::Deviation;
use css_conformance::suite::{self, Options};

async fn report_against(deviation: Option<Deviation>) -> Report {
    let spec = Arc::new(Spec::embedded());
    let run = suite::run_against_stub(
        Arc::clone(&spec),
        deviation,
        features::embedded(),
        &Options::default(),
    )
    .await
    .expect("the run starts");
    Report::build(&spec, &run.target, &run.records, None, &[])
}

async fn assert_fails(deviation: Deviation, clauses: &[&str]) {
    let report = report_against(Some(deviation)).await;
    for id in clauses {
        let result = report.clause(id).expect("clause exists");
        assert_eq!(
            result.grade,
            Grade::Fail,
            "{deviation:?} should fail {id}:\n{}",
            report.render()
        );
        assert!(!result.evidence.is_empty(), "a FAIL carries evidence");
    }
    assert!(
        !report.conformant(),
        "{deviation:?} must not be judged conformant"
    );
}

#[tokio::test]
async fn the_conforming_stub_passes_every_clause() {
    let report = report_against(None).await;
    let not_passed: Vec<_> = report
        .clauses
        .iter()
        .filter(|c| c.grade != Grade::Pass)
        .map(|c| &c.id)
        .collect();
    assert!(
        not_passed.is_empty(),
        "false alarms: {not_passed:?}\n{}",
        report.render()
    );
    assert!(report.conformant());
}

#[tokio::test]
async fn accepting_any_retry_mode_fails_the_retry_mode_clauses() {
    assert_fails(
        Deviation::AcceptsAnyRetryMode,
        &["RUT-QUERY-03", "RUT-QUERY-05"],
    )
    .await;
}

#[tokio::test]
async fn accepting_upper_case_abort_fails_the_exact_value_clause() {
    assert_fails(Deviation::AcceptsUpperCaseAbort, &["RUT-QUERY-03"]).await;
    let report = report_against(Some(Deviation::AcceptsUpperCaseAbort)).await;
    let evidence = report.clause("RUT-QUERY-03").unwrap().evidence.join("\n");
    assert!(evidence.contains("retry_mode=ABORT"), "{evidence}");
    assert_eq!(report.clause("RUT-QUERY-05").unwrap().grade, Grade::Pass);
}

#[tokio::test]
async fn a_body_on_success_fails_the_empty_body_clause() {
    assert_fails(Deviation::BodyOnSuccess, &["RUT-RESP-01"]).await;
}

#[tokio::test]
async fn answering_401_fails_the_credentials_and_status_clauses() {
    assert_fails(
        Deviation::Unauthorized401,
        &["RUT-AUTH-01", "RUT-AUTH-02", "RUT-STATUS-01"],
    )
    .await;
}

#[tokio::test]
async fn a_500_on_a_long_id_fails_the_server_error_clause() {
    assert_fails(
        Deviation::ServerErrorOnLongId,
        &["RUT-STATUS-02", "RUT-PATH-02"],
    )
    .await;
}

#[tokio::test]
async fn ignoring_missing_credentials_fails_the_missing_credentials_clause() {
    assert_fails(Deviation::IgnoresMissingCredentials, &["RUT-AUTH-01"]).await;
    let report = report_against(Some(Deviation::IgnoresMissingCredentials)).await;
    assert_eq!(report.clause("RUT-AUTH-02").unwrap().grade, Grade::Pass);
}

#[tokio::test]
async fn every_deviation_is_caught() {
    for deviation in Deviation::ALL {
        let report = report_against(Some(deviation)).await;
        assert!(!report.conformant(), "{deviation:?} went unnoticed");
    }
}

#[tokio::test]
async fn with_a_wrong_secret_key_every_signed_request_gets_403() {
    use css_conformance::fixtures::Fixtures;
    use css_conformance::stub::Stub;
    use css_conformance::suite::{STUB_ACCESS_KEY, Session, stub_credentials};
    use css_conformance::target::{Auth, Secret, Target};

    let spec = Arc::new(Spec::embedded());
    let fixtures = Fixtures::builtin();
    let stub = Stub::start(Arc::clone(&spec), &fixtures, &stub_credentials(), None).await;
    let auth = Auth::AkSk {
        ak: Secret::new(STUB_ACCESS_KEY),
        sk: Secret::new("not-the-secret-key"),
    };
    let target = Target::new("stub, wrong SK", &stub.base_url(), auth, fixtures)
        .unwrap()
        .owned_by_us();
    let session = Arc::new(Session::new(Arc::clone(&spec), target));
    let run = suite::run(session, features::embedded(), &Options::default())
        .await
        .unwrap();
    let judgements: Vec<_> = run.records.iter().flat_map(|r| &r.judgements).collect();
    assert!(judgements.len() > 50);
    let not_403: Vec<_> = judgements
        .iter()
        .filter(|j| j.status != 403 && !j.url.is_empty())
        .filter(|j| j.verdict.kind != css_conformance::spec::Kind::MissingCredentials)
        .map(|j| (&j.url, j.status))
        .collect();
    assert!(not_403.is_empty(), "{not_403:?}");
    let report = Report::build(&spec, &run.target, &run.records, None, &[]);
    assert_eq!(report.clause("RUT-QUERY-01").unwrap().grade, Grade::Fail);
    let evidence = report.clause("RUT-QUERY-01").unwrap().evidence.join("\n");
    assert!(evidence.contains("got status 403"), "{evidence}");
    drop(stub);
}
