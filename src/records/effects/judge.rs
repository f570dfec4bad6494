//! What the chains of a run showed of the server's effects, judged from the records alone:
//! each door by what the search over the tasks found of it, every retry or abort after an
//! accepted one, and (with the read API) what an accepted request did once its task settled.
//! A pure function of values (`judge`), its result applied to the records after (`apply`).

use std::collections::{BTreeMap, BTreeSet};

use crate::contract::doors::{Door, door_of};
use crate::contract::spec::{Kind, Settled, Spec};
use crate::contract::verdict::Verdict;
use crate::fixtures::Fixtures;
use crate::records::effects::groups::{self, DoorId, Groups};
use crate::records::judgement::{Judgement, ScenarioOutcome, ScenarioRecord};

use crate::settings::{Flag, flag};

const FAILED_TASKS: &Flag = flag("fixtures.failed_action_ids");
const READ_API: &Flag = flag("read_api");

/// What the chains showed of the server's effects, added to the records of the requests
/// they judge: each door is judged by what the search over the tasks found of it (harmless,
/// pinned, or one of a group of which one acted); after an accepted retry or abort every
/// retry or abort on the task is refused; with the read API, an accepted request did what its
/// kind says once the task's status settled.
/// Returns what the chains showed of the fixtures (a task not failed when the run began).
pub fn judge(spec: &Spec, run: &Run<'_>, records: &[ScenarioRecord]) -> Effects {
    let mut judge = Judge {
        spec,
        run,
        effects: Effects::default(),
        judged_doors: BTreeSet::new(),
    };
    for walk in run.walks {
        judge.judge_walk(walk, records);
    }
    judge.effects
}

impl Effects {
    /// Adds the judgements to `records` and relabels the requests, the scenarios' outcomes
    /// following; returns what the chains showed of the fixtures.
    pub fn apply(self, spec: &Spec, records: &mut [ScenarioRecord]) -> Vec<String> {
        let Effects {
            added,
            relabels,
            fixtures,
        } = self;
        let mut touched: BTreeMap<usize, Option<String>> = BTreeMap::new();
        for r in relabels {
            relabel(
                spec,
                &mut records[r.at.record].judgements[r.at.judgement].verdict,
                r.kind,
                r.why.clone(),
            );
            touched.insert(r.at.record, Some(r.why));
        }
        for a in added {
            records[a.record].judgements.push(a.judgement);
            touched.entry(a.record).or_insert(None);
        }
        outcomes_follow(records, touched);
        fixtures
    }
}

/// Each touched record's outcome as its judgements now stand (`Some(why)`: relabelled so).
pub(crate) fn outcomes_follow(
    records: &mut [ScenarioRecord],
    touched: BTreeMap<usize, Option<String>>,
) {
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

/// What the chains of a run did and knew: the requests each sent on its task, the doors and
/// what the tasks showed of them, the fixtures by which requests are matched to doors.
pub struct Run<'a> {
    pub walks: &'a [Walk<'a>],
    pub doors: &'a [Door],
    pub search: &'a Groups,
    pub fixtures: &'a Fixtures,
}

/// One chain: its task and the scenarios that sent requests on it, in order.
pub struct Walk<'a> {
    pub task: &'a str,
    pub scenarios: &'a [String],
}

/// A request of a record: `records[record].judgements[judgement]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub record: usize,
    pub judgement: usize,
}

/// A judgement the chains add to a record.
#[derive(Debug, Clone)]
pub struct Added {
    pub record: usize,
    pub judgement: Judgement,
}

/// A request whose task turned out to be in another state than its scenario assumed: judged
/// as a `kind` request, for `why`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relabel {
    pub at: At,
    pub kind: Kind,
    pub why: String,
}

/// The judgements the chains add and the relabels they make, gathered before `apply`.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    pub added: Vec<Added>,
    pub relabels: Vec<Relabel>,
    /// What the chains showed of the user's fixtures.
    pub fixtures: Vec<String>,
}

struct Judge<'a> {
    spec: &'a Spec,
    run: &'a Run<'a>,
    effects: Effects,
    /// Doors judged already (each once, on the request that first sent it).
    judged_doors: BTreeSet<DoorId>,
}

impl Judge<'_> {
    fn judge_walk(&mut self, walk: &Walk<'_>, records: &[ScenarioRecord]) {
        let sequence = walk_sequence(walk, records);
        let at = |&(r, j): &(usize, usize)| &records[r].judgements[j];
        let accepted = sequence
            .iter()
            .position(|p| at(p).request.method.is_none() && at(p).status == 200);
        let before = &sequence[..accepted.unwrap_or(sequence.len())];
        for (i, &place) in before.iter().enumerate() {
            let opened = i == 0;
            self.judge_before_acceptance(walk, records, place, opened, accepted.is_some());
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
        walk: &Walk<'_>,
        records: &[ScenarioRecord],
        (r, j): (usize, usize),
        opened: bool,
        accepted: bool,
    ) {
        let spec = self.spec;
        let (doors, search) = (self.run.doors, self.run.search);
        let judgement = &records[r].judgements[j];
        let door = door_of(doors, self.run.fixtures, walk.task, &judgement.request);
        match door {
            Some(d) if self.judged_doors.insert(d) => {
                self.judge_door(records, r, judgement, doors, d, search);
            }
            Some(_) => {}
            // Not a door (a parameter the page does not define, refused): it left the
            // task failed if the request after it was accepted.
            None if accepted && judgement.request.method.is_none() => {
                let clause = spec.effect_clause(judgement.verdict.kind);
                let expected = "the task still failed after it".to_owned();
                self.add(r, judgement.effect(spec, clause, true, expected));
            }
            None => {}
        }
        let Some(unusable) = found_unusable(spec, judgement) else {
            return;
        };
        let kind = judgement.verdict.kind;
        let task = walk.task;
        let why = match (opened, &unusable) {
            // The first request on the task found it not usable: the task was not usable when
            // the run began (a fixture), not anything the server did.
            (true, _) => Some(format!(
                "fixture: task {task} was not usable when the run began: the {kind} request that opened its chain was refused as not in the failed state or unknown (an earlier run may have used it, or the ID is not a failed task of this cluster; give a task in the failed state, {FAILED_TASKS})"
            )),
            // The read API showed it in a failed state just before, so no request before it
            // explains the refusal: the task itself is not usable.
            (false, Unusable::RefusedWhileRead(status)) => Some(format!(
                "fixture: task {task} is {status} and this server does not retry it: the {kind} request was refused as not in the failed state while the read API showed {status} just before (the page leaves open whether a {status} task is retried; give a FAILED task, {FAILED_TASKS})"
            )),
            (false, _) => None,
        };
        let why = match why {
            Some(why) => {
                self.effects.fixtures.push(why.clone());
                why
            }
            None => format!(
                "the task was no longer failed when this {kind} request was sent: a request before it on the task acted (or, without the read API to tell, the task was not usable from the start)"
            ),
        };
        self.relabel(r, j, Kind::TaskNotFailed, why);
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
            self.add(r, judgement.effect(spec, clause, holds, expected));
            if !holds {
                // The task was taken for one not failed; this request was accepted on it.
                self.relabel(
                    r,
                    j,
                    crate::contract::classify::on_a_failed_task(spec, &judgement.request),
                    "the task was still failed: the retry or abort accepted before it did not take it out of the failed state".to_owned(),
                );
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
        let clause = spec.effect_clause(judgement.verdict.kind).to_owned();
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
        self.add(r, judged);
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
        self.add(r, acceptance.effect(spec, &rule.clause, holds, expected));
    }

    fn add(&mut self, record: usize, judgement: Judgement) {
        self.effects.added.push(Added { record, judgement });
    }

    fn relabel(&mut self, record: usize, judgement: usize, kind: Kind, why: String) {
        self.effects.relabels.push(Relabel {
            at: At { record, judgement },
            kind,
            why,
        });
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

/// The requests on a chain's task, in the order they were sent: (record, judgement) places,
/// each scenario's once, effects seen later left out.
fn walk_sequence(walk: &Walk<'_>, records: &[ScenarioRecord]) -> Vec<(usize, usize)> {
    let mut locations: Vec<&String> = Vec::new();
    for l in walk.scenarios {
        if !locations.contains(&l) {
            locations.push(l);
        }
    }
    let mut sequence = Vec::new();
    for location in locations {
        if let Some(r) = records.iter().position(|r| &r.location == location) {
            for (j, judgement) in records[r].judgements.iter().enumerate() {
                if judgement.task.as_deref() == Some(walk.task) && !judgement.derived {
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
pub(crate) fn found_not_failed(spec: &Spec, judgement: &Judgement) -> bool {
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
        .map(|d| spec.effect_clause(d.kind).to_owned())
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
        "unconfirmed: {expected}; a failed task that was not failed when the run began (used up by an earlier run) would be refused the same way; another failed task, or {READ_API}, would decide it"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Records at `a:1`, `b:2`, ... each holding one request on task `t`, answered as given.
    fn walked(answers: &[(Kind, u16, Option<&str>)]) -> (Vec<ScenarioRecord>, Vec<String>) {
        let mut records = Vec::new();
        let mut locations = Vec::new();
        for (i, (kind, status, code)) in answers.iter().enumerate() {
            let location = format!("{}:{}", (b'a' + i as u8) as char, i + 1);
            let mut record = ScenarioRecord::sample(&location);
            record.judgements.push(judgement(*kind, *status, *code));
            records.push(record);
            locations.push(location);
        }
        (records, locations)
    }

    fn judged(spec: &Spec, records: &[ScenarioRecord], locations: &[String]) -> Effects {
        let walks = [Walk {
            task: "t",
            scenarios: locations,
        }];
        let fixtures = Fixtures::builtin();
        let search = Groups::new(0);
        let run = Run {
            walks: &walks,
            doors: &[],
            search: &search,
            fixtures: &fixtures,
        };
        judge(spec, &run, records)
    }

    #[test]
    fn a_refusal_before_an_accepted_retry_left_the_task_failed_and_a_second_accepted_retry_did_not_take_it_out()
     {
        let spec = Spec::embedded();
        let (mut records, locations) = walked(&[
            (Kind::InvalidRetryMode, 400, Some("CSS.0001")),
            (Kind::Retry, 200, None),
            (Kind::Retry, 200, None),
        ]);
        let effects = judged(&spec, &records, &locations);
        let added: Vec<(usize, bool, Vec<&str>)> = effects
            .added
            .iter()
            .map(|a| {
                let v = &a.judgement.verdict;
                let clauses = v.violations.iter().map(|x| x.clause.as_str()).collect();
                (a.record, v.passed(), clauses)
            })
            .collect();
        assert_eq!(
            added,
            [
                (0, true, vec![]),
                (2, false, vec![spec.rules.acceptance_acts.as_str()])
            ]
        );
        // The second acceptance is judged as what it was: a request on a failed task.
        let as_on_a_failed_task =
            crate::contract::classify::on_a_failed_task(&spec, &records[2].judgements[0].request);
        assert_eq!(
            effects
                .relabels
                .iter()
                .map(|r| (r.at, r.kind))
                .collect::<Vec<_>>(),
            [(
                At {
                    record: 2,
                    judgement: 0
                },
                as_on_a_failed_task
            )]
        );
        assert!(effects.fixtures.is_empty());
        let fixtures = effects.apply(&spec, &mut records);
        assert!(fixtures.is_empty());
        assert!(matches!(records[2].outcome, ScenarioOutcome::Failed(_)));
        assert!(matches!(records[0].outcome, ScenarioOutcome::Passed));
    }

    #[test]
    fn a_task_refused_as_not_failed_by_the_request_that_opened_its_chain_is_the_fixtures_doing() {
        let spec = Spec::embedded();
        let code = spec.expectation(Kind::TaskNotFailed).codes.first().cloned();
        let (records, locations) = walked(&[(Kind::Retry, 400, code.as_deref())]);
        let effects = judged(&spec, &records, &locations);
        assert!(effects.added.is_empty());
        assert_eq!(effects.relabels.len(), 1);
        assert_eq!(effects.relabels[0].kind, Kind::TaskNotFailed);
        assert_eq!(effects.fixtures.len(), 1);
        assert!(
            effects.fixtures[0].starts_with("fixture: task t was not usable"),
            "{}",
            effects.fixtures[0]
        );
        // The same refusal after an accepted request on the task is no fixture's doing.
        let (records, locations) = walked(&[
            (Kind::Abort, 200, None),
            (Kind::Retry, 400, code.as_deref()),
        ]);
        let effects = judged(&spec, &records, &locations);
        assert!(effects.fixtures.is_empty());
        assert!(effects.added.iter().all(|a| a.judgement.verdict.passed()));
    }
}
