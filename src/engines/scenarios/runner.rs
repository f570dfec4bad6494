//! Running the features against a target: one cucumber run with the step definitions of
//! `steps`, whose scenarios reach the run's `RunState` (spec, target, records).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use cucumber::gherkin;
use cucumber::tag::Ext as _;

use crate::config::profile::AuthMethod;
use crate::contract::coverage;
use crate::contract::doors;
use crate::contract::spec::Spec;
pub use crate::engines::scenarios::cucumber_run::SuiteError;
use crate::engines::scenarios::cucumber_run::{Outputs, cucumber_run, only};
use crate::engines::scenarios::describe::describe;
use crate::engines::scenarios::plan::Plan;
use crate::engines::scenarios::run_state::{Assignment, RunState};
use crate::engines::scenarios::survey::{Facts, Role, Surveyed, roles};
use crate::engines::scenarios::task_plan;
use crate::engines::targets;
use crate::fixtures::Fixtures;
use crate::records::judgement::ScenarioOutcome;
use crate::records::judgement::{Judgement, ScenarioRecord};
use crate::records::suspect::Suspicion;
use crate::servers::stub::Deviation;
use crate::transport::target::Auth;

use crate::settings::{Flag, flag};

const READ_API: &Flag = flag("read_api");

/// How to run.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    /// Scenarios in flight at once.
    pub concurrency: usize,
    /// Where to write cucumber's JSON report (the Cucumber JSON format), if anywhere.
    pub cucumber_json: Option<PathBuf>,
    /// Print cucumber's own step-by-step output to stdout.
    pub console: bool,
    /// Run only the scenarios whose tags (with their feature's and rule's) match.
    pub tags: Option<gherkin::tagexpr::TagOperation>,
}

impl Default for ScenarioOptions {
    fn default() -> Self {
        ScenarioOptions {
            concurrency: 8,
            cucumber_json: None,
            console: false,
            tags: None,
        }
    }
}

/// The result of a run.
#[derive(Debug)]
pub struct Run {
    /// What the target is called in reports.
    pub target: String,
    pub records: Vec<ScenarioRecord>,
    /// Whether cucumber counted any failed, undefined or skipped step, or a parse error.
    pub execution_failed: bool,
    /// What each door of a failed task was judged to have done.
    pub doors: Vec<crate::records::effects::DoorResult>,
    /// What the run showed of the user's fixtures (a task not failed when it began), and what
    /// it could not decide (fixture or server?).
    pub fixture_notes: Vec<String>,
    /// Of those, what a verdict left incomplete by them is the user's to settle (exit 2): a
    /// fixture found not usable, or a refusal only another task or the read API can tell the
    /// fixture's from the server's.
    pub fixture_errors: Vec<String>,
}

/// The cluster watch's judgements, each on the scenario whose request it judged: one that
/// found a task acted on that the run did not name fails a scenario that had passed.
fn add_watched(records: &mut [ScenarioRecord], watched: Vec<(String, Judgement)>) {
    for (location, judgement) in watched {
        let Some(record) = records.iter_mut().find(|r| r.location == location) else {
            continue;
        };
        if !judgement.verdict.passed() && record.outcome == ScenarioOutcome::Passed {
            record.outcome = ScenarioOutcome::Failed(judgement.verdict.to_string());
        }
        record.judgements.push(judgement);
    }
}

/// First a survey (the features against a conforming in-process stub) says what each scenario
/// needs; the scenarios that need no failed task then run at once, those that do run one at a
/// time as `task_plan::Chains` hands out the target's failed tasks, and what the chains showed of
/// the server's effects is added to the records. A scenario that cannot run is shown skipped
/// (its first step names why and matches no step definition).
pub async fn run(
    run_state: Arc<RunState>,
    features: Vec<gherkin::Feature>,
    options: &ScenarioOptions,
) -> Result<Run, SuiteError> {
    let spec = Arc::clone(&run_state.spec);
    let features = select(features, options.tags.as_ref());
    let target = &run_state.target;
    let reach = doors::Reach {
        aksk: matches!(target.auth(), Auth::AkSk { .. }),
        foreign_project: target.fixtures().foreign_project_id.as_deref(),
    };
    // A spec whose door a conforming server accepts was refused when the run started.
    let spec_doors = doors::of_spec(&spec, reach).unwrap_or_default();
    let (records, survey_fixtures) = survey(&spec, &features).await;
    let survey = roles(&spec, &records);
    let facts = facts_of(target);
    let plan = Plan::new(&survey, &facts);
    let mut doors = run_doors(&spec, &plan, &records, &survey_fixtures, reach, spec_doors);
    doors.retain(|d| d.applies_to(target.fixtures()));
    run_state.set_doors(doors.clone());
    let mut door_results = crate::records::effects::DoorResult::all(&spec, &doors, None);
    let mut fixture_notes = Vec::new();
    let mut fixture_errors = Vec::new();
    for (location, why) in &plan.skipped {
        run_state.assign(location, Assignment::Skip(*why));
    }
    for (location, task) in &plan.at_once {
        if let Some(task) = task {
            run_state.assign(location, Assignment::Task(task.clone()));
        }
    }
    let mut outputs = Outputs::new(options.console, options.cucumber_json.clone());

    // The scenarios that need no failed task, at once.
    let at_once: BTreeSet<&str> = plan
        .at_once
        .keys()
        .chain(plan.skipped.keys())
        .map(String::as_str)
        .collect();
    let first = only(&features, |l| at_once.contains(l), &plan.skipped);
    let mut execution_failed =
        cucumber_run(&run_state, first, options.concurrency, &mut outputs).await;

    // Then those on failed tasks, one at a time.
    if !plan.chained.is_empty() {
        let planned = Planned {
            plan: &plan,
            facts: &facts,
            survey: &survey,
        };
        let chained = run_chained(&run_state, &features, planned, doors, &mut outputs).await;
        execution_failed |= chained.execution_failed;
        door_results = chained.door_results;
        fixture_notes = chained.fixture_notes;
        fixture_errors = chained.fixture_errors;
    }
    outputs.finish()?;
    let records = run_state.take_records_in_file_order();
    Ok(Run {
        target: run_state.target.name().to_owned(),
        records,
        execution_failed,
        doors: door_results,
        fixture_notes,
        fixture_errors,
    })
}

/// What the task plan knows of `target`: what it allows and what its fixtures hold.
fn facts_of(target: &crate::transport::target::Target) -> Facts {
    let f = target.fixtures();
    Facts {
        mutations: target.mutations_allowed(),
        failed_tasks: (!f.generated_failed_tasks).then_some(f.failed_action_ids.len()),
        task_not_failed: f.not_failed_action_id.clone(),
        foreign_project: f.foreign_project_id.is_some(),
        aksk: matches!(target.auth(), Auth::AkSk { .. }),
        // The built-in stub's tasks are failed by construction; elsewhere the read API shows it.
        tasks_proven: target.reads_tasks() || target.is_owned_by_us(),
    }
}

/// The plan of a run, with what it was made from.
#[derive(Clone, Copy)]
struct Planned<'a> {
    plan: &'a Plan,
    facts: &'a Facts,
    survey: &'a [Surveyed],
}

/// What the scenarios on failed tasks showed.
struct Chained {
    execution_failed: bool,
    door_results: Vec<crate::records::effects::DoorResult>,
    fixture_notes: Vec<String>,
    fixture_errors: Vec<String>,
}

/// Runs the scenarios on failed tasks one at a time, as `task_plan::Chains` hands out the
/// target's failed tasks, and judges what the chains showed of the server's effects.
async fn run_chained(
    run_state: &Arc<RunState>,
    features: &[gherkin::Feature],
    planned: Planned<'_>,
    doors: Vec<doors::Door>,
    outputs: &mut Outputs,
) -> Chained {
    let (spec, target) = (&run_state.spec, &run_state.target);
    let covered: BTreeSet<String> = run_state
        .records_snapshot()
        .iter()
        .flat_map(|r| {
            r.judgements
                .iter()
                .flat_map(|j| j.verdict.checked.iter().cloned())
        })
        .collect();
    let lines = describe(
        spec,
        planned.plan,
        planned.facts,
        planned.survey,
        &covered,
        &doors,
        target.fixtures(),
    );
    target.announce_plan(&lines);
    let mut chains = task_plan::Chains::new(
        spec,
        planned.plan,
        planned.facts,
        covered,
        doors,
        target.fixtures(),
    )
    .with_settle(target.settle_period());
    let mut execution_failed = false;
    let mut take = || target.take_failed_task();
    while let Some((location, assignment)) = chains.next(&mut take) {
        run_state.set_door_group(chains.current_group());
        execution_failed |=
            run_one(run_state, features, location.clone(), assignment, outputs).await;
        if let Some(record) = run_state.record_at(&location) {
            chains.ran(&record);
        }
    }
    for (location, assignment) in chains.leftovers() {
        execution_failed |= run_one(run_state, features, location, assignment, outputs).await;
    }
    let (door_results, fixture_errors) = what_the_chains_showed(run_state, &mut chains).await;
    let fixture_notes = fixture_errors.clone();
    Chained {
        execution_failed,
        door_results,
        fixture_notes,
        fixture_errors,
    }
}

/// What the chains showed once they have all run: the cluster read a last time, the effects
/// judged (the records amended), what each door did, and what the fixtures left unjudged
/// (the user's to settle, said first).
async fn what_the_chains_showed(
    run_state: &Arc<RunState>,
    chains: &mut task_plan::Chains,
) -> (Vec<crate::records::effects::DoorResult>, Vec<String>) {
    let spec = &run_state.spec;
    // What the requests since the last read of the cluster did to tasks they did not name.
    run_state.watch.look(spec, &run_state.target).await;
    let watched = run_state.watch.judged().await;
    let mut fixture_errors = Vec::new();
    let mut set_aside = 0;
    run_state.amend_records(|records| {
        add_watched(records, watched);
        fixture_errors = chains.judge(spec, records);
        set_aside = set_aside_suspect_answers(run_state, records);
    });
    let mut fixture_notes = Vec::new();
    let (doors, search) = chains.doors();
    let mut door_results = crate::records::effects::DoorResult::all(spec, doors, Some(search));
    crate::records::effects::DoorResult::mark_served(&mut door_results, |name| {
        run_state.served_form(name)
    });
    if door_results.iter().any(|d| d.verdict.unconfirmed()) {
        let tasks: Vec<&str> = chains.chains().iter().map(|c| c.task.as_str()).collect();
        fixture_notes.push(format!(
            "fixture or server? the request after the doors on {} was refused as for a task not failed or not found: a door acted, or the task was not usable when the run began (an earlier run may have used it, or its ID, the project or the cluster is not right). Not judged: give another failed task, or {READ_API} (the read API shows each task's state), to decide",
            tasks.join(", ")
        ));
    }
    // Undecided or not, what the fixtures left unjudged is the user's to settle (another
    // failed task, or the read API, decides it): it is said first.
    fixture_errors.extend(fixture_notes);
    // What the preflight could not tell comes first: it may be why (and is, where answers
    // were set aside for it).
    if let Some(suspicion) = run_state
        .suspicion()
        .filter(|_| set_aside > 0 || !fixture_errors.is_empty())
    {
        fixture_errors.insert(0, suspicion.why);
    }
    (door_results, fixture_errors)
}

/// Where the preflight could not tell the run's project and cluster from another's, and no
/// request on them was accepted since: the violations with the answer another's gets are set
/// aside (not judged); once one was accepted, the suspicion is lifted for the rest of the run.
fn set_aside_suspect_answers(run_state: &RunState, records: &mut [ScenarioRecord]) -> usize {
    let Some(suspicion) = run_state.suspicion() else {
        return 0;
    };
    let f = run_state.target.fixtures();
    if Suspicion::refuted(records, &f.project_id, &f.cluster_id) {
        run_state.clear_suspicion();
        return 0;
    }
    suspicion.set_aside_in_records(records)
}

/// Runs the one scenario at `location` as `assignment` says (shown skipped, when it says so).
async fn run_one(
    run_state: &Arc<RunState>,
    features: &[gherkin::Feature],
    location: String,
    assignment: Assignment,
    outputs: &mut Outputs,
) -> bool {
    let skipped = match &assignment {
        Assignment::Skip(why) => BTreeMap::from([(location.clone(), *why)]),
        Assignment::Task(_) => BTreeMap::new(),
    };
    run_state.assign(&location, assignment);
    let one = only(features, |l| l == location, &skipped);
    cucumber_run(run_state, one, 1, outputs).await
}

/// The features with only the scenarios `tags` selects (with their feature's and rule's tags).
pub fn select(
    features: Vec<gherkin::Feature>,
    tags: Option<&gherkin::tagexpr::TagOperation>,
) -> Vec<gherkin::Feature> {
    let Some(tags) = tags else {
        return features;
    };
    features
        .into_iter()
        .filter_map(|mut f| {
            let feature_tags = f.tags.clone();
            f.scenarios
                .retain(|s| tags.eval(feature_tags.iter().chain(s.tags.iter())));
            for r in &mut f.rules {
                let rule_tags = r.tags.clone();
                r.scenarios.retain(|s| {
                    tags.eval(
                        feature_tags
                            .iter()
                            .chain(rule_tags.iter())
                            .chain(s.tags.iter()),
                    )
                });
            }
            f.rules.retain(|r| !r.scenarios.is_empty());
            (!f.scenarios.is_empty() || !f.rules.is_empty()).then_some(f)
        })
        .collect()
}

/// The doors of a run: the refused requests that the chained scenarios send on their failed
/// task (as the survey saw them), then the spec's doors none of them sends.
fn run_doors(
    spec: &Spec,
    plan: &Plan,
    records: &[ScenarioRecord],
    survey: &Fixtures,
    reach: doors::Reach<'_>,
    spec_doors: Vec<doors::Door>,
) -> Vec<doors::Door> {
    let refused: BTreeSet<&str> = plan
        .chained
        .iter()
        .filter(|s| matches!(s.role, Role::Refused { .. }))
        .map(|s| s.location.as_str())
        .collect();
    let mut scenario_doors = Vec::new();
    for r in records
        .iter()
        .filter(|r| refused.contains(r.location.as_str()))
    {
        for j in &r.judgements {
            let id = &j.request.action_id;
            let failed = survey.failed_action_ids.contains(id)
                || crate::fixtures::generated_failed_task_index(id).is_some();
            if failed {
                scenario_doors.push(doors::Door::from_scenario(
                    spec,
                    &r.location,
                    &j.request,
                    survey,
                    reach,
                ));
            }
        }
    }
    doors::all(spec, scenario_doors, spec_doors)
}

/// What each scenario of `features` needs and what it sends, run against a conforming
/// in-process stub that has everything (AK/SK, tasks of every state, another account); and
/// the stub's fixtures.
pub async fn survey(
    spec: &Arc<Spec>,
    features: &[gherkin::Feature],
) -> (Vec<ScenarioRecord>, Fixtures) {
    let (stub, target) = targets::stub_target(Arc::clone(spec), None, AuthMethod::Aksk).await;
    let fixtures = target.fixtures().clone();
    let reach = doors::Reach {
        aksk: true,
        foreign_project: fixtures.foreign_project_id.as_deref(),
    };
    let run_state = Arc::new(RunState::new(Arc::clone(spec), target).surveying());
    run_state.set_doors(doors::of_spec(spec, reach).unwrap_or_default());
    let mut outputs = Outputs::new(false, None);
    cucumber_run(&run_state, features.to_vec(), 8, &mut outputs).await;
    drop(stub);
    (in_run_order(run_state.take_records(), features), fixtures)
}

/// `records` in the order their scenarios stand in `features` (the features' order, then the
/// line), whatever order they finished in: the first scenario to send a door names it, and
/// the same run names it alike every time.
fn in_run_order(
    mut records: Vec<ScenarioRecord>,
    features: &[gherkin::Feature],
) -> Vec<ScenarioRecord> {
    let files: Vec<String> = features.iter().map(coverage::file_name).collect();
    records.sort_by_cached_key(|r| {
        let (file, line) = r.file_order();
        let feature = files.iter().position(|f| f == file).unwrap_or(files.len());
        (feature, line)
    });
    records
}

/// Runs `features` against a fresh built-in stub (conforming unless `deviation`), signing in
/// with its token.
pub async fn run_against_stub(
    spec: Arc<Spec>,
    deviation: Option<Deviation>,
    features: Vec<gherkin::Feature>,
    options: &ScenarioOptions,
) -> Result<Run, SuiteError> {
    let (stub, target) =
        targets::stub_target(Arc::clone(&spec), deviation, AuthMethod::Token).await;
    // What only the read API shows is read there.
    let target = target.with_read_api(deviation.is_some_and(Deviation::shows_in_the_read_api));
    let run = run(Arc::new(RunState::new(spec, target)), features, options).await;
    drop(stub);
    run
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::contract::features;

    #[test]
    fn survey_records_come_out_in_the_features_order_whatever_order_they_finished_in() {
        let feature = |file: &str| {
            let text = "Feature: f\n  Scenario: s\n    Given a step\n";
            features::parse(text, Path::new(file)).expect("a feature")
        };
        // Not alphabetical: the order the features are given in, as they run.
        let features = [feature("b.feature"), feature("a.feature")];
        let finished = ["a.feature:10", "b.feature:3", "a.feature:9", "b.feature:1"]
            .map(ScenarioRecord::sample)
            .to_vec();
        let order: Vec<String> = in_run_order(finished, &features)
            .into_iter()
            .map(|r| r.location)
            .collect();
        assert_eq!(
            order,
            ["b.feature:1", "b.feature:3", "a.feature:9", "a.feature:10"]
        );
    }
}
