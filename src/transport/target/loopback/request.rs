//! The head of a request, written in one buffer as hyper wrote it, or refused when a part
//! would not be HTTP.

use crate::contract::spec::HttpVersion;
use crate::secret::Secret;

/// The first line of a request.
pub(super) struct RequestLine<'a> {
    pub(super) method: &'a str,
    pub(super) request_target: &'a str,
    pub(super) version: HttpVersion,
}

/// The request's head, in one buffer, as hyper wrote it: the request line, `host`, then
/// each header named in lower case. Refused when a part would not be HTTP.
pub(super) fn request_head(
    line: &RequestLine<'_>,
    authority: &str,
    headers: &[(String, Secret)],
    body_length: usize,
) -> Result<Vec<u8>, &'static str> {
    let RequestLine {
        method,
        request_target,
        ..
    } = *line;
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err("invalid HTTP method");
    }
    if !request_target.starts_with('/')
        || !all_bytes(request_target.as_bytes(), |b| b.is_ascii_graphic())
    {
        return Err("invalid uri character");
    }
    let size = headers
        .iter()
        .map(|(n, v)| n.len() + v.expose().len() + 4)
        .sum::<usize>();
    let mut head =
        Vec::with_capacity(method.len() + request_target.len() + authority.len() + size + 32);
    for part in [
        method,
        " ",
        request_target,
        match line.version {
            HttpVersion::Http11 => " HTTP/1.1\r\nhost: ",
            HttpVersion::Http10 => " HTTP/1.0\r\nhost: ",
        },
        authority,
        "\r\n",
    ] {
        head.extend_from_slice(part.as_bytes());
    }
    for (name, value) in headers {
        let value = value.expose().as_bytes();
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err("invalid HTTP header name");
        }
        if !all_bytes(value, |b| (b >= 32 && b != 127) || b == b'\t') {
            return Err("failed to parse header value");
        }
        let at = head.len();
        head.extend_from_slice(name.as_bytes());
        head[at..].make_ascii_lowercase();
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    if body_length > 0 {
        head.extend_from_slice(format!("content-length: {body_length}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    Ok(head)
}

/// Whether every byte of `bytes` is `good`, told a block at a time without stopping early,
/// which the compiler turns into vector instructions (request targets run to kilobytes).
fn all_bytes(bytes: &[u8], good: impl Fn(u8) -> bool) -> bool {
    bytes
        .chunks(32)
        .all(|block| block.iter().fold(true, |all, &b| all & good(b)))
}

/// The bytes of an HTTP token (RFC 9110 section 5.6.2), as a table: the check runs for every
/// byte of every header name sent.
const TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

fn is_token(b: u8) -> bool {
    TOKEN[usize::from(b)]
}
