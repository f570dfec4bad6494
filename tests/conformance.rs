//! The whole feature set against the built-in stub (or, with `CSS_CONFORMANCE_ENDPOINT` set,
//! against that endpoint), as cucumber runs it: every step must have a definition, and every
//! clause of the spec must pass. Writes JUnit XML under `target/tmp/css-conformance/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use css_conformance::report::{Grade, Report};
use css_conformance::suite::{self, Options, Session};
use css_conformance::target::Target;
use css_conformance::{coverage, features, spec::Spec};

#[tokio::main]
async fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec =
        Arc::new(Spec::load(&root.join("spec/retry_upgrade_task.yaml")).expect("spec loads"));
    let features = features::load_dir(&root.join("features")).expect("features parse");
    let gaps = coverage::gaps(&spec, &features);
    assert!(gaps.is_empty(), "coverage gaps: {gaps:#?}");

    let junit =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("css-conformance/conformance.junit.xml");
    let options = Options {
        concurrency: 8,
        junit: Some(junit.clone()),
        console: true,
    };
    let run = match Target::from_env().expect("CSS_CONFORMANCE_* environment is valid") {
        Some(target) => {
            let session = Arc::new(Session::new(Arc::clone(&spec), target));
            suite::run(session, features, &options).await
        }
        None => suite::run_against_stub(Arc::clone(&spec), None, features, &options).await,
    };
    let run = run.expect("the run starts");
    let report = Report::build(&spec, &run.target, &run.records, None);
    println!("\n{}", report.render());
    println!("JUnit report: {}", junit.display());

    let not_passed: Vec<&str> = report
        .clauses
        .iter()
        .filter(|c| c.grade != Grade::Pass)
        .map(|c| c.id.as_str())
        .collect();
    let passed = run
        .records
        .iter()
        .filter(|r| r.outcome == suite::ScenarioOutcome::Passed)
        .count();
    let failed = run.records.len() - passed;
    // The plain closing line CI reads.
    println!("conformance: {passed} passed, {failed} failed");
    if run.execution_failed || !not_passed.is_empty() || failed > 0 {
        eprintln!("clauses not passed: {not_passed:?}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
