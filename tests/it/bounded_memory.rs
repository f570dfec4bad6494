//! Whatever a server sends back, the tool's memory stays flat: refusals with a 1 MiB body
//! are remembered by what judging them needs (a few hundred bytes each), and a body that
//! never ends is read up to the cap and dropped. Peak RSS is sampled from /proc while the
//! run goes on (a lower bound of the true peak, taken every 20 ms); the bound asserted is
//! generous: a fifth of the 1.4 GB that keeping refusals whole reached, half of the 371 MB
//! an endless body did (a debug build peaks near 100 MB on both).

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common;

/// Runs `css-conformance ARGS`, sampling its peak RSS (VmHWM) until it ends: exit code and
/// peak in MiB.
fn peak_rss_mib(args: &[String]) -> (Option<i32>, u64) {
    assert!(
        Path::new("/proc/self/status").exists(),
        "this test samples /proc, which this system lacks"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(peak_kib > 0, "no sample of {status_file} was taken");
            return (status.code(), peak_kib / 1024);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `fuzz` of `url` with `cases` cases of seed 1 and a small shrink budget.
fn fuzz_args(url: &str, cases: &str) -> Vec<String> {
    let findings = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bounded-memory");
    let mut args: Vec<String> = [
        "fuzz",
        "--findings-dir",
        findings.to_str().unwrap(),
        "--cases",
        cases,
        "--seed",
        "1",
        "--shrink-budget",
        "64",
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(common::endpoint::flags(url));
    args
}

#[test]
fn refusals_with_a_megabyte_body_keep_memory_flat() {
    let body = format!(
        r#"{{"error_code":"CSS.0015","error_msg":"{}"}}"#,
        "x".repeat(1 << 20)
    );
    let url = common::tiny_server::serve(move |_| (403, "Forbidden", String::new(), body.clone()));
    let (code, peak) = peak_rss_mib(&fuzz_args(&url, "2000"));
    assert!(code.is_some_and(|c| c <= 1), "the run ended with {code:?}");
    assert!(
        peak < 300,
        "peak RSS {peak} MiB for 2,000 cases of 1 MiB refusals"
    );
}

/// A server answering every request with a chunked body that never ends (until the client
/// hangs up).
fn endless_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head);
                let start = "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(start.as_bytes()).is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 1 << 16, "y".repeat(1 << 16));
                while stream.write_all(chunk.as_bytes()).is_ok() {}
            });
        }
    });
    url
}

#[test]
fn a_body_that_never_ends_is_cut_and_memory_stays_flat() {
    let url = endless_server();
    let (code, peak) = peak_rss_mib(&fuzz_args(&url, "200"));
    assert!(code.is_some_and(|c| c <= 1), "the run ended with {code:?}");
    assert!(peak < 200, "peak RSS {peak} MiB against an endless body");
}
