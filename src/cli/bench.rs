//! `fuzz --bench`: fuzz throughput against the built-in stub and against the stub served by a
//! separate process on a loopback port, beside a standard load tool's raw request rate against
//! that same standalone stub, and through the proxy in front of it; medians of several runs,
//! side by side, in one run.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use css_conformance::config::profile::AuthMethod;
use css_conformance::contract::request::{Request, TOKEN_HEADER};
use css_conformance::contract::spec::Spec;
use css_conformance::engines::fuzz;
use css_conformance::engines::fuzz::strategy::UNKNOWN_UUID;
use css_conformance::engines::targets;
use css_conformance::fixtures::Fixtures;
use css_conformance::secret::Secret;
use css_conformance::servers::stub::{STUB_TOKEN, Standalone};
use css_conformance::transport::target::{Auth, Target};

/// Rounds: many short ones rather than a few long ones, so that the median ratio stands when
/// the shared machine slows down for a few seconds (as it does: single rounds range 55-160 %).
const RUNS: usize = 9;
const LOAD_SECONDS: u64 = 2;

/// `css-conformance stub` in its own process: this very binary.
fn start_standalone() -> anyhow::Result<Standalone> {
    let exe = std::env::current_exe().context("locating css-conformance itself")?;
    Standalone::start(&exe, 600).context("starting the standalone stub")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// One measured series: its label and a rate per round.
struct Series {
    label: String,
    rates: Vec<f64>,
}

/// Runs the benchmark and prints its table; exit code 0.
///
/// The measurements are interleaved, one of each per round, so that the drift of a shared
/// machine falls on every series alike; ratios are taken within a round, then the median.
pub async fn run(cases: u64, concurrency: u16) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let options = |seed| fuzz::FuzzOptions {
        cases,
        seed,
        concurrency: usize::from(concurrency),
        ..fuzz::FuzzOptions::default()
    };
    println!(
        "fuzz --bench: {cases} cases per run, concurrency {concurrency}; {RUNS} interleaved rounds \
         (each: fuzz in-process, fuzz standalone, {LOAD_SECONDS} s of each load tool load)"
    );
    let mut builtin = Series {
        label: "fuzz cases, built-in stub (in-process)".to_owned(),
        rates: Vec::new(),
    };
    let mut standalone = Series {
        label: "fuzz cases, standalone stub (loopback)".to_owned(),
        rates: Vec::new(),
    };
    let mut loads: Vec<Series> = Vec::new();
    let mut proxied = Series {
        label: "wrk (one request) raw requests, through the proxy".to_owned(),
        rates: Vec::new(),
    };
    // The load tools' requests, rendered once: a target of the stub's fixtures only renders
    // them (wire paths carry no host), nothing is sent to it.
    let renderer = standalone_target("http://127.0.0.1:9")?;
    let one = one_request_path(&spec);
    let mix = case_mix(&spec, &renderer, MIX_CASES.min(cases));
    for round in 0..RUNS as u64 {
        let (_stub, target) =
            targets::stub_target(Arc::clone(&spec), None, AuthMethod::Token).await;
        builtin
            .rates
            .push(fuzz_rate(&spec, &target, &options(round)).await?);

        // A fresh process each run: the tasks a run spends stay spent in its stub.
        let stub = start_standalone()?;
        let target = standalone_target(stub.url())?;
        standalone
            .rates
            .push(fuzz_rate(&spec, &target, &options(round)).await?);
        drop(stub);

        let stub = start_standalone()?;
        for rate in load_tool_rates(stub.url(), &one, Some(&mix), concurrency)? {
            let label = format!("{} ({})", rate.tool, rate.requests);
            match loads.iter_mut().find(|l| l.label == label) {
                Some(series) => series.rates.push(rate.per_second),
                None => loads.push(Series {
                    label,
                    rates: vec![rate.per_second],
                }),
            }
        }
        // The same load through the proxy, in front of that same stub.
        let proxy = start_proxy(stub.url())?;
        let through = load_tool_rates(proxy.url(), &one, None, concurrency)?;
        if let Some(rate) = through.iter().find(|r| r.tool == "wrk") {
            proxied.rates.push(rate.per_second);
        }
    }

    print_table(&builtin, &standalone, &loads);
    print_proxied(&proxied, &loads);
    Ok(0)
}

/// `css-conformance proxy` in its own process, in front of the stub at `upstream`.
fn start_proxy(upstream: &str) -> anyhow::Result<Standalone> {
    let exe = std::env::current_exe().context("locating css-conformance itself")?;
    let args = [
        "proxy",
        "--upstream",
        upstream,
        "--quiet",
        "--serve-for",
        "600",
    ];
    Standalone::spawn(&exe, &args).context("starting the proxy")
}

/// The proxy's rate beside the stub's (wrk, one request, the same connections), and their
/// ratio round by round: the proxy does a server's work twice per request (both sides) and
/// judges both, on the same cores as the stub and the load tool.
fn print_proxied(proxied: &Series, loads: &[Series]) {
    let Some(direct) = loads.iter().find(|l| l.label == "wrk (one request)") else {
        return;
    };
    println!(
        "{:<52} {:>12.0}",
        proxied.label,
        median(proxied.rates.clone())
    );
    let ratios: Vec<f64> = proxied
        .rates
        .iter()
        .zip(&direct.rates)
        .map(|(through, raw)| 100.0 * through / raw)
        .collect();
    print_ratios("  ratio through the proxy / straight to the stub", &ratios);
}

/// One line of the table: the median of per-round `ratios` (in %), then every round's.
fn print_ratios(label: &str, ratios: &[f64]) {
    println!(
        "{:<52} {:>11.0}%   (rounds: {})",
        label,
        median(ratios.to_vec()),
        ratios
            .iter()
            .map(|r| format!("{r:.0}%"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

/// The medians of each series, and the ratio of the standalone fuzz rate to each load
/// tool's, taken round by round.
fn print_table(builtin: &Series, standalone: &Series, loads: &[Series]) {
    println!("{:<52} {:>12}", "", "median /s");
    for series in [builtin, standalone] {
        println!(
            "{:<52} {:>12.0}",
            series.label,
            median(series.rates.clone())
        );
    }
    for load in loads {
        println!(
            "{:<52} {:>12.0}",
            format!("{} raw requests, standalone stub", load.label),
            median(load.rates.clone())
        );
        let ratios = standalone
            .rates
            .iter()
            .zip(&load.rates)
            .map(|(fuzz, raw)| 100.0 * fuzz / raw)
            .collect::<Vec<_>>();
        print_ratios(
            &format!("  ratio fuzz standalone / {}", load.label),
            &ratios,
        );
    }
    if loads.is_empty() {
        println!(
            "no load tool found: install wrk (apt-get install wrk) or oha (cargo install oha)"
        );
    }
}

/// Fuzzes `target` once and returns its cases/s; the stubs conform, so a finding is an error.
async fn fuzz_rate(
    spec: &Spec,
    target: &Target,
    options: &fuzz::FuzzOptions,
) -> anyhow::Result<f64> {
    let summary = fuzz::run(spec, target, options).await?;
    anyhow::ensure!(
        summary.findings.is_empty(),
        "the stub conforms:\n{}",
        css_conformance::grading::writer::fuzz_summary(&summary)
    );
    Ok(summary.cases_per_second())
}

/// The wire path of the one request the load tools repeat: a retry of an unknown task.
fn one_request_path(spec: &Spec) -> String {
    let fixtures = Fixtures::builtin();
    Request::retry(
        fixtures.project_id,
        fixtures.cluster_id,
        UNKNOWN_UUID.to_owned(),
    )
    .path_and_query(spec)
}

/// The standalone stub at `url`, as a target of ours (its tasks may be spent).
fn standalone_target(url: &str) -> anyhow::Result<Target> {
    let auth = Auth::Token(Secret::new(STUB_TOKEN));
    Ok(Target::new("standalone stub", url, auth, Fixtures::builtin())?.owned_by_us())
}

/// A request as the load tool sends it: its path and query, and its headers.
type WireRequest = (String, Vec<(String, String)>);

/// How many of the fuzzer's requests the load tool replays, round and round.
const MIX_CASES: u64 = 2_000;

/// One load tool's rate for one kind of load.
struct LoadRate {
    tool: &'static str,
    /// `one request` (the same PUT over and over) or `fuzz case mix`.
    requests: &'static str,
    per_second: f64,
}

/// The first `n` requests of the fuzz run with seed 0, as path and headers on the wire: the
/// same requests the fuzzer sends, so the load tool's rate for them is the rate the stub can
/// answer them at, and the ratio is what generating, sending and judging costs on top.
fn case_mix(spec: &Spec, target: &Target, n: u64) -> Vec<WireRequest> {
    let scope = css_conformance::engines::fuzz::strategy::Scope { mutations: true };
    let now = time::OffsetDateTime::now_utc();
    fuzz::drafts(spec, scope, 0, n)
        .iter()
        .filter_map(|draft| draft.resolve(spec, target))
        .map(|case| {
            let headers = target
                .auth_headers(spec, &case.request, now)
                .into_iter()
                .map(|(k, v)| (k, v.expose().to_owned()))
                .collect();
            (case.request.path_and_query(spec), headers)
        })
        .collect()
}

/// A Lua string literal of `text`, byte by byte.
fn lua_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for b in text.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

/// A wrk script that sends `mix` round and round, each request pre-formatted once.
fn wrk_mix_script(method: &str, mix: &[WireRequest]) -> String {
    let mut lua = String::from("local mix = {\n");
    for (path, headers) in mix {
        let headers: Vec<String> = headers
            .iter()
            .map(|(k, v)| format!("[{}] = {}", lua_string(k), lua_string(v)))
            .collect();
        lua.push_str(&format!(
            "  {{ {}, {{ {} }} }},\n",
            lua_string(path),
            headers.join(", ")
        ));
    }
    lua.push_str(&format!(
        "}}\nlocal ready, i = {{}}, 0\n\
         init = function(args)\n\
           for n, r in ipairs(mix) do ready[n] = wrk.format({}, r[1], r[2]) end\n\
         end\n\
         request = function()\n\
           i = i % #ready + 1\n\
           return ready[i]\n\
         end\n",
        lua_string(method)
    ));
    lua
}

/// The raw request rate of each installed load tool (`wrk`, `oha`): for one PUT over
/// and over, and (wrk, which can script requests) for the fuzzer's own case mix.
fn load_tool_rates(
    base: &str,
    one: &str,
    mix: Option<&[WireRequest]>,
    connections: u16,
) -> anyhow::Result<Vec<LoadRate>> {
    let url = &format!("{base}{one}");
    let header = format!("{TOKEN_HEADER}: {STUB_TOKEN}");
    let dir = std::env::temp_dir();
    let one = dir.join(format!("css-conformance-wrk-{}.lua", std::process::id()));
    let many = dir.join(format!(
        "css-conformance-wrk-mix-{}.lua",
        std::process::id()
    ));
    std::fs::write(
        &one,
        format!("wrk.method = \"PUT\"\nwrk.headers[\"{TOKEN_HEADER}\"] = \"{STUB_TOKEN}\"\n"),
    )?;
    std::fs::write(&many, wrk_mix_script("PUT", mix.unwrap_or_default()))?;
    let wrk = |script: &std::path::Path, url: &str| {
        let mut c = Command::new("wrk");
        c.args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{LOAD_SECONDS}s"),
            "-s",
        ])
        .arg(script)
        .arg(url);
        c
    };
    let mut oha = Command::new("oha");
    oha.args([
        "--no-tui",
        "-z",
        &format!("{LOAD_SECONDS}s"),
        "-c",
        &connections.to_string(),
    ])
    .args(["-m", "PUT", "-H", &header, url]);
    let loads = [
        ("wrk", "one request", wrk(&one, url)),
        ("wrk", "fuzz case mix", wrk(&many, base)),
        ("oha", "one request", oha),
    ];
    let mut rates = Vec::new();
    let wanted = |(tool, requests, _): &(&str, &str, Command)| {
        which(tool) && (mix.is_some() || *requests == "one request")
    };
    for (tool, requests, mut command) in loads.into_iter().filter(wanted) {
        let output = command.output()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let per_second = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .with_context(|| {
                format!(
                    "no Requests/sec in {tool}'s output:\n{text}{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })?;
        rates.push(LoadRate {
            tool,
            requests,
            per_second,
        });
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_file(&one);
    let _ = std::fs::remove_file(&many);
    Ok(rates)
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}
