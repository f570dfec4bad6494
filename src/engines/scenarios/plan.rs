//! Which scenarios run at once, which run one at a time on the target's failed tasks, and which
//! are not run (and why), from the survey and the target's facts.

use std::collections::BTreeMap;

use crate::records::judgement::Skip;

use super::survey::{Facts, Surveyed};

/// Which scenarios run at once, which run one at a time on the target's failed tasks, and
/// which are not run (and why).
#[derive(Debug, Clone)]
pub struct Plan {
    pub skipped: BTreeMap<String, Skip>,
    /// Run at once, with the task (if any) each is to use.
    pub at_once: BTreeMap<String, Option<String>>,
    /// Run one at a time, in the order `Chains` decides.
    pub chained: Vec<Surveyed>,
}

impl Plan {
    pub fn new(survey: &[Surveyed], facts: &Facts) -> Plan {
        let mut plan = Plan {
            skipped: BTreeMap::new(),
            at_once: BTreeMap::new(),
            chained: Vec::new(),
        };
        let no_tasks = facts.failed_tasks == Some(0);
        for s in survey {
            let n = &s.needs;
            let skip = if n.aksk && !facts.aksk {
                Some(Skip::NeedsAkSk)
            } else if n.foreign_project && !facts.foreign_project {
                Some(Skip::NoForeignProject)
            } else if (n.failed_task || n.task_not_failed) && !facts.mutations {
                Some(Skip::Mutating)
            } else if n.failed_task && no_tasks {
                Some(Skip::NoTaskLeft)
            } else {
                None
            };
            match skip {
                Some(why) => {
                    plan.skipped.insert(s.location.clone(), why);
                }
                // A task that is not failed: one this run consumes, if it has failed tasks.
                None if n.task_not_failed && no_tasks => match &facts.task_not_failed {
                    Some(task) => {
                        plan.at_once.insert(s.location.clone(), Some(task.clone()));
                    }
                    None => {
                        plan.skipped
                            .insert(s.location.clone(), Skip::NoTaskNotFailed);
                    }
                },
                None if n.failed_task || n.task_not_failed => plan.chained.push(s.clone()),
                None => {
                    plan.at_once.insert(s.location.clone(), None);
                }
            }
        }
        plan
    }
}
