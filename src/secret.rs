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

#[cfg(test)]
mod tests {
    use super::*;

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
