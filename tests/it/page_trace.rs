//! The contract traced to the vendor's page: `spec trace` on the seed page accounts for every
//! statement, and `spec diff` between the seed and editions of our own making
//! (`docs/examples/pages`: one change each) names exactly the clauses whose ground changed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn edition(name: &str) -> PathBuf {
    root().join("docs/examples/pages").join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(args)
        .output()
        .unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The clauses `spec diff` says the changes from the seed to `name` touch, and its exit code.
fn touched(name: &str) -> (Vec<String>, Option<i32>) {
    let page = edition(name);
    let output = run(&["spec", "diff", page.to_str().unwrap(), "--format", "json"]);
    let diff = json(&output);
    let mut clauses: Vec<String> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["clauses"].as_array().unwrap().clone())
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    clauses.sort();
    clauses.dedup();
    (clauses, output.status.code())
}

#[test]
fn the_seed_page_is_traced_whole() {
    let output = run(&["spec", "trace"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("38 statements: 36 traced to clauses, 2 make no rule"),
        "{text}"
    );
    assert!(text.contains(", 0 untraced."), "{text}");
    assert!(
        text.contains("The edition the spec was traced to"),
        "{text}"
    );
    // The same from the shipped file, in JSON: every MUST, SHOULD and client clause of the
    // spec rests on a statement, and each statement on a clause or on a reason.
    let seed = root().join("spec/pages/RetryUpgradeTask.rst");
    let trace = json(&run(&[
        "spec",
        "trace",
        seed.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let statements = trace["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 38);
    for s in statements {
        assert!(
            !s["clauses"].as_array().unwrap().is_empty() || s["no_rule"].is_string(),
            "{s}"
        );
    }
    let spec = css_conformance::contract::spec::Spec::embedded();
    for clause in spec.clauses.iter().chain(&spec.client_clauses) {
        let rests = statements.iter().any(|s| {
            s["clauses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == &clause.id)
        });
        let extended = clause.level == css_conformance::contract::spec::Level::Extended;
        assert!(rests || extended, "{} rests on no statement", clause.id);
    }
}

#[test]
fn a_diff_names_exactly_the_clauses_whose_ground_changed() {
    let cases: [(&str, &[&str]); 6] = [
        // The 400 and 403 rows' advice and retry_mode's description reworded.
        (
            "reworded.rst",
            &[
                "RUT-CLIENT-01",
                "RUT-CLIENT-02",
                "RUT-QUERY-02",
                "RUT-QUERY-03",
                "RUT-QUERY-04",
                "RUT-QUERY-05",
            ],
        ),
        // retry_mode made mandatory.
        ("changed-row.rst", &["RUT-CLIENT-01", "RUT-QUERY-01"]),
        // A 404 row added to the status codes.
        ("added-status.rst", &["RUT-STATUS-01", "RUT-STATUS-02"]),
        // Every parameter's text in Definition / Constraints / Value range / Default value
        // parts, a response section for 200: every quote still stands where it stood.
        ("definition-format.rst", &[]),
        // A Constraints section (rules no clause of this edition quotes: `spec trace` lists
        // them untraced).
        ("constraints.rst", &[]),
        // The seed with its tables redrawn: not a word changed.
        ("seed-rebuilt.rst", &[]),
    ];
    for (name, expected) in cases {
        let (clauses, code) = touched(name);
        assert_eq!(clauses, expected, "{name}");
        assert_eq!(code, Some(i32::from(!expected.is_empty())), "{name}");
    }
}

#[test]
fn a_page_against_itself_is_no_change_and_a_reworded_row_shows_both_wordings() {
    let seed = root().join("spec/pages/RetryUpgradeTask.rst");
    let seed = seed.to_str().unwrap();
    let output = run(&["spec", "diff", seed, seed]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("No change"));
    let reworded = edition("reworded.rst");
    let output = run(&["spec", "diff", seed, reworded.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(
            "  - The client should not repeat the request without modifications.\n  + Modify the request and do not retry it."
        ),
        "{text}"
    );
}

#[test]
fn statements_a_new_edition_adds_are_untraced_and_a_quote_it_dropped_is_missing() {
    let constraints = edition("constraints.rst");
    let output = run(&["spec", "trace", constraints.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(text.matches("UNTRACED").count(), 3, "{text}");
    assert!(
        text.contains("Not the edition the spec was traced to"),
        "{text}"
    );
    // An edition without the words a clause quotes fails `spec trace` and `spec lint --page`.
    let reworded = edition("reworded.rst");
    let output = run(&["spec", "trace", reworded.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("RUT-CLIENT-02: \"The client should not repeat the request without modifications.\" is not at Status Codes · 400 · Description on this page"),
        "{text}"
    );
    let output = run(&["spec", "lint", "--page", reworded.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("RUT-CLIENT-02"), "{stderr}");
    let seed = root().join("spec/pages/RetryUpgradeTask.rst");
    let output = run(&["spec", "lint", "--page", seed.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_page_that_cannot_be_read_is_exit_2_naming_its_line() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("page-trace");
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "open-table.rst",
            b"Status Codes\n------------\n\n+-----+-----+\n| 200 | OK. |\n",
            "open-table.rst:6: a grid table that ends without its closing border",
        ),
        (
            "latin1.rst",
            b"Function\n--------\n\nCaf\xe9.\n",
            "latin1.rst:4: not UTF-8 text",
        ),
        (
            "empty.rst",
            b"",
            "empty.rst:1: no section heading with a statement under it",
        ),
        (
            "no-heading.rst",
            b"Just a paragraph. Another sentence.\n",
            "no-heading.rst:1: no section heading",
        ),
    ];
    for (name, bytes, says) in cases {
        let file = dir.join(name);
        std::fs::write(&file, bytes).unwrap();
        let output = run(&["spec", "trace", file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let output = run(&["spec", "diff", dir.join("absent.rst").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("absent.rst"));
}

#[test]
fn a_verdict_names_the_page_it_was_checked_against() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("page-verdict");
    let _ = std::fs::remove_dir_all(&dir);
    let output = run(&[
        "check",
        "--quiet",
        "--fuzz-cases",
        "0",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    let console = String::from_utf8_lossy(&output.stdout);
    assert!(
        console.contains("Checked against the vendor's page RetryUpgradeTask.rst (Open Telekom Cloud API reference, the seed edition; sha256 8673fac7f1cb)."),
        "{console}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let seed = std::fs::read(root().join("spec/pages/RetryUpgradeTask.rst")).unwrap();
    use sha2::Digest as _;
    assert_eq!(
        report["page"]["sha256"],
        hex::encode(sha2::Sha256::digest(&seed)),
        "the spec names the shipped page's digest"
    );
    for file in ["report.md", "report.html", "junit.xml"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.contains("sha256 8673fac7f1cb"), "{file}");
    }
}
