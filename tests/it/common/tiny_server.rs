//! A loopback HTTP server of the tests' own, for servers that misbehave on purpose: every
//! connection gets one answer, made from the request line, then is closed. It serves until
//! the test process ends. With answers of the kinds such servers give.

use std::io::Write as _;
use std::net::TcpListener;
use std::sync::Arc;

/// Serves `answer(request line)` -> (status, reason, extra header lines, body) with
/// `Connection: close`, each connection on a thread of its own; the URL to reach it.
pub fn serve(
    answer: impl Fn(&str) -> (u16, &'static str, String, String) + Send + Sync + 'static,
) -> String {
    serve_heads(move |head| answer(head.lines().next().unwrap_or("")))
}

/// As `serve`, `answer` given the whole request head (the request line and the headers).
pub fn serve_heads(
    answer: impl Fn(&str) -> (u16, &'static str, String, String) + Send + Sync + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || {
                let Some(head) = read_head(&mut stream) else {
                    return;
                };
                let head = String::from_utf8_lossy(&head);
                let (status, reason, headers, body) = answer(&head);
                let response = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    url
}

/// A request head (request line and headers) read byte by byte from `stream`, up to its
/// blank line; `None` when the stream ends before it.
pub fn read_head(stream: &mut impl std::io::Read) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(head)
}

/// An answer of `serve`'s: status, reason, extra header lines, body.
pub type Answer = (u16, &'static str, String, String);

/// Whether the path of a request line (not its query) holds a percent-encoded character.
pub fn path_is_encoded(request_line: &str) -> bool {
    let target = request_line.split(' ').nth(1).unwrap_or("");
    target.split('?').next().unwrap_or("").contains('%')
}

/// A 500 with a body that is not the vendor's.
pub fn server_error() -> Answer {
    (500, "Oops", String::new(), "boom".to_owned())
}

/// The vendor's 403 for a resource it does not find.
pub fn not_found() -> Answer {
    let body = r#"{"error_code":"CSS.0015","error_msg":"No resources are found"}"#;
    (403, "Forbidden", String::new(), body.to_owned())
}

/// A server's fault for one class of input: 500 for a path holding a percent-encoded
/// character, the vendor's 403 for anything else.
pub fn fails_encoded_paths(request_line: &str) -> Answer {
    if path_is_encoded(request_line) {
        server_error()
    } else {
        not_found()
    }
}
