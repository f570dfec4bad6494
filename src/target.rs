//! The target seam: where requests go (a base URL), with which credentials, and which fixture
//! IDs exist there. Steps and the fuzzer talk to a `Target`; whether the built-in stub or a
//! live endpoint is behind it, they cannot tell.

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::case::{Credentials, Request};
use crate::fixtures::{Fixtures, TaskPool};
use crate::oracle::Response;
use crate::signing;
use crate::spec::Spec;

/// A credential that never shows itself: `Debug` and `Display` print a placeholder.
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

/// How the target authenticates requests.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials are configured: every request goes without.
    None,
    /// An IAM token sent as `X-Auth-Token`.
    Token(Secret),
    /// AK/SK request signing (`SDK-HMAC-SHA256`).
    AkSk { ak: Secret, sk: Secret },
}

impl Auth {
    /// A name for reports: `none`, `token` or `aksk`.
    pub fn method(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Token(_) => "token",
            Auth::AkSk { .. } => "aksk",
        }
    }
}

/// A target that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("environment variable {var}: {message}")]
    Env { var: &'static str, message: String },
    #[error("endpoint `{url}`: {message}")]
    Endpoint { url: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A request that got no answer.
#[derive(Debug, thiserror::Error)]
#[error("{url}: {message}")]
pub struct TransportError {
    pub url: String,
    pub message: String,
}

/// A configured endpoint to check.
#[derive(Debug)]
pub struct Target {
    name: String,
    base_url: String,
    /// `scheme://host[:port]` of the base URL.
    origin: String,
    /// The base URL's path prefix, without a trailing `/`.
    prefix: String,
    /// The Host header value requests carry (and AK/SK signs).
    host: String,
    auth: Auth,
    pub fixtures: Fixtures,
    pool: TaskPool,
    client: reqwest::Client,
    /// Whether requests may use the target's failed tasks (retry, abort, and anything sent
    /// with a real failed task, which a server that does not conform might act on).
    mutations_allowed: bool,
    /// Whether to say what will be sent before the first such request.
    announce_mutations: bool,
    announced: std::sync::atomic::AtomicBool,
}

/// Why a scenario that would use a real failed task did not run.
pub const MUTATION_SKIP_REASON: &str =
    "mutating: it names a real task; pass --allow-mutations (and failed_action_ids) to run it";

/// The environment variables that point the features at another server.
pub const ENV_ENDPOINT: &str = "CSS_CONFORMANCE_ENDPOINT";
pub const ENV_TOKEN: &str = "CSS_CONFORMANCE_TOKEN";
pub const ENV_PROJECT_ID: &str = "CSS_CONFORMANCE_PROJECT_ID";
pub const ENV_CLUSTER_ID: &str = "CSS_CONFORMANCE_CLUSTER_ID";
pub const ENV_FAILED_ACTION_IDS: &str = "CSS_CONFORMANCE_FAILED_ACTION_IDS";
pub const ENV_NOT_FAILED_ACTION_ID: &str = "CSS_CONFORMANCE_NOT_FAILED_ACTION_ID";
pub const ENV_FOREIGN_PROJECT_ID: &str = "CSS_CONFORMANCE_FOREIGN_PROJECT_ID";
pub const ENV_ALLOW_MUTATIONS: &str = "CSS_CONFORMANCE_ALLOW_MUTATIONS";

impl Target {
    /// A target at `base_url` (scheme, host, port and an optional path prefix).
    pub fn new(
        name: impl Into<String>,
        base_url: &str,
        auth: Auth,
        fixtures: Fixtures,
    ) -> Result<Target, TargetError> {
        let endpoint = |message: &str| TargetError::Endpoint {
            url: base_url.to_owned(),
            message: message.to_owned(),
        };
        let parsed = reqwest::Url::parse(base_url).map_err(|e| endpoint(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(endpoint("the scheme must be http or https"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(endpoint("an endpoint has no query or fragment"));
        }
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| TargetError::Client(e.to_string()))?;
        let pool = TaskPool::new(&fixtures);
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(port)) => format!("{h}:{port}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(endpoint("the endpoint names no host")),
        };
        Ok(Target {
            name: name.into(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            origin: format!("{}://{host}", parsed.scheme()),
            prefix: parsed.path().trim_end_matches('/').to_owned(),
            host,
            auth,
            fixtures,
            pool,
            client,
            mutations_allowed: false,
            announce_mutations: true,
            announced: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Lets requests use the target's failed tasks.
    pub fn allow_mutations(mut self, allowed: bool) -> Target {
        self.mutations_allowed = allowed;
        self
    }

    /// A target whose tasks are the tool's own (the built-in stub): mutations allowed, and
    /// nothing to announce.
    pub fn owned_by_us(mut self) -> Target {
        self.mutations_allowed = true;
        self.announce_mutations = false;
        self
    }

    pub fn mutations_allowed(&self) -> bool {
        self.mutations_allowed
    }

    /// Before the first request that uses a real failed task, says on stderr what will be
    /// sent (credentials never shown).
    pub fn announce_mutation(&self, spec: &Spec, request: &Request, what: &str) {
        use std::sync::atomic::Ordering;
        if self.announce_mutations && !self.announced.swap(true, Ordering::SeqCst) {
            eprintln!(
                "css-conformance: first mutating request to {} ({what}), mutations allowed:\n  {} {}",
                self.name,
                spec.operation.method,
                self.url(spec, request)
            );
        }
    }

    /// The target the `CSS_CONFORMANCE_*` environment names, or `None` when
    /// `CSS_CONFORMANCE_ENDPOINT` is unset.
    pub fn from_env() -> Result<Option<Target>, TargetError> {
        let Some(endpoint) = env_var(ENV_ENDPOINT)? else {
            return Ok(None);
        };
        let required = |var: &'static str| {
            env_var(var)?.ok_or(TargetError::Env {
                var,
                message: format!("must be set when {ENV_ENDPOINT} is"),
            })
        };
        let fixtures = Fixtures {
            project_id: required(ENV_PROJECT_ID)?,
            cluster_id: required(ENV_CLUSTER_ID)?,
            failed_action_ids: env_var(ENV_FAILED_ACTION_IDS)?
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            not_failed_action_id: env_var(ENV_NOT_FAILED_ACTION_ID)?,
            foreign_project_id: env_var(ENV_FOREIGN_PROJECT_ID)?,
            generated_failed_tasks: false,
        };
        let auth = match env_var(ENV_TOKEN)? {
            Some(token) => Auth::Token(Secret::new(token)),
            None => Auth::None,
        };
        let mutations = match env_var(ENV_ALLOW_MUTATIONS)?.as_deref() {
            None | Some("0" | "false" | "no") => false,
            Some("1" | "true" | "yes") => true,
            Some(other) => {
                return Err(TargetError::Env {
                    var: ENV_ALLOW_MUTATIONS,
                    message: format!("`{other}` is not one of 1, true, yes, 0, false, no"),
                });
            }
        };
        Target::new(endpoint.clone(), &endpoint, auth, fixtures)
            .map(|t| Some(t.allow_mutations(mutations)))
    }

    /// What the target is called in reports: the endpoint, or "built-in stub".
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Takes a failed task that no other scenario of this run has used.
    pub fn take_failed_task(&self) -> Option<String> {
        self.pool.take()
    }

    /// The URL a request goes to (AK/SK signing puts the query in canonical order).
    pub fn url(&self, spec: &Spec, request: &Request) -> String {
        match &self.auth {
            Auth::AkSk { .. } => {
                let path = self.wire_path(spec, request);
                let query = signing::canonical_query(&request.query_pairs(spec));
                if query.is_empty() {
                    format!("{}{path}", self.origin)
                } else {
                    format!("{}{path}?{query}", self.origin)
                }
            }
            _ => format!("{}{}", self.base_url, request.path_and_query(spec)),
        }
    }

    /// The request's path on the wire, behind the endpoint's path prefix.
    fn wire_path(&self, spec: &Spec, request: &Request) -> String {
        format!("{}{}", self.prefix, request.path(spec))
    }

    /// The headers that authenticate `request`, signed at `now` where AK/SK signs.
    fn auth_headers(
        &self,
        spec: &Spec,
        request: &Request,
        now: time::OffsetDateTime,
    ) -> Vec<(String, Secret)> {
        let token = |t: &Secret| vec![("X-Auth-Token".to_owned(), t.clone())];
        match (&self.auth, request.credentials) {
            (_, Credentials::Missing) | (Auth::None, Credentials::Valid) => Vec::new(),
            (Auth::Token(t), Credentials::Valid) => token(t),
            (Auth::Token(_) | Auth::None, _) => token(&Secret::new(WRONG_TOKEN)),
            (Auth::AkSk { ak, sk }, credentials) => {
                let date = match credentials {
                    Credentials::StaleDate => now - time::Duration::minutes(20),
                    _ => now,
                };
                let sk = match credentials {
                    Credentials::Wrong => Secret::new(WRONG_TOKEN),
                    _ => sk.clone(),
                };
                let supplied = vec![
                    ("Content-Type".to_owned(), "application/json".to_owned()),
                    ("X-Project-Id".to_owned(), self.fixtures.project_id.clone()),
                    ("X-Sdk-Date".to_owned(), signing::sdk_date(date)),
                ];
                let path = self.wire_path(spec, request);
                let query = request.query_pairs(spec);
                let unsigned = signing::Unsigned {
                    method: &spec.operation.method,
                    host: &self.host,
                    path: &path,
                    query: &query,
                    headers: &supplied,
                    body: b"",
                };
                let signed = signing::sign(&unsigned, ak, &sk);
                signed
                    .headers
                    .into_iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
                    .map(|(k, v)| {
                        let v = if credentials == Credentials::TamperedSignature
                            && k == "Authorization"
                        {
                            tamper(&v)
                        } else {
                            v
                        };
                        (k, Secret::new(v))
                    })
                    .collect()
            }
        }
    }

    /// Sends `request` and returns the answer.
    pub async fn send(&self, spec: &Spec, request: &Request) -> Result<Response, TransportError> {
        let url = self.url(spec, request);
        let fail = |e: reqwest::Error| TransportError {
            url: url.clone(),
            message: error_chain(&e),
        };
        let method = reqwest::Method::from_bytes(spec.operation.method.as_bytes())
            .unwrap_or(reqwest::Method::PUT);
        let mut builder = self.client.request(method, &url);
        for (name, value) in self.auth_headers(spec, request, time::OffsetDateTime::now_utc()) {
            builder = builder.header(name, value.expose());
        }
        let response = builder.send().await.map_err(fail)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(fail)?.to_vec();
        Ok(Response {
            status,
            content_type,
            body,
        })
    }
}

impl Target {
    /// A one-line cURL command that sends `request` as `send` does, with every credential
    /// replaced by a shell variable (`$CSS_CONFORMANCE_TOKEN`; for AK/SK the signature, which
    /// `css-conformance replay` makes anew, by `$CSS_CONFORMANCE_AUTHORIZATION`).
    pub fn curl(&self, spec: &Spec, request: &Request) -> String {
        let url = self.url(spec, request).replace('\'', "'\\''");
        let mut line = format!("curl -sS -i -X {} '{url}'", spec.operation.method);
        let now = time::OffsetDateTime::now_utc();
        for (name, value) in self.auth_headers(spec, request, now) {
            let shown = match name.as_str() {
                "X-Auth-Token" if request.credentials == Credentials::Valid => {
                    format!("\"{name}: ${ENV_TOKEN}\"")
                }
                "Authorization" => format!("\"{name}: $CSS_CONFORMANCE_AUTHORIZATION\""),
                _ => format!("'{name}: {}'", value.expose()),
            };
            let _ = write!(line, " -H {shown}");
        }
        line
    }
}

/// The signature with its last hex digit changed.
fn tamper(authorization: &str) -> String {
    let mut v = authorization.to_owned();
    let last = v.pop();
    v.push(if last == Some('0') { '1' } else { '0' });
    v
}

/// A token of plausible shape that no IAM issued.
const WRONG_TOKEN: &str = "MIIwrongTOKENcss-conformance-0000000000000000";

fn env_var(var: &'static str) -> Result<Option<String>, TargetError> {
    match std::env::var(var) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(TargetError::Env {
            var,
            message: "is not valid UTF-8".into(),
        }),
    }
}

/// reqwest's error with its causes, which say what actually went wrong (refused, TLS, ...).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// reqwest is built without a default TLS provider to keep the build lean; ring is ours.
fn install_crypto_provider() {
    // Err only means another provider is installed already, which serves as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("canary-7f3a");
        assert!(!format!("{s:?} {s}").contains("canary"));
        let auth = Auth::Token(s);
        assert!(!format!("{auth:?}").contains("canary"));
    }

    #[test]
    fn rejects_an_endpoint_that_is_not_http() {
        let err = Target::new("x", "ftp://example", Auth::None, Fixtures::builtin()).unwrap_err();
        assert!(err.to_string().contains("ftp://example"), "{err}");
    }
}
