//! What several test modules share: the binary served as a separate process, raw HTTP
//! servers of our own that misbehave, the vendor SDK's signing vectors, a TLS server, and the
//! target flags of an endpoint.

pub mod endpoint;
pub mod sdk_vectors;
pub mod served;
pub mod tiny_server;
pub mod tls;

/// What a command printed, stdout then stderr, as text.
pub fn printed(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
