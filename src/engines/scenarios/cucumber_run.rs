//! One run of cucumber over some of the features: the scenarios picked (and those planned not
//! to run shown skipped), the writers (its console output, its JSON report gathered over the
//! runs of a suite), and each finished scenario's record.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use cucumber::event::ScenarioFinished;
use cucumber::writer::{self, Coloring, Stats as _, Verbosity};
use cucumber::{World as _, WriterExt as _, gherkin};
use futures::FutureExt as _;

use crate::contract::coverage;
use crate::contract::features::InMemory;
use crate::engines::scenarios::run_state::{self, RunState};
use crate::engines::scenarios::world::Conformance;
use crate::records::judgement::{ScenarioOutcome, ScenarioRecord, Skip};

/// A run that could not start.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{path}: cannot write the Cucumber JSON report: {reason}")]
    CucumberJson { path: PathBuf, reason: io::Error },
}

/// What cucumber writes: its console output (or nothing) and its JSON report, gathered over
/// the runs of one suite run and written once.
pub(super) struct Outputs {
    console: bool,
    json: Option<(PathBuf, Vec<serde_json::Value>)>,
}

impl Outputs {
    pub(super) fn new(console: bool, cucumber_json: Option<PathBuf>) -> Outputs {
        Outputs {
            console,
            json: cucumber_json.map(|p| (p, Vec::new())),
        }
    }

    /// Adds one cucumber run's JSON report (an array of features): a feature already there
    /// gets the new run's scenarios.
    fn add_json(&mut self, text: &[u8]) {
        let Some((_, features)) = &mut self.json else {
            return;
        };
        let Ok(serde_json::Value::Array(more)) = serde_json::from_slice(text) else {
            return;
        };
        for feature in more {
            let same =
                |f: &serde_json::Value| f["uri"] == feature["uri"] && f["name"] == feature["name"];
            match features.iter_mut().find(|f| same(f)) {
                Some(existing) => {
                    if let (Some(elements), Some(new)) = (
                        existing["elements"].as_array_mut(),
                        feature["elements"].as_array(),
                    ) {
                        elements.extend(new.iter().cloned());
                    }
                }
                None => features.push(feature),
            }
        }
    }

    pub(super) fn finish(self) -> Result<(), SuiteError> {
        let Some((path, features)) = self.json else {
            return Ok(());
        };
        let fail = |reason| SuiteError::CucumberJson {
            path: path.clone(),
            reason,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let text = serde_json::to_string_pretty(&features)
            .unwrap_or_else(|e| unreachable!("JSON values: {e}"));
        std::fs::write(&path, text).map_err(fail)
    }
}

/// A `Write` whose bytes stay readable after the writer that owns it is gone.
#[derive(Clone, Default)]
struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

impl io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One cucumber run of `features`; whether cucumber counted a failed, undefined or skipped
/// step (a scenario planned not to run is allowed its skipped steps).
pub(super) async fn cucumber_run(
    run_state: &Arc<RunState>,
    features: Vec<gherkin::Feature>,
    concurrency: usize,
    outputs: &mut Outputs,
) -> bool {
    if features
        .iter()
        .all(|f| f.scenarios.is_empty() && f.rules.iter().all(|r| r.scenarios.is_empty()))
    {
        return false;
    }
    let console: Box<dyn io::Write> = if outputs.console {
        Box::new(io::stdout())
    } else {
        Box::new(io::sink())
    };
    let json = Shared::default();
    let coloring = if outputs.console && std::env::var_os("NO_COLOR").is_none() {
        Coloring::Auto
    } else {
        Coloring::Never
    };
    let writer = writer::Basic::raw(console, coloring, Verbosity::Default)
        .summarized()
        .tee::<Conformance, _>(writer::Json::for_tee(
            Box::new(json.clone()) as Box<dyn io::Write>
        ))
        .normalized();
    let runner = cucumber::runner::Basic::default()
        .steps(Conformance::collection())
        .max_concurrent_scenarios(concurrency.max(1))
        .before(|feature, _rule, scenario, world| {
            world.locate(coverage::location(feature, scenario));
            Box::pin(async {})
        })
        .after(|feature, rule, scenario, finished, world| {
            record_scenario(feature, rule, scenario, finished, world).boxed_local()
        });
    let skipping = Arc::clone(run_state);
    let cucumber =
        cucumber::Cucumber::<_, _, _, _, _, cucumber::cli::Empty>::custom(InMemory, runner, writer)
            .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
            .fail_on_skipped_with(move |feature, _rule, scenario| {
                skipping
                    .planned_skip(&coverage::location(feature, scenario))
                    .is_none()
            });
    let writer = Arc::clone(run_state).scope(cucumber.run(features)).await;
    let text = json.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    outputs.add_json(&text);
    writer.execution_has_failed()
}

/// The features with only the scenarios whose location `keep` says, those in `skipped` shown
/// as not run: their first step names why, so that it matches no step definition and
/// cucumber reports the scenario skipped.
pub(super) fn only(
    features: &[gherkin::Feature],
    keep: impl Fn(&str) -> bool,
    skipped: &BTreeMap<String, Skip>,
) -> Vec<gherkin::Feature> {
    features
        .iter()
        .filter_map(|feature| {
            let mut f = feature.clone();
            let pick = |scenarios: &mut Vec<gherkin::Scenario>| {
                scenarios.retain(|s| keep(&coverage::location(feature, s)));
                for s in scenarios.iter_mut() {
                    if let (Some(why), Some(step)) = (
                        skipped.get(&coverage::location(feature, s)),
                        s.steps.first_mut(),
                    ) {
                        step.value = format!("[not run: {why}] {}", step.value);
                    }
                }
            };
            pick(&mut f.scenarios);
            for r in &mut f.rules {
                pick(&mut r.scenarios);
            }
            f.rules.retain(|r| !r.scenarios.is_empty());
            (!f.scenarios.is_empty() || !f.rules.is_empty()).then_some(f)
        })
        .collect()
}

async fn record_scenario(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
    finished: &ScenarioFinished,
    world: Option<&mut Conformance>,
) {
    let Some(run_state) = run_state::current() else {
        return;
    };
    let crate::engines::scenarios::world::Record {
        judgements,
        skipped,
        no_answer,
        needs,
        duration,
    } = world.map(|w| w.take_record()).unwrap_or_default();
    let location = coverage::location(feature, scenario);
    let outcome = match finished {
        ScenarioFinished::StepPassed => match skipped {
            Some(reason) => ScenarioOutcome::Skipped(reason),
            None => ScenarioOutcome::Passed,
        },
        // No answer judges nothing: a target fault, not a failure.
        ScenarioFinished::StepFailed(..) if no_answer.is_some() => {
            ScenarioOutcome::NoAnswer(no_answer.unwrap_or_default())
        }
        ScenarioFinished::StepSkipped => match run_state.planned_skip(&location) {
            Some(why) => ScenarioOutcome::Skipped(why),
            None => ScenarioOutcome::Failed("a step matches no step definition".to_owned()),
        },
        ScenarioFinished::StepFailed(_, _, err) => ScenarioOutcome::Failed(match err {
            cucumber::event::StepError::Panic(info) => panic_message(info),
            other => other.to_string(),
        }),
        ScenarioFinished::BeforeHookFailed(info) => ScenarioOutcome::Failed(panic_message(info)),
    };
    run_state.record(ScenarioRecord {
        feature: feature.name.clone(),
        scenario: scenario.name.clone(),
        location,
        clauses: coverage::clause_tags(feature, rule, scenario)
            .map(str::to_owned)
            .collect(),
        outcome,
        judgements,
        needs,
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
