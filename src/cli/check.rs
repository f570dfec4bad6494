//! `css-conformance check`: every feature, then a fuzz budget, clause by clause.

use std::sync::Arc;

use css_conformance::report::Report;
use css_conformance::session::Session;
use css_conformance::suite::{self, Options};
use css_conformance::target::open::Opened;
use css_conformance::writer::{self, Document, Writer as _};
use css_conformance::{fuzz, progress};

use super::{CheckArgs, fuzz_options, open_target, save_findings};

pub async fn run(args: CheckArgs) -> anyhow::Result<u8> {
    let started = (time::OffsetDateTime::now_utc(), std::time::Instant::now());
    let (spec, features) = args.source.load()?;
    let spec = Arc::new(spec);
    if let Some(tags) = &args.tags
        && suite::select(features.clone(), Some(&tags.expression)).is_empty()
    {
        return Err(tags.selects_nothing(&features));
    }
    let junit = args
        .junit
        .clone()
        .unwrap_or_else(|| args.report_dir.join("junit.xml"));
    std::fs::create_dir_all(&args.report_dir)
        .map_err(|e| anyhow::anyhow!("--report-dir {}: {e}", args.report_dir.display()))?;
    let options = Options {
        concurrency: usize::from(args.concurrency),
        cucumber_json: Some(args.report_dir.join("cucumber.json")),
        console: args.verbose,
        tags: args.tags.as_ref().map(|t| t.expression.clone()),
    };
    let (
        Opened {
            stub,
            target,
            profile,
        },
        origin,
    ) = open_target(&spec, &args.target).await?;
    let session = Arc::new(
        Session::new(Arc::clone(&spec), target).with_progress(progress::start(None, "scenarios")),
    );
    let run = suite::run(Arc::clone(&session), features, &options).await?;
    let fuzz_cases = args
        .fuzz_cases
        .unwrap_or(if args.tags.is_some() { 0 } else { 300 });
    let fuzzed = if fuzz_cases > 0 {
        let mutations = session.target.mutations_allowed();
        let mut opts = fuzz_options(&args.fuzz, fuzz_cases, 16, mutations);
        opts.origin = origin;
        opts.progress = progress::start(Some(fuzz_cases), "fuzz");
        Some(fuzz::run(&spec, &session.target, &opts).await)
    } else {
        None
    };
    drop(stub);
    let report = Report::build(
        &spec,
        &run.target,
        &run.records,
        fuzzed.as_ref(),
        &profile.expected_deviations,
    )
    .strict(args.strict)
    .require_complete(args.require_complete);
    let traffic = session.target.traffic();
    // A target that answered nothing is not judged: every report says so, and the exit is 3.
    let report =
        report.with_target_fault((traffic.answered == 0 && traffic.faults > 0).then(|| {
            format!(
                "the target answered none of {} request(s); the first: {}",
                traffic.faults,
                traffic.first_fault.as_deref().unwrap_or("no answer")
            )
        }));
    let document = Document::new(
        &report,
        serde_json::to_value(&profile)?,
        fuzzed.as_ref(),
        started.0,
        started.1.elapsed(),
    )
    .with_records(run.records)
    .with_traffic(traffic.clone());
    let console = writer::Console {
        quiet: args.quiet,
        colors: console::colors_enabled(),
    };
    print!("{}", console.render(&document));
    if let Some(summary) = &fuzzed {
        let dir = args
            .fuzz
            .findings_dir
            .clone()
            .unwrap_or_else(|| args.report_dir.join("findings"));
        save_findings(summary, &dir)?;
    }
    document.write(&args.report_dir)?;
    std::fs::write(&junit, writer::JUnit.render(&document)).map_err(|e| {
        let flag = if args.junit.is_some() {
            "--junit"
        } else {
            "--report-dir"
        };
        anyhow::anyhow!("{flag} {}: {e}", junit.display())
    })?;
    println!(
        "Reports: {} (JUnit), {}/{{cucumber.json,report.json,report.md,report.html}}",
        junit.display(),
        args.report_dir.display()
    );
    if let Some(why) = &report.target_fault {
        eprintln!("error: the target could not be judged: {why}");
    }
    Ok(report.exit_code())
}
