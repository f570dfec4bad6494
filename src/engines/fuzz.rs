//! The fuzzer: seeded generation of drafts from `strategy` (the contract's cases, built on the
//! domain-free core in `generation`), sent with bounded concurrency, judged by the oracle;
//! each violated clause's first failing case is then shrunk, one request at a time, to a
//! minimal case that still violates it, sent again `repeats` times where that is safe
//! (reproduced, or intermittent), and becomes a `Finding` that `replay` can re-send.

pub mod generation;
pub mod soak;
pub mod strategy;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::contract::oracle;
use crate::contract::request::Request;
use crate::contract::spec::{Kind, Level, Spec};
use crate::contract::verdict::Verdict;
use crate::transport::target::{Target, TransportError};
use strategy::{Draft, Scope};

pub use crate::records::findings::{Finding, FindingError, Origin, Reproduction, Summary};

/// How to fuzz.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub cases: u64,
    pub seed: u64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Whether cases may use the target's failed tasks.
    pub mutations: bool,
    /// The most requests spent shrinking one finding.
    pub max_shrink_steps: u32,
    /// The most requests spent shrinking, all findings together: what is left is shared evenly
    /// among the findings still to shrink (each at most `max_shrink_steps`). Against a live
    /// endpoint at 5 requests/s, 256 steps for each of ten clauses would be eight minutes.
    pub shrink_budget: u32,
    /// How many times a finding's minimal case is sent again before it is reported, to tell a
    /// reproducible finding from an intermittent one (only where that is safe: never with a
    /// live endpoint's failed task).
    pub repeats: u32,
    /// The target as the command line named it, recorded in each finding.
    pub origin: Origin,
    /// Advanced once per case sent (hidden unless the caller shows it).
    pub progress: indicatif::ProgressBar,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            cases: 300,
            seed: 0,
            concurrency: usize::from(CONCURRENCY),
            mutations: true,
            max_shrink_steps: 256,
            shrink_budget: SHRINK_BUDGET,
            repeats: REPEATS,
            origin: Origin::default(),
            progress: indicatif::ProgressBar::hidden(),
        }
    }
}

/// The default `FuzzOptions::shrink_budget`: four findings' worth of `max_shrink_steps`.
pub const SHRINK_BUDGET: u32 = 1024;

/// The default `FuzzOptions::concurrency` (and `fuzz --concurrency`).
pub const CONCURRENCY: u16 = 16;

/// The default `FuzzOptions::repeats`.
pub const REPEATS: u32 = 3;

impl Summary {
    /// Leaves out what a gateway's passing answer (502, 503, 504) showed and its repeats did
    /// not show again: the way's, not the operation's (a clause fails on a 5xx only when the
    /// same request still gets it). A steady one (reproduced every time) stays a finding.
    fn forget_the_ways_passing_answers(&mut self) {
        let passing = |status: u16| (502..=504).contains(&status);
        let steady = |f: &Finding| matches!(f.reproduction, Reproduction::Repeated { violated, of } if violated == of);
        let (forgotten, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|f| {
                !steady(f)
                    && f.verdict
                        .violations
                        .iter()
                        .any(|v| passing(v.evidence.status))
            });
        self.findings = kept;
        for f in &forgotten {
            let transient: Vec<(String, u16, Option<String>)> = self
                .observed
                .keys()
                .filter(|(clause, status, _)| *clause == f.clause && passing(*status))
                .cloned()
                .collect();
            for key in transient {
                let n = self.observed.remove(&key).unwrap_or(0);
                if let Some(count) = self.violations.get_mut(&f.clause) {
                    *count = count.saturating_sub(n);
                }
            }
            self.violations.retain(|_, n| *n > 0);
            self.transient_forgotten += 1;
        }
    }
}

/// The test runner of case `index` of the run seeded with `seed`: every case has a random
/// stream of its own, so any one case can be made again alone (to shrink or replay it) and
/// cases can be generated on another thread than the one sending them.
pub(crate) fn runner_for(seed: u64, index: u64) -> TestRunner {
    generation::seeded_runner(seed, index)
}

fn tree_at(strategy: &BoxedStrategy<Draft>, seed: u64, index: u64) -> Tree {
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
enum Attempt {
    Judged {
        request: Box<Request>,
        verdict: Verdict,
    },
    NoTask,
    Transport(String),
}

async fn send(spec: &Spec, target: &Target, draft: &Draft) -> Attempt {
    send_as(spec, target, draft, false).await
}

/// `send`, or (`again`) a send on purpose of a case already answered, to see whether it
/// reproduces.
async fn send_as(spec: &Spec, target: &Target, draft: &Draft, again: bool) -> Attempt {
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
            Attempt::Judged {
                verdict: oracle::judge_request(spec, case.kind, &case.request, &response),
                request: Box::new(case.request),
            }
        }
        Err(e) => Attempt::Transport(e.to_string()),
    }
}

type Tree = Box<dyn ValueTree<Value = Draft>>;

/// Fuzzes `target` and returns the summary with a shrunk finding per violated clause.
/// The fuzzer could not make its cases (its generating thread failed): nothing was judged of
/// them, and the run must not say otherwise.
#[derive(Debug, thiserror::Error)]
#[error(
    "the fuzzer could not generate its cases ({0}): a format of the spec it cannot use? nothing was judged of them"
)]
pub struct GenerationFailed(pub String);

pub async fn run(
    spec: &Spec,
    target: &Target,
    options: &FuzzOptions,
) -> Result<Summary, GenerationFailed> {
    let started = Instant::now();
    let scope = Scope {
        mutations: options.mutations,
    };
    let mut summary = Summary::empty(options);
    let before = target.traffic();
    // The first failing case of each clause in the seeded order, with the request and the
    // verdict, shrunk once the sending is done.
    let mut first_failure: BTreeMap<String, FirstFailure> = BTreeMap::new();
    let (mut rx, generator) = generate(spec, scope, options);
    let mut results = futures::stream::poll_fn(|cx| rx.poll_recv(cx))
        .flat_map(futures::stream::iter)
        .map(|(index, draft)| async move {
            let sent = send(spec, target, &draft).await;
            (index, draft.kind, sent)
        })
        .buffer_unordered(options.concurrency.max(1));
    while let Some((index, kind, sent)) = results.next().await {
        options.progress.inc(1);
        summary.count(index, kind, sent, &mut first_failure);
    }
    drop(results);
    options.progress.finish_and_clear();
    // The thread ends once it has generated every case or the channel closed; one that
    // failed fails the run.
    if let Err(panic) = generator.join() {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "it panicked".to_owned());
        return Err(GenerationFailed(why));
    }

    summary.findings = shrink_all(spec, target, options, scope, first_failure).await;
    summary.forget_the_ways_passing_answers();
    summary.elapsed = started.elapsed();
    let traffic = target.traffic();
    summary.sent = traffic.sent - before.sent;
    summary.from_memory = traffic.not_resent - before.not_resent;
    summary.repeated = traffic.repeated - before.repeated;
    Ok(summary)
}

/// Cases travel from the generating thread in batches, since a wake-up per case would cost
/// more than making the case.
const BATCH: u64 = 64;

/// Starts generating the run's cases on a thread of its own, a bounded channel ahead of the
/// sending; the thread ends once every case is made or the channel is closed.
fn generate(
    spec: &Spec,
    scope: Scope,
    options: &FuzzOptions,
) -> (
    tokio::sync::mpsc::Receiver<Vec<(u64, Draft)>>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<(u64, Draft)>>(2);
    let (spec, seed, cases) = (spec.clone(), options.seed, options.cases);
    let generator = std::thread::spawn(move || {
        let strategy = strategy::arb_draft(&spec, scope);
        let mut start = 0;
        while start < cases {
            let end = (start + BATCH).min(cases);
            let batch = (start..end)
                .map(|index| (index, tree_at(&strategy, seed, index).current()))
                .collect();
            if tx.blocking_send(batch).is_err() {
                break;
            }
            start = end;
        }
    });
    (rx, generator)
}

impl Summary {
    /// A run of `options` before anything is sent.
    fn empty(options: &FuzzOptions) -> Summary {
        Summary {
            seed: options.seed,
            cases: options.cases,
            judged: 0,
            sent: 0,
            repeated: 0,
            from_memory: 0,
            without_task: 0,
            transport_errors: 0,
            first_transport_error: None,
            elapsed: Duration::ZERO,
            per_kind: BTreeMap::new(),
            violations: BTreeMap::new(),
            observed: BTreeMap::new(),
            findings: Vec::new(),
            transient_forgotten: 0,
        }
    }

    /// Counts what came of case `index`, keeping each violated clause's first failing case in
    /// the seeded order (whatever order the answers came in).
    fn count(
        &mut self,
        index: u64,
        kind: Kind,
        sent: Attempt,
        first_failure: &mut BTreeMap<String, FirstFailure>,
    ) {
        *self.per_kind.entry(kind).or_default() += 1;
        let (verdict, request) = match sent {
            Attempt::NoTask => {
                self.without_task += 1;
                return;
            }
            Attempt::Transport(e) => {
                self.transport_errors += 1;
                self.first_transport_error.get_or_insert(e);
                return;
            }
            Attempt::Judged { verdict, request } => (verdict, request),
        };
        self.judged += 1;
        for v in &verdict.violations {
            *self.violations.entry(v.clause.clone()).or_default() += 1;
            let seen = (
                v.clause.clone(),
                v.evidence.status,
                v.evidence.error_code.clone(),
            );
            *self.observed.entry(seen).or_default() += 1;
            let first = first_failure.get(&v.clause).map_or(u64::MAX, |f| f.index);
            if index < first {
                let failure = FirstFailure {
                    index,
                    request: request.clone(),
                    verdict: verdict.clone(),
                };
                first_failure.insert(v.clause.clone(), failure);
            }
        }
    }
}

/// Shrinks each clause's first failing case into a finding, within the shrink budget.
async fn shrink_all(
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
struct FirstFailure {
    index: u64,
    request: Box<Request>,
    verdict: Verdict,
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
        let mut best = (original, first_seen);
        let mut steps = 0;
        // A candidate shrinking comes back to is judged by the answer it got: never sent twice.
        let mut answered: std::collections::HashMap<Draft, Attempt> =
            std::collections::HashMap::from([(best.0.clone(), best.1.clone())]);
        // Visits of candidates answered before cost nothing, but are bounded all the same.
        let mut visits = 0u32;
        if tree.simplify() {
            while steps < max_steps && visits < max_steps.saturating_mul(4).max(16) {
                visits += 1;
                let draft = tree.current();
                let sent = match answered.get(&draft) {
                    Some(sent) => sent.clone(),
                    None => {
                        steps += 1;
                        let sent = send(spec, target, &draft).await;
                        answered.insert(draft.clone(), sent.clone());
                        sent
                    }
                };
                if self.violates(&sent) {
                    best = (draft, sent);
                    if !tree.simplify() {
                        break;
                    }
                } else if !tree.complicate() {
                    break;
                }
            }
        }
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
            return not_repeated("repeats are off (--repeat 0)");
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
                    let sent = send_as(self.spec, self.target, draft, true).await;
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
            method: spec.operation.method.clone(),
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

/// What a replay showed.
#[derive(Debug, Clone)]
pub enum Replay {
    /// The answer, judged anew.
    Judged { url: String, verdict: Verdict },
    /// The case needs a failed task and the target has none left.
    NoTask,
    /// The case may act on a task of a live endpoint, and mutations are not allowed.
    NeedsConsent,
}

/// Re-sends a finding's case to `target` and judges the answer anew.
pub async fn replay(
    spec: &Spec,
    target: &Target,
    finding: &Finding,
) -> Result<Replay, TransportError> {
    // A finding file is data, not consent: a case that may act on a task (one of the target's
    // failed tasks, or an ID the file names itself, which may be a real task) goes to a live
    // endpoint only with --allow-mutations.
    if finding.draft.may_act(spec) && !target.is_owned_by_us() && !target.mutations_allowed() {
        return Ok(Replay::NeedsConsent);
    }
    let Some(case) = finding.draft.resolve(spec, target) else {
        return Ok(Replay::NoTask);
    };
    let response = target.send(spec, &case.request).await?;
    Ok(Replay::Judged {
        url: target.url(spec, &case.request),
        verdict: oracle::judge_request(spec, case.kind, &case.request, &response),
    })
}
