//! A fresh self-signed certificate for 127.0.0.1, for the test servers that speak TLS.

use std::path::Path;
use std::sync::Arc;

/// A server configuration with a new self-signed certificate for 127.0.0.1, whose PEM is
/// written to `pem` (to be trusted with `--ca-bundle`).
pub fn self_signed(pem: &Path) -> Arc<rustls::ServerConfig> {
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    std::fs::write(pem, key.cert.pem()).unwrap();
    let private = rustls::pki_types::PrivateKeyDer::Pkcs8(
        rustls::pki_types::PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()),
    );
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![key.cert.der().clone()], private)
    .unwrap();
    Arc::new(config)
}
