//! What the scenarios of one run share: the spec, the target, and the record of every
//! scenario. The step definitions reach the run's state through a task-local, so several
//! runs against different targets can share a process.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::contract::doors::Door;
use crate::contract::request::Request;
use crate::contract::spec::{Kind, Spec, TaskRead};
use crate::records::effects::groups::DoorId;
use crate::records::judgement::{ScenarioOutcome, ScenarioRecord, Skip};
use crate::records::suspect::Suspicion;
use crate::transport::target::Target;

use super::cluster_watch::ClusterWatch;

tokio::task_local! {
    static RUN_STATE: Arc<RunState>;
}

/// What went to a task since its last settle wait: refusals of any kind, or only requests in
/// a form the page does not define (which a server may serve instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsettled {
    ByRefusals,
    ByForms,
}

/// What the scenarios of one run share.
#[derive(Debug)]
pub struct RunState {
    pub spec: Arc<Spec>,
    pub target: Target,
    records: Mutex<Vec<ScenarioRecord>>,
    /// Which real task each scenario (by `file:line`) is to use, or why it is not run.
    assignments: Mutex<std::collections::BTreeMap<String, Assignment>>,
    /// A survey: every scenario runs, taking what it needs from the target's plenty.
    survey: bool,
    /// What the read API last showed of each task (status `""`: it lists no such task).
    statuses: Mutex<std::collections::HashMap<String, TaskRead>>,
    /// The whole cluster, read around each request that may act (with the read API).
    pub(crate) watch: ClusterWatch,
    next_id: AtomicU64,
    /// What the preflight could not tell of the fixtures, to be said if the run finds a
    /// fixture not usable (a project or a cluster answered as another's may be wrong).
    suspicion: Mutex<Option<Suspicion>>,
    /// The number of the next request sent.
    next_sequence: AtomicU64,
    /// The doors of the run, and those the scenario that sends doors is to send next.
    doors: Mutex<(Vec<Door>, Vec<DoorId>)>,
    /// The requests sent on each real task, so that none is sent twice.
    sent: Mutex<std::collections::HashMap<String, Vec<Request>>>,
    /// Real tasks a refused request was sent on since the last wait for effects to land.
    unsettled: Mutex<std::collections::HashMap<String, Unsettled>>,
    /// Whether the target serves each form door (by name) as the operation.
    served_forms: Mutex<std::collections::HashMap<String, bool>>,
    /// The clause that judges the effect of the last refused request on each real task.
    last_clause: Mutex<std::collections::HashMap<String, String>>,
    /// Advanced once per scenario finished (hidden unless the caller shows it).
    progress: indicatif::ProgressBar,
}

impl RunState {
    pub fn new(spec: Arc<Spec>, target: Target) -> RunState {
        RunState {
            spec,
            target,
            records: Mutex::new(Vec::new()),
            assignments: Mutex::new(std::collections::BTreeMap::new()),
            survey: false,
            statuses: Mutex::new(std::collections::HashMap::new()),
            watch: ClusterWatch::default(),
            next_id: AtomicU64::new(1),
            suspicion: Mutex::new(None),
            next_sequence: AtomicU64::new(0),
            doors: Mutex::new((Vec::new(), Vec::new())),
            sent: Mutex::new(std::collections::HashMap::new()),
            unsettled: Mutex::new(std::collections::HashMap::new()),
            served_forms: Mutex::new(std::collections::HashMap::new()),
            last_clause: Mutex::new(std::collections::HashMap::new()),
            progress: indicatif::ProgressBar::hidden(),
        }
    }

    /// The run state, counting its scenarios on `progress`.
    pub(crate) fn with_progress(mut self, progress: indicatif::ProgressBar) -> RunState {
        self.progress = progress;
        self
    }

    /// A run state that surveys: every scenario takes what it needs from the target, whose
    /// tasks are the tool's own.
    pub(crate) fn surveying(mut self) -> RunState {
        self.survey = true;
        self
    }

    /// Says which real task the scenario at `location` uses, or why it does not run.
    pub(crate) fn assign(&self, location: &str, assignment: Assignment) {
        self.assignments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(location.to_owned(), assignment);
    }

    /// The real task the scenario at `location` is to use for what it `wants`, or why it
    /// cannot run.
    pub(crate) fn task_for(&self, location: &str, wants: Wants) -> Result<String, Skip> {
        if self.survey {
            let fixtures = self.target.fixtures();
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

    /// What the read API showed of `task` last, or shows now (`None`: it could not be read,
    /// which judges nothing: a target fault, said on stderr).
    pub(crate) async fn task_status(&self, task: &str) -> Option<TaskRead> {
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

    /// Notes that a refused `kind` request goes to `task` next; whether the clause that judges
    /// its effect differs from the one of the refused request before it on the task.
    pub(crate) fn next_clause(&self, task: &str, kind: Kind) -> bool {
        let spec = &self.spec;
        let clause = spec.effect_clause(kind).to_owned();
        let mut last = self.last_clause.lock().unwrap_or_else(|e| e.into_inner());
        match last.insert(task.to_owned(), clause.clone()) {
            Some(before) => before != clause,
            None => false,
        }
    }

    /// Whether a status of `task` read earlier is kept (the next would not be read anew).
    pub(crate) fn knows_status(&self, task: &str) -> bool {
        self.statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(task)
    }

    /// Forgets the status last read of `task`, so that the next is read anew.
    pub(crate) fn forget_task_status(&self, task: &str) {
        self.statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(task);
    }

    /// What the read API shows of `task` now, remembered.
    pub(crate) async fn read_task_status(&self, task: &str) -> Option<TaskRead> {
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
                self.target.say_read_fault("the read API", &why);
                None
            }
        }
    }

    /// The number of the request about to be sent: the run's requests in the order sent.
    pub(crate) fn next_sequence(&self) -> u64 {
        self.next_sequence.fetch_add(1, Ordering::Relaxed)
    }

    /// Keeps what the preflight could not tell of the fixtures.
    pub(crate) fn suspect(&self, suspicion: Suspicion) {
        *self.suspicion.lock().unwrap_or_else(|e| e.into_inner()) = Some(suspicion);
    }

    /// What the preflight could not tell of the fixtures, if anything (and nothing since
    /// told it).
    pub(crate) fn suspicion(&self) -> Option<Suspicion> {
        self.suspicion
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The run showed what the preflight could not tell: its project and cluster are the
    /// caller's.
    pub(crate) fn clear_suspicion(&self) {
        *self.suspicion.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Whether the run found the target serving the form door called `name` as the operation.
    pub(crate) fn served_form(&self, name: &str) -> bool {
        self.served_forms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
            .unwrap_or(false)
    }

    /// Whether the target serves `door`'s form as the operation, asked once per door where
    /// the answer costs nothing: on a well-formed task ID that names nothing, the vendor's
    /// refusal of an unknown task says the form reached the operation.
    pub(crate) async fn serves(&self, door: &Door) -> bool {
        if let Some(known) = self
            .served_forms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&door.name)
        {
            return *known;
        }
        let unknown = self.synthetic_id();
        let request = door.request(self.target.fixtures(), &unknown, &unknown);
        let served = match self.target.send(&self.spec, &request).await {
            Ok(r) => {
                let code = crate::contract::oracle::error_code(&r);
                self.spec
                    .expectation(crate::contract::spec::Kind::UnknownTask)
                    .is_refusal(&self.spec, r.status, code.as_deref())
            }
            Err(_) => false,
        };
        self.served_forms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(door.name.clone(), served);
        served
    }

    /// A well-formed UUID that names nothing on the target.
    pub(crate) fn synthetic_id(&self) -> String {
        loop {
            let n = self.next_id.fetch_add(1, Ordering::Relaxed);
            let id = format!("{:08x}-5e57-4000-8000-{n:012x}", n & 0xffff_ffff);
            if !self.target.fixtures().knows(&id) {
                return id;
            }
        }
    }

    /// Keeps the record of a finished scenario. A scenario run again (on another failed task)
    /// adds to its record: its judgements, its time, and the worse outcome.
    pub fn record(&self, record: ScenarioRecord) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        match records.iter_mut().find(|r| r.location == record.location) {
            Some(kept) => {
                kept.judgements.extend(record.judgements);
                kept.duration += record.duration;
                kept.needs = record.needs;
                if outcome_rank(&record.outcome) > outcome_rank(&kept.outcome) {
                    kept.outcome = record.outcome;
                }
            }
            None => {
                self.progress.inc(1);
                records.push(record);
            }
        }
    }

    /// Sets the run's doors (and which of them the next doors scenario sends).
    pub(crate) fn set_doors(&self, doors: Vec<Door>) {
        let group = (0..doors.len()).collect();
        *self.doors.lock().unwrap_or_else(|e| e.into_inner()) = (doors, group);
    }

    /// Says which doors the next doors scenario sends.
    pub(crate) fn set_door_group(&self, group: Vec<DoorId>) {
        self.doors.lock().unwrap_or_else(|e| e.into_inner()).1 = group;
    }

    /// The doors the next doors scenario sends, in order.
    pub(crate) fn door_group(&self) -> Vec<(DoorId, Door)> {
        let doors = self.doors.lock().unwrap_or_else(|e| e.into_inner());
        let mut group: Vec<(DoorId, Door)> = doors
            .1
            .iter()
            .filter_map(|&i| doors.0.get(i).map(|d| (i, d.clone())))
            .collect();
        crate::contract::doors::sending_order(&self.spec, &mut group);
        group
    }

    /// Notes that `request` is sent on the real `task`; `false` if it was already.
    pub(crate) fn first_send(&self, task: &str, request: &Request) -> bool {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let on_task = sent.entry(task.to_owned()).or_default();
        if on_task.contains(request) {
            return false;
        }
        on_task.push(request.clone());
        true
    }

    /// Notes that a refused request went to `task`: an effect it had may land late.
    pub(crate) fn unsettle(&self, task: &str, by: Unsettled) {
        let mut unsettled = self.unsettled.lock().unwrap_or_else(|e| e.into_inner());
        let was = unsettled.entry(task.to_owned()).or_insert(by);
        // A refusal of another kind than a form's outweighs the forms'.
        if by == Unsettled::ByRefusals {
            *was = by;
        }
    }

    /// Waits the target's settle period if a refused request went to `task` since the last
    /// wait, so that whatever it did has landed; whether it waited. A request in a form the
    /// page does not define (`for_a_form`) waits for the other refusals only: the forms go
    /// one after the other on a task, and the witness after them waits for theirs.
    pub async fn settle(&self, task: &str, for_a_form: bool) -> bool {
        let waits = {
            let mut unsettled = self.unsettled.lock().unwrap_or_else(|e| e.into_inner());
            match unsettled.get(task) {
                Some(Unsettled::ByForms) if for_a_form => false,
                Some(_) => unsettled.remove(task).is_some(),
                None => false,
            }
        };
        let period = self.target.settle_period();
        if waits && !period.is_zero() {
            tokio::time::sleep(period).await;
        }
        waits
    }

    /// The status of `task` once it stops changing: read until two reads a poll apart agree
    /// and the task is out of the failed state, or the settle period has passed (a read API
    /// may show a change late).
    pub(crate) async fn settled_task_status(&self, task: &str) -> Option<TaskRead> {
        let period = self.target.settle_period();
        let poll = (period / 5).max(std::time::Duration::from_millis(50));
        let deadline = tokio::time::Instant::now() + period;
        let mut last = self.read_task_status(task).await?;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(poll).await;
            let now = self.read_task_status(task).await?;
            if now == last && !self.spec.read_api.is_failed(&now.status) {
                break;
            }
            last = now;
        }
        Some(last)
    }

    /// Why the scenario at `location` is not run, if it is planned not to.
    pub(crate) fn planned_skip(&self, location: &str) -> Option<Skip> {
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
    pub(crate) fn records_snapshot(&self) -> Vec<ScenarioRecord> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The record of the scenario at `location`, once it finished.
    pub(crate) fn record_at(&self, location: &str) -> Option<ScenarioRecord> {
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
    pub(crate) fn amend_records(&self, amend: impl FnOnce(&mut Vec<ScenarioRecord>)) {
        amend(&mut self.records.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// The records kept so far, taken out in the order the scenarios finished; the progress
    /// bar is done.
    pub(crate) fn take_records(&self) -> Vec<ScenarioRecord> {
        self.progress.finish_and_clear();
        std::mem::take(&mut *self.records.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The records, taken out in file order (a scenario run twice keeps its order), so that
    /// every report lists them alike from run to run.
    pub(crate) fn take_records_in_file_order(&self) -> Vec<ScenarioRecord> {
        let mut records = self.take_records();
        records.sort_by(|a, b| a.file_order().cmp(&b.file_order()));
        records
    }

    /// Runs `run` with this as the current run state of every step it runs.
    pub async fn scope<F: Future>(self: Arc<RunState>, run: F) -> F::Output {
        RUN_STATE.scope(self, run).await
    }
}

/// How bad an outcome is, for a scenario run more than once.
fn outcome_rank(outcome: &ScenarioOutcome) -> u8 {
    match outcome {
        ScenarioOutcome::Skipped(_) => 0,
        ScenarioOutcome::Passed => 1,
        ScenarioOutcome::Unjudged(_) => 2,
        ScenarioOutcome::NoAnswer(_) => 3,
        ScenarioOutcome::Failed(_) => 4,
    }
}

/// What a scenario wants of the target's real tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wants {
    FailedTask,
    TaskNotFailed,
}

/// The real task a scenario is to use, or why it is not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    Task(String),
    Skip(Skip),
}

/// The state of the run the calling step belongs to.
pub fn current() -> Option<Arc<RunState>> {
    RUN_STATE.try_with(Arc::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Fixtures;
    use crate::transport::target::Auth;

    #[test]
    fn records_come_out_in_file_order_whatever_order_they_finished_in() {
        let target = Target::new("t", "http://127.0.0.1:9", Auth::None, Fixtures::builtin())
            .expect("a target");
        let run = RunState::new(Arc::new(Spec::embedded()), target);
        for location in ["b.feature:3", "a.feature:10", "a.feature:9", "b.feature:1"] {
            run.record(ScenarioRecord::sample(location));
        }
        let order: Vec<String> = run
            .take_records_in_file_order()
            .into_iter()
            .map(|r| r.location)
            .collect();
        assert_eq!(
            order,
            ["a.feature:9", "a.feature:10", "b.feature:1", "b.feature:3"]
        );
    }
}
