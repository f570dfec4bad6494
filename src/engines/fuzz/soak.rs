//! The soak: many fuzz cases in one process against the built-in stub, in chunks, sampling
//! resident memory, open file descriptors and threads (from Linux's `/proc/self`) after each,
//! and once more when the stub and the target are gone, so that a leak shows as growth.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::profile::AuthMethod;
use crate::contract::spec::Spec;
use crate::engines::fuzz;
use crate::engines::targets;

/// What the process holds at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Cases sent so far.
    pub cases: u64,
    pub rss_kib: u64,
    pub fds: usize,
    pub threads: usize,
    /// Tasks alive on the caller's tokio runtime.
    pub tasks: usize,
}

impl Sample {
    /// The process now, or `None` where `/proc/self` does not tell (not Linux).
    pub fn now(cases: u64) -> Option<Sample> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        let count = |dir: &str| std::fs::read_dir(dir).map(Iterator::count).ok();
        Some(Sample {
            cases,
            rss_kib,
            fds: count("/proc/self/fd")?,
            threads: count("/proc/self/task")?,
            tasks: tokio::runtime::Handle::try_current()
                .map_or(0, |h| h.metrics().num_alive_tasks()),
        })
    }
}

/// A soak run's samples.
#[derive(Debug, Clone)]
pub struct Soak {
    /// Before the stub started (httpmock's server pool warm).
    pub before: Sample,
    /// After each chunk of cases.
    pub chunks: Vec<Sample>,
    /// After the stub and the target were dropped.
    pub after: Sample,
    /// Findings in all (the stub conforms: 0).
    pub findings: usize,
    pub elapsed: Duration,
}

/// Sends `cases` fuzz cases in `chunks` runs (seeds `seed`, `seed + 1`, ...) to one built-in
/// stub through one target, sampling after each; `None` where the process cannot be sampled.
pub async fn run(cases: u64, chunks: u64, seed: u64, concurrency: usize) -> Option<Soak> {
    let started = Instant::now();
    let spec = Arc::new(Spec::embedded());
    // httpmock keeps a dropped stub's server (its socket and thread) pooled for the next one:
    // warm the pool first, so that "before" and "after" hold the same pooled server.
    drop(targets::stub_target(Arc::clone(&spec), None, AuthMethod::Token).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = Sample::now(0)?;
    let mut samples = Vec::new();
    let mut findings = 0;
    {
        let (stub, target) = targets::stub_target(Arc::clone(&spec), None, AuthMethod::Token).await;
        let per_chunk = (cases / chunks.max(1)).max(1);
        let mut sent = 0;
        for i in 0..chunks.max(1) {
            let options = fuzz::FuzzOptions {
                cases: per_chunk,
                seed: seed + i,
                concurrency,
                ..fuzz::FuzzOptions::default()
            };
            // Cases that cannot be made leave nothing to sample.
            findings += fuzz::run(&spec, &target, &options)
                .await
                .ok()?
                .findings
                .len();
            sent += per_chunk;
            samples.push(Sample::now(sent)?);
        }
        drop(target);
        drop(stub);
    }
    // Let the closed connections' tasks finish.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = Sample::now(samples.last().map_or(0, |s| s.cases))?;
    Some(Soak {
        before,
        chunks: samples,
        after,
        findings,
        elapsed: started.elapsed(),
    })
}

impl Soak {
    /// Resident memory after the last chunk against after the first, in percent.
    pub(crate) fn memory_growth(&self) -> f64 {
        let first = self.chunks.first().map_or(1, |s| s.rss_kib).max(1) as f64;
        let last = self.chunks.last().map_or(0, |s| s.rss_kib) as f64;
        100.0 * (last - first) / first
    }

    /// What did not hold: memory grew more than 10 % from the first chunk to the last, file
    /// descriptors or threads grew from chunk to chunk, or more are open once everything is
    /// dropped than before the stub started.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let growth = self.memory_growth();
        if growth > 10.0 {
            out.push(format!(
                "resident memory grew {growth:.1} % (more than 10 %)"
            ));
        }
        let first = self.chunks.first().copied().unwrap_or(self.before);
        let max_fds = self.chunks.iter().map(|s| s.fds).max().unwrap_or(0);
        let max_threads = self.chunks.iter().map(|s| s.threads).max().unwrap_or(0);
        if max_fds > first.fds {
            out.push(format!(
                "open file descriptors grew from {} to {max_fds}",
                first.fds
            ));
        }
        if max_threads > first.threads {
            out.push(format!(
                "threads grew from {} to {max_threads}",
                first.threads
            ));
        }
        if self.after.fds > self.before.fds {
            out.push(format!(
                "{} file descriptors open at the end, {} before the stub",
                self.after.fds, self.before.fds
            ));
        }
        if self.after.threads > self.before.threads {
            out.push(format!(
                "{} threads at the end, {} before the stub",
                self.after.threads, self.before.threads
            ));
        }
        if self.after.tasks > self.before.tasks {
            out.push(format!(
                "{} tasks alive at the end, {} before the stub",
                self.after.tasks, self.before.tasks
            ));
        }
        if self.findings > 0 {
            out.push(format!(
                "{} findings against the conforming stub",
                self.findings
            ));
        }
        out
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:>12} {:>12} {:>6} {:>8} {:>6}",
            "cases", "RSS KiB", "fds", "threads", "tasks"
        );
        let row = |out: &mut String, label: &str, s: &Sample| {
            let _ = writeln!(
                out,
                "{label:>12} {:>12} {:>6} {:>8} {:>6}",
                s.rss_kib, s.fds, s.threads, s.tasks
            );
        };
        row(&mut out, "before stub", &self.before);
        for s in &self.chunks {
            row(&mut out, &s.cases.to_string(), s);
        }
        row(&mut out, "all dropped", &self.after);
        let _ = writeln!(
            out,
            "{} cases in {:.1} s; resident memory {:+.1} % from the first chunk to the last",
            self.chunks.last().map_or(0, |s| s.cases),
            self.elapsed.as_secs_f64(),
            self.memory_growth()
        );
        let problems = self.problems();
        if problems.is_empty() {
            let _ = writeln!(
                out,
                "Soak OK: memory flat, no file descriptor or thread growth, no thread, task or descriptor left at the end."
            );
        } else {
            for p in problems {
                let _ = writeln!(out, "SOAK PROBLEM: {p}");
            }
        }
        out
    }
}
