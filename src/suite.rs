//! Running the features against a target: one cucumber run with the step definitions of
//! `steps`, whose scenarios reach the run's `Session` (spec, target, records).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use cucumber::event::ScenarioFinished;
use cucumber::writer::{self, Coloring, Stats as _, Verbosity};
use cucumber::{World as _, WriterExt as _, gherkin};
use futures::FutureExt as _;

use crate::coverage;
use crate::exchange::ScenarioOutcome;
use crate::features::InMemory;
use crate::profile::AuthMethod;
use crate::session::{self, ScenarioRecord, Session};
use crate::spec::Spec;
use crate::steps::Conformance;
use crate::stub::Deviation;
use crate::target::open;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Scenarios in flight at once.
    pub concurrency: usize,
    /// Where to write cucumber's JSON report (the Cucumber JSON format), if anywhere.
    pub cucumber_json: Option<PathBuf>,
    /// Print cucumber's own step-by-step output to stdout.
    pub console: bool,
    /// Run only the scenarios whose tags (with their feature's and rule's) match.
    pub tags: Option<gherkin::tagexpr::TagOperation>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
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
}

/// A run that could not start.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{path}: cannot write the Cucumber JSON report: {reason}")]
    CucumberJson { path: PathBuf, reason: io::Error },
}

/// Runs `features` against the session's target; every step of every scenario must match a
/// definition (a step without one fails the run).
pub async fn run(
    session: Arc<Session>,
    features: Vec<gherkin::Feature>,
    options: &Options,
) -> Result<Run, SuiteError> {
    let console: Box<dyn io::Write> = if options.console {
        Box::new(io::stdout())
    } else {
        Box::new(io::sink())
    };
    let json: Box<dyn io::Write> = match &options.cucumber_json {
        Some(path) => {
            let fail = |reason| SuiteError::CucumberJson {
                path: path.clone(),
                reason,
            };
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(fail)?;
            }
            Box::new(std::fs::File::create(path).map_err(fail)?)
        }
        None => Box::new(io::sink()),
    };
    let coloring = if options.console && std::env::var_os("NO_COLOR").is_none() {
        Coloring::Auto
    } else {
        Coloring::Never
    };
    let writer = writer::Basic::raw(console, coloring, Verbosity::Default)
        .summarized()
        .tee::<Conformance, _>(writer::Json::for_tee(json))
        .normalized();
    let runner = cucumber::runner::Basic::default()
        .steps(Conformance::collection())
        .max_concurrent_scenarios(options.concurrency.max(1))
        .after(|feature, rule, scenario, finished, world| {
            record_scenario(feature, rule, scenario, finished, world).boxed_local()
        });
    // The tag expression is cucumber's own `--tags` filter (feature, rule and scenario tags).
    let cli = cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty> {
        tags_filter: options.tags.clone(),
        ..Default::default()
    };
    let cucumber =
        cucumber::Cucumber::<_, _, _, _, _, cucumber::cli::Empty>::custom(InMemory, runner, writer)
            .with_cli(cli)
            .fail_on_skipped();
    let writer = Arc::clone(&session).scope(cucumber.run(features)).await;
    let execution_failed = writer.execution_has_failed();
    let records = session.take_records();
    Ok(Run {
        target: session.target.name().to_owned(),
        records,
        execution_failed,
    })
}

async fn record_scenario(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
    finished: &ScenarioFinished,
    world: Option<&mut Conformance>,
) {
    let Some(session) = session::current() else {
        return;
    };
    let (judgements, skipped, no_answer, duration) =
        world.map(|w| w.take_record()).unwrap_or_default();
    let outcome = match finished {
        ScenarioFinished::StepPassed => match skipped {
            Some(reason) => ScenarioOutcome::Skipped(reason),
            None => ScenarioOutcome::Passed,
        },
        // No answer judges nothing: a target fault, not a failure.
        ScenarioFinished::StepFailed(..) if no_answer.is_some() => {
            ScenarioOutcome::NoAnswer(no_answer.unwrap_or_default())
        }
        ScenarioFinished::StepSkipped => {
            ScenarioOutcome::Failed("a step matches no step definition".to_owned())
        }
        ScenarioFinished::StepFailed(_, _, err) => ScenarioOutcome::Failed(match err {
            cucumber::event::StepError::Panic(info) => panic_message(info),
            other => other.to_string(),
        }),
        ScenarioFinished::BeforeHookFailed(info) => ScenarioOutcome::Failed(panic_message(info)),
    };
    session.record(ScenarioRecord {
        feature: feature.name.clone(),
        scenario: scenario.name.clone(),
        location: coverage::location(feature, scenario),
        clauses: coverage::clause_tags(feature, rule, scenario)
            .map(str::to_owned)
            .collect(),
        outcome,
        judgements,
        duration,
    });
}

fn panic_message(info: &cucumber::event::Info) -> String {
    if let Some(s) = info.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = info.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "a step panicked".to_owned()
    }
}

/// Runs `features` against a fresh built-in stub (conforming unless `deviation`), signing in
/// with its token.
pub async fn run_against_stub(
    spec: Arc<Spec>,
    deviation: Option<Deviation>,
    features: Vec<gherkin::Feature>,
    options: &Options,
) -> Result<Run, SuiteError> {
    let (stub, target) = open::stub_target(Arc::clone(&spec), deviation, AuthMethod::Token).await;
    let run = run(Arc::new(Session::new(spec, target)), features, options).await;
    drop(stub);
    run
}
