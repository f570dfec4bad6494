//! Running the features against a target: one cucumber run with the step definitions of
//! `steps`, whose scenarios reach the run's `Session` (spec, target, ledger) through a task-local,
//! so several runs against different targets can share a process.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cucumber::event::ScenarioFinished;
use cucumber::writer::{self, Coloring, Stats as _, Verbosity};
use cucumber::{World as _, WriterExt as _, gherkin};
use futures::FutureExt as _;
use serde::Serialize;

use crate::coverage;
use crate::features::InMemory;
use crate::oracle::Verdict;
use crate::spec::Spec;
use crate::steps::Conformance;
use crate::target::Target;

tokio::task_local! {
    static SESSION: Arc<Session>;
}

/// What the scenarios of one run share.
#[derive(Debug)]
pub struct Session {
    pub spec: Arc<Spec>,
    pub target: Target,
    records: Mutex<Vec<ScenarioRecord>>,
    next_id: AtomicU64,
    /// Advanced once per scenario finished (hidden unless the caller shows it).
    progress: indicatif::ProgressBar,
}

impl Session {
    pub fn new(spec: Arc<Spec>, target: Target) -> Session {
        Session {
            spec,
            target,
            records: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            progress: indicatif::ProgressBar::hidden(),
        }
    }

    /// The session, counting its scenarios on `progress`.
    pub fn with_progress(mut self, progress: indicatif::ProgressBar) -> Session {
        self.progress = progress;
        self
    }

    /// A well-formed UUID that names nothing on the target.
    pub fn synthetic_id(&self) -> String {
        loop {
            let n = self.next_id.fetch_add(1, Ordering::Relaxed);
            let id = format!("{:08x}-5e57-4000-8000-{n:012x}", n & 0xffff_ffff);
            if !self.target.fixtures.knows(&id) {
                return id;
            }
        }
    }

    fn record(&self, record: ScenarioRecord) {
        self.progress.inc(1);
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }
}

/// The session of the run the calling step belongs to.
pub fn current() -> Option<Arc<Session>> {
    SESSION.try_with(Arc::clone).ok()
}

/// One request and the oracle's verdict on its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    pub method: String,
    pub url: String,
    /// A cURL line that re-sends the request, credentials replaced by placeholders.
    pub curl: String,
    /// The status the target answered with.
    pub status: u16,
    pub verdict: Verdict,
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ScenarioOutcome {
    Passed,
    Failed(String),
    Skipped(String),
}

/// One scenario of a run, with every judgement it made.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRecord {
    pub feature: String,
    pub scenario: String,
    /// `file:line` of the scenario (the Examples row for an outline).
    pub location: String,
    pub clauses: Vec<String>,
    pub outcome: ScenarioOutcome,
    pub judgements: Vec<Judgement>,
    /// From the scenario's start to its end.
    #[serde(skip)]
    pub duration: std::time::Duration,
}

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
    let writer = SESSION
        .scope(Arc::clone(&session), cucumber.run(features))
        .await;
    session.progress.finish_and_clear();
    let execution_failed = writer.execution_has_failed();
    let records = std::mem::take(&mut *session.records.lock().unwrap_or_else(|e| e.into_inner()));
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
    let Some(session) = current() else { return };
    let (judgements, skipped, duration) = world.map(|w| w.take_record()).unwrap_or_default();
    let outcome = match finished {
        ScenarioFinished::StepPassed => match skipped {
            Some(reason) => ScenarioOutcome::Skipped(reason),
            None => ScenarioOutcome::Passed,
        },
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

/// The token the built-in stub accepts; it guards nothing, so it may be printed.
pub const STUB_TOKEN: &str = "css-conformance-stub-token";
/// The AK/SK pair the built-in stub verifies signatures with; they guard nothing either.
pub const STUB_ACCESS_KEY: &str = "AKSTUBEXAMPLE0000001";
pub const STUB_SECRET_KEY: &str = "css-conformance-stub-secret-key";

/// The credentials the built-in stub accepts.
pub fn stub_credentials() -> crate::stub::Credentials {
    crate::stub::Credentials {
        token: STUB_TOKEN.to_owned(),
        access_key: STUB_ACCESS_KEY.to_owned(),
        secret_key: crate::target::Secret::new(STUB_SECRET_KEY),
    }
}

/// How a run authenticates to the built-in stub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StubAuth {
    #[default]
    Token,
    AkSk,
    /// No credentials at all.
    None,
}

/// A fresh built-in stub (conforming unless `deviation`) and the target that reaches it. The
/// stub serves for as long as it is kept.
pub async fn stub_target(
    spec: Arc<Spec>,
    deviation: Option<crate::stub::Deviation>,
) -> (crate::stub::Stub, Target) {
    stub_target_with(spec, deviation, StubAuth::Token).await
}

/// `stub_target`, authenticating with `auth`.
pub async fn stub_target_with(
    spec: Arc<Spec>,
    deviation: Option<crate::stub::Deviation>,
    auth: StubAuth,
) -> (crate::stub::Stub, Target) {
    let fixtures = crate::fixtures::Fixtures::builtin();
    let stub = crate::stub::Stub::start(spec, &fixtures, &stub_credentials(), deviation).await;
    let mut name = match deviation {
        None => "built-in stub".to_owned(),
        Some(d) => format!("built-in stub, deviating: {d:?}"),
    };
    match auth {
        StubAuth::Token => {}
        StubAuth::AkSk => name.push_str(", AK/SK signed"),
        StubAuth::None => name.push_str(", without credentials"),
    }
    let auth = match auth {
        StubAuth::Token => crate::target::Auth::Token(crate::target::Secret::new(STUB_TOKEN)),
        StubAuth::AkSk => crate::target::Auth::AkSk {
            ak: crate::target::Secret::new(STUB_ACCESS_KEY),
            sk: crate::target::Secret::new(STUB_SECRET_KEY),
        },
        StubAuth::None => crate::target::Auth::None,
    };
    let target = Target::new(name, &stub.base_url(), auth, fixtures)
        .unwrap_or_else(|e| unreachable!("the stub's own URL is valid: {e}"))
        .owned_by_us();
    (stub, target)
}

/// Runs `features` against a fresh built-in stub (conforming unless `deviation`).
pub async fn run_against_stub(
    spec: Arc<Spec>,
    deviation: Option<crate::stub::Deviation>,
    features: Vec<gherkin::Feature>,
    options: &Options,
) -> Result<Run, SuiteError> {
    let (stub, target) = stub_target(Arc::clone(&spec), deviation).await;
    let run = run(Arc::new(Session::new(spec, target)), features, options).await;
    drop(stub);
    run
}
