//! A lean HTTP/1.1 client for plain-http targets on this machine (the built-in stub, a
//! standalone stub, a local implementation under test): requests go straight onto pooled
//! keep-alive connections with hyper, without reqwest's URL re-parsing, redirect and retry
//! layers, which cost the fuzzer more than the stub's answer does. Anything else (TLS,
//! proxies, other hosts) goes through reqwest.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::secret::Secret;
use crate::text::error_chain;

/// The most of a response body that is read (by this client and by reqwest's path alike); a
/// longer body is cut there and judged as it is (its connection is closed, not reused).
pub const MAX_BODY: usize = 1 << 20;

/// Keep-alive connections to one loopback address.
#[derive(Debug)]
pub struct Client {
    /// `host:port` to connect to, and the Host header.
    authority: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    idle: Mutex<Vec<SendRequest<Empty<Bytes>>>>,
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
    /// As reports show them (`exchange::shown_headers`).
    pub headers: Vec<(String, String)>,
}

/// Why no answer came, and whether it was before a connection was made.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub connect: bool,
}

impl Failure {
    fn connect(message: String) -> Failure {
        Failure {
            message,
            connect: true,
        }
    }

    fn exchange(message: String) -> Failure {
        Failure {
            message,
            connect: false,
        }
    }
}

/// Whether `host` (as a URL writes it) names this machine: a loopback address or `localhost`.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    pub fn new(authority: String, connect_timeout: Duration, request_timeout: Duration) -> Client {
        Client {
            authority,
            connect_timeout,
            request_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `method request_target` with `headers` and reads the answer (the body up to
    /// `MAX_BODY`), within the request timeout.
    pub async fn send(
        &self,
        method: &str,
        request_target: &str,
        headers: &[(String, Secret)],
    ) -> Result<Answer, Failure> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(request_target)
            .header(hyper::header::HOST, &self.authority);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.expose());
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| Failure::connect(format!("cannot form the request: {e}")))?;
        let mut sender = self.connection().await?;
        let exchange = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| Failure::exchange(error_chain(&e)))?;
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v: &hyper::header::HeaderValue| v.to_str().ok())
                    .map(str::to_owned)
            };
            let status = response.status().as_u16();
            let content_type = header(hyper::header::CONTENT_TYPE);
            let retry_after = header(hyper::header::RETRY_AFTER);
            let headers = crate::exchange::shown_headers(
                response
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_bytes())),
            );
            let (body, cut) = read_capped(response.into_body()).await?;
            Ok((
                cut,
                Answer {
                    status,
                    content_type,
                    retry_after,
                    body,
                    headers,
                },
            ))
        };
        let (cut, answer) = tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|_| {
                Failure::exchange(format!(
                    "no answer within {} ms (request timeout)",
                    self.request_timeout.as_millis()
                ))
            })??;
        if !cut
            && !sender.is_closed()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(sender);
        }
        Ok(answer)
    }

    /// An idle connection, or a new one.
    async fn connection(&self) -> Result<SendRequest<Empty<Bytes>>, Failure> {
        loop {
            let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            match idle {
                Some(mut sender) if !sender.is_closed() => {
                    if sender.ready().await.is_ok() {
                        return Ok(sender);
                    }
                }
                Some(_) => {}
                None => break,
            }
        }
        let connect = async {
            let stream = tokio::net::TcpStream::connect(&self.authority)
                .await
                .map_err(|e| Failure::connect(format!("error connecting: {e}")))?;
            let _ = stream.set_nodelay(true);
            hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| Failure::connect(error_chain(&e)))
        };
        let (sender, connection) = tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| {
                Failure::connect(format!(
                    "error connecting: no connection within {} ms (connect timeout)",
                    self.connect_timeout.as_millis()
                ))
            })??;
        // The connection is driven by a task of its own; it ends when the sender is dropped.
        tokio::spawn(connection);
        Ok(sender)
    }
}

/// The body, at most `MAX_BODY` bytes of it, and whether it was cut.
async fn read_capped(mut body: hyper::body::Incoming) -> Result<(Vec<u8>, bool), Failure> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Failure::exchange(error_chain(&e)))?;
        if let Ok(data) = frame.into_data()
            && append_capped(&mut out, &data)
        {
            return Ok((out, true));
        }
    }
    Ok((out, false))
}

/// Appends what of `data` fits in `MAX_BODY`; true once the body is full (the rest unread).
pub(crate) fn append_capped(body: &mut Vec<u8>, data: &[u8]) -> bool {
    let room = MAX_BODY - body.len();
    body.extend_from_slice(&data[..data.len().min(room)]);
    data.len() >= room
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_this_machine_and_no_other() {
        for host in ["127.0.0.1", "127.9.8.7", "localhost", "LOCALHOST", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "css.eu-de.otc.t-systems.com",
            "[::2]",
            "localhost.example",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
