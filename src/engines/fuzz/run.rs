//! One fuzz run: the cases generated on a thread of their own, sent with bounded
//! concurrency, counted and judged; each violated clause's first failing case shrunk after.

use std::collections::BTreeMap;
use std::time::Instant;

use futures::StreamExt as _;

use crate::contract::spec::{Kind, Spec};
use crate::transport::target::Target;

use super::case::{Attempt, send, tree_at};
use super::options::FuzzOptions;
use super::shrink::{FirstFailure, shrink_all};
use super::strategy::{self, Draft, Scope};
use crate::records::findings::{Finding, Reproduction, Summary};

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
    let mut summary = Summary::new(options.seed, options.cases);
    let before = target.traffic();
    // The first failing case of each clause in the seeded order, with the request and the
    // verdict, shrunk once the sending is done.
    let mut first_failure: BTreeMap<String, FirstFailure> = BTreeMap::new();
    let (mut rx, generator) = generate(spec, scope, options);
    let mut results = futures::stream::poll_fn(|cx| rx.poll_recv(cx))
        .flat_map(futures::stream::iter)
        .map(|(index, draft)| async move {
            let sent = send(spec, target, &draft, options.set_aside.as_ref()).await;
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
        self.set_aside += u64::from(!verdict.unconfirmed.is_empty());
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
