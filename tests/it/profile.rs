//! Target profiles: the shipped examples load; mistakes are reported with file, line and key;
//! flags win over the environment, which wins over the file; secrets come only from the
//! environment variables a profile names.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use css_conformance::config::profile::{AuthMethod, Profile, ProfileError};
use css_conformance::contract::spec::Spec;
use css_conformance::file_error::FileError;
use css_conformance::fixtures::Fixtures;
use css_conformance::servers::stub::STUB_TOKEN;
use css_conformance::servers::stub::Stub;
use css_conformance::settings::{KeyType, SETTINGS};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("profiles");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn the_shipped_profiles_load_and_name_live_endpoints() {
    let spec = Spec::embedded();
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("profiles")).unwrap() {
        let file = entry.unwrap().path();
        let (profile, origins) =
            Profile::load(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        profile.check_against(&spec, &origins).unwrap();
        let endpoint = profile.endpoint.as_deref().unwrap();
        assert!(endpoint.starts_with("https://css."), "{endpoint}");
        // No example IDs a user would check without noticing: the user gives theirs.
        assert!(
            profile.project_id.is_none() && profile.fixtures.cluster_id.is_none(),
            "{}",
            file.display()
        );
        assert!(
            profile
                .safety
                .max_requests_per_second
                .is_some_and(|r| r > 0.0)
        );
        assert!(!profile.safety.allow_mutations, "{}", file.display());
        seen += 1;
    }
    assert!(seen >= 3);
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let file = write(
        "unknown.yaml",
        "endpoint: https://css.eu-de.otc.t-systems.com\nsafety:\n  allow_mutations: false\n  max_rps: 2\n",
    );
    let err = Profile::load(&file).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ProfileError::File(FileError::Syntax { line: 4, .. })),
        "{text}"
    );
    assert!(text.contains("unknown field `max_rps`"), "{text}");
    assert!(
        text.contains("max_requests_per_second"),
        "the right key is suggested: {text}"
    );
}

#[test]
fn a_secret_in_the_profile_is_refused() {
    let file = write("secret.yaml", "auth: { method: token, token: MIIabc }\n");
    let err = Profile::load(&file).unwrap_err().to_string();
    assert!(err.contains("unknown field `token`"), "{err}");
    assert!(!err.contains("MIIabc"), "the value is not echoed: {err}");
}

#[test]
fn a_wrong_type_is_named_with_its_line() {
    let file = write(
        "types.yaml",
        "endpoint: https://example.test\ntimeouts:\n  connect_ms: soon\n",
    );
    let err = Profile::load(&file).unwrap_err();
    assert!(
        matches!(err, ProfileError::File(FileError::Syntax { line: 3, .. })),
        "{err}"
    );
    let file = write("method.yaml", "auth: { method: kerberos }\n");
    let err = Profile::load(&file).unwrap_err().to_string();
    assert!(err.contains("kerberos") && err.contains("token"), "{err}");
}

#[test]
fn an_expected_deviation_must_name_a_clause_of_the_spec() {
    let file = write(
        "deviations.yaml",
        "expected_deviations:\n  - { clause: RUT-NOPE-01, status: 401, reason: x }\n",
    );
    let (profile, origins) = Profile::load(&file).unwrap();
    let err = profile
        .check_against(&Spec::embedded(), &origins)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("deviations.yaml:1") && err.contains("RUT-NOPE-01"),
        "{err}"
    );
}

fn binary(args: &[&str], env: &[(&str, &str)]) -> Output {
    // Run where the default report directory is the tests' own, not the user's.
    Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .args(args)
        .env_remove("CSS_CONFORMANCE_TOKEN")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn an_unset_secret_variable_is_a_usage_error_naming_key_and_variable() {
    let file = root().join("profiles/otc-eu-de.yaml");
    let output = binary(
        &["check", "--profile", file.to_str().unwrap()],
        &[("CSS_CONFORMANCE_TOKEN", "")],
    );
    let text = text(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("otc-eu-de.yaml:"), "{text}");
    assert!(text.contains("auth.token_env"), "{text}");
    assert!(text.contains("CSS_CONFORMANCE_TOKEN"), "{text}");
    assert!(
        !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
        "{text}"
    );
}

#[test]
fn a_bad_flag_value_is_a_usage_error_naming_the_flag() {
    let output = binary(&["check", "--set", "timeouts.request_ms=later"], &[]);
    let text = text(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains(
            "--set timeouts.request_ms: key `timeouts.request_ms`: `later` is not a number"
        ),
        "{text}"
    );
}

/// Every setting that has a flag is set by it as its key: `profile init` given every flag
/// (a list flag twice) writes a profile that holds each value given. (clap's own checks of the
/// flags run in every debug build of the binary, this one included.)
#[test]
fn every_setting_with_a_flag_is_set_by_it_as_its_key() {
    let manifest = root().join("Cargo.toml");
    let mut args: Vec<String> = vec!["profile".into(), "init".into()];
    let mut expected = Vec::new();
    for s in SETTINGS {
        let Some(flag) = s.flag else { continue };
        let long = format!("--{}", flag.long);
        let (given, value): (Vec<String>, String) = match s.value {
            KeyType::Bool => (vec![], "true".into()),
            KeyType::Method => (vec!["aksk".into()], "aksk".into()),
            KeyType::Number => (vec!["2.5".into()], "2.5".into()),
            KeyType::Whole => (vec!["7".into()], "7".into()),
            KeyType::List => (vec!["a".into(), long.clone(), "b".into()], "a,b".into()),
            KeyType::Path => {
                let path = manifest.to_string_lossy().into_owned();
                (vec![path.clone()], path)
            }
            _ if s.key == "endpoint" => (
                vec!["https://css.example.com".into()],
                "https://css.example.com".into(),
            ),
            KeyType::Text | KeyType::Yaml => {
                (vec![format!("{}-v", flag.long)], format!("{}-v", flag.long))
            }
        };
        args.push(long);
        args.extend(given);
        expected.push((s.key, value));
    }
    assert!(expected.len() >= 10, "{expected:?}");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = binary(&args, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let written = String::from_utf8_lossy(&output.stdout);
    let profile: Profile = serde_yaml::from_str(&written).unwrap();
    for (key, value) in expected {
        assert_eq!(
            profile.value_text(key).as_deref(),
            Some(value.as_str()),
            "{key}\n{written}"
        );
    }
}

/// A flag given nothing sets nothing; a wrong value is refused naming the flag and its value.
#[test]
fn a_flag_given_nothing_sets_nothing_and_a_wrong_value_is_refused_by_name() {
    let output = binary(&["profile", "init"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let written = String::from_utf8_lossy(&output.stdout);
    let profile: Profile = serde_yaml::from_str(&written).unwrap();
    assert_eq!(profile, Profile::default(), "{written}");
    let output = binary(&["profile", "init", "--settle-ms", "soon"], &[]);
    let text = text(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("'--settle-ms <MS>'"), "{text}");
}

/// Fixtures given without an endpoint are the user's forgotten endpoint, not silence: the
/// built-in stub serves its own IDs, and the run says which of the user's it does not use.
#[test]
fn fixtures_without_an_endpoint_are_said_to_be_unused() {
    let output = binary(
        &[
            "fuzz",
            "--cases",
            "1",
            "--project-id",
            "0123456789abcdef0123456789abcdef",
            "--failed-action-id",
            "aaaaaaaa-0000-4000-8000-000000000003",
        ],
        &[],
    );
    let said = text(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("no endpoint is given"), "{said}");
    assert!(said.contains("`project_id` (--project-id)"), "{said}");
    assert!(
        said.contains("`fixtures.failed_action_ids` (--failed-action-id)"),
        "{said}"
    );
    // Nothing to say when no fixture is given.
    let quiet = binary(&["fuzz", "--cases", "1"], &[]);
    assert!(!text(&quiet).contains("not used"), "{}", text(&quiet));
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_win_over_the_environment_which_wins_over_the_file() {
    let spec = Arc::new(Spec::embedded());
    let fixtures = Fixtures::builtin();
    let stub = Stub::builder()
        .spec(Arc::clone(&spec))
        .fixtures(fixtures.clone())
        .start()
        .await;
    let file_endpoint = format!("http://127.0.0.1:{}", closed_port());
    let flag_endpoint = format!("http://127.0.0.1:{}", closed_port());
    let file = write(
        "layers.yaml",
        &format!(
            "endpoint: {file_endpoint}\nproject_id: {}\nfixtures: {{ cluster_id: {} }}\n\
             safety: {{ max_requests_per_second: 0 }}\nretries: {{ max: 0 }}\n",
            fixtures.project_id, fixtures.cluster_id
        ),
    );
    let base = [
        "check",
        "--fuzz-cases",
        "20",
        "--profile",
        file.to_str().unwrap(),
    ];
    let env = [
        ("CSS_CONFORMANCE_ENDPOINT", stub.base_url()),
        ("CSS_CONFORMANCE_TOKEN", STUB_TOKEN.to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // The environment's endpoint wins over the file's: a conforming server, exit 0.
    let output = binary(&base, &env);
    let out = text(&output);
    assert!(
        out.contains(&format!("Target: {}", stub.base_url())),
        "{out}"
    );
    assert_eq!(output.status.code(), Some(0), "{out}");

    // The flag wins over both.
    let mut args = base.to_vec();
    args.extend(["--endpoint", &flag_endpoint]);
    let output = binary(&args, &env);
    let out = text(&output);
    assert!(out.contains(&format!("Target: {flag_endpoint}")), "{out}");
}

#[test]
fn the_auth_method_defaults_to_a_token_from_css_conformance_token() {
    let p = Profile::default();
    assert_eq!(p.auth.method, AuthMethod::Token);
    assert_eq!(p.auth.token_env, "CSS_CONFORMANCE_TOKEN");
    assert!(!p.is_live(), "no endpoint: the built-in stub");
}
