//! An endpoint: its base URL (what is accepted, and how it is shown) and the clients that
//! carry one exchange there (reqwest, or the lean loopback client where nothing stands
//! between).

use std::time::Duration;

use crate::contract::request::Response;
use crate::contract::spec::HttpVersion;
use crate::secret::Secret;
use crate::shown::error_chain;

use super::loopback::{self, Payload};
use super::politeness::{Transport, retry_after};

/// Where a target's requests go, and the clients that take them there.
#[derive(Debug)]
pub(super) struct Endpoint {
    /// `scheme://host[:port]` of the base URL.
    pub(super) origin: String,
    /// The base URL's path prefix, without a trailing `/`.
    pub(super) prefix: String,
    /// The Host header value requests carry (and AK/SK signs).
    pub(super) host: String,
    client: reqwest::Client,
    /// The lean client for a plain-http endpoint on this machine, where nothing stands
    /// between (no TLS, no proxy).
    loopback: Option<loopback::Client>,
}

/// One exchange's outcome: the answer and its `Retry-After`, or the error and whether it
/// happened before a connection was made.
pub(super) type Exchanged = Result<(Response, Option<Duration>), TransportError>;

impl Endpoint {
    /// The endpoint at `base_url`, connected as `transport` says.
    pub(super) fn connect(base_url: &str, transport: &Transport) -> Result<Endpoint, TargetError> {
        let parsed = parse_endpoint(base_url)?;
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(transport.connect_timeout)
            .timeout(transport.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .tls_danger_accept_invalid_certs(transport.insecure);
        if let Some(pem) = &transport.ca_bundle {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| TargetError::client_because("the CA bundle: ", e))?;
            if certs.is_empty() {
                return Err(TargetError::client(
                    "the CA bundle holds no PEM certificate",
                ));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| TargetError::client_because("", e))?;
        // `parse_endpoint` has made sure there is a host.
        let host = match (parsed.host_str().unwrap_or_default(), parsed.port()) {
            (h, Some(port)) => format!("{h}:{port}"),
            (h, None) => h.to_owned(),
        };
        let loopback = (parsed.scheme() == "http"
            && parsed.host_str().is_some_and(loopback::is_loopback))
        .then(|| {
            loopback::Client::new(
                host.clone(),
                transport.connect_timeout,
                transport.request_timeout,
            )
        });
        Ok(Endpoint {
            origin: format!("{}://{host}", parsed.scheme()),
            prefix: parsed.path().trim_end_matches('/').to_owned(),
            host,
            client,
            loopback,
        })
    }

    /// The URL of a request target (path and query) of this endpoint's.
    pub(super) fn url_of(&self, request_target: &str) -> String {
        format!("{}{request_target}", self.origin)
    }

    /// One exchange of `method` on `request_target` (path and query on the wire) with
    /// `headers`.
    pub(super) async fn exchange(
        &self,
        method: &str,
        request_target: &str,
        headers: &[(String, Secret)],
        payload: Payload<'_>,
    ) -> Exchanged {
        match &self.loopback {
            Some(client) => {
                let sent = client.send(method, request_target, headers, payload).await;
                self.loopback_answer(request_target, sent)
            }
            None => {
                self.reqwest_exchange(method, request_target, headers, payload)
                    .await
            }
        }
    }

    /// What the loopback client's exchange on `request_target` came to.
    fn loopback_answer(
        &self,
        request_target: &str,
        sent: Result<loopback::Received, loopback::Failure>,
    ) -> Exchanged {
        match sent {
            Ok(answer) => {
                let (body, cut) = decoded(answer.body, answer.content_encoding.as_deref());
                let response = Response {
                    status: answer.status,
                    content_type: answer.content_type,
                    body,
                    headers: answer.headers,
                    truncated: !answer.whole || cut,
                };
                Ok((
                    response,
                    answer.retry_after.as_deref().and_then(retry_after),
                ))
            }
            Err(failure) => Err(TransportError::fault(
                self.url_of(request_target),
                with_scheme_hint(failure.message.clone()),
                failure.connect,
                failure,
            )),
        }
    }

    /// One exchange through reqwest (TLS, or an endpoint elsewhere than this machine).
    async fn reqwest_exchange(
        &self,
        method: &str,
        request_target: &str,
        headers: &[(String, Secret)],
        payload: Payload<'_>,
    ) -> Exchanged {
        let url = &self.url_of(request_target);
        let fail = |e: reqwest::Error| {
            let connect = e.is_connect();
            let message = with_scheme_hint(error_chain(&e));
            TransportError::fault(url.to_owned(), message, connect, e)
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::PUT);
        let mut builder = self.client.request(method, url);
        for (name, value) in headers {
            builder = builder.header(name, value.expose());
        }
        if !payload.body.is_empty() {
            builder = builder.body(payload.body.to_vec());
        }
        if payload.version == HttpVersion::Http10 {
            builder = builder.version(reqwest::Version::HTTP_10);
        }
        let mut response = builder.send().await.map_err(fail)?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let content_encoding = header(reqwest::header::CONTENT_ENCODING);
        let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| retry_after(&v));
        let shown = crate::contract::request::shown_headers(
            response
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_bytes())),
        );
        let mut body = Vec::new();
        let mut full = false;
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            if loopback::append_capped(&mut body, &chunk) {
                full = true;
                break;
            }
        }
        let (body, cut) = decoded(body, content_encoding.as_deref());
        Ok((
            Response {
                status,
                content_type,
                body,
                headers: shown,
                truncated: full || cut,
            },
            retry_after,
        ))
    }
}

/// A body as its `Content-Encoding` says to read it, and whether what it decodes to was cut
/// at the bound: gzip and deflate decoded (at most
/// `MAX_BODY` bytes of what they decode to, so that a small bomb stays small); a body that is
/// not what its coding says, or of a coding no client needs to know, is kept as it came (the
/// oracle then judges it as sent). A request without `Accept-Encoding` accepts any coding
/// (RFC 9110 12.5.3), so a gateway may compress any answer.
pub(crate) fn decoded(body: Vec<u8>, encoding: Option<&str>) -> (Vec<u8>, bool) {
    use std::io::Read as _;
    let Some(encoding) = encoding.map(|e| e.trim().to_ascii_lowercase()) else {
        return (body, false);
    };
    let mut out = Vec::new();
    let limit = loopback::MAX_BODY as u64;
    let read = match encoding.as_str() {
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(body.as_slice())
            .take(limit)
            .read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(body.as_slice())
            .take(limit)
            .read_to_end(&mut out),
        // identity, or a coding of no gateway's: as it came.
        _ => return (body, false),
    };
    match read {
        Ok(_) => {
            let cut = out.len() as u64 == limit;
            (out, cut)
        }
        Err(_) => (body, false),
    }
}

/// The error, with a hint where TLS met a server that speaks plain HTTP, or the reverse.
fn with_scheme_hint(message: String) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("invalidcontenttype") || lower.contains("corrupt message") {
        format!(
            "{message} (hint: the endpoint is https:// but the server seems to speak plain HTTP; try http://)"
        )
    } else if lower.contains("invalid http version") {
        format!(
            "{message} (hint: the server did not answer in HTTP; if it speaks TLS, the endpoint should be https://)"
        )
    } else {
        message
    }
}

/// reqwest is built without a default TLS provider to keep the build lean; ring is ours.
fn install_crypto_provider() {
    // Err only means another provider is installed already, which serves as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An endpoint's base URL, if it is one: http or https, no password, no query or fragment.
pub fn parse_endpoint(base_url: &str) -> Result<reqwest::Url, TargetError> {
    let endpoint = |message: &str| TargetError::Endpoint {
        url: crate::shown::without_userinfo(base_url),
        message: message.to_owned(),
    };
    let parsed = reqwest::Url::parse(base_url).map_err(|e| endpoint(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(endpoint("the scheme must be http or https"));
    }
    // A password in a URL ends up in logs and reports; credentials come from `auth`.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(endpoint(
            "must not carry user:password@ (credentials come from the auth settings)",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(endpoint("an endpoint has no query or fragment"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(endpoint("the endpoint names no host"));
    }
    Ok(parsed)
}

/// A target that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("endpoint `{url}`: {message}")]
    Endpoint { url: String, message: String },
    #[error("cannot build the HTTP client: {what}")]
    Client {
        what: String,
        #[source]
        cause: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

impl TargetError {
    /// The client cannot be built for `what` (its cause's chain in the words).
    pub(crate) fn client(what: impl Into<String>) -> TargetError {
        TargetError::Client {
            what: what.into(),
            cause: None,
        }
    }

    /// The client cannot be built: `context` and the `cause`, kept.
    pub(crate) fn client_because(
        context: &str,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> TargetError {
        TargetError::Client {
            what: format!("{context}{}", error_chain(&cause)),
            cause: Some(Box::new(cause)),
        }
    }
}

/// A request that got no answer of the operation's: why (`kind`), in words (`message`, the
/// cause's chain included), whether it ended before a connection was made, and the cause
/// itself where there is one (`source()`).
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", crate::shown::shorten(url))]
pub struct TransportError {
    pub url: String,
    pub message: String,
    pub kind: Unanswered,
    /// It ended before a connection was made: nothing reached the target.
    pub before_connection: bool,
    #[source]
    cause: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Why a request has no answer to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswered {
    /// The target did not answer (a network error, a timeout, throttled beyond the wait).
    Fault,
    /// A request that may have acted on a real task got a gateway's transient answer (or
    /// none): it was not sent again, and whether it acted is unknown or, read through the
    /// read API, it acted. Its task is used; its clause is not judged from it.
    Lost,
    /// Not sent: the target stopped answering anything but transient answers.
    Unavailable,
    /// Not sent: the run was interrupted, or the target answered none of the first requests.
    NotSent,
}

impl TransportError {
    pub(super) fn new(url: String, message: String, kind: Unanswered) -> TransportError {
        TransportError {
            url,
            message,
            kind,
            before_connection: false,
            cause: None,
        }
    }

    /// A network fault of the exchange with `url`, its `cause` kept.
    pub(super) fn fault(
        url: String,
        message: String,
        before_connection: bool,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> TransportError {
        TransportError {
            url,
            message,
            kind: Unanswered::Fault,
            before_connection,
            cause: Some(Box::new(cause)),
        }
    }

    /// Whether the request may have acted on its task, its answer lost on the way.
    pub fn is_lost(&self) -> bool {
        self.kind == Unanswered::Lost
    }
}
