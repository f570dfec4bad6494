//! The `css-conformance` command line: flags in, exit code out; the commands are in `cli/`.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Command, USAGE_ERROR};

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
        Command::Stub(ref s) if s.quiet || s.silent => "warn",
        Command::Stub(_) => {
            "warn,css_conformance::servers::stub=info,css_conformance::clients=info"
        }
        // Quiet: the faults (warnings) and the verdict only, not a line per request.
        Command::Proxy(ref p) if p.quiet => "warn",
        Command::Proxy(_) => {
            "warn,css_conformance::clients=info,css_conformance::servers::proxy=info"
        }
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
    match runtime.block_on(cli::run(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// An error and its causes, each cause shown once: a library error keeps its cause (as
/// `source()`) and may say it in its own words too.
fn chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let said = cause.to_string();
        if !out.contains(&said) {
            out.push_str(": ");
            out.push_str(&said);
        }
    }
    out
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
