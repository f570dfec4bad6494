//! What the scenarios of one run share: the spec, the target, and the record of every
//! scenario. The step definitions reach the run's session through a task-local, so several
//! runs against different targets can share a process.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::exchange::{Judgement, Needs, ScenarioOutcome, Skip};
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
    /// Which real task each scenario (by `file:line`) is to use, or why it is not run.
    assignments: Mutex<std::collections::BTreeMap<String, Assignment>>,
    /// A survey: every scenario runs, taking what it needs from the target's plenty.
    survey: bool,
    /// The last status the read API gave each task (`""`: it lists no such task).
    statuses: Mutex<std::collections::HashMap<String, String>>,
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
    /// What it asked of the target.
    pub needs: Needs,
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
            assignments: Mutex::new(std::collections::BTreeMap::new()),
            survey: false,
            statuses: Mutex::new(std::collections::HashMap::new()),
            next_id: AtomicU64::new(1),
            progress: indicatif::ProgressBar::hidden(),
        }
    }

    /// The session, counting its scenarios on `progress`.
    pub fn with_progress(mut self, progress: indicatif::ProgressBar) -> Session {
        self.progress = progress;
        self
    }

    /// A session that surveys: every scenario takes what it needs from the target, whose
    /// tasks are the tool's own.
    pub fn surveying(mut self) -> Session {
        self.survey = true;
        self
    }

    /// Says which real task the scenario at `location` uses, or why it does not run.
    pub fn assign(&self, location: &str, assignment: Assignment) {
        self.assignments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(location.to_owned(), assignment);
    }

    /// The real task the scenario at `location` is to use for what it `wants`, or why it
    /// cannot run.
    pub fn task_for(&self, location: &str, wants: Wants) -> Result<String, Skip> {
        if self.survey {
            let fixtures = &self.target.fixtures;
            return match wants {
                Wants::FailedTask => self.target.take_failed_task().ok_or(Skip::NoTaskLeft),
                Wants::TaskNotFailed => fixtures
                    .not_failed_action_id
                    .clone()
                    .ok_or(Skip::NoTaskNotFailed),
            };
        }
        if !self.target.mutations_allowed() {
            return Err(Skip::Mutating);
        }
        match self
            .assignments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(location)
        {
            Some(Assignment::Task(task)) => Ok(task.clone()),
            Some(Assignment::Skip(why)) => Err(*why),
            None => Err(match wants {
                Wants::FailedTask => Skip::NoTaskLeft,
                Wants::TaskNotFailed => Skip::NoTaskNotFailed,
            }),
        }
    }

    /// The status of `task` as last read, or read now (`None`: it could not be read, which
    /// judges nothing: a target fault, said on stderr).
    pub async fn task_status(&self, task: &str) -> Option<String> {
        let known = self
            .statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(task)
            .cloned();
        match known {
            Some(status) => Some(status),
            None => self.read_task_status(task).await,
        }
    }

    /// The status of `task`, read now through the read API and remembered.
    pub async fn read_task_status(&self, task: &str) -> Option<String> {
        match self.target.task_status(&self.spec, task).await {
            Ok(status) => {
                let status = status.unwrap_or_default();
                self.statuses
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(task.to_owned(), status.clone());
                Some(status)
            }
            Err(why) => {
                tracing::warn!("target fault: the read API: {why}");
                None
            }
        }
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

    /// Why the scenario at `location` is not run, if it is planned not to.
    pub fn planned_skip(&self, location: &str) -> Option<Skip> {
        match self
            .assignments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(location)
        {
            Some(Assignment::Skip(why)) => Some(*why),
            _ => None,
        }
    }

    /// The records kept so far.
    pub fn records_snapshot(&self) -> Vec<ScenarioRecord> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The record of the scenario at `location`, once it finished.
    pub fn record_at(&self, location: &str) -> Option<ScenarioRecord> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .rev()
            .find(|r| r.location == location)
            .cloned()
    }

    /// Changes the records kept so far, e.g. to add what a later request showed of an
    /// earlier one's effect.
    pub fn amend_records(&self, amend: impl FnOnce(&mut Vec<ScenarioRecord>)) {
        amend(&mut self.records.lock().unwrap_or_else(|e| e.into_inner()));
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

/// What a scenario wants of the target's real tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    FailedTask,
    TaskNotFailed,
}

/// The real task a scenario is to use, or why it is not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    Task(String),
    Skip(Skip),
}

/// The session of the run the calling step belongs to.
pub fn current() -> Option<Arc<Session>> {
    SESSION.try_with(Arc::clone).ok()
}
