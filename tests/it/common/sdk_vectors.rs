//! The AK/SK signing vectors of the vendor's Python SDK (`tests/data/aksk_sdk_hmac_sha256.json`),
//! shared by the test crates that read them; each uses part of it.

use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

/// One request the SDK signed, and what it made of it.
#[derive(Deserialize)]
pub struct Case {
    pub name: String,
    pub method: String,
    pub host: String,
    pub resource_path: String,
    pub query_params: Vec<(String, String)>,
    pub headers: serde_json::Map<String, serde_json::Value>,
    pub body: String,
    pub ak: String,
    pub sk: String,
    pub expected: Expected,
}

#[derive(Deserialize)]
pub struct Expected {
    pub request_target: String,
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub signature: String,
    pub authorization: String,
    pub headers_sent: serde_json::Map<String, serde_json::Value>,
}

/// Every vector, in the file's order.
pub fn all() -> Vec<Case> {
    let text = include_str!("../../data/aksk_sdk_hmac_sha256.json");
    serde_json::from_str::<Vectors>(text).unwrap().cases
}

/// The vector named `name`.
pub fn named(name: &str) -> Case {
    all()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

/// A vector's headers as pairs, in the file's order.
pub fn headers(map: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}
