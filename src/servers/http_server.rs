//! Serving HTTP/1.1 to clients nobody vouches for, within limits: the accept loop the served
//! stub and the proxy share. Connections are bounded in number (at the cap, the one that has
//! waited longest for its client makes room; when all are busy, the rest wait in the listen
//! backlog), a request head in size and time, an idle keep-alive connection in time, and an
//! answer the client does not read in time (its connection ends); a client
//! that sends its request and half-closes still gets its answer. A request body is read by the
//! handler, through `read_body`, within the same limits.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming as Body;
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

/// What a client of a server of ours can take, at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// The longest a request head may take to arrive, and a connection may stay idle
    /// between requests.
    pub header_timeout: Duration,
    /// The largest request head (request line and headers; the scenarios send IDs of
    /// 10,000 characters).
    pub max_head_bytes: usize,
    /// The largest body read (the operation takes none); a larger one gets 413.
    pub max_body_bytes: usize,
    /// The longest a body may take to arrive; a slower one gets 408.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            max_head_bytes: 64 * 1024,
            max_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// Accepts connections on `listener`, at most `limits.max_connections` served at once, each
/// by a handler `connection(peer)` makes for it (so a handler may keep state per connection, as
/// the proxy keeps its upstream connection). When `forwarding` (the proxy), the case of header
/// names as received travels in the request's extensions, and the answer gets no `Date` of
/// the server's own: what is sent on is what came.
pub async fn accept<C, H, F, B>(
    listener: tokio::net::TcpListener,
    limits: Limits,
    forwarding: bool,
    connection: C,
) where
    C: Fn(std::net::SocketAddr) -> H,
    H: Fn(Request<Body>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let waiting = Arc::new(Waiting::default());
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Out of file descriptors, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Some(permit) = room(&permits, &waiting).await else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let handler = connection(peer);
        let slot = waiting.enter();
        let waiting = Arc::clone(&waiting);
        tokio::spawn(async move {
            serve(stream, limits, forwarding, handler, &slot).await;
            waiting.leave(&slot);
            drop(permit);
        });
    }
}

/// Room for one more connection. At the cap, the connection that has waited longest for its
/// client (idle, a head trickling in, an answer unread) makes room; one whose request is being
/// answered is never cut. When every connection is busy, the new one waits its turn (`None`:
/// the server is closing).
async fn room(
    permits: &Arc<tokio::sync::Semaphore>,
    waiting: &Waiting,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    match Arc::clone(permits).try_acquire_owned() {
        Ok(permit) => Some(permit),
        Err(_) => {
            waiting.evict_longest();
            Arc::clone(permits).acquire_owned().await.ok()
        }
    }
}

/// Serves one connection with `handler` until it ends or, waiting for its client, is evicted.
async fn serve<H, F, B>(
    stream: tokio::net::TcpStream,
    limits: Limits,
    forwarding: bool,
    handler: H,
    slot: &Arc<Seat>,
) where
    H: Fn(Request<Body>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let handler = Arc::new(handler);
    let service = {
        let slot = Arc::clone(slot);
        hyper::service::service_fn(move |req| {
            slot.busy();
            let answer = handler(req);
            let slot = Arc::clone(&slot);
            async move {
                let answer = answer.await;
                slot.waits();
                Ok::<_, Infallible>(answer)
            }
        })
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_head_bytes.max(8192))
        .half_close(true)
        .preserve_header_case(forwarding)
        .auto_date_header(!forwarding)
        .serve_connection(
            TokioIo::new(Unstalled::new(stream, limits.header_timeout)),
            service,
        );
    // A connection's end, however it came (timeout, reset, malformed, evicted), is the
    // client's business: nothing to report. An eviction that meets a request just arrived (a
    // race of microseconds) lets that request be answered; the connection then ends by its
    // timeouts.
    let mut connection = std::pin::pin!(connection);
    loop {
        tokio::select! {
            _ = &mut connection => break,
            () = slot.evicted.notified() => {
                if !slot.is_busy() {
                    break;
                }
            }
        }
    }
}

/// The connections being served, each with the moment it began to wait for its client
/// (accepted, or its last answer given) or none while a request of it is being answered.
#[derive(Default)]
struct Waiting {
    epoch: std::sync::OnceLock<std::time::Instant>,
    next: std::sync::atomic::AtomicU64,
    slots: std::sync::Mutex<std::collections::HashMap<u64, Arc<Seat>>>,
}

/// One connection's entry in `Waiting`.
struct Seat {
    id: u64,
    epoch: std::time::Instant,
    /// Microseconds since the epoch when the connection began to wait, `BUSY` while a
    /// request of it is being answered.
    since: std::sync::atomic::AtomicU64,
    evicted: tokio::sync::Notify,
}

const BUSY: u64 = u64::MAX;

impl Seat {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(BUSY - 1)
    }

    fn is_busy(&self) -> bool {
        self.since.load(std::sync::atomic::Ordering::Relaxed) == BUSY
    }

    fn busy(&self) {
        self.since.store(BUSY, std::sync::atomic::Ordering::Relaxed);
    }

    fn waits(&self) {
        self.since
            .store(self.now(), std::sync::atomic::Ordering::Relaxed);
    }
}

impl Waiting {
    fn enter(&self) -> Arc<Seat> {
        let epoch = *self.epoch.get_or_init(std::time::Instant::now);
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let slot = Arc::new(Seat {
            id,
            epoch,
            since: std::sync::atomic::AtomicU64::new(BUSY),
            evicted: tokio::sync::Notify::new(),
        });
        slot.waits();
        self.lock().insert(id, Arc::clone(&slot));
        slot
    }

    fn leave(&self, slot: &Seat) {
        self.lock().remove(&slot.id);
    }

    /// Ends the connection that has waited longest for its client, if one waits at all.
    fn evict_longest(&self) {
        let mut slots = self.lock();
        let since = slots.values().map(|slot| {
            (
                slot.since.load(std::sync::atomic::Ordering::Relaxed),
                slot.id,
            )
        });
        if let Some(slot) = longest_waiting(since).and_then(|id| slots.remove(&id)) {
            slot.evicted.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<u64, Arc<Seat>>> {
        // A panic elsewhere while holding the lock leaves the map whole: use it.
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Of connections given as (waiting since, id), the one waiting longest; none when every
/// one is busy.
fn longest_waiting(since: impl Iterator<Item = (u64, u64)>) -> Option<u64> {
    since
        .filter(|&(since, _)| since != BUSY)
        .min()
        .map(|(_, id)| id)
}

/// A client's stream whose writes may not stall: an answer the client does not read within
/// `timeout` (its receive window full, as a client that pipelines and never reads makes it)
/// ends the connection, so that it cannot hold one of the server's connections for ever.
struct Unstalled {
    inner: tokio::net::TcpStream,
    timeout: Duration,
    /// Set while a write waits for the client to read.
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl Unstalled {
    fn new(inner: tokio::net::TcpStream, timeout: Duration) -> Unstalled {
        Unstalled {
            inner,
            timeout,
            stalled: None,
        }
    }
}

impl tokio::io::AsyncRead for Unstalled {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Unstalled {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::task::Poll;
        match std::pin::Pin::new(&mut self.inner).poll_write(cx, data) {
            Poll::Pending => {
                let timeout = self.timeout;
                let stalled = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match stalled.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client did not read its answer in time",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
            done => {
                self.stalled = None;
                done
            }
        }
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body, read within `limits`: the bytes, or the status to refuse it with (413 too
/// large or broken off, 408 too slow).
pub async fn read_body(body: Body, limits: Limits) -> Result<Bytes, StatusCode> {
    let limited = Limited::new(body, limits.max_body_bytes);
    match tokio::time::timeout(limits.body_timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        // Over the limit: 413; malformed (a broken chunk) or broken off: 400.
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        }
        Ok(Err(_)) => Err(StatusCode::BAD_REQUEST),
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    }
}

/// The size of a request head as a client writes it (`METHOD TARGET HTTP/1.1`, each header
/// as `Name: value`, the blank line): what `Limits::max_head_bytes` bounds. hyper's own
/// buffer limit lets a somewhat larger head through; this is the limit the docs state.
pub(crate) fn head_bytes(parts: &hyper::http::request::Parts) -> usize {
    let target = parts.uri.path_and_query().map_or(1, |p| p.as_str().len());
    let line = parts.method.as_str().len() + 1 + target + 1 + "HTTP/1.1".len() + 2;
    let headers: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    line + headers + 2
}

/// A request refused for a limit: `status` with its reason as text, the connection closed
/// after it so that what is left of the request is never read.
pub fn refused(status: StatusCode) -> Response<Full<Bytes>> {
    let reason = status.canonical_reason().unwrap_or("refused");
    let mut response = Response::new(Full::new(Bytes::from(reason)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request's headers as name and value, the value read lossily (what the responder, the
/// watch and the proxy's judge read; the proxy forwards the original bytes).
pub(crate) fn header_pairs(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_waiting_longest_makes_room_and_a_busy_one_never_does() {
        assert_eq!(
            longest_waiting([(30, 1), (10, 2), (20, 3)].into_iter()),
            Some(2)
        );
        assert_eq!(
            longest_waiting([(BUSY, 1), (20, 2), (BUSY, 3)].into_iter()),
            Some(2)
        );
        assert_eq!(longest_waiting([(BUSY, 1), (BUSY, 2)].into_iter()), None);
        assert_eq!(longest_waiting(std::iter::empty()), None);
    }

    #[tokio::test]
    async fn an_evicted_connection_leaves_the_table_and_the_next_eviction_takes_another() {
        let waiting = Waiting::default();
        let first = waiting.enter();
        let second = waiting.enter();
        let busy = waiting.enter();
        busy.busy();
        waiting.evict_longest();
        // The first waited longest (entered first): it is told, and gone from the table.
        tokio::time::timeout(Duration::from_secs(5), first.evicted.notified())
            .await
            .expect("the longest waiting connection was not evicted");
        waiting.evict_longest();
        tokio::time::timeout(Duration::from_secs(5), second.evicted.notified())
            .await
            .expect("the next eviction did not take the next connection");
        // Only the busy one is left, and it is not cut.
        waiting.evict_longest();
        assert_eq!(waiting.lock().len(), 1);
        waiting.leave(&busy);
        assert!(waiting.lock().is_empty());
    }
}
