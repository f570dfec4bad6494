//! The `css-conformance` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use css_conformance::report::Report;
use css_conformance::spec::Spec;
use css_conformance::stub::Deviation;
use css_conformance::suite::{self, Options, Session};
use css_conformance::target::{self, Target};
use css_conformance::{coverage, features};

/// Exit codes, as the README documents them.
const CONFORMANT: u8 = 0;
const NOT_CONFORMANT: u8 = 1;
const USAGE_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "css-conformance",
    version,
    about = "Checks an endpoint against the documented contract of the CSS operation \
             'Retrying a Failed Upgrade Task'"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every feature against the target and print a clause-by-clause result.
    ///
    /// The target is the built-in stub unless CSS_CONFORMANCE_ENDPOINT is set (with
    /// CSS_CONFORMANCE_TOKEN, CSS_CONFORMANCE_PROJECT_ID, CSS_CONFORMANCE_CLUSTER_ID and
    /// CSS_CONFORMANCE_FAILED_ACTION_IDS).
    ///
    /// Example: css-conformance check --junit target/css-conformance/junit.xml
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct CheckArgs {
    /// A contract file to use instead of the embedded spec/retry_upgrade_task.yaml.
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    /// A folder of .feature files to run instead of the embedded features.
    #[arg(long, value_name = "DIR")]
    features: Option<PathBuf>,
    /// Where to write the JUnit XML report.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/css-conformance/junit.xml"
    )]
    junit: PathBuf,
    /// Scenarios in flight at once (1 to 24).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=24))]
    concurrency: u8,
    /// Print each scenario's steps as cucumber runs them.
    #[arg(long)]
    verbose: bool,
    /// Run against a built-in stub that deviates from the contract on purpose, to see what a
    /// finding looks like.
    #[arg(long, value_enum, value_name = "DEVIATION")]
    stub_deviation: Option<Deviation>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let result = match cli.command {
        Command::Check(args) => runtime.block_on(check(args)),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

async fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(match &args.spec {
        Some(file) => Spec::load(file)?,
        None => Spec::embedded(),
    });
    let features = match &args.features {
        Some(dir) => features::load_dir(dir)?,
        None => features::embedded(),
    };
    let gaps = coverage::gaps(&spec, &features);
    if !gaps.is_empty() {
        for gap in &gaps {
            eprintln!("coverage: {gap}");
        }
        anyhow::bail!("the features do not cover the spec ({} gaps)", gaps.len());
    }
    let options = Options {
        concurrency: usize::from(args.concurrency),
        junit: Some(args.junit.clone()),
        console: args.verbose,
    };
    let live = Target::from_env().context("the CSS_CONFORMANCE_* environment")?;
    let run = match (live, args.stub_deviation) {
        (Some(_), Some(_)) => anyhow::bail!(
            "--stub-deviation applies to the built-in stub; unset {}",
            target::ENV_ENDPOINT
        ),
        (Some(target), None) => {
            let session = Arc::new(Session::new(Arc::clone(&spec), target));
            suite::run(session, features, &options).await?
        }
        (None, deviation) => {
            suite::run_against_stub(Arc::clone(&spec), deviation, features, &options).await?
        }
    };
    let report = Report::build(&spec, &run.target, &run.records);
    print!("{}", report.render());
    println!("JUnit report: {}", args.junit.display());
    Ok(if report.conformant() {
        CONFORMANT
    } else {
        NOT_CONFORMANT
    })
}
