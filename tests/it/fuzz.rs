//! Property-based fuzzing against the built-in stub: every generated case is judged
//! conforming on the conforming stub, and a deviant stub is caught, shrunk, and reported with
//! a seed, a cURL line and a finding that `replay` reproduces.

use std::sync::Arc;

use proptest::prop_assert;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

use css_conformance::config::profile::AuthMethod;
use css_conformance::contract::oracle;
use css_conformance::contract::spec::Spec;
use css_conformance::engines::fuzz::strategy::{Scope, arb_draft};
use css_conformance::engines::fuzz::{self, Finding, Replay};
use css_conformance::engines::targets;
use css_conformance::grading::writer::fuzz_summary;
use css_conformance::servers::stub::STUB_TOKEN;
use css_conformance::servers::stub::{Deviation, Stub};
use css_conformance::transport::target::Target;

/// The property: on a conforming server, no generated case violates any clause.
/// 256 cases by default; PROPTEST_CASES raises it. Failures persist in tests/it/fuzz.regressions.
#[test]
fn every_generated_case_conforms_on_the_stub() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let spec = Arc::new(Spec::embedded());
    let (_stub, target) = rt.block_on(targets::stub_target(
        Arc::clone(&spec),
        None,
        AuthMethod::Token,
    ));
    let mut runner = TestRunner::new(Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        source_file: Some(file!()),
        ..Config::default()
    });
    let result = runner.run(&arb_draft(&spec, Scope { mutations: true }), |draft| {
        let case = draft
            .resolve(&spec, &target)
            .expect("the stub has failed tasks to spare");
        let response = rt
            .block_on(target.send(&spec, &case.request))
            .expect("the stub answers");
        let verdict = oracle::judge_request(&spec, case.kind, &case.request, &response);
        prop_assert!(
            verdict.passed(),
            "{}\n{verdict}",
            target.url(&spec, &case.request)
        );
        Ok(())
    });
    result.unwrap();
}

#[test]
fn the_same_seed_gives_the_same_cases() {
    let spec = Spec::embedded();
    let scope = Scope { mutations: true };
    let a = fuzz::drafts(&spec, scope, 42, 300);
    assert_eq!(a, fuzz::drafts(&spec, scope, 42, 300));
    assert_ne!(a, fuzz::drafts(&spec, scope, 43, 300));
}

#[test]
fn every_family_shows_up() {
    let spec = Spec::embedded();
    let drafts = fuzz::drafts(&spec, Scope { mutations: true }, 7, 3000);
    let mut kinds = std::collections::BTreeMap::new();
    for d in &drafts {
        *kinds.entry(d.kind).or_insert(0) += 1;
    }
    for kind in css_conformance::contract::spec::Kind::ALL {
        use css_conformance::contract::spec::Kind;
        if kind == Kind::TaskNotFailed {
            // A fixture: the features ask it.
            continue;
        }
        assert!(
            kinds.get(&kind).copied().unwrap_or(0) >= 50,
            "{kind}: {kinds:?}"
        );
    }
}

/// The fuzzer draws every family of the spec's grammar, each on a task that names nothing:
/// a family added to the grammar is drawn without a line of the fuzzer changed.
#[test]
fn the_fuzzer_draws_every_family_of_the_grammar_on_tasks_that_name_nothing() {
    use css_conformance::engines::fuzz::strategy::{Draft, Slot};
    let spec = Spec::embedded();
    let drafts = fuzz::drafts(&spec, Scope { mutations: true }, 7, 3000);
    let of_family = |door: &css_conformance::contract::spec::DoorSpec, d: &Draft| {
        let mut modes = door.retry_mode.clone().unwrap_or_default();
        if let (Some(n), [one]) = (door.repeat, modes.as_mut_slice()) {
            *one = one.repeat(n);
        }
        let credentials = door
            .credentials
            .map_or("Valid".to_owned(), |c| format!("{c:?}"));
        let header = door.header.as_ref().and_then(|h| h.split_once(": "));
        d.method == door.method
            && d.retry_mode == modes
            && format!("{:?}", d.credentials) == credentials
            && door
                .path
                .is_none_or(|p| format!("{p:?}") == format!("{:?}", d.shape.path))
            && header.is_none_or(|(n, v)| d.shape.headers.iter().any(|h| h.0 == n && h.1 == v))
            && door.body.as_ref().is_none_or(|b| {
                d.shape.body.as_ref() == Some(&(door.content_type.clone(), b.clone()))
            })
            && door.version.is_none_or(|v| v == d.shape.version)
    };
    // The variations a conforming server serves as the operation, on tasks that name nothing.
    let variations: Vec<_> = spec.variations().collect();
    assert!(
        !variations.is_empty(),
        "the grammar has fuzz-only variations"
    );
    for (name, variation) in variations {
        assert!(
            drafts.iter().any(|d| of_family(variation, d)
                && d.action_id == Slot::Unknown
                && d.kind == css_conformance::contract::spec::Kind::UnknownTask),
            "{name}: never drawn"
        );
    }
    // A signature's faults (AK/SK only) are the doors' and the features' to send.
    for (family, door) in spec.families().filter(|(_, d)| d.auth.is_none()) {
        let drawn: Vec<&Draft> = drafts.iter().filter(|d| of_family(door, d)).collect();
        assert!(!drawn.is_empty(), "{family}: never drawn");
        // A family that is no retry_mode or credential fault is drawn on no real task.
        if door.method.is_some() || door.path.is_some() || door.body.is_some() {
            assert!(
                drawn.iter().all(|d| d.action_id != Slot::FailedTask),
                "{family}: drawn on a real task"
            );
        }
    }
}

async fn fuzz_deviant(deviation: Deviation, seed: u64) -> (Arc<Spec>, Stub, Target, fuzz::Summary) {
    let spec = Arc::new(Spec::embedded());
    let (stub, target) =
        targets::stub_target(Arc::clone(&spec), Some(deviation), AuthMethod::Token).await;
    let options = fuzz::FuzzOptions {
        cases: 500,
        seed,
        ..fuzz::FuzzOptions::default()
    };
    let summary = fuzz::run(&spec, &target, &options)
        .await
        .expect("the cases are made");
    (spec, stub, target, summary)
}

fn finding<'a>(summary: &'a fuzz::Summary, clause: &str) -> &'a Finding {
    summary
        .findings
        .iter()
        .find(|f| f.clause == clause)
        .unwrap_or_else(|| panic!("no finding for {clause}:\n{}", fuzz_summary(summary)))
}

#[tokio::test]
async fn a_500_on_an_encoded_id_is_caught_shrunk_and_replayable() {
    let (spec, _stub, target, summary) = fuzz_deviant(Deviation::ServerErrorOnEncodedId, 11).await;
    let f = finding(&summary, "RUT-STATUS-02");
    assert_eq!(f.seed, 11);
    assert!(f.verdict.violates("RUT-STATUS-02"));
    assert_eq!(f.verdict.violations[0].evidence.status, 500);
    // Shrunk: a short URL whose one odd segment holds a percent-encoded character.
    assert!(f.url.len() < 200, "not shrunk: {}", f.url);
    assert!(f.url.contains('%'), "{}", f.url);
    assert!(f.curl.starts_with("curl -sS -i -X PUT '"), "{}", f.curl);
    assert!(f.curl.contains(&f.url), "{}", f.curl);
    assert!(
        !f.curl.contains(STUB_TOKEN),
        "the cURL line carries a placeholder, not the token"
    );
    // On the console, a finding of the built-in stub points at `replay` (its port is gone
    // with the run); the cURL line stays in the finding and the reports.
    let rendered = fuzz_summary(&summary);
    assert!(
        rendered.contains("seed 11")
            && !rendered.contains(&f.curl)
            && rendered.contains("`replay`, below, starts one of its own"),
        "{rendered}"
    );

    // The finding survives a round trip through its file, and replays.
    let dir = std::env::temp_dir().join(format!("css-conformance-findings-{}", std::process::id()));
    let file = f.save(&dir).unwrap();
    let loaded = Finding::load(&file).unwrap();
    assert_eq!(&loaded, f);
    let Replay::Judged { verdict, .. } = fuzz::replay(&spec, &target, &loaded).await.unwrap()
    else {
        panic!("the case needs no failed task")
    };
    assert!(
        verdict.violates("RUT-STATUS-02"),
        "replay reproduces it: {verdict}"
    );

    // Against a conforming server the same case conforms.
    let (_ok_stub, ok_target) =
        targets::stub_target(Arc::clone(&spec), None, AuthMethod::Token).await;
    let Replay::Judged { verdict, .. } = fuzz::replay(&spec, &ok_target, &loaded).await.unwrap()
    else {
        panic!("the case needs no failed task")
    };
    assert!(verdict.passed(), "{verdict}");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_200_for_a_repeated_retry_mode_is_caught_and_shrunk() {
    let (_spec, _stub, _target, summary) = fuzz_deviant(Deviation::AcceptsAnyRetryMode, 5).await;
    let f = finding(&summary, "RUT-QUERY-05");
    assert_eq!(
        f.draft.retry_mode.len(),
        2,
        "shrunk to two values: {:?}",
        f.draft.retry_mode
    );
    assert!(
        f.url.contains("retry_mode=") && f.url.matches("retry_mode=").count() == 2,
        "{}",
        f.url
    );
    assert_eq!(f.verdict.violations[0].evidence.status, 200);
    assert!(finding(&summary, "RUT-QUERY-03").draft.retry_mode.len() == 1);
}

#[tokio::test]
async fn shrinking_keeps_within_its_budget_shared_among_the_findings() {
    let spec = Arc::new(Spec::embedded());
    let steps = |summary: &fuzz::Summary| -> Vec<u32> {
        summary.findings.iter().map(|f| f.shrink_steps).collect()
    };
    let mut runs = Vec::new();
    for budget in [fuzz::SHRINK_BUDGET, 30, 0] {
        let (_stub, target) = targets::stub_target(
            Arc::clone(&spec),
            Some(Deviation::AcceptsAnyRetryMode),
            AuthMethod::Token,
        )
        .await;
        let options = fuzz::FuzzOptions {
            cases: 300,
            seed: 3,
            shrink_budget: budget,
            ..fuzz::FuzzOptions::default()
        };
        let summary = fuzz::run(&spec, &target, &options)
            .await
            .expect("the cases are made");
        // The same cases fail whatever the budget: QUERY-03, -04 and -05.
        assert_eq!(summary.findings.len(), 3, "{}", fuzz_summary(&summary));
        for f in &summary.findings {
            assert!(f.verdict.violates(&f.clause), "{}", fuzz_summary(&summary));
            assert!(f.curl.starts_with("curl "), "{}", f.curl);
        }
        runs.push(steps(&summary));
    }
    let total = |s: &Vec<u32>| s.iter().sum::<u32>();
    // With the default budget, shrinking takes more than 30 requests here (17, 47 and 28
    // steps: each candidate is sent once, however often shrinking comes back to it; 83, 186
    // and 102 when candidates were sent again), so 30 is what limits it.
    assert!(total(&runs[0]) > 60, "{runs:?}");
    assert!(total(&runs[1]) <= 30, "{runs:?}");
    // Shared: no finding takes the whole budget when others are waiting (30 / 3, and what
    // the ones before left over).
    assert!(runs[1][0] <= 10, "{runs:?}");
    assert_eq!(runs[2], [0, 0, 0], "a budget of 0 shrinks nothing");
}

#[tokio::test]
async fn a_conforming_stub_gives_no_findings() {
    let spec = Arc::new(Spec::embedded());
    let (_stub, target) = targets::stub_target(Arc::clone(&spec), None, AuthMethod::Token).await;
    let options = fuzz::FuzzOptions {
        cases: 1000,
        seed: 3,
        ..fuzz::FuzzOptions::default()
    };
    let summary = fuzz::run(&spec, &target, &options)
        .await
        .expect("the cases are made");
    assert!(summary.findings.is_empty(), "{}", fuzz_summary(&summary));
    assert_eq!(summary.judged, 1000);
}

#[test]
fn a_file_that_is_not_a_finding_is_named() {
    let file = std::env::temp_dir().join(format!("not-a-finding-{}.json", std::process::id()));
    std::fs::write(&file, "{\"clause\": 3}\n").unwrap();
    let err = Finding::load(&file).unwrap_err().to_string();
    assert!(err.starts_with(&file.display().to_string()), "{err}");
    assert!(err.contains("not a finding"), "{err}");
    std::fs::remove_file(file).ok();
}

/// The replay command a run prints, run as printed, reaches the same target: the built-in stub
/// with the deviation the finding was found on (not a conforming one), and the finding file
/// is where the printed path says, under `--report-dir` for `check`.
#[test]
fn the_printed_replay_command_reproduces_as_printed() {
    let exe = env!("CARGO_BIN_EXE_css-conformance");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("replay-as-printed");
    let _ = std::fs::remove_dir_all(&dir);
    let runs: [Vec<String>; 2] = [
        vec![
            "fuzz".into(),
            "--cases".into(),
            "300".into(),
            "--findings-dir".into(),
            dir.join("fuzz-findings").display().to_string(),
        ],
        vec![
            "check".into(),
            "--quiet".into(),
            "--report-dir".into(),
            dir.join("reports").display().to_string(),
        ],
    ];
    for args in runs {
        let output = std::process::Command::new(exe)
            .args(&args)
            .args([
                "--seed",
                "4",
                "--stub-deviation",
                "accepts-upper-case-abort",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let line = stdout
            .lines()
            .find(|l| l.contains("replay RUT-QUERY-03: css-conformance replay "))
            .unwrap_or_else(|| panic!("{args:?}: no replay line:\n{stdout}"));
        // The file, then the flags that name the target again.
        let printed: Vec<&str> = line
            .rsplit_once("css-conformance replay ")
            .unwrap()
            .1
            .split(' ')
            .collect();
        let file = printed[0];
        assert!(std::path::Path::new(file).is_file(), "{file}");
        if args[0] == "check" {
            assert!(
                file.starts_with(&dir.join("reports").display().to_string()),
                "{file}"
            );
        }
        let replay = std::process::Command::new(exe)
            .arg("replay")
            .args(&printed)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&replay.stdout);
        assert_eq!(replay.status.code(), Some(1), "{args:?}: {said}");
        assert!(said.contains("RUT-QUERY-03 is still violated"), "{said}");
        assert!(said.contains("accepts-upper-case-abort"), "{said}");
    }
}

/// What the fuzzer says it sent is what the server received; answers taken from the memory of
/// refusals are counted apart (they are not requests).
#[tokio::test]
async fn the_fuzzer_counts_what_it_sent_apart_from_what_it_remembered() {
    use css_conformance::fixtures::Fixtures;
    use css_conformance::secret::Secret;
    use css_conformance::transport::target::Auth;
    let spec = Arc::new(Spec::embedded());
    let mut fixtures = Fixtures::builtin();
    fixtures.generated_failed_tasks = false;
    let stub = Stub::builder()
        .spec(Arc::clone(&spec))
        .fixtures(fixtures.clone())
        .watching(true)
        .start()
        .await;
    // A live-like target: refusals are remembered and not sent again.
    let target = Target::new(
        "live-like",
        &stub.base_url(),
        Auth::Token(Secret::new(STUB_TOKEN)),
        fixtures,
    )
    .unwrap();
    let options = fuzz::FuzzOptions {
        cases: 400,
        seed: 2,
        mutations: false,
        ..fuzz::FuzzOptions::default()
    };
    let summary = fuzz::run(&spec, &target, &options)
        .await
        .expect("the cases are made");
    let received = stub.client_summary().requests;
    assert_eq!(summary.sent, received, "{summary:?}");
    assert!(summary.from_memory > 0, "{summary:?}");
    assert_eq!(summary.sent + summary.from_memory, summary.judged);
    assert!(fuzz_summary(&summary).contains(&format!("{} requests sent", received)));
}
