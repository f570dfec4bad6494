//! Sending a client's request on to the upstream unchanged, and its answer back: the request
//! target, the header names (their case too) and values, and the body as received; only the
//! hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own business. Each client connection
//! gets an upstream connection of its own, made when its first request comes, over TLS for
//! an https upstream (verified against the platform's roots and a CA bundle, if given).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject as _;

use crate::transport::target::{TargetError, parse_endpoint};

/// Where the proxy sends what it gets.
#[derive(Clone)]
pub struct Upstream {
    /// As given, for messages (it carries no password: `parse_endpoint` refuses one).
    pub url: String,
    host: String,
    port: u16,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    connect_timeout: Duration,
    /// Whether (and how often) it spoke out of turn, over all the proxy's connections to it.
    spoke: Arc<Spoke>,
}

/// An upstream's speaking out of turn: sending bytes no request asked for (before a request
/// was written, or after its answer was complete).
#[derive(Debug, Default)]
struct Spoke {
    /// It did once: from then on each request gets a new connection, and each answer is held
    /// until `QUIET` has passed after it.
    careful: std::sync::atomic::AtomicBool,
    times: std::sync::atomic::AtomicU64,
}

/// How long the first answer on an upstream connection (every answer, once the upstream spoke
/// out of turn) is held after it is complete, watching for bytes that follow it: an answer
/// written before the request was read (on accept, a moment late) or after another shows
/// itself here, and neither is forwarded as the request's.
const QUIET: Duration = Duration::from_millis(20);

/// What the proxy tells of an upstream that spoke out of turn.
pub(crate) const OUT_OF_TURN: &str = "the upstream sent bytes before the request was written, or after its answer (an answer out of turn): a fault of the upstream; its answer is not forwarded as this request's";

impl Upstream {
    /// Whether it is `local`, the address a server of this process listens on: a name that
    /// resolves to it, or any address of this machine on its port when it listens on all.
    pub(crate) async fn is_at(&self, local: std::net::SocketAddr) -> bool {
        let Ok(resolved) = tokio::net::lookup_host((self.host.as_str(), self.port)).await else {
            return false;
        };
        resolved.into_iter().any(|a| {
            a == local
                || (a.port() == local.port()
                    && local.ip().is_unspecified()
                    && (a.ip().is_loopback() || a.ip().is_unspecified()))
        })
    }
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl Upstream {
    /// The upstream at `url` (http or https, no path, query or password); an https one is
    /// verified against the platform's roots and `ca_bundle` (PEM), if given.
    pub fn new(url: &str, ca_bundle: Option<&[u8]>) -> Result<Upstream, TargetError> {
        let parsed = parse_endpoint(url)?;
        let invalid = |message: &str| TargetError::Endpoint {
            url: url.to_owned(),
            message: message.to_owned(),
        };
        if !matches!(parsed.path(), "" | "/") {
            return Err(invalid(
                "an upstream is a host (and port): the proxy sends each request's own path",
            ));
        }
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let port = parsed.port_or_known_default().unwrap_or(80);
        let tls = if parsed.scheme() == "https" {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut roots = Vec::new();
            if let Some(pem) = ca_bundle {
                for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
                    roots
                        .push(cert.map_err(|e| TargetError::client_because("the CA bundle: ", e))?);
                }
                if roots.is_empty() {
                    return Err(TargetError::client(
                        "the CA bundle holds no PEM certificate",
                    ));
                }
            }
            let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
                roots,
                Arc::clone(&provider),
            )
            .map_err(|e| TargetError::client_because("TLS: ", e))?;
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| TargetError::client_because("TLS: ", e))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                .map_err(|e| invalid(&e.to_string()))?;
            Some((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        Ok(Upstream {
            url: url.trim_end_matches('/').to_owned(),
            host,
            port,
            tls,
            connect_timeout: Duration::from_secs(10),
            spoke: Arc::default(),
        })
    }

    /// How many times it spoke out of turn.
    pub fn out_of_turn(&self) -> u64 {
        self.spoke.times.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn spoke_out_of_turn(&self) {
        self.spoke
            .careful
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.spoke
            .times
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn careful(&self) -> bool {
        self.spoke
            .careful
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A new connection to it.
    async fn connect(&self) -> Result<Connection, String> {
        let host = self.host.trim_matches(['[', ']']);
        let tcp = tokio::time::timeout(
            self.connect_timeout,
            tokio::net::TcpStream::connect((host, self.port)),
        )
        .await
        .map_err(|_| "connecting timed out".to_owned())?
        .map_err(|e| format!("connecting: {e}"))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => handshake(tcp).await,
            Some((connector, name)) => {
                let tls = tokio::time::timeout(
                    self.connect_timeout,
                    connector.connect(name.clone(), tcp),
                )
                .await
                .map_err(|_| "the TLS handshake timed out".to_owned())?
                .map_err(|e| format!("TLS: {e}"))?;
                handshake(tls).await
            }
        }
    }
}

/// An HTTP/1.1 client connection over `io`, header names sent in the case they came in, its
/// turns watched; the connection is driven by a task of its own.
async fn handshake<T>(io: T) -> Result<Connection, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let turn = Arc::new(Turn::default());
    let watched = Watched {
        inner: io,
        turn: Arc::clone(&turn),
    };
    let (sender, connection) = hyper::client::conn::http1::Builder::new()
        .preserve_header_case(true)
        .handshake(TokioIo::new(watched))
        .await
        .map_err(|e| e.to_string())?;
    let ended = Arc::clone(&turn);
    tokio::spawn(async move {
        // Bytes after a whole answer that came in the same read as its end: hyper finds them
        // in its buffer once idle.
        if let Err(e) = connection.await
            && e.to_string().contains("unexpected message")
        {
            ended.spoke();
        }
    });
    Ok(Connection {
        sender,
        turn,
        fresh: true,
    })
}

/// A connection upstream, and what is known of its turns.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    turn: Arc<Turn>,
    /// No answer has come on it yet.
    fresh: bool,
}

/// Whose turn it is on one upstream connection: bytes read while no request is being
/// answered are out of turn.
#[derive(Debug, Default)]
struct Turn {
    /// A request was written and its answer is not complete yet.
    asked: std::sync::atomic::AtomicBool,
    /// The upstream sent bytes out of turn on this connection.
    out_of_turn: std::sync::atomic::AtomicBool,
}

impl Turn {
    fn spoke(&self) {
        self.out_of_turn
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn spoke_out_of_turn(&self) -> bool {
        self.out_of_turn.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn answered(&self) {
        self.asked
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// An upstream stream whose reads are checked against its `Turn`.
struct Watched<T> {
    inner: T,
    turn: Arc<Turn>,
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before
            && !self.turn.asked.load(std::sync::atomic::Ordering::Relaxed)
        {
            self.turn.spoke();
        }
        read
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.turn
                .asked
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One client connection's way upstream: its connection, made when first needed and again
/// when the upstream closed it.
pub(crate) struct Way {
    upstream: Upstream,
    connection: tokio::sync::Mutex<Option<Connection>>,
}

/// The most of an answer held back while its connection is watched for bytes after it; a
/// longer answer goes on as it comes.
const HOLD: usize = 1 << 20;

impl Way {
    pub fn new(upstream: Upstream) -> Way {
        Way {
            upstream,
            connection: tokio::sync::Mutex::new(None),
        }
    }

    /// Sends `request` upstream once (never again: the operation changes tasks) and returns
    /// the head of its answer with its body to stream, or why there is none. An answer that
    /// may not be the request's (the upstream spoke out of turn) is none.
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Response<Answer>, NoAnswer> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut kept = self.connection.lock().await;
        // Bytes came on the kept connection while it was idle: after the last answer, which
        // went on already. Said; never used again.
        if kept.as_ref().is_some_and(|c| c.turn.spoke_out_of_turn()) {
            self.upstream.spoke_out_of_turn();
            tracing::warn!("{OUT_OF_TURN} (after an answer forwarded already)");
            *kept = None;
        }
        let reuse = kept
            .as_ref()
            .is_some_and(|c| !c.sender.is_closed() && !self.upstream.careful());
        if !reuse {
            *kept = Some(self.upstream.connect().await.map_err(NoAnswer::failed)?);
        }
        let Some(connection) = kept.as_mut() else {
            unreachable!("a connection was just made")
        };
        let hold = connection.fresh || self.upstream.careful();
        connection.fresh = false;
        let turn = Arc::clone(&connection.turn);
        let sent = async {
            connection.sender.ready().await?;
            connection.sender.send_request(request).await
        };
        let outcome = tokio::time::timeout_at(deadline, sent).await;
        let answer = match outcome {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                *kept = None;
                return Err(self.out_of_turn(&turn).unwrap_or_else(|| {
                    NoAnswer::failed(format!("the upstream connection failed: {e}"))
                }));
            }
            Err(_) => {
                *kept = None;
                return Err(NoAnswer::timed_out(timeout));
            }
        };
        let (head, body) = answer.into_parts();
        let answer = if hold {
            let held = held(body, &turn, deadline).await;
            if let Some(none) = self.out_of_turn(&turn) {
                *kept = None;
                return Err(none);
            }
            held.map_err(|()| {
                *kept = None;
                NoAnswer::timed_out(timeout)
            })?
        } else {
            Answer::streamed(body, turn)
        };
        Ok(Response::from_parts(head, answer))
    }

    /// Why there is no answer when the upstream spoke out of turn on the connection.
    fn out_of_turn(&self, turn: &Turn) -> Option<NoAnswer> {
        turn.spoke_out_of_turn().then(|| {
            self.upstream.spoke_out_of_turn();
            NoAnswer::failed(OUT_OF_TURN.to_owned())
        })
    }
}

/// Reads `body` (up to `HOLD`) by `deadline` and, when it is whole, watches its connection for
/// `QUIET` after it; `Err` when the upstream was too slow.
async fn held(
    mut body: hyper::body::Incoming,
    turn: &Arc<Turn>,
    deadline: tokio::time::Instant,
) -> Result<Answer, ()> {
    use http_body_util::BodyExt as _;
    let mut kept = bytes::BytesMut::new();
    let whole = loop {
        if kept.len() > HOLD {
            break false;
        }
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(()),
            Ok(None) => break true,
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    kept.extend_from_slice(data);
                }
            }
            // Broken off: what came goes on, and the client sees it end early.
            Ok(Some(Err(_))) => break true,
        }
    };
    if !whole {
        return Ok(Answer {
            held: Some(kept.freeze()),
            rest: Some(body),
            turn: Arc::clone(turn),
        });
    }
    turn.answered();
    tokio::time::sleep(QUIET).await;
    Ok(Answer {
        held: Some(kept.freeze()),
        rest: None,
        turn: Arc::clone(turn),
    })
}

/// An answer's body from upstream: what was held back, then the rest as it comes. Its end
/// ends the request's turn on the connection.
pub(crate) struct Answer {
    held: Option<Bytes>,
    rest: Option<hyper::body::Incoming>,
    turn: Arc<Turn>,
}

impl Answer {
    fn streamed(body: hyper::body::Incoming, turn: Arc<Turn>) -> Answer {
        Answer {
            held: None,
            rest: Some(body),
            turn,
        }
    }
}

impl Body for Answer {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(held) = this.held.take()
            && !held.is_empty()
        {
            return Poll::Ready(Some(Ok(Frame::data(held))));
        }
        let Some(rest) = this.rest.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = Pin::new(rest).poll_frame(cx);
        if matches!(frame, Poll::Ready(None)) {
            this.rest = None;
            this.turn.answered();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.held.as_ref().is_none_or(Bytes::is_empty)
            && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let held = self.held.as_ref().map_or(0, |b| b.len() as u64);
        match &self.rest {
            None => SizeHint::with_exact(held),
            Some(rest) => {
                let hint = rest.size_hint();
                let mut sum = SizeHint::new();
                sum.set_lower(hint.lower().saturating_add(held));
                if let Some(upper) = hint.upper() {
                    sum.set_upper(upper.saturating_add(held));
                }
                sum
            }
        }
    }
}

/// Why the upstream gave no answer, and whether it was too slow (504) or failed (502).
#[derive(Debug)]
pub(crate) struct NoAnswer {
    pub timed_out: bool,
    pub why: String,
}

impl NoAnswer {
    fn failed(why: String) -> NoAnswer {
        NoAnswer {
            timed_out: false,
            why,
        }
    }

    fn timed_out(timeout: Duration) -> NoAnswer {
        NoAnswer {
            timed_out: true,
            why: format!("no answer within {} s", timeout.as_secs()),
        }
    }
}
