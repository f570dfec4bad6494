//! The harness is worth the deviations it catches: each deliberately deviant variant of the
//! built-in stub must make its clause FAIL, and the conforming stub must make none fail.

use std::sync::Arc;

use css_conformance::features;
use css_conformance::profile::ExpectedDeviation;
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

fn expected(clause: &str, status: u16) -> ExpectedDeviation {
    ExpectedDeviation {
        clause: clause.to_owned(),
        status: Some(status),
        error_code: None,
        reason: "known to the vendor".to_owned(),
    }
}

#[tokio::test]
async fn a_known_deviation_is_xfail_and_one_no_longer_seen_is_xpass() {
    let spec = Arc::new(Spec::embedded());
    let options = Options::default();
    let deviant = suite::run_against_stub(
        Arc::clone(&spec),
        Some(Deviation::Unauthorized401),
        features::embedded(),
        &options,
    )
    .await
    .unwrap();
    let known: Vec<ExpectedDeviation> = ["RUT-AUTH-01", "RUT-AUTH-02", "RUT-STATUS-01"]
        .iter()
        .map(|c| expected(c, 401))
        .collect();
    let report = Report::build(&spec, &deviant.target, &deviant.records, None, &known);
    for id in ["RUT-AUTH-01", "RUT-AUTH-02", "RUT-STATUS-01"] {
        let c = report.clause(id).unwrap();
        assert_eq!(c.grade, Grade::Xfail, "{id}:\n{}", report.render());
        assert!(
            c.evidence[0].contains("known to the vendor"),
            "{:?}",
            c.evidence
        );
    }
    assert!(report.conformant(), "{}", report.render());

    // An entry that does not describe what is observed excuses nothing.
    let wrong = [expected("RUT-AUTH-01", 400)];
    let report = Report::build(&spec, &deviant.target, &deviant.records, None, &wrong);
    let c = report.clause("RUT-AUTH-01").unwrap();
    assert_eq!(c.grade, Grade::Fail);
    assert!(
        c.evidence
            .iter()
            .any(|e| e.starts_with("expected deviation not observed")),
        "{:?}",
        c.evidence
    );
    assert!(!report.conformant());

    // The deviation is fixed: the entries show as XPASS, so the list does not rot.
    let fixed = suite::run_against_stub(Arc::clone(&spec), None, features::embedded(), &options)
        .await
        .unwrap();
    let report = Report::build(&spec, &fixed.target, &fixed.records, None, &known);
    for id in ["RUT-AUTH-01", "RUT-AUTH-02", "RUT-STATUS-01"] {
        assert_eq!(report.clause(id).unwrap().grade, Grade::Xpass, "{id}");
    }
    assert!(
        report
            .render()
            .contains("XPASS: expected deviations no longer observed")
    );
}
