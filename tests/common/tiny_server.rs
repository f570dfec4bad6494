//! A loopback HTTP server of the tests' own, for servers that misbehave on purpose: every
//! connection gets one answer, made from the request line, then is closed. It serves until
//! the test process ends.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;

/// Serves `answer(request line)` -> (status, reason, extra header lines, body) with
/// `Content-Type: application/json`; returns the base URL.
pub fn serve(
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
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let (status, reason, headers, body) = answer(head.lines().next().unwrap_or(""));
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
