//! The verdict never says more than the run showed: a run whose target answered nothing (exit
//! 3) is called conformant nowhere; a run that left a MUST clause unjudged says so, and
//! `--require-complete` fails it; a `--tags` expression that selects nothing is a usage error
//! naming near tags; a scenario that did not run shows as skipped, not with ✔.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use css_conformance::fixtures::Fixtures;

use crate::common;
use css_conformance::servers::stub::{STUB_TOKEN, Standalone};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_css-conformance"))
}

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("completeness")
        .join(name)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn a_run_whose_target_answered_nothing_is_called_conformant_nowhere() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let reports = dir("exit-3");
    let output = Command::new(exe())
        .arg("check")
        .args(common::endpoint::flags(&format!("http://127.0.0.1:{port}")))
        .args(["--set", "retries.backoff_ms=10"])
        .arg("--report-dir")
        .arg(&reports)
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(3), "{all}");
    assert!(all.contains("NOT JUDGED"), "{all}");
    assert!(!all.contains("Conformant"), "{all}");
    let report = json(&reports);
    assert_eq!(report["conformant"], false);
    assert_eq!(report["complete"], false);
    assert_eq!(report["verdict"], "not-judged");
    assert_eq!(report["exit_code"], 3);
    for file in ["report.md", "report.html"] {
        let page = std::fs::read_to_string(reports.join(file)).unwrap();
        assert!(page.contains("NOT JUDGED"), "{file}");
        assert!(!page.contains("Conformant:"), "{file}");
        assert!(!page.contains("headline ok"), "{file}");
    }
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<testcase name="[verdict] the run""#),
        "{junit}"
    );
    assert!(junit.contains(r#"type="target-fault""#), "{junit}");
}

/// `check` against a standalone stub as a live target without --allow-mutations: the
/// mutating scenarios do not run, so MUST clauses are not judged.
fn safe_mode(extra: &[&str], name: &str) -> (Output, PathBuf) {
    let stub = Standalone::start(exe(), 120).unwrap();
    let f = Fixtures::builtin();
    let reports = dir(name);
    let output = Command::new(exe())
        .args([
            "check",
            "--endpoint",
            stub.url(),
            "--project-id",
            &f.project_id,
        ])
        .args(["--set", &format!("fixtures.cluster_id={}", f.cluster_id)])
        .args([
            "--max-requests-per-second",
            "0",
            "--fuzz-cases",
            "0",
            "--report-dir",
        ])
        .arg(&reports)
        .args(extra)
        .env("CSS_CONFORMANCE_TOKEN", STUB_TOKEN)
        .output()
        .unwrap();
    (output, reports)
}

#[test]
fn an_incomplete_run_says_so_and_require_complete_fails_it() {
    let (output, reports) = safe_mode(&["--verbose"], "incomplete");
    let all = text(&output);
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(all.contains("INCOMPLETE"), "{all}");
    assert!(!all.contains("Conformant: every MUST clause"), "{all}");
    let report = json(&reports);
    assert_eq!(report["complete"], false);
    assert_eq!(report["verdict"], "incomplete");
    let query01 = report["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "RUT-QUERY-01")
        .unwrap();
    assert_eq!(query01["verdict"], "SKIP");
    assert_eq!(query01["judged_scenarios"], 0);
    for file in ["report.md", "report.html"] {
        let page = std::fs::read_to_string(reports.join(file)).unwrap();
        assert!(page.contains("INCOMPLETE"), "{file}");
    }

    // Skipped scenarios show as skipped in cucumber's output: their first step says why and
    // no step of theirs has a ✔.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let not_run: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("[not run: mutating"))
        .collect();
    assert!(not_run.len() >= 20, "{stdout}");
    assert!(not_run.iter().all(|l| !l.contains('✔')), "{not_run:?}");
    assert!(
        !stdout.contains("✔  Given a failed upgrade task"),
        "a skipped scenario printed as passed"
    );
    let cucumber: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("cucumber.json")).unwrap())
            .unwrap();
    let statuses: Vec<&str> = cucumber
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["elements"].as_array().unwrap())
        .flat_map(|e| e["steps"].as_array().unwrap())
        .filter(|s| s["name"].as_str().unwrap_or("").contains("[not run:"))
        .map(|s| s["result"]["status"].as_str().unwrap_or(""))
        .collect();
    assert!(
        statuses.len() >= 20 && statuses.iter().all(|s| *s == "skipped"),
        "{statuses:?}"
    );
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"message="mutating: it retries or aborts a real task"#),
        "{junit}"
    );

    let (output, reports) = safe_mode(&["--require-complete"], "require-complete");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = json(&reports);
    assert_eq!(report["conformant"], false);
    assert_eq!(report["exit_code"], 1);
}

#[test]
fn a_tag_expression_that_selects_nothing_is_a_usage_error_naming_near_tags() {
    for (tags, hint) in [
        ("@rut-auth-01", "@RUT-AUTH-01"),
        ("@RUT-NOPE-99", "no scenario has @RUT-NOPE-99"),
        ("@RUT-QUERY-03 and @RUT-AUTH-01", "selects no scenario"),
    ] {
        let output = Command::new(exe())
            .args(["check", "--tags", tags, "--report-dir"])
            .arg(dir("tags"))
            .output()
            .unwrap();
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{tags}: {all}");
        assert!(all.contains(hint), "{tags}: {all}");
    }
    // A tag of the right name runs.
    let output = Command::new(exe())
        .args(["check", "--quiet", "--tags", "@RUT-AUTH-01", "--report-dir"])
        .arg(dir("tags-ok"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}
