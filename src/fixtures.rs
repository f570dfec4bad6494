//! The IDs a run works with: the caller's project and cluster, the failed tasks it may consume,
//! and the optional IDs some clauses need. The built-in stub serves exactly these.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A project ID and a UUID of the observed formats that no target holds.
pub const UNKNOWN_PROJECT_ID: &str = "00000000000040008000000000005e57";
pub const UNKNOWN_UUID: &str = "00000000-5e57-4000-8000-000000000000";

/// IDs known to exist on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixtures {
    pub project_id: String,
    pub cluster_id: String,
    /// Tasks in the FAILED state; each mutating scenario consumes one.
    pub failed_action_ids: Vec<String>,
    /// A task that exists but is not failed (EXTENDED clauses).
    pub not_failed_action_id: Option<String>,
    /// A project the credentials may not act on.
    pub foreign_project_id: Option<String>,
    /// Whether the target also holds the generated family of failed tasks (the built-in stub
    /// does), so that fuzzing can spend as many failed tasks as it has cases.
    pub generated_failed_tasks: bool,
}

/// How many generated failed tasks the built-in stub holds.
pub(crate) const GENERATED_FAILED_TASKS: u64 = 1 << 22;
const GENERATED_PREFIX: &str = "fa11ed00-0000-4000-8000-";

/// The `n`th generated failed task.
pub(crate) fn generated_failed_task(n: u64) -> String {
    format!("{GENERATED_PREFIX}{n:012x}")
}

/// The index of a generated failed task, if `id` is one.
pub fn generated_failed_task_index(id: &str) -> Option<u64> {
    let hex = id.strip_prefix(GENERATED_PREFIX)?;
    if hex.len() != 12 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u64::from_str_radix(hex, 16)
        .ok()
        .filter(|n| *n < GENERATED_FAILED_TASKS)
}

impl Fixtures {
    /// The fixtures of the built-in stub: the vendor page's example IDs, plus enough failed
    /// tasks for every scenario of a run.
    pub fn builtin() -> Fixtures {
        let mut failed = vec!["bcdb711c-a7f0-4007-b8ee-9f13c05f8326".to_owned()];
        failed.extend((1..256u32).map(|i| format!("bcdb711c-a7f0-4007-b8ee-{i:012x}")));
        Fixtures {
            project_id: "6204a5bd270343b5885144cf9c8c158d".to_owned(),
            cluster_id: "ea244205-d641-45d9-9dcb-ab2236bcd07e".to_owned(),
            failed_action_ids: failed,
            not_failed_action_id: Some("5ba5e5c1-0000-4000-8000-00000000d0e5".to_owned()),
            foreign_project_id: Some("0f0f0f0f0f0f4f0f8f0f0f0f0f0f0f0f".to_owned()),
            generated_failed_tasks: true,
        }
    }

    /// Whether `id` names any task or cluster these fixtures know.
    pub fn knows(&self, id: &str) -> bool {
        self.knows_given(id, |t| self.failed_action_ids.iter().any(|a| a == t))
    }

    /// `knows`, with `listed` saying whether an ID is one of `failed_action_ids` (a caller
    /// that asks often looks them up in an index of its own).
    pub(crate) fn knows_given(&self, id: &str, listed: impl Fn(&str) -> bool) -> bool {
        id == self.cluster_id
            || self.not_failed_action_id.as_deref() == Some(id)
            || self.failed_given(id, listed)
    }

    /// Whether `id` is a failed task of these fixtures: listed (`listed` says), or of the
    /// generated family where the target holds it.
    pub(crate) fn failed_given(&self, id: &str, listed: impl Fn(&str) -> bool) -> bool {
        listed(id) || (self.generated_failed_tasks && generated_failed_task_index(id).is_some())
    }
}

/// The failed tasks not yet consumed in this run; a task is handed out once. The listed
/// tasks come first, then (where the target holds them) the generated family.
#[derive(Debug, Default)]
pub(crate) struct TaskPool {
    tasks: Mutex<VecDeque<String>>,
    generated: Option<AtomicU64>,
    /// The task kept for requests a conforming server refuses, once one was asked for.
    refusals: Mutex<Option<String>>,
    /// The task handed out last.
    last: Mutex<Option<String>>,
}

impl TaskPool {
    pub fn new(fixtures: &Fixtures) -> TaskPool {
        TaskPool {
            tasks: Mutex::new(fixtures.failed_action_ids.iter().cloned().collect()),
            generated: fixtures.generated_failed_tasks.then(|| AtomicU64::new(0)),
            refusals: Mutex::new(None),
            last: Mutex::new(None),
        }
    }

    /// The next unconsumed failed task, or `None` when the pool is empty.
    pub fn take(&self) -> Option<String> {
        let listed = self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front();
        let task = match listed {
            Some(task) => Some(task),
            None => {
                let n = self.generated.as_ref()?.fetch_add(1, Ordering::Relaxed);
                (n < GENERATED_FAILED_TASKS).then(|| generated_failed_task(n))
            }
        };
        if let Some(t) = &task {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(t.clone());
        }
        task
    }

    /// Whether `task` is one of the pool's that was not handed out yet.
    pub(crate) fn holds(&self, task: &str) -> bool {
        self.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|t| t == task)
    }

    /// Forgets `task` as the task kept for refusals, if it is that one (a request on it was
    /// accepted, so it may no longer be failed).
    pub(crate) fn spent_refusal_task(&self, task: &str) {
        let mut kept = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        if kept.as_deref() == Some(task) {
            *kept = None;
        }
    }

    /// The task for requests a conforming server refuses, which leave it as it is: where
    /// failed tasks are few, the same one every time, taken from the pool the first time; when the pool is empty, the task
    /// handed out last (its state does not change what such a request is judged by: a
    /// conforming server looks at retry_mode before the task).
    pub(crate) fn refusal_task(&self) -> Option<String> {
        // Where tasks are without number (the built-in stub's), each refusal has its own:
        // a server that wrongly acts on one then spoils no other.
        if self.generated.is_some() {
            return self.take();
        }
        let mut kept = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        if kept.is_none() {
            *kept = self
                .take()
                .or_else(|| self.last.lock().unwrap_or_else(|e| e.into_inner()).clone());
        }
        kept.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_hands_out_each_task_once() {
        let mut f = Fixtures::builtin();
        f.failed_action_ids = vec!["a".to_owned(), "b".to_owned()];
        f.generated_failed_tasks = false;
        let pool = TaskPool::new(&f);
        assert_eq!(pool.take().as_deref(), Some("a"));
        assert_eq!(pool.take().as_deref(), Some("b"));
        assert_eq!(pool.take(), None);
    }

    #[test]
    fn the_generated_family_follows_the_listed_tasks() {
        let mut f = Fixtures::builtin();
        f.failed_action_ids = vec!["a".to_owned()];
        let pool = TaskPool::new(&f);
        assert_eq!(pool.take().as_deref(), Some("a"));
        let first = pool.take().unwrap();
        assert_eq!(generated_failed_task_index(&first), Some(0));
        assert_eq!(generated_failed_task_index(&pool.take().unwrap()), Some(1));
        assert_eq!(
            generated_failed_task_index("fa11ed00-0000-4000-8000-00000000000G"),
            None
        );
    }

    #[test]
    fn builtin_fixtures_have_distinct_failed_tasks() {
        let f = Fixtures::builtin();
        let unique: std::collections::BTreeSet<_> = f.failed_action_ids.iter().collect();
        assert_eq!(unique.len(), f.failed_action_ids.len());
        assert!(!f.knows("00000000-0000-4000-8000-000000000000"));
    }
}
