//! What is wrong with a profile, and where each key's value came from (to name it in errors).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::file_error::{FileError, line_of};

use crate::settings::flag;
use crate::settings::options::PROFILE;

/// Something a live target still needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// What it is, in words.
    pub what: String,
    /// How to give it.
    pub how: String,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.how)
    }
}

/// A profile that cannot be used, with where the fault is.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file cannot be read or is not a profile's YAML.
    #[error(transparent)]
    File(#[from] FileError),
    /// A live target without everything it needs: each item, with every way to give it.
    #[error("{}", incomplete(.endpoint, .origin, .missing, .also))]
    Incomplete {
        endpoint: String,
        origin: String,
        missing: Vec<Missing>,
        /// What a complete verdict needs besides that was not given either.
        also: Also,
    },
    /// A bad value for a key; `origin` says where it was set (`file:line`, an environment
    /// variable, or a flag).
    #[error("{origin}: key `{key}`: {message}")]
    Invalid {
        origin: String,
        key: String,
        message: String,
    },
}

/// What a complete verdict needs besides a target that answers, and whether it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Also {
    /// Two failed tasks (or more) were given.
    pub tasks: bool,
    pub mutations: bool,
    pub read_api: bool,
}

fn incomplete(endpoint: &str, origin: &str, missing: &[Missing], also: &Also) -> String {
    let mut out = format!(
        "the target {endpoint} ({origin}) is incomplete; still needed ({}):",
        missing.len()
    );
    for m in missing {
        out.push_str("\n  - ");
        out.push_str(&m.to_string());
    }
    // What a complete verdict needs besides and was not given, said once so that the next
    // run is the last.
    let (tasks, mutations, read_api) = (
        flag("fixtures.failed_action_ids"),
        flag("safety.allow_mutations"),
        flag("read_api"),
    );
    let wanted = [
        (!also.tasks).then(|| {
            format!("two failed upgrade tasks of that cluster ({tasks} ID, twice; a run uses up the tasks it is given: bring fresh ones each run)")
        }),
        (!also.mutations).then(|| format!("{mutations} (to let the run use them)")),
        (!also.read_api).then(|| format!("{read_api} (to pin what each request did)")),
    ];
    let wanted: Vec<String> = wanted.into_iter().flatten().collect();
    if !wanted.is_empty() {
        out.push_str(&format!(
            "\nFor a complete verdict, give also {}; docs/live-endpoint.md goes through it step by step.",
            wanted.join(", ")
        ));
    }
    out
}

/// Where each key's value came from, to name it in errors.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    pub(super) file: Option<(PathBuf, String)>,
    pub(super) overridden: BTreeMap<String, String>,
}

impl Origins {
    /// The keys the environment or a flag set, in order.
    pub fn overridden(&self) -> impl Iterator<Item = &str> {
        self.overridden.keys().map(String::as_str)
    }

    /// Where the profile came from: its file, or none.
    pub fn source(&self) -> String {
        match &self.file {
            Some((file, _)) => format!("profile {}", file.display()),
            None => format!("no {PROFILE}"),
        }
    }

    /// `file:line` of the key in the profile, or the variable or flag that set it.
    pub fn of(&self, key: &str) -> String {
        self.set_at(key).unwrap_or_else(|| match &self.file {
            Some((file, _)) => format!("{} (not set there)", file.display()),
            None => format!("defaults (no {PROFILE})"),
        })
    }

    /// Where `key` was set (`of`), or `None` where it keeps its default.
    pub fn set_at(&self, key: &str) -> Option<String> {
        if let Some(o) = self.overridden.get(key) {
            return Some(o.clone());
        }
        let (file, text) = self.file.as_ref()?;
        let leaf = key.rsplit('.').next().unwrap_or(key);
        let line = line_of(text, &format!("{leaf}:"), 0);
        (line > 0).then(|| format!("{}:{line}", file.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_set_where_a_line_or_a_flag_says_else_it_keeps_its_default() {
        let text = "auth:\n  token_env: MY_TOKEN\n".to_owned();
        let mut origins = Origins {
            file: Some((PathBuf::from("p.yaml"), text)),
            overridden: BTreeMap::new(),
        };
        assert_eq!(
            origins.set_at("auth.token_env").as_deref(),
            Some("p.yaml:2")
        );
        assert_eq!(origins.set_at("auth.ak_env"), None);
        assert_eq!(origins.of("auth.ak_env"), "p.yaml (not set there)");
        origins
            .overridden
            .insert("auth.ak_env".to_owned(), "--set auth.ak_env=A".to_owned());
        assert_eq!(
            origins.set_at("auth.ak_env").as_deref(),
            Some("--set auth.ak_env=A")
        );
        let none = Origins::default();
        assert_eq!(none.set_at("auth.token_env"), None);
        assert!(
            none.of("auth.token_env")
                .starts_with("defaults (no --profile)")
        );
    }
}
