//! What the proxy passes on: a message's end-to-end headers, and an answer's body streamed to
//! the client while its first bytes are kept for the judge.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::header::{CONNECTION, HeaderMap, HeaderName};

use crate::servers::proxy::forward::Answer;

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
    inner: Answer,
    kept: Vec<u8>,
    cap: usize,
    truncated: bool,
    deadline: Pin<Box<tokio::time::Sleep>>,
    done: Option<Judged>,
}

/// What a `Tee` calls once with the bytes it kept and whether they are the whole body.
type Judged = Box<dyn FnOnce(Vec<u8>, bool) + Send>;

impl Tee {
    pub(crate) fn new(
        inner: Answer,
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
