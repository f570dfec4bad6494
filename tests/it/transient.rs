//! A gateway's passing answers are the way's, not the operation's. In front of a conforming
//! stub, a gateway of our own answers 503 or 502 (or resets) the first time it sees each
//! request: a request a conforming server would not act on is sent again and judged; a retry
//! or abort is settled through the read API (read still failed: sent again) or, without it,
//! counted as used and not judged; nothing fails. A gateway that stops answering anything but
//! 503 ends the run as target unavailable (exit 3); a 503 that only one kind of request keeps
//! getting, while the target answers others, is the request's own (RUT-STATUS-02).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use css_conformance::contract::spec::Spec;
use css_conformance::fixtures::Fixtures;
use css_conformance::servers::stub::{Answer, Incoming, Responder, STUB_TOKEN, stub_keys};

/// How the gateway in front treats a request.
#[derive(Clone, Copy)]
enum Front {
    /// The first time it sees a request (method and target), this status; then the stub.
    FirstTime(u16),
    /// The stub for the first `n` requests, then 503 to everything.
    DownAfter(u64),
    /// 503 to every request whose query holds `retry_mode=ABORT`; the stub otherwise.
    Always503For(&'static str),
}

/// A conforming stub (the built-in fixtures) behind a gateway of ours.
struct Gateway {
    server: httpmock::MockServer,
    requests: Arc<AtomicU64>,
}

impl Gateway {
    async fn start(front: Front) -> Gateway {
        let spec = Arc::new(Spec::embedded());
        let responder = Arc::new(Responder::new(
            spec,
            &Fixtures::builtin(),
            &stub_keys(),
            Default::default(),
        ));
        let seen = Arc::new(Mutex::new(BTreeSet::new()));
        let requests = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&requests);
        let server = httpmock::MockServer::start_async().await;
        server
            .mock_async(|_when, then| {
                then.respond_with(move |req: &httpmock::HttpMockRequest| {
                    let n = counted.fetch_add(1, Ordering::SeqCst);
                    let key = format!("{} {}", req.method_str(), req.uri_str());
                    let first = seen.lock().unwrap().insert(key);
                    let passing = match front {
                        Front::FirstTime(status) => first.then_some(status),
                        Front::DownAfter(up) => (n >= up).then_some(503),
                        Front::Always503For(query) => req.uri_str().contains(query).then_some(503),
                    };
                    match passing {
                        Some(status) => Answer {
                            status,
                            content_type: Some("application/json"),
                            body: r#"{"error_code":"APIGW.0308","error_msg":"busy"}"#.to_owned(),
                            allow: None,
                            extra_headers: vec![("retry-after", "0".to_owned())],
                        }
                        .into_httpmock(),
                        None => responder.answer(&Incoming::of(req)).0.into_httpmock(),
                    }
                });
            })
            .await;
        Gateway { server, requests }
    }
}

/// What a `check` of the gateway printed, its report.json and its exit code.
struct Checked {
    exit: Option<i32>,
    text: String,
    report: serde_json::Value,
}

fn check(name: &str, url: &str, read_api: bool) -> Checked {
    let f = Fixtures::builtin();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("transient")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["check", "--quiet", "--endpoint", url])
        .args(["--project-id", &f.project_id, "--cluster-id", &f.cluster_id])
        .args(
            f.failed_action_ids[..2]
                .iter()
                .flat_map(|t| ["--failed-action-id", t]),
        )
        .args([
            "--allow-mutations",
            "--fuzz-cases",
            "60",
            "--settle-ms",
            "0",
        ])
        .args(["--set", "retries.backoff_ms=10"])
        .args(read_api.then_some("--read-api"))
        .arg("--report-dir")
        .arg(&dir)
        .env("CSS_CONFORMANCE_TOKEN", STUB_TOKEN)
        .output()
        .unwrap();
    let text = crate::common::printed(&output);
    let report = std::fs::read(dir.join("report.json"))
        .map(|t| serde_json::from_slice(&t).unwrap())
        .unwrap_or_else(|e| panic!("{name}: no report.json ({e}):\n{text}"));
    Checked {
        exit: output.status.code(),
        text,
        report,
    }
}

fn verdicts(report: &serde_json::Value, of: &[&str]) -> Vec<String> {
    report["clauses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| of.contains(&c["verdict"].as_str().unwrap_or_default()))
        .map(|c| format!("{} {}", c["id"], c["verdict"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passing_503_or_502_is_waited_out_and_a_retry_it_met_is_settled_or_not_judged() {
    for status in [503, 502] {
        for read_api in [true, false] {
            let gateway = Gateway::start(Front::FirstTime(status)).await;
            let name = format!("first-time-{status}-{read_api}");
            let url = gateway.server.base_url();
            let c = tokio::task::spawn_blocking(move || check(&name, &url, read_api))
                .await
                .unwrap();
            let failed = verdicts(&c.report, &["FAIL", "INTERMITTENT", "NON-STRICT"]);
            assert!(
                failed.is_empty(),
                "{status} {read_api}: {failed:?}\n{}",
                c.text
            );
            assert_eq!(c.exit, Some(0), "{}", c.text);
            let traffic = &c.report["traffic"];
            assert!(traffic["transient"].as_u64() > Some(20), "{traffic}");
            if read_api {
                // Each retry or abort that met the gateway was read still failed, sent again
                // and judged: the verdict is complete.
                assert_eq!(traffic["lost"], 0, "{traffic}");
                assert_eq!(c.report["verdict"], "conformant", "{}", c.text);
            } else {
                // Without the read API, each was counted as used and its clause not judged.
                assert!(traffic["lost"].as_u64() >= Some(1), "{traffic}");
                assert_eq!(c.report["verdict"], "incomplete", "{}", c.text);
                assert!(c.text.contains("its task counted as used"), "{}", c.text);
            }
            assert!(gateway.requests.load(Ordering::SeqCst) > 0);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_never_recovers_ends_the_run_as_target_unavailable() {
    let gateway = Gateway::start(Front::DownAfter(40)).await;
    let url = gateway.server.base_url();
    let c = tokio::task::spawn_blocking(move || check("down-after-40", &url, false))
        .await
        .unwrap();
    assert_eq!(c.exit, Some(3), "{}", c.text);
    assert_eq!(c.report["verdict"], "not-judged", "{}", c.text);
    assert!(c.text.contains("target unavailable"), "{}", c.text);
    let failed = verdicts(&c.report, &["FAIL"]);
    assert!(failed.is_empty(), "{failed:?}\n{}", c.text);
    // Once it is unavailable nothing more goes out: a few requests waited out, a probe.
    let after = gateway.requests.load(Ordering::SeqCst) - 40;
    assert!(after <= 30, "{after} requests after the outage\n{}", c.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_503_one_request_keeps_getting_while_others_are_answered_is_its_own() {
    let gateway = Gateway::start(Front::Always503For("retry_mode=ABORT")).await;
    let url = gateway.server.base_url();
    let c = tokio::task::spawn_blocking(move || check("always-503-for-ABORT", &url, false))
        .await
        .unwrap();
    assert_eq!(c.exit, Some(1), "{}", c.text);
    let failed = verdicts(&c.report, &["FAIL"]);
    assert!(
        failed.iter().any(|f| f.contains("RUT-STATUS-02")),
        "{failed:?}\n{}",
        c.text
    );
    assert!(c.text.contains("got status 503"), "{}", c.text);
    assert!(!c.text.contains("target unavailable"), "{}", c.text);
}
