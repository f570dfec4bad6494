//! Bad input to the tool, one row per kind: each is exit 2 with one clear message naming the
//! file, line and key (or the flag or variable), never a panic or a backtrace, never a secret.

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

/// One bad input: the files it needs (name, text), the arguments (`{dir}` is where the files
/// are), the environment, and patterns the message must match.
struct Row {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    says: &'static [&'static str],
}

fn spec_text() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/retry_upgrade_task.yaml"),
    )
    .unwrap()
}

const LIVE: &str = "endpoint: https://css.example.com\nproject_id: 6204a5bd270343b5885144cf9c8c158d\nfixtures: { cluster_id: ea244205-d641-45d9-9dcb-ab2236bcd07e }\n";

fn rows() -> Vec<Row> {
    let spec = spec_text();
    vec![
        Row {
            name: "profile: malformed YAML",
            files: vec![("p.yaml", "endpoint: 'unterminated\n".into())],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[],
            says: &[r"p\.yaml:\d+:\d+: "],
        },
        Row {
            name: "profile: a misspelled key",
            files: vec![("p.yaml", "endpont: https://css.example.com\n".into())],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[],
            says: &[
                r"p\.yaml:1:1: ",
                "unknown field `endpont`",
                "expected one of `endpoint`",
            ],
        },
        Row {
            name: "profile: a wrong type",
            files: vec![(
                "p.yaml",
                "safety:\n  max_requests_per_second: fast\n".into(),
            )],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[],
            says: &[
                r"p\.yaml:2:\d+: ",
                "safety.max_requests_per_second",
                "expected f64",
            ],
        },
        Row {
            name: "profile: a missing required key",
            files: vec![("p.yaml", "endpoint: https://css.example.com\n".into())],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[],
            says: &[
                r"p\.yaml",
                "is incomplete; still needed \\(3\\)",
                "--project-id ID, or `project_id` in a profile, or CSS_CONFORMANCE_PROJECT_ID",
                "--cluster-id ID, or `fixtures.cluster_id` in a profile",
                "CSS_CONFORMANCE_TOKEN",
            ],
        },
        Row {
            name: "profile: an expected deviation of no clause",
            files: vec![(
                "p.yaml",
                "expected_deviations:\n  - { clause: RUT-NOPE-01, status: 401, reason: x }\n"
                    .into(),
            )],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[],
            says: &[r"p\.yaml:\d+", "RUT-NOPE-01"],
        },
        Row {
            name: "profile: the secret's variable is unset",
            files: vec![(
                "p.yaml",
                format!("{LIVE}auth: {{ method: token, token_env: NOT_SET_ANYWHERE_42 }}\n"),
            )],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[],
            says: &[
                r"p\.yaml:4",
                "`auth.token_env`",
                "NOT_SET_ANYWHERE_42",
                "unset",
            ],
        },
        Row {
            name: "spec: malformed YAML",
            files: vec![("s.yaml", "operation: [\n".into())],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[r"s\.yaml:\d+:\d+: "],
        },
        Row {
            name: "spec: a misspelled key",
            files: vec![("s.yaml", spec.replacen("\noperation:", "\noperashun:", 1))],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[r"s\.yaml:\d+:1: ", "unknown field `operashun`"],
        },
        Row {
            name: "spec: a wrong type",
            files: vec![(
                "s.yaml",
                spec.replacen("mandatory: false", "mandatory: perhaps", 1),
            )],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[
                r"s\.yaml:\d+:\d+: ",
                r"query_parameters\[0\]\.mandatory",
                "expected a boolean",
            ],
        },
        Row {
            name: "profile: an empty file",
            files: vec![("p.yaml", "# nothing here yet\n\n".into())],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[],
            says: &[r"p\.yaml:1", "`endpoint`", "the profile is empty"],
        },
        Row {
            name: "a negative seed",
            files: vec![],
            args: &["check", "--seed", "-1"],
            env: &[],
            says: &["--seed", "a seed is a whole number from 0"],
        },
        Row {
            name: "a negative whole number: the flag's value, refused as such",
            files: vec![],
            args: &["check", "--settle-ms", "-5"],
            env: &[],
            says: &["invalid value '-5' for '--settle-ms <MS>'"],
        },
        Row {
            name: "a negative count of the command line's own",
            files: vec![],
            args: &["fuzz", "--cases", "-1"],
            env: &[],
            says: &["invalid value '-1' for '--cases <N>'"],
        },
        Row {
            name: "a negative rate, refused for the built-in stub too",
            files: vec![],
            args: &["check", "--max-requests-per-second", "-5"],
            env: &[],
            says: &["--max-requests-per-second: key `safety.max_requests_per_second`: must be 0"],
        },
        Row {
            name: "an unwritable --junit, said before anything is sent",
            files: vec![("f", "a file, not a folder".into())],
            args: &["check", "--junit", "{dir}/f/junit.xml"],
            env: &[],
            says: &["--junit .*f/junit\\.xml"],
        },
        Row {
            name: "profile init with a stub deviation",
            files: vec![],
            args: &["profile", "init", "--stub-deviation", "body-on-success"],
            env: &[],
            says: &["--stub-deviation", "profile init"],
        },
        Row {
            name: "check with a stub deviation through one family",
            files: vec![],
            args: &["check", "--stub-deviation", "acts-through=method/head"],
            env: &[],
            says: &[
                "--stub-deviation acts-through=method/head",
                "css-conformance stub",
            ],
        },
        Row {
            name: "a family the grammar does not have",
            files: vec![],
            args: &["stub", "--stub-deviation", "acts-through=method/brew"],
            env: &[],
            says: &["--stub-deviation", "acts-through=method/brew"],
        },
        Row {
            name: "spec: a door a conforming server accepts",
            files: vec![(
                "s.yaml",
                spec.replacen(
                    "{ family: missing, door: no credentials, credentials: missing }",
                    "{ family: missing, door: no credentials, action_id: \"{id}\" }",
                    1,
                ),
            )],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[
                r"s\.yaml:\d+:",
                "`grammar`",
                "`no credentials` is a retry request",
            ],
        },
        Row {
            name: "spec: a door listed twice",
            files: vec![(
                "s.yaml",
                spec.replacen(
                    "{ family: post, door: POST, method: POST }",
                    "{ family: post, door: GET, method: POST }",
                    1,
                ),
            )],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[r"s\.yaml:\d+:", "grammar.families.door", "listed twice"],
        },
        Row {
            name: "spec: a clause's quote without words",
            files: vec![(
                "s.yaml",
                spec.replacen(r#"quote: "Project ID." }"#, r#"quote: " " }"#, 1),
            )],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[r"s\.yaml:\d+:", "clauses.ground", "RUT-AUTH-03"],
        },
        Row {
            name: "spec: the page's digest not one",
            files: vec![(
                "s.yaml",
                spec.replacen("  sha256: 8673fac7", "  sha256: zz73fac7", 1),
            )],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[r"s\.yaml:\d+:", "page.sha256", "64 hex digits"],
        },
        Row {
            name: "spec: a family of the grammar listed twice",
            files: vec![(
                "s.yaml",
                spec.replacen(
                    "{ family: post, door: POST, method: POST }",
                    "{ family: get, door: POST, method: POST }",
                    1,
                ),
            )],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[
                r"s\.yaml:\d+:",
                "grammar.families.family",
                "`method/get` is listed twice",
            ],
        },
        Row {
            name: "spec: a missing required key",
            files: vec![(
                "s.yaml",
                spec.replacen("  title: Retrying a Failed Upgrade Task\n", "", 1),
            )],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[r"s\.yaml:\d+:\d+: ", "missing field `title`"],
        },
        Row {
            name: "flag: an invalid endpoint URL",
            files: vec![],
            args: &[
                "check",
                "--endpoint",
                "not a url",
                "--project-id",
                "6204a5bd270343b5885144cf9c8c158d",
                "--set",
                "fixtures.cluster_id=ea244205-d641-45d9-9dcb-ab2236bcd07e",
            ],
            env: &[],
            says: &["--endpoint: key `endpoint`", "relative URL without a base"],
        },
        Row {
            name: "flag: an endpoint with a password",
            files: vec![],
            args: &[
                "check",
                "--endpoint",
                "https://user:hunter2@css.example.com",
                "--project-id",
                "6204a5bd270343b5885144cf9c8c158d",
                "--set",
                "fixtures.cluster_id=ea244205-d641-45d9-9dcb-ab2236bcd07e",
            ],
            env: &[],
            says: &[
                "--endpoint: key `endpoint`",
                "must not carry user:password@",
            ],
        },
        Row {
            name: "flag: a bad tag expression",
            files: vec![],
            args: &["check", "--tags", "@RUT-AUTH-01 and"],
            env: &[],
            says: &["--tags", "not a tag expression", "column 17"],
        },
        Row {
            name: "flag: an unknown --set key",
            files: vec![],
            args: &["check", "--set", "safety.alow_mutations=true"],
            env: &[],
            says: &["--set safety.alow_mutations", "no such key"],
        },
        Row {
            name: "flag: a value out of range",
            files: vec![],
            args: &["check", "--concurrency", "99"],
            env: &[],
            says: &["--concurrency", "99"],
        },
        Row {
            name: "flag: not a number",
            files: vec![],
            args: &["fuzz", "--shrink-budget", "lots"],
            env: &[],
            says: &["--shrink-budget", "lots"],
        },
        Row {
            name: "flag: an unwritable report directory",
            files: vec![("not-a-dir", "a file\n".into())],
            args: &[
                "check",
                "--fuzz-cases",
                "0",
                "--report-dir",
                "{dir}/not-a-dir",
            ],
            env: &[],
            says: &["--report-dir", "not-a-dir"],
        },
        Row {
            name: "replay: a file that is not a finding",
            files: vec![("finding.json", "{\"clause\": \"RUT-QUERY-03\"}\n".into())],
            args: &["replay", "{dir}/finding.json"],
            env: &[],
            says: &[
                r"finding\.json: line 1 column \d+: not a finding",
                "missing field",
            ],
        },
        Row {
            name: "stub: a bad fixtures file",
            files: vec![("f.yaml", "failed_action_ids: [not-a-uuid]\n".into())],
            args: &["stub", "--serve-for", "0", "--fixtures", "{dir}/f.yaml"],
            env: &[],
            says: &[r"f\.yaml:1: key `failed_action_ids`", "not-a-uuid"],
        },
        Row {
            name: "environment: a bad RUST_LOG",
            files: vec![],
            args: &["spec", "lint"],
            env: &[("RUST_LOG", "css_conformance=loud")],
            says: &["RUST_LOG=css_conformance=loud", "not a log filter"],
        },
        Row {
            name: "environment: a bad profile variable",
            files: vec![],
            args: &["check"],
            env: &[("CSS_CONFORMANCE_TIMEOUTS_REQUEST_MS", "soon")],
            says: &["CSS_CONFORMANCE_TIMEOUTS_REQUEST_MS", "timeouts.request_ms"],
        },
        Row {
            name: "flag: a rate of one request in 30,000 years",
            files: vec![("p.yaml", LIVE.into())],
            args: &[
                "check",
                "--profile",
                "{dir}/p.yaml",
                "--max-requests-per-second",
                "1e-12",
            ],
            env: &[("CSS_CONFORMANCE_TOKEN", "hunter2")],
            says: &[
                "--max-requests-per-second",
                "safety.max_requests_per_second",
                "0.001",
            ],
        },
        Row {
            name: "environment: a rate of one request in 30,000 years",
            files: vec![("p.yaml", LIVE.into())],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[
                ("CSS_CONFORMANCE_TOKEN", "hunter2"),
                ("CSS_CONFORMANCE_SAFETY_MAX_REQUESTS_PER_SECOND", "1e-12"),
            ],
            says: &["CSS_CONFORMANCE_SAFETY_MAX_REQUESTS_PER_SECOND", "0.001"],
        },
        Row {
            name: "profile: a rate of one request in 30,000 years",
            files: vec![(
                "p.yaml",
                format!("{LIVE}safety: {{ max_requests_per_second: 1.0e-12 }}\n"),
            )],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[("CSS_CONFORMANCE_TOKEN", "hunter2")],
            says: &[r"p\.yaml", "safety.max_requests_per_second", "0.001"],
        },
        Row {
            name: "profile: a timeout of 10^15 ms",
            files: vec![(
                "p.yaml",
                format!("{LIVE}timeouts: {{ request_ms: 1000000000000000 }}\n"),
            )],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[("CSS_CONFORMANCE_TOKEN", "hunter2")],
            says: &[r"p\.yaml", "timeouts.request_ms", "at most"],
        },
        Row {
            name: "flag: tags nested 20,000 parentheses deep",
            files: vec![],
            args: leaked(vec![
                "check".to_owned(),
                "--tags".to_owned(),
                format!("{}@RUT-AUTH-01{}", "(".repeat(20_000), ")".repeat(20_000)),
            ]),
            env: &[],
            says: &["--tags", "64 parentheses deep"],
        },
        Row {
            name: "flag: tags with 20,000 nots",
            files: vec![],
            args: leaked(vec![
                "check".to_owned(),
                "--tags".to_owned(),
                format!("{}@RUT-AUTH-01", "not ".repeat(20_000)),
            ]),
            env: &[],
            says: &["--tags", "not"],
        },
        Row {
            name: "spec: YAML nested 100,000 deep",
            files: vec![(
                "s.yaml",
                format!(
                    "operation: {}{}\n",
                    "[".repeat(100_000),
                    "]".repeat(100_000)
                ),
            )],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[r"s\.yaml:1:", "nested more than 64 deep"],
        },
        Row {
            name: "profile: YAML nested 100,000 deep",
            files: vec![(
                "p.yaml",
                format!("endpoint: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
            )],
            args: &["check", "--profile", "{dir}/p.yaml"],
            env: &[],
            says: &[r"p\.yaml:1:", "nested more than 64 deep"],
        },
        Row {
            name: "spec: a format that matches anything",
            files: vec![(
                "s.yaml",
                spec.replacen(
                    r#"observed_format: "^[0-9a-f]{32}$""#,
                    r#"observed_format: ".*""#,
                    1,
                ),
            )],
            args: &["spec", "lint", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &["path_parameters.observed_format", "matches ``"],
        },
        Row {
            name: "spec: a format only the empty ID has",
            files: vec![(
                "s.yaml",
                spec.replacen(
                    r#"observed_format: "^[0-9a-f]{32}$""#,
                    r#"observed_format: "^$""#,
                    1,
                ),
            )],
            args: &["check", "--spec", "{dir}/s.yaml"],
            env: &[],
            says: &[
                "path_parameters.observed_format",
                "does not match the parameter's example",
            ],
        },
        Row {
            name: "proxy: an upstream that is the proxy itself",
            files: vec![],
            args: {
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port();
                leaked(vec![
                    "proxy".to_owned(),
                    "--listen".to_owned(),
                    format!("127.0.0.1:{port}"),
                    "--upstream".to_owned(),
                    format!("http://localhost:{port}"),
                    "--serve-for".to_owned(),
                    "5".to_owned(),
                ])
            },
            env: &[],
            says: &["--upstream", "is this proxy itself"],
        },
    ]
}

/// Arguments made at run time, kept for the run of the test binary.
fn leaked(args: Vec<String>) -> &'static [&'static str] {
    let args: Vec<&'static str> = args
        .into_iter()
        .map(|a| &*Box::leak(a.into_boxed_str()))
        .collect();
    Box::leak(args.into_boxed_slice())
}

#[test]
fn every_bad_input_is_exit_2_with_one_clear_message() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad-input");
    let mut failures = Vec::new();
    for (i, row) in rows().into_iter().enumerate() {
        let dir = root.join(i.to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in &row.files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        let args: Vec<String> = row
            .args
            .iter()
            .map(|a| a.replace("{dir}", dir.to_str().unwrap()))
            .collect();
        let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
            .args(&args)
            .envs(row.env.iter().copied())
            .env_remove("CSS_CONFORMANCE_ENDPOINT")
            .current_dir(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
        let mut wrong = Vec::new();
        if output.status.code() != Some(2) {
            wrong.push(format!("exit {:?}", output.status.code()));
        }
        if errors != 1 {
            wrong.push(format!("{errors} error lines"));
        }
        for pattern in row.says {
            if !Regex::new(pattern).unwrap().is_match(&stderr) {
                wrong.push(format!("does not say /{pattern}/"));
            }
        }
        for never in ["panicked", "stack backtrace", "hunter2"] {
            if stderr.contains(never) {
                wrong.push(format!("says {never}"));
            }
        }
        let said = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("");
        eprintln!("{}: exit {:?}: {said}", row.name, output.status.code());
        if !wrong.is_empty() {
            failures.push(format!("{}: {}\n{stderr}", row.name, wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A small corpus of broken specs, each tried through `spec lint` and `check --spec`: what
/// lint refuses, check refuses the same way (exit 2, file and key); what lint accepts, check
/// runs; no spec makes either panic.
#[test]
fn what_spec_lint_accepts_check_runs_and_no_spec_makes_either_panic() {
    let spec = spec_text();
    let retry_mode_block = {
        let start = spec.find("query_parameters:\n").unwrap();
        let end = spec.find("request_body:").unwrap();
        spec[start..end].to_owned()
    };
    let corpus: Vec<(&str, String)> = vec![
        (
            "no query parameter",
            spec.replacen(&retry_mode_block, "query_parameters: []\n\n", 1),
        ),
        (
            "no allowed value",
            spec.replacen("allowed_values: [abort]", "allowed_values: []", 1),
        ),
        (
            "an empty allowed value",
            spec.replacen("allowed_values: [abort]", "allowed_values: [\"\"]", 1),
        ),
        (
            "no failed status",
            spec.replacen(
                "failed_statuses: [FAILED, PARTIAL_FAILED]",
                "failed_statuses: []",
                1,
            ),
        ),
        ("no doors", {
            let start = spec.find("\ngrammar:\n").unwrap();
            let end = spec.find("\n# Answers that come from in front").unwrap();
            format!("{}\n{}", &spec[..start], &spec[end..])
        }),
        (
            "a door in two forms",
            spec.replacen(
                "{ family: get, door: GET, method: GET }",
                "{ family: get, door: GET, method: GET, retry_mode: [abort], repeat: 3, cluster_id: upper }",
                1,
            ),
        ),
    ];
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("spec-corpus");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |file: &Path, args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
            .args(args)
            .arg("--spec")
            .arg(file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stderr)
    };
    let mut accepted = 0;
    for (i, (name, text)) in corpus.iter().enumerate() {
        let file = dir.join(format!("s{i}.yaml"));
        std::fs::write(&file, text).unwrap();
        let (lint, lint_err) = run(&file, &["spec", "lint"]);
        let reports = dir.join(format!("r{i}"));
        let (check, check_err) = run(
            &file,
            &[
                "check",
                "--fuzz-cases",
                "50",
                "--seed",
                "3",
                "--report-dir",
                reports.to_str().unwrap(),
            ],
        );
        for (what, err) in [("lint", &lint_err), ("check", &check_err)] {
            assert!(
                !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
                "{name}: {what} panicked:\n{err}"
            );
        }
        match lint {
            Some(0) => {
                accepted += 1;
                assert!(
                    matches!(check, Some(0 | 1)),
                    "{name}: check {check:?}\n{check_err}"
                );
            }
            Some(2) => {
                assert_eq!(
                    check,
                    Some(2),
                    "{name}: lint refused, check {check:?}\n{check_err}"
                );
                assert!(
                    lint_err.contains(&format!("s{i}.yaml:")),
                    "{name}: {lint_err}"
                );
                assert_eq!(
                    lint_err.lines().next(),
                    check_err.lines().next(),
                    "{name}: the same message"
                );
            }
            other => panic!("{name}: lint {other:?}\n{lint_err}"),
        }
    }
    // The corpus holds specs of both sorts, so both branches are exercised.
    assert!(accepted >= 1 && accepted < corpus.len(), "{accepted}");
}
