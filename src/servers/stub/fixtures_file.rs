//! The fixtures file of `css-conformance stub --fixtures FILE`.

use crate::contract::spec::{IdParam, Spec};
use crate::file_error::{FileError, line_of};
use crate::fixtures::Fixtures;
use crate::secret::Secret;

use super::keys::Keys;

/// The fixtures file of `css-conformance stub --fixtures FILE`: what the stub serves and
/// accepts. Every key is optional; a missing one keeps the built-in stub's value.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FixturesFile {
    project_id: Option<String>,
    cluster_id: Option<String>,
    failed_action_ids: Option<Vec<String>>,
    not_failed_action_id: Option<String>,
    token: Option<String>,
    access_key: Option<String>,
    secret_key: Option<String>,
}

/// Reads a fixtures file over the built-in stub's fixtures and credentials; every ID must be
/// of the format the spec observed for its parameter, or the stub would take it as malformed.
pub fn load_fixtures(
    file: &std::path::Path,
    spec: &Spec,
    mut fixtures: Fixtures,
    mut credentials: Keys,
) -> Result<(Fixtures, Keys), FileError> {
    let text = std::fs::read_to_string(file).map_err(|reason| FileError::Read {
        file: file.to_owned(),
        reason,
    })?;
    let given: FixturesFile = if text.trim().is_empty() {
        FixturesFile::default()
    } else {
        crate::file_error::from_yaml(file, &text)?
    };
    let check = |key: &str, param: IdParam, value: &str| {
        let fits = spec
            .observed_format(param.name())
            .is_some_and(|re| re.is_match(value));
        if fits {
            return Ok(());
        }
        let format = spec
            .path_parameter(param.name())
            .map_or("", |p| p.observed_format.as_str());
        Err(FileError::Invalid {
            file: file.to_owned(),
            line: line_of(&text, value, 0),
            key: key.to_owned(),
            message: format!(
                "`{value}` is not of the format {format}; the stub would take it for a malformed {param}"
            ),
        })
    };
    if let Some(v) = given.project_id {
        check("project_id", IdParam::Project, &v)?;
        fixtures.project_id = v;
    }
    if let Some(v) = given.cluster_id {
        check("cluster_id", IdParam::Cluster, &v)?;
        fixtures.cluster_id = v;
    }
    if let Some(ids) = given.failed_action_ids {
        for v in &ids {
            check("failed_action_ids", IdParam::Action, v)?;
        }
        fixtures.failed_action_ids = ids;
    }
    if let Some(v) = given.not_failed_action_id {
        check("not_failed_action_id", IdParam::Action, &v)?;
        fixtures.not_failed_action_id = Some(v);
    }
    if let Some(v) = given.token {
        credentials.token = Secret::new(v);
    }
    if let Some(v) = given.access_key {
        credentials.access_key = v;
    }
    if let Some(v) = given.secret_key {
        credentials.secret_key = Secret::new(v);
    }
    Ok((fixtures, credentials))
}
