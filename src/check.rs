//! `check` for one target, every layer in turn: the fixtures of a live endpoint proven, the
//! features run as scenarios (with the task planner), the fuzz budget, the grade per clause,
//! and the document the writers render. The binary (`cli/check.rs`) reads the flags, runs one
//! target or several at once, prints the console report and writes the files.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::contract::spec::Spec;
use crate::engines::fuzz::{self, FuzzOptions};
use crate::engines::scenarios::preflight;
use crate::engines::scenarios::run_state::RunState;
use crate::engines::scenarios::runner::{self, ScenarioOptions};
use crate::engines::targets::Opened;
use crate::grading::baseline::{Baseline, Diff};
use crate::grading::report::Report;
use crate::grading::writer::Document;
use crate::ledger::{Ledger, Used};
use crate::progress;
use crate::transport::target::Traffic;

/// How one target is checked.
pub struct CheckOptions<'a> {
    pub scenarios: ScenarioOptions,
    /// The fuzz budget after the features (none: no generated case); whether cases may use
    /// the failed tasks is the target's to say.
    pub fuzz: Option<FuzzOptions>,
    /// SHOULD and EXTENDED failures, and XPASS, count against conformance.
    pub strict: bool,
    /// A MUST clause not judged fails the run.
    pub require_complete: bool,
    /// Progress bars on stderr (none when several targets run at once: they would overwrite
    /// each other).
    pub progress: bool,
    /// An earlier run to compare with.
    pub baseline: Option<&'a Baseline>,
    /// A non-conformance exits 1 only when a clause fails that did not in the baseline
    /// (`--fail-on new`).
    pub fail_on_new: bool,
    /// The ledger of used tasks, where the target's tasks are kept track of (none: they are
    /// not), and whether the tasks it holds may be used all the same (`--reuse-tasks`).
    pub ledger: Option<Ledger>,
    pub reuse_tasks: bool,
    /// When the run began (the document's start and duration).
    pub started: (time::OffsetDateTime, std::time::Instant),
}

/// Why a check judged nothing.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The user's fixtures do not hold (a wrong token, project or cluster; a task used up):
    /// theirs to fix, never the server's failure.
    #[error("{target} ({}): nothing was judged\n{}", count(errors.len()), errors.iter().map(|e| format!("fixture error: {e}")).collect::<Vec<_>>().join("\n"))]
    Fixtures { target: String, errors: Vec<String> },
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error(transparent)]
    Scenarios(#[from] crate::engines::scenarios::runner::SuiteError),
    #[error(transparent)]
    Fuzz(#[from] fuzz::GenerationFailed),
    #[error("the profile in force cannot be written into the report")]
    Profile(#[source] serde_json::Error),
}

fn count(errors: usize) -> String {
    if errors == 1 {
        "1 fixture error".to_owned()
    } else {
        format!("{errors} fixture errors")
    }
}

/// What checking a target made: the document of its run, and its fuzz summary (the findings
/// to save).
pub struct Checked {
    pub document: Document,
    pub fuzzed: Option<fuzz::Summary>,
}

/// Checks the target `opened` holds: proves its fixtures (a fixture error is an error, and
/// nothing is judged), runs the features, then the fuzz budget, and grades what came back.
/// SIGINT or SIGTERM stops the sending; the document then says INTERRUPTED.
pub async fn check(
    spec: &Arc<Spec>,
    features: Vec<cucumber::gherkin::Feature>,
    opened: Opened,
    options: CheckOptions<'_>,
) -> Result<Checked, CheckError> {
    let Opened {
        stub,
        target,
        profile,
    } = opened;
    let bar = |total, what| {
        if options.progress {
            progress::start(total, what)
        } else {
            indicatif::ProgressBar::hidden()
        }
    };
    let run_state =
        Arc::new(RunState::new(Arc::clone(spec), target).with_progress(bar(None, "scenarios")));
    let ledger = options
        .ledger
        .as_ref()
        .filter(|_| !run_state.target.is_owned_by_us());
    let used_before = match ledger {
        Some(ledger) if !options.reuse_tasks => ledger.entries()?.0,
        _ => Vec::new(),
    };
    prove_fixtures(&run_state, &used_before, ledger).await?;
    let interrupted = watch_for_signals(run_state.target.interruption());
    let mut run = runner::run(Arc::clone(&run_state), features, &options.scenarios).await?;
    let fuzzed = match options.fuzz {
        Some(mut fuzz) if fuzz.cases > 0 => {
            fuzz.progress = bar(Some(fuzz.cases), "fuzz");
            Some(fuzz_after(spec, &run_state, fuzz, &mut run.fixture_errors).await?)
        }
        _ => None,
    };
    drop(stub);
    if let Some(ledger) = ledger {
        ledger.record(&used_now(&run_state.target, options.started.0))?;
    }
    let traffic = run_state.target.traffic();
    let report = Report::build(
        spec,
        &run.target,
        &run.records,
        fuzzed.as_ref(),
        &profile.expected_deviations,
    )
    .strict(options.strict)
    .require_complete(options.require_complete)
    .with_read_api(run_state.target.reads_tasks())
    .interrupted_by(interrupted.lock().ok().and_then(|s| s.clone()))
    .with_target_fault(target_fault(&traffic))
    .with_fixture_errors(run.fixture_errors.clone());
    let (report, diff) = against_baseline(report, options.baseline, options.fail_on_new);
    let document = Document::new(
        &report,
        serde_json::to_value(&profile).map_err(CheckError::Profile)?,
        fuzzed.as_ref(),
        options.started.0,
        options.started.1.elapsed(),
    )
    .with_records(run.records)
    .with_doors(run.doors)
    .with_fixture_notes(with_tasks_spent(
        run.fixture_notes,
        &report,
        &run_state.target,
    ))
    .with_traffic(traffic)
    .with_baseline(diff);
    Ok(Checked { document, fuzzed })
}

/// The fuzz budget, after the scenarios. Where they did not lift the preflight's doubt, the
/// cases with the answer a project or a cluster that is not the caller's gets are not judged,
/// and the doubt is said first among the fixture errors.
async fn fuzz_after(
    spec: &Spec,
    run_state: &RunState,
    mut fuzz: FuzzOptions,
    fixture_errors: &mut Vec<String>,
) -> Result<fuzz::Summary, CheckError> {
    fuzz.mutations = run_state.target.mutations_allowed();
    fuzz.set_aside = run_state.suspicion();
    let summary = fuzz::run(spec, &run_state.target, &fuzz).await?;
    if let Some(suspicion) = fuzz.set_aside.filter(|_| summary.set_aside > 0)
        && !fixture_errors.contains(&suspicion.why)
    {
        fixture_errors.insert(0, suspicion.why);
    }
    Ok(summary)
}

/// `report` beside the baseline, if one was given (failing only on what is new, with
/// `--fail-on new`).
fn against_baseline(
    report: Report,
    baseline: Option<&Baseline>,
    fail_on_new: bool,
) -> (Report, Option<Diff>) {
    let diff = baseline.map(|b| Diff::compare(b, &[(report.target.as_str(), &report)]));
    let report = match &diff {
        Some(diff) if fail_on_new => report.failing_on_new(diff.new_failures()),
        _ => report,
    };
    (report, diff)
}

/// The notes on the fixtures, and, when they left the verdict incomplete, the failed tasks the
/// run used all the same (they may no longer be failed: the next run needs fresh ones).
fn with_tasks_spent(
    mut notes: Vec<String>,
    report: &Report,
    target: &crate::transport::target::Target,
) -> Vec<String> {
    let used = target.used_tasks();
    if report.verdict() == crate::grading::exit::RunVerdict::FixtureError && !used.is_empty() {
        notes.push(format!(
            "this run used failed task(s) {} all the same: they may no longer be failed; bring fresh ones next time",
            used.join(", ")
        ));
    }
    notes
}

/// The tasks of `target` this run may have used, as ledger entries of the run begun at `began`.
fn used_now(target: &crate::transport::target::Target, began: time::OffsetDateTime) -> Vec<Used> {
    let f = target.fixtures();
    let at = crate::shown::rfc3339(time::OffsetDateTime::now_utc());
    let run = format!("check {}", crate::shown::rfc3339(began));
    target
        .used_tasks()
        .into_iter()
        .map(|task| Used {
            endpoint: target.name().to_owned(),
            project: f.project_id.clone(),
            cluster: f.cluster_id.clone(),
            task,
            at: at.clone(),
            run: run.clone(),
        })
        .collect()
}

/// Proves a live endpoint's fixtures before anything is judged: a wrong token, project or
/// cluster, or a task an earlier run used up, is the user's to fix, never the server's failure.
/// `used_before`: the tasks `ledger` says earlier runs used.
async fn prove_fixtures(
    run_state: &RunState,
    used_before: &[Used],
    ledger: Option<&Ledger>,
) -> Result<(), CheckError> {
    if run_state.target.is_owned_by_us() {
        return Ok(());
    }
    let default_ledger = Ledger::default_file();
    let earlier = preflight::Earlier {
        used: used_before,
        file: ledger
            .map(|l| l.file.as_path())
            .filter(|file| Some(*file) != default_ledger.as_deref()),
    };
    let errors = preflight::prove(run_state, &earlier).await;
    if errors.is_empty() {
        return Ok(());
    }
    Err(CheckError::Fixtures {
        target: run_state.target.name().to_owned(),
        errors: errors.iter().map(ToString::to_string).collect(),
    })
}

/// The signal that interrupted a run and its exit code, once one came.
type Interruption = Arc<Mutex<Option<(String, u8)>>>;

/// Watches for SIGINT and SIGTERM: the first stops the target's sending (the run finishes
/// with what it judged, and its reports say INTERRUPTED); a second ends the process at once.
fn watch_for_signals(stop: Arc<AtomicBool>) -> Interruption {
    let seen: Interruption = Arc::default();
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        let first = tokio::select! {
            _ = int.recv() => ("SIGINT", 130u8),
            _ = term.recv() => ("SIGTERM", 143u8),
        };
        stop.store(true, Ordering::SeqCst);
        if let Ok(mut s) = record.lock() {
            *s = Some((first.0.to_owned(), first.1));
        }
        eprintln!(
            "css-conformance: {}: stopping; nothing more is sent, the reports of what was judged are being written (a second signal ends it at once)",
            first.0
        );
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        std::process::exit(i32::from(first.1));
    });
    seen
}

/// Why a target that answered none of its requests cannot be judged (every report says so,
/// and the exit is 3).
fn target_fault(traffic: &Traffic) -> Option<String> {
    if let Some(why) = &traffic.unavailable {
        return Some(format!("target unavailable: {why}"));
    }
    (traffic.answered == 0 && traffic.faults > 0).then(|| {
        format!(
            "the target answered none of {} request(s); the first: {}",
            traffic.faults,
            traffic.first_fault.as_deref().unwrap_or("no answer")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_that_answered_nothing_is_a_fault_and_one_that_answered_once_is_not() {
        let mut traffic = Traffic {
            faults: 3,
            first_fault: Some("connection refused".to_owned()),
            ..Traffic::default()
        };
        let fault = target_fault(&traffic).unwrap_or_default();
        assert!(
            fault.contains("none of 3") && fault.contains("connection refused"),
            "{fault}"
        );
        traffic.answered = 1;
        assert_eq!(target_fault(&traffic), None);
        assert_eq!(target_fault(&Traffic::default()), None);
    }
}
