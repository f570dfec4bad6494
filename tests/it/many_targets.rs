//! Several targets in one run, and what changed since a baseline: two standalone stubs, one
//! deviating, checked at once give one report in every form whose table shows where they
//! differ (exit 1, the worst target's); a baseline from a deviating run followed by a
//! conforming one reports the clause fixed; the reverse with `--fail-on new` exits 1, and a
//! run that only repeats the baseline's failures exits 0 with it.

use std::path::{Path, PathBuf};
use std::process::Command;

use css_conformance::servers::stub::{STUB_TOKEN, Standalone};

const EXE: &str = env!("CARGO_BIN_EXE_css-conformance");

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("many-targets");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_dir_all(&path);
    path
}

/// A profile for a standalone stub at `url`, mutations allowed on three of its failed tasks.
fn profile(name: &str, url: &str) -> PathBuf {
    let file = tmp(&format!("{name}.yaml"));
    std::fs::write(
        &file,
        format!(
            "endpoint: {url}\nproject_id: 6204a5bd270343b5885144cf9c8c158d\nauth: {{ method: token, token_env: MANY_TARGETS_TOKEN }}\nfixtures:\n  cluster_id: ea244205-d641-45d9-9dcb-ab2236bcd07e\n  failed_action_ids: [bcdb711c-a7f0-4007-b8ee-9f13c05f8326, bcdb711c-a7f0-4007-b8ee-000000000001, bcdb711c-a7f0-4007-b8ee-000000000002]\nsafety: {{ allow_mutations: true, max_requests_per_second: 0 }}\n"
        ),
    )
    .unwrap();
    file
}

fn check(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(EXE)
        .arg("check")
        .args(args)
        .env("MANY_TARGETS_TOKEN", STUB_TOKEN)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn two_stubs_one_deviating_give_one_report_whose_table_shows_the_difference() {
    let good = Standalone::start(Path::new(EXE), 120).unwrap();
    let bad = Standalone::start_with(
        Path::new(EXE),
        120,
        &["--stub-deviation", "accepts-upper-case-abort"],
    )
    .unwrap();
    let (eu_de, eu_nl) = (profile("eu-de", good.url()), profile("eu-nl", bad.url()));
    let dir = tmp("matrix");
    let (code, text) = check(&[
        "--profile",
        eu_de.to_str().unwrap(),
        "--profile",
        eu_nl.to_str().unwrap(),
        "--report-dir",
        dir.to_str().unwrap(),
        "--fuzz-cases",
        "100",
        "--seed",
        "7",
    ]);
    assert_eq!(code, Some(1), "the worst target's exit: {text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("RUT-QUERY-03"))
        .unwrap_or_else(|| panic!("{text}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[..4],
        ["RUT-QUERY-03", "MUST", "PASS", "FAIL"],
        "{row}"
    );
    assert!(row.ends_with("<- differs"), "{row}");
    let same = text.lines().find(|l| l.starts_with("RUT-AUTH-01")).unwrap();
    assert!(!same.contains("differs"), "{same}");
    assert!(text.contains("eu-nl ("), "{text}");

    // One report in every form, and each target's own beside it.
    let json: serde_json::Value = serde_json::from_str(&read(&dir, "report.json")).unwrap();
    assert_eq!(json["schema"], "css-conformance-report-many/1");
    assert_eq!(json["exit_code"], 1);
    let query03 = json["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "RUT-QUERY-03")
        .unwrap();
    assert_eq!(query03["verdicts"]["eu-de"], "PASS");
    assert_eq!(query03["verdicts"]["eu-nl"], "FAIL");
    assert_eq!(json["targets"][1]["report"]["exit_code"], 1);
    let md = read(&dir, "report.md");
    assert!(
        md.contains("| RUT-QUERY-03 | MUST | PASS | **FAIL** | differs |"),
        "{md}"
    );
    let html = read(&dir, "report.html");
    assert!(html.contains("<th>eu-de</th><th>eu-nl</th>"), "{html}");
    assert!(html.contains("<td class=\"cell fail\">FAIL</td>"), "{html}");
    let junit = read(&dir, "junit.xml");
    oxml::parse(&junit).expect("junit.xml parses");
    assert_eq!(junit.matches("<testsuite ").count(), 2, "{junit}");
    assert!(junit.contains("name=\"eu-de\"") && junit.contains("name=\"eu-nl\""));
    for target in ["eu-de", "eu-nl"] {
        for file in [
            "report.json",
            "report.md",
            "report.html",
            "junit.xml",
            "cucumber.json",
        ] {
            assert!(dir.join(target).join(file).exists(), "{target}/{file}");
        }
    }
}

/// `check` against the built-in stub (conforming, or deviating), no fuzzing, reports in `dir`.
fn stub_run(dir: &Path, deviation: Option<&str>, more: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["--fuzz-cases", "0", "--report-dir", dir.to_str().unwrap()];
    if let Some(d) = deviation {
        args.extend(["--stub-deviation", d]);
    }
    args.extend(more);
    check(&args)
}

#[test]
fn a_baseline_says_what_was_fixed_and_fail_on_new_fails_only_for_new_failures() {
    let deviating = tmp("baseline-deviating");
    let (code, _) = stub_run(&deviating, Some("accepts-upper-case-abort"), &[]);
    assert_eq!(code, Some(1));
    let before = deviating.join("report.json");

    // Deviating, then conforming: the clause is fixed.
    let fixed = tmp("baseline-fixed");
    let (code, text) = stub_run(&fixed, None, &["--baseline", before.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("Since the baseline"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("RUT-QUERY-03"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("fixed") && line.contains("FAIL -> PASS"),
        "{line}"
    );
    let md = read(&fixed, "report.md");
    let since = md
        .find("## Since the baseline")
        .expect("the difference in report.md");
    assert!(since < md.find("| Clause |").unwrap(), "shown first: {md}");
    assert!(md.contains("| fixed | RUT-QUERY-03 |"), "{md}");
    let html = read(&fixed, "report.html");
    assert!(
        html.find("Since the baseline").unwrap() < html.find("<th>Clause</th>").unwrap(),
        "shown first"
    );
    let diff: serde_json::Value = serde_json::from_str(&read(&fixed, "baseline.json")).unwrap();
    assert!(
        diff["clauses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["clause"] == "RUT-QUERY-03" && d["change"] == "fixed")
    );

    // Conforming, then deviating, failing only on new failures: exit 1.
    let conforming = fixed.join("report.json");
    let worse = tmp("baseline-worse");
    let (code, text) = stub_run(
        &worse,
        Some("accepts-upper-case-abort"),
        &[
            "--baseline",
            conforming.to_str().unwrap(),
            "--fail-on",
            "new",
        ],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("1 new failure(s)"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("new failure") && l.contains("RUT-QUERY-03"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("PASS -> FAIL"), "{line}");

    // Deviating as the baseline was: nothing new, so --fail-on new exits 0 (and without it, 1).
    let same = tmp("baseline-same");
    let (code, text) = stub_run(
        &same,
        Some("accepts-upper-case-abort"),
        &["--baseline", before.to_str().unwrap(), "--fail-on", "new"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("0 new failure(s)"), "{text}");
    // Said in one line, since the verdict above it says NOT conformant.
    assert!(
        text.contains("Exit 0 although not conformant: --fail-on new"),
        "{text}"
    );
    let (code, _) = stub_run(
        &tmp("baseline-same-any"),
        Some("accepts-upper-case-abort"),
        &["--baseline", before.to_str().unwrap()],
    );
    assert_eq!(code, Some(1));

    // --fail-on without a baseline, and a baseline that is not a report: usage errors.
    let (code, text) = check(&["--fail-on", "new"]);
    assert_eq!(code, Some(2), "{text}");
    let junk = tmp("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let (code, text) = check(&["--baseline", junk.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("junk.json") && text.contains("not a report.json"),
        "{text}"
    );
}

#[test]
fn in_ci_the_exit_and_report_json_agree_require_complete_wins_and_a_clause_no_longer_judged_counts()
{
    let deviating = tmp("ci-deviating");
    let (code, _) = stub_run(&deviating, Some("accepts-upper-case-abort"), &[]);
    assert_eq!(code, Some(1));
    let before = deviating.join("report.json");
    let exit_in = |dir: &Path| -> (serde_json::Value, String) {
        let report: serde_json::Value = serde_json::from_str(&read(dir, "report.json")).unwrap();
        (report["exit_code"].clone(), read(dir, "junit.xml"))
    };

    // The baseline's failures only, with --fail-on new: exit 0, and report.json and JUnit say
    // so too.
    let same = tmp("ci-same");
    let (code, text) = stub_run(
        &same,
        Some("accepts-upper-case-abort"),
        &["--baseline", before.to_str().unwrap(), "--fail-on", "new"],
    );
    assert_eq!(code, Some(0), "{text}");
    let (json_exit, junit) = exit_in(&same);
    assert_eq!(json_exit, 0);
    let verdict = junit
        .split("<testcase")
        .find(|c| c.contains("[verdict] the run"))
        .expect("a verdict testcase");
    assert!(!verdict.contains("<failure"), "{verdict}");

    // Fewer clauses judged (a tag selection): every MUST clause judged before and SKIP now is
    // "no longer judged", which --fail-on new fails on.
    let fewer = tmp("ci-fewer");
    let tags = ["--tags", "@RUT-QUERY-03"];
    let (code, text) = stub_run(
        &fewer,
        Some("accepts-upper-case-abort"),
        &[
            &["--baseline", before.to_str().unwrap(), "--fail-on", "new"][..],
            &tags[..],
        ]
        .concat(),
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("no longer judged"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("no longer judged") && l.contains("RUT-AUTH-01"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("PASS -> SKIP"), "{line}");
    assert_eq!(exit_in(&fewer).0, 1);

    // An incomplete run with --require-complete fails, --fail-on new or not.
    let conforming = tmp("ci-conforming");
    let (code, _) = stub_run(&conforming, None, &["--tags", "@RUT-QUERY-03"]);
    assert_eq!(code, Some(0));
    let incomplete = tmp("ci-incomplete");
    let baseline = conforming.join("report.json");
    let (code, text) = stub_run(
        &incomplete,
        None,
        &[
            "--tags",
            "@RUT-QUERY-03",
            "--baseline",
            baseline.to_str().unwrap(),
            "--fail-on",
            "new",
            "--require-complete",
        ],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("INCOMPLETE"), "{text}");
    assert_eq!(exit_in(&incomplete).0, 1);
}

#[test]
fn a_must_clause_known_to_deviate_is_named_in_the_verdict() {
    let dir = tmp("xfail-verdict");
    let (code, text) = stub_run(
        &dir,
        Some("accepts-upper-case-abort"),
        &[
            "--set",
            "expected_deviations=[{clause: RUT-QUERY-03, reason: a ticket}, {clause: RUT-QUERY-04, reason: a ticket}]",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("Conformant but for known deviations")
            && text.contains("RUT-QUERY-03")
            && !text.contains("Conformant: every MUST clause"),
        "{text}"
    );
}
