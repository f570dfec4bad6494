//! Serving HTTP/1.1 to clients nobody vouches for, within limits: the accept loop the served
//! stub and the proxy share. Connections are bounded in number (at the cap, room is made by
//! evicting, in order, a connection that has sent nothing, a request arriving below the rate
//! floor, a connection idle past its grace; a request being answered never; when none can go,
//! the rest wait in the listen backlog), a request head in size and time, an idle keep-alive
//! connection in time, and an
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
    let seats = Arc::new(Seats::default());
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Out of file descriptors, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Some(permit) = room(&permits, &seats).await else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let handler = connection(peer);
        let seat = seats.enter();
        let seats = Arc::clone(&seats);
        tokio::spawn(async move {
            serve(stream, limits, forwarding, handler, &seat, &seats).await;
            seats.leave(&seat);
            drop(permit);
        });
    }
}

/// Room for one more connection (`None`: the server is closing). At the cap, one connection
/// makes room, in this order: one that has sent nothing since it was accepted (the oldest);
/// one whose request arrives slower than the rate floor (the slowest); one idle after an
/// answer for `IDLE_GRACE` or longer (the longest idle). A request being handled is never cut,
/// nor one arriving at the floor or faster. When none can go, the new connection waits its
/// turn, and the choice is made again as connections change.
async fn room(
    permits: &Arc<tokio::sync::Semaphore>,
    seats: &Seats,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    loop {
        if let Ok(permit) = Arc::clone(permits).try_acquire_owned() {
            return Some(permit);
        }
        seats.evict_one();
        tokio::select! {
            permit = Arc::clone(permits).acquire_owned() => return permit.ok(),
            () = seats.declined.notified() => {}
            () = tokio::time::sleep(RECONSIDER) => {}
        }
    }
}

/// A request in progress (head or body) must arrive at `RATE_FLOOR` bytes a second or faster,
/// counted from its first byte once `RATE_GRACE` has passed (Apache's `mod_reqtimeout`
/// `MinRate` default): a slower one may be cut to make room at the cap.
pub const RATE_FLOOR: u64 = 500;
/// The time a request in progress has before the rate floor applies to it.
pub const RATE_GRACE: Duration = Duration::from_secs(1);
/// A connection idle after an answer for less than this is the client's, about to send its
/// next request: never cut to make room.
pub const IDLE_GRACE: Duration = Duration::from_secs(1);
/// How often the choice of a connection to make room is made again while none can go.
const RECONSIDER: Duration = Duration::from_millis(50);

/// Serves one connection with `handler` until it ends or is evicted to make room.
async fn serve<H, F, B>(
    stream: tokio::net::TcpStream,
    limits: Limits,
    forwarding: bool,
    handler: H,
    seat: &Arc<Seat>,
    seats: &Seats,
) where
    H: Fn(Request<Body>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !first_byte(&stream, limits.header_timeout, seat, seats).await {
        return;
    }
    let handler = Arc::new(handler);
    let service = {
        let seat = Arc::clone(seat);
        hyper::service::service_fn(move |mut req: Request<Body>| {
            if hyper::body::Body::is_end_stream(req.body()) {
                seat.set(Phase::Handling);
            } else {
                req.extensions_mut().insert(Receipt(Arc::clone(&seat)));
            }
            let answer = handler(req);
            let seat = Arc::clone(&seat);
            async move {
                let answer = answer.await;
                seat.set(Phase::Idle(std::time::Instant::now()));
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
            TokioIo::new(Unstalled::new(
                stream,
                limits.header_timeout,
                Arc::clone(seat),
            )),
            service,
        );
    // A connection's end, however it came (timeout, reset, malformed, evicted), is the
    // client's business: nothing to report. An eviction that meets a connection changed since
    // it was chosen (a request arrived, or sped up) is declined.
    let mut connection = std::pin::pin!(connection);
    loop {
        tokio::select! {
            _ = &mut connection => break,
            () = seat.evicted.notified() => {
                if seat.leaves_if_evictable() {
                    break;
                }
                seats.declined.notify_one();
            }
        }
    }
}

/// Waits for a fresh connection's first byte (true), within `timeout`; false when it closed,
/// timed out, or was evicted with nothing sent. An eviction finding bytes already waiting
/// (they arrived before this task looked) is declined: the request is on its way.
async fn first_byte(
    stream: &tokio::net::TcpStream,
    timeout: Duration,
    seat: &Seat,
    seats: &Seats,
) -> bool {
    let mut byte = [0_u8; 1];
    tokio::select! {
        biased;
        peeked = stream.peek(&mut byte) => match peeked {
            Ok(0) | Err(_) => false,
            Ok(_) => {
                seat.started(0);
                true
            }
        },
        () = seat.evicted.notified() => {
            let mut byte = [std::mem::MaybeUninit::new(0_u8); 1];
            match socket2::SockRef::from(stream).peek(&mut byte) {
                Ok(n) if n > 0 => {
                    seat.started(0);
                    seats.declined.notify_one();
                    true
                }
                _ => {
                    seat.set(Phase::Leaving);
                    false
                }
            }
        }
        () = tokio::time::sleep(timeout) => false,
    }
}

/// What a connection is doing, for the choice of one to make room.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Accepted at this moment; nothing sent yet.
    Fresh(std::time::Instant),
    /// A request arriving: its first byte at this moment, and the bytes so far.
    Receiving(std::time::Instant, u64),
    /// A whole request being answered.
    Handling,
    /// Answered, and nothing sent since this moment.
    Idle(std::time::Instant),
    /// Chosen to make room, and leaving.
    Leaving,
}

/// Why a connection may go to make room, the first the likeliest: its class, then its rank
/// within the class (the lower the sooner).
fn eviction_rank(phase: Phase, now: std::time::Instant) -> Option<(u8, u128)> {
    match phase {
        Phase::Fresh(since) => Some((0, oldest_first(since, now))),
        Phase::Receiving(since, bytes) => {
            let elapsed = now.saturating_duration_since(since);
            let floor = u128::from(RATE_FLOOR) * elapsed.as_millis();
            // Below the floor once the grace is over: bytes * 1000 < floor * ms.
            (elapsed >= RATE_GRACE && u128::from(bytes) * 1000 < floor).then(|| {
                (
                    1,
                    u128::from(bytes) * 1_000_000 / elapsed.as_millis().max(1),
                )
            })
        }
        Phase::Idle(since) => {
            let idle = now.saturating_duration_since(since);
            (idle >= IDLE_GRACE).then(|| (2, oldest_first(since, now)))
        }
        Phase::Handling | Phase::Leaving => None,
    }
}

/// A rank that puts the older of two moments first.
fn oldest_first(since: std::time::Instant, now: std::time::Instant) -> u128 {
    u128::MAX - now.saturating_duration_since(since).as_micros()
}

/// The connections being served.
#[derive(Default)]
struct Seats {
    next: std::sync::atomic::AtomicU64,
    seats: std::sync::Mutex<std::collections::HashMap<u64, Arc<Seat>>>,
    /// Told when a connection chosen to make room declined (it changed since).
    declined: tokio::sync::Notify,
}

/// One connection's entry in `Seats`.
struct Seat {
    id: u64,
    phase: std::sync::Mutex<Phase>,
    evicted: tokio::sync::Notify,
}

/// A request whose body is still to come: `read_body` marks it handled once read.
#[derive(Clone)]
struct Receipt(Arc<Seat>);

impl Seat {
    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        // A panic elsewhere while holding the lock leaves the phase whole: use it.
        self.phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set(&self, phase: Phase) {
        *self.phase() = phase;
    }

    /// Bytes of a request arrived: the first of a request starts it.
    fn started(&self, bytes: u64) {
        let mut phase = self.phase();
        *phase = match *phase {
            Phase::Fresh(_) | Phase::Idle(_) => Phase::Receiving(std::time::Instant::now(), bytes),
            Phase::Receiving(since, so_far) => {
                Phase::Receiving(since, so_far.saturating_add(bytes))
            }
            // Bytes of the next request while this one is answered (pipelined), or leaving.
            other @ (Phase::Handling | Phase::Leaving) => other,
        };
    }

    /// Marks the connection leaving if it may still go (its phase may have changed since it
    /// was chosen).
    fn leaves_if_evictable(&self) -> bool {
        let mut phase = self.phase();
        if eviction_rank(*phase, std::time::Instant::now()).is_some() {
            *phase = Phase::Leaving;
            true
        } else {
            false
        }
    }
}

impl Seats {
    fn enter(&self) -> Arc<Seat> {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let seat = Arc::new(Seat {
            id,
            phase: std::sync::Mutex::new(Phase::Fresh(std::time::Instant::now())),
            evicted: tokio::sync::Notify::new(),
        });
        self.lock().insert(id, Arc::clone(&seat));
        seat
    }

    fn leave(&self, seat: &Seat) {
        self.lock().remove(&seat.id);
    }

    /// Tells the connection likeliest to go that it should (it checks again, and may
    /// decline); none when no connection may go.
    fn evict_one(&self) {
        let now = std::time::Instant::now();
        let seats = self.lock();
        let ranks = seats
            .values()
            .filter_map(|seat| Some((eviction_rank(*seat.phase(), now)?, seat.id)));
        if let Some(seat) = likeliest(ranks).and_then(|id| seats.get(&id)) {
            seat.evicted.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<u64, Arc<Seat>>> {
        // A panic elsewhere while holding the lock leaves the map whole: use it.
        self.seats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Of connections given as (rank, id), the one to go first.
fn likeliest(ranks: impl Iterator<Item = ((u8, u128), u64)>) -> Option<u64> {
    ranks.min().map(|(_, id)| id)
}

/// A client's stream whose writes may not stall: an answer the client does not read within
/// `timeout` (its receive window full, as a client that pipelines and never reads makes it)
/// ends the connection, so that it cannot hold one of the server's connections for ever.
/// It also counts the bytes of each request as they arrive, for the rate floor.
struct Unstalled {
    inner: tokio::net::TcpStream,
    timeout: Duration,
    /// Set while a write waits for the client to read.
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    seat: Arc<Seat>,
}

impl Unstalled {
    fn new(inner: tokio::net::TcpStream, timeout: Duration, seat: Arc<Seat>) -> Unstalled {
        Unstalled {
            inner,
            timeout,
            stalled: None,
            seat,
        }
    }
}

impl tokio::io::AsyncRead for Unstalled {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let arrived = buf.filled().len().saturating_sub(before);
        if arrived > 0 {
            self.seat
                .started(u64::try_from(arrived).unwrap_or(u64::MAX));
        }
        read
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
/// large or broken off, 408 too slow). Read, the request is whole: its connection is no longer
/// one that may be cut for a slow request (`parts` are the request's).
pub async fn read_body(
    parts: &hyper::http::request::Parts,
    body: Body,
    limits: Limits,
) -> Result<Bytes, StatusCode> {
    let limited = Limited::new(body, limits.max_body_bytes);
    let read = tokio::time::timeout(limits.body_timeout, limited.collect()).await;
    if let Some(Receipt(seat)) = parts.extensions.get::<Receipt>() {
        seat.set(Phase::Handling);
    }
    match read {
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
    use std::time::Instant;

    #[test]
    fn a_connection_that_sent_nothing_goes_first_then_the_slowest_request_then_the_longest_idle() {
        let now = Instant::now();
        let ago = |ms| now - Duration::from_millis(ms);
        let rank = |phase| eviction_rank(phase, now);
        // Fresh: any age, the oldest first.
        assert!(rank(Phase::Fresh(ago(2000))) < rank(Phase::Fresh(ago(1))));
        // A request under the floor after its grace: after every fresh one, the slowest first.
        let slow =
            rank(Phase::Receiving(ago(2000), 10)).expect("10 bytes in 2 s is under the floor");
        let slower =
            rank(Phase::Receiving(ago(2000), 1)).expect("1 byte in 2 s is under the floor");
        assert!(rank(Phase::Fresh(ago(0))).expect("fresh goes") < slower);
        assert!(slower < slow);
        // Idle past its grace: after every slow request.
        let idle = rank(Phase::Idle(ago(5000))).expect("idle 5 s goes");
        assert!(slow < idle);
        assert!(idle < rank(Phase::Idle(ago(1500))).expect("idle 1.5 s goes"));
        // Never: a request handled, one within its grace, one at the floor, one idle a moment,
        // one leaving already.
        assert_eq!(rank(Phase::Handling), None);
        assert_eq!(rank(Phase::Receiving(ago(900), 0)), None);
        assert_eq!(rank(Phase::Receiving(ago(2000), 1000)), None);
        assert_eq!(rank(Phase::Idle(ago(100))), None);
        assert_eq!(rank(Phase::Leaving), None);
    }

    #[tokio::test]
    async fn the_likeliest_connection_is_told_and_a_changed_one_declines() {
        let seats = Seats::default();
        let handled = seats.enter();
        handled.set(Phase::Handling);
        let fresh = seats.enter();
        seats.evict_one();
        tokio::time::timeout(Duration::from_secs(5), fresh.evicted.notified())
            .await
            .expect("the fresh connection was not told to go");
        // A request arrived since: it declines, and stays.
        fresh.started(100);
        assert!(!fresh.leaves_if_evictable());
        // Nothing may go now: nobody is told.
        seats.evict_one();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), handled.evicted.notified())
                .await
                .is_err(),
            "a handled request was told to go"
        );
        seats.leave(&handled);
        seats.leave(&fresh);
        assert!(seats.lock().is_empty());
    }
}
