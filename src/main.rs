//! The `css-conformance` command line.

mod bench;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use css_conformance::fuzz::{self, Finding, Replay};
use css_conformance::report::Report;
use css_conformance::spec::Spec;
use css_conformance::stub::{Deviation, Stub};
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
    /// Run every feature, then a fuzz budget, against the target; print a clause-by-clause result.
    ///
    /// The target is the built-in stub unless CSS_CONFORMANCE_ENDPOINT is set (with
    /// CSS_CONFORMANCE_TOKEN, CSS_CONFORMANCE_PROJECT_ID, CSS_CONFORMANCE_CLUSTER_ID and
    /// CSS_CONFORMANCE_FAILED_ACTION_IDS).
    ///
    /// Example: css-conformance check --fuzz-cases 1000 --seed 42
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    /// Generate cases from the spec, send them, and shrink every violation to a minimal finding.
    ///
    /// Findings are printed with their seed and a cURL line, and written as JSON for `replay`.
    /// Against a live endpoint, generated IDs are synthetic unless --allow-mutations is given.
    ///
    /// Examples:
    ///   css-conformance fuzz --cases 5000 --seed 42
    ///   css-conformance fuzz --bench
    #[command(verbatim_doc_comment)]
    Fuzz(FuzzArgs),
    /// Re-send a finding's case to the target and judge the answer anew.
    ///
    /// Exit 1 when the clause is still violated, 0 when the answer now conforms.
    ///
    /// Example: css-conformance replay target/css-conformance/findings/RUT-STATUS-02-seed42-case17.json
    #[command(verbatim_doc_comment)]
    Replay(ReplayArgs),
    /// Serve the built-in stub on a loopback port until stopped, for client teams and benchmarks.
    ///
    /// Prints the base URL on the first line; the token it accepts is in the README.
    ///
    /// Example: css-conformance stub --serve-for 60
    #[command(verbatim_doc_comment)]
    Stub(StubArgs),
}

#[derive(clap::Args)]
struct TargetArgs {
    /// Against a live endpoint, let scenarios and generated cases retry and abort the
    /// configured failed tasks (without it they are skipped and reported as SKIP).
    #[arg(long)]
    allow_mutations: bool,
    /// Use a built-in stub that deviates from the contract on purpose, to see what a finding
    /// looks like.
    #[arg(long, value_enum, value_name = "DEVIATION")]
    stub_deviation: Option<Deviation>,
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
    /// Generated cases to send after the features (0: none).
    #[arg(long, default_value_t = 300, value_name = "N")]
    fuzz_cases: u64,
    #[command(flatten)]
    fuzz: FuzzShared,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(clap::Args)]
struct FuzzShared {
    /// The seed of the generated cases; the same seed gives the same cases (default: random).
    #[arg(long)]
    seed: Option<u64>,
    /// Where to write findings as JSON.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "target/css-conformance/findings"
    )]
    findings_dir: PathBuf,
}

#[derive(clap::Args)]
struct FuzzArgs {
    /// How many cases to generate and send.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    cases: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Measure cases/s against the built-in stub and a standalone stub, beside a load tool's
    /// raw rate (wrk or oha, when installed), instead of fuzzing once.
    #[arg(long)]
    bench: bool,
    #[command(flatten)]
    fuzz: FuzzShared,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// A finding file written by `fuzz` or `check`.
    finding: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(clap::Args)]
struct StubArgs {
    /// Stop after this many seconds (default: serve until killed).
    #[arg(long, value_name = "SECONDS")]
    serve_for: Option<u64>,
    #[command(flatten)]
    target: TargetArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Check(args) => check(args).await,
            Command::Fuzz(args) if args.bench => bench::run(args.cases, args.concurrency).await,
            Command::Fuzz(args) => fuzz_once(args).await,
            Command::Replay(args) => replay(args).await,
            Command::Stub(args) => stub(args).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// The target the environment names, or a fresh built-in stub (kept alive by the caller).
async fn open_target(
    spec: &Arc<Spec>,
    args: &TargetArgs,
) -> anyhow::Result<(Option<Stub>, Target)> {
    let live = Target::from_env().context("the CSS_CONFORMANCE_* environment")?;
    match (live, args.stub_deviation) {
        (Some(_), Some(_)) => anyhow::bail!(
            "--stub-deviation applies to the built-in stub; unset {}",
            target::ENV_ENDPOINT
        ),
        (Some(target), None) => {
            let allowed = target.mutations_allowed() || args.allow_mutations;
            Ok((None, target.allow_mutations(allowed)))
        }
        (None, deviation) => {
            let (stub, target) = suite::stub_target(Arc::clone(spec), deviation).await;
            Ok((Some(stub), target))
        }
    }
}

fn fuzz_options(
    shared: &FuzzShared,
    cases: u64,
    concurrency: usize,
    target: &Target,
) -> fuzz::Options {
    fuzz::Options {
        cases,
        seed: shared.seed.unwrap_or_else(random_seed),
        concurrency,
        mutations: target.mutations_allowed(),
        ..fuzz::Options::default()
    }
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() >> 11 // a seed short enough to type
}

/// Writes each finding and prints how to replay it.
fn save_findings(summary: &fuzz::Summary, dir: &std::path::Path) -> anyhow::Result<()> {
    for f in &summary.findings {
        let file = f.save(dir)?;
        println!(
            "  replay {}: css-conformance replay {}",
            f.clause,
            file.display()
        );
    }
    Ok(())
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
    let (stub, target) = open_target(&spec, &args.target).await?;
    let session = Arc::new(Session::new(Arc::clone(&spec), target));
    let run = suite::run(Arc::clone(&session), features, &options).await?;
    let fuzzed = if args.fuzz_cases > 0 {
        let opts = fuzz_options(&args.fuzz, args.fuzz_cases, 16, &session.target);
        Some(fuzz::run(&spec, &session.target, &opts).await)
    } else {
        None
    };
    drop(stub);
    let report = Report::build(&spec, &run.target, &run.records, fuzzed.as_ref());
    print!("{}", report.render());
    if let Some(summary) = &fuzzed {
        print!("{}", summary.render());
        save_findings(summary, &args.fuzz.findings_dir)?;
    }
    println!("JUnit report: {}", args.junit.display());
    Ok(if report.conformant() {
        CONFORMANT
    } else {
        NOT_CONFORMANT
    })
}

async fn fuzz_once(args: FuzzArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let (_stub, target) = open_target(&spec, &args.target).await?;
    let options = fuzz_options(
        &args.fuzz,
        args.cases,
        usize::from(args.concurrency),
        &target,
    );
    println!(
        "Fuzzing {} with {} cases, seed {} (replay this run with --seed {})",
        target.name(),
        options.cases,
        options.seed,
        options.seed
    );
    let summary = fuzz::run(&spec, &target, &options).await;
    print!("{}", summary.render());
    save_findings(&summary, &args.fuzz.findings_dir)?;
    Ok(if summary.findings.is_empty() {
        CONFORMANT
    } else {
        NOT_CONFORMANT
    })
}

async fn replay(args: ReplayArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let finding = Finding::load(&args.finding)?;
    let (_stub, target) = open_target(&spec, &args.target).await?;
    println!(
        "Replaying {} [{}] (seed {}, case {}) against {}",
        finding.clause,
        finding.level,
        finding.seed,
        finding.case_index,
        target.name()
    );
    match fuzz::replay(&spec, &target, &finding).await? {
        Replay::NoTask => {
            anyhow::bail!("the case needs a failed task and the target has none left")
        }
        Replay::Judged { url, verdict } => {
            println!("{} {url}\n{verdict}", spec.operation.method);
            Ok(if verdict.violates(&finding.clause) {
                println!("{} is still violated.", finding.clause);
                NOT_CONFORMANT
            } else {
                println!("{} now holds.", finding.clause);
                CONFORMANT
            })
        }
    }
}

async fn stub(args: StubArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let (stub, _target) = suite::stub_target(spec, args.target.stub_deviation).await;
    println!("{}", stub.base_url());
    eprintln!(
        "css-conformance stub: serving on {} (token {}); stop with Ctrl-C",
        stub.base_url(),
        suite::STUB_TOKEN
    );
    match args.serve_for {
        Some(secs) => tokio::time::sleep(std::time::Duration::from_secs(secs)).await,
        None => std::future::pending::<()>().await,
    }
    Ok(CONFORMANT)
}
