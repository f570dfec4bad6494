//! Loading the contract: a broken spec file is reported with its file, line and key.

use std::path::Path;

use css_conformance::contract::spec::{EMBEDDED, Spec, SpecError};

fn broken(edit: impl Fn(&str) -> String) -> SpecError {
    let text = edit(EMBEDDED);
    Spec::parse(&text, Path::new("spec/broken.yaml")).expect_err("the edit breaks the spec")
}

fn line_of(needle: &str) -> usize {
    EMBEDDED.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_shipped_spec_file_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = Spec::load(&root.join("spec/retry_upgrade_task.yaml")).unwrap();
    assert_eq!(
        spec.operation.path,
        "/v1.0/{project_id}/clusters/{cluster_id}/upgrade/{action_id}/retry"
    );
    assert_eq!(spec.retry_mode().allowed_values, ["abort"]);
    let codes: Vec<u16> = spec.status_codes.iter().map(|s| s.code).collect();
    assert_eq!(codes, [200, 400, 403]);
}

#[test]
fn an_unknown_key_names_file_line_and_key() {
    let err = broken(|t| t.replacen("  method: PUT", "  method: PUT\n  verb: PUT", 1));
    let line = line_of("  method: PUT") + 1;
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("spec/broken.yaml:{line}:")),
        "{msg}"
    );
    assert!(msg.contains("unknown field `verb`"), "{msg}");
}

#[test]
fn a_yaml_syntax_error_names_file_and_line() {
    let err = broken(|t| t.replacen("  title: Retrying", "  title: [Retrying", 1));
    let msg = err.to_string();
    assert!(matches!(err, SpecError::Syntax { .. }), "{msg}");
    assert!(msg.starts_with("spec/broken.yaml:"), "{msg}");
}

#[test]
fn a_wrong_type_names_the_key() {
    let err = broken(|t| t.replacen("  - code: 200", "  - code: two hundred", 1));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(":{}:", line_of("  - code: 200"))),
        "{msg}"
    );
    assert!(msg.contains("status_codes[0].code"), "{msg}");
}

#[test]
fn a_template_placeholder_without_a_parameter_is_rejected() {
    let err = broken(|t| t.replacen("/upgrade/{action_id}/retry", "/upgrade/{task_id}/retry", 1));
    let msg = err.to_string();
    assert_eq!(
        msg,
        format!(
            "spec/broken.yaml:{}: key `operation.path`: `{{task_id}}` is not a declared path parameter",
            line_of("  path: /v1.0")
        )
    );
}

#[test]
fn a_duplicate_clause_id_points_at_the_second_one() {
    let err = broken(|t| t.replacen("  - id: RUT-QUERY-02", "  - id: RUT-QUERY-01", 1));
    let msg = err.to_string();
    assert_eq!(
        msg,
        format!(
            "spec/broken.yaml:{}: key `clauses.id`: clause `RUT-QUERY-01` is declared twice",
            line_of("  - id: RUT-QUERY-02")
        )
    );
}

#[test]
fn an_expectation_naming_an_undeclared_clause_is_rejected() {
    let err = broken(|t| t.replacen("answered_by: RUT-QUERY-01", "answered_by: RUT-QUERY-77", 1));
    let msg = err.to_string();
    assert!(msg.contains("key `expectations`"), "{msg}");
    assert!(msg.contains("RUT-QUERY-77"), "{msg}");
    assert!(
        msg.contains(&format!(":{}:", line_of("kind: retry"))),
        "{msg}"
    );
}

#[test]
fn a_clause_that_nothing_judges_is_rejected() {
    let err = broken(|t| {
        t.replacen(
            "\n# The client's side of the contract",
            "  - id: RUT-QUERY-09\n    level: MUST\n    section: x\n    statement: y\n\n# The client's side of the contract",
            1,
        )
    });
    let msg = err.to_string();
    assert!(
        msg.contains("clause `RUT-QUERY-09` is named by no rule and no expectation"),
        "{msg}"
    );
}

#[test]
fn a_client_clause_that_no_client_rule_names_is_rejected() {
    let err = broken(|t| {
        format!("{t}  - id: RUT-CLIENT-09\n    level: MUST\n    section: x\n    statement: y\n")
    });
    let msg = err.to_string();
    assert!(msg.contains("key `client_clauses.id`"), "{msg}");
    assert!(
        msg.contains("client clause `RUT-CLIENT-09` is named by no client rule"),
        "{msg}"
    );
    let err = broken(|t| {
        t.replacen(
            "retry_mode_allowed: RUT-CLIENT-01",
            "retry_mode_allowed: RUT-QUERY-01",
            1,
        )
    });
    assert!(
        err.to_string()
            .contains("names clause `RUT-QUERY-01`, which is not a client clause"),
        "{err}"
    );
}

#[test]
fn an_unreadable_file_is_named() {
    let err = Spec::load(Path::new("spec/does-not-exist.yaml")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("spec/does-not-exist.yaml: cannot read"),
        "{err}"
    );
}
