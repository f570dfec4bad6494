//! Safety against targets that are not ours: without opt-in no scenario sends a request that
//! names a real failed task; with opt-in each mutating scenario spends a task of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use css_conformance::contract::features;
use css_conformance::contract::spec::Spec;
use css_conformance::engines::scenarios::run_state::RunState;
use css_conformance::engines::scenarios::runner::{self, ScenarioOptions};
use css_conformance::fixtures::Fixtures;
use css_conformance::records::judgement::{ScenarioOutcome, Skip};
use css_conformance::secret::Secret;
use css_conformance::servers::stub::Stub;
use css_conformance::servers::stub::{STUB_TOKEN, stub_keys};
use css_conformance::transport::target::{Auth, Target};

async fn live_like(mutations: bool) -> (Stub, runner::Run) {
    let spec = Arc::new(Spec::embedded());
    let mut fixtures = Fixtures::builtin();
    fixtures.generated_failed_tasks = false; // a live target lists its failed tasks
    let stub = Stub::start(Arc::clone(&spec), &fixtures, &stub_keys(), None).await;
    // A target as a live endpoint is configured: not the tool's own stub.
    let auth = Auth::Token(Secret::new(STUB_TOKEN));
    let target = Target::new("live-like", &stub.base_url(), auth, fixtures)
        .unwrap()
        .allow_mutations(mutations);
    let run_state = Arc::new(RunState::new(spec, target));
    let run = runner::run(run_state, features::embedded(), &ScenarioOptions::default())
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
async fn with_opt_in_a_task_is_consumed_only_by_an_accepted_request() {
    let (stub, run) = live_like(true).await;
    let failed: BTreeSet<String> = Fixtures::builtin().failed_action_ids.into_iter().collect();
    // The requests on each task, in the order they were sent (the scenarios on failed tasks
    // run one at a time, so the records are in that order).
    let mut on_task: BTreeMap<String, Vec<(String, u16, bool)>> = BTreeMap::new();
    for r in &run.records {
        for j in r.judgements.iter().filter(|j| !j.derived) {
            if failed.contains(&j.request.action_id) {
                on_task
                    .entry(j.request.action_id.clone())
                    .or_default()
                    .push((r.location.clone(), j.status, j.request.method.is_none()));
            }
        }
    }
    let requests: usize = on_task.values().map(Vec::len).sum();
    assert!(requests >= 20, "{requests}");
    // The stub counts the operation's requests that name its tasks (not other methods); a
    // refused request two scenarios send alike on the shared task goes out once (the second
    // gets the first's answer), so the stub may count fewer.
    let puts = on_task
        .values()
        .flatten()
        .filter(|(_, _, put)| *put)
        .count();
    let received = stub.requests_on_tasks() as usize;
    assert!(received <= puts && received >= 15, "{received} of {puts}");
    for (task, sent) in &on_task {
        // Refused requests first, then the one accepted: after it, only refusals.
        let accepted: Vec<usize> = sent
            .iter()
            .enumerate()
            .filter(|(_, (_, status, put))| *put && *status == 200)
            .map(|(i, _)| i)
            .collect();
        assert!(accepted.len() <= 1, "{task}: accepted twice: {sent:?}");
    }
    // Far fewer tasks than mutating scenarios: the refused ones share the first.
    let mutating = run.records.iter().filter(|r| r.needs.failed_task).count();
    assert!(
        on_task.len() * 2 < mutating,
        "{} tasks for {mutating} scenarios",
        on_task.len()
    );
    let first = on_task.values().map(Vec::len).max().unwrap_or(0);
    assert!(
        first >= 15,
        "the first task carries the refused requests: {first}"
    );
    // Nothing failed; what did not run says why (AK/SK, or its clauses were judged already).
    let others: Vec<_> = run
        .records
        .iter()
        .filter(|r| {
            !matches!(
                r.outcome,
                ScenarioOutcome::Passed
                    | ScenarioOutcome::Skipped(Skip::NeedsAkSk)
                    | ScenarioOutcome::Skipped(Skip::Economy)
            )
        })
        .map(|r| (&r.location, &r.outcome))
        .collect();
    assert!(others.is_empty(), "{others:?}");
}
