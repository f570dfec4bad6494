//! The plan as a conforming server would have it run, in lines (`--plan`): which task carries
//! which scenarios, in order, which get no failed task, and how many tasks pin a door.

use std::collections::{BTreeMap, BTreeSet};

use crate::contract::doors::Door;
use crate::contract::spec::Spec;
use crate::fixtures::Fixtures;

use super::plan::Plan;
use super::run_state::Assignment;
use super::survey::{Facts, Role, Surveyed};
use super::task_plan::Chains;

/// Scenarios of one file and one role, in a row on a task: (file, role, lines).
type Group = (String, String, Vec<String>);

/// The plan as a conforming server would have it run, in lines: which task carries which
/// scenarios, in order, and which scenarios get no failed task.
pub fn describe(
    spec: &Spec,
    plan: &Plan,
    facts: &Facts,
    survey: &[Surveyed],
    covered: &BTreeSet<String>,
    doors: &[Door],
    fixtures: &Fixtures,
) -> Vec<String> {
    let mut chains =
        Chains::new(spec, plan, facts, covered.clone(), doors.to_vec(), fixtures).predicting();
    let by_location: BTreeMap<&str, &Surveyed> =
        survey.iter().map(|s| (s.location.as_str(), s)).collect();
    let limit = facts.failed_tasks.unwrap_or(usize::MAX);
    let mut n = 0;
    let mut take = || {
        n += 1;
        (n <= limit).then(|| format!("failed task {n}"))
    };
    // Per task, its scenarios in order, consecutive ones of a file and a role together.
    let mut tasks: Vec<(String, Vec<Group>)> = Vec::new();
    while let Some((location, assignment)) = chains.next(&mut take) {
        let (Assignment::Task(task), Some(s)) = (assignment, by_location.get(location.as_str()))
        else {
            continue;
        };
        let doors_here;
        let role = match s.role {
            Role::Refused { .. } => "refused",
            Role::MayConsume => "may consume it",
            Role::Consumes => "consumes it",
            Role::AfterConsumption => "after",
            Role::Doors => {
                doors_here = format!("doors: {} in all", chains.current_group().len());
                doors_here.as_str()
            }
            Role::Probes => "a retry and an abort after",
            Role::Safe => "",
        };
        if tasks.last().is_none_or(|(t, _)| *t != task) {
            tasks.push((task, Vec::new()));
        }
        let (file, line) = location.rsplit_once(':').unwrap_or((location.as_str(), ""));
        if let Some((_, groups)) = tasks.last_mut() {
            match groups.last_mut() {
                Some((f, r, lines)) if f == file && r == role => lines.push(line.to_owned()),
                _ => groups.push((file.to_owned(), role.to_owned(), vec![line.to_owned()])),
            }
        }
        chains.predict(s);
    }
    let mut lines: Vec<String> = tasks
        .into_iter()
        .map(|(task, groups)| {
            let groups: Vec<String> = groups
                .into_iter()
                .map(|(file, role, lines)| format!("{file}:{} ({role})", lines.join(",")))
                .collect();
            format!("{task}: {}", groups.join("; "))
        })
        .collect();
    lines.extend(leftover_lines(chains, doors, facts));
    lines
}

/// The lines of the plan after its tasks': the scenarios no task carries, by why, and how
/// many tasks would pin a door that acts.
fn leftover_lines(mut chains: Chains, doors: &[Door], facts: &Facts) -> Vec<String> {
    let mut left: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (location, assignment) in chains.leftovers() {
        let why = match assignment {
            Assignment::Task(t) => format!("on {t}"),
            Assignment::Skip(why) => why.to_string(),
        };
        left.entry(why).or_default().push(location);
    }
    let mut lines: Vec<String> = left
        .into_iter()
        .map(|(why, locations)| format!("{why}: {}", locations.join(", ")))
        .collect();
    // With the read API each door is seen for itself: no halving to speak of.
    if !doors.is_empty() && facts.failed_tasks.is_some() && !facts.tasks_proven {
        lines.push(format!(
            "if a door acts (the request after the doors refused), the next failed tasks halve the suspects: {} tasks pin one door of {} without the read API",
            1 + doors.len().next_power_of_two().trailing_zeros(),
            doors.len()
        ));
    }
    lines
}
