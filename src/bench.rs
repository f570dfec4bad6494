//! `fuzz --bench`: fuzz throughput against the built-in stub and against the stub served by a
//! separate process on a loopback port, beside a standard load tool's raw request rate against
//! that same standalone stub; medians of several runs, side by side, in one run.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use css_conformance::case::UNKNOWN_UUID;
use css_conformance::fixtures::Fixtures;
use css_conformance::fuzz;
use css_conformance::spec::Spec;
use css_conformance::stub::Standalone;
use css_conformance::suite::{self, STUB_TOKEN};
use css_conformance::target::{Auth, Secret, Target};

const RUNS: usize = 5;
const LOAD_SECONDS: u64 = 5;

/// `css-conformance stub` in its own process: this very binary.
fn start_standalone() -> anyhow::Result<Standalone> {
    let exe = std::env::current_exe().context("locating css-conformance itself")?;
    Standalone::start(&exe, 600).context("starting the standalone stub")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Runs the benchmark and prints its table; exit code 0.
pub async fn run(cases: u64, concurrency: u16) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let options = |seed| fuzz::Options {
        cases,
        seed,
        concurrency: usize::from(concurrency),
        ..fuzz::Options::default()
    };
    println!(
        "fuzz --bench: {cases} cases per run, concurrency {concurrency}, median of {RUNS} runs"
    );

    let mut builtin = Vec::new();
    for seed in 0..RUNS as u64 {
        let (_stub, target) = suite::stub_target(Arc::clone(&spec), None).await;
        let summary = fuzz::run(&spec, &target, &options(seed)).await;
        anyhow::ensure!(
            summary.findings.is_empty(),
            "the stub conforms:\n{}",
            summary.render()
        );
        builtin.push(summary.cases_per_second());
    }

    let mut standalone = Vec::new();
    for seed in 0..RUNS as u64 {
        // A fresh process each run: the tasks a run spends stay spent in its stub.
        let stub = start_standalone()?;
        let auth = Auth::Token(Secret::new(STUB_TOKEN));
        let target =
            Target::new("standalone stub", stub.url(), auth, Fixtures::builtin())?.owned_by_us();
        let summary = fuzz::run(&spec, &target, &options(seed)).await;
        anyhow::ensure!(
            summary.findings.is_empty(),
            "the stub conforms:\n{}",
            summary.render()
        );
        standalone.push(summary.cases_per_second());
    }

    let stub = start_standalone()?;
    let fixtures = Fixtures::builtin();
    let url = format!(
        "{}/v1.0/{}/clusters/{}/upgrade/{UNKNOWN_UUID}/retry",
        stub.url(),
        fixtures.project_id,
        fixtures.cluster_id
    );
    let load = load_tool_rates(&url, concurrency)?;
    drop(stub);

    let (b, s) = (median(builtin), median(standalone));
    println!("{:<44} {:>12}", "", "median /s");
    println!(
        "{:<44} {:>12.0}",
        "fuzz cases, built-in stub (in-process)", b
    );
    println!(
        "{:<44} {:>12.0}",
        "fuzz cases, standalone stub (loopback)", s
    );
    for (tool, rate) in &load {
        println!(
            "{:<44} {:>12.0}",
            format!("{tool} raw requests, standalone stub"),
            rate
        );
        println!(
            "{:<44} {:>11.0}%",
            format!("ratio fuzz / {tool}, standalone stub"),
            100.0 * s / rate
        );
    }
    if load.is_empty() {
        println!(
            "no load tool found: install wrk (apt-get install wrk) or oha (cargo install oha)"
        );
    }
    Ok(0)
}

/// The median raw request rate of each installed load tool (`wrk`, `oha`) for one PUT.
fn load_tool_rates(url: &str, connections: u16) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let header = format!("X-Auth-Token: {STUB_TOKEN}");
    let script =
        std::env::temp_dir().join(format!("css-conformance-wrk-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!("wrk.method = \"PUT\"\nwrk.headers[\"X-Auth-Token\"] = \"{STUB_TOKEN}\"\n"),
    )?;
    let mut rates = Vec::new();
    for tool in ["wrk", "oha"].into_iter().filter(|t| which(t)) {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let output = if tool == "wrk" {
                Command::new("wrk")
                    .args([
                        "-t1",
                        &format!("-c{connections}"),
                        &format!("-d{LOAD_SECONDS}s"),
                        "-s",
                    ])
                    .arg(&script)
                    .arg(url)
                    .output()?
            } else {
                Command::new("oha")
                    .args([
                        "--no-tui",
                        "-z",
                        &format!("{LOAD_SECONDS}s"),
                        "-c",
                        &connections.to_string(),
                    ])
                    .args(["-m", "PUT", "-H", &header, url])
                    .output()?
            };
            let text = String::from_utf8_lossy(&output.stdout);
            let rate = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .with_context(|| format!("no Requests/sec in {tool}'s output:\n{text}"))?;
            runs.push(rate);
            std::thread::sleep(Duration::from_millis(200));
        }
        rates.push((tool, median(runs)));
    }
    let _ = std::fs::remove_file(&script);
    Ok(rates)
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}
