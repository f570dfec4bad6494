//! The report documents: golden files for the console, Markdown and HTML renderings (of a
//! report built by hand, so nothing in them is volatile), `report.json` of a real run read
//! back through the schema docs/reference.md documents, and `--strict` grading.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use css_conformance::contract::spec::Level;
use css_conformance::grading::report::{ClauseResult, Grade, Report};
use css_conformance::grading::writer::{self, Document, SCHEMA, Writer as _};

use crate::common;

fn clause(id: &str, level: Level, grade: Grade, evidence: &[&str]) -> ClauseResult {
    ClauseResult {
        id: id.to_owned(),
        level,
        statement: format!("The statement of {id} <with markup & \"quotes\">."),
        grade,
        evidence: evidence.iter().map(|e| (*e).to_owned()).collect(),
        scenarios: vec![format!("features/x.feature:{}", id.len())],
        judged_scenarios: usize::from(grade != Grade::Skip),
        judged_by: Vec::new(),
        intermittent: grade == Grade::Intermittent,
        needs_read_api: false,
    }
}

/// One clause of every verdict, with evidence where a reader needs it.
fn sample() -> Report {
    Report {
        target: "http://127.0.0.1:8080".to_owned(),
        page: css_conformance::contract::spec::Spec::embedded().page,
        strict: false,
        read_api: true,
        clauses: vec![
            clause("RUT-QUERY-01", Level::Must, Grade::Pass, &[]),
            clause(
                "RUT-QUERY-03",
                Level::Must,
                Grade::Fail,
                &[
                    "features/retry_mode.feature:41: PUT http://127.0.0.1:8080/v1.0/p/clusters/c/upgrade/a/retry?retry_mode=ABORT\nRUT-QUERY-03 [MUST] expected invalid_retry_mode not accepted with 200; got status 200, no body",
                    "fuzz: 3 generated case(s) (seed 7); minimal case: PUT http://127.0.0.1:8080/x?retry_mode=aBort\ncurl -sS -i -X PUT 'http://127.0.0.1:8080/x?retry_mode=aBort' -H \"X-Auth-Token: $CSS_CONFORMANCE_TOKEN\"",
                ],
            ),
            clause(
                "RUT-PATH-02",
                Level::Must,
                Grade::Intermittent,
                &[
                    "fuzz: 1 generated case(s) (seed 7); minimal case, intermittent 1/3: PUT http://127.0.0.1:8080/x\nRUT-PATH-02 [MUST] expected 400 or 403; got status 200, no body",
                ],
            ),
            clause(
                "RUT-QUERY-04",
                Level::Should,
                Grade::NonStrict,
                &["features/retry_mode.feature:41: expected 400; got status 200, no body"],
            ),
            clause(
                "RUT-AUTH-01",
                Level::Must,
                Grade::Xfail,
                &["expected deviation: RUT-AUTH-01 (status 401): the gateway answers 401"],
            ),
            clause(
                "RUT-EXT-01",
                Level::Extended,
                Grade::Skip,
                &["features/task_state.feature:9: skipped: mutating"],
            ),
        ],
        scenarios_passed: 7,
        scenarios_failed: 2,
        scenarios_skipped: 1,
        scenarios_unanswered: 0,
        target_fault: None,
        interrupted: None,
        require_complete: false,
        fixture_errors: Vec::new(),
        new_failures: None,
        scenario_results: Vec::new(),
        outcomes: Vec::new(),
    }
}

fn sample_document(report: &Report) -> Document {
    let started = time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
    Document::new(
        report,
        serde_json::json!({ "endpoint": "http://user:secret@127.0.0.1:8080", "project_id": "p" }),
        None,
        started,
        std::time::Duration::from_millis(1234),
    )
}

/// Compares `actual` with the golden file `name`; `UPDATE_GOLDEN=1` rewrites it instead.
fn golden(name: &str, actual: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&file, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", file.display()));
    assert!(
        expected == actual,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 cargo test --test it reports rewrites it):\n{actual}"
    );
}

#[test]
fn the_console_rendering_matches_its_golden_file() {
    golden(
        "console.txt",
        &writer::Console::default().clauses(&sample()),
    );
}

#[test]
fn the_markdown_report_matches_its_golden_file() {
    golden(
        "report.md",
        &writer::Markdown.render(&sample_document(&sample())),
    );
}

#[test]
fn the_html_report_matches_its_golden_file_and_is_self_contained() {
    let html = writer::Html.render(&sample_document(&sample()));
    golden("report.html", &html);
    for outside in ["<script", "http-equiv", "<link", "src=", "@import", "url("] {
        assert!(
            !html.contains(outside),
            "the page reaches out with {outside}"
        );
    }
    assert!(html.contains("&lt;with markup &amp; &quot;quotes&quot;&gt;"));
}

#[test]
fn the_report_never_shows_an_endpoints_password() {
    let json = writer::Json.render(&sample_document(&sample()));
    assert!(!json.contains("secret"), "{json}");
    assert!(json.contains("http://127.0.0.1:8080"), "{json}");
}

#[test]
fn strict_counts_should_failures_and_xpass_against_conformance() {
    let lenient = sample();
    assert_eq!(lenient.must_failures(), vec!["RUT-QUERY-03", "RUT-PATH-02"]);
    let strict = sample().strict(true);
    assert_eq!(strict.clause("RUT-QUERY-04").unwrap().grade, Grade::Fail);
    assert_eq!(
        strict.must_failures(),
        vec!["RUT-QUERY-03", "RUT-PATH-02", "RUT-QUERY-04"]
    );
    // Back to lenient: the SHOULD failure is NON-STRICT again.
    assert_eq!(
        strict.strict(false).clause("RUT-QUERY-04").unwrap().grade,
        Grade::NonStrict
    );

    let mut only_should = sample();
    only_should
        .clauses
        .retain(|c| !["RUT-QUERY-03", "RUT-PATH-02"].contains(&c.id.as_str()));
    assert!(only_should.conformant());
    assert!(!only_should.clone().strict(true).conformant());

    // An intermittent failure counts as a FAIL does, graded apart; one of a SHOULD clause
    // is NON-STRICT unless strict, and INTERMITTENT again when strict.
    let mut intermittent = sample();
    intermittent.clauses.retain(|c| c.id == "RUT-PATH-02");
    assert!(!intermittent.conformant());
    let mut should = clause("RUT-ERR-02", Level::Should, Grade::Intermittent, &[]);
    should.intermittent = true;
    let mut lenient_should = sample();
    lenient_should.clauses = vec![should];
    let lenient_should = lenient_should.strict(false);
    assert_eq!(lenient_should.clauses[0].grade, Grade::NonStrict);
    assert!(lenient_should.conformant());
    let strict_should = lenient_should.strict(true);
    assert_eq!(strict_should.clauses[0].grade, Grade::Intermittent);
    assert!(!strict_should.conformant());

    let mut xpass = sample();
    xpass.clauses = vec![clause("RUT-AUTH-01", Level::Must, Grade::Xpass, &[])];
    assert!(xpass.conformant());
    assert!(!xpass.strict(true).conformant());
}

// The schema of report.json as docs/reference.md documents it; unknown fields are errors, so a
// field added to the report and not to the reference (and here) fails this test.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the fields are read by serde: their presence and types are the check
struct ReportJson {
    schema: String,
    tool: ToolJson,
    target: String,
    page: PageJson,
    profile: BTreeMap<String, serde_json::Value>,
    seed: Option<u64>,
    started: String,
    duration_s: f64,
    strict: bool,
    conformant: bool,
    complete: bool,
    verdict: String,
    exit_code: u8,
    summary: SummaryJson,
    clauses: Vec<ClauseJson>,
    #[serde(default)]
    doors: Vec<DoorJson>,
    fuzz: Option<FuzzJson>,
    #[serde(default)]
    traffic: Option<TrafficJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PageJson {
    name: String,
    edition: String,
    sha256: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct TrafficJson {
    sent: u64,
    retried: u64,
    throttled: u64,
    transient: u64,
    lost: u64,
    #[serde(default)]
    unavailable: Option<String>,
    not_resent: u64,
    repeated: u64,
    reads: u64,
    first_retry: Option<String>,
    answered: u64,
    faults: u64,
    first_fault: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DoorJson {
    door: String,
    clause: String,
    verdict: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ToolJson {
    name: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SummaryJson {
    clauses: BTreeMap<String, usize>,
    scenarios_passed: usize,
    scenarios_failed: usize,
    scenarios_skipped: usize,
    scenarios_unanswered: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ClauseJson {
    id: String,
    level: String,
    statement: String,
    verdict: String,
    evidence: Vec<String>,
    scenarios: Vec<String>,
    judged_scenarios: usize,
    #[serde(default)]
    judged_by: Vec<String>,
    /// Judged only through the read API (given only when true).
    #[serde(default)]
    needs_read_api: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FuzzJson {
    seed: u64,
    cases: u64,
    judged: u64,
    sent: u64,
    repeated: u64,
    from_memory: u64,
    without_task: u64,
    transport_errors: u64,
    first_transport_error: Option<String>,
    elapsed: f64,
    per_kind: BTreeMap<String, u64>,
    violations: BTreeMap<String, u64>,
    findings: Vec<serde_json::Value>,
    transient_forgotten: u64,
}

const VERDICTS: [&str; 8] = [
    "PASS",
    "FAIL",
    "INTERMITTENT",
    "NON-STRICT",
    "XFAIL",
    "XPASS",
    "SKIP",
    "INFO",
];

fn check_run(dir: &Path, extra: &[&str]) -> (Option<i32>, ReportJson) {
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["check", "--fuzz-cases", "50", "--seed", "3", "--report-dir"])
        .arg(dir)
        .args(["--findings-dir"])
        .arg(dir.join("findings"))
        .args(extra)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap_or_else(|e| {
        panic!(
            "no report.json: {e}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let report: ReportJson = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("report.json does not follow its schema: {e}\n{text}"));
    (output.status.code(), report)
}

#[test]
fn report_json_of_a_real_run_follows_its_documented_schema() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reports-schema");
    let _ = std::fs::remove_dir_all(&dir);
    let (code, report) = check_run(&dir, &["--stub-deviation", "accepts-any-retry-mode"]);
    assert_eq!(code, Some(1));
    assert_eq!(report.schema, SCHEMA);
    assert_eq!(report.seed, Some(3));
    assert!(!report.conformant);
    assert_eq!(
        report.clauses.len(),
        css_conformance::contract::spec::Spec::embedded()
            .clauses
            .len()
    );
    for c in &report.clauses {
        assert!(VERDICTS.contains(&c.verdict.as_str()), "{}", c.verdict);
        assert!(["MUST", "SHOULD", "EXTENDED"].contains(&c.level.as_str()));
        assert!(!c.scenarios.is_empty(), "{} names its scenarios", c.id);
    }
    let verdict = |id: &str| {
        report
            .clauses
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.verdict.clone())
    };
    assert_eq!(verdict("RUT-QUERY-03").as_deref(), Some("FAIL"));
    assert_eq!(verdict("RUT-QUERY-04").as_deref(), Some("NON-STRICT"));
    assert_eq!(report.fuzz.as_ref().map(|f| f.cases), Some(50));
    assert!(report.started.ends_with('Z') && report.duration_s > 0.0);
    for name in ["junit.xml", "report.md", "report.html"] {
        assert!(dir.join(name).is_file(), "{name} written");
    }
}

#[test]
fn an_unwritable_report_dir_is_exit_2_naming_the_flag() {
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reports-not-a-dir");
    std::fs::write(&file, "a file, not a folder").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["check", "--fuzz-cases", "0", "--report-dir"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--report-dir"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The report directory of one check run of a deviant stub, made once for the tests that read
/// it; one scenario at a time, so its synthetic IDs come in one order.
fn deviant_run() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reports-deviant");
        let _ = std::fs::remove_dir_all(&dir);
        let (code, _) = check_run(
            &dir,
            &[
                "--stub-deviation",
                "accepts-any-retry-mode",
                "--concurrency",
                "1",
            ],
        );
        assert_eq!(code, Some(1));
        dir
    })
}

/// The JUnit XSD published with Jenkins (dtkit junit-4.xsd), as the `junit-report` crate ships
/// it in its package: found through `cargo metadata`, so it comes from the registry, not from
/// a copy in this repository.
fn published_junit_xsd() -> String {
    let rustc = Command::new("rustc").arg("-vV").output().unwrap();
    let host = String::from_utf8(rustc.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names the host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // For this platform only: other platforms' crates need not be downloaded.
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "junit-report")
        .expect("junit-report is a dependency");
    let manifest = Path::new(package["manifest_path"].as_str().unwrap());
    let xsd = manifest.parent().unwrap().join("tests/JUnit.xsd");
    std::fs::read_to_string(&xsd).unwrap_or_else(|e| panic!("{}: {e}", xsd.display()))
}

fn junit_violations(xsd: &str, xml: &str) -> Vec<String> {
    let schema = xmlschema::parse_schema(xsd).expect("the XSD parses");
    let doc = oxml::parse(xml).expect("the JUnit report is well-formed XML");
    xmlschema::validate(&doc, &schema)
        .violations
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn junit_xml_of_a_real_run_validates_against_the_published_xsd() {
    let xsd = published_junit_xsd();
    // The validator enforces every construct of this XSD but one: it does not tell mixed
    // content (text beside elements, which <failure> and <error> allow) from element-only
    // content, so stray text between elements would pass. Nothing else is skipped.
    let unsupported = xmlschema::support::unsupported(&oxml::parse(&xsd).unwrap());
    assert!(
        unsupported
            .iter()
            .all(|u| u.construct == "@mixed on xs:complexType"),
        "{unsupported:?}"
    );

    let dir = deviant_run();
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let violations = junit_violations(&xsd, &xml);
    assert!(violations.is_empty(), "{violations:#?}\n{xml}");
    // One testcase per scenario, one per clause and one for the verdict, and one per
    // fuzz-violated clause, named with clause IDs; the failures carry their evidence and a
    // cURL line.
    let report: ReportJson =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let scenarios = report.summary.scenarios_passed
        + report.summary.scenarios_failed
        + report.summary.scenarios_skipped
        + report.summary.scenarios_unanswered;
    let fuzz_cases = report
        .fuzz
        .as_ref()
        .map_or(0, |f| f.violations.len().max(1));
    assert_eq!(
        xml.matches("<testcase ").count(),
        scenarios + report.clauses.len() + 1 + fuzz_cases
    );
    // The console's count of failed scenarios is JUnit's (a scenario's testcase fails as
    // the report counts it).
    let failed_scenarios = xml
        .split("<testsuite ")
        .filter(|s| !s.contains("name=\"clauses (") && !s.contains("name=\"fuzz ("))
        .map(|s| s.matches("<failure ").count())
        .sum::<usize>();
    assert_eq!(failed_scenarios, report.summary.scenarios_failed);
    assert!(
        xml.contains(r#"<testcase name="[RUT-QUERY-03 RUT-QUERY-04 RUT-EFFECT-01] "#),
        "{xml}"
    );
    assert!(xml.contains(r#"type="non-conformance""#) && xml.contains("curl -sS -i -X PUT"));

    // And the validator does reject what the XSD forbids: a testcase without a name, a
    // failure outside a testcase.
    for broken in [
        xml.replacen("<testcase name=", "<testcase label=", 1),
        xml.replacen("<testcase ", "<failure/><testcase ", 1),
    ] {
        assert!(!junit_violations(&xsd, &broken).is_empty(), "{broken}");
    }
}

#[test]
fn junit_xml_matches_its_golden_file_with_times_and_ports_masked() {
    let dir = deviant_run();
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let mut masked = xml.replace("><", ">\n<");
    for (pattern, with) in [
        (r#" time="[^"]*""#, r#" time="T""#),
        (r#" timestamp="[^"]*""#, r#" timestamp="TIMESTAMP""#),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
    ] {
        masked = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&masked, with)
            .into_owned();
    }
    golden("junit.xml", &masked);
}

#[test]
fn cucumber_json_lists_every_scenario_with_its_clause_tags() {
    let dir = deviant_run();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cucumber.json")).unwrap())
            .expect("cucumber.json is JSON");
    let features = json.as_array().expect("an array of features");
    assert_eq!(
        features.len(),
        css_conformance::contract::features::EMBEDDED.len()
    );
    let elements: Vec<&serde_json::Value> = features
        .iter()
        .flat_map(|f| f["elements"].as_array().unwrap())
        .collect();
    assert!(elements.len() >= 70, "{}", elements.len());
    let tagged = |tag: &str| {
        elements.iter().any(|e| {
            e["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["name"] == tag))
        })
    };
    assert!(tagged("RUT-QUERY-03") && tagged("RUT-RESP-01"));
    let failed = elements.iter().any(|e| {
        e["steps"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["result"]["status"] == "failed"))
    });
    assert!(failed, "the deviant stub's failures are in cucumber.json");
}

#[test]
fn tags_select_scenarios_and_a_bad_expression_is_exit_2() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reports-tags");
    let _ = std::fs::remove_dir_all(&dir);
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args([
            "check",
            "--tags",
            "@RUT-RESP-01 or @RUT-QUERY-03",
            "--report-dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: ReportJson =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let verdict = |id: &str| {
        let c = report.clauses.iter().find(|c| c.id == id).unwrap();
        (c.verdict.as_str(), c.evidence.join("; "))
    };
    // The selected clauses are judged; so is any other clause their requests bear on (every
    // answer is judged against every clause that applies to it); the rest were not judged.
    assert_eq!(verdict("RUT-RESP-01").0, "PASS");
    assert_eq!(verdict("RUT-QUERY-03").0, "PASS");
    for id in ["RUT-AUTH-01", "RUT-PATH-03", "RUT-EXT-01"] {
        assert_eq!(verdict(id).0, "SKIP", "{id}: {}", verdict(id).1);
    }
    assert!(
        report.fuzz.is_none(),
        "--tags runs no fuzz budget unless asked"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args(["check", "--tags", "@RUT-RESP-01 and"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--tags") && stderr.contains("column 17"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// report.html shows each exchange as a panel to open: the request (method, URL, the headers
/// the tool set with the credential as its variable, never its value) beside the response
/// (status, the server's headers escaped, a body excerpt); the violations first in a filter
/// made of radio buttons and CSS (no script).
#[test]
fn the_html_report_shows_each_exchange_as_request_and_response_panels() {
    let url = common::tiny_server::serve(|line| {
        let (status, reason, _, body) = common::tiny_server::fails_encoded_paths(line);
        (
            status,
            reason,
            "X-Note: <b>bold</b> & more\r\n".to_owned(),
            body,
        )
    });
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-exchanges");
    let _ = std::fs::remove_dir_all(&dir);
    let fixtures = css_conformance::fixtures::Fixtures::builtin();
    let out = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .args([
            "check",
            "--endpoint",
            &url,
            "--project-id",
            &fixtures.project_id,
            "--cluster-id",
            &fixtures.cluster_id,
            "--max-requests-per-second",
            "0",
            "--fuzz-cases",
            "0",
            "--report-dir",
            dir.to_str().unwrap(),
        ])
        .env("CSS_CONFORMANCE_TOKEN", "canary-token-0f1e2d")
        .output()
        .unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(out.status.code().is_some(), "it ran");
    let exchanges = html.matches("<details class=\"exchange ").count();
    assert!(exchanges > 20, "{exchanges} exchanges");
    assert!(html.contains("<h4>Request</h4>") && html.contains("<h4>Response</h4>"));
    assert!(html.contains("<th>X-Auth-Token</th><td>$CSS_CONFORMANCE_TOKEN</td>"));
    assert!(
        !html.contains("canary-token-0f1e2d"),
        "the token is never shown"
    );
    assert!(html.contains("<th>x-note</th><td>&lt;b&gt;bold&lt;/<wbr>b&gt; &amp;<wbr> more</td>"));
    assert!(!html.contains("<b>bold</b>"));
    assert!(html.contains("CSS.0015"), "the body excerpt");
    // Every exchange with a violation is in the filter's count, and marked so.
    let failing = html.matches("<details class=\"exchange fail\"").count();
    assert!(failing > 0);
    assert!(
        html.contains(&format!(
            "<label for=\"show-fail\">violations ({failing})</label>"
        )),
        "{failing}"
    );
    assert!(html.contains("#show-fail:checked ~ .exchanges details:not(.fail)"));
    // URLs wrap after a slash, not mid-word.
    assert!(html.contains("/<wbr>clusters/<wbr>"));
    for outside in ["<script", "<link", "src=", "@import", "url("] {
        assert!(
            !html.contains(outside),
            "the page reaches out with {outside}"
        );
    }
}
