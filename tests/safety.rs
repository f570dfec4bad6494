//! Safety against targets that are not ours: without opt-in no scenario sends a request that
//! names a real failed task; with opt-in each mutating scenario spends a task of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use css_conformance::exchange::{ScenarioOutcome, Skip};
use css_conformance::features;
use css_conformance::fixtures::Fixtures;
use css_conformance::secret::Secret;
use css_conformance::session::Session;
use css_conformance::spec::Spec;
use css_conformance::stub::Stub;
use css_conformance::stub::{STUB_TOKEN, stub_credentials};
use css_conformance::suite::{self, Options};
use css_conformance::target::{Auth, Target};

async fn live_like(mutations: bool) -> (Stub, suite::Run) {
    let spec = Arc::new(Spec::embedded());
    let mut fixtures = Fixtures::builtin();
    fixtures.generated_failed_tasks = false; // a live target lists its failed tasks
    let stub = Stub::start(Arc::clone(&spec), &fixtures, &stub_credentials(), None).await;
    // A target as a live endpoint is configured: not the tool's own stub.
    let auth = Auth::Token(Secret::new(STUB_TOKEN));
    let target = Target::new("live-like", &stub.base_url(), auth, fixtures)
        .unwrap()
        .allow_mutations(mutations);
    let session = Arc::new(Session::new(spec, target));
    let run = suite::run(session, features::embedded(), &Options::default())
        .await
        .unwrap();
    (stub, run)
}

#[tokio::test]
async fn without_opt_in_no_request_reaches_a_real_task() {
    let (stub, run) = live_like(false).await;
    assert_eq!(stub.requests_on_tasks(), 0, "counted by the server");
    let skipped: Vec<_> = run
        .records
        .iter()
        .filter(|r| r.outcome == ScenarioOutcome::Skipped(Skip::Mutating))
        .collect();
    assert!(
        skipped.len() >= 20,
        "mutating scenarios are reported as SKIP: {}",
        skipped.len()
    );
    assert!(skipped.iter().all(|r| r.judgements.is_empty()));
    // The safe scenarios still ran and passed.
    let passed = run
        .records
        .iter()
        .filter(|r| r.outcome == ScenarioOutcome::Passed)
        .count();
    assert!(passed >= 30, "{passed}");
}

#[tokio::test]
async fn with_opt_in_each_mutating_scenario_spends_its_own_task() {
    let (stub, run) = live_like(true).await;
    let failed: BTreeSet<String> = Fixtures::builtin().failed_action_ids.into_iter().collect();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut mutating = 0;
    for r in &run.records {
        let tasks: BTreeSet<&String> = r
            .judgements
            .iter()
            .flat_map(|j| failed.iter().filter(move |t| j.url.contains(t.as_str())))
            .collect();
        assert!(
            tasks.len() <= 1,
            "{}: one task per scenario: {tasks:?}",
            r.location
        );
        for t in tasks {
            mutating += 1;
            let previous = owner.insert(t.clone(), r.location.clone());
            assert!(
                previous.is_none(),
                "{t} used by {previous:?} and {}",
                r.location
            );
        }
    }
    assert!(mutating >= 20, "{mutating}");
    assert!(stub.requests_on_tasks() >= mutating);
    let aksk_only = ScenarioOutcome::Skipped(Skip::NeedsAkSk);
    let others: Vec<_> = run
        .records
        .iter()
        .filter(|r| r.outcome != ScenarioOutcome::Passed && r.outcome != aksk_only)
        .map(|r| (&r.location, &r.outcome))
        .collect();
    assert!(others.is_empty(), "{others:?}");
}
