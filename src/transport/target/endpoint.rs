//! An endpoint's base URL: what is accepted, and how it is shown.

/// An endpoint's base URL, if it is one: http or https, no password, no query or fragment.
pub fn parse_endpoint(base_url: &str) -> Result<reqwest::Url, TargetError> {
    let endpoint = |message: &str| TargetError::Endpoint {
        url: without_userinfo(base_url),
        message: message.to_owned(),
    };
    let parsed = reqwest::Url::parse(base_url).map_err(|e| endpoint(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(endpoint("the scheme must be http or https"));
    }
    // A password in a URL ends up in logs and reports; credentials come from `auth`.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(endpoint(
            "must not carry user:password@ (credentials come from the auth settings)",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(endpoint("an endpoint has no query or fragment"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(endpoint("the endpoint names no host"));
    }
    Ok(parsed)
}

/// `url` with any `user:password@` taken out, to be shown.
///
/// Whatever stands before the last `@` is taken out, so that a password holding `@` or `/`
/// (which no URL parser reads as the user meant) is never shown: `https://***@host`.
pub fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    match rest.rfind('@') {
        Some(at) if scheme.is_empty() => format!("***@{}", &rest[at + 1..]),
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// A target that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("endpoint `{url}`: {message}")]
    Endpoint { url: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A request that got no answer.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", crate::text::shorten(url))]
pub struct TransportError {
    pub url: String,
    pub message: String,
}
