//! Wrong credentials on the reset path, counted per client.

/// How many wrong credentials a client may send to the reset path in `GUESS_WINDOW`.
pub const GUESSES_ALLOWED: u32 = 5;
/// The window over which a client's wrong credentials on the reset path are counted.
pub const GUESS_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

/// Wrong credentials on the reset path, counted per client: past `GUESSES_ALLOWED` in a
/// window, the client waits (429 with Retry-After) before its credentials are checked again.
#[derive(Debug, Default)]
pub(crate) struct Guesses {
    /// Per client: when its window began, and its wrong credentials in it. Bounded: past
    /// 10,000 clients the oldest windows are forgotten.
    clients:
        std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (std::time::Instant, u32)>>,
}

impl Guesses {
    /// How long `peer` must still wait, if it used up its guesses.
    pub(super) fn wait(&self, peer: std::net::IpAddr) -> Option<std::time::Duration> {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let (start, n) = clients.get(&peer)?;
        let left = GUESS_WINDOW.checked_sub(start.elapsed())?;
        (*n >= GUESSES_ALLOWED).then_some(left)
    }

    /// Counts one wrong guess of `peer`'s; how many it made in its window.
    pub(super) fn refused(&self, peer: std::net::IpAddr) -> u32 {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() >= 10_000 {
            clients.retain(|_, (start, _)| start.elapsed() < GUESS_WINDOW);
        }
        let entry = clients
            .entry(peer)
            .or_insert((std::time::Instant::now(), 0));
        if entry.0.elapsed() >= GUESS_WINDOW {
            *entry = (std::time::Instant::now(), 0);
        }
        entry.1 += 1;
        entry.1
    }
}
