//! What a survey of the features against a conforming in-process stub shows of each scenario
//! (what it needs, what a conforming server makes of its requests: its `Role`), and what the
//! target offers them (`Facts`).

use std::collections::BTreeSet;

use crate::contract::spec::Spec;
use crate::records::judgement::{Judgement, Needs, ScenarioRecord, file_order};

/// What the survey showed of one scenario.
#[derive(Debug, Clone)]
pub struct Surveyed {
    /// `file:line`.
    pub location: String,
    pub needs: Needs,
    pub role: Role,
    /// The clauses its requests exercised on a conforming server.
    pub checks: BTreeSet<String>,
}

/// What a scenario does to a failed task, on a conforming server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It names no real task.
    Safe,
    /// It names a failed task and every request is refused (or is another method).
    Refused { other_method: bool },
    /// One of its requests may be accepted or refused (an unknown parameter).
    MayConsume,
    /// One of its requests is accepted: the task is consumed.
    Consumes,
    /// It needs a task that is not failed: one this run consumed, or a configured one.
    AfterConsumption,
    /// It sends the doors the plan gives it, on every task that carries doors.
    Doors,
    /// It sends a retry and an abort after every accepted one.
    Probes,
}

/// What the survey's records say of each scenario, in file order.
pub(crate) fn roles(spec: &Spec, records: &[ScenarioRecord]) -> Vec<Surveyed> {
    let mut out: Vec<Surveyed> = records
        .iter()
        .map(|r| {
            let accepted: Vec<&Judgement> = r
                .judgements
                .iter()
                .filter(|j| j.request.method.is_none() && j.status == 200)
                .collect();
            let role = if r.needs.doors {
                Role::Doors
            } else if r.needs.probes {
                Role::Probes
            } else if r.needs.task_not_failed {
                Role::AfterConsumption
            } else if !r.needs.failed_task {
                Role::Safe
            } else if accepted.is_empty() {
                Role::Refused {
                    other_method: r.judgements.iter().any(|j| j.request.method.is_some()),
                }
            } else if accepted.iter().any(|j| {
                spec.expectation(j.verdict.kind)
                    .outcomes
                    .iter()
                    .any(|o| o.status != 200)
            }) {
                Role::MayConsume
            } else {
                Role::Consumes
            };
            Surveyed {
                location: r.location.clone(),
                needs: r.needs,
                role,
                checks: r
                    .judgements
                    .iter()
                    .flat_map(|j| j.verdict.checked.iter().cloned())
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| file_order(&a.location).cmp(&file_order(&b.location)));
    out
}

/// What the target offers the scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub mutations: bool,
    /// How many failed tasks it has (`None`: more than any run needs: the built-in stub).
    pub failed_tasks: Option<usize>,
    /// A configured task that is not failed.
    pub task_not_failed: Option<String>,
    pub foreign_project: bool,
    pub aksk: bool,
    /// Each task's status is read around every request on it (the read API): a task's
    /// failed state before its doors is shown, not assumed.
    pub tasks_proven: bool,
}

impl Facts {
    /// Whether the failed tasks are scarce, so each must go where it judges the most.
    pub(super) fn scarce(&self) -> bool {
        self.failed_tasks.is_some()
    }
}
