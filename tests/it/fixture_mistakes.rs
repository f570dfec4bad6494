//! The user's mistakes are named as theirs, never as the server's. Against the stub served as
//! a separate process, conforming (a used task refused with CSS.5090) and in a variant that
//! answers a used or unknown task with CSS.0082 and another project or cluster with CSS.0015,
//! with and without the read API, each common fixture mistake ends with exit 2 naming the
//! fixture and its flag, never exit 1; and where a check before the first request can find
//! it, no failed task is used up: a correct run right after it on the same tasks is complete.

use std::path::{Path, PathBuf};
use std::process::Command;

use css_conformance::servers::stub::{STUB_TOKEN, Standalone};

const PROJECT: &str = "6204a5bd270343b5885144cf9c8c158d";
const CLUSTER: &str = "ea244205-d641-45d9-9dcb-ab2236bcd07e";
const TASKS: [&str; 2] = [
    "bcdb711c-a7f0-4007-b8ee-00000000c001",
    "bcdb711c-a7f0-4007-b8ee-00000000c002",
];
const RUNNING: &str = "5ba5e5c1-0000-4000-8000-00000000d0e5";

/// A user's run: what they gave.
#[derive(Clone)]
struct Given {
    endpoint_suffix: &'static str,
    project: String,
    cluster: String,
    tasks: Vec<String>,
    token: &'static str,
}

impl Given {
    fn right() -> Given {
        Given {
            endpoint_suffix: "",
            project: PROJECT.to_owned(),
            cluster: CLUSTER.to_owned(),
            tasks: TASKS.map(str::to_owned).to_vec(),
            token: STUB_TOKEN,
        }
    }
}

/// Each mistake: its name, what the user gave, the word the message must hold, the flag it
/// must name, and whether a check before the first request can find it (so that no task is
/// used up by it).
fn mistakes() -> Vec<(&'static str, Given, &'static str, &'static str, bool)> {
    let right = Given::right;
    let with = |f: &dyn Fn(&mut Given)| {
        let mut g = right();
        f(&mut g);
        g
    };
    let off_by_one = |id: &str, c: char| format!("{}{c}", &id[..id.len() - 1]);
    vec![
        (
            "a task ID one character short",
            with(&|g| g.tasks[0].truncate(35)),
            "shape",
            "--failed-action-id",
            true,
        ),
        (
            "a task ID with one character changed",
            with(&|g| g.tasks[0] = off_by_one(TASKS[0], '9')),
            "fixture",
            "--failed-action-id",
            false,
        ),
        (
            "a running task given as failed (first)",
            with(&|g| g.tasks[0] = RUNNING.to_owned()),
            "fixture",
            "--failed-action-id",
            false,
        ),
        (
            "a running task given as failed (second)",
            with(&|g| g.tasks[1] = RUNNING.to_owned()),
            "fixture",
            "--failed-action-id",
            false,
        ),
        (
            "the same task given twice",
            with(&|g| g.tasks[1] = TASKS[0].to_owned()),
            "twice",
            "--failed-action-id",
            true,
        ),
        (
            "a wrong project ID",
            with(&|g| g.project = off_by_one(PROJECT, 'e')),
            "project",
            "",
            true,
        ),
        (
            "a wrong cluster ID",
            with(&|g| g.cluster = off_by_one(CLUSTER, 'f')),
            "cluster",
            "",
            true,
        ),
        (
            "a wrong base URL",
            with(&|g| g.endpoint_suffix = "/not/the/api"),
            "does not answer as the CSS API",
            "--endpoint",
            true,
        ),
        (
            "a wrong token",
            with(&|g| g.token = "a-token-no-iam-issued"),
            "token",
            "",
            true,
        ),
    ]
}

/// A stub holding the two failed tasks and a running one, in `variant`.
fn stub(dir: &Path, variant: &str) -> Standalone {
    std::fs::create_dir_all(dir).unwrap();
    let fixtures = dir.join("fixtures.yaml");
    std::fs::write(
        &fixtures,
        format!(
            "failed_action_ids: [{}]\nnot_failed_action_id: {RUNNING}\n",
            TASKS.join(", ")
        ),
    )
    .unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_css-conformance"));
    let args = [
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--stub-variant",
        variant,
    ];
    Standalone::start_with(exe, 300, &args).expect("the stub starts")
}

/// `check` of `url` as `given`, its ledger in `dir`: the exit code and everything printed.
fn check(dir: &Path, url: &str, given: &Given, read_api: bool, run: &str) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["check", "--quiet", "--fuzz-cases", "20"])
        .arg("--endpoint")
        .arg(format!("{url}{}", given.endpoint_suffix))
        .args([
            "--project-id",
            &given.project,
            "--cluster-id",
            &given.cluster,
        ])
        .args(given.tasks.iter().flat_map(|t| ["--failed-action-id", t]))
        .arg("--allow-mutations")
        .args(read_api.then_some("--read-api"))
        .arg("--report-dir")
        .arg(dir.join(run))
        .env("CSS_CONFORMANCE_TOKEN", given.token)
        .env("CSS_CONFORMANCE_LEDGER", dir.join("ledger.jsonl"))
        .output()
        .unwrap();
    let text = crate::common::printed(&output);
    (output.status.code(), text)
}

/// What is wrong with one mistake's run (and the correct run after it), if anything.
fn try_mistake(dir: &Path, variant: &str, read_api: bool, i: usize) -> Option<String> {
    let (name, given, word, flag, found_first) = mistakes().swap_remove(i);
    let dir = dir.join(format!("{variant}-{read_api}-{i}"));
    let stub = stub(&dir, variant);
    let (exit, text) = check(&dir, stub.url(), &given, read_api, "mistake");
    let said = text.to_lowercase();
    let mut wrong = Vec::new();
    if exit != Some(2) {
        wrong.push(format!("exit {exit:?}"));
    }
    if !said.contains(&word.to_lowercase()) || !text.contains(flag) {
        wrong.push(format!("the message names neither `{word}` nor `{flag}`"));
    }
    if found_first {
        // Nothing was used up: the right run on the same tasks is complete.
        let (exit, after) = check(&dir, stub.url(), &Given::right(), read_api, "after");
        if exit != Some(0) || !after.contains("Conformant") {
            wrong.push(format!("the right run after it: exit {exit:?}\n{after}"));
        }
    }
    (!wrong.is_empty()).then(|| {
        format!(
            "{name} ({variant}, read API {read_api}): {}\n{text}",
            wrong.join("; ")
        )
    })
}

#[test]
fn every_common_fixture_mistake_is_named_as_the_users_and_uses_up_no_task_it_need_not() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixture-mistakes");
    let _ = std::fs::remove_dir_all(&dir);
    let rows = mistakes().len();
    let cases: Vec<(&str, bool, usize)> = ["", "record-not-found"]
        .into_iter()
        .flat_map(|v| [false, true].map(move |r| (v, r)))
        .flat_map(|(v, r)| (0..rows).map(move |i| (v, r, i)))
        .collect();
    let wrong: Vec<String> = crate::common::each_at_once(&cases, |&(variant, read_api, i)| {
        try_mistake(&dir, variant, read_api, i)
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn a_second_run_on_the_tasks_the_first_used_is_refused_before_any_request() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ledger-second-run");
    let _ = std::fs::remove_dir_all(&dir);
    for variant in ["", "record-not-found"] {
        let dir = dir.join(if variant.is_empty() { "plain" } else { variant });
        let stub = stub(&dir, variant);
        let (exit, first) = check(&dir, stub.url(), &Given::right(), false, "first");
        assert_eq!(exit, Some(0), "{first}");
        let (exit, again) = check(&dir, stub.url(), &Given::right(), false, "again");
        assert_eq!(exit, Some(2), "{again}");
        assert!(
            again.contains("was used by an earlier run") && again.contains("--reuse-tasks"),
            "{again}"
        );
        // The ledger is the run's own file: the way to list it names that file.
        let ledger = dir.join("ledger.jsonl");
        let list_it = format!("`css-conformance tasks list --ledger {}`", ledger.display());
        assert!(again.contains(&list_it), "{list_it} in {again}");
        // Nothing was sent: no report of a run.
        assert!(!dir.join("again").join("report.json").exists());
        // The ledger lists them, and forgets them when cleared.
        let list = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
            .args(["tasks", "list", "--ledger"])
            .arg(&ledger)
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&list.stdout);
        assert!(
            TASKS.iter().all(|t| listed.contains(t)) && listed.starts_with("2 used task(s)"),
            "{listed}"
        );
        let cleared = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
            .args(["tasks", "clear", "--ledger"])
            .arg(&ledger)
            .output()
            .unwrap();
        assert!(cleared.status.success());
        // Without the ledger, the used tasks are found not usable: exit 2, never 1.
        let (exit, without) = check(&dir, stub.url(), &Given::right(), false, "cleared");
        assert_eq!(exit, Some(2), "{without}");
        assert!(!without.contains("NOT conformant"), "{without}");
    }
}

#[test]
fn a_server_that_refuses_a_retry_of_a_task_its_read_api_shows_failed_is_still_not_conformant() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("refuses-failed");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = dir.join("fixtures.yaml");
    std::fs::write(
        &fixtures,
        format!("failed_action_ids: [{}]\n", TASKS.join(", ")),
    )
    .unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_css-conformance"));
    let args = [
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--stub-deviation",
        "rejects-retry-as-not-failed",
    ];
    let stub = Standalone::start_with(exe, 300, &args).expect("the stub starts");
    let (exit, text) = check(&dir, stub.url(), &Given::right(), true, "read");
    assert_eq!(exit, Some(1), "{text}");
    assert!(
        text.contains("NOT conformant") && text.contains("RUT-QUERY-01"),
        "{text}"
    );
}

/// A server that checks the caller's project and cluster before anything else answers a run
/// on a wrong one 403 CSS.0015 whatever it asks, as it answers an unknown task of the right
/// one. Without the read API or a task that is not failed the run cannot tell which, and says
/// so, naming the project and the cluster: with failed tasks, whose retries it refuses, as a
/// fixture error (exit 2); without, the run is incomplete all the same (exit 0, INCOMPLETE).
/// Never NOT conformant, even with --strict.
#[test]
fn the_answer_a_wrong_cluster_would_get_is_a_fixture_question_never_a_failure() {
    let url = crate::common::tiny_server::serve(|_| crate::common::tiny_server::not_found());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("site-first");
    let _ = std::fs::remove_dir_all(&dir);
    for tasks in [true, false] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_css-conformance"));
        command
            .args(["check", "--quiet", "--strict", "--fuzz-cases", "50"])
            .args(["--endpoint", &url, "--project-id", PROJECT])
            .args(["--cluster-id", CLUSTER]);
        if tasks {
            command
                .arg("--allow-mutations")
                .args(TASKS.iter().flat_map(|t| ["--failed-action-id", t]));
        }
        let output = command
            .arg("--report-dir")
            .arg(dir.join(tasks.to_string()))
            .env("CSS_CONFORMANCE_TOKEN", "a-token")
            .env("CSS_CONFORMANCE_LEDGER", dir.join("ledger.jsonl"))
            .output()
            .unwrap();
        let text = crate::common::printed(&output);
        let (code, verdict) = if tasks {
            (2, "FIXTURE ERROR")
        } else {
            (0, "INCOMPLETE")
        };
        assert_eq!(output.status.code(), Some(code), "tasks {tasks}:\n{text}");
        let doubt = format!("check the project ({PROJECT}) and the cluster ({CLUSTER})");
        assert!(
            text.contains(verdict) && text.contains(&doubt),
            "tasks {tasks}:\n{text}"
        );
        assert!(
            !text.contains("NOT conformant") && !text.contains("FINDING"),
            "tasks {tasks}:\n{text}"
        );
    }
}
