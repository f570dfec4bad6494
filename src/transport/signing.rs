//! AK/SK request signing, `SDK-HMAC-SHA256`, as the vendor's Python SDK does it; and its
//! verification, which the built-in stub uses. HMAC and SHA-256 come from the `hmac` and `sha2`
//! crates; this module only builds the canonical request around them.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, percent_encode, utf8_percent_encode};

// Everything but the unreserved characters is encoded, in paths and queries alike.
use crate::contract::request::UNRESERVED_KEPT as UNRESERVED;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// The algorithm's name, first in the string to sign and the Authorization header.
pub(crate) const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The body hash used for content types other than JSON.
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// How far `X-Sdk-Date` may be from the verifier's clock.
pub(crate) const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(15);

/// A request to sign: the path as on the wire, the query as decoded pairs, the headers the
/// caller supplies (Host included or not), the body.
#[derive(Debug, Clone)]
pub struct Unsigned<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// A signed request: every intermediate value, and the headers to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Path and canonical query, as they go on the wire.
    pub request_target: String,
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub signature: String,
    pub authorization: String,
    pub headers: Vec<(String, String)>,
}

/// Signs `request` with `ak`/`sk`; the caller's headers must include `X-Sdk-Date`.
pub fn sign(request: &Unsigned<'_>, ak: &Secret, sk: &Secret) -> Signed {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        headers.push(("Host".to_owned(), request.host.to_owned()));
    }
    let json = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .is_none_or(|(_, v)| v.to_ascii_lowercase().starts_with("application/json"));
    if !json {
        headers.push((
            "X-Sdk-Content-Sha256".to_owned(),
            UNSIGNED_PAYLOAD.to_owned(),
        ));
    }
    let date = header(&headers, "x-sdk-date")
        .unwrap_or_default()
        .to_owned();
    let signed_names = signed_header_names(&headers);
    let canonical = canonical_request(request, &headers, &signed_names, json);
    let string_to_sign = string_to_sign(&date, &canonical);
    let signature = hmac_hex(sk, &string_to_sign);
    let signed_headers = signed_names.join(";");
    let authorization = format!(
        "{ALGORITHM} Access={}, SignedHeaders={signed_headers}, Signature={signature}",
        ak.expose()
    );
    headers.push(("Authorization".to_owned(), authorization.clone()));
    let query = canonical_query(request.query);
    Signed {
        request_target: if query.is_empty() {
            request.path.to_owned()
        } else {
            format!("{}?{query}", request.path)
        },
        canonical_request: canonical,
        string_to_sign,
        signed_headers,
        signature,
        authorization,
        headers,
    }
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Lower-cased names of the headers that are signed: all without `_`, sorted.
fn signed_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .filter(|k| !k.contains('_'))
        .collect();
    names.sort();
    names.dedup();
    names
}

fn canonical_request(
    request: &Unsigned<'_>,
    headers: &[(String, String)],
    signed_names: &[String],
    json: bool,
) -> String {
    let canonical_headers: String = signed_names
        .iter()
        .map(|name| {
            format!(
                "{name}:{}\n",
                header(headers, name).unwrap_or_default().trim()
            )
        })
        .collect();
    let body_hash = if json {
        format!("{:x}", Sha256::digest(request.body))
    } else {
        UNSIGNED_PAYLOAD.to_owned()
    };
    format!(
        "{}\n{}\n{}\n{canonical_headers}\n{}\n{body_hash}",
        request.method,
        canonical_uri(request.path),
        canonical_query(request.query),
        signed_names.join(";"),
    )
}

/// The path decoded, split on `/`, each segment encoded again, ending in `/`. Over the exact
/// bytes: an escape that is not UTF-8 (`%ff`) is signed as itself, never replaced, so a
/// signature for one such path cannot verify for another.
pub(crate) fn canonical_uri(path: &str) -> String {
    let decoded: Vec<u8> = percent_decode_str(path).collect();
    let mut uri: String = decoded
        .split(|b| *b == b'/')
        .map(|segment| percent_encode(segment, UNRESERVED).to_string())
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The query pairs sorted and encoded; also what goes on the wire.
pub fn canonical_query(query: &[(String, String)]) -> String {
    // As the vendor's SDK: names, and each name's values, sorted by their raw text (code
    // point order), percent-encoded after sorting.
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, UNRESERVED),
                utf8_percent_encode(v, UNRESERVED)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn string_to_sign(date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{date}\n{:x}",
        Sha256::digest(canonical_request.as_bytes())
    )
}

fn hmac_hex(sk: &Secret, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(sk.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(message.as_bytes());
    format!("{:x}", mac.finalize().into_bytes())
}

/// `X-Sdk-Date` for `at`: `YYYYMMDDTHHMMSSZ`, UTC.
pub fn sdk_date(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn parse_sdk_date(value: &str) -> Option<time::OffsetDateTime> {
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| value.get(range)?.parse::<u32>().ok();
    let month = time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(num(0..4)?).ok()?,
        month,
        u8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let at = time::Time::from_hms(
        u8::try_from(num(9..11)?).ok()?,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(13..15)?).ok()?,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, at).assume_utc())
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("no Authorization header of the {ALGORITHM} form")]
    Malformed,
    #[error("unknown access key")]
    UnknownKey,
    #[error("X-Sdk-Date missing or not of the form YYYYMMDDTHHMMSSZ")]
    BadDate,
    #[error("X-Sdk-Date is more than 15 minutes from now")]
    StaleDate,
    #[error("signature does not match")]
    Mismatch,
}

/// What is wrong with a received request's signature as such, whoever's key it names: no
/// `Authorization` of the vendor's form (`Malformed`), an `X-Sdk-Date` missing or malformed
/// (`BadDate`) or more than 15 minutes from `now` (`StaleDate`). What `verify` checks before
/// the key is looked at, and the date it checks with the key: an observer without the secret
/// key (the proxy) judges the form alone.
pub(crate) fn form_fault(
    headers: &[(String, String)],
    now: time::OffsetDateTime,
) -> Option<Rejection> {
    let Some(authorization) = header(headers, "authorization") else {
        return Some(Rejection::Malformed);
    };
    let field = |name: &str| authorization_field(authorization, name);
    if field("Access").is_none() || field("SignedHeaders").is_none() || field("Signature").is_none()
    {
        return Some(Rejection::Malformed);
    }
    match header(headers, "x-sdk-date").and_then(parse_sdk_date) {
        None => Some(Rejection::BadDate),
        Some(date) if (now - date).abs() > MAX_CLOCK_SKEW => Some(Rejection::StaleDate),
        Some(_) => None,
    }
}

/// Verifies a received request's signature. `headers` are as received; `sk_for` finds the
/// secret key of an access key.
pub fn verify(
    request: &Unsigned<'_>,
    now: time::OffsetDateTime,
    sk_for: impl Fn(&str) -> Option<Secret>,
) -> Result<(), Rejection> {
    let authorization = header(request.headers, "authorization").ok_or(Rejection::Malformed)?;
    let field = |name: &str| authorization_field(authorization, name);
    let (ak, signed, signature) =
        match (field("Access"), field("SignedHeaders"), field("Signature")) {
            (Some(a), Some(h), Some(s)) => (a, h, s),
            _ => return Err(Rejection::Malformed),
        };
    let sk = sk_for(ak).ok_or(Rejection::UnknownKey)?;
    let date = header(request.headers, "x-sdk-date")
        .and_then(parse_sdk_date)
        .ok_or(Rejection::BadDate)?;
    if (now - date).abs() > MAX_CLOCK_SKEW {
        return Err(Rejection::StaleDate);
    }
    let names: Vec<String> = signed.split(';').map(str::to_owned).collect();
    let json = header(request.headers, "x-sdk-content-sha256") != Some(UNSIGNED_PAYLOAD);
    let canonical = canonical_request(request, request.headers, &names, json);
    let expected = string_to_sign(&date_header(request.headers), &canonical);
    let mut mac = Hmac::<Sha256>::new_from_slice(sk.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(expected.as_bytes());
    let given = hex::decode(signature).map_err(|_| Rejection::Mismatch)?;
    mac.verify_slice(&given).map_err(|_| Rejection::Mismatch)
}

/// A field (`Access`, `SignedHeaders`, `Signature`) of an `Authorization` header of this
/// algorithm: `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`.
pub(crate) fn authorization_field<'a>(authorization: &'a str, name: &str) -> Option<&'a str> {
    authorization
        .strip_prefix(ALGORITHM)?
        .split(',')
        .map(str::trim)
        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
}

fn date_header(headers: &[(String, String)]) -> String {
    header(headers, "x-sdk-date").unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_uri_ends_in_a_slash_and_splits_encoded_slashes() {
        assert_eq!(canonical_uri("/a/b"), "/a/b/");
        assert_eq!(canonical_uri("/a/b/"), "/a/b/");
        assert_eq!(canonical_uri("/x/a%2Fb/50%25off"), "/x/a/b/50%25off/");
    }

    #[test]
    fn sdk_dates_have_the_vendor_form() {
        let at = time::OffsetDateTime::from_unix_timestamp(1_735_689_600).unwrap();
        assert_eq!(sdk_date(at), "20250101T000000Z");
        assert_eq!(parse_sdk_date("20250101T000000Z"), Some(at));
    }
}
