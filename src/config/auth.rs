//! How requests authenticate: a token, AK/SK signing, or nothing.

use serde::{Deserialize, Serialize};

/// How requests authenticate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// An IAM token in `X-Auth-Token`, read from the variable `token_env` names.
    #[default]
    Token,
    /// AK/SK request signing (SDK-HMAC-SHA256), keys read from `ak_env` and `sk_env`.
    Aksk,
    /// No credentials at all.
    None,
}

impl std::fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Token => "token",
            AuthMethod::Aksk => "aksk",
            AuthMethod::None => "none",
        }
    }
}
