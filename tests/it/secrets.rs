//! Keys never leak: whole `check` and `fuzz` runs against a server that accepts canary
//! credentials (a token, then an AK/SK pair), with findings to report; no canary secret
//! appears in any output or file.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use css_conformance::contract::spec::Spec;
use css_conformance::fixtures::Fixtures;
use css_conformance::secret::Secret;
use css_conformance::servers::stub::{Deviation, Keys, Stub};

const CANARY_TOKEN: &str = "canary-token-7f3a9c1e5b";
const CANARY_SK: &str = "canary-sk-0d4e8b2a61";
const CANARY_AK: &str = "AKCANARY00000000";

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// How the binary is told to authenticate, and the placeholder its cURL lines must show.
struct Auth {
    env: Vec<(&'static str, String)>,
    placeholder: &'static str,
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_credentials_appear_in_no_output() {
    let spec = Arc::new(Spec::embedded());
    let fixtures = Fixtures::builtin();
    let credentials = Keys {
        token: css_conformance::secret::Secret::new(CANARY_TOKEN),
        access_key: CANARY_AK.to_owned(),
        secret_key: Secret::new(CANARY_SK),
    };
    let out_dir =
        std::env::temp_dir().join(format!("css-conformance-canary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    // The AK/SK run reads its keys from the variables a profile names.
    let profile = out_dir.join("canary.yaml");
    std::fs::write(
        &profile,
        "auth: { method: aksk, ak_env: CANARY_AK, sk_env: CANARY_SK }\n\
         safety: { max_requests_per_second: 0 }\n",
    )
    .unwrap();
    let methods = [
        Auth {
            env: vec![("CSS_CONFORMANCE_TOKEN", CANARY_TOKEN.to_owned())],
            placeholder: "$CSS_CONFORMANCE_TOKEN",
        },
        Auth {
            env: vec![
                ("CANARY_AK", CANARY_AK.to_owned()),
                ("CANARY_SK", CANARY_SK.to_owned()),
            ],
            placeholder: "$CSS_CONFORMANCE_AUTHORIZATION",
        },
    ];
    let exe = env!("CARGO_BIN_EXE_css-conformance");
    let mut all = String::new();
    for (i, auth) in methods.iter().enumerate() {
        // A deviant server, so that findings, evidence and cURL lines are printed too.
        let stub = Stub::builder()
            .spec(Arc::clone(&spec))
            .fixtures(fixtures.clone())
            .keys(credentials.clone())
            .deviation(Some(Deviation::AcceptsAnyRetryMode))
            .start()
            .await;
        let run_dir = out_dir.join(format!("run{i}"));
        let mut console = String::new();
        for args in [
            vec!["check", "--allow-mutations", "--verbose", "--seed", "5"],
            vec!["fuzz", "--allow-mutations", "--cases", "300", "--seed", "5"],
        ] {
            let mut command = Command::new(exe);
            command
                .args(&args)
                .args(["--findings-dir", run_dir.join("findings").to_str().unwrap()]);
            if args[0] == "check" {
                command.args(["--junit", run_dir.join("junit.xml").to_str().unwrap()]);
                command.args(["--report-dir", run_dir.join("reports").to_str().unwrap()]);
            }
            if i == 1 {
                command.arg("--profile").arg(&profile);
            }
            let output = command
                .env("CSS_CONFORMANCE_ENDPOINT", stub.base_url())
                .env("CSS_CONFORMANCE_PROJECT_ID", &fixtures.project_id)
                .env("CSS_CONFORMANCE_FIXTURES_CLUSTER_ID", &fixtures.cluster_id)
                .env(
                    "CSS_CONFORMANCE_FIXTURES_FAILED_ACTION_IDS",
                    fixtures.failed_action_ids.join(","),
                )
                .env("CSS_CONFORMANCE_SAFETY_MAX_REQUESTS_PER_SECOND", "0")
                .envs(auth.env.iter().map(|(k, v)| (*k, v.as_str())))
                .env("RUST_LOG", "trace")
                .env("RUST_BACKTRACE", "1")
                .output()
                .expect("the binary runs");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(
                output.status.code(),
                Some(1),
                "the deviation is found: {args:?}\n{text}"
            );
            console.push_str(&text);
        }
        assert!(
            console.contains("FINDING RUT-QUERY-03"),
            "findings were reported:\n{console}"
        );
        assert!(
            console.contains(auth.placeholder),
            "cURL lines use the placeholder {}:\n{console}",
            auth.placeholder
        );
        all.push_str(&console);
    }
    for canary in [CANARY_TOKEN, CANARY_SK] {
        assert!(!all.contains(canary), "a secret leaked to the console");
    }
    let files = files_under(&out_dir);
    assert!(
        files.len() >= 4,
        "reports and findings were written: {files:?}"
    );
    for file in files.iter().filter(|f| **f != profile) {
        let text = std::fs::read_to_string(file).unwrap();
        for canary in [CANARY_TOKEN, CANARY_SK] {
            assert!(
                !text.contains(canary),
                "a secret leaked into {}",
                file.display()
            );
        }
    }
    std::fs::remove_dir_all(&out_dir).ok();
}
