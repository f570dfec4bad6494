//! `css-conformance proxy` as client teams run it: in front of the served stub with the
//! vendor SDK's request shape, a client that re-sends a refusal flagged (exit 1) and one that
//! does not clean (exit 0) with its bytes sent on unchanged both ways; a misbehaving upstream
//! judged without knowing anything of it; an unreachable one exit 3; and, in process, the
//! tool's whole feature set sent through the proxy to the conforming stub: never a false
//! alarm, whether the proxy knows the stub or not.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use css_conformance::contract::features;
use css_conformance::contract::spec::Spec;
use css_conformance::engines::scenarios::run_state::RunState;
use css_conformance::engines::scenarios::runner;
use css_conformance::fixtures::Fixtures;
use css_conformance::grading::report::Report;
use css_conformance::grading::writer::Console;
use css_conformance::secret::Secret;
use css_conformance::servers::proxy::{Proxy, ProxyOptions, Upstream};
use css_conformance::servers::stub::{self, STUB_TOKEN, Stub, stub_keys};
use css_conformance::transport::target::{Auth, Target};

use crate::common;

use common::sdk_vectors::{self, Case};
use common::served::{sdk_request, send, spawn, spawn_with_env, stop};

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// The served stub with `fixtures`, and a proxy in front of it with `more` arguments.
fn stub_and_proxy(
    fixtures: &Path,
    more: &[&str],
) -> (std::process::Child, std::process::Child, String) {
    let (stub, stub_host) = spawn(&[
        "stub".as_ref(),
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--serve-for".as_ref(),
        "60".as_ref(),
        "--fixtures".as_ref(),
        fixtures.as_os_str(),
    ]);
    let more: Vec<&std::ffi::OsStr> = more.iter().map(std::ffi::OsStr::new).collect();
    let (proxy, proxy_host) = start_proxy(&format!("http://{stub_host}"), &more, &[]);
    (stub, proxy, proxy_host)
}

/// The proxy in front of `upstream` on a port the OS picks, with `more` arguments and `env`.
fn start_proxy(
    upstream: &str,
    more: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let mut args: Vec<&std::ffi::OsStr> = [
        "proxy",
        "--upstream",
        upstream,
        "--listen",
        "127.0.0.1:0",
        "--serve-for",
        "60",
    ]
    .map(std::ffi::OsStr::new)
    .to_vec();
    args.extend_from_slice(more);
    spawn_with_env(&args, env)
}

/// The grade of `clause` in a console verdict.
fn graded<'s>(console: &'s str, clause: &str) -> &'s str {
    console
        .lines()
        .find(|l| l.starts_with(clause))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or_else(|| panic!("{clause} in {console}"))
}

fn report_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
}

fn verdict<'r>(report: &'r serde_json::Value, id: &str) -> &'r str {
    report["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["verdict"].as_str())
        .unwrap_or_else(|| panic!("{id} in the report"))
}

/// The vendor SDK's requests through the proxy to the stub, signed for the proxy's address
/// (the client's endpoint): the abort is accepted, `ABORT` refused, and the client that signs
/// the refused request again and re-sends it is flagged by the proxy, exit 1, with the
/// server's clauses judged (the proxy told what the stub knows) and the reports written.
#[test]
fn the_sdk_request_flow_through_the_proxy_and_a_client_that_resends_a_refusal() {
    let case = sdk_vectors::named("sdk_client_like_abort");
    let fixtures = tmp("proxy-sdk.yaml");
    std::fs::write(
        &fixtures,
        format!(
            "access_key: {}\nsecret_key: \"{}\"\ntoken: team-token\n",
            case.ak, case.sk
        ),
    )
    .unwrap();
    let dir = tmp("proxy-sdk-report");
    let _ = std::fs::remove_dir_all(&dir);
    let (stub, proxy, host) = stub_and_proxy(
        &fixtures,
        &[
            "--stub-fixtures",
            fixtures.to_str().unwrap(),
            "--report-dir",
            dir.to_str().unwrap(),
        ],
    );

    assert_eq!(
        send(&host, &sdk_request(&case, &host, &case.query_params)),
        200
    );
    let upper = vec![("retry_mode".to_owned(), "ABORT".to_owned())];
    assert_eq!(send(&host, &sdk_request(&case, &host, &upper)), 400);
    std::thread::sleep(Duration::from_millis(1100)); // a new X-Sdk-Date, a new signature
    assert_eq!(send(&host, &sdk_request(&case, &host, &upper)), 400);

    let (code, stderr) = stop(proxy, libc::SIGTERM);
    let _ = stop(stub, libc::SIGTERM);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("-> 200 (abort)"), "{stderr}");
    assert!(stderr.contains("-> 400 (invalid_retry_mode)"), "{stderr}");
    assert!(
        stderr.contains("3 request(s), 3 answered by the upstream"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 re-sent unchanged after a 400 or 403"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&case.sk),
        "the secret key is never printed"
    );
    // A SHOULD among the failures: not called a MUST.
    assert!(
        stderr.contains("NOT conformant: clauses failed: RUT-CLIENT-01, RUT-CLIENT-02"),
        "{stderr}"
    );
    // The side named: the clients, not the server.
    assert!(
        stderr.contains(
            "the server (upstream) broke no clause; the clients broke RUT-CLIENT-01, RUT-CLIENT-02"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("css_conformance::clients"), "{stderr}");
    let report = report_json(&dir);
    // The client's side.
    assert_eq!(verdict(&report, "RUT-CLIENT-01"), "FAIL");
    assert_eq!(verdict(&report, "RUT-CLIENT-02"), "FAIL");
    assert_eq!(verdict(&report, "RUT-CLIENT-04"), "PASS");
    // The server's side, as one who knows the stub judges it.
    for id in [
        "RUT-QUERY-02",
        "RUT-QUERY-03",
        "RUT-QUERY-04",
        "RUT-STATUS-01",
        "RUT-ERR-01",
    ] {
        assert_eq!(verdict(&report, id), "PASS", "{id}");
    }
    // What the proxy cannot see is said.
    assert_eq!(verdict(&report, "RUT-EFFECT-01"), "SKIP");
    for file in ["junit.xml", "report.md", "report.html"] {
        assert!(dir.join(file).exists(), "{file}");
    }
}

/// A client that takes each refusal as final, through the proxy in front of the stub: the
/// proxy finds nothing on either side, and exits 0.
#[test]
fn a_clean_client_through_the_proxy_in_front_of_the_stub_is_exit_0() {
    let fixtures = tmp("proxy-clean.yaml");
    std::fs::write(&fixtures, "token: team-token\n").unwrap();
    let (stub, proxy, host) =
        stub_and_proxy(&fixtures, &["--stub-fixtures", fixtures.to_str().unwrap()]);
    let path = |task: &str, query: &str| {
        format!(
            "/v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/{task}/retry{query}"
        )
    };
    let head = |path: String, token: &str| {
        format!("PUT {path} HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {token}\r\n")
    };
    let first = "bcdb711c-a7f0-4007-b8ee-9f13c05f8326";
    let second = "bcdb711c-a7f0-4007-b8ee-000000000001";
    assert_eq!(send(&host, &head(path(first, ""), "wrong")), 403);
    // Corrected: a change, not a repeat.
    assert_eq!(send(&host, &head(path(first, ""), "team-token")), 200);
    assert_eq!(
        send(
            &host,
            &head(path(second, "?retry_mode=abort"), "team-token")
        ),
        200
    );
    // Already retried: 400, taken as final.
    assert_eq!(send(&host, &head(path(first, ""), "team-token")), 400);

    let (code, stderr) = stop(proxy, libc::SIGTERM);
    let _ = stop(stub, libc::SIGTERM);
    assert_eq!(code, Some(0), "{stderr}");
    for id in [
        "RUT-QUERY-01",
        "RUT-QUERY-02",
        "RUT-AUTH-02",
        "RUT-EXT-01",
        "RUT-CLIENT-02",
    ] {
        assert_eq!(graded(&stderr, id), "PASS", "{id}: {stderr}");
    }
    assert!(!stderr.contains("team-token"), "{stderr}");
}

/// What a recording upstream got, and what it answers.
struct Recorder {
    url: String,
    got: Arc<Mutex<Vec<u8>>>,
    requests: Arc<AtomicUsize>,
}

const RECORDER_ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\nX-Request-Id: Ab-C\r\nx-lower: 1\r\nContent-Length: 0\r\n\r\n";

/// An upstream that keeps the bytes of each request head and answers `RECORDER_ANSWER`.
fn recorder() -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(AtomicUsize::new(0));
    let (kept, counted) = (Arc::clone(&got), Arc::clone(&requests));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (kept, counted) = (Arc::clone(&kept), Arc::clone(&counted));
            std::thread::spawn(move || {
                loop {
                    let Some(head) = common::tiny_server::read_head(&mut stream) else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    kept.lock().unwrap().extend_from_slice(&head);
                    if stream.write_all(RECORDER_ANSWER).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Recorder { url, got, requests }
}

/// Sends `request` as is and reads one answer without a body.
fn exchange_raw(host: &str, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(host).unwrap();
    stream.write_all(request).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "{answer:?}");
        answer.push(byte[0]);
    }
    answer
}

/// A client that behaves: its requests reach the upstream byte for byte (the SDK's header set
/// and order, names in their case, the signature; a header value as it is, though the optional
/// whitespace around one, which RFC 9112 says is not part of it, is written as one space), the answer reaches it byte for byte, a body
/// over the limit is refused by the proxy and never sent on, no secret is logged even at
/// `RUST_LOG=trace`, and the run exits 0.
#[test]
fn a_clean_client_through_the_proxy_exit_0_its_bytes_unchanged_both_ways() {
    let upstream = recorder();
    let (proxy, host) = start_proxy(&upstream.url, &[], &[("RUST_LOG", "trace")]);
    let case: Case = sdk_vectors::named("sdk_client_like_abort");
    // The SDK's head as it sends it, signed for the proxy's address, with no hop-by-hop
    // header (those are each connection's own).
    let sdk = format!("{}\r\n", sdk_request(&case, &host, &case.query_params));
    let token = format!(
        "PUT /v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/bcdb711c-a7f0-4007-b8ee-9f13c05f8326/retry HTTP/1.1\r\nhost: {host}\r\nX-Auth-Token: team-secret-token\r\nX-MiXeD-Case: two  spaces\r\nContent-Length: 0\r\n\r\n"
    );
    for request in [&sdk, &token] {
        let answer = exchange_raw(&host, request.as_bytes());
        assert_eq!(
            answer,
            RECORDER_ANSWER,
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    assert_eq!(
        String::from_utf8_lossy(&upstream.got.lock().unwrap()),
        format!("{sdk}{token}"),
        "the upstream got the bytes the client sent"
    );
    // A body over the limit (64 KiB) is the proxy's to refuse; the upstream never sees it.
    let big = format!(
        "PUT /v1.0/p/clusters/c/upgrade/a/retry HTTP/1.1\r\nHost: {host}\r\nContent-Length: 200000\r\n\r\n{}",
        "x".repeat(200_000)
    );
    let answer = exchange_raw(&host, big.as_bytes());
    assert!(answer.starts_with(b"HTTP/1.1 413"), "{answer:?}");
    assert_eq!(upstream.requests.load(Ordering::SeqCst), 2);

    let (code, stderr) = stop(proxy, libc::SIGTERM);
    assert_eq!(code, Some(0), "{stderr}");
    let signature = case.expected.authorization.rsplit('=').next().unwrap();
    for secret in [
        case.sk.as_str(),
        "team-secret-token",
        "Signature=",
        signature,
    ] {
        assert!(!stderr.contains(secret), "{secret} logged: {stderr}");
    }
    assert_eq!(graded(&stderr, "RUT-STATUS-02"), "PASS", "{stderr}");
    assert_eq!(graded(&stderr, "RUT-CLIENT-02"), "PASS", "{stderr}");
}

/// Without knowing anything of the upstream, the proxy still judges what holds under every
/// reading: a 500 is a 500 whatever the credentials or the task. An upstream that answers
/// nothing makes the run exit 3, the client getting the proxy's 502.
#[test]
fn a_misbehaving_upstream_is_judged_and_an_unreachable_one_is_exit_3() {
    let failing = common::tiny_server::serve(|_| common::tiny_server::server_error());
    let (proxy, host) = start_proxy(&failing, &[], &[]);
    let head = format!(
        "PUT /v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/x/retry HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: t\r\n"
    );
    assert_eq!(send(&host, &head), 500);
    let (code, stderr) = stop(proxy, libc::SIGTERM);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(graded(&stderr, "RUT-STATUS-02"), "FAIL", "{stderr}");
    assert!(stderr.contains("server fault"), "{stderr}");

    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (proxy, host) = start_proxy(&nowhere, &[], &[]);
    assert_eq!(send(&host, &head), 502);
    let (code, stderr) = stop(proxy, libc::SIGTERM);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("answered none of 1 request(s)"), "{stderr}");
}

/// An upstream URL the proxy cannot use is a usage error naming the flag.
#[test]
fn a_bad_upstream_is_exit_2_naming_the_flag() {
    for bad in ["ftp://host", "http://u:hunter2@host", "http://host/v1.0"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_css-conformance"))
            .args(["proxy", "--upstream", bad])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--upstream"), "{bad}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}

/// The tool's whole feature set sent through the proxy to the conforming in-process stub:
/// the run passes as it does directly (the proxy is transparent), and the proxy finds no
/// server fault, whether it knows the stub (and so judges most clauses) or knows nothing
/// (and judges only what every reading agrees on).
async fn suite_through_the_proxy(knows: bool) -> css_conformance::servers::proxy::ProxySummary {
    let spec = Arc::new(Spec::embedded());
    let stub = Stub::builder().spec(Arc::clone(&spec)).start().await;
    let options = ProxyOptions {
        upstream: Upstream::new(&stub.base_url(), None).unwrap(),
        limits: stub::Limits::default(),
        upstream_timeout: Duration::from_secs(30),
        knows: knows.then(|| (Fixtures::builtin(), stub_keys())),
    };
    let proxy = Proxy::start(Arc::clone(&spec), options, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let target = Target::new(
        "the stub through the proxy",
        proxy.url(),
        Auth::Token(Secret::new(STUB_TOKEN)),
        Fixtures::builtin(),
    )
    .unwrap()
    .allow_mutations(true);
    let run_state = Arc::new(RunState::new(Arc::clone(&spec), target));
    let run = runner::run(
        run_state,
        features::embedded(),
        &runner::ScenarioOptions::default(),
    )
    .await
    .unwrap();
    let report = Report::build(&spec, &run.target, &run.records, None, &[]);
    let not_passed: Vec<&str> = report.not_passed().map(|c| c.id.as_str()).collect();
    assert!(
        not_passed.is_empty(),
        "{not_passed:?}\n{}",
        Console::default().clauses(&report)
    );
    let summary = proxy.summary();
    let faults: Vec<String> = summary
        .server
        .iter()
        .filter(|(_, t)| t.violated > 0)
        .map(|(id, t)| format!("{id}: {:?}", t.examples))
        .collect();
    assert!(faults.is_empty(), "false alarms: {faults:#?}");
    assert_eq!(summary.unanswered, 0);
    // The tool as a client: it sends bad retry_modes on purpose (RUT-CLIENT-01's negative
    // cases), but never a refused request again unchanged.
    assert_eq!(summary.clients.resent, 0, "{}", summary.clients);
    summary
}

#[tokio::test(flavor = "multi_thread")]
async fn the_feature_set_through_a_proxy_that_knows_nothing_raises_no_false_alarm() {
    let summary = suite_through_the_proxy(false).await;
    for id in [
        "RUT-STATUS-01",
        "RUT-STATUS-02",
        "RUT-RESP-01",
        "RUT-ERR-01",
        "RUT-AUTH-01",
    ] {
        assert!(
            summary.server.get(id).is_some_and(|t| t.judged > 0),
            "{id} judged: {:?}",
            summary.server.keys()
        );
    }
    assert!(summary.ambiguous > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_feature_set_through_a_proxy_that_knows_the_stub_raises_no_false_alarm() {
    let summary = suite_through_the_proxy(true).await;
    // Every clause but those judged by a task's state over time (which the proxy does not
    // see) is judged, as `check` judges it.
    let spec = Spec::embedded();
    let by_effect = [
        spec.rules.refusal_leaves_task.as_str(),
        spec.rules.acceptance_acts.as_str(),
        spec.rules.named_task_only.as_str(),
        "RUT-METHOD-01",
    ];
    for clause in spec
        .clauses
        .iter()
        .filter(|c| !by_effect.contains(&c.id.as_str()))
    {
        assert!(
            summary.server.get(&clause.id).is_some_and(|t| t.judged > 0),
            "{} judged: {:?}",
            clause.id,
            summary.server
        );
    }
}

/// An https upstream with a self-signed certificate: refused (the client gets the proxy's 502
/// naming the certificate) unless `--ca-bundle` trusts it, then the answer comes through.
#[test]
fn an_https_upstream_is_verified_and_trusted_with_a_ca_bundle() {
    let pem = tmp("proxy-upstream.pem");
    let config = common::tls::self_signed(&pem);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut tcp) = stream else { continue };
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let Ok(mut tls) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut stream = rustls::Stream::new(&mut tls, &mut tcp);
                let Some(_) = common::tiny_server::read_head(&mut stream) else {
                    return;
                };
                let body = r#"{"error_code":"CSS.0010","error_msg":"denied"}"#;
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
                let _ = stream.flush();
            });
        }
    });
    let head = |host: &str| {
        format!(
            "PUT /v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/bcdb711c-a7f0-4007-b8ee-9f13c05f8326/retry HTTP/1.1\r\nHost: {host}\r\n"
        )
    };
    let (proxy, host) = start_proxy(&url, &[], &[]);
    assert_eq!(send(&host, &head(&host)), 502);
    let (code, stderr) = stop(proxy, libc::SIGTERM);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");

    let (proxy, host) = start_proxy(&url, &["--ca-bundle".as_ref(), pem.as_os_str()], &[]);
    assert_eq!(send(&host, &head(&host)), 403);
    let (code, stderr) = stop(proxy, libc::SIGTERM);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(graded(&stderr, "RUT-AUTH-01"), "PASS", "{stderr}");
}

#[test]
fn a_quiet_proxy_logs_the_faults_and_the_verdict_not_every_request() {
    let case = sdk_vectors::named("sdk_client_like_abort");
    let fixtures = tmp("proxy-quiet.yaml");
    std::fs::write(
        &fixtures,
        format!("access_key: {}\nsecret_key: \"{}\"\n", case.ak, case.sk),
    )
    .unwrap();
    let (stub, proxy, host) = stub_and_proxy(
        &fixtures,
        &["--stub-fixtures", fixtures.to_str().unwrap(), "--quiet"],
    );
    assert_eq!(
        send(&host, &sdk_request(&case, &host, &case.query_params)),
        200
    );
    let upper = vec![("retry_mode".to_owned(), "ABORT".to_owned())];
    assert_eq!(send(&host, &sdk_request(&case, &host, &upper)), 400);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(send(&host, &sdk_request(&case, &host, &upper)), 400);
    let (code, stderr) = stop(proxy, libc::SIGTERM);
    let _ = stop(stub, libc::SIGTERM);
    assert_eq!(code, Some(1), "{stderr}");
    // No line per request; the client's fault and the verdict are there.
    assert!(!stderr.contains("-> 200 (abort)"), "{stderr}");
    assert!(stderr.contains("re-sent unchanged"), "{stderr}");
    assert!(stderr.contains("NOT conformant"), "{stderr}");
}
