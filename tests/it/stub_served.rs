//! `css-conformance stub` as client teams use it: on a fixed address, with a fixtures file,
//! answering the official SDK's request shape, logging each request with its verdict, flagging
//! a client that re-sends a refused request unchanged, and stopping cleanly on SIGTERM or
//! Ctrl-C (SIGINT) with a summary.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use css_conformance::transport::signing;

use crate::common;

use common::sdk_vectors::{self, Case};
use common::served::{sdk_request, send, signed_with, spawn, stop};

/// The SDK's request for `retry_mode=abort`, from the vendor SDK's vectors.
fn sdk_client_like_abort() -> Case {
    sdk_vectors::named("sdk_client_like_abort")
}

/// The stub, served by the binary on a port the OS picks, with `fixtures`.
fn serve(fixtures: &str, name: &str) -> (Child, String) {
    serve_with(fixtures, name, &[])
}

/// `serve`, with `more` arguments.
fn serve_with(fixtures: &str, name: &str, more: &[&std::ffi::OsStr]) -> (Child, String) {
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.yaml"));
    std::fs::write(&file, fixtures).unwrap();
    let mut args: Vec<&std::ffi::OsStr> = [
        "stub",
        "--listen",
        "127.0.0.1:0",
        "--serve-for",
        "60",
        "--fixtures",
    ]
    .map(std::ffi::OsStr::new)
    .to_vec();
    args.push(file.as_os_str());
    args.extend_from_slice(more);
    spawn(&args)
}

#[test]
fn the_served_stub_answers_the_sdk_request_shape_and_flags_a_client_that_repeats_a_refusal() {
    let case = sdk_client_like_abort();
    let fixtures = format!(
        "# the SDK vectors' credentials\naccess_key: {}\nsecret_key: \"{}\"\n",
        case.ak, case.sk
    );
    let (child, host) = serve(&fixtures, "stub-sdk");

    // The official SDK's request shape, re-signed for now: 200, the abort is accepted.
    let abort = sdk_request(&case, &host, &case.query_params);
    assert_eq!(send(&host, &abort), 200);
    // A client that gets 400 for ABORT and sends the very same request again (re-signed, as
    // an SDK retry loop would) is at fault; the stub says so.
    let upper = vec![("retry_mode".to_owned(), "ABORT".to_owned())];
    assert_eq!(send(&host, &sdk_request(&case, &host, &upper)), 400);
    std::thread::sleep(Duration::from_millis(1100)); // a new X-Sdk-Date, a new signature
    assert_eq!(send(&host, &sdk_request(&case, &host, &upper)), 400);

    let (code, stderr) = stop(child, libc::SIGTERM);
    assert_eq!(
        code,
        Some(1),
        "a client fault makes the exit code 1\n{stderr}"
    );
    assert!(stderr.contains("-> 200 (abort)"), "{stderr}");
    assert!(stderr.contains("-> 400 (invalid_retry_mode)"), "{stderr}");
    assert!(stderr.contains("stopped (SIGTERM)"), "{stderr}");
    assert!(
        stderr.contains("1 request(s) re-sent unchanged after a 400 or 403"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&case.sk),
        "the secret key is never printed"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_well_behaved_client_leaves_a_clean_summary_and_exit_0() {
    let (child, host) = serve(
        "project_id: 0123456789abcdef0123456789abcdef\nfailed_action_ids:\n  - 11111111-2222-4333-8444-555555555555\ntoken: team-token\n",
        "stub-clean",
    );
    let path = "/v1.0/0123456789abcdef0123456789abcdef/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/11111111-2222-4333-8444-555555555555/retry";
    let head = |query: &str, token: &str| {
        format!("PUT {path}{query} HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {token}\r\n")
    };
    assert_eq!(send(&host, &head("", "wrong-token")), 403);
    // Changed after the refusal (the token corrected): not a repeat.
    assert_eq!(send(&host, &head("", "team-token")), 200);
    // The task is no longer failed; the client takes the 400 and does not repeat it.
    assert_eq!(send(&host, &head("?retry_mode=abort", "team-token")), 400);
    // Ctrl-C at a terminal: SIGINT, the same clean stop and summary.
    let (code, stderr) = stop(child, libc::SIGINT);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped (Ctrl-C)"), "{stderr}");
    assert!(
        stderr
            .contains("3 request(s) answered (1 x 200, 1 x 400, 1 x 403); no request was re-sent"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("team-token"),
        "the token is never printed: {stderr}"
    );
    // The client verdict, clause by clause.
    assert!(stderr.contains("RUT-CLIENT-01 MUST     PASS"), "{stderr}");
    assert!(stderr.contains("RUT-CLIENT-02 SHOULD   PASS"), "{stderr}");
    assert!(stderr.contains("RUT-CLIENT-03 EXTENDED SKIP"), "{stderr}");
    assert!(stderr.contains("Conformant"), "{stderr}");
}

/// Each client clause judged as the stub saw it, with the same reports `check` writes:
/// retry_mode not as allowed, a refusal re-sent unchanged and a stale X-Sdk-Date each fail
/// their clause (the stub grades its clients strictly), the 429 clause is not judged (the stub
/// never throttles), and junit.xml, report.json, report.md and report.html say so.
#[test]
fn the_client_verdict_is_graded_by_clause_and_written_as_reports() {
    let case = sdk_client_like_abort();
    let fixtures = format!(
        "access_key: {}\nsecret_key: \"{}\"\ntoken: team-token\n",
        case.ak, case.sk
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stub-client-verdict");
    let _ = std::fs::remove_dir_all(&dir);
    let (child, host) = serve_with(
        &fixtures,
        "stub-client-verdict",
        &["--report-dir".as_ref(), dir.as_os_str()],
    );
    let path = "/v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/bcdb711c-a7f0-4007-b8ee-000000000007/retry";
    let upper = format!(
        "PUT {path}?retry_mode=ABORT HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: team-token\r\n"
    );
    assert_eq!(send(&host, &upper), 400);
    assert_eq!(send(&host, &upper), 400);
    // Signed with a date an hour old.
    let mut stale = signed_with(&case, &host, path, &case.sk, "");
    // The date it was signed with, as it is in the head (the clock may have ticked since).
    let signed_at = stale
        .lines()
        .find_map(|l| l.strip_prefix("X-Sdk-Date: "))
        .expect("the SDK's head carries X-Sdk-Date")
        .to_owned();
    let old = signing::sdk_date(time::OffsetDateTime::now_utc() - time::Duration::hours(1));
    stale = stale.replace(&signed_at, &old);
    assert_eq!(send(&host, &stale), 403);

    let (code, stderr) = stop(child, libc::SIGTERM);
    assert_eq!(code, Some(1), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let verdict = |id: &str| {
        report["clauses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["verdict"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{id}: {report}"))
    };
    assert_eq!(verdict("RUT-CLIENT-01"), "FAIL", "{stderr}");
    assert_eq!(verdict("RUT-CLIENT-02"), "FAIL", "{stderr}");
    assert_eq!(verdict("RUT-CLIENT-03"), "SKIP", "{stderr}");
    assert_eq!(verdict("RUT-CLIENT-04"), "FAIL", "{stderr}");
    assert_eq!(report["exit_code"], 1);
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("[RUT-CLIENT-04]"), "{junit}");
    assert!(junit.contains("<failure"), "{junit}");
    let markdown = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        markdown.contains("| RUT-CLIENT-02 | SHOULD | **FAIL** | - |"),
        "a verdict of requests alone has no scenarios to count: {markdown}"
    );
    assert!(dir.join("report.html").is_file());
    assert!(
        stderr.contains("X-Sdk-Date more than 15 minutes from now"),
        "{stderr}"
    );
}

#[test]
fn a_bad_fixtures_file_is_exit_2_naming_file_line_and_key() {
    for (name, yaml, expected) in [
        ("stub-unknown-key", "tokn: x\n", "unknown field `tokn`"),
        (
            "stub-bad-id",
            "cluster_id: ea244205-d641-45d9-9dcb-ab2236bcd07e\nfailed_action_ids: [not-a-uuid]\n",
            ":2: key `failed_action_ids`",
        ),
        (
            "stub-wrong-type",
            "failed_action_ids: 7\n",
            "failed_action_ids",
        ),
    ] {
        let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.yaml"));
        std::fs::write(&file, yaml).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
            .args(["stub", "--serve-for", "0", "--fixtures"])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{name}.yaml")), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

/// "Unchanged" is the request with the credentials as the stub judged them: a corrected SK
/// (same AK) is a change, and so is dropping a bad signature for a token sent beside it (the
/// identity comes from the header the stub verified, whatever the headers' order); re-signing
/// with the same wrong SK is not. A reset starts a new scope: the tasks failed again, earlier
/// refusals forgotten.
#[test]
fn corrected_credentials_are_a_change_a_resend_is_not_and_a_reset_starts_clean() {
    let case = sdk_client_like_abort();
    let fixtures = format!(
        "access_key: {}\nsecret_key: \"{}\"\ntoken: team-token\n",
        case.ak, case.sk
    );
    let (child, host) = serve(&fixtures, "stub-client-flows");
    let task = |id: &str| {
        format!(
            "/v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/{id}/retry"
        )
    };
    let failed = task("bcdb711c-a7f0-4007-b8ee-9f13c05f8326");

    // A wrong SK, then the right one with the same AK: refused, then accepted; no fault.
    assert_eq!(
        send(&host, &signed_with(&case, &host, &failed, "wrong-sk", "")),
        403
    );
    assert_eq!(
        send(&host, &signed_with(&case, &host, &failed, &case.sk, "")),
        200
    );

    // Both headers, the token first: the stub verifies the (bad) signature and refuses; the
    // same request with the token alone is a change, and accepted... on another task.
    let other = task("bcdb711c-a7f0-4007-b8ee-000000000001");
    let both = signed_with(
        &case,
        &host,
        &other,
        "wrong-sk",
        "X-Auth-Token: team-token\r\n",
    );
    assert_eq!(send(&host, &both), 403);
    let token_only =
        format!("PUT {other} HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: team-token\r\n");
    assert_eq!(send(&host, &token_only), 200);

    // A true re-send: the same wrong SK, re-signed a second later.
    let third = task("bcdb711c-a7f0-4007-b8ee-000000000002");
    assert_eq!(
        send(&host, &signed_with(&case, &host, &third, "wrong-sk", "")),
        403
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        send(&host, &signed_with(&case, &host, &third, "wrong-sk", "")),
        403
    );

    // A reset needs the stub's credentials; then the first task is failed again, and the
    // refusal above is forgotten (sending it again is no fault in the new scope).
    let reset = |token: &str| {
        format!("POST /css-conformance/reset HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {token}\r\n")
    };
    assert_eq!(send(&host, &reset("wrong-token")), 403);
    assert_eq!(send(&host, &reset("team-token")), 204);
    assert_eq!(
        send(&host, &signed_with(&case, &host, &third, "wrong-sk", "")),
        403
    );
    assert_eq!(
        send(&host, &signed_with(&case, &host, &failed, &case.sk, "")),
        200
    );

    let (code, stderr) = stop(child, libc::SIGTERM);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("1 request(s) re-sent unchanged after a 400 or 403"),
        "only the true re-send is a fault:\n{stderr}"
    );
    assert!(stderr.contains("client scope reset"), "{stderr}");
    assert!(!stderr.contains("team-token"), "{stderr}");
}

/// The Rust API's `verify` fails a client team's test on any client clause broken, naming it;
/// `client_summary` is the verdict it reads.
#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "RUT-CLIENT-01")]
async fn verify_panics_naming_the_client_clause_broken() {
    let stub = css_conformance::servers::stub::Stub::start_for_clients().await;
    let task = stub.fixtures().failed_action_ids[0].clone();
    let url = stub.operation_url(&task, Some("ABORT"));
    let (host, target) = url["http://".len()..].split_once('/').unwrap();
    let head = format!(
        "PUT /{target} HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {}\r\n",
        css_conformance::servers::stub::STUB_TOKEN
    );
    assert_eq!(send(host, &head), 400);
    assert_eq!(stub.client_summary().clauses["RUT-CLIENT-01"].violated, 1);
    stub.verify();
}

#[test]
fn a_clients_bidi_and_separator_characters_are_inert_in_every_output() {
    let reports = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stub-client-text");
    let _ = std::fs::remove_dir_all(&reports);
    let more = [std::ffi::OsStr::new("--report-dir"), reports.as_os_str()];
    let (child, host) = serve_with("", "stub-client-text", &more);
    // A raw right-to-left override and a line separator in the path and the query, sent
    // twice so that the client's fault is quoted in the verdict too.
    let head = format!(
        "PUT /v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/x\u{202e}y/retry?retry_mode=a\u{2028}b HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {}\r\n",
        css_conformance::servers::stub::STUB_TOKEN
    );
    for _ in 0..2 {
        let mut stream = std::net::TcpStream::connect(&host).unwrap();
        use std::io::{Read as _, Write as _};
        stream
            .write_all(format!("{head}Content-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
    let (_, stderr) = stop(child, libc::SIGTERM);
    let mut outputs = vec![("stderr".to_owned(), stderr.clone())];
    for file in ["report.md", "report.html", "junit.xml", "report.json"] {
        let text = std::fs::read_to_string(reports.join(file)).unwrap_or_default();
        outputs.push((file.to_owned(), text));
    }
    // The requests were seen (logged and judged), and nowhere is the character itself.
    assert!(stderr.contains("\\u{202e}"), "{stderr}");
    for (name, text) in &outputs {
        for c in ['\u{202e}', '\u{2028}'] {
            assert!(!text.contains(c), "{name} carries {c:?} raw");
        }
    }
}

/// A connection to 127.0.0.1:`port` whose receive buffer is set small before it connects (so
/// that the window it offers stays small).
fn small_window_connection(port: u16) -> std::net::TcpStream {
    use std::os::fd::FromRawFd as _;
    // SAFETY: a socket this test makes, options and an address with valid pointers and sizes;
    // the descriptor is handed to the TcpStream, which closes it.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket");
        let size: libc::c_int = 4096;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&raw const size).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_be_bytes([127, 0, 0, 1]).to_be(),
            },
            sin_zero: [0; 8],
        };
        let connected = libc::connect(
            fd,
            (&raw const addr).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(connected, 0, "connect");
        std::net::TcpStream::from_raw_fd(fd)
    }
}

/// Established TCP connections whose local port is `port` (the server's side of them), as
/// /proc/net/tcp lists them.
fn established_on(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields
                .get(1)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            local_port == Some(port) && fields.get(3) == Some(&"01")
        })
        .count()
}

#[test]
fn clients_that_never_read_their_answers_are_let_go_after_the_idle_timeout() {
    let args = [
        "stub",
        "--listen",
        "127.0.0.1:0",
        "--serve-for",
        "40",
        "--silent",
        "--idle-timeout",
        "1",
    ]
    .map(std::ffi::OsStr::new);
    let (child, host) = spawn(&args);
    let port: u16 = host.rsplit(':').next().unwrap().parse().unwrap();
    let request = "PUT /v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/00000000-5e57-4000-8000-000000000000/retry HTTP/1.1\r\nHost: x\r\nX-Auth-Token: wrong\r\nContent-Length: 0\r\n\r\n".repeat(8);
    // Five clients, each asking for some 3 MB of answers and reading none (small receive
    // buffers), so that the stub's writes stall.
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut stream = small_window_connection(port);
        stream.set_nonblocking(true).unwrap();
        use std::io::Write as _;
        for _ in 0..2000 {
            // A send the stub does not take whole is simply dropped: these clients only
            // need to have asked for more than they read.
            match stream.write(request.as_bytes()) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        clients.push(stream);
    }
    // Past the idle timeout (1 s) their connections are closed by the stub; without the
    // timeout on writes they stay open as long as the clients keep them.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut open = usize::MAX;
    while std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        open = established_on(port);
        if open == 0 {
            break;
        }
    }
    drop(clients);
    let _ = stop(child, libc::SIGTERM);
    assert_eq!(
        open, 0,
        "connections of clients that never read their answers still open"
    );
}

#[test]
fn a_quiet_stub_logs_the_clients_faults_and_the_verdict_not_every_request() {
    let more = [std::ffi::OsStr::new("--quiet")];
    let (child, host) = serve_with("", "stub-quiet", &more);
    let refused = format!(
        "PUT /v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/00000000-5e57-4000-8000-000000000000/retry HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {}\r\n",
        css_conformance::servers::stub::STUB_TOKEN
    );
    // Refused, then sent again unchanged: a client fault.
    assert_eq!(send(&host, &refused), 400);
    assert_eq!(send(&host, &refused), 400);
    let (code, stderr) = stop(child, libc::SIGTERM);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("-> 400"), "a line per request: {stderr}");
    assert!(stderr.contains("re-sent unchanged"), "{stderr}");
    assert!(stderr.contains("NOT conformant"), "{stderr}");
}

#[test]
fn a_client_that_repeats_a_fault_thousands_of_times_gets_a_line_for_its_first_ones_then_sums() {
    let more = [std::ffi::OsStr::new("--quiet")];
    let (child, host) = serve_with("", "stub-quiet-flood", &more);
    let refused = format!(
        "PUT /v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/00000000-5e57-4000-8000-000000000000/retry HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {}\r\n",
        css_conformance::servers::stub::STUB_TOKEN
    );
    for _ in 0..400 {
        assert_eq!(send(&host, &refused), 400);
    }
    let (code, stderr) = stop(child, libc::SIGTERM);
    assert_eq!(code, Some(1), "{stderr}");
    let lines = stderr
        .lines()
        .filter(|l| l.contains("client fault"))
        .count();
    assert!(lines <= 25, "{lines} lines for 399 faults:\n{stderr}");
    assert!(
        stderr.contains("more refusal(s) re-sent unchanged"),
        "{stderr}"
    );
    // The summary on stop counts every one of them.
    assert!(stderr.contains("399"), "{stderr}");
}
