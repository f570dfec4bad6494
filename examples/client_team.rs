//! A client team's test of its own code against the built-in stub: an automation that retries
//! failed upgrade tasks (and, as the page asks, does not repeat a request refused with 400 or
//! 403 unchanged), checked in-process.
//!
//! `cargo run --example client_team`

use css_conformance::servers::stub::{STUB_TOKEN, Stub};

/// The code under test: retries the failed upgrade task at `url` once; a refusal is reported,
/// not repeated.
async fn retry_failed_upgrade(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<(), String> {
    let answer = http
        .put(url)
        .header("X-Auth-Token", token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match answer.status().as_u16() {
        200 => Ok(()),
        status => {
            let body = answer.text().await.unwrap_or_default();
            Err(format!("refused with {status}: {body}"))
        }
    }
}

#[tokio::main]
async fn main() {
    // reqwest is built here without a default TLS provider; plain HTTP needs one all the same.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let stub = Stub::start_for_clients().await;
    let task = stub.fixtures().failed_action_ids[0].clone();
    let url = stub.operation_url(&task, None);

    // Retrying a failed task succeeds; retrying it again is refused (it is no longer failed).
    assert_eq!(retry_failed_upgrade(&http, &url, STUB_TOKEN).await, Ok(()));
    let refused = retry_failed_upgrade(&http, &url, STUB_TOKEN).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("CSS.5090")),
        "{refused:?}"
    );

    // The automation did not repeat the refused request: the client side conforms.
    stub.verify();
    println!("client verdict: {}", stub.client_summary());
}
