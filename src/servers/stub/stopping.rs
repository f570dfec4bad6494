//! How long the stub is served for others: until a time is up or the process is asked to
//! stop.

use std::time::Duration;

/// Waits until `serve_for` has passed, Ctrl-C or SIGTERM, and says which.
pub async fn stopped(serve_for: Option<Duration>) -> &'static str {
    tokio::select! {
        () = async {
            match serve_for {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        } => "--serve-for",
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        () = terminated() => "SIGTERM",
    }
}

/// Resolves when the process gets SIGTERM (never elsewhere).
pub async fn terminated() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        term.recv().await;
        return;
    }
    std::future::pending::<()>().await;
}
