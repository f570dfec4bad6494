//! Target profiles: which endpoint to check, as whom, with which fixture IDs, and how politely.
//! A profile is YAML (`--profile FILE`); every key can also be set by an environment variable
//! named after it (`safety.max_requests_per_second` -> `CSS_CONFORMANCE_SAFETY_MAX_REQUESTS_PER_SECOND`)
//! and by `--set KEY=VALUE`; flags win over the environment, which wins over the file.
//! Secrets never live in a profile: it names the environment variables that hold them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_yaml::Value;

pub use crate::config::auth::AuthMethod;
pub use crate::config::built_in::BUILT_IN;
use crate::config::built_in::built_in;
pub use crate::config::origins::{Also, Missing, Origins, ProfileError};
use crate::config::yaml_tree::{leaves_of, node_at, yaml_value};
use crate::contract::spec::Spec;
use crate::file_error::{FileError, yaml_error};
use crate::settings::{KeyType, Setting, setting};

use crate::secret::{NOT_A_VARIABLE, is_variable_name};
use crate::settings::options::PROFILE;

/// A target profile, as read from YAML and overridden by the environment and flags.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The base URL of the service; absent: the built-in stub.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The project the credentials act on.
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default)]
    pub fixtures: FixtureSettings,
    #[serde(default)]
    pub safety: Safety,
    #[serde(default)]
    pub timeouts: Timeouts,
    #[serde(default)]
    pub tls: Tls,
    #[serde(default)]
    pub retries: Retries,
    /// Deviations the target is known to have: reported as XFAIL, or XPASS once gone.
    #[serde(default)]
    pub expected_deviations: Vec<ExpectedDeviation>,
    /// Whether the target serves the read API (`GET .../upgrade/detail`): a task's status is
    /// then read before and after each request on it, which pins the request that acted.
    #[serde(default)]
    pub read_api: bool,
    /// The most pages of one listing the read API is read for a task (unset:
    /// `READ_API_PAGES`); reaching it is said, never taken for "not listed".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_api_pages: Option<u32>,
}

/// The pages of a listing read for a task when the profile sets none.
pub const READ_API_PAGES: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    pub method: AuthMethod,
    /// The environment variable holding the token.
    pub token_env: String,
    /// The environment variables holding the access key and the secret key.
    pub ak_env: String,
    pub sk_env: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            method: AuthMethod::Token,
            token_env: DEFAULT_TOKEN_ENV.to_owned(),
            ak_env: "CLOUD_SDK_AK".to_owned(),
            sk_env: "CLOUD_SDK_SK".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FixtureSettings {
    pub cluster_id: Option<String>,
    /// Tasks in the FAILED state that mutating scenarios may consume, one each.
    pub failed_action_ids: Vec<String>,
    /// A task that exists and is not failed (EXTENDED clauses).
    pub not_failed_action_id: Option<String>,
    /// A project these credentials may not act on.
    pub foreign_project_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Safety {
    /// Whether scenarios and fuzz cases may retry and abort the listed failed tasks.
    pub allow_mutations: bool,
    /// The most requests per second sent to the endpoint (0: no limit; unset:
    /// `LIVE_MAX_REQUESTS_PER_SECOND`, or no limit for an endpoint on this machine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests_per_second: Option<f64>,
}

/// The slowest and the fastest rate a profile may set (requests per second): one every 1,000 s
/// at the slowest; a faster one is no limit at all.
pub(crate) const MIN_RATE: f64 = 0.001;
pub(crate) const MAX_RATE: f64 = 1_000_000.0;

/// The rate sent to an endpoint of another machine when the profile sets none: polite to a
/// production cloud. An endpoint on this machine (a stub, a local implementation) is not
/// limited unless the profile says so.
pub const LIVE_MAX_REQUESTS_PER_SECOND: f64 = 5.0;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    pub connect_ms: u64,
    pub request_ms: u64,
    /// How long a retry or abort may take to land on a task (unset: 3000 for a live
    /// endpoint, 0 for the built-in stub).
    pub settle_ms: Option<u64>,
}

/// The settle period of a live endpoint when the profile sets none: a cloud applies a retry
/// or abort through a workflow, seconds later.
pub(crate) const LIVE_SETTLE_MS: u64 = 3_000;

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect_ms: 3_000,
            request_ms: 15_000,
            settle_ms: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tls {
    /// PEM certificates to trust besides the system's (relative paths: from the profile).
    pub ca_bundle: Option<PathBuf>,
    /// Accept any certificate. Only for test servers; the tool warns when it is on.
    pub insecure: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retries {
    /// How often a request that met a network error or a 5xx is sent again.
    pub max: u32,
    /// The first wait before a retry; it doubles with each.
    pub backoff_ms: u64,
    /// The longest `Retry-After` of a 429 that is waited for (longer: the 429 stands).
    pub max_retry_after_s: u64,
}

impl Default for Retries {
    fn default() -> Self {
        Retries {
            max: 2,
            backoff_ms: 500,
            max_retry_after_s: 60,
        }
    }
}

/// A deviation the target is known to have.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedDeviation {
    /// The clause the target violates.
    pub clause: String,
    /// The status it answers with, if the entry is that specific.
    #[serde(default)]
    pub status: Option<u16>,
    /// The error code it answers with, if the entry is that specific.
    #[serde(default)]
    pub error_code: Option<String>,
    /// Why it is accepted for now (a ticket, a vendor statement).
    pub reason: String,
}

impl ExpectedDeviation {
    /// Whether a violation of `clause` with this status and error code is this deviation.
    pub fn matches(&self, clause: &str, status: u16, error_code: Option<&str>) -> bool {
        self.clause == clause
            && self.status.is_none_or(|s| s == status)
            && self
                .error_code
                .as_deref()
                .is_none_or(|c| Some(c) == error_code)
    }
}

impl Profile {
    /// Reads a profile: a file, or else one of the built-in profiles by name.
    pub fn load(file: &Path) -> Result<(Profile, Origins), ProfileError> {
        let name = file.to_string_lossy();
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(reason) if reason.kind() == std::io::ErrorKind::NotFound => {
                let Some(text) = built_in(&name) else {
                    let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                    return Err(FileError::Read {
                        file: file.to_owned(),
                        reason: std::io::Error::new(
                            reason.kind(),
                            format!(
                                "no such file, nor a built-in profile ({})",
                                names.join(", ")
                            ),
                        ),
                    }
                    .into());
                };
                let shown = PathBuf::from(format!("{name} (built in)"));
                let profile = Profile::parse(text, &shown)?;
                let origins = Origins {
                    file: Some((shown, text.to_owned())),
                    overridden: BTreeMap::new(),
                };
                return Ok((profile, origins));
            }
            Err(reason) => {
                return Err(FileError::Read {
                    file: file.to_owned(),
                    reason,
                }
                .into());
            }
        };
        let mut profile = Profile::parse(&text, file)?;
        // A CA bundle is found beside the profile that names it.
        if let (Some(bundle), Some(dir)) = (&profile.tls.ca_bundle, file.parent())
            && bundle.is_relative()
        {
            profile.tls.ca_bundle = Some(dir.join(bundle));
        }
        let origins = Origins {
            file: Some((file.to_owned(), text)),
            overridden: BTreeMap::new(),
        };
        Ok((profile, origins))
    }

    /// A profile's YAML, read from `file` (for messages).
    fn parse(text: &str, file: &Path) -> Result<Profile, FileError> {
        // An empty file would silently check the built-in stub: it is more likely a mistake.
        let only_comments = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if only_comments {
            return Err(FileError::Invalid {
                file: file.to_owned(),
                line: 1,
                key: "endpoint".to_owned(),
                message: format!(
                    "the profile is empty: give at least `endpoint` (or leave out {PROFILE} to check the built-in stub)"
                ),
            });
        }
        crate::file_error::from_yaml(file, text)
    }

    /// The defaults with the environment applied: the profile of a run without `--profile`.
    pub fn from_env() -> Result<(Profile, Origins), ProfileError> {
        let mut profile = Profile::default();
        let mut origins = Origins::default();
        profile.apply_env(&mut origins)?;
        Ok((profile, origins))
    }

    /// Applies every `CSS_CONFORMANCE_<KEY>` variable that is set.
    pub fn apply_env(&mut self, origins: &mut Origins) -> Result<(), ProfileError> {
        for key in in_model_order() {
            let var = key.env_var();
            match std::env::var(&var) {
                Ok(value) if !value.trim().is_empty() => {
                    self.set(key, value.trim(), &format!("environment variable {var}"))?;
                    origins
                        .overridden
                        .insert(key.key.to_owned(), format!("environment variable {var}"));
                }
                Ok(_) | Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(ProfileError::Invalid {
                        origin: format!("environment variable {var}"),
                        key: key.key.to_owned(),
                        message: "is not valid UTF-8".to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Applies `KEY=VALUE` as given to `--set` (or to a flag named `flag`).
    pub fn apply_flag(
        &mut self,
        origins: &mut Origins,
        path: &str,
        value: &str,
        flag: &str,
    ) -> Result<(), ProfileError> {
        let Some(key) = setting(path) else {
            return Err(ProfileError::Invalid {
                origin: flag.to_owned(),
                key: path.to_owned(),
                message: format!(
                    "no such key; the keys are: {}",
                    in_model_order()
                        .iter()
                        .map(|k| k.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        };
        self.set(key, value, flag)?;
        origins
            .overridden
            .insert(key.key.to_owned(), flag.to_owned());
        Ok(())
    }

    /// Sets one key from its string form, through the same typed model as the file.
    fn set(&mut self, key: &Setting, value: &str, origin: &str) -> Result<(), ProfileError> {
        let invalid = |message: String| ProfileError::Invalid {
            origin: origin.to_owned(),
            key: key.key.to_owned(),
            message,
        };
        let typed = match key.value {
            KeyType::Text | KeyType::Path | KeyType::Method => Value::String(value.to_owned()),
            KeyType::List => Value::Sequence(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ),
            KeyType::Bool => Value::Bool(match value.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => {
                    return Err(invalid(format!(
                        "`{value}` is not one of true, false, 1, 0, yes, no"
                    )));
                }
            }),
            KeyType::Number | KeyType::Whole => {
                let n: f64 = value
                    .parse()
                    .map_err(|_| invalid(format!("`{value}` is not a number")))?;
                if n.fract() == 0.0 && n >= 0.0 && n < u64::MAX as f64 {
                    Value::Number((n as u64).into())
                } else {
                    Value::Number(n.into())
                }
            }
            KeyType::Yaml => {
                if crate::file_error::too_deep(value).is_some() {
                    return Err(invalid(format!(
                        "nested more than {} deep",
                        crate::file_error::MAX_NESTING
                    )));
                }
                serde_yaml::from_str(value).map_err(|e| invalid(yaml_error(&e).2))?
            }
        };
        let mut tree = serde_yaml::to_value(&*self).map_err(|e| invalid(e.to_string()))?;
        let mut node = &mut tree;
        for part in key.key.split('.') {
            let Value::Mapping(map) = node else {
                unreachable!("profile keys nest in mappings")
            };
            node = map
                .entry(Value::String(part.to_owned()))
                .or_insert(Value::Null);
        }
        *node = typed;
        *self = serde_yaml::from_value(tree).map_err(|e| invalid(yaml_error(&e).2))?;
        Ok(())
    }

    /// The value of key `path` in the form `--set` takes (a list comma-separated), if the key
    /// holds one.
    pub fn value_text(&self, path: &str) -> Option<String> {
        let tree = serde_yaml::to_value(self).ok()?;
        match node_at(&tree, path)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Sequence(items) if items.iter().all(Value::is_string) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            other => serde_yaml::to_string(other).ok(),
        }
    }

    /// The profile as YAML, every key with a comment: the ones set with their values, the
    /// others commented out with their defaults (what `css-conformance profile init` writes).
    pub fn commented(&self, made_by: &str) -> String {
        let tree = serde_yaml::to_value(self).unwrap_or_default();
        let defaults = serde_yaml::to_value(Profile::default()).unwrap_or_default();
        let mut out = format!(
            "# A css-conformance target profile, written by `{made_by}`.\n# Secrets never go here: `auth` names the environment variables that hold them.\n"
        );
        let mut section = "";
        for key in in_model_order() {
            let (parent, leaf) = key.key.rsplit_once('.').unwrap_or(("", key.key));
            if parent != section {
                section = parent;
                if !parent.is_empty() {
                    out.push_str(&format!("{parent}:\n"));
                }
            }
            let indent = if parent.is_empty() { "" } else { "  " };
            let shown = |tree: &Value| node_at(tree, key.key).and_then(yaml_value);
            let (value, set) = match shown(&tree) {
                Some(v) => {
                    let differs = shown(&defaults).as_ref() != Some(&v);
                    let named = match self.auth.method {
                        AuthMethod::Token => key.key == "auth.token_env",
                        AuthMethod::Aksk => matches!(key.key, "auth.ak_env" | "auth.sk_env"),
                        AuthMethod::None => false,
                    };
                    let always = matches!(key.key, "endpoint" | "auth.method");
                    (v, differs || named || always)
                }
                None => ("...".to_owned(), false),
            };
            let hash = if set { "" } else { "# " };
            let line = format!("{indent}{hash}{leaf}: {value}");
            out.push_str(&format!("{line:<48} # {}\n", key.about));
        }
        out
    }

    /// The reference's table of every key (docs/reference.md holds it as written here): its
    /// flag, its variable, its default (the model's, or what leaving it unset means) and what
    /// it is.
    pub fn reference() -> String {
        let defaults = serde_yaml::to_value(Profile::default()).unwrap_or_default();
        let mut out =
            "| key | flag | variable | default | what it is |\n|---|---|---|---|---|\n".to_owned();
        for s in in_model_order() {
            let code = |text: String| format!("`{text}`");
            let default = node_at(&defaults, s.key)
                .and_then(yaml_value)
                .map(code)
                .or(s.unset.map(str::to_owned))
                .unwrap_or_default();
            let flag = s.flag_usage().map(code).unwrap_or_default();
            out.push_str(&format!(
                "| `{}` | {flag} | `{}` | {default} | {} |\n",
                s.key,
                s.env_var(),
                s.doc
            ));
        }
        out
    }

    /// Whether it names a live endpoint (otherwise the built-in stub is the target).
    pub fn is_live(&self) -> bool {
        self.endpoint.is_some()
    }

    /// The values no type says are wrong: a rate and timeouts that can be kept.
    pub fn validate(&self, origins: &Origins) -> Result<(), ProfileError> {
        let invalid = |key: &str, message: &str| ProfileError::Invalid {
            origin: origins.of(key),
            key: key.to_owned(),
            message: message.to_owned(),
        };
        // A secret pasted where its variable's name goes is refused without being shown.
        let a = &self.auth;
        let names = [
            ("token", &a.token_env),
            ("ak", &a.ak_env),
            ("sk", &a.sk_env),
        ];
        if let Some((which, _)) = names.iter().find(|(_, n)| !is_variable_name(n)) {
            return Err(invalid(&format!("auth.{which}_env"), NOT_A_VARIABLE));
        }
        let rps = self.safety.max_requests_per_second.unwrap_or(0.0);
        if !rps.is_finite() || rps < 0.0 || (rps > 0.0 && !(MIN_RATE..=MAX_RATE).contains(&rps)) {
            return Err(invalid(
                "safety.max_requests_per_second",
                &format!("must be 0 (no limit) or a number from {MIN_RATE} to {MAX_RATE}"),
            ));
        }
        // Numbers of a size no run needs, which would overflow or never end.
        if self.read_api_pages == Some(0) {
            return Err(invalid("read_api_pages", "must be at least 1"));
        }
        let bounds: [(&str, u64, u64); 7] = [
            (
                "read_api_pages",
                u64::from(self.read_api_pages.unwrap_or(READ_API_PAGES)),
                10_000,
            ),
            ("timeouts.connect_ms", self.timeouts.connect_ms, 3_600_000),
            ("timeouts.request_ms", self.timeouts.request_ms, 3_600_000),
            (
                "timeouts.settle_ms",
                self.timeouts.settle_ms.unwrap_or(0),
                600_000,
            ),
            ("retries.max", u64::from(self.retries.max), 20),
            ("retries.backoff_ms", self.retries.backoff_ms, 600_000),
            (
                "retries.max_retry_after_s",
                self.retries.max_retry_after_s,
                3_600,
            ),
        ];
        if let Some((key, _, most)) = bounds.iter().find(|(_, v, most)| v > most) {
            return Err(invalid(key, &format!("must be at most {most}")));
        }
        if self.timeouts.connect_ms == 0 || self.timeouts.request_ms == 0 {
            let key = if self.timeouts.connect_ms == 0 {
                "timeouts.connect_ms"
            } else {
                "timeouts.request_ms"
            };
            return Err(invalid(key, "must be more than 0"));
        }
        Ok(())
    }

    /// Expected deviations must name clauses of the spec.
    pub fn check_against(&self, spec: &Spec, origins: &Origins) -> Result<(), ProfileError> {
        for d in &self.expected_deviations {
            if spec.clause(&d.clause).is_none() {
                return Err(ProfileError::Invalid {
                    origin: origins.of("expected_deviations"),
                    key: "expected_deviations".to_owned(),
                    message: format!("`{}` is not a clause of the spec", d.clause),
                });
            }
        }
        Ok(())
    }
}

/// Every setting in the order of the profile's model, which is the order of a profile's
/// keys (a section's together): what `profile init` writes, `profile keys` and the
/// reference list.
pub fn in_model_order() -> Vec<&'static Setting> {
    let mut full = Profile::default();
    // The keys left out of a profile's YAML while unset.
    full.safety.max_requests_per_second = Some(0.0);
    full.read_api_pages = Some(0);
    let tree = serde_yaml::to_value(&full).unwrap_or_default();
    let mut leaves = Vec::new();
    leaves_of(&tree, "", &mut leaves);
    leaves.iter().filter_map(|leaf| setting(leaf)).collect()
}

/// The variable a token is read from unless a profile names another.
pub(crate) const DEFAULT_TOKEN_ENV: &str = "CSS_CONFORMANCE_TOKEN";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SETTINGS;

    #[test]
    fn a_secret_given_as_a_variables_name_is_refused_and_never_shown() {
        let mut profile = Profile::default();
        let token = "MIIEhwYJKoZIhvcNAQcCoIIEeDCCBHQCAQExDTALBglghkgBZQMEAgEwggLoBgkqhkiG9w0BBwGgggLZBIIC+==";
        profile.auth.token_env = token.to_owned();
        let said = profile
            .validate(&Origins::default())
            .unwrap_err()
            .to_string();
        assert!(
            said.contains("auth.token_env") && !said.contains(token),
            "{said}"
        );
        assert!(Profile::default().validate(&Origins::default()).is_ok());
    }

    #[test]
    fn every_key_round_trips_through_the_model() {
        let mut profile = Profile::default();
        let mut origins = Origins::default();
        for key in SETTINGS {
            let value = match key.value {
                KeyType::Method => "aksk",
                KeyType::Text | KeyType::Path => "x",
                KeyType::List => "a, b",
                KeyType::Bool => "true",
                KeyType::Number | KeyType::Whole => "7",
                KeyType::Yaml => "[{clause: RUT-ERR-02, reason: known}]",
            };
            profile
                .apply_flag(&mut origins, key.key, value, "--set")
                .unwrap_or_else(|e| panic!("{}: {e}", key.key));
            assert!(
                profile.value_text(key.key).is_some(),
                "{} is set but reads as unset",
                key.key
            );
        }
        assert_eq!(profile.auth.method, AuthMethod::Aksk);
        assert_eq!(profile.fixtures.failed_action_ids, ["a", "b"]);
        assert_eq!(profile.safety.max_requests_per_second, Some(7.0));
        assert_eq!(profile.expected_deviations[0].clause, "RUT-ERR-02");
        // Every field of the model is a key of the table, and every key a field.
        let tree = serde_yaml::to_value(&profile).unwrap();
        let mut leaves = Vec::new();
        leaves_of(&tree, "", &mut leaves);
        for leaf in &leaves {
            assert!(setting(leaf).is_some(), "{leaf} is in no row of SETTINGS");
        }
        assert_eq!(in_model_order().len(), SETTINGS.len());
        assert_eq!(in_model_order()[2].key, "auth.method");
    }

    #[test]
    fn what_an_unset_key_means_is_said_with_the_live_defaults() {
        let said = |key| setting(key).and_then(|s| s.unset).unwrap_or_default();
        assert!(
            said("safety.max_requests_per_second")
                .starts_with(&format!("`{LIVE_MAX_REQUESTS_PER_SECOND}`"))
        );
        assert!(said("timeouts.settle_ms").starts_with(&format!("`{LIVE_SETTLE_MS}`")));
        let help = |key| {
            setting(key)
                .and_then(|s| s.flag)
                .map(|f| f.help)
                .unwrap_or_default()
        };
        assert!(
            help("safety.max_requests_per_second")
                .contains(&format!("default {LIVE_MAX_REQUESTS_PER_SECOND},"))
        );
        assert!(help("timeouts.settle_ms").contains(&format!("default {LIVE_SETTLE_MS} ")));
        // A key with a default in the model says nothing else of being unset.
        let defaults = serde_yaml::to_value(Profile::default()).unwrap();
        for s in SETTINGS {
            let has_default = node_at(&defaults, s.key).and_then(yaml_value).is_some();
            assert!(
                !(has_default && s.unset.is_some()),
                "{}: a default and an unset text",
                s.key
            );
        }
    }

    #[test]
    fn a_wrongly_typed_override_names_its_origin_and_key() {
        let mut profile = Profile::default();
        let err = profile
            .apply_flag(
                &mut Origins::default(),
                "timeouts.connect_ms",
                "soon",
                "--set",
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--set: key `timeouts.connect_ms`: `soon` is not a number"
        );
        let err = profile
            .apply_flag(&mut Origins::default(), "safety.allow", "1", "--set")
            .unwrap_err();
        assert!(err.to_string().contains("no such key"), "{err}");
    }
}
