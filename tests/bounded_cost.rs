//! A server that fails one class of input costs a small multiple of a conforming run: it
//! answers 500 to every path holding a percent-encoded character (403 otherwise), and `check`
//! retries failures from a small run-wide budget only, sends no identical request again
//! after its answer (a refusal or a failure stands for the run), and shrinks without
//! re-sending a candidate or retrying a 5xx.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};

use css_conformance::fixtures::Fixtures;

mod common {
    pub mod tiny_server;
}

type Seen = Arc<Mutex<HashMap<String, u32>>>;

/// The server; what it received, by request line.
fn serve() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let counted = Arc::clone(&seen);
    let url = common::tiny_server::serve(move |line| {
        *counted.lock().unwrap().entry(line.to_owned()).or_default() += 1;
        let path = line.split(' ').nth(1).unwrap_or("");
        if path.split('?').next().unwrap_or("").contains('%') {
            (500, "X", String::new(), "boom".to_owned())
        } else {
            let body = r#"{"error_code":"CSS.0015","error_msg":"No resources are found"}"#;
            (403, "X", String::new(), body.to_owned())
        }
    });
    (url, seen)
}

#[test]
fn a_server_failing_a_class_of_input_costs_a_bounded_run() {
    let (url, seen) = serve();
    let f = Fixtures::builtin();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bounded-cost");
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["check", "--auth", "none", "--endpoint", &url])
        .args(["--project-id", &f.project_id])
        .args(["--set", &format!("fixtures.cluster_id={}", f.cluster_id)])
        .args([
            "--set",
            "retries.backoff_ms=1",
            "--max-requests-per-second",
            "0",
        ])
        .args(["--seed", "5", "--report-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{console}");
    assert!(console.contains("RUT-STATUS-02"), "{console}");
    let seen = seen.lock().unwrap();
    let total: u32 = seen.values().sum();
    let most = seen.values().copied().max().unwrap_or(0);
    // A conforming server gets ~180 requests from this run (the features, 300 generated
    // cases); the shrinking of each violated clause adds some, each candidate once.
    assert!(total < 600, "{total} requests");
    // The same request at most three times: once, and two retries from the run's budget.
    assert!(most <= 3, "{most} times one request");
    let repeated = seen.values().filter(|n| **n > 1).count();
    assert!(repeated <= 10, "{repeated} requests sent more than once");
}
