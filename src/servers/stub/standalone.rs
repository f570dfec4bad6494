//! The built-in stub in a process of its own (`css-conformance stub --silent`), for tests and
//! benchmarks that need a separate server on a loopback port.

/// The built-in stub served by `css-conformance stub` in a process of its own (for tests and
/// benchmarks that need a separate server on a loopback port); killed when dropped.
#[derive(Debug)]
pub struct Standalone {
    child: std::process::Child,
    url: String,
}

impl Standalone {
    /// Starts `exe stub --silent --serve-for SECONDS` and reads the URL it prints first.
    pub fn start(exe: &std::path::Path, serve_for_secs: u64) -> std::io::Result<Standalone> {
        Standalone::start_with(exe, serve_for_secs, &[])
    }

    /// `start`, with more arguments of `css-conformance stub` (`--fixtures FILE`,
    /// `--stub-deviation NAME`).
    pub fn start_with(
        exe: &std::path::Path,
        serve_for_secs: u64,
        more: &[&str],
    ) -> std::io::Result<Standalone> {
        let serve_for = serve_for_secs.to_string();
        let args = ["stub", "--silent", "--serve-for", &serve_for];
        Standalone::spawn(exe, args.iter().chain(more))
    }

    /// `exe` with `args`, a server of this binary (`stub`, `proxy`) that prints its URL first.
    pub fn spawn<'a>(
        exe: &std::path::Path,
        args: impl IntoIterator<Item = &'a &'a str>,
    ) -> std::io::Result<Standalone> {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(exe)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let mut url = String::new();
        if let Some(stdout) = child.stdout.take() {
            std::io::BufReader::new(stdout).read_line(&mut url)?;
        }
        if url.trim().is_empty() {
            let _ = child.kill();
            return Err(std::io::Error::other("the server printed no URL"));
        }
        Ok(Standalone {
            child,
            url: url.trim().to_owned(),
        })
    }

    /// Its base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its process ID (to read its memory and descriptors from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
