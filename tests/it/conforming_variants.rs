//! Any server the page allows is Conformant. The stub's conforming variants (each a choice the
//! vendor's page, its error table or a gateway in front leaves open) are served as separate
//! processes, each alone and in combinations that put every two of them together; against
//! each, a complete `check` as a new user runs it (two failed tasks, token and AK/SK, with and
//! without the read API) exits 0 with every MUST clause judged, nothing failed and no fuzz
//! finding. A variant added to `Variant::ALL` is covered here without touching this file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use css_conformance::servers::stub::{
    STUB_ACCESS_KEY, STUB_SECRET_KEY, STUB_TOKEN, Standalone, Variant, Variants,
};

const PROJECT: &str = "6204a5bd270343b5885144cf9c8c158d";
const CLUSTER: &str = "ea244205-d641-45d9-9dcb-ab2236bcd07e";
const TASKS: [&str; 2] = [
    "bcdb711c-a7f0-4007-b8ee-00000000a001",
    "bcdb711c-a7f0-4007-b8ee-00000000a002",
];

/// The stub's tasks: others first (the read API lists them before the run's, so that reading
/// pages after the first is needed), then the run's two.
fn fixtures_file(dir: &Path) -> PathBuf {
    let others = (1..=5).map(|i| format!("bcdb711c-a7f0-4007-b8ee-00000000b00{i}"));
    let all: Vec<String> = others.chain(TASKS.map(str::to_owned)).collect();
    let file = dir.join("fixtures.yaml");
    std::fs::write(&file, format!("failed_action_ids: [{}]\n", all.join(", "))).unwrap();
    file
}

/// The sets of variants the runs use: each alone, then sets (as large as they may be) that
/// together put every two variants that compose in one set.
fn variant_sets() -> Vec<Vec<Variant>> {
    let mut sets: Vec<Vec<Variant>> = Variant::ALL.iter().map(|v| vec![*v]).collect();
    let composes = |a: Variant, b: Variant| Variants::of(&[a, b]).is_ok();
    let mut uncovered: BTreeSet<(Variant, Variant)> = Variant::ALL
        .iter()
        .flat_map(|a| Variant::ALL.iter().map(move |b| (*a, *b)))
        .filter(|(a, b)| a < b && composes(*a, *b))
        .collect();
    while let Some(&(a, b)) = uncovered.iter().next() {
        // Greedily: the first uncovered pair, then every variant that composes with the set.
        let mut set = vec![a, b];
        for v in Variant::ALL {
            if !set.contains(&v) && Variants::of(&[set.as_slice(), &[v]].concat()).is_ok() {
                set.push(v);
            }
        }
        uncovered.retain(|(x, y)| !(set.contains(x) && set.contains(y)));
        sets.push(set);
    }
    sets
}

/// A new user's `check` of `url` with the two failed tasks and consent, its reports in
/// `reports`.
fn check(url: &str, reports: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_css-conformance"));
    command
        .args(["check", "--quiet", "--endpoint", url])
        .args(["--project-id", PROJECT, "--cluster-id", CLUSTER])
        .args(TASKS.iter().flat_map(|t| ["--failed-action-id", t]))
        .arg("--allow-mutations")
        .arg("--report-dir")
        .arg(reports)
        .env("CSS_CONFORMANCE_TOKEN", STUB_TOKEN)
        .env("CLOUD_SDK_AK", STUB_ACCESS_KEY)
        .env("CLOUD_SDK_SK", STUB_SECRET_KEY);
    command
}

/// What one run showed.
struct Run {
    variants: String,
    auth: &'static str,
    read_api: bool,
    exit: Option<i32>,
    must_judged: usize,
    must: usize,
    requests: u64,
    lost: u64,
    wall: Duration,
    problems: Vec<String>,
}

/// A complete `check` of the stub served in `variants`, as a new user gives it.
fn run(dir: &Path, variants: &[Variant], auth: &'static str, read_api: bool) -> Run {
    let set = Variants::of(variants).expect("the sets compose");
    let name = format!("{}-{auth}-{read_api}", set.to_string().replace(',', "+"));
    let dir = dir.join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = fixtures_file(&dir);
    let exe = Path::new(env!("CARGO_BIN_EXE_css-conformance"));
    let list = set.to_string();
    let stub = Standalone::start_with(
        exe,
        300,
        &[
            "--fixtures",
            fixtures.to_str().unwrap(),
            "--stub-variant",
            &list,
        ],
    )
    .expect("the stub starts");
    let reports = dir.join("reports");
    let started = Instant::now();
    let output = check(stub.url(), &reports)
        .args(["--auth", auth, "--fuzz-cases", "40"])
        .args(read_api.then_some("--read-api"))
        .output()
        .unwrap();
    let wall = started.elapsed();
    drop(stub);
    let console = crate::common::printed(&output);
    let mut run = Run {
        variants: list,
        auth,
        read_api,
        exit: output.status.code(),
        must_judged: 0,
        must: 0,
        requests: 0,
        lost: 0,
        wall,
        problems: Vec::new(),
    };
    let report: serde_json::Value = match std::fs::read(reports.join("report.json")) {
        Ok(text) => serde_json::from_slice(&text).unwrap(),
        Err(e) => {
            run.problems
                .push(format!("no report.json ({e}):\n{console}"));
            return run;
        }
    };
    judge(&report, &mut run, &console);
    run
}

/// What the report of a run against a conforming server must say.
fn judge(report: &serde_json::Value, run: &mut Run, console: &str) {
    let traffic = &report["traffic"];
    run.requests = traffic["sent"].as_u64().unwrap_or(0);
    run.lost = traffic["lost"].as_u64().unwrap_or(0);
    if run.exit != Some(0) {
        run.problems.push(format!("exit {:?}", run.exit));
    }
    for clause in report["clauses"].as_array().into_iter().flatten() {
        let verdict = clause["verdict"].as_str().unwrap_or_default();
        let id = clause["id"].as_str().unwrap_or_default();
        if matches!(verdict, "FAIL" | "INTERMITTENT" | "NON-STRICT" | "XPASS") {
            run.problems
                .push(format!("{id} {verdict}: {}", clause["evidence"]));
        }
        // A clause only the read API judges counts where the run read the tasks.
        let unread = clause["needs_read_api"] == true && report["profile"]["read_api"] != true;
        if clause["level"] == "MUST" && !unread {
            run.must += 1;
            if verdict == "PASS" {
                run.must_judged += 1;
            }
        }
    }
    // Only an answer lost on the way (a retry or abort that met the gateway's transient
    // answer, without the read API to settle it) may leave a MUST clause unjudged, and the
    // report must say so.
    if run.must_judged < run.must
        && (run.lost == 0 || !console.contains("its task counted as used"))
    {
        run.problems.push(format!(
            "{} of {} MUST clauses judged, {} answers lost:\n{console}",
            run.must_judged, run.must, run.lost
        ));
    }
    let findings = report["fuzz"]["findings"].as_array().map_or(0, Vec::len);
    if findings > 0 {
        run.problems.push(format!("{findings} fuzz finding(s)"));
    }
    if report["fuzz"]["judged"].as_u64().unwrap_or(0) == 0 {
        run.problems.push("no fuzz case judged".to_owned());
    }
}

#[test]
fn every_conforming_variant_alone_and_every_two_together_is_judged_conformant() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conforming-variants");
    let _ = std::fs::remove_dir_all(&dir);
    let sets = variant_sets();
    // Every two variants that compose meet in one set.
    for a in Variant::ALL {
        for b in Variant::ALL {
            if a < b && Variants::of(&[a, b]).is_ok() {
                assert!(
                    sets.iter().any(|s| s.contains(&a) && s.contains(&b)),
                    "{a} and {b} never together"
                );
            }
        }
    }
    let cases: Vec<(Vec<Variant>, &'static str, bool)> = sets
        .iter()
        .flat_map(|s| {
            [
                ("token", false),
                ("token", true),
                ("aksk", false),
                ("aksk", true),
            ]
            .map(|(auth, read)| (s.clone(), auth, read))
        })
        .collect();
    let runs = crate::common::each_at_once(&cases, |(set, auth, read)| run(&dir, set, auth, *read));
    println!("variants | auth | read API | exit | MUST judged | requests | lost | wall s");
    for r in &runs {
        println!(
            "{} | {} | {} | {:?} | {}/{} | {} | {} | {:.1}",
            r.variants,
            r.auth,
            if r.read_api { "yes" } else { "no" },
            r.exit,
            r.must_judged,
            r.must,
            r.requests,
            r.lost,
            r.wall.as_secs_f64()
        );
    }
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| !r.problems.is_empty())
        .map(|r| {
            format!(
                "{} {} read_api={}: {}",
                r.variants,
                r.auth,
                r.read_api,
                r.problems.join("\n  ")
            )
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn a_second_run_on_used_tasks_is_the_users_to_settle_whichever_code_says_so() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("used-tasks-again");
    let exe = Path::new(env!("CARGO_BIN_EXE_css-conformance"));
    for variant in ["", "second-codes", "last-codes"] {
        let dir = dir.join(if variant.is_empty() { "plain" } else { variant });
        std::fs::create_dir_all(&dir).unwrap();
        let fixtures = fixtures_file(&dir);
        let stub = Standalone::start_with(
            exe,
            120,
            &[
                "--fixtures",
                fixtures.to_str().unwrap(),
                "--stub-variant",
                variant,
            ],
        )
        .expect("the stub starts");
        for run in ["first", "again"] {
            let output = check(stub.url(), &dir.join(run))
                .args(["--fuzz-cases", "0"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&output.stdout);
            // The tasks the first run used are refused as not failed, with whichever code
            // the vendor's table gives for it: the user's to renew (exit 2), never the
            // server's failure.
            let expected = if run == "again" { 2 } else { 0 };
            assert_eq!(
                output.status.code(),
                Some(expected),
                "{variant} {run}:\n{text}"
            );
            assert!(!text.contains("NOT conformant"), "{variant} {run}:\n{text}");
            if run == "again" {
                assert!(text.contains("FIXTURE ERROR"), "{variant}:\n{text}");
            }
        }
    }
}

/// IDs of digits alone (the page states no format; a server may well give such IDs): an ID in
/// capitals is then the ID itself, so that door is the plain retry, not sent as a door, and
/// the fuzzer makes no such case. A conforming server is Conformant, with the read API and
/// without.
#[test]
fn ids_without_letters_are_no_door_in_capitals() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ids-without-letters");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (project, cluster) = (
        "01234567890123456789012345678901",
        "11111111-2222-4333-8444-555555555555",
    );
    let tasks = [
        "12345678-0000-4000-8000-000000000001",
        "12345678-0000-4000-8000-000000000002",
    ];
    let fixtures = dir.join("fixtures.yaml");
    std::fs::write(
        &fixtures,
        format!(
            "project_id: \"{project}\"\ncluster_id: \"{cluster}\"\nfailed_action_ids: [\"{}\", \"{}\"]\n",
            tasks[0], tasks[1]
        ),
    )
    .unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_css-conformance"));
    for read_api in [false, true] {
        let stub = Standalone::start_with(exe, 300, &["--fixtures", fixtures.to_str().unwrap()])
            .expect("the stub starts");
        let output = Command::new(exe)
            .args(["check", "--quiet", "--endpoint", stub.url()])
            .args(["--project-id", project, "--cluster-id", cluster])
            .args(tasks.iter().flat_map(|t| ["--failed-action-id", t]))
            .args(["--allow-mutations", "--fuzz-cases", "300"])
            .args(read_api.then_some("--read-api"))
            .arg("--report-dir")
            .arg(dir.join(format!("reports-{read_api}")))
            .env("CSS_CONFORMANCE_TOKEN", STUB_TOKEN)
            .output()
            .unwrap();
        let text = crate::common::printed(&output);
        assert_eq!(
            output.status.code(),
            Some(0),
            "read API {read_api}:\n{text}"
        );
        assert!(
            !text.contains("in upper case"),
            "read API {read_api}:\n{text}"
        );
    }
}
