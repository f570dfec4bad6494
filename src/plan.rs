//! The use of the target's failed tasks, which are rare and costly: a task is consumed only by
//! a request a conforming server accepts, every request a conforming server refuses is sent on
//! a task before the one that consumes it, and the tasks go to the clauses not yet judged,
//! MUST first. The same chains show what the server *did*: the request that ends a task's
//! chain must be accepted (else one of the refused requests before it acted), and after an
//! accepted retry or abort a second one is refused (else the first did nothing).
//!
//! A survey (the features run against a conforming in-process stub) says what each scenario
//! needs and what a conforming server makes of its requests; `Plan` then says which scenarios
//! run at once, which are not run and why, and `Chains` hands out tasks one scenario at a time,
//! as the answers come.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::exchange::{Judgement, Needs, ScenarioOutcome, Skip, Verdict, Violation};
use crate::session::{Assignment, ScenarioRecord};
use crate::spec::{Kind, Level, Spec};

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
}

/// What the survey's records say of each scenario, in file order.
pub fn roles(spec: &Spec, records: &[ScenarioRecord]) -> Vec<Surveyed> {
    let mut out: Vec<Surveyed> = records
        .iter()
        .map(|r| {
            let accepted: Vec<&Judgement> = r
                .judgements
                .iter()
                .filter(|j| j.request.method.is_none() && j.status == 200)
                .collect();
            let role = if r.needs.task_not_failed {
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
    out.sort_by_key(|s| file_order(&s.location));
    out
}

/// `file:line` in file order: by file, then by line as a number.
pub fn file_order(location: &str) -> (String, u32) {
    let (file, line) = location.rsplit_once(':').unwrap_or((location, ""));
    (file.to_owned(), line.parse().unwrap_or(0))
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
}

impl Facts {
    /// Whether the failed tasks are scarce, so each must go where it judges the most.
    fn scarce(&self) -> bool {
        self.failed_tasks.is_some()
    }
}

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

/// Where a chain is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The refused requests.
    Refused,
    /// Requests that may be accepted or refused.
    Maybe,
    /// The request that consumes the task.
    Consumer,
    /// A request after the consumption, which a conforming server refuses.
    Probe,
}

/// One task's scenarios, in the order they ran.
#[derive(Debug, Clone)]
pub struct Chain {
    pub task: String,
    pub scenarios: Vec<String>,
    stage: Stage,
    /// A request on the task was accepted.
    consumed: bool,
    /// A request on the task was refused as not in the failed state.
    spoilt: bool,
}

/// Hands out the failed tasks one scenario at a time, as the answers come.
#[derive(Debug)]
pub struct Chains {
    facts: Facts,
    levels: BTreeMap<String, Level>,
    refused: VecDeque<String>,
    other_methods: VecDeque<String>,
    maybe: VecDeque<String>,
    consumers: Vec<Surveyed>,
    after: VecDeque<String>,
    /// Clauses exercised so far.
    covered: BTreeSet<String>,
    current: Option<Chain>,
    done: Vec<Chain>,
    /// Tasks taken so far.
    taken: usize,
    /// No failed task is left.
    exhausted: bool,
    /// A task a chain handed back still failed.
    spare: Option<String>,
    /// What each scenario's requests exercise on a conforming server.
    checks: BTreeMap<String, BTreeSet<String>>,
    /// Scenarios left out because what they judge is judged already.
    unused: Vec<String>,
}

impl Chains {
    /// The chains of `plan`'s scenarios; `covered` are the clauses the scenarios run at once
    /// exercise.
    pub fn new(spec: &Spec, plan: &Plan, facts: &Facts, covered: BTreeSet<String>) -> Chains {
        let mut chains = Chains {
            facts: facts.clone(),
            levels: spec
                .clauses
                .iter()
                .map(|c| (c.id.clone(), c.level))
                .collect(),
            refused: VecDeque::new(),
            other_methods: VecDeque::new(),
            maybe: VecDeque::new(),
            consumers: Vec::new(),
            after: VecDeque::new(),
            covered,
            current: None,
            done: Vec::new(),
            taken: 0,
            exhausted: false,
            spare: None,
            checks: plan
                .chained
                .iter()
                .map(|s| (s.location.clone(), s.checks.clone()))
                .collect(),
            unused: Vec::new(),
        };
        for s in &plan.chained {
            let location = s.location.clone();
            match s.role {
                Role::Refused {
                    other_method: false,
                } => chains.refused.push_back(location),
                Role::Refused { other_method: true } => chains.other_methods.push_back(location),
                Role::MayConsume => chains.maybe.push_back(location),
                Role::Consumes => chains.consumers.push(s.clone()),
                Role::AfterConsumption => chains.after.push_back(location),
                Role::Safe => {}
            }
        }
        chains
    }

    /// The worth of judging `clauses` now: MUST first, then EXTENDED, then SHOULD.
    fn worth(&self, clauses: &BTreeSet<String>) -> u64 {
        clauses
            .iter()
            .filter(|c| !self.covered.contains(*c))
            .map(|c| match self.levels.get(c) {
                Some(Level::Must) => 10_000,
                Some(Level::Extended) => 100,
                Some(Level::Should) => 1,
                None => 0,
            })
            .sum()
    }

    fn checks_of(&self, location: &str) -> &BTreeSet<String> {
        static NONE: BTreeSet<String> = BTreeSet::new();
        self.checks.get(location).unwrap_or(&NONE)
    }

    /// Whether any scenario is still to be handed a failed task.
    fn work_left(&self) -> bool {
        !self.refused.is_empty()
            || !self.other_methods.is_empty()
            || self
                .maybe
                .iter()
                .any(|l| !self.facts.scarce() || self.worth(self.checks_of(l)) > 0)
            || self
                .consumers
                .iter()
                .any(|c| !self.facts.scarce() || self.worth(&c.checks) > 0)
    }

    /// The next scenario to run and what it is to use; `take_task` hands out a fresh failed
    /// task. `None` when every scenario has its answer (the rest: `leftovers`).
    pub fn next(
        &mut self,
        take_task: &mut dyn FnMut() -> Option<String>,
    ) -> Option<(String, Assignment)> {
        loop {
            if self.current.is_none() {
                if self.exhausted || !self.work_left() {
                    return None;
                }
                // A task whose chain ended without consuming it is still failed: it goes on.
                let Some(task) = self.spare.take().or_else(&mut *take_task) else {
                    self.exhausted = true;
                    return None;
                };
                self.taken += 1;
                self.current = Some(Chain {
                    task,
                    scenarios: Vec::new(),
                    stage: Stage::Refused,
                    consumed: false,
                    spoilt: false,
                });
            }
            let chain = self.current.as_ref().map_or(Stage::Probe, |c| c.stage);
            let consumed = self.current.as_ref().is_some_and(|c| c.consumed);
            // A task a request before acted on is no use to what comes next: a fresh one.
            if self.current.as_ref().is_some_and(|c| c.spoilt) {
                self.close();
                continue;
            }
            let task = self
                .current
                .as_ref()
                .map(|c| c.task.clone())
                .unwrap_or_default();
            let next = match chain {
                _ if consumed && chain != Stage::Probe => {
                    self.set_stage(Stage::Probe);
                    continue;
                }
                Stage::Refused => {
                    // Other methods go on a task of their own when there is a second, so that
                    // an effect tells which of the two kinds of request acted.
                    let alone = self.facts.failed_tasks == Some(1) || self.taken > 1;
                    let next = if self.taken == 1 {
                        self.refused.pop_front().or_else(|| {
                            if alone {
                                self.other_methods.pop_front()
                            } else {
                                None
                            }
                        })
                    } else {
                        self.other_methods
                            .pop_front()
                            .or_else(|| self.refused.pop_front())
                    };
                    if next.is_none() {
                        self.set_stage(Stage::Maybe);
                    }
                    next
                }
                Stage::Maybe => {
                    // Once what they judge is judged (one was accepted, or refused), the rest
                    // would only spend scarce tasks.
                    if self.facts.scarce() {
                        let worthless: Vec<String> = self
                            .maybe
                            .iter()
                            .filter(|l| self.worth(self.checks_of(l)) == 0)
                            .cloned()
                            .collect();
                        self.maybe.retain(|l| !worthless.contains(l));
                        self.unused.extend(worthless);
                    }
                    let next = self.maybe.pop_front();
                    if next.is_none() {
                        self.set_stage(Stage::Consumer);
                    }
                    next
                }
                Stage::Consumer => {
                    let best = self
                        .consumers
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (self.worth(&c.checks), std::cmp::Reverse(i)))
                        .max()
                        .filter(|(worth, _)| *worth > 0 || !self.facts.scarce())
                        .map(|(_, std::cmp::Reverse(i))| i);
                    let next = best.map(|i| self.consumers.remove(i).location);
                    // The chain ends with its consumer, or without one (the task is kept).
                    self.set_stage(Stage::Probe);
                    if next.is_none() {
                        self.close();
                        return None;
                    }
                    next
                }
                Stage::Probe => {
                    let next = if consumed {
                        self.after.pop_front()
                    } else {
                        None
                    };
                    if let (Some(location), Some(c)) = (&next, self.current.as_mut()) {
                        c.scenarios.push(location.clone());
                    }
                    self.close();
                    if let Some(location) = next {
                        return Some((location, Assignment::Task(task)));
                    }
                    None
                }
            };
            if let Some(location) = next {
                if let Some(c) = self.current.as_mut() {
                    c.scenarios.push(location.clone());
                }
                return Some((location, Assignment::Task(task)));
            }
        }
    }

    fn set_stage(&mut self, stage: Stage) {
        if let Some(c) = self.current.as_mut() {
            c.stage = stage;
        }
    }

    fn close(&mut self) {
        if let Some(c) = self.current.take() {
            if !c.consumed && !c.spoilt {
                self.spare = Some(c.task.clone());
            }
            if !c.scenarios.is_empty() {
                self.done.push(c);
            }
        }
    }

    /// What the scenario handed out last did: the clauses it exercised, and whether a request
    /// on its task was accepted (the task is consumed) or refused as not in the failed state
    /// (the task is spoilt: a request before acted on it).
    pub fn ran(&mut self, record: &ScenarioRecord, not_failed_code: &str) {
        for j in &record.judgements {
            self.covered.extend(j.verdict.checked.iter().cloned());
        }
        if let Some(c) = self.current.as_mut() {
            for j in record
                .judgements
                .iter()
                .filter(|j| j.request.action_id == c.task)
            {
                if j.request.method.is_none() && j.status == 200 {
                    c.consumed = true;
                }
                if j.error_code.as_deref() == Some(not_failed_code) {
                    c.spoilt = true;
                }
            }
        }
    }

    /// As `ran`, for what the survey saw the scenario do on a conforming server.
    fn predict(&mut self, s: &Surveyed) {
        self.covered.extend(s.checks.iter().cloned());
        if let (Role::Consumes | Role::MayConsume, Some(c)) = (s.role, self.current.as_mut()) {
            c.consumed = true;
        }
    }

    /// The scenarios never handed a task, and why: no failed task was left, or (tasks being
    /// scarce) nothing they judge is left to judge. A scenario after a consumption that got no
    /// consumed task takes the configured task that is not failed, if there is one.
    pub fn leftovers(&mut self) -> Vec<(String, Assignment)> {
        self.close();
        let why = if self.exhausted {
            Skip::NoTaskLeft
        } else {
            Skip::Economy
        };
        let mut out: Vec<(String, Assignment)> = self
            .refused
            .drain(..)
            .chain(self.other_methods.drain(..))
            .chain(self.maybe.drain(..))
            .chain(self.consumers.drain(..).map(|c| c.location))
            .map(|l| (l, Assignment::Skip(why)))
            .collect();
        out.extend(
            self.unused
                .drain(..)
                .map(|l| (l, Assignment::Skip(Skip::Economy))),
        );
        let consumed = self
            .done
            .iter()
            .rev()
            .find(|c| c.consumed)
            .map(|c| c.task.clone());
        for location in self.after.drain(..) {
            let assignment = match (&self.facts.task_not_failed, &consumed) {
                (Some(task), _) | (None, Some(task)) => Assignment::Task(task.clone()),
                (None, None) => Assignment::Skip(Skip::NoTaskNotFailed),
            };
            out.push((location, assignment));
        }
        out
    }

    /// The chains as they ran.
    pub fn chains(&self) -> &[Chain] {
        &self.done
    }
}

/// Scenarios of one file and one role, in a row on a task: (file, role, lines).
type Group = (String, &'static str, Vec<String>);

/// The plan as a conforming server would have it run, in lines: which task carries which
/// scenarios, in order, and which scenarios get no failed task.
pub fn describe(
    spec: &Spec,
    plan: &Plan,
    facts: &Facts,
    survey: &[Surveyed],
    covered: &BTreeSet<String>,
) -> Vec<String> {
    let mut chains = Chains::new(spec, plan, facts, covered.clone());
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
        let role = match s.role {
            Role::Refused { .. } => "refused",
            Role::MayConsume => "may consume it",
            Role::Consumes => "consumes it",
            Role::AfterConsumption => "after",
            Role::Safe => "",
        };
        if tasks.last().is_none_or(|(t, _)| *t != task) {
            tasks.push((task, Vec::new()));
        }
        let (file, line) = location.rsplit_once(':').unwrap_or((location.as_str(), ""));
        if let Some((_, groups)) = tasks.last_mut() {
            match groups.last_mut() {
                Some((f, r, lines)) if f == file && *r == role => lines.push(line.to_owned()),
                _ => groups.push((file.to_owned(), role, vec![line.to_owned()])),
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
    let mut left: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (location, assignment) in chains.leftovers() {
        let why = match assignment {
            Assignment::Task(t) => format!("on {t}"),
            Assignment::Skip(why) => why.to_string(),
        };
        left.entry(why).or_default().push(location);
    }
    for (why, locations) in left {
        lines.push(format!("{why}: {}", locations.join(", ")));
    }
    lines
}

/// What the chains showed of the server's effects, added to the records of the requests
/// they judge: each refused request (or other method) before an accepted one left the task
/// failed; one of them acted when the request that ends the chain is refused as "not in the
/// failed state"; a second retry or abort after an accepted one is refused.
pub fn judge_effects(spec: &Spec, chains: &[Chain], records: &mut [ScenarioRecord]) {
    let not_failed_code = spec
        .expectation(Kind::TaskNotFailed)
        .error_code
        .clone()
        .unwrap_or_default();
    for chain in chains {
        // The requests on the chain's task, in the order they were sent.
        let mut sequence: Vec<(usize, usize)> = Vec::new();
        for location in &chain.scenarios {
            if let Some(r) = records.iter().position(|r| &r.location == location) {
                for (j, judgement) in records[r].judgements.iter().enumerate() {
                    if judgement.request.action_id == chain.task && !judgement.derived {
                        sequence.push((r, j));
                    }
                }
            }
        }
        let mut before: Vec<(usize, usize)> = Vec::new();
        let mut accepted: Option<(usize, usize)> = None;
        let mut added: Vec<(usize, Judgement, bool)> = Vec::new();
        let mut relabels: Vec<(usize, usize, Kind, String)> = Vec::new();
        // Where the read API gave the task's status around every request, each effect is
        // pinned to its request.
        let read = !sequence.is_empty()
            && sequence
                .iter()
                .all(|&(r, j)| records[r].judgements[j].task_status.is_some());
        if read {
            let api = &spec.read_api;
            for &(r, j) in &sequence {
                let judgement = &records[r].judgements[j];
                let Some((before, after)) = &judgement.task_status else {
                    continue;
                };
                let other = judgement.request.method.is_some();
                let expects_failed = !other && spec.expectation(judgement.verdict.kind).accepts();
                if api.is_failed(before) && judgement.verdict.kind == Kind::TaskNotFailed {
                    // Its scenario took the task for one no longer failed; it was failed.
                    relabels.push((
                        r,
                        j,
                        judgement.request.retry_or_abort(),
                        format!("the read API gave the task the status {before:?} before this request: still failed"),
                    ));
                }
                if !api.is_failed(before) {
                    if expects_failed {
                        relabels.push((
                            r,
                            j,
                            Kind::TaskNotFailed,
                            format!("the read API gave the task the status {before:?} before this request: not failed"),
                        ));
                    }
                    continue;
                }
                let (clause, holds, expected) = if !other && judgement.status == 200 {
                    (
                        spec.rules.acceptance_acts.clone(),
                        !api.is_failed(after),
                        format!(
                            "the task out of the failed state after it was accepted; the read API gave {before:?} before and {after:?} after"
                        ),
                    )
                } else {
                    (
                        effect_clause(spec, judgement),
                        api.is_failed(after),
                        format!(
                            "the task still failed after it; the read API gave {before:?} before and {after:?} after"
                        ),
                    )
                };
                added.push((r, effect(spec, judgement, &clause, holds, expected), holds));
            }
            sequence.clear();
        }
        for (r, j) in sequence {
            let judgement = &records[r].judgements[j];
            if let Some((ar, aj)) = accepted {
                if judgement.request.method.is_some() {
                    continue;
                }
                let acceptance = &records[ar].judgements[aj];
                let holds = judgement.status != 200;
                let clause = &spec.rules.acceptance_acts;
                let expected = format!(
                    "a second retry or abort of the task refused after {} {} was accepted (200)",
                    acceptance.method,
                    crate::text::shorten(&acceptance.url)
                );
                added.push((r, effect(spec, judgement, clause, holds, expected), holds));
                if !holds {
                    // The task was still failed: this retry or abort was right to be accepted.
                    relabels.push((
                        r,
                        j,
                        judgement.request.retry_or_abort(),
                        "the task was still failed: the retry or abort accepted before it did not act".to_owned(),
                    ));
                }
                break;
            }
            let other = judgement.request.method.is_some();
            if !other && judgement.status == 200 {
                for &(br, bj) in &before {
                    let b = &records[br].judgements[bj];
                    let clause = effect_clause(spec, b);
                    let expected = "the task still failed after it".to_owned();
                    added.push((br, effect(spec, b, &clause, true, expected), true));
                }
                before.clear();
                accepted = Some((r, j));
                continue;
            }
            // Any request refused as "not in the failed state" shows the task is not failed.
            let reveals = judgement.status == 400
                && error_code_of(judgement) == Some(not_failed_code.as_str());
            let expects_failed = !other && spec.expectation(judgement.verdict.kind).accepts();
            if reveals && !before.is_empty() {
                let names: Vec<String> = before
                    .iter()
                    .map(|&(br, bj)| {
                        let b = &records[br].judgements[bj];
                        format!(
                            "{} ({} {})",
                            records[br].location,
                            b.method,
                            crate::text::shorten(&b.url)
                        )
                    })
                    .collect();
                for &(br, bj) in &before {
                    let b = &records[br].judgements[bj];
                    let clause = effect_clause(spec, b);
                    let expected = format!(
                        "the task still failed after it; but the {} {} request sent after it on the same task ({}) was refused as not in the failed state, so one of these acted: {}",
                        judgement.method,
                        judgement.verdict.kind,
                        records[r].location,
                        names.join("; ")
                    );
                    let mut e = effect(spec, b, &clause, false, expected);
                    // What showed it: the refusal of the request that ends the chain.
                    if let Some(v) = e.verdict.violations.first_mut() {
                        v.evidence = crate::exchange::Evidence {
                            status: judgement.status,
                            error_code: error_code_of(judgement).map(str::to_owned),
                            body_excerpt: String::new(),
                        };
                    }
                    added.push((br, e, false));
                }
                if expects_failed {
                    relabels.push((
                        r,
                        j,
                        Kind::TaskNotFailed,
                    format!(
                        "the task was no longer failed when this {} request was sent: a request before it on the task acted",
                        judgement.verdict.kind
                    ),
                    ));
                }
                break;
            }
            // A refused request, or another method: it must leave the task failed.
            before.push((r, j));
        }
        let mut touched: BTreeMap<usize, Option<String>> = BTreeMap::new();
        for (r, j, kind, why) in relabels {
            relabel(
                spec,
                &mut records[r].judgements[j].verdict,
                kind,
                why.clone(),
            );
            touched.insert(r, Some(why));
        }
        for (r, judgement, _) in added {
            records[r].judgements.push(judgement);
            touched.entry(r).or_insert(None);
        }
        // The outcome follows the judgements as they now stand.
        for (r, why) in touched {
            let record = &mut records[r];
            if matches!(
                record.outcome,
                ScenarioOutcome::Skipped(_) | ScenarioOutcome::NoAnswer(_)
            ) {
                continue;
            }
            record.outcome = match record.judgements.iter().find(|j| !j.verdict.passed()) {
                Some(failed) => ScenarioOutcome::Failed(failed.verdict.to_string()),
                None => match why {
                    Some(why) => ScenarioOutcome::Unjudged(why),
                    None if matches!(record.outcome, ScenarioOutcome::Failed(_)) => {
                        record.outcome.clone()
                    }
                    None => ScenarioOutcome::Passed,
                },
            };
        }
    }
}

/// `verdict` as it stands for a request whose task turned out to be in another state than its
/// scenario assumed: what it answered is judged as a `kind` request's answer by the clauses
/// that depend on the kind; the rules for every answer stand.
fn relabel(spec: &Spec, verdict: &mut Verdict, kind: Kind, why: String) {
    let assumed = spec.expectation(verdict.kind);
    let actual = spec.expectation(kind);
    let by_kind: BTreeSet<&String> = assumed
        .refused_by
        .iter()
        .chain(&assumed.answered_by)
        .chain(&actual.refused_by)
        .chain(&actual.answered_by)
        .collect();
    verdict.violations.retain(|v| !by_kind.contains(&v.clause));
    verdict.checked.retain(|c| !by_kind.contains(c));
    verdict.kind = kind;
    verdict.note = Some(why);
}

/// The clause that judges what `judgement`'s request did to the task: another method never
/// acts; a refused request leaves the task failed.
fn effect_clause(spec: &Spec, judgement: &Judgement) -> String {
    spec.expectation(judgement.verdict.kind)
        .never_acts
        .clone()
        .unwrap_or_else(|| spec.rules.refusal_leaves_task.clone())
}

/// A judgement of `about`'s effect by `clause`.
fn effect(
    spec: &Spec,
    about: &Judgement,
    clause: &str,
    holds: bool,
    expected: String,
) -> Judgement {
    let level = spec.clause(clause).map_or(Level::Must, |c| c.level);
    let mut verdict = Verdict {
        kind: about.verdict.kind,
        checked: BTreeSet::from([clause.to_owned()]),
        violations: Vec::new(),
        note: None,
    };
    if !holds {
        verdict.violations.push(Violation {
            clause: clause.to_owned(),
            level,
            expected,
            evidence: crate::exchange::Evidence {
                status: about.status,
                error_code: error_code_of(about).map(str::to_owned),
                body_excerpt: String::new(),
            },
        });
    }
    Judgement {
        verdict,
        derived: true,
        task_status: None,
        ..about.clone()
    }
}

/// The error code a judged answer carried.
fn error_code_of(judgement: &Judgement) -> Option<&str> {
    judgement.error_code.as_deref()
}
