//! `css-conformance check`: every feature, then a fuzz budget, clause by clause; against one
//! target, or several at once (`--profile` given several times), each with its own
//! politeness, credentials and task pool, and one report for all.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use css_conformance::check::{CheckOptions, Checked, check};
use css_conformance::contract::spec::Spec;
use css_conformance::engines::fuzz;
use css_conformance::engines::scenarios::runner::{self, ScenarioOptions};
use css_conformance::grading::baseline::{Baseline, Diff};
use css_conformance::grading::exit;
use css_conformance::grading::report::Report;
use css_conformance::grading::writer::{self, Document, ManyTargets, Writer};
use css_conformance::ledger::Ledger;

use super::{CheckArgs, FailOn, TargetArgs, fuzz_options, open_target, save_findings};

pub async fn run(args: CheckArgs) -> anyhow::Result<u8> {
    let started = (time::OffsetDateTime::now_utc(), std::time::Instant::now());
    let (spec, features) = args.source.load()?;
    let spec = Arc::new(spec);
    if let Some(tags) = &args.tags
        && runner::select(features.clone(), Some(&tags.expression)).is_empty()
    {
        return Err(tags.selects_nothing(&features));
    }
    let baseline = match &args.baseline {
        Some(file) => Some(Baseline::load(file).map_err(|e| anyhow::anyhow!("--baseline: {e}"))?),
        None => None,
    };
    let several = args.target.profile.len() > 1;
    if several && args.junit.is_some() {
        anyhow::bail!("--junit applies to one target; with several, junit.xml is in --report-dir");
    }
    if !several {
        let done = run_target(
            &args,
            &spec,
            features,
            &args.target,
            &args.report_dir,
            Place::Alone(baseline.as_ref()),
        )
        .await?;
        let document = &done.document;
        if let Some(diff) = &document.baseline {
            write_diff(&args.report_dir, diff)?;
        }
        if document.report.forgiven() {
            println!("{FORGIVEN}");
        }
        return Ok(document.report.exit_code());
    }
    run_many(&args, &spec, features, baseline.as_ref(), started.0).await
}

/// Several targets, each named after its profile, run at once; one report for all beside
/// each target's own.
async fn run_many(
    args: &CheckArgs,
    spec: &Arc<Spec>,
    features: Vec<cucumber::gherkin::Feature>,
    baseline: Option<&Baseline>,
    started: time::OffsetDateTime,
) -> anyhow::Result<u8> {
    let names = names(&args.target.profile);
    let runs = futures::future::join_all(args.target.profile.iter().zip(&names).map(
        |(profile, name)| {
            let mut target = args.target.clone();
            target.profile = vec![profile.clone()];
            let (features, dir) = (features.clone(), args.report_dir.join(name));
            async move {
                run_target(args, spec, features, &target, &dir, Place::OneOfMany)
                    .await
                    .map_err(|e| anyhow::anyhow!("--profile {}: {e}", profile.display()))
            }
        },
    ))
    .await;
    let runs: Vec<Done> = runs.into_iter().collect::<anyhow::Result<_>>()?;
    let documents: Vec<(&str, &Report)> = names
        .iter()
        .zip(&runs)
        .map(|(n, d)| (n.as_str(), &d.document.report))
        .collect();
    let diff = baseline.map(|b| Diff::compare(b, &documents));
    let many = ManyTargets {
        runs: names
            .iter()
            .cloned()
            .zip(runs.iter().map(|d| &d.document))
            .collect(),
        diff: diff.as_ref(),
        fail_on_new: args.fail_on == FailOn::New,
        started,
    };
    let console = writer::Console {
        quiet: args.quiet,
        colors: console::colors_enabled(),
    };
    print!("{}", console.render_many(&many));
    let dir = &args.report_dir;
    let writers: [(&str, &dyn Writer); 4] = [
        ("report.json", &writer::Json),
        ("report.md", &writer::Markdown),
        ("report.html", &writer::Html),
        ("junit.xml", &writer::JUnit),
    ];
    for (file, writer) in writers {
        let path = dir.join(file);
        std::fs::write(&path, writer.render_many(&many))
            .map_err(|e| anyhow::anyhow!("--report-dir {}: {e}", path.display()))?;
    }
    println!(
        "Reports: {}/{{junit.xml,report.json,report.md,report.html}} (all targets), {}/NAME/ (each)",
        dir.display(),
        dir.display()
    );
    let code = many.exit_code();
    let worst = runs.iter().map(|d| d.document.report.exit_code());
    if code == exit::CONFORMANT && exit::worst(worst) != exit::CONFORMANT {
        println!("{FORGIVEN}");
    }
    Ok(code)
}

/// What a run says when `--fail-on new` turned its non-conformance into exit 0.
const FORGIVEN: &str = "Exit 0 although not conformant: --fail-on new, and every clause that fails failed in the baseline too.";

/// The comparison of a one-target run, as `baseline.json` beside its reports.
fn write_diff(dir: &Path, diff: &Diff) -> anyhow::Result<()> {
    let path = dir.join("baseline.json");
    let text = serde_json::to_string_pretty(diff)? + "\n";
    std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("--report-dir {}: {e}", path.display()))
}

/// A name for each profile: its file's stem (or the built-in name), made unique.
fn names(profiles: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in profiles {
        let stem = p
            .file_stem()
            .map_or_else(|| "target".to_owned(), |s| s.to_string_lossy().into_owned());
        let stem: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut name = stem.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{stem}-{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// One target's run, its reports written in `dir`.
struct Done {
    document: Document,
}

/// A target's part in the run.
#[derive(Clone, Copy)]
enum Place<'a> {
    /// The run's only target, compared with the baseline if one is given: its console report
    /// is printed, the changes first, and its flags (`--junit`, `--findings-dir`) apply as given.
    Alone(Option<&'a Baseline>),
    /// One of several: its reports go into its folder, the console shows the table of all.
    OneOfMany,
}

/// Whether `file` can be written: its folder is made if need be, and a probe file written
/// and removed there (the file itself is not touched).
fn writable(file: &Path) -> std::io::Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    if file.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let probe = dir.join(format!(".css-conformance-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// Runs the features and the fuzz budget against the target `target` names and writes its
/// reports into `dir`, as its `role` says.
async fn run_target(
    args: &CheckArgs,
    spec: &Arc<Spec>,
    features: Vec<cucumber::gherkin::Feature>,
    target: &TargetArgs,
    dir: &Path,
    role: Place<'_>,
) -> anyhow::Result<Done> {
    let (alone, baseline) = match role {
        Place::Alone(baseline) => (true, baseline),
        Place::OneOfMany => (false, None),
    };
    let started = (time::OffsetDateTime::now_utc(), std::time::Instant::now());
    let junit = report_paths(args, dir, alone)?;
    let (opened, origin) = open_target(spec, target).await?;
    let fuzz_cases = args
        .fuzz_cases
        .unwrap_or(if args.tags.is_some() { 0 } else { 300 });
    let options = CheckOptions {
        scenarios: ScenarioOptions {
            concurrency: usize::from(args.concurrency),
            cucumber_json: Some(dir.join("cucumber.json")),
            console: args.verbose && alone,
            tags: args.tags.as_ref().map(|t| t.expression.clone()),
        },
        fuzz: Some(fuzz::FuzzOptions {
            origin,
            ..fuzz_options(&args.fuzz, fuzz_cases, 16, false)
        }),
        strict: args.strict,
        require_complete: args.require_complete,
        fail_on_new: args.fail_on == FailOn::New,
        ledger: ledger_for(args, opened.profile.endpoint.as_deref()),
        reuse_tasks: args.reuse_tasks,
        progress: alone,
        baseline,
        started,
    };
    let Checked { document, fuzzed } = check(spec, features, opened, options).await?;
    if alone {
        if let Some(diff) = &document.baseline {
            println!("{}", writer::diff_console(diff, false));
        }
        let console = writer::Console {
            quiet: args.quiet,
            colors: console::colors_enabled(),
        };
        print!("{}", console.render(&document));
    }
    write_reports(args, &document, fuzzed.as_ref(), dir, &junit, alone)?;
    Ok(Done { document })
}

/// The ledger of used tasks a run against `endpoint` keeps: the file `--ledger` or
/// `CSS_CONFORMANCE_LEDGER` names, for any endpoint; else the one in the platform's state
/// directory, for an endpoint on another machine (a server on this one is a test's, whose
/// tasks are its own).
fn ledger_for(args: &CheckArgs, endpoint: Option<&str>) -> Option<Ledger> {
    let named = args.ledger.clone().or_else(|| {
        std::env::var_os(LEDGER_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(file) = named {
        return Some(Ledger::at(file));
    }
    if css_conformance::engines::targets::on_this_machine(endpoint?) {
        return None;
    }
    Ledger::default_file().map(Ledger::at)
}

/// The variable that names the ledger's file (as `--ledger` does).
pub const LEDGER_ENV: &str = "CSS_CONFORMANCE_LEDGER";

/// Makes the report directory and returns the JUnit file's path; a JUnit file that cannot be
/// written is said before anything is sent.
fn report_paths(args: &CheckArgs, dir: &Path, alone: bool) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("--report-dir {}: {e}", dir.display()))?;
    match (&args.junit, alone) {
        (Some(file), true) => {
            writable(file).map_err(|e| anyhow::anyhow!("--junit {}: {e}", file.display()))?;
            Ok(file.clone())
        }
        _ => Ok(dir.join("junit.xml")),
    }
}

/// Writes the findings, the report directory and the JUnit file of one target's run, and
/// (alone) says where they are.
fn write_reports(
    args: &CheckArgs,
    document: &Document,
    fuzzed: Option<&fuzz::Summary>,
    dir: &Path,
    junit: &Path,
    alone: bool,
) -> anyhow::Result<()> {
    if let Some(summary) = fuzzed {
        let findings = match (&args.fuzz.findings_dir, alone) {
            (Some(d), true) => d.clone(),
            (Some(d), false) => d.join(dir.file_name().unwrap_or_default()),
            (None, _) => dir.join("findings"),
        };
        save_findings(summary, &findings)?;
    }
    document
        .write(dir)
        .map_err(|e| anyhow::anyhow!("--report-dir {e}"))?;
    std::fs::write(junit, writer::JUnit.render(document)).map_err(|e| {
        let flag = if args.junit.is_some() && alone {
            "--junit"
        } else {
            "--report-dir"
        };
        anyhow::anyhow!("{flag} {}: {e}", junit.display())
    })?;
    if alone {
        println!(
            "Reports: {} (JUnit), {}/{{cucumber.json,report.json,report.md,report.html}}",
            junit.display(),
            dir.display()
        );
        if let Some(why) = &document.report.target_fault {
            eprintln!("error: the target could not be judged: {why}");
        }
    }
    Ok(())
}
