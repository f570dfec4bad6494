//! Shrinking: each violated clause's first failing case made the simplest draft that still
//! violates it, one request at a time and never the same one twice (`search`, generic and
//! unit-tested), then sent again to see whether it reproduces, within the budgets.

use std::collections::BTreeMap;

use crate::contract::request::Request;
use crate::contract::spec::{Level, Spec};
use crate::contract::verdict::Verdict;
use crate::transport::target::Target;

use super::strategy::{self, Draft, Scope};
use proptest::strategy::ValueTree;

use super::case::{Attempt, Tree, send, send_as, tree_at};
use super::options::FuzzOptions;
use crate::records::findings::{Finding, Reproduction};

use crate::settings::options::REPEAT;

/// Walks `tree` from `best` (a value and the answer that violates) to simpler values, sending
/// each candidate (`send`) at most once and keeping the simplest that still `violates`; at
/// most `max_steps` sends, and a bounded number of visits to candidates answered before.
/// Returns the simplest violating value with its answer, and the sends it took.
pub(super) async fn search<T, A, Fut>(
    tree: &mut dyn ValueTree<Value = T>,
    mut best: (T, A),
    max_steps: u32,
    mut send: impl FnMut(T) -> Fut,
    violates: impl Fn(&A) -> bool,
) -> ((T, A), u32)
where
    T: Clone + Eq + std::hash::Hash + std::fmt::Debug,
    A: Clone,
    Fut: std::future::Future<Output = A>,
{
    let mut steps = 0;
    // A candidate shrinking comes back to is judged by the answer it got: never sent twice.
    let mut answered: std::collections::HashMap<T, A> =
        std::collections::HashMap::from([(best.0.clone(), best.1.clone())]);
    // Visits of candidates answered before cost nothing, but are bounded all the same.
    let mut visits = 0u32;
    if !tree.simplify() {
        return (best, steps);
    }
    while steps < max_steps && visits < max_steps.saturating_mul(4).max(16) {
        visits += 1;
        let value = tree.current();
        let sent = match answered.get(&value) {
            Some(sent) => sent.clone(),
            None => {
                steps += 1;
                let sent = send(value.clone()).await;
                answered.insert(value.clone(), sent.clone());
                sent
            }
        };
        if violates(&sent) {
            best = (value, sent);
            if !tree.simplify() {
                break;
            }
        } else if !tree.complicate() {
            break;
        }
    }
    (best, steps)
}

/// Shrinks each clause's first failing case into a finding, within the shrink budget.
pub(super) async fn shrink_all(
    spec: &Spec,
    target: &Target,
    options: &FuzzOptions,
    scope: Scope,
    first_failure: BTreeMap<String, FirstFailure>,
) -> Vec<Finding> {
    if first_failure.is_empty() {
        return Vec::new();
    }
    let strategy = strategy::arb_draft(spec, scope);
    let mut budget = options.shrink_budget;
    // While shrinking, a 5xx is an answer like another, not a reason to send again.
    target.retry_failures(false);
    let to_shrink = first_failure.len() as u32;
    // Clauses whose minimal cases are the same case share its repeats.
    let mut repeated = Repeats::new();
    let mut findings = Vec::new();
    for (done, (clause, first)) in (0..).zip(first_failure) {
        let share = (budget / (to_shrink - done)).min(options.max_shrink_steps);
        let tree = tree_at(&strategy, options.seed, first.index);
        let shrinking = Shrinking {
            spec,
            target,
            options,
            clause: &clause,
        };
        let finding = shrinking.shrink(share, first, tree, &mut repeated).await;
        budget -= finding.shrink_steps;
        findings.push(finding);
    }
    target.retry_failures(true);
    findings
}

/// A clause's first failing case in the seeded order.
pub(super) struct FirstFailure {
    pub(super) index: u64,
    pub(super) request: Box<Request>,
    pub(super) verdict: Verdict,
}

/// Why a case is neither shrunk nor repeated against a live endpoint.
const UNSAFE_TO_REPEAT: &str =
    "it uses a failed task of the endpoint, which is not spent to shrink or repeat it";

/// The answers to a request's repeats: clauses whose minimal cases are the same request are
/// judged from the same repeats, not from repeats of their own.
type Repeats = std::collections::HashMap<Request, Vec<Attempt>>;

/// The shrinking of one clause's first failing case into a finding.
struct Shrinking<'a> {
    spec: &'a Spec,
    target: &'a Target,
    options: &'a FuzzOptions,
    clause: &'a str,
}

impl Shrinking<'_> {
    fn violates(&self, sent: &Attempt) -> bool {
        matches!(sent, Attempt::Judged { verdict, .. } if verdict.violates(self.clause))
    }

    /// Shrinks `tree` to the simplest draft that still violates the clause, one request at a
    /// time, at most `max_steps` of them, then sends the result again `options.repeats` times
    /// to see whether it reproduces.
    async fn shrink(
        &self,
        max_steps: u32,
        first: FirstFailure,
        mut tree: Tree,
        repeated: &mut Repeats,
    ) -> Finding {
        let (spec, target) = (self.spec, self.target);
        let aside = self.options.set_aside.as_ref();
        let original = tree.current();
        let first_seen = Attempt::Judged {
            request: first.request,
            verdict: first.verdict,
        };
        if original.mutates() && !target.is_owned_by_us() {
            // Every re-send, to shrink or to repeat, would spend another of the endpoint's
            // few failed tasks (or meet one the first send already changed): reported as
            // first seen.
            let case = Shrunk {
                index: first.index,
                draft: original,
                seen: first_seen,
                steps: 0,
            };
            let why = UNSAFE_TO_REPEAT.to_owned();
            return self.finding(case, Reproduction::NotRepeated { why });
        }
        // Shrinking starts from the case as first answered (no re-send to confirm it: the
        // repeats of the result tell a steady finding from an intermittent one).
        let (best, steps) = search(
            tree.as_mut(),
            (original, first_seen),
            max_steps,
            |draft: Draft| async move { send(spec, target, &draft, aside).await },
            |sent: &Attempt| self.violates(sent),
        )
        .await;
        let reproduction = self.reproduce(&best.0, repeated).await;
        let case = Shrunk {
            index: first.index,
            draft: best.0,
            seen: best.1,
            steps,
        };
        self.finding(case, reproduction)
    }

    /// Sends `draft` again `options.repeats` times, where that is safe: a case that uses a
    /// failed task is sent again only to the tool's own stub (with a fresh task each time),
    /// never to a live endpoint, whose failed tasks are too rare to spend on it. The answers
    /// are kept in `repeated` for another clause whose minimal case is the same request.
    async fn reproduce(&self, draft: &Draft, repeated: &mut Repeats) -> Reproduction {
        let not_repeated = |why: &str| Reproduction::NotRepeated {
            why: why.to_owned(),
        };
        if self.options.repeats == 0 {
            return not_repeated(&format!("repeats are off ({REPEAT} 0)"));
        }
        if draft.mutates() && !self.target.is_owned_by_us() {
            return not_repeated(UNSAFE_TO_REPEAT);
        }
        // The request it makes, when that is the same each time (one that uses a failed task
        // takes a fresh one each time, and is not shared).
        let request = (!draft.mutates())
            .then(|| draft.resolve(self.spec, self.target))
            .flatten()
            .map(|case| case.request);
        let (mut judged, mut violated) = (0, 0);
        for made in 0..self.options.repeats as usize {
            let earlier = request
                .as_ref()
                .and_then(|r| repeated.get(r))
                .and_then(|answers| answers.get(made).cloned());
            let sent = match earlier {
                Some(sent) => sent,
                None => {
                    let aside = self.options.set_aside.as_ref();
                    let sent = send_as(self.spec, self.target, draft, true, aside).await;
                    if let Some(r) = &request {
                        repeated.entry(r.clone()).or_default().push(sent.clone());
                    }
                    sent
                }
            };
            match sent {
                Attempt::NoTask if judged == 0 => {
                    return not_repeated("no failed task was left to send it again");
                }
                Attempt::NoTask => break,
                Attempt::Judged { verdict, .. } => {
                    judged += 1;
                    violated += u32::from(verdict.violates(self.clause));
                }
                Attempt::Transport(_) => {}
            }
        }
        if judged == 0 {
            return not_repeated("it got no answer when sent again");
        }
        Reproduction::Repeated {
            violated,
            of: judged,
        }
    }

    /// The finding a shrunk case makes.
    fn finding(&self, case: Shrunk, reproduction: Reproduction) -> Finding {
        let (spec, target) = (self.spec, self.target);
        let Attempt::Judged { request, verdict } = case.seen else {
            unreachable!("a finding's case always has a judged, violating answer")
        };
        let level = spec.clause(self.clause).map_or(Level::Must, |c| c.level);
        // The exact request that was judged; a failed task it used is spent now, so `replay`
        // (which takes a fresh one) is the way to re-send a case that needs one.
        Finding {
            tool: format!("css-conformance {}", env!("CARGO_PKG_VERSION")),
            clause: self.clause.to_owned(),
            level,
            seed: self.options.seed,
            case_index: case.index,
            shrink_steps: case.steps,
            draft: case.draft,
            target: target.name().to_owned(),
            ephemeral_target: target.is_ephemeral(),
            method: request.method(spec).to_owned(),
            url: target.url(spec, &request),
            curl: target.curl(spec, &request),
            verdict,
            reproduction,
            origin: self.options.origin.clone(),
        }
    }
}

/// The case a finding reports: its index in the seeded order, its draft after shrinking, the
/// answer that showed it, and the requests shrinking took.
struct Shrunk {
    index: u64,
    draft: Draft,
    seen: Attempt,
    steps: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;
    use proptest::test_runner::TestRunner;

    /// Shrinks a number from `start` (drawn from `0..10_000`) under "violates when at least
    /// `threshold`", counting each value sent.
    fn shrunk(threshold: u32, max_steps: u32) -> ((u32, bool), u32, Vec<u32>) {
        let mut runner = TestRunner::deterministic();
        let mut tree = loop {
            let tree = (0u32..10_000).new_tree(&mut runner).unwrap();
            if tree.current() >= threshold {
                break tree;
            }
        };
        let start = tree.current();
        let mut sent = Vec::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let found = runtime.block_on(search(
            &mut tree,
            (start, true),
            max_steps,
            |n: u32| {
                sent.push(n);
                std::future::ready(n >= threshold)
            },
            |violated: &bool| *violated,
        ));
        (found.0, found.1, sent)
    }

    #[test]
    fn shrinking_finds_the_simplest_value_that_still_violates_sending_none_twice() {
        let ((value, violated), steps, sent) = shrunk(37, 256);
        assert_eq!((value, violated), (37, true));
        assert_eq!(steps as usize, sent.len());
        let mut unique = sent.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), sent.len(), "a value sent twice: {sent:?}");
    }

    #[test]
    fn a_finding_shows_the_method_its_request_was_sent_with() {
        let spec = Spec::embedded();
        let target = Target::new(
            "t",
            "http://127.0.0.1:9",
            crate::transport::target::Auth::None,
            crate::fixtures::Fixtures::builtin(),
        )
        .unwrap();
        let options = FuzzOptions::default();
        let shrinking = Shrinking {
            spec: &spec,
            target: &target,
            options: &options,
            clause: "RUT-STATUS-02",
        };
        let mut request = crate::contract::request::Request::sample();
        request.method = Some("HEAD".to_owned());
        let case = Shrunk {
            index: 0,
            draft: Draft::on_unknown_task(),
            seen: Attempt::Judged {
                request: Box::new(request),
                verdict: crate::contract::verdict::Verdict::of(
                    crate::contract::spec::Kind::OtherMethod,
                ),
            },
            steps: 0,
        };
        let finding = shrinking.finding(case, Reproduction::default());
        assert_eq!(finding.method, "HEAD");
        assert!(
            finding.curl.starts_with("curl -sS -I '"),
            "{}",
            finding.curl
        );
    }

    #[test]
    fn shrinking_stops_at_its_budget_with_the_simplest_value_seen() {
        let ((value, violated), steps, sent) = shrunk(37, 3);
        assert_eq!(steps, 3);
        assert_eq!(sent.len(), 3);
        assert!(violated && value >= 37);
        // With no budget it keeps the first failing case as it was.
        let ((_, violated), steps, sent) = shrunk(37, 0);
        assert!(violated);
        assert_eq!((steps, sent.len()), (0, 0));
    }
}
