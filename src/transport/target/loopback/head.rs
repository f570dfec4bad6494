//! The head of a response, read: its status, the headers it is judged and shown by, and how
//! its body is framed (RFC 9112). Pure; what the target sent is bounded before it comes here.

use crate::contract::request::{SHOWN_HEADERS, shown_header};

/// How a response's body is delimited (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body: an answer to HEAD, a 1xx, 204 or 304.
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    Close,
}

/// What the head of a response says.
#[derive(Debug)]
pub(super) struct Head {
    pub(super) status: u16,
    pub(super) content_type: Option<String>,
    pub(super) retry_after: Option<String>,
    pub(super) content_encoding: Option<String>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) framing: Framing,
    /// The connection may carry another request after this answer.
    pub(super) keep_alive: bool,
}

/// The head's status, the headers the target's answer is judged and shown by, and how its
/// body is framed.
pub(super) fn head_of(
    response: &httparse::Response<'_, '_>,
    to_head: bool,
) -> Result<Head, &'static str> {
    let status = response.code.unwrap_or_default();
    let fields = &*response.headers;
    let first = |name: &str| {
        fields
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| visible(h.value))
    };
    let mut chunked = false;
    let mut encoded = false;
    let mut length: Option<u64> = None;
    let mut close = response.version != Some(1);
    for field in fields {
        if field.name.eq_ignore_ascii_case("transfer-encoding") {
            encoded = true;
            chunked = last_token(field.value).eq_ignore_ascii_case(b"chunked");
        } else if field.name.eq_ignore_ascii_case("content-length") {
            let parsed = std::str::from_utf8(field.value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
            match (parsed, length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return Err("invalid content-length parsed"),
            }
        } else if field.name.eq_ignore_ascii_case("connection") {
            let value = String::from_utf8_lossy(field.value).to_ascii_lowercase();
            if value.split(',').any(|token| token.trim() == "close") {
                close = true;
            } else if value.split(',').any(|token| token.trim() == "keep-alive") {
                close &= response.version != Some(0);
            }
        }
    }
    let framing = if to_head || (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if encoded {
        Framing::Close
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::Close
    };
    Ok(Head {
        status,
        content_type: first("content-type"),
        retry_after: first("retry-after"),
        content_encoding: first("content-encoding"),
        headers: shown(fields),
        framing,
        // Both framings at once is a request smuggler's answer: not reused.
        keep_alive: !(close || encoded && length.is_some() || status == 101),
    })
}

/// The headers as reports show them, named in lower case and grouped by name in the order
/// each name first came, as hyper's header map gave them.
fn shown(fields: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    fn lower(name: &str) -> std::borrow::Cow<'_, str> {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(name.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(name)
        }
    }
    let same =
        |a: &httparse::Header<'_>, b: &httparse::Header<'_>| a.name.eq_ignore_ascii_case(b.name);
    let mut shown = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        if fields[..i].iter().all(|earlier| !same(earlier, field)) {
            for later in fields[i..].iter().filter(|later| same(later, field)) {
                if shown.len() == SHOWN_HEADERS {
                    return shown;
                }
                shown.push(shown_header(&lower(later.name), later.value));
            }
        }
    }
    shown
}

/// A header's value as text, if it is visible ASCII (as `HeaderValue::to_str` has it).
fn visible(value: &[u8]) -> Option<String> {
    value
        .iter()
        .all(|&b| (32..127).contains(&b) || b == b'\t')
        .then(|| String::from_utf8_lossy(value).into_owned())
}

/// The last comma-separated token of a header value, trimmed.
fn last_token(value: &[u8]) -> &[u8] {
    value
        .rsplit(|&b| b == b',')
        .next()
        .unwrap_or_default()
        .trim_ascii()
}

/// What a parse error of a response head is called (hyper's words, which the scheme hint
/// of `with_scheme_hint` knows).
pub(super) fn parse_error(error: httparse::Error) -> &'static str {
    match error {
        httparse::Error::Version => "invalid HTTP version parsed",
        httparse::Error::Status => "invalid HTTP status-code parsed",
        httparse::Error::TooManyHeaders => "message head is too large",
        _ => "invalid HTTP header parsed",
    }
}
