//! `css-conformance tasks`: the ledger of the failed tasks runs used.

use std::path::PathBuf;

use clap::Subcommand;
use css_conformance::settings::options;

use super::{CONFORMANT, check};

#[derive(Subcommand)]
pub enum TasksCommand {
    /// Each used task: when, the endpoint, project, cluster, task, and the run that used it.
    List {
        /// The ledger (default: the platform's state directory; also CSS_CONFORMANCE_LEDGER)
        #[arg(long = options::LEDGER.0, value_name = "FILE")]
        ledger: Option<PathBuf>,
    },
    /// Forget every used task.
    Clear {
        /// The ledger (default: the platform's state directory; also CSS_CONFORMANCE_LEDGER)
        #[arg(long = options::LEDGER.0, value_name = "FILE")]
        ledger: Option<PathBuf>,
    },
}

/// The ledger `--ledger`, `CSS_CONFORMANCE_LEDGER` or the platform's state directory names.
fn ledger_named(file: Option<PathBuf>) -> anyhow::Result<css_conformance::ledger::Ledger> {
    file.or_else(|| {
        std::env::var_os(check::LEDGER_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .or_else(css_conformance::ledger::Ledger::default_file)
    .map(css_conformance::ledger::Ledger::at)
    .ok_or_else(|| {
        anyhow::anyhow!("no ledger: neither HOME nor XDG_STATE_HOME is set; give --ledger FILE")
    })
}

/// `tasks list`: each used task, oldest first.
pub fn list(file: Option<PathBuf>) -> anyhow::Result<u8> {
    use css_conformance::shown::inert;
    let ledger = ledger_named(file)?;
    let (entries, skipped) = ledger.entries()?;
    println!(
        "{} used task(s) in {}{}",
        entries.len(),
        ledger.file.display(),
        if skipped > 0 {
            format!(" ({skipped} line(s) that are no entry skipped)")
        } else {
            String::new()
        }
    );
    for u in entries {
        println!(
            "{}  {}  project {}  cluster {}  task {}  ({})",
            inert(&u.at),
            inert(&u.endpoint),
            inert(&u.project),
            inert(&u.cluster),
            inert(&u.task),
            inert(&u.run)
        );
    }
    Ok(CONFORMANT)
}

/// `tasks clear`: forgets every used task.
pub fn clear(file: Option<PathBuf>) -> anyhow::Result<u8> {
    let ledger = ledger_named(file)?;
    let n = ledger.clear()?;
    println!("forgot {n} used task(s) ({})", ledger.file.display());
    Ok(CONFORMANT)
}
