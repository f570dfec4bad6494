//! A credential that never shows itself.

use std::fmt;

/// A credential: `Debug` and `Display` print a placeholder, never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this secret, in time that does not depend on where they differ
    /// (a guesser learns nothing from how long a wrong one takes).
    pub fn matches(&self, given: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What a setting that names a secret's environment variable (`auth.*_env`) is told when
/// its value names none.
pub const NOT_A_VARIABLE: &str = "must name an environment variable (letters, digits and `_`, e.g. CSS_CONFORMANCE_TOKEN); the value given is not shown: it may be the secret itself";

/// Whether `name` is an environment variable's name: letters, digits and `_`, not starting
/// with a digit, at most 128 characters.
pub fn is_variable_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A variable's name as messages show it: only one in capitals (as variables are named); a
/// name with small letters may be a secret key pasted in its place, and is not shown.
pub fn shown_variable(name: &str) -> Option<&str> {
    (is_variable_name(name) && !name.bytes().any(|b| b.is_ascii_lowercase())).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_pasted_as_a_variables_name_is_not_shown() {
        // A secret key looks like a name, but not like a variable's: not shown.
        let sk = "Wq3eRt7yUi9oPa1sDf5gHj2kLz8xCv4bNm6QwErT";
        assert!(is_variable_name(sk));
        assert_eq!(shown_variable(sk), None);
        assert!(!is_variable_name("MIIEhwYJKoZIhvcNAQcC+=="));
        assert!(!is_variable_name("9LIVES"));
        assert_eq!(shown_variable("CLOUD_SDK_SK"), Some("CLOUD_SDK_SK"));
    }

    #[test]
    fn a_secret_matches_itself_only() {
        let s = Secret::new("canary-7f3a");
        assert!(s.matches("canary-7f3a"));
        for other in ["canary-7f3b", "canary-7f3", "canary-7f3aa", ""] {
            assert!(!s.matches(other), "{other}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("canary-7f3a");
        assert!(!format!("{s:?} {s}").contains("canary"));
    }
}
