//! The binary served as client teams run it (`stub`, `proxy`): started on a port the OS
//! picks, sent raw HTTP/1.1 requests (the vendor SDK's shape among them), stopped by a signal.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use css_conformance::secret::Secret;
use css_conformance::transport::signing::{self, Unsigned};

use super::sdk_vectors::{self, Case};

/// Runs the binary with `args`, which serves and prints its URL first; returns the child and
/// the `host:port` it listens on.
pub fn spawn(args: &[&std::ffi::OsStr]) -> (Child, String) {
    spawn_with_env(args, &[])
}

/// `spawn`, with environment variables set.
pub fn spawn_with_env(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let host = url
        .trim()
        .strip_prefix("http://")
        .expect("it prints its URL first")
        .to_owned();
    (child, host)
}

/// Sends one HTTP/1.1 request as written and returns the status.
pub fn send(host: &str, head: &str) -> u16 {
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .write_all(format!("{head}Content-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

/// Reads one whole answer (head and its Content-Length body) from a kept connection: its
/// status, or none if the connection ended or timed out first.
pub fn read_answer(stream: &mut TcpStream) -> Option<u16> {
    let mut read = Vec::new();
    let mut byte = [0_u8; 1];
    while !read.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => read.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&read).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    let mut body = vec![0_u8; length];
    stream.read_exact(&mut body).ok()?;
    head.get(9..12)?.parse().ok()
}

/// The SDK's request, signed now (the stub checks X-Sdk-Date) for `host`.
pub fn sdk_request(case: &Case, host: &str, query: &[(String, String)]) -> String {
    signed(case, host, &case.resource_path, query, &case.sk, "")
}

/// The SDK's request on `path` and `query`, signed now with `sk`, with `extra` header lines
/// first.
pub fn signed(
    case: &Case,
    host: &str,
    path: &str,
    query: &[(String, String)],
    sk: &str,
    extra: &str,
) -> String {
    let mut headers = sdk_vectors::headers(&case.headers);
    for (k, v) in &mut headers {
        if k == "X-Sdk-Date" {
            *v = signing::sdk_date(time::OffsetDateTime::now_utc());
        }
    }
    let signed = signing::sign(
        &Unsigned {
            method: &case.method,
            host,
            path,
            query,
            headers: &headers,
            body: b"",
        },
        &Secret::new(&case.ak),
        &Secret::new(sk),
    );
    let mut head = format!(
        "{} {} HTTP/1.1\r\n{extra}",
        case.method, signed.request_target
    );
    for (k, v) in &signed.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head
}

/// Stops the stub with `signal` and returns its exit code and stderr.
pub fn stop(mut child: Child, signal: libc::c_int) -> (Option<i32>, String) {
    // SAFETY: signalling a child process this test started and has not reaped.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the stub did not stop on signal {signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

/// The SDK's request on `path`, signed now with `sk`, with `extra` header lines first.
pub fn signed_with(case: &Case, host: &str, path: &str, sk: &str, extra: &str) -> String {
    signed(case, host, path, &[], sk, extra)
}
