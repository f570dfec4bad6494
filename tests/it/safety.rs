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
use css_conformance::servers::stub::STUB_TOKEN;
use css_conformance::servers::stub::Stub;
use css_conformance::transport::target::{Auth, Target};

async fn live_like(mutations: bool) -> (Stub, runner::Run) {
    let spec = Arc::new(Spec::embedded());
    let mut fixtures = Fixtures::builtin();
    fixtures.generated_failed_tasks = false; // a live target lists its failed tasks
    let stub = Stub::builder()
        .spec(Arc::clone(&spec))
        .fixtures(fixtures.clone())
        .start()
        .await;
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

/// A finding file is data, never settings: a crafted one that names an endpoint, a variable
/// to read the token from, no certificate checks and consent to mutate, with a retry of a
/// real failed task, changes nothing. Alone it is refused before anything is sent; with the
/// target named on the command line, the file's settings are not used, and its retry of a
/// task the file names itself goes out only with --allow-mutations.
#[tokio::test(flavor = "multi_thread")]
async fn a_crafted_finding_file_cannot_change_the_target_credentials_tls_or_consent() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};
    let exe = env!("CARGO_BIN_EXE_css-conformance");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("crafted-finding");
    let _ = std::fs::remove_dir_all(&dir);
    // A real finding file, to craft from.
    let made = std::process::Command::new(exe)
        .args([
            "fuzz",
            "--stub-deviation",
            "accepts-any-retry-mode",
            "--cases",
            "100",
        ])
        .args(["--seed", "1", "--findings-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(made.status.code(), Some(1));
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // Where a crafted file would send the token: a listener that counts who comes.
    let evil = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let evil_url = format!("http://{}", evil.local_addr().unwrap());
    let came = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&came);
    evil.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        for _ in 0..600 {
            if evil.accept().is_ok() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    });
    let task = Fixtures::builtin().failed_action_ids[0].clone();
    let mut finding: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    finding["draft"]["kind"] = "retry".into();
    finding["draft"]["retry_mode"] = serde_json::json!([]);
    finding["draft"]["action_id"] = serde_json::json!({ "literal": task });
    finding["origin"] = serde_json::json!({
        "settings": {
            "endpoint": evil_url,
            "auth.method": "token",
            "auth.token_env": "CANARY_VARIABLE",
            "tls.insecure": "true",
            "safety.allow_mutations": "true",
            "fixtures.failed_action_ids": task,
        }
    });
    std::fs::write(&file, finding.to_string()).unwrap();
    let replay = move |more: &[&str]| {
        std::process::Command::new(exe)
            .arg("replay")
            .arg(&file)
            .args(more)
            .env("CANARY_VARIABLE", "canary-not-a-token-9f2")
            .env("CSS_CONFORMANCE_TOKEN", STUB_TOKEN)
            .env_remove("CSS_CONFORMANCE_ENDPOINT")
            .output()
            .unwrap()
    };

    // Alone: refused, nothing sent anywhere.
    let alone = replay(&[]);
    let said = String::from_utf8_lossy(&alone.stderr);
    assert_eq!(alone.status.code(), Some(2), "{said}");
    assert!(said.contains("a finding file is data"), "{said}");
    assert!(!said.contains("canary-not-a-token"), "{said}");

    // With the target named: a server of ours that keeps the tokens it got.
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&tokens);
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|_when, then| {
            then.respond_with(move |req: &httpmock::HttpMockRequest| {
                let token = req
                    .headers_vec()
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("x-auth-token"))
                    .map(|(_, v)| v.clone());
                kept.lock().unwrap().push((req.uri_str().to_owned(), token));
                httpmock::HttpMockResponse::builder().status(200).build()
            });
        })
        .await;
    let f = Fixtures::builtin();
    let target = [
        "--endpoint",
        &server.base_url(),
        "--project-id",
        &f.project_id,
        "--cluster-id",
        &f.cluster_id,
    ];
    let url = server.base_url();
    let without_consent = tokio::task::spawn_blocking({
        let target: Vec<String> = target.iter().map(|s| s.to_string()).collect();
        let replay = replay.clone();
        move || replay(&target.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&without_consent.stderr);
    assert_eq!(without_consent.status.code(), Some(2), "{said}");
    assert!(said.contains("--allow-mutations"), "{said}");
    assert!(tokens.lock().unwrap().is_empty(), "sent without consent");
    let with_consent = tokio::task::spawn_blocking({
        let mut target: Vec<String> = target.iter().map(|s| s.to_string()).collect();
        target.push("--allow-mutations".to_owned());
        move || replay(&target.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&with_consent.stdout);
    assert!(
        out.contains("recorded against") && out.contains(&format!("against {url}")),
        "{out}"
    );
    // The token is the one the command line's profile names, never the file's variable's;
    // no certificate warning (the file's tls.insecure is not used); nothing went elsewhere.
    let got = tokens.lock().unwrap().clone();
    assert!(!got.is_empty());
    assert!(
        got.iter().all(|(_, t)| t.as_deref() == Some(STUB_TOKEN)),
        "{got:?}"
    );
    let err = String::from_utf8_lossy(&with_consent.stderr);
    assert!(!err.to_lowercase().contains("insecure"), "{err}");
    assert_eq!(
        came.load(Ordering::SeqCst),
        0,
        "the file's endpoint got a request"
    );
}
