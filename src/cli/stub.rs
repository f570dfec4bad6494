//! `css-conformance stub`: the built-in stub served for client teams and benchmarks.

use std::sync::Arc;
use std::time::Duration;

use css_conformance::fixtures::Fixtures;
use css_conformance::spec::Spec;
use css_conformance::stub::{self, STUB_TOKEN, load_fixtures, stub_credentials};

use super::{CONFORMANT, NOT_CONFORMANT, StubArgs};

pub async fn run(args: StubArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let (fixtures, credentials) = (Fixtures::builtin(), stub_credentials());
    let (fixtures, credentials) = match &args.fixtures {
        Some(file) => load_fixtures(file, &spec, fixtures, credentials)?,
        None => (fixtures, credentials),
    };
    let addr = args
        .listen
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let stub = stub::serve(
        Arc::clone(&spec),
        &fixtures,
        &credentials,
        args.stub_deviation.map(|d| d.0),
        !args.quiet,
        addr,
        stub::Limits {
            max_connections: args.max_connections as usize,
            header_timeout: Duration::from_secs(args.idle_timeout),
            body_timeout: Duration::from_secs(args.idle_timeout),
            ..stub::Limits::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("--listen {addr}: {e}"))?;
    let url = stub.url().to_owned();
    println!("{url}");
    // The built-in token guards nothing and the README gives it; one from a file is not shown.
    let token = if args.fixtures.is_some() {
        "as in the fixtures file"
    } else {
        STUB_TOKEN
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
    let stopped_by = stub::stopped(args.serve_for.map(Duration::from_secs)).await;
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
