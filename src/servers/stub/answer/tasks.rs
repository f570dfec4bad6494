//! The stub's own tasks: the failed and the not failed ones the fixtures give (and the
//! generated failed tasks, a bit each), what each request did to them, and effects that land
//! late.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::contract::classify::TaskState;
use crate::fixtures::{self, Fixtures};
use crate::servers::stub::variant::{Variant, Variants};

/// The state of the stub's own tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Task {
    Failed,
    Retrying,
    Aborted,
    Running,
}

/// The listed tasks by state, and which generated failed tasks have been spent (a bit each,
/// so the stub's memory does not grow with the number of requests).
pub(super) struct Tasks {
    pub(super) listed: BTreeMap<String, Task>,
    pub(super) generated_spent: Vec<u64>,
    /// Effects still to land: when, on which task, whether as an abort.
    pub(super) late: Vec<(Instant, String, bool)>,
    /// Each listed task's state before its last change, and when it changed (for a read API
    /// that shows a change late).
    pub(super) before: BTreeMap<String, (Task, Instant)>,
    /// How many times each listed task was retried.
    pub(super) executed: BTreeMap<String, u32>,
    /// The listed tasks that are AZ switchover tasks (the read API lists them apart).
    pub(super) az: std::collections::BTreeSet<String>,
    /// The listed tasks in the order the read API lists them: as the fixtures give them.
    pub(super) order: Vec<String>,
}

impl Tasks {
    pub(super) fn new(fixtures: &Fixtures, variants: Variants) -> Tasks {
        let mut listed: BTreeMap<String, Task> = fixtures
            .failed_action_ids
            .iter()
            .map(|id| (id.clone(), Task::Failed))
            .collect();
        if let Some(id) = &fixtures.not_failed_action_id {
            listed.insert(id.clone(), Task::Running);
        }
        // Every second failed task is an AZ switchover task, where a variant says so.
        let az = fixtures
            .failed_action_ids
            .iter()
            .skip(1)
            .step_by(2)
            .filter(|_| variants.has(Variant::AzMigration))
            .cloned()
            .collect();
        let order = fixtures
            .failed_action_ids
            .iter()
            .chain(&fixtures.not_failed_action_id)
            .cloned()
            .collect();
        Tasks {
            listed,
            order,
            late: Vec::new(),
            before: BTreeMap::new(),
            executed: BTreeMap::new(),
            az,
            generated_spent: if fixtures.generated_failed_tasks {
                vec![0; (fixtures::GENERATED_FAILED_TASKS / 64) as usize]
            } else {
                Vec::new()
            },
        }
    }

    /// The state of `id`, if the stub holds such a task.
    pub(super) fn state(&self, id: &str) -> Option<TaskState> {
        if let Some(task) = self.listed.get(id) {
            return Some(if *task == Task::Failed {
                TaskState::Failed
            } else {
                TaskState::NotFailed
            });
        }
        let n = fixtures::generated_failed_task_index(id)?;
        let word = self.generated_spent.get((n / 64) as usize)?;
        Some(if word & (1 << (n % 64)) == 0 {
            TaskState::Failed
        } else {
            TaskState::NotFailed
        })
    }

    /// Lands the late effects that are due.
    pub(super) fn land(&mut self) {
        let now = Instant::now();
        let due: Vec<(String, bool)> = self
            .late
            .iter()
            .filter(|(at, _, _)| *at <= now)
            .map(|(_, id, abort)| (id.clone(), *abort))
            .collect();
        self.late.retain(|(at, _, _)| *at > now);
        for (id, abort) in due {
            if self.state(&id) == Some(TaskState::Failed) {
                self.spend(&id, abort);
            }
        }
    }

    /// The state of a listed task as a read API `lag` late shows it.
    pub(super) fn shown(&self, id: &str, state: Task, lag: Duration) -> Task {
        match self.before.get(id) {
            Some((old, at)) if at.elapsed() < lag => *old,
            _ => state,
        }
    }

    /// The task a malformed ID names, as a careless server finds it: the ID in lower case and
    /// without the spaces around it.
    pub(super) fn named(&self, id: &str) -> Option<String> {
        let id = id.trim().to_ascii_lowercase();
        self.state(&id).is_some().then_some(id)
    }

    /// The first failed task the read API lists after `id` (round the listing), if any.
    pub(super) fn failed_neighbour(&self, id: &str) -> Option<String> {
        let at = self.order.iter().position(|t| t == id).unwrap_or(0);
        self.order
            .iter()
            .cycle()
            .skip(at + 1)
            .take(self.order.len())
            .find(|t| *t != id && self.listed.get(*t) == Some(&Task::Failed))
            .cloned()
    }

    /// Takes a failed task out of the failed state.
    pub(super) fn spend(&mut self, id: &str, abort: bool) {
        if let Some(state) = self.listed.get_mut(id) {
            self.before.insert(id.to_owned(), (*state, Instant::now()));
            *state = if abort { Task::Aborted } else { Task::Retrying };
            if !abort {
                *self.executed.entry(id.to_owned()).or_insert(0) += 1;
            }
        } else if let Some(n) = fixtures::generated_failed_task_index(id)
            && let Some(word) = self.generated_spent.get_mut((n / 64) as usize)
        {
            *word |= 1 << (n % 64);
        }
    }
}
