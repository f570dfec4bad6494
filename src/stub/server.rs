//! Serving the stub for others: on a fixed address (httpmock picks its own port, so a fixed
//! address forwards to it), until a time is up or the process is asked to stop.

use std::net::SocketAddr;
use std::time::Duration;

use super::Stub;

impl Stub {
    /// The URL clients reach the stub at: its own, or `listen`'s, which forwards to it.
    pub async fn listen(&self, listen: Option<SocketAddr>) -> std::io::Result<String> {
        let Some(addr) = listen else {
            return Ok(self.base_url());
        };
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        tokio::spawn(forward(listener, self.address()));
        Ok(format!("http://{bound}"))
    }
}

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

/// Forwards every connection `listener` accepts to `backend`, byte for byte.
pub async fn forward(listener: tokio::net::TcpListener, backend: SocketAddr) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            // Out of file descriptors, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
