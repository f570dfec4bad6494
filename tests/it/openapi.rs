//! `spec openapi` stays in step with `spec/`: the document parses as OpenAPI 3.0 and says
//! what the spec says, and it changes when the spec does (it is derived, not a copy).

use openapiv3::{OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, SchemaKind, Type};

use css_conformance::contract::openapi;
use css_conformance::contract::spec::{Spec, StatusCode};

fn parse(spec: &Spec) -> OpenAPI {
    serde_json::from_value(openapi::document(spec)).expect("a valid OpenAPI 3.0 document")
}

fn string_schema(p: &openapiv3::ParameterData) -> &openapiv3::StringType {
    let ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) = &p.format else {
        panic!("{}: an inline schema", p.name)
    };
    let SchemaKind::Type(Type::String(s)) = &schema.schema_kind else {
        panic!("{}: a string", p.name)
    };
    s
}

#[test]
fn the_document_says_what_the_spec_says() {
    let spec = Spec::embedded();
    let doc = parse(&spec);
    assert_eq!(doc.openapi, "3.0.3");
    let ReferenceOr::Item(item) = &doc.paths.paths[&spec.operation.path] else {
        panic!("the path is inline")
    };
    let op = item.put.as_ref().expect("the operation is a PUT");
    assert_eq!(op.operation_id.as_deref(), Some(spec.operation.id.as_str()));

    let params: Vec<&Parameter> = op
        .parameters
        .iter()
        .map(|p| match p {
            ReferenceOr::Item(p) => p,
            ReferenceOr::Reference { .. } => panic!("inline parameters"),
        })
        .collect();
    for declared in &spec.path_parameters {
        let p = params
            .iter()
            .find_map(|p| match p {
                Parameter::Path { parameter_data, .. } if parameter_data.name == declared.name => {
                    Some(parameter_data)
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("path parameter {}", declared.name));
        assert!(p.required);
        assert_eq!(
            string_schema(p).pattern.as_deref(),
            Some(declared.observed_format.as_str())
        );
    }
    let retry_mode = params
        .iter()
        .find_map(|p| match p {
            Parameter::Query { parameter_data, .. } => Some(parameter_data),
            _ => None,
        })
        .expect("the query parameter");
    assert_eq!(retry_mode.name, "retry_mode");
    assert!(!retry_mode.required);
    let allowed: Vec<String> = string_schema(retry_mode)
        .enumeration
        .iter()
        .flatten()
        .cloned()
        .collect();
    assert_eq!(allowed, spec.retry_mode().allowed_values);

    let mut codes: Vec<String> = op
        .responses
        .responses
        .keys()
        .map(|c| c.to_string())
        .collect();
    codes.sort();
    let mut documented: Vec<String> = spec
        .status_codes
        .iter()
        .map(|s| s.code.to_string())
        .collect();
    documented.sort();
    assert_eq!(codes, documented);
    for (code, response) in &op.responses.responses {
        let ReferenceOr::Item(response) = response else {
            panic!("inline responses")
        };
        if code.to_string() == "200" {
            assert!(response.content.is_empty(), "200 carries no body");
        } else {
            let media = &response.content[&spec.error_body.content_type];
            let Some(ReferenceOr::Reference { reference }) = &media.schema else {
                panic!("{code}: the error body by reference")
            };
            assert_eq!(reference, "#/components/schemas/ErrorBody");
        }
    }
    let components = doc.components.expect("components");
    let ReferenceOr::Item(error_body) = &components.schemas["ErrorBody"] else {
        panic!("ErrorBody inline")
    };
    let SchemaKind::Type(Type::Object(object)) = &error_body.schema_kind else {
        panic!("ErrorBody is an object")
    };
    assert_eq!(object.required, spec.error_body.fields);
    let mut schemes: Vec<&String> = components.security_schemes.keys().collect();
    schemes.sort();
    assert_eq!(schemes, ["aksk", "token"]);
}

#[test]
fn the_document_follows_a_change_to_the_spec() {
    let mut spec = Spec::embedded();
    spec.status_codes.push(StatusCode {
        code: 409,
        meaning: "Conflict.".to_owned(),
        client_may_repeat: false,
    });
    spec.query_parameters[0]
        .allowed_values
        .push("skip".to_owned());
    let doc = parse(&spec);
    let ReferenceOr::Item(item) = &doc.paths.paths[&spec.operation.path] else {
        panic!()
    };
    let op = item.put.as_ref().unwrap();
    assert!(
        op.responses
            .responses
            .keys()
            .any(|c| c.to_string() == "409")
    );
    let json = serde_json::to_string(&openapi::document(&spec)).unwrap();
    assert!(json.contains("\"skip\""));
}

#[test]
fn spec_lint_passes_the_shipped_spec_and_names_the_line_of_a_broken_one() {
    let exe = env!("CARGO_BIN_EXE_css-conformance");
    let ok = std::process::Command::new(exe)
        .args(["spec", "lint"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("cover every clause"));

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("spec/retry_upgrade_task.yaml")).unwrap();
    let broken = text.replacen("client_may_repeat: false", "client_may_repeat: perhaps", 1);
    let line = broken.lines().position(|l| l.contains("perhaps")).unwrap() + 1;
    let file = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("broken-spec.yaml");
    std::fs::write(&file, broken).unwrap();
    let bad = std::process::Command::new(exe)
        .args(["spec", "lint", "--spec"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("broken-spec.yaml:{line}:")), "{err}");
}

/// The action_id examples name distinct failed tasks of the built-in stub, so that a tool's
/// positive tests (one per explicit example) are each accepted, not all fighting over the
/// one task the page names.
#[test]
fn the_task_examples_are_distinct_failed_tasks_of_the_stub() {
    use css_conformance::fixtures::Fixtures;
    use css_conformance::servers::stub::{Incoming, Responder, STUB_TOKEN, stub_keys};
    let spec = std::sync::Arc::new(Spec::embedded());
    let doc = openapi::document(&spec);
    let parameters = doc["paths"][&spec.operation.path]["put"]["parameters"]
        .as_array()
        .unwrap();
    let action = parameters
        .iter()
        .find(|p| p["name"] == "action_id")
        .unwrap();
    let values: Vec<&str> = action["examples"]
        .as_object()
        .expect("examples")
        .values()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    let distinct: std::collections::BTreeSet<&&str> = values.iter().collect();
    assert_eq!(distinct.len(), values.len());
    assert!(values.len() > 10, "{values:?}");

    let f = Fixtures::builtin();
    let stub = Responder::new(
        std::sync::Arc::clone(&spec),
        &f,
        &stub_keys(),
        Default::default(),
    );
    let headers = [("X-Auth-Token".to_owned(), STUB_TOKEN.to_owned())];
    for task in values {
        let path = format!(
            "/v1.0/{}/clusters/{}/upgrade/{task}/retry",
            f.project_id, f.cluster_id
        );
        let incoming = Incoming {
            method: "PUT",
            target: &path,
            headers: &headers,
            body: b"",
        };
        assert_eq!(stub.answer(&incoming).0.status, 200, "{task}");
    }
}
