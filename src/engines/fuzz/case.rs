//! One case of a run: made again from the seed and its index alone (`tree_at`), sent, and
//! what came of it (`Attempt`).

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::contract::oracle;
use crate::contract::request::Request;
use crate::contract::spec::Spec;
use crate::contract::verdict::Verdict;
use crate::records::suspect::Suspicion;
use crate::transport::target::Target;

use super::generation;
use super::strategy::{self, Draft, Scope};

/// The test runner of case `index` of the run seeded with `seed`: every case has a random
/// stream of its own, so any one case can be made again alone (to shrink or replay it) and
/// cases can be generated on another thread than the one sending them.
fn runner_for(seed: u64, index: u64) -> TestRunner {
    generation::seeded_runner(seed, index)
}

pub(super) fn tree_at(strategy: &BoxedStrategy<Draft>, seed: u64, index: u64) -> Tree {
    strategy
        .new_tree(&mut runner_for(seed, index))
        .unwrap_or_else(|e| unreachable!("the strategies do not reject wholesale: {e}"))
}

/// The first `n` drafts of the run seeded with `seed` (the same seed, the same cases).
pub fn drafts(spec: &Spec, scope: Scope, seed: u64, n: u64) -> Vec<Draft> {
    let strategy = strategy::arb_draft(spec, scope);
    (0..n)
        .map(|i| tree_at(&strategy, seed, i).current())
        .collect()
}

/// What came of sending one draft.
#[derive(Clone)]
pub(super) enum Attempt {
    Judged {
        request: Box<Request>,
        verdict: Verdict,
    },
    NoTask,
    Transport(String),
}

/// Sends `draft` and judges the answer; a violation with the answer `aside` names (one a
/// project or a cluster that is not the caller's gets, where the run could not tell its own
/// from another's) is set aside, not judged.
pub(super) async fn send(
    spec: &Spec,
    target: &Target,
    draft: &Draft,
    aside: Option<&Suspicion>,
) -> Attempt {
    send_as(spec, target, draft, false, aside).await
}

/// `send`, or (`again`) a send on purpose of a case already answered, to see whether it
/// reproduces.
pub(super) async fn send_as(
    spec: &Spec,
    target: &Target,
    draft: &Draft,
    again: bool,
    aside: Option<&Suspicion>,
) -> Attempt {
    let Some(case) = draft.resolve(spec, target) else {
        return Attempt::NoTask;
    };
    let answer = if again {
        target.send_again(spec, &case.request).await
    } else {
        target.send(spec, &case.request).await
    };
    match answer {
        Ok(response) => {
            // A request that should have been refused was accepted: the task kept for
            // refusals may be spent; the next refusal goes to a fresh one.
            if response.status == 200 && case.request.method.is_none() {
                target.spent_refusal_task(&case.request.action_id);
            }
            // A request a server may take two ways is judged by what both say.
            let readings = target.readings(spec, &case.request, case.kind);
            let mut verdict = oracle::judge_request_as(spec, &readings, &case.request, &response);
            if let Some(suspicion) = aside {
                suspicion.set_aside_in(&mut verdict);
            }
            Attempt::Judged {
                verdict,
                request: Box::new(case.request),
            }
        }
        Err(e) => Attempt::Transport(e.to_string()),
    }
}

pub(super) type Tree = Box<dyn ValueTree<Value = Draft>>;
