//! `check` against servers that misbehave, one per fault: the run ends in a bounded time,
//! never panics, still writes its reports, and says what happened. A target that answered
//! nothing is a target fault (exit 3, nothing judged non-conformant); an answer that breaks
//! the contract is non-conformance (exit 1). Credentials never follow a redirect.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use css_conformance::fixtures::Fixtures;

use crate::common;

/// How the fault server treats each connection.
#[derive(Clone)]
enum Fault {
    /// Starts a response, then resets the connection.
    ResetMidResponse,
    /// Reads the request and never answers.
    Hang,
    /// Answers a proper 403, after `delay`.
    Slow(Duration),
    /// Answers with bytes that are not HTTP.
    NotHttp,
    /// Answers every request with this status, an error body, and these headers.
    Status(u16, &'static str),
    /// A 200 with a body of this many bytes.
    HugeBody(usize),
    /// A TLS server with a self-signed certificate, answering a proper 403.
    Tls(Arc<rustls::ServerConfig>),
}

/// A loopback server that misbehaves as told, counting the requests it got and keeping the
/// headers of each; it stops when dropped.
struct FaultServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
    heads: Arc<Mutex<Vec<String>>>,
}

impl FaultServer {
    fn start(fault: Fault) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicU64::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (s, r, h) = (Arc::clone(&stop), Arc::clone(&requests), Arc::clone(&heads));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (fault, r, h, s) = (
                    fault.clone(),
                    Arc::clone(&r),
                    Arc::clone(&h),
                    Arc::clone(&s),
                );
                std::thread::spawn(move || serve(stream, fault, &r, &h, &s));
            }
        });
        FaultServer {
            addr,
            stop,
            requests,
            heads,
        }
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
    }
}

/// Reads one request head (the requests carry no body).
fn read_head(stream: &mut impl std::io::Read) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn answer(status: u16, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} Status\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

const ERROR_BODY: &[u8] = br#"{"error_code":"CSS.0015","error_msg":"No resources are found"}"#;

fn serve(
    mut stream: TcpStream,
    fault: Fault,
    requests: &AtomicU64,
    heads: &Mutex<Vec<String>>,
    stop: &AtomicBool,
) {
    if let Fault::Tls(config) = &fault {
        let Ok(conn) = rustls::ServerConnection::new(Arc::clone(config)) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, stream);
        if read_head(&mut tls).is_some() {
            requests.fetch_add(1, Ordering::SeqCst);
            let _ = tls.write_all(&answer(403, "", ERROR_BODY));
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
        return;
    }
    let Some(head) = read_head(&mut stream) else {
        return;
    };
    requests.fetch_add(1, Ordering::SeqCst);
    heads.lock().unwrap().push(head);
    let _ = match fault {
        Fault::ResetMidResponse => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
            reset(&stream);
            return;
        }
        Fault::Hang => {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        Fault::Slow(delay) => {
            std::thread::sleep(delay);
            stream.write_all(&answer(403, "", ERROR_BODY))
        }
        Fault::NotHttp => stream.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
        Fault::Status(status, extra) => stream.write_all(&answer(status, extra, ERROR_BODY)),
        Fault::HugeBody(n) => stream.write_all(&answer(200, "", &vec![b'x'; n])),
        Fault::Tls(_) => unreachable!("handled above"),
    };
}

/// Closes `stream` with a TCP reset (SO_LINGER 0) instead of an orderly close.
fn reset(stream: &TcpStream) {
    use std::os::fd::AsRawFd as _;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setting a socket option on a socket this thread owns, with a valid pointer.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// What a `check` run did.
struct Outcome {
    code: Option<i32>,
    text: String,
    elapsed: Duration,
    report_dir: PathBuf,
}

const TOKEN: &str = "canary-token-9f8e7d";

/// `check` against `endpoint` with short timeouts, one retry and no rate limit. Where every
/// answer breaks a clause, a fuzz budget would spend most of its time shrinking findings one
/// request at a time, so those runs pass `--fuzz-cases 0`.
fn check(name: &str, endpoint: &str, extra: &[&str]) -> Outcome {
    let f = Fixtures::builtin();
    let report_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("faulty-{name}"));
    let _ = std::fs::remove_dir_all(&report_dir);
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["check", "--endpoint", endpoint])
        .args(["--project-id", &f.project_id])
        .args(["--set", &format!("fixtures.cluster_id={}", f.cluster_id)])
        .args([
            "--set",
            "timeouts.request_ms=500",
            "--set",
            "timeouts.connect_ms=500",
        ])
        .args(["--set", "retries.max=1", "--set", "retries.backoff_ms=10"])
        .args(["--max-requests-per-second", "0", "--seed", "1"])
        .arg("--report-dir")
        .arg(&report_dir)
        .arg("--findings-dir")
        .arg(report_dir.join("findings"))
        .args(extra)
        .env("CSS_CONFORMANCE_TOKEN", TOKEN)
        .output()
        .unwrap();
    let outcome = Outcome {
        code: output.status.code(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        elapsed: started.elapsed(),
        report_dir,
    };
    let said = outcome
        .text
        .lines()
        .filter(|l| l.starts_with("error:") || l.contains(" FAIL "))
        .take(3)
        .collect::<Vec<_>>()
        .join(" | ");
    eprintln!(
        "{name}: exit {:?} in {:.1?}: {said}",
        outcome.code, outcome.elapsed
    );
    // Whatever the fault: bounded, no panic, no secret, the reports written (unless the
    // fixtures were refused before anything was judged: exit 2).
    assert!(
        outcome.elapsed < Duration::from_secs(60),
        "{name}: took {:?}",
        outcome.elapsed
    );
    assert!(
        !outcome.text.contains("panicked"),
        "{name}: {}",
        outcome.text
    );
    assert!(
        !outcome.text.contains(TOKEN),
        "{name}: the token was printed"
    );
    for file in ["report.json", "junit.xml", "report.html"] {
        assert!(
            outcome.code == Some(2) || outcome.report_dir.join(file).is_file(),
            "{name}: {file} not written\n{}",
            outcome.text
        );
    }
    outcome
}

/// Nothing could be judged: exit 3, a target fault, no clause failed.
fn assert_target_fault(name: &str, o: &Outcome) {
    assert_eq!(o.code, Some(3), "{name}: {}", o.text);
    assert!(
        o.text.contains("the target could not be judged"),
        "{name}: {}",
        o.text
    );
    assert!(
        o.text.contains(" 0 FAIL"),
        "{name}: nothing is non-conformant: {}",
        o.text
    );
    assert!(!o.text.contains("NOT conformant"), "{name}: {}", o.text);
    let junit = std::fs::read_to_string(o.report_dir.join("junit.xml")).unwrap();
    assert!(junit.contains(r#"type="target-fault""#), "{name}: {junit}");
    assert!(
        !junit.contains(r#"type="non-conformance""#),
        "{name}: {junit}"
    );
}

/// Something was judged non-conformant: exit 1, `clause` failed.
fn assert_non_conformant(name: &str, o: &Outcome, clause: &str) {
    assert_eq!(o.code, Some(1), "{name}: {}", o.text);
    assert!(
        o.text
            .lines()
            .any(|l| l.starts_with(clause) && l.contains(" FAIL ")),
        "{name}: {clause} should FAIL: {}",
        o.text
    );
    assert!(
        !o.text.contains("could not be judged"),
        "{name}: {}",
        o.text
    );
}

#[test]
fn a_connection_reset_in_the_middle_of_a_response_is_a_target_fault() {
    let server = FaultServer::start(Fault::ResetMidResponse);
    let o = check("reset", &server.url("http"), &["--fuzz-cases", "20"]);
    assert_target_fault("reset", &o);
    assert!(
        o.text.contains("the first: "),
        "the fault is named: {}",
        o.text
    );
}

#[test]
fn a_server_that_never_answers_is_a_target_fault_after_the_timeout() {
    let server = FaultServer::start(Fault::Hang);
    let o = check("hang", &server.url("http"), &["--fuzz-cases", "20"]);
    assert_target_fault("hang", &o);
    assert!(
        o.text.contains("the first: no answer within 500 ms"),
        "{}",
        o.text
    );
}

#[test]
fn an_answer_slower_than_the_timeout_is_a_target_fault() {
    let server = FaultServer::start(Fault::Slow(Duration::from_millis(1500)));
    let o = check("slow", &server.url("http"), &["--fuzz-cases", "20"]);
    assert_target_fault("slow", &o);
}

#[test]
fn bytes_that_are_not_http_are_a_target_fault() {
    let server = FaultServer::start(Fault::NotHttp);
    let o = check("not-http", &server.url("http"), &["--fuzz-cases", "20"]);
    assert_target_fault("not-http", &o);
}

#[test]
fn server_errors_are_non_conformance_after_one_retry() {
    // A gateway's 502, 503 or 504 to everything is a target unavailable (`transient.rs`).
    for status in [500, 501] {
        let server = FaultServer::start(Fault::Status(status, ""));
        let name = format!("status-{status}");
        let o = check(&name, &server.url("http"), &["--fuzz-cases", "0"]);
        assert_non_conformant(&name, &o, "RUT-STATUS-02");
        assert!(
            o.text.contains(&format!("got status {status}")),
            "{name}: {}",
            o.text
        );
        assert!(
            o.text.contains("retried after a network error or 5xx"),
            "{name}: {}",
            o.text
        );
    }
}

#[test]
fn endless_429_with_or_without_retry_after_is_a_target_fault() {
    for (name, extra) in [("429-retry-after", "Retry-After: 1\r\n"), ("429-plain", "")] {
        let server = FaultServer::start(Fault::Status(429, extra));
        let o = check(name, &server.url("http"), &["--fuzz-cases", "20"]);
        assert_target_fault(name, &o);
        assert!(
            o.text.contains("the first: throttled: 429"),
            "{name}: {}",
            o.text
        );
    }
}

#[test]
fn a_redirect_is_not_followed_and_never_carries_the_credentials_elsewhere() {
    let elsewhere = FaultServer::start(Fault::Status(403, ""));
    for (name, location) in [
        ("redirect-same-host", "/v1.0/elsewhere".to_owned()),
        (
            "redirect-other-host",
            format!("{}/v1.0/elsewhere", elsewhere.url("http")),
        ),
    ] {
        let extra: &'static str = Box::leak(format!("Location: {location}\r\n").into_boxed_str());
        let server = FaultServer::start(Fault::Status(307, extra));
        let o = check(
            name,
            &server.url("http"),
            &["--auth", "token", "--fuzz-cases", "0"],
        );
        // A base URL that redirects is not the CSS API's: said before anything is judged.
        assert_eq!(o.code, Some(2), "{name}: {}", o.text);
        assert!(
            o.text.contains("does not answer as the CSS API") && o.text.contains("got 307"),
            "{name}: {}",
            o.text
        );
        let heads = server.heads.lock().unwrap();
        assert!(
            heads.iter().all(|h| !h.contains("/v1.0/elsewhere")),
            "{name}: followed"
        );
        assert!(
            heads.iter().any(|h| h.contains(TOKEN)),
            "{name}: the server got the token"
        );
    }
    assert_eq!(
        elsewhere.requests.load(Ordering::SeqCst),
        0,
        "the other host never got a request, so never the credentials"
    );
}

#[test]
fn a_body_of_many_megabytes_is_read_with_a_cap_and_judged() {
    let server = FaultServer::start(Fault::HugeBody(3 << 20));
    let o = check("huge-body", &server.url("http"), &["--fuzz-cases", "0"]);
    assert_non_conformant("huge-body", &o, "RUT-RESP-01");
}

/// A TLS fault server with a fresh self-signed certificate for 127.0.0.1, and the
/// certificate's PEM file.
fn tls_server(name: &str) -> (FaultServer, PathBuf) {
    let pem = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.pem"));
    let config = common::tls::self_signed(&pem);
    (FaultServer::start(Fault::Tls(config)), pem)
}

#[test]
fn a_self_signed_certificate_is_refused_unless_trusted_or_insecure() {
    let (server, pem) = tls_server("self-signed");
    let url = server.url("https");

    let refused = check("tls-refused", &url, &["--fuzz-cases", "20"]);
    assert_target_fault("tls-refused", &refused);
    assert!(
        refused.text.contains("the first: ") && refused.text.to_lowercase().contains("certificate"),
        "the fault names the certificate: {}",
        refused.text
    );
    assert_eq!(
        server.requests.load(Ordering::SeqCst),
        0,
        "no request got through"
    );

    let trusted = check(
        "tls-ca-bundle",
        &url,
        &["--ca-bundle", pem.to_str().unwrap(), "--fuzz-cases", "20"],
    );
    // Judged: a verdict (the server answers 403 CSS.0015 to everything, as it would a
    // cluster not the caller's: the run may say it cannot tell its own from another's).
    assert!(
        matches!(trusted.code, Some(0..=2)),
        "judged: {}",
        trusted.text
    );
    assert!(
        !trusted.text.contains("could not be judged"),
        "{}",
        trusted.text
    );

    let insecure = check("tls-insecure", &url, &["--insecure", "--fuzz-cases", "20"]);
    assert!(
        matches!(insecure.code, Some(0..=2)),
        "judged: {}",
        insecure.text
    );
    assert!(
        insecure.text.contains("NOT verified"),
        "a warning: {}",
        insecure.text
    );
    assert!(server.requests.load(Ordering::SeqCst) > 0);
}

/// A keep-alive server that answers out of turn: `early` sends a 200 as soon as a connection
/// opens, before any request; else each 403 is followed by a 200 no request asked for.
/// A server that answers 403 to every request, and writes a stray 200 no request asked for:
/// `early`, that long after it accepts a connection (before it reads the request); or, `late`,
/// that long after each answer.
fn out_of_turn_server(
    early: Option<Duration>,
    late: Option<Duration>,
) -> (String, Arc<AtomicBool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let stray = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Stray: yes\r\n\r\n";
        let started = Instant::now();
        while !stopped.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            };
            let _ = stream.set_nonblocking(false);
            std::thread::spawn(move || {
                if let Some(delay) = early {
                    std::thread::sleep(delay);
                    let _ = stream.write_all(stray);
                }
                while read_head(&mut stream).is_some() {
                    let mut out = format!(
                        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        ERROR_BODY.len()
                    )
                    .into_bytes();
                    out.extend_from_slice(ERROR_BODY);
                    if stream.write_all(&out).is_err() {
                        return;
                    }
                    if let Some(delay) = late {
                        std::thread::sleep(delay);
                        let _ = stream.write_all(stray);
                    }
                }
            });
        }
    });
    (url, stop)
}

#[test]
fn an_answer_out_of_turn_is_never_paired_with_another_request() {
    let ms = Duration::from_millis;
    for (name, early, late) in [
        ("speaks-first", Some(ms(0)), None),
        ("speaks-first-20ms-late", Some(ms(20)), None),
        ("answers-twice", None, Some(ms(0))),
        ("answers-again-3ms-after", None, Some(ms(3))),
    ] {
        let (url, stop) = out_of_turn_server(early, late);
        let o = check(name, &url, &["--fuzz-cases", "30"]);
        // The server answers 403 to everything; a 200 in any report is its stray answer
        // taken for another request's.
        let html = std::fs::read_to_string(o.report_dir.join("report.html")).unwrap();
        let json = std::fs::read_to_string(o.report_dir.join("report.json")).unwrap();
        assert!(
            !html.contains("→ 200"),
            "{name}: a stray 200 shown as an answer"
        );
        assert!(!json.contains("status 200"), "{name}: {json}");
        assert_ne!(o.code, Some(1), "{name}: {}", o.text);
        assert!(o.text.contains("out of turn"), "{name}: {}", o.text);
        // The fuzzer too: no finding made of a stray 200.
        let fuzzed = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
            .args(["fuzz", "--endpoint", &url, "--cases", "40", "--seed", "2"])
            .args(crate::common::endpoint::flags(&url).into_iter().skip(2))
            .arg("--findings-dir")
            .arg(o.report_dir.join("fuzz-findings"))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&fuzzed.stdout);
        assert!(!said.contains("status 200"), "{name}: {said}");
        assert_ne!(fuzzed.status.code(), Some(1), "{name}: {said}");
        stop.store(true, Ordering::SeqCst);
    }
}

#[test]
fn the_proxy_never_forwards_an_answer_out_of_turn() {
    let ms = Duration::from_millis;
    for (name, early, late) in [
        ("speaks-first", Some(ms(0)), None),
        ("speaks-first-20ms-late", Some(ms(20)), None),
        ("answers-twice", None, Some(ms(0))),
        ("answers-again-3ms-after", None, Some(ms(3))),
    ] {
        let (url, stop_server) = out_of_turn_server(early, late);
        let args = [
            "proxy",
            "--upstream",
            &url,
            "--listen",
            "127.0.0.1:0",
            "--serve-for",
            "60",
            "--quiet",
        ]
        .map(std::ffi::OsStr::new);
        let (proxy, host) = crate::common::served::spawn(&args);
        // A task of its own for each request: none repeats a refused one.
        let request = |i: usize| {
            format!(
                "PUT /v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/00000000-5e57-4000-8000-00000000000{i}/retry HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {TOKEN}\r\nContent-Length: 0\r\n\r\n"
            )
        };
        // Four requests on one kept connection, then four on connections of their own.
        let mut statuses = Vec::new();
        let mut kept = std::net::TcpStream::connect(&host).unwrap();
        kept.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        for i in 0..4 {
            kept.write_all(request(i).as_bytes()).unwrap();
            statuses.push(crate::common::served::read_answer(&mut kept));
            std::thread::sleep(ms(10));
        }
        for i in 4..8 {
            let mut fresh = std::net::TcpStream::connect(&host).unwrap();
            fresh
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            fresh.write_all(request(i).as_bytes()).unwrap();
            statuses.push(crate::common::served::read_answer(&mut fresh));
        }
        let (code, stderr) = crate::common::served::stop(proxy, libc::SIGTERM);
        stop_server.store(true, Ordering::SeqCst);
        // The server answers 403 to everything: a 200 is its stray answer, forwarded as
        // another request's.
        assert!(
            !statuses.contains(&Some(200)),
            "{name}: {statuses:?}\n{stderr}"
        );
        assert!(
            statuses.iter().all(|s| matches!(s, Some(403 | 502))),
            "{name}: {statuses:?}\n{stderr}"
        );
        assert!(stderr.contains("out of turn"), "{name}: {stderr}");
        // The stray answers are the server's fault, never a clause either side broke.
        assert!(matches!(code, Some(0 | 3)), "{name}: {code:?}\n{stderr}");
    }
}

#[test]
fn an_interrupted_check_writes_what_it_judged_says_so_and_exits_130_or_143() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let server = FaultServer::start(Fault::Slow(Duration::from_millis(100)));
        let f = Fixtures::builtin();
        let report_dir =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("faulty-interrupted-{code}"));
        let _ = std::fs::remove_dir_all(&report_dir);
        let child = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
            .args(["check", "--endpoint", &server.url("http")])
            .args(["--project-id", &f.project_id, "--cluster-id", &f.cluster_id])
            .args(["--max-requests-per-second", "0", "--concurrency", "1"])
            .args(["--fuzz-cases", "300", "--seed", "1", "--report-dir"])
            .arg(&report_dir)
            .env("CSS_CONFORMANCE_TOKEN", TOKEN)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        let started = Instant::now();
        // SAFETY: signalling a child process this test started and has not reaped.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let output = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(code), "{text}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        assert!(text.contains("INTERRUPTED"), "{text}");
        assert!(!text.contains("Conformant"), "{text}");
        let json = std::fs::read_to_string(report_dir.join("report.json")).unwrap();
        assert!(json.contains("\"verdict\": \"interrupted\""), "{json}");
        let junit = std::fs::read_to_string(report_dir.join("junit.xml")).unwrap();
        assert!(junit.contains(r#"type="interrupted""#), "{junit}");
        // What was judged before the signal is there: some scenario passed or failed.
        assert!(json.contains("\"scenarios_passed\""), "{json}");
    }
}
