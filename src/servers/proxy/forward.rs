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
use hyper::header::{CONNECTION, HeaderMap, HeaderName};
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
}

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
                    roots.push(
                        cert.map_err(|e| TargetError::Client(format!("the CA bundle: {e}")))?,
                    );
                }
                if roots.is_empty() {
                    return Err(TargetError::Client(
                        "the CA bundle holds no PEM certificate".to_owned(),
                    ));
                }
            }
            let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
                roots,
                Arc::clone(&provider),
            )
            .map_err(|e| TargetError::Client(format!("TLS: {e}")))?;
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| TargetError::Client(format!("TLS: {e}")))?
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
        })
    }

    /// A new connection to it.
    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
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

/// An HTTP/1.1 client connection over `io`, header names sent in the case they came in; the
/// connection is driven by a task of its own.
async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::Builder::new()
        .preserve_header_case(true)
        .handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}

/// One client connection's way upstream: its connection, made when first needed and again
/// when the upstream closed it.
pub(crate) struct Way {
    upstream: Upstream,
    sender: tokio::sync::Mutex<Option<SendRequest<Full<Bytes>>>>,
}

impl Way {
    pub fn new(upstream: Upstream) -> Way {
        Way {
            upstream,
            sender: tokio::sync::Mutex::new(None),
        }
    }

    /// Sends `request` upstream once (never again: the operation changes tasks) and returns
    /// the head of its answer with its body to stream, or why there is none.
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Response<hyper::body::Incoming>, NoAnswer> {
        let failed = |why: String| NoAnswer {
            timed_out: false,
            why,
        };
        let mut sender = self.sender.lock().await;
        if sender.as_ref().is_none_or(SendRequest::is_closed) {
            *sender = Some(self.upstream.connect().await.map_err(failed)?);
        }
        let Some(connection) = sender.as_mut() else {
            unreachable!("a connection was just made")
        };
        let sent = async {
            connection.ready().await?;
            connection.send_request(request).await
        };
        let outcome = tokio::time::timeout(timeout, sent).await;
        if !matches!(outcome, Ok(Ok(_))) {
            *sender = None;
        }
        match outcome {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(failed(format!("the upstream connection failed: {e}"))),
            Err(_) => Err(NoAnswer {
                timed_out: true,
                why: format!("no answer within {} s", timeout.as_secs()),
            }),
        }
    }
}

/// Why the upstream gave no answer, and whether it was too slow (504) or failed (502).
#[derive(Debug)]
pub(crate) struct NoAnswer {
    pub timed_out: bool,
    pub why: String,
}

/// The headers of a message as received, without the hop-by-hop ones (those named in
/// `Connection` included).
pub(crate) fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    let mut kept = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if HOP_BY_HOP.contains(&name.as_str()) || named.contains(name) {
            continue;
        }
        kept.append(name.clone(), value.clone());
    }
    kept
}

/// The headers that are about one connection, not the message (RFC 9110 7.6.1, and the
/// older `Keep-Alive` and `Proxy-Connection`).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "transfer-encoding",
    "upgrade",
];

/// An answer's body on its way to the client: streamed as it comes, its first `cap` bytes
/// kept for the judge, who gets them (and whether they are the whole body) when the body
/// ends, fails, or the client stops reading. An upstream that takes longer than the deadline
/// has its answer cut off.
pub struct Tee {
    inner: hyper::body::Incoming,
    kept: Vec<u8>,
    cap: usize,
    truncated: bool,
    deadline: Pin<Box<tokio::time::Sleep>>,
    done: Option<Judged>,
}

/// What a `Tee` calls once with the bytes it kept and whether they are the whole body.
type Judged = Box<dyn FnOnce(Vec<u8>, bool) + Send>;

impl Tee {
    pub fn new(
        inner: hyper::body::Incoming,
        cap: usize,
        deadline: Duration,
        done: impl FnOnce(Vec<u8>, bool) + Send + 'static,
    ) -> Tee {
        Tee {
            inner,
            kept: Vec::new(),
            cap,
            truncated: false,
            deadline: Box::pin(tokio::time::sleep(deadline)),
            done: Some(Box::new(done)),
        }
    }

    fn finish(&mut self, whole: bool) {
        if let Some(done) = self.done.take() {
            done(std::mem::take(&mut self.kept), whole && !self.truncated);
        }
    }
}

impl Body for Tee {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.finish(false);
            return Poll::Ready(Some(Err("the upstream's answer took too long".into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let room = this.cap.saturating_sub(this.kept.len());
                    if data.len() > room {
                        this.truncated = true;
                    }
                    this.kept.extend_from_slice(&data[..data.len().min(room)]);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.finish(false);
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(None) => {
                this.finish(true);
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        // A body hyper never had to poll (it was empty), or one the client stopped reading.
        let whole = self.inner.is_end_stream();
        self.finish(whole);
    }
}
