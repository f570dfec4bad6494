//! What the scenarios of one run share: the spec, the target, and the record of every
//! scenario. The step definitions reach the run's session through a task-local, so several
//! runs against different targets can share a process.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::exchange::{Judgement, ScenarioOutcome};
use crate::spec::Spec;
use crate::target::Target;

tokio::task_local! {
    static SESSION: Arc<Session>;
}

/// What the scenarios of one run share.
#[derive(Debug)]
pub struct Session {
    pub spec: Arc<Spec>,
    pub target: Target,
    records: Mutex<Vec<ScenarioRecord>>,
    next_id: AtomicU64,
    /// Advanced once per scenario finished (hidden unless the caller shows it).
    progress: indicatif::ProgressBar,
}

/// One scenario of a run, with every judgement it made.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRecord {
    pub feature: String,
    pub scenario: String,
    /// `file:line` of the scenario (the Examples row for an outline).
    pub location: String,
    pub clauses: Vec<String>,
    pub outcome: ScenarioOutcome,
    pub judgements: Vec<Judgement>,
    /// From the scenario's start to its end.
    #[serde(skip)]
    pub duration: std::time::Duration,
}

impl Session {
    pub fn new(spec: Arc<Spec>, target: Target) -> Session {
        Session {
            spec,
            target,
            records: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            progress: indicatif::ProgressBar::hidden(),
        }
    }

    /// The session, counting its scenarios on `progress`.
    pub fn with_progress(mut self, progress: indicatif::ProgressBar) -> Session {
        self.progress = progress;
        self
    }

    /// A well-formed UUID that names nothing on the target.
    pub fn synthetic_id(&self) -> String {
        loop {
            let n = self.next_id.fetch_add(1, Ordering::Relaxed);
            let id = format!("{:08x}-5e57-4000-8000-{n:012x}", n & 0xffff_ffff);
            if !self.target.fixtures.knows(&id) {
                return id;
            }
        }
    }

    /// Keeps the record of a finished scenario.
    pub fn record(&self, record: ScenarioRecord) {
        self.progress.inc(1);
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }

    /// The records kept so far, taken out; the progress bar is done.
    pub fn take_records(&self) -> Vec<ScenarioRecord> {
        self.progress.finish_and_clear();
        std::mem::take(&mut *self.records.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `run` with this as the current session of every step it runs.
    pub async fn scope<F: Future>(self: Arc<Session>, run: F) -> F::Output {
        SESSION.scope(self, run).await
    }
}

/// The session of the run the calling step belongs to.
pub fn current() -> Option<Arc<Session>> {
    SESSION.try_with(Arc::clone).ok()
}
