//! The harness is worth the deviations it catches: each deliberately deviant variant of the
//! built-in stub must make its clauses FAIL (the mutation score, printed, must be 100 %), and
//! the conforming stub must make none fail.

use std::collections::BTreeSet;
use std::sync::Arc;

use css_conformance::config::profile::ExpectedDeviation;
use css_conformance::contract::features;
use css_conformance::contract::spec::{Level, Spec};
use css_conformance::engines::scenarios::runner::{self, ScenarioOptions};
use css_conformance::grading::report::{Grade, Report};
use css_conformance::grading::writer::Console;
use css_conformance::servers::stub::Deviation;

async fn report_against(deviation: Option<Deviation>) -> Report {
    let spec = Arc::new(Spec::embedded());
    let run = runner::run_against_stub(
        Arc::clone(&spec),
        deviation,
        features::embedded(),
        &ScenarioOptions::default(),
    )
    .await
    .expect("the run starts");
    Report::build(&spec, &run.target, &run.records, None, &[])
}

/// Every deviation of the stub, the MUST clauses it must make FAIL, and the status of the
/// conforming answers it distorts.
const MUTANTS: &[(Deviation, &[&str], u16)] = &[
    (
        Deviation::AcceptsAnyRetryMode,
        &["RUT-QUERY-03", "RUT-QUERY-05"],
        400,
    ),
    (Deviation::AcceptsUpperCaseAbort, &["RUT-QUERY-03"], 400),
    (Deviation::BodyOnSuccess, &["RUT-RESP-01"], 200),
    (
        Deviation::Unauthorized401,
        &["RUT-AUTH-01", "RUT-AUTH-02", "RUT-STATUS-01"],
        403,
    ),
    (
        Deviation::ServerErrorOnLongId,
        &["RUT-STATUS-02", "RUT-PATH-02"],
        400,
    ),
    (Deviation::IgnoresMissingCredentials, &["RUT-AUTH-01"], 403),
    (Deviation::ServerErrorOnEncodedId, &["RUT-STATUS-02"], 400),
    (Deviation::RejectsRetry, &["RUT-QUERY-01"], 200),
    (Deviation::RejectsAbort, &["RUT-QUERY-02"], 200),
    (
        Deviation::AcceptsUpperCaseId,
        &["RUT-PATH-01", "RUT-PATH-02"],
        400,
    ),
    (
        Deviation::NotFoundForMalformedId,
        &["RUT-PATH-02", "RUT-STATUS-01"],
        400,
    ),
    (Deviation::IgnoresClusterId, &["RUT-PATH-03"], 400),
    (Deviation::AcceptsUnknownTask, &["RUT-PATH-04"], 400),
    (Deviation::IgnoresProjectId, &["RUT-AUTH-03"], 403),
    (Deviation::BareErrors, &["RUT-ERR-01"], 403),
    (Deviation::AcceptsAnyToken, &["RUT-AUTH-02"], 403),
    (Deviation::RetriesOnAnyMethod, &["RUT-METHOD-01"], 405),
    // What the server did, whatever it answered.
    (Deviation::ActsOnRefusal, &["RUT-EFFECT-01"], 400),
    (Deviation::OtherMethodActs, &["RUT-METHOD-01"], 405),
    (Deviation::AcceptsWithoutActing, &["RUT-EFFECT-02"], 200),
    // Every door of a failed task, each a deviation of its own.
    (Deviation::ActsOnMissingCredentials, &["RUT-EFFECT-01"], 403),
    (Deviation::ActsOnInvalidCredentials, &["RUT-EFFECT-01"], 403),
    (Deviation::ActsOnInvalidRetryMode, &["RUT-EFFECT-01"], 400),
    (Deviation::ActsOnRepeatedRetryMode, &["RUT-EFFECT-01"], 400),
    (Deviation::ActsOnMalformedId, &["RUT-EFFECT-01"], 400),
    (Deviation::ActsOnUnknownCluster, &["RUT-EFFECT-01"], 400),
    (Deviation::ActsOnForeignProject, &["RUT-EFFECT-01"], 403),
    (Deviation::ActsOnOtherShape, &["RUT-EFFECT-01"], 400),
    // An effect that lands a second late, caught with the stub's settle period.
    (Deviation::ActsLateOnRefusal, &["RUT-EFFECT-01"], 400),
    (Deviation::AcceptsOtherKindSecond, &["RUT-EFFECT-02"], 400),
    // Seen through the read API only.
    (Deviation::AbortRunsTask, &["RUT-QUERY-02"], 200),
    (Deviation::ActsOnNeighbour, &["RUT-SCOPE-01"], 200),
    (Deviation::ActsThrough, &["RUT-EFFECT-01"], 400),
    (Deviation::RejectsRetryAsNotFailed, &["RUT-QUERY-01"], 200),
];

/// Whether the run against `deviation` caught it: not conformant, and each of `clauses` FAIL
/// with evidence. `Err` says what was missed.
fn caught(deviation: Deviation, clauses: &[&str], report: &Report) -> Result<(), String> {
    for id in clauses {
        let result = report.clause(id).expect("clause exists");
        if result.grade != Grade::Fail || result.evidence.is_empty() {
            return Err(format!("{deviation:?}: {id} is {:?}", result.grade));
        }
    }
    if report.conformant() {
        return Err(format!("{deviation:?}: judged conformant"));
    }
    Ok(())
}

/// Every clause passed: no false alarm.
fn assert_every_clause_passes(report: &Report) {
    // A clause only the read API judges is not judged by a run without it.
    let not_passed: Vec<_> = report.not_passed().map(|c| &c.id).collect();
    assert!(
        not_passed.is_empty(),
        "false alarms: {not_passed:?}\n{}",
        Console::default().clauses(report)
    );
    assert!(report.conformant());
}

#[tokio::test]
async fn the_conforming_stub_passes_every_clause() {
    assert_every_clause_passes(&report_against(None).await);
}

/// The mutation score of the harness: every deviant stub must be caught by the features
/// alone, and together the deviations must break every MUST clause and distort every
/// documented status. Prints the score; fails under 100 %.
#[tokio::test]
async fn the_mutation_score_is_100_percent() {
    let spec = Spec::embedded();
    let listed: BTreeSet<Deviation> = MUTANTS.iter().map(|m| m.0).collect();
    let all: BTreeSet<Deviation> = Deviation::ALL.into_iter().collect();
    assert_eq!(listed, all, "every deviation is in the table");
    assert_eq!(MUTANTS.len(), all.len(), "once");
    assert!(MUTANTS.len() >= 12);
    for clause in spec.clauses.iter().filter(|c| c.level == Level::Must) {
        assert!(
            MUTANTS.iter().any(|m| m.1.contains(&clause.id.as_str())),
            "no deviation breaks MUST clause {}",
            clause.id
        );
    }
    for status in &spec.status_codes {
        assert!(
            MUTANTS.iter().any(|m| m.2 == status.code),
            "no deviation distorts a {} answer",
            status.code
        );
    }

    let reports =
        futures::future::join_all(MUTANTS.iter().map(|m| report_against(Some(m.0)))).await;
    let missed: Vec<String> = MUTANTS
        .iter()
        .zip(&reports)
        .filter_map(|((deviation, clauses, _), report)| caught(*deviation, clauses, report).err())
        .collect();
    let score = MUTANTS.len() - missed.len();
    println!(
        "mutation score: {score}/{} deviations caught ({:.0} %)",
        MUTANTS.len(),
        100.0 * score as f64 / MUTANTS.len() as f64
    );
    println!("missed: {missed:#?}");
    assert!(missed.is_empty(), "missed: {missed:#?}");
}

/// The score check itself can fail: a deviation whose clause passed, or that failed another
/// clause than the one listed, is not counted as caught.
#[tokio::test]
async fn a_deviation_whose_clause_passes_is_not_counted_as_caught() {
    let conforming = report_against(None).await;
    assert!(caught(Deviation::BodyOnSuccess, &["RUT-RESP-01"], &conforming).is_err());
    let deviant = report_against(Some(Deviation::BodyOnSuccess)).await;
    assert!(caught(Deviation::BodyOnSuccess, &["RUT-RESP-01"], &deviant).is_ok());
    assert!(caught(Deviation::BodyOnSuccess, &["RUT-AUTH-01"], &deviant).is_err());
}

#[tokio::test]
async fn accepting_upper_case_abort_shows_the_request_and_spares_the_repeat_clause() {
    let report = report_against(Some(Deviation::AcceptsUpperCaseAbort)).await;
    let evidence = report.clause("RUT-QUERY-03").unwrap().evidence.join("\n");
    assert!(evidence.contains("retry_mode=ABORT"), "{evidence}");
    assert_eq!(report.clause("RUT-QUERY-05").unwrap().grade, Grade::Pass);
}

#[tokio::test]
async fn ignoring_missing_credentials_spares_the_wrong_credentials_clause() {
    let report = report_against(Some(Deviation::IgnoresMissingCredentials)).await;
    assert_eq!(report.clause("RUT-AUTH-01").unwrap().grade, Grade::Fail);
    assert_eq!(report.clause("RUT-AUTH-02").unwrap().grade, Grade::Pass);
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
    let options = ScenarioOptions::default();
    let deviant = runner::run_against_stub(
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
        assert_eq!(
            c.grade,
            Grade::Xfail,
            "{id}:\n{}",
            Console::default().clauses(&report)
        );
        assert!(
            c.evidence[0].contains("known to the vendor"),
            "{:?}",
            c.evidence
        );
    }
    assert!(
        report.conformant(),
        "{}",
        Console::default().clauses(&report)
    );

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
    let fixed = runner::run_against_stub(Arc::clone(&spec), None, features::embedded(), &options)
        .await
        .unwrap();
    let report = Report::build(&spec, &fixed.target, &fixed.records, None, &known);
    for id in ["RUT-AUTH-01", "RUT-AUTH-02", "RUT-STATUS-01"] {
        assert_eq!(report.clause(id).unwrap().grade, Grade::Xpass, "{id}");
    }
    assert!(
        Console::default()
            .clauses(&report)
            .contains("XPASS: expected deviations no longer observed")
    );
}
