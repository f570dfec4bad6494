//! The command line: the arguments (clap), one file per command, and what the commands share
//! (loading the spec and features, opening the target, exit codes). Everything else is the
//! library's.

mod bench;
mod check;
mod fuzz;
mod profile;
mod proxy;
mod replay;
mod spec;
mod stub;
mod tags;
mod target;
mod tasks;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use css_conformance::contract::spec::Spec;
use css_conformance::engines::fuzz as fuzzer;
use css_conformance::settings::options;

pub use spec::{SpecCommand, SpecSource};
pub use tags::Tags;
use tags::parse_tags;
pub use target::{TargetArgs, open_target};
pub use tasks::TasksCommand;

use css_conformance::servers::stub::{Variant, Variants};

/// `--stub-variant`: a comma-separated list of variant names.
fn parse_variants(list: &str) -> Result<Variants, String> {
    Variants::parse(list)
}

pub use css_conformance::grading::exit::{CONFORMANT, NOT_CONFORMANT, NOT_JUDGED, USAGE_ERROR};

#[derive(Parser)]
#[command(
    name = "css-conformance",
    version,
    about = "Checks an endpoint against the documented contract of the CSS operation \
             'Retrying a Failed Upgrade Task'"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run every feature, then a fuzz budget, against the target; print a clause-by-clause result.
    ///
    /// The target is the built-in stub unless a profile, CSS_CONFORMANCE_ENDPOINT or
    /// --endpoint names an endpoint.
    ///
    /// Examples:
    ///   css-conformance check --fuzz-cases 1000 --seed 42
    ///   CSS_CONFORMANCE_TOKEN=... css-conformance check --profile profiles/otc-eu-de.yaml
    ///
    /// Exit: 0 no MUST clause failed; 1 a clause failed (or, with --require-complete, a MUST
    /// clause was not judged); 2 usage, configuration or fixture error (a token, project,
    /// cluster or base URL the target refuses, a task given twice or of the wrong shape, one
    /// the ledger says an earlier run used: named before anything is sent; a failed task
    /// found not usable on the way: FIXTURE ERROR, named); 3 the target answered nothing.
    /// Where the target answers an unknown task as it answers another's project, only
    /// --read-api or --not-failed-action-id tells a wrong project before a task is tried. An
    /// effect a used-up task would explain as well is unconfirmed: not judged, never a failure.
    #[command(
        verbatim_doc_comment,
        mut_arg("profile", |a| {
            let text = "A target profile: a YAML file or a built-in one by name (`profile list`): endpoint, project_id, auth, fixtures, safety, timeouts, tls, retries, expected_deviations. Without one (and without CSS_CONFORMANCE_ENDPOINT) the target is the built-in stub. Given several times, each target is run at once, one report for all";
            a.help(text).long_help(text)
        })
    )]
    Check(CheckArgs),
    /// Generate cases from the spec, send them, and shrink every violation to a minimal finding.
    ///
    /// Findings are printed with their seed and a cURL line, and written as JSON for `replay`.
    /// Against a live endpoint, generated IDs are synthetic unless --allow-mutations is given.
    ///
    /// Examples:
    ///   css-conformance fuzz --cases 5000 --seed 42
    ///   css-conformance fuzz --bench
    ///
    /// Exit: 0 no finding; 1 a finding; 2 usage or configuration error; 3 the target
    /// answered none of the cases (nothing judged is never a pass).
    #[command(verbatim_doc_comment)]
    Fuzz(FuzzArgs),
    /// Re-send a finding's case to the target and judge the answer anew.
    ///
    /// Exit 1 when the clause is still violated, 0 when the answer now conforms, 2 for a file
    /// that is not a finding, 3 when the target did not answer.
    ///
    /// Example: css-conformance replay target/css-conformance/findings/RUT-STATUS-02-seed42-case17.json
    #[command(verbatim_doc_comment)]
    Replay(ReplayArgs),
    /// Serve the built-in stub on a loopback port until stopped, for client teams and benchmarks.
    ///
    /// Prints the base URL on the first line, then (on stderr) the project, cluster, failed
    /// tasks and token it serves, and whether it deviates. On stop (Ctrl-C, SIGTERM,
    /// --serve-for) the verdict on its clients, and the reports with --report-dir.
    ///
    /// Exit: 0 the clients kept the client clauses (or --silent); 1 a client broke one;
    /// 2 usage or fixtures error.
    ///
    /// Example: css-conformance stub --serve-for 60
    #[command(verbatim_doc_comment)]
    Stub(StubArgs),
    /// Send a client's traffic on to an endpoint or a stub unchanged, and judge both sides.
    ///
    /// The server's answers are judged by the spec's clauses (only what holds under every
    /// reading of a request, unless --stub-fixtures says what the upstream knows), the
    /// client's requests by its client clauses. Prints the base URL on the first line; on
    /// stop (Ctrl-C, SIGTERM, --serve-for) the verdict, and the reports with --report-dir.
    /// Exit: 0 neither side broke a clause; 1 a clause failed (the verdict names the side);
    /// 2 usage or fixtures error; 3 the upstream answered nothing.
    ///
    /// Examples:
    ///   css-conformance proxy --upstream http://127.0.0.1:8080 --stub-fixtures builtin
    ///   css-conformance proxy --upstream https://css.eu-de.otc.t-systems.com --listen 127.0.0.1:8081
    #[command(verbatim_doc_comment)]
    Proxy(ProxyArgs),
    /// Check the contract (spec/) or export it.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Write a target profile, list the built-in ones, or list every profile key.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// List the built-in stub's deliberate deviations (the values of --stub-deviation), then
    /// its conforming variants (the values of --stub-variant).
    ///
    /// Exit: 0.
    Deviations,
    /// List or clear the ledger of used tasks: the failed tasks earlier runs used, which a run
    /// refuses before any request (the platform's state directory, --ledger FILE or
    /// CSS_CONFORMANCE_LEDGER).
    ///
    /// Exit: 0; 2 a ledger that cannot be read or written.
    #[command(subcommand)]
    Tasks(TasksCommand),
}

#[derive(Subcommand)]
pub enum ProfileCommand {
    /// Write a commented profile from the flags given (and a profile, and the environment),
    /// every other key commented out with its default.
    ///
    /// Exit: 0 written; 2 a flag, profile or variable that does not load, or an --output
    /// file that exists already (never overwritten).
    ///
    /// Example:
    ///   css-conformance profile init --endpoint https://css.eu-de.otc.t-systems.com \
    ///     --project-id ID --cluster-id ID --failed-action-id ID --output eu-de.yaml
    #[command(verbatim_doc_comment)]
    Init {
        #[command(flatten)]
        target: Box<TargetArgs>,
        /// Write to this file (never over an existing one) instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List the built-in profiles (`--profile NAME` uses one; `profile init --profile NAME`
    /// writes it out to edit).
    List,
    /// List every profile key: its flag, its environment variable, what it is. `--set
    /// KEY=VALUE` sets any of them.
    Keys,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub source: SpecSource,
    /// Where to write the reports: junit.xml, cucumber.json, report.json, report.md, report.html.
    #[arg(long, value_name = "DIR", default_value = "target/css-conformance")]
    pub report_dir: PathBuf,
    /// Write the JUnit XML report here instead of DIR/junit.xml.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Count SHOULD and EXTENDED failures (NON-STRICT) and XPASS against conformance.
    #[arg(long = options::STRICT.0)]
    pub strict: bool,
    /// Print only the summary lines and failures, not every clause.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Scenarios in flight at once (1 to 24).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=24))]
    pub concurrency: u8,
    /// Print each scenario's steps as cucumber runs them.
    #[arg(long)]
    pub verbose: bool,
    /// Run only the scenarios whose tags match, e.g. '@RUT-QUERY-03 or @RUT-RESP-01' or
    /// 'not @RUT-AUTH-03' (every clause ID is a tag). Clauses no selected scenario checks are
    /// SKIP; the fuzz budget is 0 unless --fuzz-cases is given.
    #[arg(long, value_name = "EXPR", value_parser = parse_tags)]
    pub tags: Option<Tags>,
    /// Fail the run (exit 1) when a MUST clause was not judged: for CI against a live
    /// endpoint, where a skipped scenario would otherwise leave the verdict incomplete.
    #[arg(long = options::REQUIRE_COMPLETE.0)]
    pub require_complete: bool,
    /// The ledger of used tasks: each failed task a run used is kept there, and a later run
    /// refuses it before any request (default: the platform's state directory, for an
    /// endpoint on another machine; also CSS_CONFORMANCE_LEDGER)
    #[arg(long = options::LEDGER.0, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// Use failed tasks the ledger says an earlier run used (for tasks that were restored)
    #[arg(long = options::REUSE_TASKS.0)]
    pub reuse_tasks: bool,
    /// A report.json of an earlier run (of one target or several): what changed since is
    /// shown first (new failures, fixed, new XPASS), target by target.
    #[arg(long, value_name = "REPORT_JSON")]
    pub baseline: Option<PathBuf>,
    /// What fails the run (exit 1): any clause that counts against conformance, or with
    /// `new` only one that did not in the baseline (a new failure).
    #[arg(
        long,
        value_enum,
        value_name = "WHAT",
        default_value = "any",
        requires = "baseline"
    )]
    pub fail_on: FailOn,
    /// Generated cases to send after the features (0: none; default 300, or 0 with --tags).
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub fuzz_cases: Option<u64>,
    #[command(flatten)]
    pub fuzz: FuzzShared,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Every clause that counts against conformance.
    Any,
    /// Only a clause that fails now and did not in the baseline.
    New,
}

#[derive(clap::Args)]
pub struct FuzzShared {
    /// The seed of the generated cases; the same seed gives the same cases (default: random).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Where to write findings as JSON (default: REPORT_DIR/findings for `check`,
    /// target/css-conformance/findings for `fuzz`).
    #[arg(long, value_name = "DIR")]
    pub findings_dir: Option<PathBuf>,
    /// The most requests spent shrinking findings, shared among them (each at most 256);
    /// 0 reports each violated clause's first failing case as it was generated.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = fuzzer::SHRINK_BUDGET)]
    pub shrink_budget: u32,
    /// Send each finding's minimal case K more times, to say whether it reproduces:
    /// "reproduced 3/3", or "intermittent 1/3" (graded INTERMITTENT). Only cases safe to
    /// repeat: never one that uses a live endpoint's failed task. 0: no repeats.
    #[arg(long = options::REPEAT.0, allow_negative_numbers = true, value_name = "K", default_value_t = fuzzer::REPEATS,
          value_parser = clap::value_parser!(u32).range(0..=20))]
    pub repeat: u32,
}

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// How many cases to generate and send.
    #[arg(
        long,
        allow_negative_numbers = true,
        default_value_t = 1000,
        value_name = "N"
    )]
    pub cases: u64,
    /// Requests in flight at once.
    #[arg(long, allow_negative_numbers = true, default_value_t = fuzzer::CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Measure cases/s against the built-in stub and a standalone stub, beside a load tool's
    /// raw rate (wrk or oha, when installed), instead of fuzzing once.
    #[arg(long, conflicts_with = "soak")]
    pub bench: bool,
    /// Send --cases cases in 10 chunks to one built-in stub, sampling memory, open file
    /// descriptors and threads after each and at the end (exit 1 if any grew).
    #[arg(long)]
    pub soak: bool,
    #[command(flatten)]
    pub fuzz: FuzzShared,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// A finding file written by `fuzz` or `check`.
    pub finding: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(clap::Args)]
pub struct StubArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// What the stub serves and accepts (YAML; every key optional, see docs/guide.md):
    /// project_id, cluster_id, failed_action_ids, not_failed_action_id, token, access_key,
    /// secret_key.
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    #[command(flatten)]
    pub deviation: target::StubDeviation,
    /// Conforming variants, comma-separated: choices the page, the vendor's error table or a
    /// gateway leaves open, made otherwise (`css-conformance deviations` lists them)
    #[arg(long, value_name = "VARIANT,...", value_parser = parse_variants, default_value = "")]
    pub stub_variant: Variants,
    /// Log only the clients' faults and the verdict, not every request (about 250 bytes each).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Neither log requests nor check the client side (for benchmarks and test harnesses).
    #[arg(long, conflicts_with = "quiet")]
    pub silent: bool,
}

/// What the served stub and the proxy share: where and how long they serve, within which
/// limits, and where the verdict goes on stop.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Listen here, e.g. localhost:8080, 127.0.0.1:8080 or 0.0.0.0:8080 (default: a free
    /// loopback port).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Stop after this many seconds (default: serve until Ctrl-C or SIGTERM).
    #[arg(long, allow_negative_numbers = true, value_name = "SECONDS")]
    pub serve_for: Option<u64>,
    /// On stop, write the verdict (the stub's: on its clients; the proxy's: on both sides)
    /// here as junit.xml, report.json, report.md and report.html.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Client connections served at once; more wait until one closes.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections: u32,
    /// Seconds a request head or body may take to arrive, and a connection may stay idle
    /// between requests, before it is closed (a body too slow gets 408).
    #[arg(long, allow_negative_numbers = true, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout: u64,
}

impl ServeArgs {
    /// The limits the flags set.
    pub fn limits(&self) -> css_conformance::servers::http_server::Limits {
        css_conformance::servers::http_server::Limits {
            max_connections: self.max_connections as usize,
            header_timeout: std::time::Duration::from_secs(self.idle_timeout),
            body_timeout: std::time::Duration::from_secs(self.idle_timeout),
            ..css_conformance::servers::http_server::Limits::default()
        }
    }

    /// The address `--listen` names (a host name is resolved; its first address is taken),
    /// or a free loopback port.
    pub async fn addr(&self) -> anyhow::Result<std::net::SocketAddr> {
        let Some(listen) = &self.listen else {
            return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        };
        let mut addrs = tokio::net::lookup_host(listen).await.map_err(|e| {
            anyhow::anyhow!("--listen {listen}: {e} (expected HOST:PORT, e.g. localhost:8080)")
        })?;
        addrs
            .next()
            .ok_or_else(|| anyhow::anyhow!("--listen {listen}: the name has no address"))
    }
}

#[derive(clap::Args)]
pub struct ProxyArgs {
    /// Where to send what comes: http(s)://host[:port], no path (each request keeps its own).
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    #[command(flatten)]
    pub serve: ServeArgs,
    /// The upstream is a css-conformance stub serving these fixtures (the stub's --fixtures
    /// file, or `builtin`): the proxy then knows its project, cluster, tasks and credentials,
    /// and judges as much as the stub could.
    #[arg(long = options::STUB_FIXTURES.0, value_name = "FILE|builtin")]
    pub stub_fixtures: Option<PathBuf>,
    /// Trust these PEM certificates too, for an https upstream.
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// The server's SHOULD and EXTENDED failures count too (the client's always do).
    #[arg(long = options::STRICT.0)]
    pub strict: bool,
    /// Seconds the upstream may take to answer a request (then the client gets 504).
    #[arg(long, allow_negative_numbers = true, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub upstream_timeout: u64,
    /// Log only the faults of either side (a client's or the server's violations) and the
    /// verdict, not every request (about 250 bytes each).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The fuzzer's options from the shared flags.
pub fn fuzz_options(
    shared: &FuzzShared,
    cases: u64,
    concurrency: usize,
    mutations: bool,
) -> fuzzer::FuzzOptions {
    fuzzer::FuzzOptions {
        cases,
        seed: shared.seed.unwrap_or_else(random_seed),
        concurrency,
        mutations,
        shrink_budget: shared.shrink_budget,
        repeats: shared.repeat,
        ..fuzzer::FuzzOptions::default()
    }
}

/// A seed as `--seed` takes it: a whole number, 0 or more.
fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim().parse::<u64>().map_err(|_| {
        format!(
            "a seed is a whole number from 0 to {} (the seed a run printed, e.g. --seed 42)",
            u64::MAX
        )
    })
}

pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() >> 11 // a seed short enough to type
}

/// Writes each finding (with the origin it records) and prints how to replay it: the command
/// as printed reaches the same target.
pub fn save_findings(summary: &fuzzer::Summary, dir: &std::path::Path) -> anyhow::Result<()> {
    // The directory holds this run's findings only: an earlier run's finding files go (other
    // files are left alone).
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let earlier =
                name.starts_with("RUT-") && name.contains("-seed") && name.ends_with(".json");
            if earlier && entry.path().is_file() {
                std::fs::remove_file(entry.path()).map_err(|e| {
                    anyhow::anyhow!(
                        "--findings-dir {}: cannot remove an earlier finding: {e}",
                        dir.display()
                    )
                })?;
            }
        }
    }
    for f in &summary.findings {
        let file = f.save(dir)?;
        let mut command =
            vec![css_conformance::shown::shell_word(&file.display().to_string()).into_owned()];
        command.extend(
            target::replay_flags(&f.origin)
                .iter()
                .map(|w| css_conformance::shown::shell_word(w).into_owned()),
        );
        println!(
            "  replay {}: css-conformance replay {}",
            f.clause,
            command.join(" ")
        );
    }
    Ok(())
}

/// Runs a command and says its exit code.
pub async fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Check(args) => check::run(args).await,
        Command::Fuzz(args) if args.bench => bench::run(args.cases, args.concurrency).await,
        Command::Fuzz(args) if args.soak => fuzz::soak(&args).await,
        Command::Fuzz(args) => fuzz::run(args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::Stub(args) => stub::run(args).await,
        Command::Proxy(args) => proxy::run(args).await,
        Command::Profile(ProfileCommand::Init { target, output }) => {
            // A profile describes an endpoint; the built-in stub's deviations are no key of it.
            if target.deviation.stub_deviation.is_some() {
                anyhow::bail!(
                    "--stub-deviation: `profile init` writes a profile of an endpoint, and a deviation of the built-in stub is not one of its keys; use it with `check` or `fuzz`"
                );
            }
            profile::init(&target, output.as_deref())
        }
        Command::Profile(ProfileCommand::List) => Ok(profile::list()),
        Command::Tasks(TasksCommand::List { ledger }) => tasks::list(ledger),
        Command::Tasks(TasksCommand::Clear { ledger }) => tasks::clear(ledger),
        Command::Profile(ProfileCommand::Keys) => Ok(profile::keys()),
        Command::Deviations => {
            println!("Deviations (--stub-deviation NAME), each breaking the contract on purpose:");
            for d in css_conformance::servers::stub::Deviation::ALL {
                println!("  {:<30}  {}", d.name(), d.describe());
            }
            let families: Vec<String> = Spec::embedded().families().map(|(n, _)| n).collect();
            println!(
                "  acts-through=FAMILY (with `stub`), FAMILY one of the grammar's: {}",
                families.join(", ")
            );
            println!();
            println!(
                "Conforming variants (--stub-variant NAME,...), choices the page leaves open; they compose:"
            );
            for v in Variant::ALL {
                println!("  {:<30}  {}", v.name(), v.describe());
            }
            Ok(CONFORMANT)
        }
        Command::Spec(SpecCommand::Lint { source, page }) => spec::lint(&source, page.as_deref()),
        Command::Spec(SpecCommand::Trace {
            page,
            source,
            format,
        }) => spec::trace(&source, page.as_deref(), format),
        Command::Spec(SpecCommand::Diff {
            pages,
            source,
            format,
        }) => match pages.as_slice() {
            [new] => spec::diff(&source, None, new, format),
            [old, new] => spec::diff(&source, Some(old), new, format),
            _ => unreachable!("clap takes one or two pages"),
        },
        Command::Spec(SpecCommand::Openapi { source, output }) => {
            spec::openapi(&source, output.as_deref())
        }
    }
}
