//! The credentials the built-in stub accepts: fixed, since they guard nothing.

use crate::secret::Secret;

/// The token the built-in stub accepts; it guards nothing, so it may be printed.
pub const STUB_TOKEN: &str = "css-conformance-stub-token";
/// The AK/SK pair the built-in stub verifies signatures with; they guard nothing either.
pub const STUB_ACCESS_KEY: &str = "AKSTUBEXAMPLE0000001";
pub const STUB_SECRET_KEY: &str = "css-conformance-stub-secret-key";

/// The credentials the stub accepts.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Accepted as `X-Auth-Token`.
    pub token: Secret,
    /// The access key and secret key AK/SK signatures are verified with.
    pub access_key: String,
    pub secret_key: Secret,
}

/// The credentials the built-in stub accepts.
pub fn stub_keys() -> Keys {
    Keys {
        token: Secret::new(STUB_TOKEN),
        access_key: STUB_ACCESS_KEY.to_owned(),
        secret_key: Secret::new(STUB_SECRET_KEY),
    }
}
