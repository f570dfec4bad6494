//! Faulty targets: what cannot be judged is reported as a target fault (exit 3), never as
//! non-conformance, and the run ends soon.

use std::process::Command;
use std::time::{Duration, Instant};

use css_conformance::fixtures::Fixtures;

use crate::common;

/// Everything a run printed, stdout then stderr.
fn printed(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_refused_connection_is_a_target_fault_with_exit_3() {
    let port = closed_port();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .arg("check")
        .args(common::endpoint::flags(&format!("http://127.0.0.1:{port}")))
        .args(["--set", "retries.backoff_ms=10"])
        .args(["--junit"])
        .arg(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("refused.junit.xml"))
        .arg("--report-dir")
        .arg(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("refused-reports"))
        .output()
        .unwrap();
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("the target could not be judged"), "{text}");
    assert!(
        text.contains("0 FAIL"),
        "nothing is judged non-conformant: {text}"
    );
    assert!(
        !text.contains("NOT conformant") && !text.contains("panicked"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// A target at a fresh loopback `server`, as a live one (no stub shortcuts).
#[test]
fn fuzz_against_a_refused_connection_exits_3_having_judged_nothing() {
    let port = closed_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let findings = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("refused-fuzz");
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["fuzz", "--cases", "40", "--seed", "1", "--findings-dir"])
        .arg(&findings)
        .args(common::endpoint::flags(&endpoint))
        .args(["--set", "retries.backoff_ms=10"])
        .output()
        .unwrap();
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("answered none"), "{text}");
    // The same fuzz run against an answering stub is judged: exit 0, so the 3 is the target's.
    let ok = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["fuzz", "--cases", "40", "--seed", "1", "--findings-dir"])
        .arg(&findings)
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
}

fn target_at(server: &httpmock::MockServer) -> css_conformance::transport::target::Target {
    css_conformance::transport::target::Target::new(
        "faulty",
        &server.base_url(),
        css_conformance::transport::target::Auth::None,
        Fixtures::builtin(),
    )
    .unwrap()
}

fn unknown_task_request() -> css_conformance::contract::request::Request {
    let f = Fixtures::builtin();
    css_conformance::contract::request::Request {
        project_id: f.project_id,
        cluster_id: f.cluster_id,
        action_id: css_conformance::engines::fuzz::strategy::UNKNOWN_UUID.to_owned(),
        retry_mode: Vec::new(),
        extra_query: Vec::new(),
        credentials: css_conformance::contract::request::Credentials::Valid,
        method: None,
        shape: css_conformance::contract::request::Shape::default(),
    }
}

#[tokio::test]
async fn a_body_of_many_megabytes_is_read_up_to_the_cap_and_judged() {
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|_, then| {
            then.status(200).body(vec![b'x'; 5 << 20]);
        })
        .await;
    let spec = css_conformance::contract::spec::Spec::embedded();
    let started = Instant::now();
    let response = target_at(&server)
        .send(&spec, &unknown_task_request())
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body.len(),
        css_conformance::transport::target::loopback::MAX_BODY
    );
    let verdict = css_conformance::contract::oracle::judge(
        &spec,
        css_conformance::contract::spec::Kind::UnknownTask,
        &response,
    );
    assert!(verdict.violates("RUT-RESP-01"), "{verdict}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_closed_stdout_ends_the_run_without_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["check", "--fuzz-cases", "50", "--report-dir"])
        .arg(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("closed-stdout"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the report is printed, as `| head -1` would.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
}

#[test]
fn tls_spoken_to_a_plain_http_port_says_what_to_try() {
    // A plain-HTTP server (it answers anything with 403) reached as https://.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .arg("check")
        .args(common::endpoint::flags(&format!(
            "https://127.0.0.1:{port}"
        )))
        .args([
            "--fuzz-cases",
            "0",
            "--set",
            "retries.max=0",
            "--report-dir",
        ])
        .arg(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-to-http"))
        .output()
        .unwrap();
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("try http://"), "{text}");
}
