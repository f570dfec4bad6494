//! One rule for which kind a request is: the labels the strategies give their generated cases,
//! and the labels the steps give every request the features send, all equal what the one
//! classifier (`classify::classify`, which the stub answers with) says of that request.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prop_assert_eq;
use proptest::test_runner::{Config, TestRunner};

use css_conformance::config::profile::AuthMethod;
use css_conformance::contract::classify::{self, Parts, Site, TaskState};
use css_conformance::contract::features;
use css_conformance::contract::request::{Credentials, Request};
use css_conformance::contract::spec::{Kind, Spec};
use css_conformance::engines::fuzz::strategy::{Draft, Scope, Slot, arb_draft};
use css_conformance::engines::scenarios::runner::{self, ScenarioOptions};
use css_conformance::engines::targets;
use css_conformance::fixtures::{Fixtures, generated_failed_task_index};
use css_conformance::records::judgement::ScenarioRecord;
use css_conformance::transport::target::{Auth, Target};

/// What the classifier says of `request` on a target with `fixtures`, whose failed tasks
/// are failed unless in `spent`.
fn classified(
    spec: &Spec,
    fixtures: &Fixtures,
    spent: &BTreeSet<String>,
    request: &Request,
) -> Kind {
    let task = |id: &str| {
        let failed = fixtures.failed_action_ids.iter().any(|t| t == id)
            || (fixtures.generated_failed_tasks && generated_failed_task_index(id).is_some());
        if failed && !spent.contains(id) {
            Some(TaskState::Failed)
        } else if failed || fixtures.not_failed_action_id.as_deref() == Some(id) {
            Some(TaskState::NotFailed)
        } else {
            None
        }
    };
    let site = Site {
        project_id: &fixtures.project_id,
        cluster_id: &fixtures.cluster_id,
        task: &task,
    };
    classify::classify(spec, &site, &Parts::of(spec, request))
}

/// The requests of `records` (in the order they were sent) whose label is not the
/// classifier's: (where, label, classifier). A task an accepted request spent is failed no
/// more, for the scenarios after it too (they share the run's few failed tasks).
fn mislabelled_requests(
    spec: &Spec,
    fixtures: &Fixtures,
    records: &[ScenarioRecord],
) -> Vec<(String, Kind, Kind)> {
    let mut wrong = Vec::new();
    let mut spent = BTreeSet::new();
    // In the order they were sent (a scenario run on several tasks has one record).
    let mut sent: Vec<(
        &ScenarioRecord,
        &css_conformance::records::judgement::Judgement,
    )> = records
        .iter()
        .flat_map(|r| {
            r.judgements
                .iter()
                .filter(|j| !j.derived)
                .map(move |j| (r, j))
        })
        .collect();
    sent.sort_by_key(|(_, j)| j.sequence);
    for (r, j) in sent {
        let kind = classified(spec, fixtures, &spent, &j.request);
        if kind != j.verdict.kind {
            wrong.push((format!("{} {}", r.location, j.url), j.verdict.kind, kind));
        }
        if spec.expectation(kind).accepts() && j.status == 200 {
            spent.insert(j.request.action_id.clone());
        }
    }
    wrong
}

/// A target for drafts to resolve against; nothing is sent to it.
fn target_for_drafts() -> Target {
    let auth = Auth::Token(css_conformance::secret::Secret::new("t"));
    Target::new("drafts", "http://127.0.0.1:9", auth, Fixtures::builtin()).unwrap()
}

#[test]
fn every_generated_case_is_labelled_as_the_classifier_says() {
    let spec = Spec::embedded();
    let target = target_for_drafts();
    let none = BTreeSet::new();
    for mutations in [true, false] {
        let mut runner = TestRunner::new(Config {
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = arb_draft(&spec, Scope { mutations });
        let result = runner.run(&strategy, |draft| {
            let case = draft
                .resolve(&spec, &target)
                .expect("a failed task to spare");
            let kind = classified(&spec, target.fixtures(), &none, &case.request);
            prop_assert_eq!(kind, draft.kind, "{:?}", case.request);
            Ok(())
        });
        if let Err(e) = result {
            panic!("mutations {mutations}: {e}");
        }
    }
}

#[test]
fn a_mislabelled_case_is_told_apart() {
    let spec = Spec::embedded();
    let target = target_for_drafts();
    let draft = Draft {
        kind: Kind::InvalidRetryMode,
        project_id: Slot::Own,
        cluster_id: Slot::Own,
        action_id: Slot::FailedTask,
        retry_mode: vec!["abort".to_owned()],
        extra_query: Vec::new(),
        credentials: Credentials::Valid,
        method: None,
        shape: Default::default(),
    };
    let case = draft.resolve(&spec, &target).unwrap();
    let kind = classified(&spec, target.fixtures(), &BTreeSet::new(), &case.request);
    assert_eq!(kind, Kind::Abort);
    assert_ne!(kind, draft.kind);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_the_features_send_is_labelled_as_the_classifier_says() {
    let spec = Arc::new(Spec::embedded());
    for auth in [AuthMethod::Token, AuthMethod::Aksk] {
        let (stub, target) = targets::stub_target(Arc::clone(&spec), None, auth).await;
        let fixtures = target.fixtures().clone();
        let run_state = Arc::new(
            css_conformance::engines::scenarios::run_state::RunState::new(
                Arc::clone(&spec),
                target,
            ),
        );
        let run = runner::run(run_state, features::embedded(), &ScenarioOptions::default())
            .await
            .unwrap();
        drop(stub);
        let sent: usize = run.records.iter().map(|r| r.judgements.len()).sum();
        assert!(sent >= 80, "{auth:?}: only {sent} requests");
        let wrong = mislabelled_requests(&spec, &fixtures, &run.records);
        assert!(wrong.is_empty(), "{auth:?}: {wrong:#?}");

        // The check itself: a record whose label is off is caught.
        let mut records = run.records.clone();
        let judgement = records
            .iter_mut()
            .flat_map(|r| r.judgements.iter_mut())
            .find(|j| j.verdict.kind == Kind::Retry)
            .expect("a retry was sent");
        judgement.verdict.kind = Kind::Abort;
        assert_eq!(mislabelled_requests(&spec, &fixtures, &records).len(), 1);
    }
}
