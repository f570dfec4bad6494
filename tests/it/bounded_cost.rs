//! A server that fails one class of input costs a small multiple of a conforming run: it
//! answers 500 to every path holding a percent-encoded character (403 otherwise), and `check`
//! retries failures from a small run-wide budget only, sends no identical request again
//! after its answer (a refusal or a failure stands for the run), and shrinks without
//! re-sending a candidate or retrying a 5xx.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::common;

type Seen = Arc<Mutex<HashMap<String, u32>>>;

/// The server; what it received, by request line and what else makes a request another one
/// (a body, a method-override header, `Expect`).
fn serve() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let counted = Arc::clone(&seen);
    let url = common::tiny_server::serve_heads(move |head| {
        let line = head.lines().next().unwrap_or("");
        let mut key = line.to_owned();
        for header in head.lines().skip(1) {
            let lower = header.to_ascii_lowercase();
            let body =
                lower.starts_with("content-length:") && lower.trim_end() != "content-length: 0";
            if body || lower.starts_with("x-http-method-override:") || lower.starts_with("expect:")
            {
                key.push_str(&format!(" [{}]", header.trim()));
            }
        }
        *counted.lock().unwrap().entry(key).or_default() += 1;
        common::tiny_server::fails_encoded_paths(line)
    });
    (url, seen)
}

#[test]
fn a_server_failing_a_class_of_input_costs_a_bounded_run() {
    let (url, seen) = serve();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bounded-cost");
    let _ = std::fs::remove_dir_all(&dir);
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .arg("check")
        .args(common::endpoint::flags(&url))
        .args(["--set", "retries.backoff_ms=1"])
        .args(["--seed", "5", "--report-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{console}");
    assert!(console.contains("RUT-STATUS-02"), "{console}");
    // Each finding's minimal case was sent again three times on purpose, and reproduced
    // (clauses with the same minimal case share its repeats).
    let mut minimal_cases = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir.join("findings")).unwrap() {
        let finding: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        assert_eq!(
            finding["reproduction"],
            serde_json::json!({ "outcome": "repeated", "violated": 3, "of": 3 }),
            "{finding}"
        );
        let url = finding["url"].as_str().unwrap();
        let path = &url[url.find("/v1.0").unwrap()..];
        minimal_cases.insert(format!("PUT {path} HTTP/1.1"));
    }
    assert!(!minimal_cases.is_empty(), "{console}");
    let mut seen = seen.lock().unwrap().clone();
    let total: u32 = seen.values().sum();
    // A conforming server gets ~180 requests from this run (the features, 300 generated
    // cases); the shrinking of each violated clause adds some, each candidate once, and the
    // repeats of each finding three.
    assert!(total < 600, "{total} requests");
    for line in &minimal_cases {
        let n = seen
            .get_mut(line)
            .unwrap_or_else(|| panic!("{line} never sent"));
        assert!(*n >= 4, "{line}: {n} times, with its three repeats");
        *n -= 3;
    }
    // Outside the repeats, the same request at most three times: once, and two retries from
    // the run's budget.
    let most = seen.iter().max_by_key(|(_, n)| **n);
    assert!(
        most.is_none_or(|(_, n)| *n <= 3),
        "{most:?} times one request"
    );
    let repeated = seen.values().filter(|n| **n > 1).count();
    assert!(repeated <= 10, "{repeated} requests sent more than once");
}
