//! How the served stub's answers go on the wire in its variants: gzip-compressed for a client
//! that accepts gzip, chunked, the connection closed after each. A gateway in front of the
//! vendor's service may do any of these; none changes what was answered.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::body::{Frame, SizeHint};
use hyper::header::{CONNECTION, CONTENT_ENCODING, HeaderValue, VARY};

use super::variant::{Variant, Variants};

/// An answer's body: sized (sent with `Content-Length`), or of no announced size (sent
/// chunked).
pub(super) struct Body {
    inner: Full<Bytes>,
    chunked: bool,
}

/// Marks an answer whose body goes chunked.
#[derive(Clone, Copy)]
struct Chunked;

impl Body {
    /// The body of `response`, chunked where `dress` marked it so.
    pub(super) fn of(response: Response<Full<Bytes>>) -> Response<Body> {
        let chunked = response.extensions().get::<Chunked>().is_some();
        response.map(|inner| Body { inner, chunked })
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.chunked {
            SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}

/// `response` as the wire variants send it; `request_headers` say what the client accepts.
pub(super) fn dress(
    response: &mut Response<Full<Bytes>>,
    variants: Variants,
    request_headers: &[(String, String)],
) {
    if variants.has(Variant::Gzip) && accepts_gzip(request_headers) {
        let body = std::mem::take(response.body_mut());
        let (zipped, body) = match gzipped(body) {
            Ok(zipped) => (true, zipped),
            Err(body) => (false, body),
        };
        *response.body_mut() = body;
        if zipped {
            let headers = response.headers_mut();
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    if variants.has(Variant::Chunked) {
        response.extensions_mut().insert(Chunked);
    }
    if variants.has(Variant::Close) {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
}

/// Whether a client accepts a gzip-compressed answer: it says so, or sends no
/// `Accept-Encoding` at all (RFC 9110 12.5.3: then any coding is acceptable).
fn accepts_gzip(headers: &[(String, String)]) -> bool {
    let mut said = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("accept-encoding"))
        .peekable();
    if said.peek().is_none() {
        return true;
    }
    said.flat_map(|(_, v)| v.split(',')).any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// A non-empty body gzip-compressed, or the body as it was.
fn gzipped(body: Full<Bytes>) -> Result<Full<Bytes>, Full<Bytes>> {
    use hyper::body::Body as _;
    use std::io::Write as _;
    if body.size_hint().exact().unwrap_or(0) == 0 {
        return Err(body);
    }
    // A `Full` body gives its one frame at once.
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    let mut source = body;
    let bytes = match Pin::new(&mut source).poll_frame(&mut cx) {
        Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
        _ => return Err(source),
    };
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    match encoder.write_all(&bytes).and_then(|()| encoder.finish()) {
        Ok(zipped) => Ok(Full::new(Bytes::from(zipped))),
        Err(_) => Err(Full::new(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_accept_encoding_accepts_gzip_and_q_zero_refuses_it() {
        let h = |v: &str| vec![("Accept-Encoding".to_owned(), v.to_owned())];
        assert!(accepts_gzip(&[]));
        assert!(accepts_gzip(&h("gzip, deflate")));
        assert!(accepts_gzip(&h("*")));
        assert!(!accepts_gzip(&h("identity")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&h("br")));
    }

    #[test]
    fn a_gzipped_body_decodes_to_what_it_was() {
        use hyper::body::Body as _;
        use std::io::Read as _;
        let zipped = match gzipped(Full::new(Bytes::from_static(b"{\"a\":1}"))) {
            Ok(z) => z,
            Err(_) => panic!("compressed"),
        };
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut body = zipped;
        let Poll::Ready(Some(Ok(frame))) = Pin::new(&mut body).poll_frame(&mut cx) else {
            panic!("one frame")
        };
        let bytes = frame.into_data().unwrap_or_default();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut out)
            .expect("gzip");
        assert_eq!(out, "{\"a\":1}");
        assert!(gzipped(Full::new(Bytes::new())).is_err());
    }
}
