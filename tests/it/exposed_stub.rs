//! The stub served by `css-conformance stub` is fit to expose: clients that misbehave on
//! purpose get 4xx answers and closed connections, never a way in, a 5xx, unbounded memory
//! or a connection held forever; and no secret reaches its log at any level.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use css_conformance::fixtures::Fixtures;
use css_conformance::servers::stub::{STUB_TOKEN, Standalone};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_css-conformance"))
}

/// A stub with short timeouts and few connections, so that the limits show quickly.
fn stub() -> Standalone {
    Standalone::start_with(
        exe(),
        60,
        &["--idle-timeout", "1", "--max-connections", "32"],
    )
    .expect("the stub starts")
}

fn addr(stub: &Standalone) -> String {
    stub.url().trim_start_matches("http://").to_owned()
}

/// The operation's path for an unknown task of the stub's cluster.
fn operation_path() -> String {
    let f = Fixtures::builtin();
    format!(
        "/v1.0/{}/clusters/{}/upgrade/00000000-5e57-4000-8000-000000000000/retry",
        f.project_id, f.cluster_id
    )
}

/// Sends `request` as it is, half-closes, and reads the answer until the server closes.
fn exchange(addr: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let _ = stream.shutdown(Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"))
}

/// `VmRSS` in KiB and the number of open descriptors of process `pid`.
fn rss_and_fds(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    (rss, fds)
}

#[test]
fn nothing_but_the_operation_and_the_read_api_is_reachable() {
    let stub = stub();
    let addr = addr(&stub);
    let mock = r#"{"request":{},"response":{"status":200}}"#;
    for (request, wanted) in [
        (
            "DELETE /__httpmock__/mocks HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
            404,
        ),
        (
            format!(
                "POST /__httpmock__/mocks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{mock}",
                mock.len()
            ),
            404,
        ),
        (
            "GET /__httpmock__/history HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
            404,
        ),
        (
            "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n".to_owned(),
            404,
        ),
    ] {
        let answer = exchange(&addr, request.as_bytes());
        assert_eq!(status(&answer), wanted, "{request}\n{answer}");
    }
    // The stub was not rewritten: a PUT without credentials is still refused.
    let put = format!("PUT {} HTTP/1.1\r\nHost: x\r\n\r\n", operation_path());
    assert_eq!(status(&exchange(&addr, put.as_bytes())), 403);
    // Another method gets 405 naming the one allowed.
    let get = format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", operation_path());
    let answer = exchange(&addr, get.as_bytes());
    assert_eq!(status(&answer), 405, "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("\r\nallow: put\r\n"),
        "{answer}"
    );
}

#[test]
fn every_malformed_request_gets_a_4xx_and_a_half_closed_one_its_answer() {
    let stub = stub();
    let addr = addr(&stub);
    let path = operation_path();
    for request in [
        format!("PUT {path} HTTP/1.0\r\n\r\n"),
        format!("PUT {path} HTTP/1.1\r\n\r\n"),
        "PUT /%zz/../%00 HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        "GARBAGE\r\n\r\n".to_owned(),
        format!("PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"),
        format!("PUT {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: \x01\x02\r\n\r\n"),
        format!(
            "PUT {path}?{} HTTP/1.1\r\nHost: x\r\n\r\n",
            "q=1&".repeat(40_000)
        ),
        format!(
            "PUT {path} HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "h".repeat(100_000)
        ),
    ] {
        let answer = exchange(&addr, request.as_bytes());
        let code = status(&answer);
        assert!((400..500).contains(&code), "{code} for {:.80}", request);
    }
    // Sent whole, then half-closed: answered every time.
    let request = format!("PUT {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {STUB_TOKEN}\r\n\r\n");
    for _ in 0..200 {
        let answer = exchange(&addr, request.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer:?}");
    }
}

#[test]
fn bodies_are_bounded_and_refused_with_413() {
    let stub = stub();
    let addr = addr(&stub);
    let path = operation_path();
    let (rss_before, _) = rss_and_fds(stub.pid());
    // Eight bodies of 8 MiB, as announced lengths.
    for _ in 0..8 {
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {STUB_TOKEN}\r\nContent-Length: {}\r\n\r\n",
            8 << 20
        );
        stream.write_all(head.as_bytes()).unwrap();
        let chunk = vec![b'b'; 1 << 16];
        for _ in 0..128 {
            if stream.write_all(&chunk).is_err() {
                break; // the server stopped reading: refused
            }
        }
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");
    }
    // A chunked body that does not end.
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!("PUT {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 1 << 16, "c".repeat(1 << 16));
    let mut sent = 0usize;
    while sent < 256 << 20 && stream.write_all(chunk.as_bytes()).is_ok() {
        sent += chunk.len();
    }
    assert!(sent < 256 << 20, "the server read an endless body");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 413"),
        "{answer:?}"
    );
    let (rss_after, _) = rss_and_fds(stub.pid());
    assert!(
        rss_after < rss_before + 32 * 1024,
        "RSS {rss_before} KiB -> {rss_after} KiB"
    );
}

#[test]
fn idle_and_slow_connections_are_closed_and_connections_are_bounded() {
    let stub = stub();
    let addr = addr(&stub);
    let (_, fds_before) = rss_and_fds(stub.pid());
    // 200 connections that send nothing, and 20 that trickle a header a byte at a time.
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"PUT / HTTP/1.1\r\nX-Slow: ").unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    let mut most_fds = 0;
    while started.elapsed() < Duration::from_secs(3) {
        for s in &mut slow {
            let _ = s.write_all(b"x");
        }
        most_fds = most_fds.max(rss_and_fds(stub.pid()).1);
        std::thread::sleep(Duration::from_millis(100));
    }
    // At most 32 connections served at once (a new one takes the place of the one waiting
    // longest).
    assert!(
        most_fds <= fds_before + 32 + 2,
        "{fds_before} -> {most_fds} descriptors"
    );
    // Every one of them is closed by the server within a few timeouts.
    for mut s in idle.into_iter().chain(slow) {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut buf = [0u8; 256];
        let closed = loop {
            match s.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue, // a 408 or 400 before closing
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
                Err(_) => break false,
            }
        };
        assert!(closed, "a connection was left open");
    }
}

#[test]
fn no_secret_reaches_the_log_at_any_level() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("exposed-stub-log");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("stderr.txt");
    // A token of the user's own (the built-in one guards nothing and is shown on start).
    let fixtures = dir.join("fixtures.yaml");
    std::fs::write(&fixtures, "token: canary-token-7f3a\n").unwrap();
    let mut child = std::process::Command::new(exe())
        .args(["stub", "--serve-for", "30", "--fixtures"])
        .arg(&fixtures)
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut url = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut url,
    )
    .unwrap();
    let addr = url.trim().trim_start_matches("http://").to_owned();
    let path = operation_path();
    let signature = "0123456789abcdef".repeat(4);
    for credentials in [
        "X-Auth-Token: canary-token-7f3a".to_owned(),
        "X-Auth-Token: canary-token-5e57".to_owned(),
        format!(
            "Authorization: SDK-HMAC-SHA256 Access=AKSTUBEXAMPLE0000001, SignedHeaders=host;x-sdk-date, Signature={signature}\r\nX-Sdk-Date: 20261202T000000Z"
        ),
    ] {
        let request = format!("PUT {path} HTTP/1.1\r\nHost: x\r\n{credentials}\r\n\r\n");
        status(&exchange(&addr, request.as_bytes()));
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(&path), "the requests are logged: {text}");
    for secret in ["canary-token-7f3a", "canary-token-5e57", signature.as_str()] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
}

#[test]
fn guessing_the_reset_credentials_costs_time_and_never_locks_the_user_out() {
    let stub = stub();
    let addr = addr(&stub);
    let reset = |token: &str| {
        exchange(
            &addr,
            format!(
                "POST /css-conformance/reset HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: {token}\r\nContent-Length: 0\r\n\r\n"
            )
            .as_bytes(),
        )
    };
    let right = css_conformance::servers::stub::STUB_TOKEN;
    assert_eq!(status(&reset(right)), 204);
    // A guesser on 16 connections at once, from as many loopback addresses as it likes: each
    // wrong guess costs more time than the last (all sources together).
    let started = std::time::Instant::now();
    let guessed = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..16 {
            let (reset, guessed) = (&reset, &guessed);
            s.spawn(move || {
                while started.elapsed() < std::time::Duration::from_secs(3) {
                    assert_eq!(status(&reset(&format!("guess-{t}"))), 403);
                    guessed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
        // Meanwhile the right credentials go through at once, every time.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        for _ in 0..10 {
            assert_eq!(status(&reset(right)), 204);
        }
    });
    let guesses = guessed.load(std::sync::atomic::Ordering::Relaxed);
    let per_second = guesses as f64 / started.elapsed().as_secs_f64();
    // Measured, not a timing assertion: the figure for the closing note.
    eprintln!("{guesses} wrong guesses on 16 connections: {per_second:.0}/s");
    // Bounded by the cost: 16 connections, at least 2 s a guess once 100 are in the window.
    assert!(guesses < 600, "{guesses} guesses in 3 s");
}

/// A request head of exactly `size` bytes: the operation, a token, and a padding header.
fn head_of(addr: &str, size: usize) -> String {
    let start = format!(
        "PUT {} HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: {STUB_TOKEN}\r\nContent-Length: 0\r\nX-Pad: ",
        operation_path()
    );
    let end = "\r\n\r\n";
    let pad = size - start.len() - end.len();
    format!("{start}{}{end}", "p".repeat(pad))
}

#[test]
fn the_head_limit_is_the_documented_64_kib_to_the_byte() {
    let stub = stub();
    let addr = addr(&stub);
    for (size, expected) in [(64 * 1024, 400), (64 * 1024 + 1, 431)] {
        let head = head_of(&addr, size);
        assert_eq!(head.len(), size);
        // At the limit the request reaches the operation (an unknown task: 400); one byte
        // over it is refused for its head.
        let answer = exchange(&addr, head.as_bytes());
        assert_eq!(status(&answer), expected, "{size}: {answer:.200}");
    }
}

#[test]
fn a_malformed_chunked_body_is_400_not_413() {
    let stub = stub();
    let addr = addr(&stub);
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n0\r\n\r\n",
        operation_path()
    );
    let answer = exchange(&addr, head.as_bytes());
    assert_eq!(status(&answer), 400, "{answer:.200}");
}
