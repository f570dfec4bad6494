//! One exchange with a target, as data: the request (in the domain's terms), the response, the
//! oracle's verdict on it, and how a scenario built of such exchanges ended. Everything here
//! is plain data; the oracle judges, the target sends, the classifier says what kind a
//! request is.

use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::contract::spec::{HttpVersion, IdParam, Kind, Spec};

/// The header an IAM token travels in.
pub const TOKEN_HEADER: &str = "X-Auth-Token";

/// How a request presents credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credentials {
    /// The target's configured credentials.
    Valid,
    /// None at all.
    Missing,
    /// Credentials of the right shape that the target must not accept: a token no IAM
    /// issued, or an AK/SK signature made with the wrong secret key.
    Wrong,
    /// AK/SK only: a valid signature with one character changed.
    TamperedSignature,
    /// AK/SK only: a valid signature over an `X-Sdk-Date` 20 minutes old.
    StaleDate,
}

/// One request of the operation. Path segments are given in their wire form: `%2F` stays
/// `%2F`; characters a URL path cannot carry (space, non-ASCII, `/`, `?`, `#`) are
/// percent-encoded when the request is rendered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Request {
    pub project_id: String,
    pub cluster_id: String,
    pub action_id: String,
    /// The values of `retry_mode`, in order: empty when absent, more than one when repeated.
    pub retry_mode: Vec<String>,
    /// Query parameters the page does not define, sent after `retry_mode`.
    pub extra_query: Vec<(String, String)>,
    pub credentials: Credentials,
    /// Another method than the operation's, to ask whether it acts (`None`: the operation's).
    pub method: Option<String>,
    /// How it departs from the page's form besides the above (`Shape::default()`: it does not).
    pub shape: Shape,
}

/// What of a request's form the page does not define: the path's shape, a header beside the
/// credentials, a body, HTTP/1.0. The page's own request has none of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shape {
    #[serde(default, skip_serializing_if = "PathForm::is_page")]
    pub path: PathForm,
    /// Headers sent besides the credentials, as (name, value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// A body, and the content type it is sent with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<(Option<String>, String)>,
    /// The version of HTTP it is sent in.
    #[serde(default, skip_serializing_if = "HttpVersion::is_default")]
    pub version: HttpVersion,
}

impl Shape {
    /// Whether it is the page's own form (no departure at all).
    pub(crate) fn is_plain(&self) -> bool {
        *self == Shape::default()
    }
}

/// The shape of the path around its IDs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathForm {
    /// As the page writes it.
    #[default]
    Page,
    /// A `/` at the end.
    TrailingSlash,
    /// `//` between the project's ID and `clusters`.
    DoubledSlash,
    /// The path's own words (`v1.0`, `clusters`, `upgrade`, `retry`) in capitals.
    WordsInCapitals,
}

impl PathForm {
    fn is_page(&self) -> bool {
        *self == PathForm::Page
    }
}

/// A request together with the kind the oracle judges it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub kind: Kind,
    pub request: Request,
}

/// What a path segment must encode: controls, space, the URL delimiters, and `/` so that an
/// ID never splits into two segments. `%` is kept, so wire-form escapes pass through.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) is encoded: the
/// query as the vendor's SDK signs it, and every ID the tool writes where encoding is not
/// what is tested (RFC 3986 2.3: producers should not encode an unreserved character; a
/// gateway that routes on the raw path would not find the resource).
pub(crate) const UNRESERVED_KEPT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Appends `text` with everything but the unreserved characters percent-encoded.
pub(crate) fn encode_unreserved_kept(out: &mut String, text: &str) {
    push_encoded(out, text, &QUERY_BYTES);
}

/// Which bytes an `AsciiSet` encodes, as a table (every byte of every ID of every case the
/// fuzzer sends is looked up here): made from the set itself, once.
struct Encodes([bool; 256]);

impl Encodes {
    fn of(set: &'static AsciiSet) -> Encodes {
        let mut table = [true; 256];
        for b in 0..0x80u8 {
            let one = [b];
            let text = std::str::from_utf8(&one).unwrap_or_default();
            table[usize::from(b)] = utf8_percent_encode(text, set).next() != Some(text);
        }
        Encodes(table)
    }
}

static SEGMENT_BYTES: std::sync::LazyLock<Encodes> =
    std::sync::LazyLock::new(|| Encodes::of(SEGMENT));
static QUERY_BYTES: std::sync::LazyLock<Encodes> =
    std::sync::LazyLock::new(|| Encodes::of(UNRESERVED_KEPT));

/// Appends `text` percent-encoded as `encodes` says (as `utf8_percent_encode` would): each run
/// of bytes kept copied whole, each other byte as `%XX`.
fn push_encoded(out: &mut String, text: &str, encodes: &Encodes) {
    const BLOCK: usize = 16;
    let bytes = text.as_bytes();
    let mut kept = 0;
    let mut at = 0;
    while at < bytes.len() {
        let block = &bytes[at..bytes.len().min(at + BLOCK)];
        // A block with nothing to encode (most of them) is told without a branch per byte.
        if !block
            .iter()
            .fold(false, |any, &b| any | encodes.0[usize::from(b)])
        {
            at += block.len();
            continue;
        }
        for &b in block {
            if encodes.0[usize::from(b)] {
                // A run of kept bytes is ASCII (every other byte is encoded), so it is text.
                out.push_str(std::str::from_utf8(&bytes[kept..at]).unwrap_or_default());
                out.push_str(percent_encoding::percent_encode_byte(b));
                kept = at + 1;
            }
            at += 1;
        }
    }
    out.push_str(std::str::from_utf8(&bytes[kept..]).unwrap_or_default());
}

impl Request {
    /// The plain retry of task `action_id` of cluster `cluster_id` in project `project_id`,
    /// with valid credentials: no query, no body, the operation's method.
    pub fn retry(project_id: String, cluster_id: String, action_id: String) -> Request {
        Request {
            project_id,
            cluster_id,
            action_id,
            retry_mode: Vec::new(),
            extra_query: Vec::new(),
            credentials: Credentials::Valid,
            method: None,
            shape: Shape::default(),
        }
    }

    /// The method it is sent with.
    pub fn method<'a>(&'a self, spec: &'a Spec) -> &'a str {
        self.method.as_deref().unwrap_or(&spec.operation.method)
    }

    /// Its body: empty unless its shape carries one.
    pub fn body(&self) -> &[u8] {
        self.shape
            .body
            .as_ref()
            .map_or(b"", |(_, text)| text.as_bytes())
    }

    /// The value of a path parameter, in wire form.
    pub fn id(&self, param: IdParam) -> &str {
        match param {
            IdParam::Project => &self.project_id,
            IdParam::Cluster => &self.cluster_id,
            IdParam::Action => &self.action_id,
        }
    }

    pub(crate) fn id_mut(&mut self, param: IdParam) -> &mut String {
        match param {
            IdParam::Project => &mut self.project_id,
            IdParam::Cluster => &mut self.cluster_id,
            IdParam::Action => &mut self.action_id,
        }
    }

    /// Whether a path parameter is empty, so that the path has an empty segment (`//`).
    pub(crate) fn has_empty_segment(&self) -> bool {
        IdParam::ALL.iter().any(|p| self.id(*p).is_empty())
    }

    /// The path and query as they go on the wire, from the spec's path template.
    pub fn path_and_query(&self, spec: &Spec) -> String {
        let path = self.path(spec);
        let query = self.query_string(spec);
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }

    /// The path, from the spec's template, with each ID encoded as a segment.
    pub fn path(&self, spec: &Spec) -> String {
        let mut path = String::new();
        self.write_path(spec, &mut path);
        path
    }

    /// Appends the path (as `path` makes it) to `path`, so a prefix can come first.
    pub(crate) fn write_path(&self, spec: &Spec, path: &mut String) {
        let template = spec.operation.path.as_str();
        path.reserve(
            template.len() + self.project_id.len() + self.cluster_id.len() + self.action_id.len(),
        );
        let mut rest = template;
        let mut nth = 0;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            push_words(path, &rest[..open], self.shape.path, nth);
            nth += 1;
            match IdParam::from_name(&rest[open + 1..close]) {
                Some(param) => push_encoded(path, self.id(param), &SEGMENT_BYTES),
                // Not a parameter of this operation: the template text stays.
                None => path.push_str(&rest[open..=close]),
            }
            rest = &rest[close + 1..];
        }
        push_words(path, rest, self.shape.path, nth);
        if self.shape.path == PathForm::TrailingSlash {
            path.push('/');
        }
    }

    /// The query parameters in order, decoded: `retry_mode` values, then the extra ones.
    pub fn query_pairs(&self, spec: &Spec) -> Vec<(String, String)> {
        self.pairs(spec)
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    /// The query as it goes on the wire (without AK/SK signing, which sorts it).
    pub(crate) fn query_string(&self, spec: &Spec) -> String {
        let mut query = String::new();
        for (n, v) in self.pairs(spec) {
            if !query.is_empty() {
                query.push('&');
            }
            push_encoded(&mut query, n, &QUERY_BYTES);
            query.push('=');
            push_encoded(&mut query, v, &QUERY_BYTES);
        }
        query
    }

    /// `query_pairs`, borrowed.
    fn pairs<'a>(&'a self, spec: &'a Spec) -> impl Iterator<Item = (&'a str, &'a str)> {
        let name = spec.retry_mode().name.as_str();
        self.retry_mode
            .iter()
            .map(move |v| (name, v.as_str()))
            .chain(
                self.extra_query
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str())),
            )
    }
}

/// Appends the `nth` piece of the path template between IDs (`/clusters/`) in the path's
/// `form`.
fn push_words(path: &mut String, words: &str, form: PathForm, nth: usize) {
    match form {
        PathForm::WordsInCapitals => path.push_str(&words.to_ascii_uppercase()),
        // The `/` right after the first ID (the project's) is doubled.
        PathForm::DoubledSlash if nth == 1 && words.starts_with('/') => {
            path.push('/');
            path.push_str(words);
        }
        _ => path.push_str(words),
    }
}

/// An answer as the oracle sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Its headers as reports show them (`shown_headers`); the oracle reads none of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The body was cut at the bound of what is read (`MAX_BODY`): what depends on the whole
    /// of it (a JSON error body) cannot be judged, and is said to be too large to judge.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// Headers shown to a human: at most this many, each name and value cut to `SHOWN_CHARS`.
pub const SHOWN_HEADERS: usize = 32;
pub(crate) const SHOWN_CHARS: usize = 200;

/// What a server's headers show in a report: the first `SHOWN_HEADERS`, in order, each name
/// and value cut and made inert (`shown::inert`; a value that is not text is shown lossily).
pub fn shown_headers<'h>(
    headers: impl Iterator<Item = (&'h str, &'h [u8])>,
) -> Vec<(String, String)> {
    headers
        .take(SHOWN_HEADERS)
        .map(|(name, value)| shown_header(name, value))
        .collect()
}

/// One header as reports show it (`shown_headers`).
pub(crate) fn shown_header(name: &str, value: &[u8]) -> (String, String) {
    (
        shown_text(name),
        shown_text(&String::from_utf8_lossy(value)),
    )
}

/// `text` cut to `SHOWN_CHARS` characters and made inert, copied once (every answer's
/// headers pass here, so this is the fuzzer's hot path).
pub(crate) fn shown_text(text: &str) -> String {
    // No more bytes than the characters shown: nothing to cut, nothing to count.
    if text.len() <= SHOWN_CHARS {
        return crate::shown::inert(text).into_owned();
    }
    let end = text
        .char_indices()
        .nth(SHOWN_CHARS)
        .map_or(text.len(), |(at, _)| at);
    crate::shown::inert(&text[..end]).into_owned()
}

#[cfg(test)]
impl Request {
    /// A retry of task `t` of cluster `c` in project `p`, with valid credentials (unit tests).
    pub(crate) fn sample() -> Request {
        Request::retry("p".to_owned(), "c".to_owned(), "t".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_queries_are_encoded_as_percent_encoding_does() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        let texts = [
            "",
            "bcdb711c-a7f0-4007-b8ee-9f13c05f8326",
            "a b/c?d#e%41",
            "ä€😀 mixed / ascii",
            every_ascii.as_str(),
            &format!("{}/{}ä{}", "a".repeat(40), "b".repeat(15), "c".repeat(17)),
        ];
        for text in texts {
            for (set, encodes) in [(SEGMENT, &SEGMENT_BYTES), (UNRESERVED_KEPT, &QUERY_BYTES)] {
                let mut fast = String::from("prefix:");
                push_encoded(&mut fast, text, encodes);
                assert_eq!(
                    fast,
                    format!("prefix:{}", utf8_percent_encode(text, set)),
                    "{text:?}"
                );
            }
        }
    }
}
