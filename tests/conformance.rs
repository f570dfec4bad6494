//! The whole feature set against the built-in stub (or, with `CSS_CONFORMANCE_ENDPOINT` set,
//! against that endpoint), as cucumber runs it: every step must have a definition, and every
//! clause of the spec must pass. Writes JUnit XML under `target/tmp/css-conformance/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use css_conformance::config::profile::{AuthMethod, Profile};
use css_conformance::contract::{coverage, features, spec::Spec};
use css_conformance::engines::scenarios::run_state::RunState;
use css_conformance::engines::scenarios::runner::{self, ScenarioOptions};
use css_conformance::engines::targets;
use css_conformance::grading::report::Report;
use css_conformance::grading::writer::{self, junit};
use css_conformance::records::judgement::{ScenarioOutcome, Skip};

#[tokio::main]
async fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec =
        Arc::new(Spec::load(&root.join("spec/retry_upgrade_task.yaml")).expect("spec loads"));
    let features = features::load_dir(&root.join("features")).expect("features parse");
    let gaps = coverage::gaps(&spec, &features);
    assert!(gaps.is_empty(), "coverage gaps: {gaps:#?}");

    let junit_file =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("css-conformance/conformance.junit.xml");
    let options = ScenarioOptions {
        concurrency: 8,
        console: true,
        ..ScenarioOptions::default()
    };
    let (profile, origins) = Profile::from_env().expect("CSS_CONFORMANCE_* environment is valid");
    let runs = if profile.is_live() {
        let target = targets::live(&profile, &origins)
            .expect("the CSS_CONFORMANCE_* environment names a usable target");
        let run_state = Arc::new(RunState::new(Arc::clone(&spec), target));
        vec![runner::run(run_state, features, &options).await]
    } else {
        // The built-in stub, once with token auth and once with AK/SK signing.
        let mut runs = Vec::new();
        for auth in [AuthMethod::Token, AuthMethod::Aksk] {
            let (stub, target) = targets::stub_target(Arc::clone(&spec), None, auth).await;
            let run_state = Arc::new(RunState::new(Arc::clone(&spec), target));
            runs.push(runner::run(run_state, features.clone(), &options).await);
            drop(stub);
        }
        runs
    };
    let mut failed_runs = 0;
    let (mut passed, mut failed) = (0, 0);
    let mut suites = Vec::new();
    let started = time::OffsetDateTime::now_utc();
    for run in runs {
        let run = run.expect("the run starts");
        let report = Report::build(
            &spec,
            &run.target,
            &run.records,
            None,
            &profile.expected_deviations,
        );
        println!("\n{}", writer::Console::default().clauses(&report));
        suites.extend(junit::suites(&report, &run.records, None, started));
        let not_passed: Vec<&str> = report.not_passed().map(|c| c.id.as_str()).collect();
        for r in &run.records {
            match &r.outcome {
                ScenarioOutcome::Passed => passed += 1,
                // Token runs cannot sign; those scenarios run in the AK/SK run.
                ScenarioOutcome::Skipped(Skip::NeedsAkSk) => {}
                other => {
                    failed += 1;
                    eprintln!("{}: {} ({other:?})", r.location, r.scenario);
                }
            }
        }
        if run.execution_failed || !not_passed.is_empty() {
            eprintln!("{}: clauses not passed: {not_passed:?}", run.target);
            failed_runs += 1;
        }
    }
    std::fs::create_dir_all(junit_file.parent().expect("a file in a folder")).expect("target/tmp");
    std::fs::write(&junit_file, junit::xml(suites)).expect("the JUnit report is written");
    println!("JUnit report: {}", junit_file.display());
    // The plain closing line CI reads.
    println!("conformance: {passed} passed, {failed} failed");
    if failed_runs > 0 || failed > 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
