//! Before a finding is reported, its minimal case is sent again (three times unless
//! `--repeat` says otherwise) and labelled "reproduced 3/3" or "intermittent j/3" in the
//! console, every report, JUnit and the finding file; an intermittent finding grades its
//! clause INTERMITTENT, apart from FAIL. A case that uses a live endpoint's failed task is
//! never repeated. A finding records its whole target (endpoint, auth method, the keys flags
//! set), so the replay command it prints reaches that target again as printed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use css_conformance::fixtures::Fixtures;
use css_conformance::servers::stub::{STUB_TOKEN, Standalone};

use crate::common;
use common::tiny_server;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_css-conformance"))
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A server that fails requests whose path holds a `%` now and then: the first time such a
/// request comes it answers 500, the second time 403, the third 500 again (each request line
/// counted apart); anything else gets a 403 with the vendor's error body.
fn flaky_server() -> String {
    let seen: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    tiny_server::serve(move |line| {
        if !tiny_server::path_is_encoded(line) {
            return tiny_server::not_found();
        }
        let mut seen = seen.lock().unwrap();
        let n = seen.entry(line.to_owned()).or_default();
        *n += 1;
        if *n % 2 == 1 {
            tiny_server::server_error()
        } else {
            tiny_server::not_found()
        }
    })
}

/// The flags that make `url` the target, with no retries (a retry would hide the flakiness
/// this is about).
fn endpoint_flags(url: &str) -> Vec<String> {
    let mut flags = common::endpoint::flags(url);
    flags.extend(["--set", "retries.max=0"].map(str::to_owned));
    flags
}

/// `check` of `url` with one feature's scenarios (none of which sends a `%`) and 300
/// generated cases of seed 5, reports into `dir`.
fn check_args(url: &str, dir: &Path, more: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["check", "--tags", "@RUT-AUTH-01", "--fuzz-cases", "300"]
        .map(str::to_owned)
        .to_vec();
    args.extend(endpoint_flags(url));
    args.extend(["--seed", "5"].iter().chain(more).map(|s| (*s).to_owned()));
    args.push("--report-dir".to_owned());
    args.push(dir.display().to_string());
    args
}

fn run(args: &[String]) -> (Output, String) {
    let output = Command::new(exe()).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

fn findings(dir: &Path) -> Vec<serde_json::Value> {
    let mut all: Vec<serde_json::Value> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect();
    all.sort_by_key(|f| f["clause"].as_str().unwrap_or("").to_owned());
    all
}

#[test]
fn an_intermittent_finding_is_labelled_and_graded_apart_in_every_report() {
    let url = flaky_server();
    let dir = fresh_dir("reproducibility-intermittent");
    let (output, console) = run(&check_args(&url, &dir, &[]));
    // An intermittent violation of a MUST clause counts: the run fails.
    assert_eq!(output.status.code(), Some(1), "{console}");

    let status = findings(&dir.join("findings"))
        .into_iter()
        .find(|f| f["clause"] == "RUT-STATUS-02")
        .unwrap_or_else(|| panic!("no RUT-STATUS-02 finding:\n{console}"));
    // First 500 (the finding), then 403, 500, 403.
    assert_eq!(
        status["reproduction"],
        serde_json::json!({ "outcome": "repeated", "violated": 1, "of": 3 }),
        "{status}"
    );

    let clause_line = console
        .lines()
        .find(|l| l.starts_with("RUT-STATUS-02 "))
        .unwrap_or_else(|| panic!("{console}"));
    assert!(clause_line.contains(" INTERMITTENT "), "{clause_line}");
    assert!(
        console.contains("RUT-STATUS-02 (intermittently)"),
        "{console}"
    );
    assert!(
        console.contains("FINDING RUT-STATUS-02 [MUST]: intermittent 1/3;"),
        "{console}"
    );
    assert!(
        console.contains("of them again on purpose, to see whether findings reproduce"),
        "{console}"
    );

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let graded = report["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "RUT-STATUS-02")
        .unwrap();
    assert_eq!(graded["verdict"], "INTERMITTENT", "{graded}");
    assert!(report["summary"]["clauses"]["INTERMITTENT"].as_u64() >= Some(1));
    assert_eq!(report["exit_code"], 1);

    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    oxml::parse(&junit).expect("junit.xml parses");
    assert!(
        junit.contains(r#"<failure type="intermittent-non-conformance" message="INTERMITTENT"/>"#),
        "{junit}"
    );
    assert!(
        junit.contains("violated RUT-STATUS-02; intermittent 1/3"),
        "{junit}"
    );

    let markdown = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        markdown.contains("| RUT-STATUS-02 | MUST | **INTERMITTENT** |"),
        "{markdown}"
    );
    assert!(markdown.contains("intermittent 1/3"), "{markdown}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains(r#"<tr class="intermittent">"#), "{html}");
    assert!(html.contains("finding, intermittent 1/3"), "{html}");
}

#[test]
fn a_steady_finding_reproduces_and_repeats_can_be_turned_off() {
    let url = tiny_server::serve(tiny_server::fails_encoded_paths);
    for (repeat, expected, grade) in [
        (
            "3",
            serde_json::json!({ "outcome": "repeated", "violated": 3, "of": 3 }),
            " FAIL ",
        ),
        (
            "0",
            serde_json::json!({ "outcome": "not-repeated", "why": "repeats are off (--repeat 0)" }),
            " FAIL ",
        ),
    ] {
        let dir = fresh_dir(&format!("reproducibility-steady-{repeat}"));
        let (output, console) = run(&check_args(&url, &dir, &["--repeat", repeat]));
        assert_eq!(output.status.code(), Some(1), "{console}");
        let status = findings(&dir.join("findings"))
            .into_iter()
            .find(|f| f["clause"] == "RUT-STATUS-02")
            .unwrap_or_else(|| panic!("{console}"));
        assert_eq!(status["reproduction"], expected, "{status}");
        let line = console
            .lines()
            .find(|l| l.starts_with("RUT-STATUS-02 "))
            .unwrap();
        assert!(line.contains(grade), "{line}");
    }
}

/// Against a live endpoint with mutations allowed, a finding whose case uses one of its
/// failed tasks is not sent again (the tasks are too rare); against the built-in stub the same
/// finding is repeated, each time with a fresh task of the stub's, and reproduces.
#[test]
fn a_live_endpoints_failed_task_is_never_spent_on_a_repeat() {
    const TASKS: [&str; 3] = [
        "bcdb711c-a7f0-4007-b8ee-9f13c05f8326",
        "bcdb711c-a7f0-4007-b8ee-000000000001",
        "bcdb711c-a7f0-4007-b8ee-000000000002",
    ];
    let dir = fresh_dir("reproducibility-live-tasks");
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = dir.join("fixtures.yaml");
    std::fs::write(
        &fixtures,
        format!("failed_action_ids: [{}]\n", TASKS.join(", ")),
    )
    .unwrap();
    let stub = Standalone::start_with(
        exe(),
        120,
        &[
            "--fixtures",
            fixtures.to_str().unwrap(),
            "--stub-deviation",
            "accepts-upper-case-abort",
        ],
    )
    .expect("the stub starts");
    let f = Fixtures::builtin();
    let live = Command::new(exe())
        .args(["fuzz", "--cases", "300", "--seed", "4", "--allow-mutations"])
        .args(["--endpoint", stub.url(), "--project-id", &f.project_id])
        .args(["--set", &format!("fixtures.cluster_id={}", f.cluster_id)])
        .args([
            "--set",
            &format!("fixtures.failed_action_ids={}", TASKS.join(",")),
        ])
        .args(["--max-requests-per-second", "0", "--findings-dir"])
        .arg(dir.join("live"))
        .env("CSS_CONFORMANCE_TOKEN", STUB_TOKEN)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&live.stdout);
    assert_eq!(live.status.code(), Some(1), "{said}");
    let query = findings(&dir.join("live"))
        .into_iter()
        .find(|f| f["clause"] == "RUT-QUERY-03")
        .unwrap_or_else(|| panic!("{said}"));
    assert_eq!(query["draft"]["action_id"], "failed_task", "{query}");
    assert_eq!(query["shrink_steps"], 0, "{query}");
    assert_eq!(query["reproduction"]["outcome"], "not-repeated", "{query}");
    assert!(
        query["reproduction"]["why"]
            .as_str()
            .unwrap()
            .contains("failed task of the endpoint, which is not spent to shrink or repeat it"),
        "{query}"
    );
    assert!(
        said.contains("FINDING RUT-QUERY-03 [MUST]: not repeated: it uses a failed task"),
        "{said}"
    );

    let builtin = Command::new(exe())
        .args(["fuzz", "--cases", "300", "--seed", "4"])
        .args([
            "--stub-deviation",
            "accepts-upper-case-abort",
            "--findings-dir",
        ])
        .arg(dir.join("builtin"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&builtin.stdout);
    let query = findings(&dir.join("builtin"))
        .into_iter()
        .find(|f| f["clause"] == "RUT-QUERY-03")
        .unwrap_or_else(|| panic!("{said}"));
    assert_eq!(
        query["reproduction"],
        serde_json::json!({ "outcome": "repeated", "violated": 3, "of": 3 }),
        "{query}"
    );
}

/// A finding found on an endpoint given by flags records the endpoint and the auth method
/// with the rest of what the flags set (no secret), and its replay command, run as printed
/// (the flags that name the target again), reaches that endpoint again; `replay` of the file
/// alone is refused, naming that command: a finding file is data, never settings.
#[test]
fn a_finding_records_its_whole_target_and_replays_as_printed() {
    let url = tiny_server::serve(tiny_server::fails_encoded_paths);
    let dir = fresh_dir("reproducibility-origin");
    let mut args: Vec<String> = ["fuzz", "--cases", "200", "--seed", "5", "--findings-dir"]
        .map(str::to_owned)
        .to_vec();
    args.push(dir.display().to_string());
    args.extend(endpoint_flags(&url));
    let (output, stdout) = run(&args);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("replay RUT-STATUS-02: css-conformance replay "))
        .unwrap_or_else(|| panic!("no replay line:\n{stdout}"));
    let printed: Vec<&str> = line
        .rsplit_once("css-conformance replay ")
        .unwrap()
        .1
        .split(' ')
        .collect();
    let file = printed[0];
    let finding: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let settings = &finding["origin"]["settings"];
    assert_eq!(settings["endpoint"], url.as_str(), "{finding}");
    assert_eq!(settings["auth.method"], "none", "{finding}");
    assert_eq!(settings["retries.max"], "0", "{finding}");

    // As printed: the same endpoint, without credentials (none are in this environment).
    let replay = Command::new(exe())
        .arg("replay")
        .args(&printed)
        .env_remove("CSS_CONFORMANCE_TOKEN")
        .env_remove("CSS_CONFORMANCE_ENDPOINT")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(
        replay.status.code(),
        Some(1),
        "{said}{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(said.contains(&format!("against {url}")), "{said}");
    assert!(said.contains("RUT-STATUS-02 is still violated"), "{said}");

    // The file alone names no target: refused, with the command that names it.
    let replay = Command::new(exe())
        .args(["replay", file])
        .env_remove("CSS_CONFORMANCE_ENDPOINT")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&replay.stderr);
    assert_eq!(replay.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a finding file is data") && err.contains(&format!("--endpoint {url}")),
        "{err}"
    );
    // The flags given are the target: token auth, and no token in the environment, is an
    // error naming it.
    let replay = Command::new(exe())
        .args(["replay", file, "--endpoint", &url, "--auth", "token"])
        .env_remove("CSS_CONFORMANCE_TOKEN")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&replay.stderr);
    assert_eq!(replay.status.code(), Some(2), "{err}");
    assert!(err.contains("CSS_CONFORMANCE_TOKEN"), "{err}");
}
