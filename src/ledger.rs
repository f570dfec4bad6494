//! The ledger of used tasks: each failed task a run consumed (accepted with 200, or met a
//! transient answer that may have acted on it), kept on the user's machine, so that the next
//! run refuses it before any request instead of judging a server by a task that is no longer
//! failed. One JSON object a line, at most `MAX_ENTRIES` (the oldest go first), written under
//! an exclusive lock so that two runs at once keep both their entries. What is read back is
//! untrusted: a line that is not an entry, or an entry too long, is skipped.

use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The most entries kept; older ones are dropped as new ones come.
pub const MAX_ENTRIES: usize = 10_000;

/// The longest field kept (IDs and endpoints are far shorter).
const MAX_FIELD: usize = 512;

/// The largest file read (beyond it, the rest is not read).
const MAX_FILE: u64 = 8 << 20;

/// One task a run used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Used {
    pub endpoint: String,
    pub project: String,
    pub cluster: String,
    pub task: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Which run: `check` and when it began.
    pub run: String,
}

impl Used {
    fn fits(&self) -> bool {
        [
            &self.endpoint,
            &self.project,
            &self.cluster,
            &self.task,
            &self.at,
            &self.run,
        ]
        .iter()
        .all(|f| f.len() <= MAX_FIELD)
    }

    /// Whether it is `task` of `project` and `cluster` at `endpoint`.
    pub fn is(&self, endpoint: &str, project: &str, cluster: &str, task: &str) -> bool {
        self.task == task
            && self.cluster == cluster
            && self.project == project
            && same_endpoint(&self.endpoint, endpoint)
    }
}

/// Two base URLs of the same endpoint (a trailing `/` aside).
fn same_endpoint(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// A ledger file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    pub file: PathBuf,
}

/// What could not be done with the ledger.
#[derive(Debug, thiserror::Error)]
#[error("the ledger of used tasks {}: {reason}", file.display())]
pub struct LedgerError {
    pub file: PathBuf,
    #[source]
    pub reason: std::io::Error,
}

impl Ledger {
    /// The ledger in the platform's state directory (`$XDG_STATE_HOME`, else
    /// `~/.local/state`), if there is a home to keep it in.
    pub fn default_file() -> Option<PathBuf> {
        let state = std::env::var_os("XDG_STATE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|d| !d.is_empty())
                    .map(|h| PathBuf::from(h).join(".local/state"))
            })?;
        Some(state.join("css-conformance").join("used-tasks.jsonl"))
    }

    pub fn at(file: impl Into<PathBuf>) -> Ledger {
        Ledger { file: file.into() }
    }

    /// Every entry, oldest first (none when there is no file yet); and how many lines were
    /// not entries.
    pub fn entries(&self) -> Result<(Vec<Used>, usize), LedgerError> {
        match std::fs::File::open(&self.file) {
            Ok(mut file) => {
                lock(&file, &self.file)?;
                let mut text = String::new();
                let read = (&mut file).take(MAX_FILE).read_to_string(&mut text);
                read.map_err(|reason| self.error(reason))?;
                Ok(parse(&text))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Vec::new(), 0)),
            Err(reason) => Err(self.error(reason)),
        }
    }

    /// Adds `used`, keeping at most `MAX_ENTRIES` (the newest), under an exclusive lock.
    pub fn record(&self, used: &[Used]) -> Result<(), LedgerError> {
        if used.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|reason| self.error(reason))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.file)
            .map_err(|reason| self.error(reason))?;
        lock(&file, &self.file)?;
        let mut text = String::new();
        (&mut file)
            .take(MAX_FILE)
            .read_to_string(&mut text)
            .map_err(|reason| self.error(reason))?;
        let (mut entries, _) = parse(&text);
        entries.extend(used.iter().filter(|u| u.fits()).cloned());
        let keep = entries.len().saturating_sub(MAX_ENTRIES);
        let mut out = String::new();
        for entry in &entries[keep..] {
            out.push_str(&serde_json::to_string(entry).unwrap_or_default());
            out.push('\n');
        }
        file.set_len(0).map_err(|reason| self.error(reason))?;
        file.rewind().map_err(|reason| self.error(reason))?;
        file.write_all(out.as_bytes())
            .map_err(|reason| self.error(reason))
    }

    /// Forgets every entry.
    pub fn clear(&self) -> Result<usize, LedgerError> {
        let (entries, _) = self.entries()?;
        match std::fs::remove_file(&self.file) {
            Ok(()) => Ok(entries.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(reason) => Err(self.error(reason)),
        }
    }

    fn error(&self, reason: std::io::Error) -> LedgerError {
        LedgerError {
            file: self.file.clone(),
            reason,
        }
    }
}

/// The entries of a ledger's text, and how many lines were not entries.
fn parse(text: &str) -> (Vec<Used>, usize) {
    let mut skipped = 0;
    let entries = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| match serde_json::from_str::<Used>(line) {
            Ok(u) if u.fits() => Some(u),
            _ => {
                skipped += 1;
                None
            }
        })
        .collect();
    (entries, skipped)
}

/// Holds an exclusive lock on `file` until it is closed.
fn lock(file: &std::fs::File, path: &Path) -> Result<(), LedgerError> {
    use std::os::fd::AsRawFd as _;
    // SAFETY: flock on a descriptor this process holds open; it only takes an advisory lock.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    if locked == 0 {
        Ok(())
    } else {
        Err(LedgerError {
            file: path.to_owned(),
            reason: std::io::Error::last_os_error(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(task: &str) -> Used {
        Used {
            endpoint: "https://css.example".to_owned(),
            project: "p".to_owned(),
            cluster: "c".to_owned(),
            task: task.to_owned(),
            at: "2026-12-05T00:00:00Z".to_owned(),
            run: "check 2026-12-05T00:00:00Z".to_owned(),
        }
    }

    fn ledger(name: &str) -> Ledger {
        let dir = std::env::temp_dir().join(format!("css-ledger-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Ledger::at(dir.join("state").join("used.jsonl"))
    }

    #[test]
    fn a_used_task_is_found_again_and_clearing_forgets_it() {
        let l = ledger("found");
        assert_eq!(l.entries().unwrap(), (Vec::new(), 0));
        l.record(&[used("t1"), used("t2")]).unwrap();
        l.record(&[used("t3")]).unwrap();
        let (entries, skipped) = l.entries().unwrap();
        assert_eq!((entries.len(), skipped), (3, 0));
        assert!(entries[2].is("https://css.example/", "p", "c", "t3"));
        assert!(!entries[2].is("https://other.example", "p", "c", "t3"));
        assert_eq!(l.clear().unwrap(), 3);
        assert!(l.entries().unwrap().0.is_empty());
    }

    #[test]
    fn lines_that_are_not_entries_are_skipped_and_the_oldest_go_beyond_the_bound() {
        let l = ledger("bound");
        std::fs::create_dir_all(l.file.parent().unwrap()).unwrap();
        let long = used(&"x".repeat(MAX_FIELD + 1));
        let text = format!(
            "not json\n{}\n{{\"task\":1}}\n",
            serde_json::to_string(&long).unwrap()
        );
        std::fs::write(&l.file, text).unwrap();
        assert_eq!(l.entries().unwrap(), (Vec::new(), 3));
        let many: Vec<Used> = (0..MAX_ENTRIES + 5).map(|i| used(&i.to_string())).collect();
        l.record(&many).unwrap();
        let (entries, _) = l.entries().unwrap();
        assert_eq!(entries.len(), MAX_ENTRIES);
        assert_eq!(entries[0].task, "5");
    }

    #[test]
    fn two_runs_at_once_keep_both_their_entries() {
        let l = ledger("together");
        std::thread::scope(|s| {
            for run in 0..4 {
                let l = l.clone();
                s.spawn(move || {
                    for i in 0..25 {
                        l.record(&[used(&format!("{run}-{i}"))]).unwrap();
                    }
                });
            }
        });
        assert_eq!(l.entries().unwrap().0.len(), 100);
    }
}
