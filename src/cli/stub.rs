//! `css-conformance stub`: the built-in stub served for client teams and benchmarks.

use std::sync::Arc;
use std::time::Duration;

use css_conformance::contract::spec::Spec;
use css_conformance::fixtures::Fixtures;
use css_conformance::servers::stub::{self, STUB_TOKEN, load_fixtures, stub_keys};

use css_conformance::grading::report::Report;
use css_conformance::grading::writer::{self, Document, Writer as _};

use super::{CONFORMANT, StubArgs};

pub async fn run(args: StubArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let (fixtures, credentials) = (Fixtures::builtin(), stub_keys());
    let (fixtures, credentials) = match &args.fixtures {
        Some(file) => load_fixtures(file, &spec, fixtures, credentials)?,
        None => (fixtures, credentials),
    };
    let addr = args.serve.addr().await?;
    let stub = stub::Stub::builder()
        .spec(Arc::clone(&spec))
        .fixtures(fixtures.clone())
        .keys(credentials)
        .behaviour(stub::Behaviour {
            deviation: args.deviation.stub_deviation.map(|d| d.0),
            variants: args.stub_variant,
            through: args.deviation.stub_deviation.and_then(|d| d.1),
        })
        .watching(!args.silent)
        .serve(addr, args.serve.limits())
        .await
        .map_err(|e| anyhow::anyhow!("--listen {addr}: {e}"))?;
    let url = stub.url().to_owned();
    println!("{url}");
    // The built-in token guards nothing and the docs give it; one from a file is not shown.
    let token = if args.fixtures.is_some() {
        "as in the fixtures file"
    } else {
        STUB_TOKEN
    };
    let log = if args.silent {
        "no request log, no check of the clients (--silent)"
    } else if args.quiet {
        "only the clients' faults are logged (--quiet)"
    } else {
        "each request is logged with its verdict"
    };
    let mut behaviour = match args.deviation.stub_deviation {
        None => "conforming".to_owned(),
        Some(d) => format!("DEVIATING on purpose ({}: {})", d.name(), d.0.describe()),
    };
    if !args.stub_variant.is_empty() {
        behaviour.push_str(&format!(" in the variants {}", args.stub_variant));
    }
    let failed = &fixtures.failed_action_ids;
    let mut tasks = format!(
        "failed tasks {}",
        failed
            .iter()
            .take(2)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if failed.len() > 2 {
        tasks.push_str(&format!(" and {} more", failed.len() - 2));
    }
    if let Some(task) = &fixtures.not_failed_action_id {
        tasks.push_str(&format!("; a task not failed {task}"));
    }
    eprintln!(
        "css-conformance stub: serving on {url}, {behaviour} (project {}, cluster {}, {tasks}; \
         token {token}); {log}; stop with Ctrl-C",
        fixtures.project_id, fixtures.cluster_id
    );
    let started = (time::OffsetDateTime::now_utc(), std::time::Instant::now());
    let stopped_by = stopped_by(stub::stopped(args.serve.serve_for.map(Duration::from_secs)).await);
    let summary = stub.client_summary();
    if args.silent {
        eprintln!("css-conformance stub: stopped ({stopped_by})");
        return Ok(CONFORMANT);
    }
    eprintln!("css-conformance stub: stopped ({stopped_by}): {summary}");
    // The client verdict: the spec's client clauses, graded from what the clients did.
    let report = Report::of_clients(&spec, &format!("clients of the stub at {url}"), &summary);
    show_verdict(&report, args.serve.report_dir.as_deref(), started, "stub")?;
    Ok(report.exit_code())
}

/// Prints a served run's verdict (stub or proxy) on stderr and, with a report directory,
/// writes it there as junit.xml, report.json, report.md and report.html.
pub fn show_verdict(
    report: &Report,
    dir: Option<&std::path::Path>,
    started: (time::OffsetDateTime, std::time::Instant),
    command: &str,
) -> anyhow::Result<()> {
    let console = writer::Console {
        quiet: false,
        colors: console::colors_enabled_stderr(),
    };
    eprint!("{}", console.clauses(report));
    if let Some(dir) = dir {
        let document = Document::new(
            report,
            serde_json::json!({}),
            None,
            started.0,
            started.1.elapsed(),
        );
        document
            .write(dir)
            .map_err(|e| anyhow::anyhow!("--report-dir {e}"))?;
        let junit = dir.join("junit.xml");
        std::fs::write(&junit, writer::JUnit.render(&document))
            .map_err(|e| anyhow::anyhow!("--report-dir {}: {e}", junit.display()))?;
        eprintln!(
            "css-conformance {command}: verdict in {}/{{junit.xml,report.json,report.md,report.html}}",
            dir.display()
        );
    }
    Ok(())
}

/// What stopped a server, as its flag or the signal's name.
pub fn stopped_by(stopped: stub::Stopped) -> &'static str {
    match stopped {
        stub::Stopped::TimeServed => "--serve-for",
        stub::Stopped::CtrlC => "Ctrl-C",
        stub::Stopped::Sigterm => "SIGTERM",
    }
}
