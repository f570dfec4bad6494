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

/// How many runs of the binary (each a check and a stub of its own) a test keeps going at
/// once: a check of an endpoint on this machine waits out each effect's settle period
/// (3 s), so a run is mostly waiting; measured, 60 runs took 1.8 s of CPU each against 13 s
/// of wall.
pub const RUNS_AT_ONCE: usize = 8;

/// `run` of each of `cases`, `RUNS_AT_ONCE` at a time, the results in the order of `cases`.
pub fn each_at_once<C: Sync, R: Send>(cases: &[C], run: impl Fn(&C) -> R + Sync) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..RUNS_AT_ONCE.min(cases.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let result = run(case);
                    done.lock().unwrap().push((i, result));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}
