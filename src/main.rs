//! The `css-conformance` command line.

mod bench;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use cucumber::gherkin::tagexpr::TagOperation;

use css_conformance::fixtures::Fixtures;
use css_conformance::fuzz::{self, Finding, Replay};
use css_conformance::profile::{AuthMethod, Origins, Profile};
use css_conformance::report::Report;
use css_conformance::spec::Spec;
use css_conformance::stub::{Deviation, Stub};
use css_conformance::suite::{self, Options, Session, StubAuth};
use css_conformance::target::Target;
use css_conformance::{coverage, features};

/// Exit codes, as the README documents them.
const CONFORMANT: u8 = 0;
const NOT_CONFORMANT: u8 = 1;
const USAGE_ERROR: u8 = 2;
const TARGET_FAULT: u8 = 3;

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
    /// The target is the built-in stub unless a profile, CSS_CONFORMANCE_ENDPOINT or
    /// --endpoint names an endpoint.
    ///
    /// Examples:
    ///   css-conformance check --fuzz-cases 1000 --seed 42
    ///   CSS_AUTH_TOKEN=... css-conformance check --profile profiles/otc-eu-de.yaml
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
    /// Check the contract (spec/) or export it.
    #[command(subcommand)]
    Spec(SpecCommand),
}

#[derive(Subcommand)]
enum SpecCommand {
    /// Validate a contract file and check that the features cover every clause of it.
    ///
    /// Exit 0 when it holds, 2 with each problem (file:line and key) when not.
    ///
    /// Example: css-conformance spec lint --spec my-spec.yaml --features features/
    #[command(verbatim_doc_comment)]
    Lint(SpecSource),
    /// Write the OpenAPI 3.0 document of the operation, generated from the spec.
    ///
    /// Examples:
    ///   css-conformance spec openapi > retry-upgrade-task.openapi.json
    ///   schemathesis run retry-upgrade-task.openapi.json --url https://css.eu-de.otc.t-systems.com
    #[command(verbatim_doc_comment)]
    Openapi {
        #[command(flatten)]
        source: SpecSource,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct SpecSource {
    /// A contract file to use instead of the embedded spec/retry_upgrade_task.yaml.
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    /// A folder of .feature files to use instead of the embedded ones (they must cover the spec).
    #[arg(long, value_name = "DIR")]
    features: Option<PathBuf>,
}

impl SpecSource {
    /// The spec and the features, which must cover every clause of it.
    fn load(&self) -> anyhow::Result<(Spec, Vec<cucumber::gherkin::Feature>)> {
        let spec = match &self.spec {
            Some(file) => Spec::load(file)?,
            None => Spec::embedded(),
        };
        let features = match &self.features {
            Some(dir) => features::load_dir(dir)?,
            None => features::embedded(),
        };
        let gaps = coverage::gaps(&spec, &features);
        for gap in &gaps {
            eprintln!("coverage: {gap}");
        }
        if !gaps.is_empty() {
            anyhow::bail!("the features do not cover the spec ({} gaps)", gaps.len());
        }
        Ok((spec, features))
    }
}

#[derive(clap::Args)]
struct TargetArgs {
    /// A target profile (YAML): endpoint, project_id, auth, fixtures, safety, timeouts, tls,
    /// retries, expected_deviations. Without one (and without CSS_CONFORMANCE_ENDPOINT) the
    /// target is the built-in stub.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// The endpoint to check (wins over the profile and CSS_CONFORMANCE_ENDPOINT).
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// The project the credentials act on.
    #[arg(long, value_name = "ID")]
    project_id: Option<String>,
    /// How requests authenticate (secrets come from the variables the profile names).
    #[arg(long, value_enum, value_name = "METHOD")]
    auth: Option<AuthMethod>,
    /// Against a live endpoint, let scenarios and generated cases retry and abort the
    /// configured failed tasks (without it they are skipped and reported as SKIP).
    #[arg(long)]
    allow_mutations: bool,
    /// The most requests per second to a live endpoint (0: no limit; default 5).
    #[arg(long, value_name = "N")]
    max_requests_per_second: Option<f64>,
    /// PEM certificates to trust besides the system's.
    #[arg(long, value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
    /// Do not verify TLS certificates (test servers only; a warning is printed).
    #[arg(long)]
    insecure: bool,
    /// Set any profile key, e.g. --set timeouts.request_ms=30000 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Use a built-in stub that deviates from the contract on purpose, to see what a finding
    /// looks like.
    #[arg(long, value_enum, value_name = "DEVIATION")]
    stub_deviation: Option<Deviation>,
}

impl TargetArgs {
    /// The profile keys the flags set, as (flag, key, value); flags win over everything.
    fn overrides(&self) -> anyhow::Result<Vec<(String, String, String)>> {
        let mut out = Vec::new();
        let mut flag = |flag: &str, key: &str, value: String| {
            out.push((flag.to_owned(), key.to_owned(), value));
        };
        if let Some(v) = &self.endpoint {
            flag("--endpoint", "endpoint", v.clone());
        }
        if let Some(v) = &self.project_id {
            flag("--project-id", "project_id", v.clone());
        }
        if let Some(v) = self.auth {
            flag("--auth", "auth.method", v.name().to_owned());
        }
        if self.allow_mutations {
            flag("--allow-mutations", "safety.allow_mutations", "true".into());
        }
        if let Some(v) = self.max_requests_per_second {
            flag(
                "--max-requests-per-second",
                "safety.max_requests_per_second",
                v.to_string(),
            );
        }
        if let Some(v) = &self.ca_bundle {
            flag("--ca-bundle", "tls.ca_bundle", v.display().to_string());
        }
        if self.insecure {
            flag("--insecure", "tls.insecure", "true".into());
        }
        for set in &self.set {
            let Some((key, value)) = set.split_once('=') else {
                anyhow::bail!("--set {set}: expected KEY=VALUE, e.g. --set retries.max=0");
            };
            flag(&format!("--set {key}"), key.trim(), value.trim().to_owned());
        }
        Ok(out)
    }
}

#[derive(clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    source: SpecSource,
    /// Where to write the reports: junit.xml, cucumber.json, report.json, report.md, report.html.
    #[arg(long, value_name = "DIR", default_value = "target/css-conformance")]
    report_dir: PathBuf,
    /// Write the JUnit XML report here instead of DIR/junit.xml.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Count SHOULD and EXTENDED failures (NON-STRICT) and XPASS against conformance.
    #[arg(long)]
    strict: bool,
    /// Print only the summary lines and failures, not every clause.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    quiet: bool,
    /// Scenarios in flight at once (1 to 24).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=24))]
    concurrency: u8,
    /// Print each scenario's steps as cucumber runs them.
    #[arg(long)]
    verbose: bool,
    /// Run only the scenarios whose tags match, e.g. '@RUT-QUERY-03 or @RUT-RESP-01' or
    /// 'not @RUT-AUTH-03' (every clause ID is a tag). Clauses no selected scenario checks are
    /// SKIP; the fuzz budget is 0 unless --fuzz-cases is given.
    #[arg(long, value_name = "EXPR", value_parser = parse_tags)]
    tags: Option<TagOperation>,
    /// Generated cases to send after the features (0: none; default 300, or 0 with --tags).
    #[arg(long, value_name = "N")]
    fuzz_cases: Option<u64>,
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
    /// The most requests spent shrinking findings, shared among them (each at most 256);
    /// 0 reports each violated clause's first failing case as it was generated.
    #[arg(long, value_name = "N", default_value_t = fuzz::SHRINK_BUDGET)]
    shrink_budget: u32,
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
    #[arg(long, conflicts_with = "soak")]
    bench: bool,
    /// Send --cases cases in 10 chunks to one built-in stub, sampling memory, open file
    /// descriptors and threads after each and at the end (exit 1 if any grew).
    #[arg(long)]
    soak: bool,
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
    /// Listen here, e.g. 127.0.0.1:8080 or 0.0.0.0:8080 (default: a free loopback port).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
    /// What the stub serves and accepts (YAML; every key optional, see the README):
    /// project_id, cluster_id, failed_action_ids, not_failed_action_id, token, access_key,
    /// secret_key.
    #[arg(long, value_name = "FILE")]
    fixtures: Option<PathBuf>,
    /// Stop after this many seconds (default: serve until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "SECONDS")]
    serve_for: Option<u64>,
    /// Deviate from the contract on purpose, to see how a client copes.
    #[arg(long, value_enum, value_name = "DEVIATION")]
    stub_deviation: Option<Deviation>,
    /// Neither log requests nor check the client side (for benchmarks and test harnesses).
    #[arg(long)]
    quiet: bool,
}

/// mimalloc: the fuzzer's many short-lived strings cost glibc's malloc ~20 % of the client's
/// CPU (measured with perf); the binary only, the library leaves the choice to its user.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A closed pipe (`css-conformance check | head`) ends the program quietly, as it does
    // any Unix tool, instead of a panic in `println!`.
    // SAFETY: restoring a signal's default disposition before any thread starts.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // The stub logs each request it answers; everything else is quiet unless RUST_LOG says.
    let default_log = match cli.command {
        Command::Stub(_) => "warn,css_conformance::stub=info",
        _ => "warn",
    };
    if let Err(e) = init_logging(default_log) {
        eprintln!("error: {e}");
        return ExitCode::from(USAGE_ERROR);
    }
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
            Command::Fuzz(args) if args.soak => soak(&args).await,
            Command::Fuzz(args) => fuzz_once(args).await,
            Command::Replay(args) => replay(args).await,
            Command::Stub(args) => stub(args).await,
            Command::Spec(SpecCommand::Lint(source)) => spec_lint(&source),
            Command::Spec(SpecCommand::Openapi { source, output }) => {
                spec_openapi(&source, output.as_deref())
            }
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

/// Logs go to stderr through `tracing`, filtered by RUST_LOG (e.g.
/// `RUST_LOG=css_conformance=debug` shows every request and its status), coloured only where
/// stderr is a terminal and NO_COLOR is not set.
fn init_logging(default: &str) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) => EnvFilter::try_new(&value)
            .map_err(|e| anyhow::anyhow!("RUST_LOG={value}: not a log filter: {e}"))?,
        Err(_) => EnvFilter::new(default),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(console::colors_enabled_stderr())
        .init();
    Ok(())
}

/// A target to run against, with the profile it came from.
struct Opened {
    /// The built-in stub, when it is the target; it serves while this is kept.
    stub: Option<Stub>,
    target: Target,
    profile: Profile,
}

/// The target the profile, the environment and the flags name (flags win), or a fresh
/// built-in stub when none names an endpoint.
async fn open_target(spec: &Arc<Spec>, args: &TargetArgs) -> anyhow::Result<Opened> {
    let (mut profile, mut origins) = match &args.profile {
        Some(file) => Profile::load(file)?,
        None => (Profile::default(), Origins::default()),
    };
    profile.apply_env(&mut origins)?;
    for (flag, key, value) in args.overrides()? {
        profile.apply_flag(&mut origins, &key, &value, &flag)?;
    }
    profile.check_against(spec, &origins)?;
    if profile.tls.insecure {
        eprintln!(
            "warning: TLS certificates are NOT verified ({}); use only against a test server",
            origins.of("tls.insecure")
        );
    }
    if profile.is_live() {
        if args.stub_deviation.is_some() {
            anyhow::bail!(
                "--stub-deviation applies to the built-in stub, but an endpoint is set ({})",
                origins.of("endpoint")
            );
        }
        let target = profile.live_target(&origins)?;
        return Ok(Opened {
            stub: None,
            target,
            profile,
        });
    }
    let auth = match profile.auth.method {
        AuthMethod::Token => StubAuth::Token,
        AuthMethod::Aksk => StubAuth::AkSk,
        AuthMethod::None => StubAuth::None,
    };
    let (stub, target) = suite::stub_target_with(Arc::clone(spec), args.stub_deviation, auth).await;
    Ok(Opened {
        stub: Some(stub),
        target,
        profile,
    })
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
        shrink_budget: shared.shrink_budget,
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

/// A tag expression as cucumber reads it: `@a and not (@b or @c)`.
fn parse_tags(expr: &str) -> Result<TagOperation, String> {
    expr.parse::<TagOperation>().map_err(|e| {
        format!(
            "not a tag expression (column {}: expected {}); e.g. '@RUT-QUERY-03 or not @RUT-AUTH-03'",
            e.location.column, e.expected
        )
    })
}

async fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let started = (time::OffsetDateTime::now_utc(), std::time::Instant::now());
    let (spec, features) = args.source.load()?;
    let spec = Arc::new(spec);
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
        tags: args.tags.clone(),
    };
    let Opened {
        stub,
        target,
        profile,
    } = open_target(&spec, &args.target).await?;
    let session = Arc::new(
        Session::new(Arc::clone(&spec), target)
            .with_progress(css_conformance::progress::start(None, "scenarios")),
    );
    let run = suite::run(Arc::clone(&session), features, &options).await?;
    let fuzz_cases = args
        .fuzz_cases
        .unwrap_or(if args.tags.is_some() { 0 } else { 300 });
    let fuzzed = if fuzz_cases > 0 {
        let mut opts = fuzz_options(&args.fuzz, fuzz_cases, 16, &session.target);
        opts.progress = css_conformance::progress::start(Some(fuzz_cases), "fuzz");
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
    .strict(args.strict);
    print!(
        "{}",
        report.render_styled(args.quiet, console::colors_enabled())
    );
    let traffic = session.target.traffic();
    if traffic.retried + traffic.throttled + traffic.not_resent > 0 {
        println!(
            "Traffic: {} requests sent; {} retried after a network error or 5xx{}; {} waits for 429; {} not re-sent after a 400/403",
            traffic.sent,
            traffic.retried,
            traffic
                .first_retry
                .as_deref()
                .map_or(String::new(), |f| format!(" (first: {f})")),
            traffic.throttled,
            traffic.not_resent
        );
    }
    if traffic.faults > 0 {
        println!(
            "Target faults: {} request(s) got no answer (the first: {}); what they were for is not judged",
            traffic.faults,
            traffic.first_fault.as_deref().unwrap_or("no answer")
        );
    }
    if let Some(summary) = &fuzzed {
        print!("{}", summary.render());
        save_findings(summary, &args.fuzz.findings_dir)?;
    }
    let document = css_conformance::document::Document::new(
        &report,
        serde_json::to_value(&profile)?,
        fuzzed.as_ref(),
        started.0,
        started.1.elapsed(),
    );
    document.write(&args.report_dir)?;
    let suites = css_conformance::junit::suites(&report, &run.records, fuzzed.as_ref(), started.0);
    std::fs::write(&junit, css_conformance::junit::xml(suites)).map_err(|e| {
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
    if traffic.answered == 0 && traffic.faults > 0 {
        eprintln!(
            "error: the target could not be judged: it answered none of {} request(s); the first: {}",
            traffic.faults,
            traffic.first_fault.as_deref().unwrap_or("no answer")
        );
        return Ok(TARGET_FAULT);
    }
    Ok(if report.conformant() {
        CONFORMANT
    } else {
        NOT_CONFORMANT
    })
}

async fn fuzz_once(args: FuzzArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let Opened {
        stub: _stub,
        target,
        ..
    } = open_target(&spec, &args.target).await?;
    let mut options = fuzz_options(
        &args.fuzz,
        args.cases,
        usize::from(args.concurrency),
        &target,
    );
    options.progress = css_conformance::progress::start(Some(args.cases), "fuzz");
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

async fn soak(args: &FuzzArgs) -> anyhow::Result<u8> {
    let seed = args.fuzz.seed.unwrap_or_else(random_seed);
    println!(
        "fuzz --soak: {} cases in 10 chunks against one built-in stub, seed {seed}",
        args.cases
    );
    let soak = css_conformance::soak::run(args.cases, 10, seed, usize::from(args.concurrency))
        .await
        .ok_or_else(|| anyhow::anyhow!("--soak reads /proc/self, which this system lacks"))?;
    print!("{}", soak.render());
    Ok(if soak.problems().is_empty() {
        CONFORMANT
    } else {
        NOT_CONFORMANT
    })
}

async fn replay(args: ReplayArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let finding = Finding::load(&args.finding)?;
    let Opened {
        stub: _stub,
        target,
        ..
    } = open_target(&spec, &args.target).await?;
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
    let (fixtures, credentials) = (Fixtures::builtin(), suite::stub_credentials());
    let (fixtures, credentials) = match &args.fixtures {
        Some(file) => css_conformance::stub::load_fixtures(file, &spec, fixtures, credentials)?,
        None => (fixtures, credentials),
    };
    let stub = Stub::start_watching(
        Arc::clone(&spec),
        &fixtures,
        &credentials,
        args.stub_deviation,
        !args.quiet,
    )
    .await;
    let url = match args.listen {
        None => stub.base_url(),
        Some(addr) => {
            // httpmock picks its own port; a fixed address forwards to it.
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("--listen {addr}: {e}"))?;
            let bound = listener.local_addr()?;
            tokio::spawn(forward(listener, stub.address()));
            format!("http://{bound}")
        }
    };
    println!("{url}");
    // The built-in token guards nothing and the README gives it; one from a file is not shown.
    let token = if args.fixtures.is_some() {
        "as in the fixtures file"
    } else {
        suite::STUB_TOKEN
    };
    let log = if args.quiet {
        "no request log (--quiet)"
    } else {
        "each request is logged with its verdict"
    };
    eprintln!(
        "css-conformance stub: serving on {url} (project {}, cluster {}, token {token}); {log}; \
         stop with Ctrl-C",
        fixtures.project_id, fixtures.cluster_id
    );
    let stopped_by = tokio::select! {
        () = async {
            match args.serve_for {
                Some(secs) => tokio::time::sleep(std::time::Duration::from_secs(secs)).await,
                None => std::future::pending().await,
            }
        } => "--serve-for",
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        () = terminated() => "SIGTERM",
    };
    let summary = stub.client_summary();
    if args.quiet {
        eprintln!("css-conformance stub: stopped ({stopped_by})");
    } else {
        eprintln!("css-conformance stub: stopped ({stopped_by}): {summary}");
    }
    Ok(if summary.resent > 0 {
        NOT_CONFORMANT
    } else {
        CONFORMANT
    })
}

/// Resolves when the process gets SIGTERM (never elsewhere).
async fn terminated() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        term.recv().await;
        return;
    }
    std::future::pending::<()>().await;
}

/// Forwards every connection `listener` accepts to `backend`, byte for byte.
async fn forward(listener: tokio::net::TcpListener, backend: std::net::SocketAddr) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            // Out of file descriptors, say: wait rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

fn spec_lint(source: &SpecSource) -> anyhow::Result<u8> {
    let (spec, features) = source.load()?;
    let scenarios: usize = features
        .iter()
        .map(|f| f.scenarios.len() + f.rules.iter().map(|r| r.scenarios.len()).sum::<usize>())
        .sum();
    println!(
        "spec OK: {} clauses, {} kinds of request, {} error codes; {} scenarios cover every clause",
        spec.clauses.len(),
        spec.expectations.len(),
        spec.error_codes.len(),
        scenarios
    );
    Ok(CONFORMANT)
}

fn spec_openapi(source: &SpecSource, output: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let (spec, _) = source.load()?;
    let text = serde_json::to_string_pretty(&css_conformance::openapi::document(&spec))? + "\n";
    match output {
        Some(file) => std::fs::write(file, text)
            .map_err(|e| anyhow::anyhow!("--output {}: {e}", file.display()))?,
        None => print!("{text}"),
    }
    Ok(CONFORMANT)
}
