//! A user has one, two, perhaps three failed upgrade tasks: each must go a long way. Against
//! the stub served as a separate process (token and AK/SK), `check --allow-mutations` judges
//! every clause but one of RUT-QUERY-01/02 with one failed task, every MUST and EXTENDED
//! clause with two, every clause with three. Against servers that act when they should not
//! (or do not when they should), the effect clauses fail naming the requests; against one
//! that answers 200 to other methods without acting, nothing fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use css_conformance::features;
use css_conformance::fixtures::Fixtures;
use css_conformance::report::{Grade, Report};
use css_conformance::secret::Secret;
use css_conformance::session::Session;
use css_conformance::spec::{Level, Spec};
use css_conformance::stub::{
    Answer, Incoming, Responder, STUB_ACCESS_KEY, STUB_SECRET_KEY, STUB_TOKEN, Standalone,
    stub_credentials,
};
use css_conformance::suite::{self, Options};
use css_conformance::target::{Auth, Target};

const TASKS: [&str; 3] = [
    "bcdb711c-a7f0-4007-b8ee-9f13c05f8326",
    "bcdb711c-a7f0-4007-b8ee-000000000001",
    "bcdb711c-a7f0-4007-b8ee-000000000002",
];

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_css-conformance"))
}

/// A standalone stub holding exactly the three failed tasks above (and a `deviation`).
fn stub(dir: &Path, deviation: Option<&str>) -> Standalone {
    let fixtures = dir.join("fixtures.yaml");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        &fixtures,
        format!("failed_action_ids: [{}]\n", TASKS.join(", ")),
    )
    .unwrap();
    let mut args = vec!["--fixtures", fixtures.to_str().unwrap()];
    if let Some(d) = deviation {
        args.extend(["--stub-deviation", d]);
    }
    Standalone::start_with(exe(), 120, &args).expect("the stub starts")
}

/// The clause verdicts and evidence of `check --allow-mutations` against `url` with the first
/// `tasks` failed tasks, signing in as `auth` does; and what it printed on stderr.
fn check(
    dir: &Path,
    url: &str,
    tasks: usize,
    auth: &str,
    read_api: bool,
) -> (BTreeMap<String, (String, String)>, String) {
    let reports = dir.join(format!("reports-{tasks}-{auth}-{read_api}"));
    let output = Command::new(exe())
        .args([
            "check",
            "--endpoint",
            url,
            "--project-id",
            "6204a5bd270343b5885144cf9c8c158d",
        ])
        .args([
            "--set",
            "fixtures.cluster_id=ea244205-d641-45d9-9dcb-ab2236bcd07e",
        ])
        .arg("--set")
        .arg(format!(
            "fixtures.failed_action_ids={}",
            TASKS[..tasks].join(",")
        ))
        .args([
            "--set",
            "fixtures.foreign_project_id=0f0f0f0f0f0f4f0f8f0f0f0f0f0f0f0f",
        ])
        .args([
            "--auth",
            auth,
            "--allow-mutations",
            "--max-requests-per-second",
            "0",
        ])
        .args(read_api.then_some("--read-api"))
        .args(["--fuzz-cases", "0", "--quiet", "--report-dir"])
        .arg(&reports)
        .env("CSS_CONFORMANCE_TOKEN", STUB_TOKEN)
        .env("CLOUD_SDK_AK", STUB_ACCESS_KEY)
        .env("CLOUD_SDK_SK", STUB_SECRET_KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let text = std::fs::read_to_string(reports.join("report.json"))
        .unwrap_or_else(|e| panic!("{e}: {stderr}{}", String::from_utf8_lossy(&output.stdout)));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let clauses = json["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                (
                    c["verdict"].as_str().unwrap().to_owned(),
                    c["evidence"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
            )
        })
        .collect();
    (clauses, stderr)
}

fn not_passed(clauses: &BTreeMap<String, (String, String)>) -> Vec<&str> {
    clauses
        .iter()
        .filter(|(_, (v, _))| v != "PASS")
        .map(|(id, _)| id.as_str())
        .collect()
}

#[test]
fn one_two_three_failed_tasks_judge_what_they_should() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("task-economy");
    let spec = Spec::embedded();
    for (auth, read_api) in [
        ("token", false),
        ("aksk", false),
        ("token", true),
        ("aksk", true),
    ] {
        // A fresh stub for each run: a run consumes the tasks it is given.
        let run = |tasks: usize| {
            let stub = stub(&dir.join(auth), None);
            check(&dir.join(auth), stub.url(), tasks, auth, read_api)
        };
        // One task: everything but one of the two that each consume a task.
        let (one, stderr) = run(1);
        let left = not_passed(&one);
        assert!(
            left == ["RUT-QUERY-01"] || left == ["RUT-QUERY-02"],
            "{auth}, 1 task: {left:?}"
        );
        // The plan is said before the first mutating request.
        let plan = stderr.find("failed task 1:").expect("the plan is printed");
        let first = stderr.find("first mutating request").unwrap_or(usize::MAX);
        assert!(plan < first, "{stderr}");
        // Two: every MUST and EXTENDED clause.
        let (two, _) = run(2);
        for c in &spec.clauses {
            if c.level != Level::Should {
                assert_eq!(two[&c.id].0, "PASS", "{auth}, 2 tasks: {}", c.id);
            }
        }
        // Three: every clause.
        let (three, _) = run(3);
        assert!(
            not_passed(&three).is_empty(),
            "{auth}, 3 tasks: {:?}",
            not_passed(&three)
        );
    }
}

#[test]
fn each_effect_deviation_fails_its_clause_naming_the_requests() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("task-economy-effects");
    for (deviation, clause, named) in [
        // The refused requests before the retry that was refused as "not failed".
        ("acts-on-refusal", "RUT-EFFECT-01", "retry_mode.feature:41"),
        // The other methods on the second task.
        ("other-method-acts", "RUT-METHOD-01", "methods.feature:17"),
        // The retry accepted that did nothing, named by the second one.
        ("accepts-without-acting", "RUT-EFFECT-02", "/retry"),
    ] {
        let served = stub(&dir.join(deviation), Some(deviation));
        let (clauses, _) = check(&dir.join(deviation), served.url(), 2, "token", false);
        let (verdict, evidence) = &clauses[clause];
        assert_eq!(verdict, "FAIL", "{deviation}: {clauses:?}");
        assert!(evidence.contains(named), "{deviation}: {evidence}");
        drop(served);
        // With the read API the one request that acted is pinned: one piece of evidence, the
        // status read before and after it.
        let served = stub(&dir.join(deviation), Some(deviation));
        let (read, _) = check(&dir.join(deviation), served.url(), 2, "token", true);
        let (verdict, evidence) = &read[clause];
        assert_eq!(verdict, "FAIL", "{deviation} (read API): {read:?}");
        assert!(
            evidence.contains("the read API gave"),
            "{deviation}: {evidence}"
        );
        if deviation != "accepts-without-acting" {
            assert_eq!(
                evidence.matches("the read API gave").count(),
                1,
                "{deviation}: one request acted: {evidence}"
            );
        }
        // Nothing else fails (a task the server spoilt may leave a clause unjudged).
        let others: Vec<&String> = clauses
            .iter()
            .filter(|(id, (v, _))| *id != clause && matches!(v.as_str(), "FAIL" | "NON-STRICT"))
            .map(|(id, _)| id)
            .collect();
        assert!(others.is_empty(), "{deviation}: also {others:?}");
    }
}

/// A server of our own: the stub's answers, but 200 to any other method (without acting).
struct OkToOtherMethods {
    server: httpmock::MockServer,
}

impl OkToOtherMethods {
    async fn start(spec: Arc<Spec>, fixtures: &Fixtures) -> OkToOtherMethods {
        let responder = Arc::new(Responder::new(spec, fixtures, &stub_credentials(), None));
        let server = httpmock::MockServer::start_async().await;
        server
            .mock_async(|_when, then| {
                then.respond_with(move |req: &httpmock::HttpMockRequest| {
                    let incoming = Incoming::of(req);
                    let answer = if req.method_str() == "PUT" {
                        responder.answer(&incoming).0
                    } else {
                        Answer {
                            status: 200,
                            content_type: Some("text/html"),
                            body: "<html>ok</html>".to_owned(),
                            allow: None,
                        }
                    };
                    answer.into_httpmock()
                });
            })
            .await;
        OkToOtherMethods { server }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn other_methods_answered_200_without_acting_fail_nothing() {
    let spec = Arc::new(Spec::embedded());
    let mut fixtures = Fixtures::builtin();
    fixtures.generated_failed_tasks = false;
    fixtures.failed_action_ids.truncate(2);
    let server = OkToOtherMethods::start(Arc::clone(&spec), &fixtures).await;
    let auth = Auth::Token(Secret::new(STUB_TOKEN));
    let target = Target::new(
        "ok-to-other-methods",
        &server.server.base_url(),
        auth,
        fixtures,
    )
    .unwrap()
    .allow_mutations(true);
    let session = Arc::new(Session::new(Arc::clone(&spec), target));
    let run = suite::run(session, features::embedded(), &Options::default())
        .await
        .unwrap();
    let report = Report::build(&spec, &run.target, &run.records, None, &[]);
    let failed: Vec<&str> = report
        .clauses
        .iter()
        .filter(|c| c.grade == Grade::Fail || c.grade == Grade::NonStrict)
        .map(|c| c.id.as_str())
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(report.clause("RUT-METHOD-01").unwrap().grade, Grade::Pass);
    // The 200s are noted.
    let noted = run
        .records
        .iter()
        .flat_map(|r| &r.judgements)
        .filter(|j| j.request.method.is_some() && j.verdict.note.is_some())
        .count();
    assert!(noted >= 4, "{noted}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fuzzer_spends_a_task_only_on_a_case_a_conforming_server_accepts() {
    use css_conformance::fuzz;
    use css_conformance::stub::Stub;
    let spec = Arc::new(Spec::embedded());
    let mut fixtures = Fixtures::builtin();
    fixtures.generated_failed_tasks = false;
    fixtures.failed_action_ids.truncate(3);
    let stub = Stub::start(Arc::clone(&spec), &fixtures, &stub_credentials(), None).await;
    let auth = Auth::Token(Secret::new(STUB_TOKEN));
    let target = Target::new("three tasks", &stub.base_url(), auth, fixtures.clone())
        .unwrap()
        .allow_mutations(true);
    let options = fuzz::Options {
        cases: 300,
        seed: 9,
        mutations: true,
        ..fuzz::Options::default()
    };
    let summary = fuzz::run(&spec, &target, &options).await;
    assert!(summary.findings.is_empty(), "{:?}", summary.violations);
    // The invalid and repeated retry_modes share one task, which stays failed; only the
    // accepted cases take tasks: the other two, then there are none left.
    let refused = summary
        .per_kind
        .get(&css_conformance::spec::Kind::InvalidRetryMode)
        .copied()
        .unwrap_or(0)
        + summary
            .per_kind
            .get(&css_conformance::spec::Kind::RepeatedRetryMode)
            .copied()
            .unwrap_or(0);
    assert!(refused >= 50, "{:?}", summary.per_kind);
    let accepted: u64 = [
        css_conformance::spec::Kind::Retry,
        css_conformance::spec::Kind::Abort,
        css_conformance::spec::Kind::ExtraParameter,
    ]
    .iter()
    .map(|k| summary.per_kind.get(k).copied().unwrap_or(0))
    .sum();
    assert_eq!(summary.without_task, accepted - 2, "{summary:?}");
    assert_eq!(summary.judged + summary.without_task, 300);
    // Every request on a real task but two was one a conforming server refuses (a refused
    // request generated twice alike goes out once).
    let on_tasks = stub.requests_on_tasks();
    assert!(
        on_tasks > 20 && on_tasks <= refused + 2,
        "{on_tasks} of {refused} + 2"
    );
}
