//! A lean HTTP/1.1 client for plain-http targets on this machine (the built-in stub, a
//! standalone stub, a local implementation under test). A request is written in one piece
//! onto a pooled keep-alive connection and its answer read and parsed (`httparse`) by the
//! task that sent it: no connection task, no channel between the two, no header maps, none
//! of reqwest's URL re-parsing, redirect and retry layers. The fuzzer spends most of its time
//! here, so this is its hot path. Anything else (TLS, proxies, other hosts) goes through
//! reqwest.
//!
//! What the target sends is untrusted: the head is bounded (`MAX_HEAD`, `MAX_HEADERS`), the
//! body cut at `MAX_BODY`, the whole exchange bounded by the request timeout, and bytes that
//! answer no request (a server that speaks first, or twice) are never taken for an answer.

use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::contract::spec::HttpVersion;
use crate::secret::Secret;

mod head;
mod request;

use head::{Framing, Head, head_of, parse_error};
use request::{RequestLine, request_head};

/// The most of a response body that is read (by this client and by reqwest's path alike); a
/// longer body is cut there and judged as it is (its connection is closed, not reused).
pub const MAX_BODY: usize = 1 << 20;

/// The most bytes a response head (status line and headers) may take, as hyper's default
/// buffer allows; a longer head is a target fault.
const MAX_HEAD: usize = 8192 + 4096 * 100;

/// The most headers a response may have, as hyper allows by default.
const MAX_HEADERS: usize = 100;

/// The most bytes of chunk-size lines (extensions included) and trailers a chunked body may
/// carry beyond `CHUNK_OVERHEAD_PER_BYTE` times its data: a server that sends a large body
/// in small chunks is within it, one that sends little but framing is not.
const MAX_CHUNK_OVERHEAD: usize = 64 << 10;

/// The chunk framing allowed per byte of data, beyond `MAX_CHUNK_OVERHEAD`.
const CHUNK_OVERHEAD_PER_BYTE: usize = 8;

/// The room made for each read from the socket.
const READ_ROOM: usize = 16 << 10;

/// How long a new connection is watched for a server that speaks before it is asked.
const SPEAKS_FIRST: Duration = Duration::from_millis(2);

/// What a target that answers out of turn is told.
const OUT_OF_TURN: &str = "the target sent bytes before the request was written, or after an answer that no request asked for (an answer out of turn): a target fault; the connection is dropped";

/// Keep-alive connections to one loopback address.
#[derive(Debug)]
pub struct Client {
    /// `host:port` to connect to, and the Host header.
    authority: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    /// The target sent bytes out of turn once: from then on no connection is reused, and
    /// every answer waits `QUIET` for bytes after it before it is taken.
    out_of_turn: std::sync::atomic::AtomicBool,
}

/// One connection, and what was read from it that no answer has taken yet (nothing, between
/// exchanges, on a connection fit to be reused).
#[derive(Debug)]
struct Connection {
    stream: TcpStream,
    read: Vec<u8>,
    /// No exchange has been made on it yet.
    fresh: bool,
}

/// How long after the first answer on a connection (and after every answer of a target that
/// spoke out of turn) bytes that follow are waited for: an answer written before the request
/// was read (on accept, a moment late), or after another, shows itself here and is never
/// taken for the answer to a request.
const QUIET: Duration = Duration::from_millis(20);

/// What came back.
#[derive(Debug)]
pub struct Received {
    pub status: u16,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    /// `Content-Encoding`, if the body came compressed (decoded by the endpoint).
    pub content_encoding: Option<String>,
    pub body: Vec<u8>,
    /// The whole body was read (not cut at `MAX_BODY`).
    pub whole: bool,
    /// As reports show them (`exchange::shown_headers`).
    pub headers: Vec<(String, String)>,
}

/// Why no answer came, and whether it was before a connection was made.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
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

    fn exchange(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
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
            out_of_turn: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Notes that the target spoke out of turn: the failure of the exchange that saw it.
    fn spoke_out_of_turn(&self) -> Failure {
        self.out_of_turn
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Failure::exchange(OUT_OF_TURN)
    }

    fn careful(&self) -> bool {
        self.out_of_turn.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sends `method request_target` with `headers` and reads the answer (the body up to
    /// `MAX_BODY`), within the request timeout.
    pub async fn send(
        &self,
        method: &str,
        request_target: &str,
        headers: &[(String, Secret)],
        payload: Payload<'_>,
    ) -> Result<Received, Failure> {
        let line = RequestLine {
            method,
            request_target,
            version: payload.version,
        };
        let mut head = request_head(&line, &self.authority, headers, payload.body.len())
            .map_err(|why| Failure::connect(format!("cannot form the request: {why}")))?;
        head.extend_from_slice(payload.body);
        let mut connection = self.connection().await?;
        let exchange = async {
            connection
                .stream
                .write_all(&head)
                .await
                .map_err(|e| Failure::exchange(format!("error writing the request: {e}")))?;
            connection.answer(method == "HEAD").await
        };
        let (answer, answered_reusable) = tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|_| {
                Failure::exchange(format!(
                    "no answer within {} ms (request timeout)",
                    self.request_timeout.as_millis()
                ))
            })??;
        // A request in HTTP/1.0 asks for no persistent connection: the server may close it
        // without saying so.
        let reusable = answered_reusable && payload.version == HttpVersion::Http11;
        // Bytes after a whole answer answer no request, and show that one of the two may not
        // be this request's: neither is taken, and the connection goes. (After an answer cut
        // at `MAX_BODY`, what follows is the rest of it.) An answer to HEAD that closes its
        // connection may be followed by the content a careless server sends all the same
        // (RFC 9110 says it must not): on a connection that ends with it, no other request
        // can be paired with it, and it is dropped.
        let head_content = method == "HEAD" && !reusable;
        if answer.whole && !connection.read.is_empty() && !head_content {
            return Err(self.spoke_out_of_turn());
        }
        if answer.whole
            && !head_content
            && (connection.fresh || self.careful())
            && connection.speaks_within(QUIET).await
        {
            return Err(self.spoke_out_of_turn());
        }
        connection.fresh = false;
        if reusable
            && !self.careful()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(connection);
        }
        Ok(answer)
    }

    /// An idle connection, or a new one. One that received bytes while idle is dropped.
    async fn connection(&self) -> Result<Connection, Failure> {
        loop {
            let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let Some(mut connection) = idle else { break };
            match connection.idle_state().await {
                Idle::Quiet => return Ok(connection),
                Idle::Spoke => {
                    // Nothing was asked on it: no answer is lost, but the target is watched.
                    self.spoke_out_of_turn();
                    tracing::warn!("target fault: {OUT_OF_TURN}");
                }
                Idle::Gone => {}
            }
        }
        let connect = async {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(|e| Failure::connect(format!("error connecting: {e}")))?;
            let _ = stream.set_nodelay(true);
            // A server that speaks first (an answer before any request) is caught here: its
            // bytes would otherwise be taken for the answer to the first request.
            let mut first = [0u8; 1];
            if let Ok(Ok(n)) = tokio::time::timeout(SPEAKS_FIRST, stream.peek(&mut first)).await
                && n > 0
            {
                return Err(self.spoke_out_of_turn());
            }
            Ok(Connection {
                stream,
                read: Vec::with_capacity(READ_ROOM),
                fresh: true,
            })
        };
        tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| {
                Failure::connect(format!(
                    "error connecting: no connection within {} ms (connect timeout)",
                    self.connect_timeout.as_millis()
                ))
            })?
    }
}

/// What an idle connection did while it waited.
enum Idle {
    /// Nothing: fit for the next request.
    Quiet,
    /// Sent bytes no request asked for.
    Spoke,
    /// Was closed, failed, or belongs to a runtime that has ended.
    Gone,
}

impl Connection {
    /// Whether bytes come within `quiet` (a connection the server closes is quiet).
    async fn speaks_within(&self, quiet: Duration) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            tokio::time::timeout(quiet, self.stream.peek(&mut byte)).await,
            Ok(Ok(n)) if n > 0
        )
    }

    /// Whether bytes came (or the connection ended) while it was idle. Readiness known to be
    /// clear costs no system call: a read shorter than its room clears it.
    async fn idle_state(&mut self) -> Idle {
        let ready = std::future::poll_fn(|cx| {
            Poll::Ready(match self.stream.poll_read_ready(cx) {
                Poll::Pending => Ok(false),
                Poll::Ready(Ok(())) => Ok(true),
                Poll::Ready(Err(_)) => Err(()),
            })
        })
        .await;
        match ready {
            Ok(false) => Idle::Quiet,
            Err(()) => Idle::Gone,
            Ok(true) => {
                let mut byte = [0u8; 1];
                match self.stream.try_read(&mut byte) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Idle::Quiet,
                    Ok(n) if n > 0 => Idle::Spoke,
                    _ => Idle::Gone,
                }
            }
        }
    }

    /// Reads more bytes into `read`; how many (0: the server closed the connection).
    async fn fill(&mut self) -> Result<usize, Failure> {
        self.read.reserve(READ_ROOM);
        self.stream
            .read_buf(&mut self.read)
            .await
            .map_err(|e| Failure::exchange(format!("error reading the answer: {e}")))
    }

    /// The answer to the request just written, and whether the connection may be reused.
    /// Informational answers (1xx but 101) are skipped, as hyper does.
    async fn answer(&mut self, to_head: bool) -> Result<(Received, bool), Failure> {
        let head = loop {
            let head = self.head(to_head).await?;
            if !(100..200).contains(&head.status) || head.status == 101 {
                break head;
            }
        };
        let (body, whole) = self.body(head.framing).await?;
        let received = Received {
            status: head.status,
            content_type: head.content_type,
            retry_after: head.retry_after,
            content_encoding: head.content_encoding,
            body,
            whole,
            headers: head.headers,
        };
        let reusable = whole && head.keep_alive && head.framing != Framing::Close;
        Ok((received, reusable))
    }

    /// Reads and parses one response head, and takes it out of `read`.
    async fn head(&mut self, to_head: bool) -> Result<Head, Failure> {
        loop {
            if !self.read.is_empty()
                && let Some(head) = self.parsed_head(to_head)?
            {
                return Ok(head);
            }
            if self.fill().await? == 0 {
                return Err(Failure::exchange(if self.read.is_empty() {
                    "connection closed before message completed"
                } else {
                    "connection closed before the answer's head was complete"
                }));
            }
        }
    }

    /// The head at the start of `read`, taken out of it, if it is all there. Not async, so
    /// that the parser's room for headers is no part of the request's future, which the
    /// fuzzer moves about.
    fn parsed_head(&mut self, to_head: bool) -> Result<Option<Head>, Failure> {
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut fields);
        match response.parse(&self.read) {
            Ok(httparse::Status::Complete(length)) => {
                let head = head_of(&response, to_head).map_err(Failure::exchange)?;
                self.read.drain(..length);
                Ok(Some(head))
            }
            Ok(httparse::Status::Partial) if self.read.len() >= MAX_HEAD => {
                Err(Failure::exchange("message head is too large"))
            }
            Ok(httparse::Status::Partial) => Ok(None),
            Err(e) => Err(Failure::exchange(parse_error(e))),
        }
    }

    /// The body as `framing` delimits it, at most `MAX_BODY` bytes of it, and whether it was
    /// read whole (a cut body leaves the rest unread).
    async fn body(&mut self, framing: Framing) -> Result<(Vec<u8>, bool), Failure> {
        match framing {
            Framing::Empty => Ok((Vec::new(), true)),
            Framing::Length(length) => self.sized(length).await,
            Framing::Chunked => self.chunked().await,
            Framing::Close => self.until_closed().await,
        }
    }

    async fn sized(&mut self, length: u64) -> Result<(Vec<u8>, bool), Failure> {
        let wanted = usize::try_from(length).map_or(MAX_BODY, |n| n.min(MAX_BODY));
        while self.read.len() < wanted {
            if self.fill().await? == 0 {
                return Err(Failure::exchange(
                    "error reading a body from connection: end of file before message length reached",
                ));
            }
        }
        let body = self.read.drain(..wanted).collect();
        Ok((body, length <= MAX_BODY as u64))
    }

    async fn until_closed(&mut self) -> Result<(Vec<u8>, bool), Failure> {
        let mut body = Vec::new();
        loop {
            let full = append_capped(&mut body, &self.read);
            self.read.clear();
            if full || self.fill().await? == 0 {
                return Ok((body, !full));
            }
        }
    }

    /// A chunked body (RFC 9112 section 7.1): its chunks joined, extensions and trailers
    /// dropped.
    async fn chunked(&mut self) -> Result<(Vec<u8>, bool), Failure> {
        let mut body = Vec::new();
        let mut overhead = 0usize;
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.read) {
                    Ok(httparse::Status::Complete((taken, size))) => {
                        overhead += taken;
                        self.read.drain(..taken);
                        break size;
                    }
                    Ok(httparse::Status::Partial) if self.read.len() < MAX_CHUNK_OVERHEAD => {
                        self.more("a chunk's size").await?;
                    }
                    _ => return Err(Failure::exchange("invalid chunk size")),
                }
            };
            let allowed = MAX_CHUNK_OVERHEAD + CHUNK_OVERHEAD_PER_BYTE * body.len();
            if overhead > allowed {
                return Err(Failure::exchange("chunk extensions are too large"));
            }
            if size == 0 {
                self.trailers(overhead, allowed).await?;
                return Ok((body, true));
            }
            let mut left = size;
            while left > 0 {
                if self.read.is_empty() {
                    self.more("a chunk").await?;
                }
                let here =
                    usize::try_from(left).map_or(self.read.len(), |l| l.min(self.read.len()));
                let full = append_capped(&mut body, &self.read[..here]);
                self.read.drain(..here);
                left -= here as u64;
                if full {
                    return Ok((body, false));
                }
            }
            while self.read.len() < 2 {
                self.more("a chunk's end").await?;
            }
            if &self.read[..2] != b"\r\n" {
                return Err(Failure::exchange("invalid chunk: no CRLF after its data"));
            }
            self.read.drain(..2);
        }
    }

    /// Skips the trailer section after the last chunk, up to its empty line.
    async fn trailers(&mut self, mut overhead: usize, allowed: usize) -> Result<(), Failure> {
        loop {
            if let Some(end) = self.read.windows(2).position(|w| w == b"\r\n") {
                self.read.drain(..end + 2);
                if end == 0 {
                    return Ok(());
                }
                overhead += end + 2;
            } else if overhead + self.read.len() > allowed {
                return Err(Failure::exchange("chunked trailers are too large"));
            } else {
                self.more("the trailers").await?;
            }
        }
    }

    /// Reads more of a chunked body; the connection closing here cuts the body short.
    async fn more(&mut self, what: &str) -> Result<(), Failure> {
        if self.fill().await? == 0 {
            return Err(Failure::exchange(format!(
                "error reading a body from connection: the connection closed in {what}"
            )));
        }
        Ok(())
    }
}

/// Appends what of `data` fits in `MAX_BODY`; true once the body is full (the rest unread).
pub(crate) fn append_capped(body: &mut Vec<u8>, data: &[u8]) -> bool {
    let room = MAX_BODY - body.len();
    body.extend_from_slice(&data[..data.len().min(room)]);
    data.len() >= room
}

/// What a request carries besides its method, target and headers: its body and the version of
/// HTTP it is sent in.
#[derive(Debug, Clone, Copy)]
pub struct Payload<'a> {
    pub body: &'a [u8],
    pub version: HttpVersion,
}

impl Payload<'_> {
    /// No body, in HTTP/1.1.
    pub(crate) const NONE: Payload<'static> = Payload {
        body: b"",
        version: HttpVersion::Http11,
    };
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

    #[test]
    fn a_request_head_is_written_as_hyper_wrote_it_or_refused() {
        let headers = [("X-Auth-Token".to_owned(), Secret::new("t0k".to_owned()))];
        let line = |method, request_target, version| RequestLine {
            method,
            request_target,
            version,
        };
        let put = |request_target| line("PUT", request_target, HttpVersion::Http11);
        let head = request_head(
            &put("/v1.0/p/retry?retry_mode=abort"),
            "127.0.0.1:9",
            &headers,
            0,
        );
        assert_eq!(
            String::from_utf8(head.unwrap()).unwrap(),
            "PUT /v1.0/p/retry?retry_mode=abort HTTP/1.1\r\nhost: 127.0.0.1:9\r\nx-auth-token: t0k\r\n\r\n"
        );
        let old = request_head(&line("PUT", "/r", HttpVersion::Http10), "h", &[], 2);
        assert_eq!(
            String::from_utf8(old.unwrap()).unwrap(),
            "PUT /r HTTP/1.0\r\nhost: h\r\ncontent-length: 2\r\n\r\n"
        );
        let split = [(
            "X-Auth-Token".to_owned(),
            Secret::new("a\r\nx: y".to_owned()),
        )];
        assert!(request_head(&put("/"), "h", &split, 0).is_err());
        let named = [("X Auth".to_owned(), Secret::new("v".to_owned()))];
        assert!(request_head(&put("/"), "h", &named, 0).is_err());
        let spaced = line("P UT", "/", HttpVersion::Http11);
        assert!(request_head(&spaced, "h", &[], 0).is_err());
        assert!(request_head(&put("/a b"), "h", &[], 0).is_err());
        assert!(request_head(&put("http://elsewhere/"), "h", &[], 0).is_err());
    }

    /// A server on a free loopback port that answers each request head with the next of
    /// `answers` on one connection, then closes it; and the client to it.
    async fn scripted(answers: Vec<Vec<u8>>) -> Client {
        use tokio::io::AsyncBufReadExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let mut stream = tokio::io::BufReader::new(stream);
            for answer in answers {
                let mut line = String::new();
                while line != "\r\n" {
                    line.clear();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                }
                if stream.get_mut().write_all(&answer).await.is_err() {
                    return;
                }
            }
        });
        Client::new(authority, Duration::from_secs(2), Duration::from_secs(2))
    }

    #[tokio::test]
    async fn content_after_an_answer_to_head_is_dropped_only_where_the_connection_ends() {
        // Closing: the content a careless server sends after the head goes with the connection.
        let closing = scripted(vec![
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec(),
        ])
        .await;
        let answer = send(&closing, "HEAD").await.expect("no fault");
        assert_eq!((answer.status, answer.body.len()), (403, 0));
        // Kept alive: the same bytes would be taken for the next request's answer: a fault.
        let kept = scripted(vec![
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
        ])
        .await;
        let fault = send(&kept, "HEAD").await.expect_err("out of turn");
        assert!(fault.message.contains("out of turn"), "{}", fault.message);
    }

    async fn send(client: &Client, method: &str) -> Result<Received, Failure> {
        client.send(method, "/x", &[], Payload::NONE).await
    }

    fn idle(client: &Client) -> usize {
        client.idle.lock().unwrap().len()
    }

    #[tokio::test]
    async fn bodies_are_read_by_length_chunks_or_until_closed() {
        let client = scripted(vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".to_vec(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n".to_vec(),
            b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n".to_vec(),
            b"HTTP/1.0 400 Bad Request\r\nRetry-After: 7\r\n\r\nto the end".to_vec(),
        ])
        .await;
        let a = send(&client, "PUT").await.unwrap();
        assert_eq!((a.status, a.body.as_slice()), (403, &b"{}"[..]));
        assert_eq!(a.content_type.as_deref(), Some("application/json"));
        assert_eq!(idle(&client), 1, "kept alive");
        let b = send(&client, "PUT").await.unwrap();
        assert_eq!((b.status, b.body.as_slice()), (200, &b"abcde"[..]));
        let c = send(&client, "PUT").await.unwrap();
        assert_eq!((c.status, c.body.len()), (204, 0));
        let d = send(&client, "HEAD").await.unwrap();
        assert_eq!(
            (d.status, d.body.len()),
            (200, 0),
            "an answer to HEAD has no body"
        );
        let e = send(&client, "PUT").await.unwrap();
        assert_eq!((e.status, e.body.as_slice()), (400, &b"to the end"[..]));
        assert_eq!(e.retry_after.as_deref(), Some("7"));
        assert_eq!(idle(&client), 0, "a body to the close ends the connection");
    }

    #[tokio::test]
    async fn headers_are_shown_in_lower_case_grouped_by_name() {
        let client = scripted(vec![
            b"HTTP/1.1 403 Forbidden\r\nA: 1\r\nB: 2\r\na: 3\r\nContent-Length: 0\r\n\r\n".to_vec(),
        ])
        .await;
        let a = send(&client, "PUT").await.unwrap();
        let names = a
            .headers
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>();
        assert_eq!(names, ["a=1", "a=3", "b=2", "content-length=0"]);
    }

    #[tokio::test]
    async fn broken_answers_are_failures_never_answers() {
        let too_many = format!(
            "HTTP/1.1 200 OK\r\n{}\r\n",
            "X: y\r\n".repeat(MAX_HEADERS + 1)
        );
        let cases: [(&[u8], &str); 7] = [
            (b"SSH-2.0-OpenSSH_9.2p1\r\n", "invalid HTTP version"),
            (b"HTTP/1.1 2x0 OK\r\n\r\n", "status-code"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                "content-length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                "end of file",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "chunk size",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY",
                "CRLF",
            ),
            (too_many.as_bytes(), "too large"),
        ];
        for (answer, said) in cases {
            let client = scripted(vec![answer.to_vec()]).await;
            let failure = send(&client, "PUT").await.unwrap_err();
            assert!(
                failure.message.contains(said),
                "{said}: {}",
                failure.message
            );
            assert!(!failure.connect);
            assert_eq!(idle(&client), 0);
        }
        let client = scripted(Vec::new()).await;
        let closed = send(&client, "PUT").await.unwrap_err();
        assert!(
            closed.message.contains("closed before"),
            "{}",
            closed.message
        );
    }

    #[tokio::test]
    async fn a_long_body_is_cut_and_its_connection_not_reused() {
        let mut long = b"HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n".to_vec();
        long.resize(long.len() + 2_000_000, b'x');
        let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..40 {
            chunked.extend_from_slice(b"8000\r\n");
            chunked.resize(chunked.len() + 0x8000, b'y');
            chunked.extend_from_slice(b"\r\n");
        }
        for answer in [long, chunked] {
            let client = scripted(vec![answer]).await;
            let a = send(&client, "PUT").await.unwrap();
            assert_eq!(a.body.len(), MAX_BODY);
            assert_eq!(idle(&client), 0);
        }
    }

    #[tokio::test]
    async fn bytes_after_an_answer_are_never_the_next_answer() {
        let client = scripted(vec![
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
        ])
        .await;
        // Two answers to one request: neither is taken for it.
        let fault = send(&client, "PUT").await.unwrap_err();
        assert!(fault.message.contains("out of turn"), "{}", fault.message);
        assert_eq!(
            idle(&client),
            0,
            "the connection that answered twice is dropped"
        );
    }

    /// A server of ours that writes `early` a moment after accepting a connection (before it
    /// reads the request), then answers the request, then writes `late` a moment after.
    async fn out_of_turn(early: Option<u64>, late: Option<u64>) -> Client {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    let refused = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
                    if let Some(ms) = early {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        let _ = stream.write_all(ok).await;
                    }
                    let mut buf = [0u8; 4096];
                    while stream.read(&mut buf).await.is_ok_and(|n| n > 0) {
                        let _ = stream.write_all(refused).await;
                        if let Some(ms) = late {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            let _ = stream.write_all(ok).await;
                        }
                    }
                });
            }
        });
        Client::new(
            authority,
            Duration::from_secs(2),
            Duration::from_millis(500),
        )
    }

    #[tokio::test]
    async fn an_answer_written_on_accept_or_after_another_is_never_taken_for_one() {
        // On accept, a moment after the client's watch for a server that speaks first.
        for ms in [5, 15] {
            let client = out_of_turn(Some(ms), None).await;
            for _ in 0..3 {
                let got = send(&client, "PUT").await;
                assert!(got.is_err(), "{ms} ms: {:?}", got.map(|a| a.status));
            }
        }
        // After each answer, a moment later: the first exchange sees it; from then on every
        // exchange is watched, and none is paired with the stray 200.
        let client = out_of_turn(None, Some(3)).await;
        for _ in 0..5 {
            match send(&client, "PUT").await {
                Ok(a) => assert_eq!(a.status, 403),
                Err(e) => assert!(e.message.contains("out of turn"), "{}", e.message),
            }
        }
        assert!(client.careful());
        assert_eq!(idle(&client), 0);
        // A server that keeps its turn: its connection is reused, and nothing is watched.
        let client = out_of_turn(None, None).await;
        for _ in 0..3 {
            assert_eq!(send(&client, "PUT").await.unwrap().status, 403);
        }
        assert_eq!(idle(&client), 1);
        assert!(!client.careful());
    }

    #[tokio::test]
    async fn an_answer_that_comes_while_idle_drops_the_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            let _ = stream.write_all(ok).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stream.write_all(ok).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        });
        let client = Client::new(
            authority,
            Duration::from_secs(2),
            Duration::from_millis(500),
        );
        assert_eq!(send(&client, "PUT").await.unwrap().status, 200);
        assert_eq!(idle(&client), 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut connection = client.idle.lock().unwrap().pop().unwrap();
        assert!(matches!(connection.idle_state().await, Idle::Spoke));
    }
}
