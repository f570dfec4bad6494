//! What a person at a terminal sees and a pipe does not: the progress bar after a couple of
//! seconds (only on a terminal), verdicts in colour (only on a terminal, never with NO_COLOR),
//! and logs through RUST_LOG. A terminal is made with `script` (util-linux, in every Debian).

use std::path::Path;
use std::process::Command;

use css_conformance::servers::stub::Standalone;

const BIN: &str = env!("CARGO_BIN_EXE_css-conformance");

/// Runs `args` on a pseudo-terminal and returns everything it wrote there.
fn on_terminal(env: &[(&str, &str)], args: &str) -> String {
    let mut command = Command::new("script");
    command.args(["-qec", &format!("{BIN} {args}"), "/dev/null"]);
    command.env_remove("NO_COLOR");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().expect("script (util-linux) runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A fuzz run that takes about three seconds whatever the machine: 30 cases at 10 requests
/// per second, against a standalone stub taken as a live endpoint.
fn slow_fuzz_args(stub: &Standalone, dir: &str) -> String {
    format!(
        "fuzz --endpoint {} --project-id 6204a5bd270343b5885144cf9c8c158d --set fixtures.cluster_id=ea244205-d641-45d9-9dcb-ab2236bcd07e --max-requests-per-second 10 --cases 30 --seed 1 --findings-dir {dir}",
        stub.url()
    )
}

#[test]
fn progress_shows_on_a_terminal_after_two_seconds_and_never_on_a_pipe() {
    let stub = Standalone::start(Path::new(BIN), 60).unwrap();
    let dir = format!("{}/console-findings", env!("CARGO_TARGET_TMPDIR"));
    let token = [(
        "CSS_CONFORMANCE_TOKEN",
        css_conformance::servers::stub::STUB_TOKEN,
    )];

    let terminal = on_terminal(&token, &slow_fuzz_args(&stub, &dir));
    assert!(terminal.contains("fuzz ["), "{terminal}");
    assert!(terminal.contains("/30 ("), "{terminal}");
    assert!(terminal.contains("Fuzz: 30 cases"), "{terminal}");

    let args = slow_fuzz_args(&stub, &dir);
    let piped = Command::new(BIN)
        .args(args.split(' '))
        .envs(token)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&piped.stderr);
    let stdout = String::from_utf8_lossy(&piped.stdout);
    assert!(stdout.contains("Fuzz: 30 cases"), "{stdout}\n{stderr}");
    for drawn in ["fuzz [", "\r", "\x1b["] {
        assert!(
            !stderr.contains(drawn) && !stdout.contains(drawn),
            "{drawn:?} in {stderr}"
        );
    }
}

#[test]
fn verdicts_are_coloured_on_a_terminal_unless_no_color() {
    let check = "check --fuzz-cases 0 --tags @RUT-RESP-01 --report-dir target/tmp/console-colour";
    let coloured = on_terminal(&[], check);
    assert!(coloured.contains("\x1b[32mPASS\x1b[0m"), "{coloured}");
    let plain = on_terminal(&[("NO_COLOR", "1")], check);
    assert!(plain.contains(" PASS "), "{plain}");
    assert!(!plain.contains("\x1b[32m"), "NO_COLOR: {plain}");
    // And never into a pipe.
    let piped = Command::new(BIN).args(check.split(' ')).output().unwrap();
    assert!(!String::from_utf8_lossy(&piped.stdout).contains("\x1b["));
}

#[test]
fn rust_log_shows_each_request_and_a_bad_filter_is_exit_2() {
    let output = Command::new(BIN)
        .args(["fuzz", "--cases", "5", "--seed", "1", "--findings-dir"])
        .arg(format!("{}/console-log", env!("CARGO_TARGET_TMPDIR")))
        .env("RUST_LOG", "css_conformance=debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.matches(" DEBUG ").count() >= 5, "{stderr}");
    assert!(stderr.contains("status="), "{stderr}");
    assert!(
        !stderr.contains(css_conformance::servers::stub::STUB_TOKEN),
        "{stderr}"
    );
    // Quiet by default.
    let quiet = Command::new(BIN)
        .args(["fuzz", "--cases", "5", "--seed", "1", "--findings-dir"])
        .arg(format!("{}/console-log", env!("CARGO_TARGET_TMPDIR")))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("DEBUG"));

    let bad = Command::new(BIN)
        .args(["spec", "lint"])
        .env("RUST_LOG", "css_conformance=[")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("RUST_LOG"), "{stderr}");
}
