//! The IDs a run works with: the caller's project and cluster, the failed tasks it may consume,
//! and the optional IDs some clauses need. The built-in stub serves exactly these.

use std::collections::VecDeque;
use std::sync::Mutex;

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
        }
    }

    /// Whether `id` names any task or cluster these fixtures know.
    pub fn knows(&self, id: &str) -> bool {
        id == self.cluster_id
            || self.failed_action_ids.iter().any(|a| a == id)
            || self.not_failed_action_id.as_deref() == Some(id)
    }
}

/// The failed tasks not yet consumed in this run; a task is handed out once.
#[derive(Debug, Default)]
pub struct TaskPool {
    tasks: Mutex<VecDeque<String>>,
}

impl TaskPool {
    pub fn new(tasks: &[String]) -> TaskPool {
        TaskPool {
            tasks: Mutex::new(tasks.iter().cloned().collect()),
        }
    }

    /// The next unconsumed failed task, or `None` when the pool is empty.
    pub fn take(&self) -> Option<String> {
        self.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_hands_out_each_task_once() {
        let pool = TaskPool::new(&["a".to_owned(), "b".to_owned()]);
        assert_eq!(pool.take().as_deref(), Some("a"));
        assert_eq!(pool.take().as_deref(), Some("b"));
        assert_eq!(pool.take(), None);
    }

    #[test]
    fn builtin_fixtures_have_distinct_failed_tasks() {
        let f = Fixtures::builtin();
        let unique: std::collections::BTreeSet<_> = f.failed_action_ids.iter().collect();
        assert_eq!(unique.len(), f.failed_action_ids.len());
        assert!(!f.knows("00000000-0000-4000-8000-000000000000"));
    }
}
