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

use crate::contract::doors::{self, Door, door_of};
use crate::contract::spec::{Kind, Level, Settled, Spec};
use crate::contract::verdict::Verdict;
use crate::engines::scenarios::run_state::Assignment;
use crate::fixtures::Fixtures;
use crate::records::effects::groups::{self, DoorId, Groups, Outcome};
use crate::records::effects::witness::{self, Sent};
use crate::records::judgement::{
    Judgement, Needs, ScenarioOutcome, ScenarioRecord, Skip, file_order,
};

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
    /// The refused requests: the scenarios' (first chain) and the doors.
    Refused,
    /// Requests that may be accepted or refused.
    Maybe,
    /// The request that consumes the task: the witness of the doors before it.
    Consumer,
    /// Requests after the consumption, which a conforming server refuses.
    Probe,
}

/// One task's scenarios, in the order they ran.
#[derive(Debug, Clone)]
pub struct Chain {
    pub task: String,
    pub scenarios: Vec<String>,
    /// The doors sent on it before its witness.
    pub group: Vec<DoorId>,
    stage: Stage,
    /// A request on the task was accepted.
    consumed: bool,
    /// A request on the task was refused as not in the failed state.
    spoilt: bool,
    /// A request a conforming server refuses went on it: its witness says what they did.
    carried: bool,
    /// A request that may have acted on it lost its answer: nothing more is sent on it.
    lost: bool,
    /// The one `after` scenario and the probes ran on it.
    after_done: bool,
    probes_done: bool,
    /// What was sent on the task, in order.
    sent: Vec<Judgement>,
}

/// Hands out the failed tasks one scenario at a time, as the answers come.
#[derive(Debug)]
pub struct Chains {
    spec: Spec,
    facts: Facts,
    levels: BTreeMap<String, Level>,
    refused: VecDeque<String>,
    other_methods: VecDeque<String>,
    maybe: VecDeque<String>,
    consumers: Vec<Surveyed>,
    after: VecDeque<String>,
    /// The scenario that sends the doors, and the one that probes after an acceptance: both
    /// run on every chain that needs them.
    doors_scenario: Option<String>,
    probes_scenario: Option<String>,
    ran_doors: bool,
    ran_probes: bool,
    /// The doors, and what the tasks showed of them.
    doors: Vec<Door>,
    fixtures: Fixtures,
    groups: Groups,
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
    /// How many judgements of each scenario's record were seen (a record grows when its
    /// scenario runs again).
    seen: BTreeMap<String, usize>,
    /// The plan as a conforming server would have it: every witness accepted.
    predicting: bool,
    /// How late an effect may show on the target (its settle period).
    settle: std::time::Duration,
}

impl Chains {
    /// Says how late an effect may show on the target: a read API that shows a task changed
    /// after a door points at every door sent within that time before it.
    pub fn with_settle(mut self, settle: std::time::Duration) -> Chains {
        self.settle = settle;
        self
    }

    /// The chains of `plan`'s scenarios; `covered` are the clauses the scenarios run at once
    /// exercise; `doors` those the scenario that sends doors sends, on the run's `fixtures`.
    pub fn new(
        spec: &Spec,
        plan: &Plan,
        facts: &Facts,
        covered: BTreeSet<String>,
        doors: Vec<Door>,
        fixtures: &Fixtures,
    ) -> Chains {
        let mut chains = Chains {
            spec: spec.clone(),
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
            doors_scenario: None,
            probes_scenario: None,
            ran_doors: false,
            ran_probes: false,
            groups: Groups::with_classes(doors.iter().map(|d| doors::class(spec, d)).collect())
                .with_tasks_proven(facts.tasks_proven),
            doors,
            fixtures: fixtures.clone(),
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
            seen: BTreeMap::new(),
            predicting: false,
            settle: std::time::Duration::ZERO,
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
                Role::Doors => chains.doors_scenario = Some(location),
                Role::Probes => chains.probes_scenario = Some(location),
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

    /// The doors the next task would carry (none: every door is judged, or no door scenario
    /// runs, or nothing is left to witness them).
    fn next_group(&self) -> Vec<DoorId> {
        let witness = !self.consumers.is_empty() || !self.maybe.is_empty();
        match (&self.doors_scenario, witness) {
            (Some(_), true) => self.groups.next_group(),
            _ => Vec::new(),
        }
    }

    /// Whether any scenario is still to be handed a failed task.
    fn work_left(&self) -> bool {
        !self.refused.is_empty()
            || !self.other_methods.is_empty()
            || !self.next_group().is_empty()
            || self
                .maybe
                .iter()
                .any(|l| !self.facts.scarce() || self.worth(self.checks_of(l)) > 0)
            || self
                .consumers
                .iter()
                .any(|c| !self.facts.scarce() || self.worth(&c.checks) > 0)
    }

    /// The doors the chain under way sends (for the scenario that sends them).
    pub(crate) fn current_group(&self) -> Vec<DoorId> {
        self.current
            .as_ref()
            .map(|c| c.group.clone())
            .unwrap_or_default()
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
                let group = self.next_group();
                self.current = Some(Chain {
                    task,
                    scenarios: Vec::new(),
                    group,
                    stage: Stage::Refused,
                    consumed: false,
                    spoilt: false,
                    carried: false,
                    lost: false,
                    after_done: false,
                    probes_done: false,
                    sent: Vec::new(),
                });
            }
            let chain = self.current.as_ref()?;
            // A task a request before acted on is no use to what comes next: a fresh one.
            if chain.spoilt || chain.lost {
                self.close();
                continue;
            }
            let (stage, consumed, task) = (chain.stage, chain.consumed, chain.task.clone());
            if consumed && stage != Stage::Probe {
                self.set_stage(Stage::Probe);
                continue;
            }
            let next = match stage {
                Stage::Refused => self.next_refused(),
                Stage::Maybe => self.next_maybe(),
                Stage::Consumer => {
                    let next = self.next_consumer();
                    // The chain ends with its consumer, or without one (the task is kept).
                    self.set_stage(Stage::Probe);
                    if next.is_none() {
                        self.close();
                        return None;
                    }
                    next
                }
                Stage::Probe => {
                    let next = self.next_probe();
                    if next.is_none() {
                        self.close();
                        continue;
                    }
                    next
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

    /// The refused scenarios go on the first task, then the doors on every task.
    fn next_refused(&mut self) -> Option<String> {
        let group = self.current.as_ref().is_some_and(|c| !c.group.is_empty());
        let doors_ran = self
            .current
            .as_ref()
            .zip(self.doors_scenario.as_ref())
            .is_some_and(|(c, d)| c.scenarios.contains(d));
        // They go on the first task; on the next ones if a request accepted there ended it.
        let next = self
            .refused
            .pop_front()
            .or_else(|| self.other_methods.pop_front());
        let next = next.or_else(|| {
            (group && !doors_ran)
                .then(|| self.doors_scenario.clone())
                .flatten()
        });
        match &next {
            Some(location) => {
                if Some(location) == self.doors_scenario.as_ref() {
                    self.ran_doors = true;
                }
                if let Some(c) = self.current.as_mut() {
                    c.carried = true;
                }
            }
            None => self.set_stage(Stage::Maybe),
        }
        next
    }

    fn next_maybe(&mut self) -> Option<String> {
        // Once what they judge is judged (one was accepted, or refused), the rest would only
        // spend scarce tasks.
        if self.facts.scarce() {
            let worthless: Vec<String> = self
                .maybe
                .iter()
                .filter(|l| self.worth(self.checks_of(l)) == 0)
                .cloned()
                .collect();
            self.maybe.retain(|l| !worthless.contains(l));
            self.unused.extend(worthless);
            // A scarce task goes to a consumer worth more first (a MUST clause before a
            // SHOULD one); the rest wait for a task left over.
            let best_consumer = self.consumers.iter().map(|c| self.worth(&c.checks)).max();
            let front = self.maybe.front().map(|l| self.worth(self.checks_of(l)));
            if front.is_some_and(|f| best_consumer.is_some_and(|c| f < c)) {
                self.set_stage(Stage::Consumer);
                return None;
            }
        }
        let next = self.maybe.pop_front();
        if next.is_none() {
            self.set_stage(Stage::Consumer);
        }
        next
    }

    /// The consumer worth the most; where the chain carried refused requests and none is
    /// worth anything, the first one left all the same: the doors need their witness.
    fn next_consumer(&mut self) -> Option<String> {
        let carried = self.current.as_ref().is_some_and(|c| c.carried);
        let best = self
            .consumers
            .iter()
            .enumerate()
            .map(|(i, c)| (self.worth(&c.checks), std::cmp::Reverse(i)))
            .max()
            .filter(|(worth, _)| *worth > 0 || !self.facts.scarce() || carried)
            .map(|(_, std::cmp::Reverse(i))| i);
        best.map(|i| self.consumers.remove(i).location)
    }

    /// After an accepted request: one `after` scenario, then the probes of both kinds.
    fn next_probe(&mut self) -> Option<String> {
        let c = self.current.as_mut()?;
        if !c.consumed {
            return None;
        }
        if !c.after_done {
            c.after_done = true;
            if let Some(next) = self.after.pop_front() {
                return Some(next);
            }
        }
        if !c.probes_done {
            c.probes_done = true;
            if let Some(p) = self.probes_scenario.clone() {
                self.ran_probes = true;
                return Some(p);
            }
        }
        None
    }

    fn set_stage(&mut self, stage: Stage) {
        if let Some(c) = self.current.as_mut() {
            c.stage = stage;
        }
    }

    /// Ends the chain under way: what its witness said of its doors goes to the search.
    fn close(&mut self) {
        let Some(c) = self.current.take() else {
            return;
        };
        if !c.group.is_empty() && c.carried {
            let (tested, outcome) = if self.predicting {
                (c.group.clone(), Outcome::Harmless)
            } else {
                let sent: Vec<Sent<'_>> = c
                    .sent
                    .iter()
                    .map(|j| Sent {
                        request: &j.request,
                        status: j.status,
                        error_code: j.error_code.as_deref(),
                        task_status: j.task_status.as_ref(),
                        times: j.times,
                    })
                    .collect();
                witness::outcome(
                    &self.spec,
                    &self.doors,
                    &self.fixtures,
                    &c.task,
                    &c.group,
                    &sent,
                    self.settle,
                )
            };
            if !tested.is_empty() || matches!(outcome, Outcome::Pinned { .. }) {
                self.groups.record(&tested, outcome);
            }
        }
        if !c.consumed && !c.spoilt {
            self.spare = Some(c.task.clone());
        }
        if !c.scenarios.is_empty() {
            self.done.push(c);
        }
    }

    /// What the scenario handed out last did: the clauses it exercised, and whether a request
    /// on its task was accepted (the task is consumed) or refused as not in the failed state
    /// (the task is spoilt: a request before acted on it).
    pub fn ran(&mut self, record: &ScenarioRecord) {
        let seen = self.seen.entry(record.location.clone()).or_insert(0);
        let new = record.judgements.get(*seen..).unwrap_or_default();
        *seen = record.judgements.len();
        for j in new {
            self.covered.extend(j.verdict.checked.iter().cloned());
        }
        if let Some(c) = self.current.as_mut() {
            // A request that may have acted lost its answer: the task is used, and says
            // nothing more.
            if record.outcome == ScenarioOutcome::Skipped(Skip::AnswerLost) {
                c.consumed = true;
                c.lost = true;
            }
            for j in new
                .iter()
                .filter(|j| j.task.as_deref() == Some(c.task.as_str()) && !j.derived)
            {
                if j.request.method.is_none() && j.status == 200 {
                    c.consumed = true;
                }
                // Refused as not failed before any acceptance: a request before acted.
                if found_not_failed(&self.spec, j) && !c.consumed {
                    c.spoilt = true;
                }
                c.sent.push(j.clone());
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
        let doors = self.doors_scenario.clone().filter(|_| !self.ran_doors);
        let mut out: Vec<(String, Assignment)> = self
            .refused
            .drain(..)
            .chain(self.other_methods.drain(..))
            .chain(self.maybe.drain(..))
            .chain(self.consumers.drain(..).map(|c| c.location))
            .chain(doors)
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
            // A task whose request lost its answer may still be failed: it stands for none.
            .find(|c| c.consumed && !c.lost)
            .map(|c| c.task.clone());
        let probes = self.probes_scenario.clone().filter(|_| !self.ran_probes);
        for location in self.after.drain(..).chain(probes) {
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

    /// The doors, and what the tasks showed of them.
    pub fn doors(&self) -> (&[Door], &Groups) {
        (&self.doors, &self.groups)
    }

    /// The run's fixtures, by which requests are matched to doors.
    pub fn fixtures(&self) -> &Fixtures {
        &self.fixtures
    }
}

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
    let mut chains = Chains::new(spec, plan, facts, covered.clone(), doors.to_vec(), fixtures);
    chains.predicting = true;
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
    if !doors.is_empty() && facts.failed_tasks.is_some() {
        lines.push(format!(
            "if a door acts (the request after the doors refused), the next failed tasks halve the suspects: {} tasks pin one door of {} without the read API",
            1 + doors.len().next_power_of_two().trailing_zeros(),
            doors.len()
        ));
    }
    lines
}

/// What the chains showed of the server's effects, added to the records of the requests
/// they judge: each door is judged by what the search over the tasks found of it (harmless,
/// pinned, or one of a group of which one acted); after an accepted retry or abort every
/// retry or abort on the task is refused; with the read API, an accepted request did what its
/// kind says once the task's status settled.
/// Returns what the chains showed of the fixtures (a task not failed when the run began).
pub(crate) fn judge_effects(
    spec: &Spec,
    chains: &Chains,
    records: &mut [ScenarioRecord],
) -> Vec<String> {
    let mut effects = Effects {
        spec,
        added: Vec::new(),
        relabels: Vec::new(),
        judged_doors: BTreeSet::new(),
        fixtures: Vec::new(),
    };
    for chain in chains.chains() {
        effects.judge_chain(chains, chain, records);
    }
    let Effects {
        added,
        relabels,
        fixtures,
        ..
    } = effects;
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
    for (r, judgement) in added {
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
    fixtures
}

/// The judgements the chains add, gathered before they are added.
struct Effects<'a> {
    spec: &'a Spec,
    /// (record, judgement).
    added: Vec<(usize, Judgement)>,
    /// (record, judgement, the kind it turned out to be, why).
    relabels: Vec<(usize, usize, Kind, String)>,
    /// Doors judged already (each once, on the request that first sent it).
    judged_doors: BTreeSet<DoorId>,
    /// What the chains showed of the user's fixtures.
    fixtures: Vec<String>,
}

impl Effects<'_> {
    fn judge_chain(&mut self, chains: &Chains, chain: &Chain, records: &[ScenarioRecord]) {
        let sequence = chain_sequence(chain, records);
        let at = |&(r, j): &(usize, usize)| &records[r].judgements[j];
        let accepted = sequence
            .iter()
            .position(|p| at(p).request.method.is_none() && at(p).status == 200);
        let before = &sequence[..accepted.unwrap_or(sequence.len())];
        for (i, &place) in before.iter().enumerate() {
            let opened = i == 0;
            self.judge_before_acceptance(chains, chain, records, place, opened, accepted.is_some());
        }
        if let Some(accepted) = accepted {
            self.judge_after_acceptance(records, &sequence, accepted);
        }
    }

    /// A request on the chain's task before one was accepted: its door's effect (once per
    /// door), or the effect of a refused request that is no door; and, when the task was
    /// found not failed, what that says (of the fixture, when it `opened` the chain).
    fn judge_before_acceptance(
        &mut self,
        chains: &Chains,
        chain: &Chain,
        records: &[ScenarioRecord],
        (r, j): (usize, usize),
        opened: bool,
        accepted: bool,
    ) {
        let spec = self.spec;
        let (doors, search) = chains.doors();
        let judgement = &records[r].judgements[j];
        let door = door_of(doors, chains.fixtures(), &chain.task, &judgement.request);
        match door {
            Some(d) if self.judged_doors.insert(d) => {
                self.judge_door(records, r, judgement, doors, d, search);
            }
            Some(_) => {}
            // Not a door (a parameter the page does not define, refused): it left the
            // task failed if the request after it was accepted.
            None if accepted && judgement.request.method.is_none() => {
                let clause = effect_clause(spec, judgement);
                let expected = "the task still failed after it".to_owned();
                self.added
                    .push((r, judgement.effect(spec, &clause, true, expected)));
            }
            None => {}
        }
        let Some(unusable) = found_unusable(spec, judgement) else {
            return;
        };
        let kind = judgement.verdict.kind;
        let task = &chain.task;
        let why = match (opened, &unusable) {
            // The first request on the task found it not usable: the task was not usable when
            // the run began (a fixture), not anything the server did.
            (true, _) => Some(format!(
                "fixture: task {task} was not usable when the run began: the {kind} request that opened its chain was refused as not in the failed state or unknown (an earlier run may have used it, or the ID is not a failed task of this cluster; give a task in the failed state, --failed-action-id)"
            )),
            // The read API showed it in a failed state just before, so no request before it
            // explains the refusal: the task itself is not usable.
            (false, Unusable::RefusedWhileRead(status)) => Some(format!(
                "fixture: task {task} is {status} and this server does not retry it: the {kind} request was refused as not in the failed state while the read API showed {status} just before (the page leaves open whether a {status} task is retried; give a FAILED task, --failed-action-id)"
            )),
            (false, _) => None,
        };
        let why = match why {
            Some(why) => {
                self.fixtures.push(why.clone());
                why
            }
            None => format!(
                "the task was no longer failed when this {kind} request was sent: a request before it on the task acted (or, without the read API to tell, the task was not usable from the start)"
            ),
        };
        self.relabels.push((r, j, Kind::TaskNotFailed, why));
    }

    /// After an accepted retry or abort, every retry or abort on the task is refused.
    fn judge_after_acceptance(
        &mut self,
        records: &[ScenarioRecord],
        sequence: &[(usize, usize)],
        accepted: usize,
    ) {
        let spec = self.spec;
        let at = |&(r, j): &(usize, usize)| &records[r].judgements[j];
        let (ar, aj) = sequence[accepted];
        let acceptance = at(&(ar, aj));
        self.judge_settled(ar, acceptance);
        for &(r, j) in &sequence[accepted + 1..] {
            let judgement = at(&(r, j));
            if judgement.request.method.is_some() {
                continue;
            }
            let holds = judgement.status != 200;
            let expected = format!(
                "a retry or abort of the task refused after {} {} was accepted (200)",
                acceptance.method,
                crate::shown::shorten(&acceptance.url)
            );
            // What an acceptance did is judged by the clause of its own kind: the page's two
            // requests by RUT-EFFECT-02; a retry with a parameter the page does not define by
            // the clause that says such a parameter is ignored (the retry succeeds).
            let acceptance_kind = acceptance.verdict.kind;
            let clause = match acceptance_kind {
                Kind::Retry | Kind::Abort => &spec.rules.acceptance_acts,
                other => match &spec.expectation(other).answered_by {
                    Some(clause) => clause,
                    None => continue,
                },
            };
            self.added
                .push((r, judgement.effect(spec, clause, holds, expected)));
            if !holds {
                // The task was taken for one not failed; this request was accepted on it.
                self.relabels.push((
                    r,
                    j,
                    crate::contract::classify::on_a_failed_task(spec, &judgement.request),
                    "the task was still failed: the retry or abort accepted before it did not take it out of the failed state".to_owned(),
                ));
            }
        }
    }

    /// One door's effect, as the search over the tasks found it.
    fn judge_door(
        &mut self,
        records: &[ScenarioRecord],
        r: usize,
        judgement: &Judgement,
        doors: &[Door],
        door: DoorId,
        search: &Groups,
    ) {
        let (verdict, confirmed) = (search.verdict(door), search.confirmed(door));
        let spec = self.spec;
        let clause = effect_clause(spec, judgement);
        let name = |d: DoorId| {
            doors
                .get(d)
                .map_or_else(|| format!("door {d}"), |d| d.name.clone())
        };
        let (holds, expected, clause) = match verdict {
            groups::DoorVerdict::Harmless => {
                (true, "the task still failed after it".to_owned(), clause)
            }
            groups::DoorVerdict::Acted => {
                let read = match &judgement.task_status {
                    Some((was, now)) if spec.read_api.acted_between(was, now) => {
                        format!("; the read API gave {was} before and {now} after it")
                    }
                    _ => String::new(),
                };
                (
                    false,
                    format!(
                        "the task still failed after it; it acted on the task (door: {}; {}){read}",
                        name(door),
                        records[r].location
                    ),
                    clause,
                )
            }
            groups::DoorVerdict::AmongActed(group) => {
                // One judgement for the group, on the first of its doors sent; the others
                // stay unjudged on their own (report.json lists each door's verdict).
                if group.first() != Some(&door) {
                    return;
                }
                let (clause, expected) = among_acted(spec, doors, &group, clause, name);
                (false, expected, clause)
            }
            groups::DoorVerdict::Unjudged => return,
        };
        let mut judged = judgement.effect(spec, &clause, holds, expected.clone());
        if !holds && !confirmed {
            unconfirmed(&mut judged, clause, &expected);
        }
        self.added.push((r, judged));
    }

    /// With the read API, what the accepted request did once the task's status settled.
    fn judge_settled(&mut self, r: usize, acceptance: &Judgement) {
        let spec = self.spec;
        let Some((was, now)) = &acceptance.task_status else {
            return;
        };
        let (was, now) = (&was.status, &now.status);
        // Shown failed still: a lagging read, or no effect, which the second request shows.
        if !spec.read_api.is_failed(was) || spec.read_api.is_failed(now) {
            return;
        }
        // What an accepted request did judges the clause of its own kind only: a retry with a
        // parameter the page does not define judges no clause of the page's two requests.
        let kind = acceptance.verdict.kind;
        let Some(rule) = spec.read_api.after_accepted(kind) else {
            return;
        };
        let holds = match rule.judge(now) {
            Settled::Holds => true,
            Settled::Broken => false,
            Settled::Unnamed => return,
        };
        let expected = format!(
            "after the accepted {kind}, a status of {}{}; the read API gave {was:?} before and {now:?} once settled",
            if rule.statuses.is_empty() {
                "any kind".to_owned()
            } else {
                rule.statuses.join(" or ")
            },
            if rule.not_statuses.is_empty() {
                String::new()
            } else {
                format!(", never {}", rule.not_statuses.join(" or "))
            }
        );
        self.added
            .push((r, acceptance.effect(spec, &rule.clause, holds, expected)));
    }
}

/// The clause that judges the effect of a door of `kind`.
fn door_clause(spec: &Spec, kind: Kind) -> String {
    spec.expectation(kind)
        .never_acts
        .clone()
        .unwrap_or_else(|| spec.rules.refusal_leaves_task.clone())
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

/// The requests on a chain's task, in the order they were sent: (record, judgement) places,
/// each scenario's once, effects seen later left out.
fn chain_sequence(chain: &Chain, records: &[ScenarioRecord]) -> Vec<(usize, usize)> {
    let mut locations: Vec<&String> = Vec::new();
    for l in &chain.scenarios {
        if !locations.contains(&l) {
            locations.push(l);
        }
    }
    let mut sequence = Vec::new();
    for location in locations {
        if let Some(r) = records.iter().position(|r| &r.location == location) {
            for (j, judgement) in records[r].judgements.iter().enumerate() {
                if judgement.task.as_deref() == Some(chain.task.as_str()) && !judgement.derived {
                    sequence.push((r, j));
                }
            }
        }
    }
    sequence
}

/// How a retry or abort that a failed task would accept found its task not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unusable {
    /// The read API showed it out of the failed state before the request.
    ReadNotFailed(String),
    /// Refused as not failed or no such record, the read API showing it in a failed state a
    /// server may decline to retry (the page leaves open whether a PARTIAL_FAILED task is).
    RefusedWhileRead(String),
    /// Refused as not failed or no such record, without the read API.
    Refused,
}

/// Whether a retry or abort that a failed task would accept found its task not usable: refused
/// with a code the vendor's table gives for a task not failed or unknown, or read not failed
/// before it was sent. A task the read API showed in a status no server may refuse, refused
/// all the same, is not the task's doing: the refusal stands as the server's.
fn found_unusable(spec: &Spec, judgement: &Judgement) -> Option<Unusable> {
    let expects_failed =
        judgement.request.method.is_none() && spec.expectation(judgement.verdict.kind).accepts();
    if !expects_failed {
        return None;
    }
    let api = &spec.read_api;
    let refused = spec.says_task_unusable(judgement.status, judgement.error_code.as_deref());
    match judgement.task_status.as_ref().map(|(was, _)| &was.status) {
        Some(was) if !api.is_failed(was) => Some(Unusable::ReadNotFailed(was.clone())),
        Some(was) if refused && !api.is_retryable(was) => {
            Some(Unusable::RefusedWhileRead(was.clone()))
        }
        Some(_) => None,
        None => refused.then_some(Unusable::Refused),
    }
}

/// Whether a retry or abort found its task not usable (see `found_unusable`).
fn found_not_failed(spec: &Spec, judgement: &Judgement) -> bool {
    found_unusable(spec, judgement).is_some()
}

/// The clause and the words of a group of doors one of which acted (no task left, and no
/// read API, to pin it): the clause its doors share, or the refusals' own when they are of
/// several kinds.
fn among_acted(
    spec: &Spec,
    doors: &[Door],
    group: &[DoorId],
    clause: String,
    name: impl Fn(DoorId) -> String,
) -> (String, String) {
    let clauses: BTreeSet<String> = group
        .iter()
        .filter_map(|d| doors.get(*d))
        .map(|d| door_clause(spec, d.kind))
        .collect();
    let clause = match clauses.len() {
        1 => clauses.into_iter().next().unwrap_or(clause),
        _ => spec.rules.refusal_leaves_task.clone(),
    };
    const SHOWN: usize = 8;
    let mut names: Vec<String> = group.iter().take(SHOWN).map(|d| name(*d)).collect();
    if group.len() > SHOWN {
        names.push(format!(
            "and {} more (report.json: doors)",
            group.len() - SHOWN
        ));
    }
    let expected = format!(
        "the task still failed after each door; it left the failed state after them (the retry or abort after them was refused as not failed, or the read API showed it within the time an effect may take to show): one of these {} doors acted (more failed tasks would pin it): {}",
        group.len(),
        names.join("; ")
    );
    (clause, expected)
}

/// An effect a task an earlier run used up would show as well: unconfirmed, not a failure.
fn unconfirmed(judged: &mut Judgement, clause: String, expected: &str) {
    judged.verdict.violations.clear();
    judged.verdict.checked.clear();
    judged.verdict.unconfirmed.push(clause);
    judged.verdict.note = Some(format!(
        "unconfirmed: {expected}; a failed task that was not failed when the run began (used up by an earlier run) would be refused the same way; another failed task, or --read-api, would decide it"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surveyed(location: &str, needs: Needs, role: Role) -> Surveyed {
        Surveyed {
            location: location.to_owned(),
            needs,
            role,
            checks: BTreeSet::new(),
        }
    }

    fn facts() -> Facts {
        Facts {
            mutations: true,
            failed_tasks: Some(2),
            task_not_failed: None,
            foreign_project: true,
            aksk: false,
            tasks_proven: false,
        }
    }

    fn survey() -> Vec<Surveyed> {
        let failed = Needs {
            failed_task: true,
            ..Needs::default()
        };
        vec![
            surveyed("a:1", Needs::default(), Role::Safe),
            surveyed("a:2", failed, Role::Consumes),
            surveyed(
                "a:3",
                Needs {
                    aksk: true,
                    ..Needs::default()
                },
                Role::Safe,
            ),
            surveyed(
                "a:4",
                Needs {
                    task_not_failed: true,
                    ..Needs::default()
                },
                Role::AfterConsumption,
            ),
        ]
    }

    #[test]
    fn scenarios_without_tasks_run_at_once_and_those_on_tasks_are_chained() {
        let plan = Plan::new(&survey(), &facts());
        assert_eq!(plan.at_once.keys().collect::<Vec<_>>(), ["a:1"]);
        assert_eq!(plan.skipped.get("a:3"), Some(&Skip::NeedsAkSk));
        let chained: Vec<&str> = plan.chained.iter().map(|s| s.location.as_str()).collect();
        assert_eq!(chained, ["a:2", "a:4"]);
    }

    #[test]
    fn without_consent_or_tasks_the_mutating_scenarios_are_skipped_naming_why() {
        let refused = Plan::new(
            &survey(),
            &Facts {
                mutations: false,
                ..facts()
            },
        );
        assert_eq!(refused.skipped.get("a:2"), Some(&Skip::Mutating));
        assert_eq!(refused.skipped.get("a:4"), Some(&Skip::Mutating));
        assert!(refused.chained.is_empty());

        let none = Plan::new(
            &survey(),
            &Facts {
                failed_tasks: Some(0),
                ..facts()
            },
        );
        assert_eq!(none.skipped.get("a:2"), Some(&Skip::NoTaskLeft));
        assert_eq!(none.skipped.get("a:4"), Some(&Skip::NoTaskNotFailed));

        // A configured task that is not failed lets the scenario that needs one run at once.
        let given = Plan::new(
            &survey(),
            &Facts {
                failed_tasks: Some(0),
                task_not_failed: Some("t".to_owned()),
                ..facts()
            },
        );
        assert_eq!(given.at_once.get("a:4"), Some(&Some("t".to_owned())));
    }

    fn judgement(kind: Kind, status: u16, error_code: Option<&str>) -> Judgement {
        Judgement::sample(Verdict::of(kind), status, error_code)
    }

    #[test]
    fn a_retry_refused_as_not_failed_found_its_task_not_failed_and_a_refusal_did_not() {
        let spec = Spec::embedded();
        // Each code the vendor's table gives for a task not failed says so, at its status.
        let codes = &spec.expectation(Kind::TaskNotFailed).codes;
        assert!(codes.len() > 1, "{codes:?}");
        for code in codes {
            let refused_as_not_failed = judgement(Kind::Retry, 400, Some(code));
            assert!(found_not_failed(&spec, &refused_as_not_failed), "{code}");
            assert!(!found_not_failed(
                &spec,
                &judgement(Kind::Retry, 403, Some(code))
            ));
        }
        let code = codes.first().cloned();
        // Another error code, or a request a failed task refuses too, says nothing of it.
        assert!(!found_not_failed(
            &spec,
            &judgement(Kind::Retry, 400, Some("CSS.0000"))
        ));
        assert!(!found_not_failed(
            &spec,
            &judgement(Kind::Retry, 400, Some("CSS.0001"))
        ));
        let refusal = judgement(Kind::InvalidRetryMode, 400, code.as_deref());
        assert!(!found_not_failed(&spec, &refusal));
        assert!(!found_not_failed(&spec, &judgement(Kind::Retry, 200, None)));
        // The read API showing it not failed before the request says so too.
        let mut read = judgement(Kind::Retry, 200, None);
        read.task_status = Some((
            crate::contract::spec::TaskRead::of_status("RUNNING"),
            crate::contract::spec::TaskRead::of_status("RUNNING"),
        ));
        assert!(found_not_failed(&spec, &read));
    }
}
