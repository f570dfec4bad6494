//! `css-conformance proxy`: a client's traffic sent on to an upstream unchanged, both sides
//! judged, the verdict on stop.

use std::sync::Arc;
use std::time::Duration;

use css_conformance::contract::spec::Spec;
use css_conformance::fixtures::Fixtures;
use css_conformance::grading::report::Report;
use css_conformance::servers::proxy::{Proxy, ProxyOptions, ProxySummary, Upstream};
use css_conformance::servers::stub::{self, load_fixtures, stub_keys};

use super::ProxyArgs;
use super::stub::show_verdict;

pub async fn run(args: ProxyArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let options = options_of(&args, &spec)?;
    let addr = args.serve.addr().await?;
    let upstream = options.upstream.url.clone();
    let knowing = if options.knows.is_some() {
        "judging as one who knows the stub's fixtures and credentials"
    } else {
        "judging only what holds under every reading of a request"
    };
    let proxy = Proxy::start(Arc::clone(&spec), options, addr)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidInput => anyhow::anyhow!("--upstream: {e}"),
            _ => anyhow::anyhow!("--listen {addr}: {e}"),
        })?;
    let url = proxy.url().to_owned();
    println!("{url}");
    eprintln!(
        "css-conformance proxy: {url} -> {upstream}, {knowing}; each exchange is logged with its verdict; stop with Ctrl-C"
    );
    let started = (time::OffsetDateTime::now_utc(), std::time::Instant::now());
    let stopped_by =
        super::stub::stopped_by(stub::stopped(args.serve.serve_for.map(Duration::from_secs)).await);
    let summary = proxy.summary();
    drop(proxy);
    let answered = summary.requests - summary.unanswered;
    eprintln!(
        "css-conformance proxy: stopped ({stopped_by}): {}",
        stopped_line(&summary)
    );
    // The upstream answered nothing at all: nothing of the server was judged.
    let fault = (summary.requests > 0 && answered == 0).then(|| {
        format!(
            "the upstream {upstream} answered none of {} request(s); the first: {}",
            summary.requests,
            summary
                .first_unanswered
                .as_deref()
                .unwrap_or("refused by the proxy")
        )
    });
    let report = Report::of_proxy(
        &spec,
        &format!("{upstream} and its clients, through the proxy at {url}"),
        &summary.server,
        &summary.clients,
        args.strict,
        fault,
        args.stub_fixtures.is_some(),
    );
    show_verdict(&report, args.serve.report_dir.as_deref(), started, "proxy")?;
    eprintln!("css-conformance proxy: {}", sides(&spec, &report));
    Ok(report.exit_code())
}

/// The proxy's options from the command line: the upstream (and the CA bundle it is trusted
/// by), the limits, and what it knows of a stub upstream.
fn options_of(args: &ProxyArgs, spec: &Spec) -> anyhow::Result<ProxyOptions> {
    let ca_bundle = match &args.ca_bundle {
        Some(file) => Some(
            std::fs::read(file)
                .map_err(|e| anyhow::anyhow!("--ca-bundle {}: {e}", file.display()))?,
        ),
        None => None,
    };
    let upstream = Upstream::new(&args.upstream, ca_bundle.as_deref())
        .map_err(|e| anyhow::anyhow!("--upstream: {e}"))?;
    let knows = match args.stub_fixtures.as_deref() {
        None => None,
        Some(file) if file.as_os_str() == "builtin" => Some((Fixtures::builtin(), stub_keys())),
        Some(file) => Some(load_fixtures(file, spec, Fixtures::builtin(), stub_keys())?),
    };
    Ok(ProxyOptions {
        upstream,
        limits: args.serve.limits(),
        upstream_timeout: Duration::from_secs(args.upstream_timeout),
        knows,
    })
}

/// What the proxy saw, said when it stops.
fn stopped_line(summary: &ProxySummary) -> String {
    let answered = summary.requests - summary.unanswered;
    let out_of_turn = if summary.out_of_turn > 0 {
        format!(
            ", the upstream spoke out of turn {} time(s) (bytes before a request or after its answer: a fault of the upstream; such an answer was not forwarded, the client got 502)",
            summary.out_of_turn
        )
    } else {
        String::new()
    };
    format!(
        "{} request(s), {answered} answered by the upstream{out_of_turn}, {} of the operation judged under more than one reading, {} re-sent unchanged after a 400 or 403",
        summary.requests, summary.ambiguous, summary.clients.resent
    )
}

/// Which side broke which clauses: the server (upstream) or its clients.
fn sides(spec: &Spec, report: &Report) -> String {
    let failed = report.must_failures();
    let (clients, server): (Vec<&str>, Vec<&str>) = failed
        .iter()
        .partition(|id| spec.client_clauses.iter().any(|c| c.id == **id));
    let side = |who: &str, ids: &[&str]| match ids {
        [] => format!("{who} broke no clause"),
        ids => format!("{who} broke {}", ids.join(", ")),
    };
    format!(
        "{}; {}",
        side("the server (upstream)", &server),
        side("the clients", &clients)
    )
}
