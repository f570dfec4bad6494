//! AK/SK signing against the 14 vectors produced by the vendor's Python SDK, and the stub-side
//! verification of the same requests.

use crate::common;
use css_conformance::secret::Secret;
use css_conformance::transport::signing::{self, Rejection, Unsigned};

use common::sdk_vectors::{self, Case, headers};

fn vectors() -> Vec<Case> {
    sdk_vectors::all()
}

#[test]
fn all_fourteen_vectors_sign_as_the_sdk_does() {
    let cases = vectors();
    assert_eq!(cases.len(), 14);
    // The two that pin the canonical query's order: raw text sorted, encoded after.
    for name in ["query_sorted_by_raw_value", "query_sorted_by_raw_key"] {
        assert!(cases.iter().any(|c| c.name == name), "{name}");
    }
    for c in &cases {
        let supplied = headers(&c.headers);
        let request = Unsigned {
            method: &c.method,
            host: &c.host,
            path: &c.resource_path,
            query: &c.query_params,
            headers: &supplied,
            body: c.body.as_bytes(),
        };
        let signed = signing::sign(&request, &Secret::new(&c.ak), &Secret::new(&c.sk));
        let e = &c.expected;
        assert_eq!(signed.canonical_request, e.canonical_request, "{}", c.name);
        assert_eq!(signed.string_to_sign, e.string_to_sign, "{}", c.name);
        assert_eq!(signed.signed_headers, e.signed_headers, "{}", c.name);
        assert_eq!(signed.signature, e.signature, "{}", c.name);
        assert_eq!(signed.authorization, e.authorization, "{}", c.name);
        assert_eq!(signed.request_target, e.request_target, "{}", c.name);
        let mut sent = signed.headers.clone();
        sent.sort();
        let mut expected = headers(&e.headers_sent);
        expected.sort();
        assert_eq!(sent, expected, "{}", c.name);
    }
}

fn received(c: &Case) -> Vec<(String, String)> {
    // What a server sees: the headers as sent, names lower-cased by the HTTP stack.
    headers(&c.expected.headers_sent)
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

fn at(date: &str) -> time::OffsetDateTime {
    assert_eq!(date, "20250101T000000Z");
    time::OffsetDateTime::from_unix_timestamp(1_735_689_600).unwrap()
}

#[test]
fn the_verifier_accepts_every_vector_and_rejects_tampering() {
    for c in &vectors() {
        let heard = received(c);
        let request = Unsigned {
            method: &c.method,
            host: &c.host,
            path: &c.resource_path,
            query: &c.query_params,
            headers: &heard,
            body: c.body.as_bytes(),
        };
        let now = at("20250101T000000Z");
        let sk = |ak: &str| (ak == c.ak).then(|| Secret::new(&c.sk));
        assert_eq!(signing::verify(&request, now, sk), Ok(()), "{}", c.name);

        let wrong_sk = |_: &str| Some(Secret::new("another-secret"));
        assert_eq!(
            signing::verify(&request, now, wrong_sk),
            Err(Rejection::Mismatch),
            "{}",
            c.name
        );

        let later = now + time::Duration::minutes(16);
        assert_eq!(
            signing::verify(&request, later, sk),
            Err(Rejection::StaleDate),
            "{}",
            c.name
        );
        let within = now - time::Duration::minutes(14);
        assert_eq!(signing::verify(&request, within, sk), Ok(()), "{}", c.name);

        let mut tampered = heard.clone();
        for (k, v) in &mut tampered {
            if k == "authorization" {
                let flipped = if v.ends_with('0') { '1' } else { '0' };
                v.pop();
                v.push(flipped);
            }
        }
        let request = Unsigned {
            headers: &tampered,
            ..request
        };
        assert_eq!(
            signing::verify(&request, now, sk),
            Err(Rejection::Mismatch),
            "{}",
            c.name
        );
    }
}

#[test]
fn a_request_without_a_signature_is_malformed() {
    let request = Unsigned {
        method: "PUT",
        host: "h",
        path: "/x",
        query: &[],
        headers: &[("x-sdk-date".to_owned(), "20250101T000000Z".to_owned())],
        body: b"",
    };
    let r = signing::verify(&request, at("20250101T000000Z"), |_| None);
    assert_eq!(r, Err(Rejection::Malformed));
}

/// A signature covers the path's exact bytes: one made for an escape that is not UTF-8
/// (`%ff`) does not verify for another (`%fe`), which a lossy decoding would make the same.
#[test]
fn a_signature_for_one_invalid_escape_does_not_verify_for_another() {
    let (ak, sk) = (Secret::new("AK-5E57"), Secret::new("sk-5e57"));
    let date = [("X-Sdk-Date".to_owned(), "20250101T000000Z".to_owned())];
    let unsigned = |path| Unsigned {
        method: "PUT",
        host: "css.example",
        path,
        query: &[],
        headers: &date,
        body: b"",
    };
    let signed = signing::sign(&unsigned("/v1.0/p/upgrade/%ff/retry"), &ak, &sk);
    let heard: Vec<(String, String)> = signed
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let now = at("20250101T000000Z");
    let keys = |a: &str| (a == "AK-5E57").then(|| Secret::new("sk-5e57"));
    let heard_for = |path| Unsigned {
        headers: &heard,
        ..unsigned(path)
    };
    assert_eq!(
        signing::verify(&heard_for("/v1.0/p/upgrade/%ff/retry"), now, keys),
        Ok(())
    );
    assert_eq!(
        signing::verify(&heard_for("/v1.0/p/upgrade/%FF/retry"), now, keys),
        Ok(())
    );
    assert_eq!(
        signing::verify(&heard_for("/v1.0/p/upgrade/%fe/retry"), now, keys),
        Err(Rejection::Mismatch)
    );
}
