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

use crate::contract::doors::{self, Door};
use crate::contract::spec::{Level, Spec};
use crate::engines::scenarios::run_state::Assignment;

use super::plan::Plan;
use super::survey::{Facts, Role, Surveyed};
use crate::fixtures::Fixtures;
use crate::records::effects::groups::{DoorId, Groups, Outcome};
use crate::records::effects::judge::{self, found_not_failed};
use crate::records::effects::witness::{self, Sent};
use crate::records::judgement::{Judgement, ScenarioOutcome, ScenarioRecord, Skip};

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
    /// Chains that predict the run (`describe`): each consuming scenario is taken to consume.
    pub(super) fn predicting(mut self) -> Chains {
        self.predicting = true;
        self
    }

    /// Says how late an effect may show on the target: a read API that shows a task changed
    /// after a door points at every door sent within that time before it.
    pub(crate) fn with_settle(mut self, settle: std::time::Duration) -> Chains {
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
    pub(super) fn predict(&mut self, s: &Surveyed) {
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

    /// Judges what the chains showed of the server's effects (`records::effects::judge`) and
    /// adds it to `records`; returns what they showed of the fixtures.
    pub(crate) fn judge(&self, spec: &Spec, records: &mut [ScenarioRecord]) -> Vec<String> {
        let walks: Vec<judge::Walk<'_>> = self
            .done
            .iter()
            .map(|c| judge::Walk {
                task: &c.task,
                scenarios: &c.scenarios,
            })
            .collect();
        let run = judge::Run {
            walks: &walks,
            doors: &self.doors,
            search: &self.groups,
            fixtures: &self.fixtures,
        };
        judge::judge(spec, &run, records).apply(spec, records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::judgement::Needs;

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
}
