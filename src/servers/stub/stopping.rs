//! How long the stub is served for others: until a time is up or the process is asked to
//! stop.

use std::time::Duration;

/// What stopped a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The time it was to serve for passed.
    TimeServed,
    CtrlC,
    Sigterm,
}

/// Waits until `serve_for` has passed, Ctrl-C or SIGTERM, and says which.
pub async fn stopped(serve_for: Option<Duration>) -> Stopped {
    tokio::select! {
        () = async {
            match serve_for {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        } => Stopped::TimeServed,
        _ = tokio::signal::ctrl_c() => Stopped::CtrlC,
        () = terminated() => Stopped::Sigterm,
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
