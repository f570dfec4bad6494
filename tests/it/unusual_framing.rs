//! A server whose answers are legal HTTP/1.1, framed as few servers frame them: an interim
//! `103 Early Hints` before every answer, the answer chunked (a few bytes a chunk, each with
//! an extension) with a trailer, written a piece at a time on a kept-alive connection. It is
//! the built-in stub behind a relay of the tests' own that re-frames its answers, so the
//! verdict must be the stub's own: the framing changes nothing, in a pass or in a failure.

use std::io::{BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use css_conformance::fixtures::Fixtures;
use css_conformance::servers::stub::{STUB_TOKEN, Standalone};

use super::common::tiny_server::read_head;

/// A relay on a loopback port to the server at `upstream` (a base URL), re-framing each of
/// its answers; it serves until the test process ends.
fn reframing(upstream: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let _ = relay(client, &upstream);
            });
        }
    });
    url
}

/// The value of header `name` in a head, if it has one.
fn header<'a>(headers: &'a [httparse::Header<'a>], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .and_then(|h| std::str::from_utf8(h.value).ok())
}

/// Relays the requests of one client connection, each over one upstream connection kept
/// alive, until the client closes.
fn relay(mut client: TcpStream, upstream: &str) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut server = BufReader::new(TcpStream::connect(upstream)?);
    while let Some(head) = read_head(&mut client) {
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut fields);
        request.parse(&head).map_err(std::io::Error::other)?;
        let length = header(request.headers, "content-length").map_or(0, |v| v.parse().unwrap());
        // The answer to HEAD has a head only, whatever its Content-Length says.
        let head_only = request.method == Some("HEAD");
        let mut body = vec![0; length];
        client.read_exact(&mut body)?;
        server.get_mut().write_all(&head)?;
        server.get_mut().write_all(&body)?;

        let answer_head = read_head(&mut server).ok_or(std::io::ErrorKind::UnexpectedEof)?;
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut answer = httparse::Response::new(&mut fields);
        answer.parse(&answer_head).map_err(std::io::Error::other)?;
        let length = match head_only {
            true => 0,
            false => header(answer.headers, "content-length").map_or(0, |v| v.parse().unwrap()),
        };
        let mut answer_body = vec![0; length];
        server.read_exact(&mut answer_body)?;

        let mut pieces: Vec<Vec<u8>> = vec![
            b"HTTP/1.1 103 Early Hints\r\nLink: </hint>; rel=preload\r\n\r\n".to_vec(),
            format!(
                "HTTP/1.1 {} {}\r\n",
                answer.code.unwrap_or(500),
                answer.reason.unwrap_or("")
            )
            .into_bytes(),
        ];
        for h in answer.headers.iter() {
            if !h.name.eq_ignore_ascii_case("content-length") {
                pieces.push([h.name.as_bytes(), b": ", h.value, b"\r\n"].concat());
            }
        }
        pieces.push(b"Transfer-Encoding: chunked\r\n\r\n".to_vec());
        if !head_only {
            for chunk in answer_body.chunks(5) {
                let size = format!("{:x};note=\"relayed\"\r\n", chunk.len());
                pieces.push([size.as_bytes(), chunk, b"\r\n"].concat());
            }
            pieces.push(b"0\r\nX-Relay-Trailer: done\r\n\r\n".to_vec());
        }
        for piece in pieces {
            client.write_all(&piece)?;
        }
    }
    Ok(())
}

/// A new user's complete check of `endpoint` (two failed tasks, consent, the read API):
/// its exit code, console, and the clauses it failed.
fn check(endpoint: &str) -> (Option<i32>, String, Vec<String>) {
    let fixtures = Fixtures::builtin();
    let mut args = vec![
        "check",
        "--endpoint",
        endpoint,
        "--project-id",
        &fixtures.project_id,
        "--cluster-id",
        &fixtures.cluster_id,
        "--allow-mutations",
        "--read-api",
        "--seed",
        "7",
    ];
    for task in &fixtures.failed_action_ids[..2] {
        args.extend(["--failed-action-id", task.as_str()]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(&args)
        .env_remove("CSS_CONFORMANCE_ENDPOINT")
        .env("CSS_CONFORMANCE_TOKEN", STUB_TOKEN)
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let failed = text
        .lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().take(3).collect();
            (fields.len() == 3 && fields[0].starts_with("RUT-") && fields[2] == "FAIL")
                .then(|| fields[0].to_owned())
        })
        .collect();
    (out.status.code(), text, failed)
}

fn stub(more: &[&str]) -> Standalone {
    Standalone::start_with(Path::new(env!("CARGO_BIN_EXE_css-conformance")), 120, more).unwrap()
}

#[test]
fn interim_answers_chunks_with_extensions_and_trailers_change_no_verdict() {
    // A conforming server, re-framed: the complete verdict, no transport fault.
    let conforming = stub(&[]);
    let (code, text, failed) = check(&reframing(conforming.url()));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("Conformant: every MUST clause passed."),
        "{text}"
    );
    assert!(
        // Two tasks judge every MUST and EXTENDED clause; RUT-QUERY-06 (SHOULD) wants a third.
        text.contains("23 clauses: 22 PASS, 0 FAIL, 1 SKIP"),
        "{text}"
    );
    assert!(text.contains("Doors: 36 of 36 judged"), "{text}");
    assert!(failed.is_empty(), "{failed:?}");

    // A server that acts on a refused request: re-framed, the same failures as plain.
    let deviation = ["--stub-deviation", "acts-on-malformed-id"];
    let (plain_code, plain_text, plain_failed) = check(stub(&deviation).url());
    let (code, text, failed) = check(&reframing(stub(&deviation).url()));
    assert_eq!(plain_code, Some(1), "{plain_text}");
    assert!(!plain_failed.is_empty(), "{plain_text}");
    assert_eq!(code, plain_code, "{text}");
    assert_eq!(failed, plain_failed, "{text}");
    assert!(text.contains("NOT conformant"), "{text}");
}
