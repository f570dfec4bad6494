//! Credentials never leak: a whole `check` and `fuzz` run against a server that accepts a
//! canary token, with findings to report, and the canary appears in no output and no file.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use css_conformance::fixtures::Fixtures;
use css_conformance::spec::Spec;
use css_conformance::stub::{Credentials, Deviation, Stub};
use css_conformance::target::Secret;

const CANARY_TOKEN: &str = "canary-token-7f3a9c1e5b";
const CANARY_SK: &str = "canary-sk-0d4e8b2a61";

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

#[tokio::test(flavor = "multi_thread")]
async fn canary_credentials_appear_in_no_output() {
    let spec = Arc::new(Spec::embedded());
    let fixtures = Fixtures::builtin();
    let credentials = Credentials {
        token: CANARY_TOKEN.to_owned(),
        access_key: "AKCANARY".to_owned(),
        secret_key: Secret::new(CANARY_SK),
    };
    // A deviant server, so that findings, evidence and cURL lines are printed too.
    let stub = Stub::start(
        Arc::clone(&spec),
        &fixtures,
        &credentials,
        Some(Deviation::AcceptsAnyRetryMode),
    )
    .await;
    let out_dir =
        std::env::temp_dir().join(format!("css-conformance-canary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let exe = env!("CARGO_BIN_EXE_css-conformance");
    let mut all = String::new();
    for args in [
        vec!["check", "--allow-mutations", "--verbose", "--seed", "5"],
        vec!["fuzz", "--allow-mutations", "--cases", "300", "--seed", "5"],
    ] {
        let output = Command::new(exe)
            .args(&args)
            .args(["--findings-dir", out_dir.join("findings").to_str().unwrap()])
            .args(if args[0] == "check" {
                vec!["--junit", out_dir.join("junit.xml").to_str().unwrap()]
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            } else {
                Vec::new()
            })
            .env("CSS_CONFORMANCE_ENDPOINT", stub.base_url())
            .env("CSS_CONFORMANCE_TOKEN", CANARY_TOKEN)
            .env("CSS_CONFORMANCE_PROJECT_ID", &fixtures.project_id)
            .env("CSS_CONFORMANCE_CLUSTER_ID", &fixtures.cluster_id)
            .env(
                "CSS_CONFORMANCE_FAILED_ACTION_IDS",
                fixtures.failed_action_ids.join(","),
            )
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .output()
            .expect("the binary runs");
        assert_eq!(
            output.status.code(),
            Some(1),
            "the deviation is found: {args:?}"
        );
        all.push_str(&String::from_utf8_lossy(&output.stdout));
        all.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    assert!(
        all.contains("FINDING RUT-QUERY-03"),
        "findings were reported:\n{all}"
    );
    assert!(
        all.contains("$CSS_CONFORMANCE_TOKEN"),
        "cURL lines use the placeholder"
    );
    assert!(
        !all.contains(CANARY_TOKEN),
        "the token leaked to the console"
    );
    let files = files_under(&out_dir);
    assert!(
        files.len() >= 2,
        "reports and findings were written: {files:?}"
    );
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains(CANARY_TOKEN),
            "the token leaked into {}",
            file.display()
        );
        assert!(
            !text.contains(CANARY_SK),
            "the SK leaked into {}",
            file.display()
        );
    }
    std::fs::remove_dir_all(&out_dir).ok();
}
