//! Every setting of a target, in one table: its profile key, the environment variable named
//! after it, the flag that sets it (if one does), its type, what an unset key means, and its
//! texts. The command line's flags (clap), the profile loader, `--set`, `profile keys`,
//! `profile init` and the reference (docs/reference.md) are all derived from [`SETTINGS`]; a
//! key's default is the profile model's (`Profile::default()`), never written here.
//!
//! The table's order is the order of the flags in `--help`; what lists a profile's keys
//! (`profile init`, `profile keys`, the reference) follows the profile model's order
//! (`profile::in_model_order`).

/// The type of a key's value, as set from a string in the environment, a flag or `--set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Text,
    /// A file's path.
    Path,
    /// Comma-separated (a repeatable flag).
    List,
    Bool,
    /// Any number, e.g. `2.5`.
    Number,
    /// A whole number, 0 or more.
    Whole,
    /// An authentication method: `token`, `aksk` or `none`.
    Method,
    /// YAML text (flow style fits on a line: `[{clause: RUT-ERR-02, reason: ...}]`).
    Yaml,
}

/// The flag of a setting.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Its long name, without the dashes.
    pub long: &'static str,
    /// The name of its value in `--help` (none for a switch).
    pub value_name: Option<&'static str>,
    /// Its `--help` text.
    pub help: &'static str,
}

/// One setting of a target.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The dotted profile key, e.g. `safety.allow_mutations`.
    pub key: &'static str,
    pub value: KeyType,
    /// The flag that sets it, if one does (`--set KEY=VALUE` sets any).
    pub flag: Option<Flag>,
    /// What leaving it unset means, for a key the model holds no default value of.
    pub unset: Option<&'static str>,
    /// What it is, in a few words (the comments `profile init` writes, `profile keys`).
    pub about: &'static str,
    /// What it is, in full (the reference).
    pub doc: &'static str,
}

/// Every setting of a target.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "endpoint",
        value: KeyType::Text,
        flag: valued(
            "endpoint",
            "URL",
            "The endpoint to check (wins over the profile and CSS_CONFORMANCE_ENDPOINT)",
        ),
        unset: Some("(the built-in stub)"),
        about: "the base URL; absent: the built-in stub",
        doc: "base URL, e.g. `https://css.eu-de.otc.t-systems.com`; a path prefix is kept",
    },
    Setting {
        key: "project_id",
        value: KeyType::Text,
        flag: valued("project-id", "ID", "The project the credentials act on"),
        unset: None,
        about: "the project the credentials act on",
        doc: "the project the credentials act on (required with `endpoint`)",
    },
    Setting {
        key: "fixtures.cluster_id",
        value: KeyType::Text,
        flag: valued(
            "cluster-id",
            "ID",
            "A cluster of that project (fixtures.cluster_id)",
        ),
        unset: None,
        about: "a cluster of that project",
        doc: "a cluster of that project (required with `endpoint`)",
    },
    Setting {
        key: "fixtures.failed_action_ids",
        value: KeyType::List,
        flag: valued(
            "failed-action-id",
            "ID",
            "A task of the cluster in the FAILED state that mutating scenarios may consume (with --allow-mutations); repeatable (fixtures.failed_action_ids)",
        ),
        unset: None,
        about: "tasks in the FAILED state mutating scenarios may consume",
        doc: "upgrade tasks in the FAILED state, used as **Task economy** says: a task is consumed only by a request a conforming server accepts (comma-separated in the environment)",
    },
    Setting {
        key: "fixtures.not_failed_action_id",
        value: KeyType::Text,
        flag: valued(
            "not-failed-action-id",
            "ID",
            "A task of the cluster that exists and is not failed (fixtures.not_failed_action_id)",
        ),
        unset: None,
        about: "a task that exists and is not failed (RUT-EXT-01)",
        doc: "a task that exists and is not failed (EXTENDED clause RUT-EXT-01)",
    },
    Setting {
        key: "fixtures.foreign_project_id",
        value: KeyType::Text,
        flag: valued(
            "foreign-project-id",
            "ID",
            "A project these credentials may not act on (fixtures.foreign_project_id)",
        ),
        unset: None,
        about: "a project these credentials may not act on (RUT-AUTH-03)",
        doc: "a project the credentials may not act on (RUT-AUTH-03)",
    },
    Setting {
        key: "auth.method",
        value: KeyType::Method,
        flag: valued(
            "auth",
            "METHOD",
            "How requests authenticate (secrets come from the variables the profile names)",
        ),
        unset: None,
        about: "token, aksk or none",
        doc: "`token` (`X-Auth-Token`), `aksk` (SDK-HMAC-SHA256 signing with `X-Sdk-Date`, `X-Project-Id`) or `none`",
    },
    Setting {
        key: "auth.token_env",
        value: KeyType::Text,
        flag: None,
        unset: None,
        about: "the variable holding the IAM token (never the token here)",
        doc: "the variable holding the IAM token; cURL reproductions show `$` and this name",
    },
    Setting {
        key: "auth.ak_env",
        value: KeyType::Text,
        flag: None,
        unset: None,
        about: "the variable holding the access key",
        doc: "the variable holding the access key",
    },
    Setting {
        key: "auth.sk_env",
        value: KeyType::Text,
        flag: None,
        unset: None,
        about: "the variable holding the secret key",
        doc: "the variable holding the secret key",
    },
    Setting {
        key: "safety.allow_mutations",
        value: KeyType::Bool,
        flag: switch(
            "allow-mutations",
            "Against a live endpoint, let scenarios and generated cases retry and abort the configured failed tasks (without it they are skipped and reported as SKIP)",
        ),
        unset: None,
        about: "let scenarios retry and abort the failed tasks above",
        doc: "let scenarios and fuzz cases retry and abort the listed failed tasks",
    },
    Setting {
        key: "safety.max_requests_per_second",
        value: KeyType::Number,
        flag: valued(
            "max-requests-per-second",
            "N",
            "The most requests per second to the endpoint (0: no limit; default 5, or no limit for an endpoint on this machine: 127.0.0.1, ::1, localhost)",
        ),
        unset: Some("`5`, none for an endpoint on this machine"),
        about: "0: no limit; unset: 5, or no limit for an endpoint on this machine",
        doc: "the rate limit toward the endpoint (`0`: none; the built-in stub has none)",
    },
    Setting {
        key: "tls.ca_bundle",
        value: KeyType::Path,
        flag: valued(
            "ca-bundle",
            "FILE",
            "PEM certificates to trust besides the system's",
        ),
        unset: None,
        about: "PEM certificates to trust besides the system's",
        doc: "PEM certificates to trust besides the system's (relative to the profile)",
    },
    Setting {
        key: "tls.insecure",
        value: KeyType::Bool,
        flag: switch(
            "insecure",
            "Do not verify TLS certificates (test servers only; a warning is printed)",
        ),
        unset: None,
        about: "do not verify certificates (test servers only)",
        doc: "do not verify certificates; a warning is printed every run",
    },
    Setting {
        key: "read_api",
        value: KeyType::Bool,
        flag: switch(
            "read-api",
            "Read each task's status through the service's read API (GET .../upgrade/detail, read-only) before and after each request on it, to pin the request that acted",
        ),
        unset: None,
        about: "the target serves GET .../upgrade/detail",
        doc: "the target serves the read API `GET /v1.0/{project_id}/clusters/{cluster_id}/upgrade/detail`: each task's status is read before and after each request on it, which pins the request that acted and tells \"accepted but did nothing\" apart; read as the vendor documents it (`offset` from 1, pages as long as the server makes them, the upgrade tasks and then the AZ switchover tasks, `action_mode=AZ_MIGRATION`); read-only, within the rate limit; a read that fails judges nothing and says what the server answered",
    },
    Setting {
        key: "read_api_pages",
        value: KeyType::Whole,
        flag: None,
        unset: Some("`100`"),
        about: "the most pages of a listing the read API is read for a task",
        doc: "the most pages of one listing the read API is read for a task (pages as long as the server makes them); reaching it is said as such (a read that could not decide), never as a task not listed",
    },
    Setting {
        key: "timeouts.settle_ms",
        value: KeyType::Whole,
        flag: valued(
            "settle-ms",
            "MS",
            "How long a retry or abort may take to land on a task, in ms: waited before the request that follows refused ones on a task, and the longest a task's status is polled (timeouts.settle_ms; default 3000 for a live endpoint, 0 for the built-in stub)",
        ),
        unset: Some("`3000` for an endpoint, `0` for the built-in stub"),
        about: "how long an effect may take to land: waited before the request after refused ones, and the longest a read is polled (default 3000 live, 0 stub)",
        doc: "how long a retry or abort may take to land on a task: waited before the request that follows refused ones on a task (so that a refused request that acts late is caught), and, with the read API, the longest a task's status is polled after an accepted request until it stops changing",
    },
    Setting {
        key: "timeouts.connect_ms",
        value: KeyType::Whole,
        flag: None,
        unset: None,
        about: "connect timeout",
        doc: "connect timeout",
    },
    Setting {
        key: "timeouts.request_ms",
        value: KeyType::Whole,
        flag: None,
        unset: None,
        about: "whole-request timeout",
        doc: "whole-request timeout",
    },
    Setting {
        key: "retries.max",
        value: KeyType::Whole,
        flag: None,
        unset: None,
        about: "retries of a network error or a 5xx",
        doc: "retries of a network error or a 5xx other than a gateway's passing 502/503/504 (those are waited out apart, up to 3 times a request); never for a request that may have acted on a real task, unless no connection was made",
    },
    Setting {
        key: "retries.backoff_ms",
        value: KeyType::Whole,
        flag: None,
        unset: None,
        about: "the first wait before a retry, doubled each time",
        doc: "the first wait before a retry; it doubles each time (at most 30 s)",
    },
    Setting {
        key: "retries.max_retry_after_s",
        value: KeyType::Whole,
        flag: None,
        unset: None,
        about: "the longest Retry-After waited for",
        doc: "the longest `Retry-After` waited for: a 429's beyond it is reported as a target fault, a 502/503/504's is cut to it",
    },
    Setting {
        key: "expected_deviations",
        value: KeyType::Yaml,
        flag: None,
        unset: None,
        about: "known deviations: { clause, status?, error_code?, reason }",
        doc: "known deviations: `{ clause, status?, error_code?, reason }`, reported as XFAIL (XPASS once gone); YAML text in the environment",
    },
];

const fn valued(long: &'static str, value_name: &'static str, help: &'static str) -> Option<Flag> {
    Some(Flag {
        long,
        value_name: Some(value_name),
        help,
    })
}

const fn switch(long: &'static str, help: &'static str) -> Option<Flag> {
    Some(Flag {
        long,
        value_name: None,
        help,
    })
}

/// The setting of profile key `key`.
pub fn setting(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// The flag of the setting of profile key `key`, for a text that names it (`{}` shows it as
/// typed: `--read-api`). Written `const { flag("read_api") }`, a key not in the table, or one
/// without a flag, is a compile error.
pub const fn flag(key: &str) -> &'static Flag {
    let mut i = 0;
    while i < SETTINGS.len() {
        if same(SETTINGS[i].key, key) {
            match &SETTINGS[i].flag {
                Some(flag) => return flag,
                None => panic!("the setting has no flag"),
            }
        }
        i += 1;
    }
    panic!("no setting has this key")
}

/// Whether `a` and `b` are the same text (`==` in a `const fn`).
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl std::fmt::Display for Flag {
    /// As typed: `--read-api`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--{}", self.long)
    }
}

/// An option of the command line that is no setting of a target (it is about the run, the
/// report or the proxy) and that the library's texts name: the command line declares it by
/// this name (`#[arg(long = options::STRICT.0)]`), so the two never part. `{}` shows it as
/// typed: `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt(pub &'static str);

impl std::fmt::Display for Opt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--{}", self.0)
    }
}

/// The command line's options that the library's texts name.
pub mod options {
    use crate::settings::Opt;

    /// `check`: SHOULD and EXTENDED failures count against conformance.
    pub const STRICT: Opt = Opt("strict");
    /// `check`: a MUST clause not judged fails the run.
    pub const REQUIRE_COMPLETE: Opt = Opt("require-complete");
    /// `check`: use failed tasks the ledger says an earlier run used.
    pub const REUSE_TASKS: Opt = Opt("reuse-tasks");
    /// `check`, `tasks`: the ledger of used tasks' file.
    pub const LEDGER: Opt = Opt("ledger");
    /// `fuzz`: how many times a finding's minimal case is sent again.
    pub const REPEAT: Opt = Opt("repeat");
    /// `proxy`: what a stub upstream knows.
    pub const STUB_FIXTURES: Opt = Opt("stub-fixtures");
    /// A target profile's file or name.
    pub const PROFILE: Opt = Opt("profile");
}

impl Setting {
    /// The environment variable that sets it: `CSS_CONFORMANCE_` and the key in capitals.
    pub fn env_var(&self) -> String {
        format!(
            "CSS_CONFORMANCE_{}",
            self.key.replace('.', "_").to_ascii_uppercase()
        )
    }

    /// Its flag as a user types it, e.g. `--failed-action-id ID (repeatable)`.
    pub fn flag_usage(&self) -> Option<String> {
        let flag = self.flag?;
        let value = flag.value_name.map(|v| format!(" {v}")).unwrap_or_default();
        let repeatable = if self.value == KeyType::List {
            " (repeatable)"
        } else {
            ""
        };
        Some(format!("--{}{value}{repeatable}", flag.long))
    }

    /// Every way to set it: its flag (or `--set`), the profile key, the variable.
    pub fn ways(&self) -> String {
        let flag = self
            .flag_usage()
            .unwrap_or_else(|| format!("--set {}=...", self.key));
        format!(
            "{flag}, or `{}` in a profile, or {}",
            self.key,
            self.env_var()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_flags_are_unique() {
        let mut keys = std::collections::BTreeSet::new();
        let mut flags = std::collections::BTreeSet::new();
        for s in SETTINGS {
            assert!(keys.insert(s.key), "{} twice", s.key);
            // The texts go into a Markdown table and one-line comments as they are.
            let texts = [s.about, s.doc, s.unset.unwrap_or_default()];
            let help = s.flag.map(|f| f.help).unwrap_or_default();
            for text in texts.into_iter().chain([help]) {
                assert!(!text.contains(['|', '\n']), "{}: {text}", s.key);
            }
            if let Some(f) = s.flag {
                assert!(flags.insert(f.long), "--{} twice", f.long);
                assert!(
                    !f.help.ends_with('.'),
                    "--{}: help ends with a period",
                    f.long
                );
                assert_eq!(
                    f.value_name.is_none(),
                    s.value == KeyType::Bool,
                    "{}",
                    s.key
                );
            }
        }
    }

    #[test]
    fn a_texts_flag_is_the_tables() {
        const READ_API: &Flag = flag("read_api");
        assert_eq!(READ_API.to_string(), "--read-api");
        assert_eq!(
            flag("fixtures.failed_action_ids").to_string(),
            "--failed-action-id"
        );
        assert_eq!(options::STRICT.to_string(), "--strict");
        // A key not in the table (the compile error of `const { flag(..) }`, met at run time).
        assert!(std::panic::catch_unwind(|| flag("read-api")).is_err());
        assert!(std::panic::catch_unwind(|| flag("retries.max")).is_err());
    }

    #[test]
    fn a_flag_is_shown_with_its_value_and_whether_it_repeats() {
        let shown = |key| setting(key).and_then(Setting::flag_usage);
        assert_eq!(
            shown("fixtures.failed_action_ids").as_deref(),
            Some("--failed-action-id ID (repeatable)")
        );
        assert_eq!(shown("read_api").as_deref(), Some("--read-api"));
        assert_eq!(shown("retries.max"), None);
        assert_eq!(
            setting("safety.max_requests_per_second").map(Setting::env_var),
            Some("CSS_CONFORMANCE_SAFETY_MAX_REQUESTS_PER_SECOND".to_owned())
        );
    }
}
