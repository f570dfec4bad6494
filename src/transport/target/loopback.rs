//! A lean HTTP/1.1 client for plain-http targets on this machine (the built-in stub, a
//! standalone stub, a local implementation under test): requests go straight onto pooled
//! keep-alive connections with hyper, without reqwest's URL re-parsing, redirect and retry
//! layers, which cost the fuzzer more than the stub's answer does. Anything else (TLS,
//! proxies, other hosts) goes through reqwest.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

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
    idle: Mutex<Vec<Pooled>>,
}

/// A kept-alive connection, with what it saw.
type Pooled = (SendRequest<Empty<Bytes>>, Arc<Turns>);

/// What a connection saw of the order of bytes: an answer belongs to the request written
/// before it, so bytes read while no request had been written are the target's fault.
#[derive(Debug, Default)]
struct Turns {
    /// A request's bytes were written since the last answer was read whole.
    wrote: AtomicBool,
    /// Bytes came that no request had asked for yet.
    stray: AtomicBool,
}

/// A stream that tells its `Turns` when it writes and when it reads.
struct Watched {
    inner: tokio::net::TcpStream,
    watch: Arc<Turns>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before && !self.watch.wrote.load(Ordering::SeqCst) {
            self.watch.stray.store(true, Ordering::SeqCst);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        // Bytes waiting before a request's first byte is written answer no request. Looked for
        // only when the socket may be readable: a peek per request was a tenth of the client's
        // system calls, and readiness known to be clear costs none.
        if !self.watch.wrote.load(Ordering::SeqCst) && self.inner.poll_read_ready(cx).is_ready() {
            let mut byte = [0u8; 1];
            let mut peeked = ReadBuf::new(&mut byte);
            if let Poll::Ready(Ok(n)) = self.inner.poll_peek(cx, &mut peeked)
                && n > 0
            {
                self.watch.stray.store(true, Ordering::SeqCst);
            }
        }
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.watch.wrote.store(true, Ordering::SeqCst);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// How long a new connection is watched for a server that speaks before it is asked.
const SPEAKS_FIRST: Duration = Duration::from_millis(2);

/// What a target that answers out of turn is told.
const OUT_OF_TURN: &str = "the target sent bytes before the request was written, or after an answer that no request asked for (an answer out of turn): a target fault; the connection is dropped";

/// What came back.
#[derive(Debug)]
pub struct Received {
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
pub(crate) fn is_loopback(host: &str) -> bool {
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
    ) -> Result<Received, Failure> {
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
        let (mut sender, watch) = self.connection().await?;
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
            let headers = crate::contract::request::shown_headers(
                response
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_bytes())),
            );
            let (body, cut) = read_capped(response.into_body()).await?;
            Ok((
                cut,
                Received {
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
        // An answer that came before its request was written is not its answer.
        if watch.stray.load(Ordering::SeqCst) {
            return Err(Failure::exchange(OUT_OF_TURN.to_owned()));
        }
        watch.wrote.store(false, Ordering::SeqCst);
        if !cut
            && !sender.is_closed()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push((sender, watch));
        }
        Ok(answer)
    }

    /// An idle connection, or a new one. One that received bytes while idle is dropped.
    async fn connection(&self) -> Result<Pooled, Failure> {
        loop {
            let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            match idle {
                Some((mut sender, watch))
                    if !sender.is_closed() && !watch.stray.load(Ordering::SeqCst) =>
                {
                    if sender.ready().await.is_ok() && !watch.stray.load(Ordering::SeqCst) {
                        return Ok((sender, watch));
                    }
                }
                Some((_, watch)) => {
                    if watch.stray.load(Ordering::SeqCst) {
                        tracing::warn!("target fault: {OUT_OF_TURN}");
                    }
                }
                None => break,
            }
        }
        let watch = Arc::new(Turns::default());
        let connect = async {
            let stream = tokio::net::TcpStream::connect(&self.authority)
                .await
                .map_err(|e| Failure::connect(format!("error connecting: {e}")))?;
            let _ = stream.set_nodelay(true);
            // A server that speaks first (an answer before any request) is caught here: its
            // bytes would otherwise be taken for the answer to the first request.
            let mut first = [0u8; 1];
            if let Ok(Ok(n)) = tokio::time::timeout(SPEAKS_FIRST, stream.peek(&mut first)).await
                && n > 0
            {
                return Err(Failure::exchange(OUT_OF_TURN.to_owned()));
            }
            let watched = Watched {
                inner: stream,
                watch: Arc::clone(&watch),
            };
            hyper::client::conn::http1::handshake(TokioIo::new(watched))
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
        Ok((sender, watch))
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
