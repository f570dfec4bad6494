//! Every family of the spec's grammar as a deviation of the stub served as a separate process
//! (`stub --stub-deviation acts-through=FAMILY`): a server that acts on a failed task through
//! a family is caught with one failed task and the read API (the door is pinned), and one that
//! retries another task of the cluster is caught by the cluster watch. The families come from
//! the grammar, not from a list: a family added there is tested here.

use std::path::Path;
use std::sync::Arc;

use futures::StreamExt as _;

use css_conformance::contract::features;
use css_conformance::contract::spec::Spec;
use css_conformance::engines::scenarios::run_state::RunState;
use css_conformance::engines::scenarios::runner::{self, ScenarioOptions};
use css_conformance::fixtures::Fixtures;
use css_conformance::grading::report::{Grade, Report};
use css_conformance::grading::writer::Console;
use css_conformance::secret::Secret;
use css_conformance::servers::stub::Standalone;
use css_conformance::servers::stub::{STUB_ACCESS_KEY, STUB_SECRET_KEY, STUB_TOKEN};
use css_conformance::transport::target::{Auth, Target};

/// The features against a fresh standalone stub deviating as `deviation` (none: conforming),
/// given one failed task, with the read API; the report.
async fn one_task_read(spec: &Arc<Spec>, deviation: Option<&str>, aksk: bool) -> Report {
    let exe = Path::new(env!("CARGO_BIN_EXE_css-conformance"));
    let more: Vec<&str> = deviation
        .map(|d| vec!["--stub-deviation", d])
        .unwrap_or_default();
    let stub = Standalone::start_with(exe, 120, &more).expect("the stub starts");
    let mut fixtures = Fixtures::builtin();
    fixtures.failed_action_ids.truncate(1);
    fixtures.generated_failed_tasks = false;
    let auth = match aksk {
        true => Auth::AkSk {
            ak: Secret::new(STUB_ACCESS_KEY),
            sk: Secret::new(STUB_SECRET_KEY),
        },
        false => Auth::Token(Secret::new(STUB_TOKEN)),
    };
    let target = Target::new(
        format!("standalone stub ({})", deviation.unwrap_or("conforming")),
        stub.url(),
        auth,
        fixtures,
    )
    .unwrap()
    .allow_mutations(true)
    .with_read_api(true);
    let run_state = Arc::new(RunState::new(Arc::clone(spec), target));
    let run = runner::run(run_state, features::embedded(), &ScenarioOptions::default())
        .await
        .expect("the run starts");
    drop(stub);
    Report::build(spec, &run.target, &run.records, None, &[]).with_read_api(true)
}

/// Whether `report` caught the deviation: not conformant, `clause` FAIL.
fn caught(report: &Report, clause: &str) -> Result<(), String> {
    let grade = report.clause(clause).map(|c| c.grade);
    if grade == Some(Grade::Fail) && !report.conformant() {
        Ok(())
    } else {
        Err(format!(
            "{}: {clause} is {grade:?}\n{}",
            report.target,
            Console::default().clauses(report)
        ))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_acting_through_any_family_of_the_grammar_or_on_another_task_is_caught() {
    let spec = Arc::new(Spec::embedded());
    // Each family, and the clause a door of it that acted breaks: another method's is the
    // method clause's, the rest the refusals'.
    let mut cases: Vec<(String, &str, bool)> = spec
        .families()
        .map(|(name, door)| {
            let clause = match door.method {
                Some(_) => "RUT-METHOD-01",
                None => "RUT-EFFECT-01",
            };
            (format!("acts-through={name}"), clause, door.auth.is_some())
        })
        .collect();
    assert!(cases.len() >= 30, "the grammar's families: {}", cases.len());
    cases.push(("acts-on-neighbour".to_owned(), "RUT-SCOPE-01", false));
    let spec = &spec;
    let missed: Vec<String> = futures::stream::iter(cases)
        .map(|(deviation, clause, aksk)| async move {
            let report = one_task_read(spec, Some(&deviation), aksk).await;
            caught(&report, clause).err()
        })
        .buffer_unordered(4)
        .filter_map(|missed| async move { missed })
        .collect()
        .await;
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n\n"));
}

/// The check of the test can fail: the conforming stub is caught through no family.
#[tokio::test(flavor = "multi_thread")]
async fn the_conforming_stub_is_caught_through_no_family() {
    let spec = Arc::new(Spec::embedded());
    let report = one_task_read(&spec, None, false).await;
    assert!(caught(&report, "RUT-EFFECT-01").is_err());
    assert!(caught(&report, "RUT-SCOPE-01").is_err());
    assert_eq!(
        report.clause("RUT-SCOPE-01").map(|c| c.grade),
        Some(Grade::Pass)
    );
    assert!(
        report.conformant(),
        "{}",
        Console::default().clauses(&report)
    );
}
