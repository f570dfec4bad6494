//! A request as a one-line cURL command, credentials replaced by shell variables.

use std::fmt::Write as _;

use crate::contract::request::{Credentials, Request, TOKEN_HEADER};
use crate::contract::spec::{HttpVersion, Spec};

use super::Target;

impl Target {
    /// A one-line cURL command that sends `request` as `send` does, with every credential
    /// replaced by a shell variable (`$CSS_CONFORMANCE_TOKEN`; for AK/SK the signature, which
    /// `css-conformance replay` makes anew, by `$CSS_CONFORMANCE_AUTHORIZATION`).
    pub fn curl(&self, spec: &Spec, request: &Request) -> String {
        let url = self.url(spec, request).replace('\'', "'\\''");
        // cURL sends HEAD with -I (with -X HEAD it would wait for a body that never comes).
        let mut line = match request.method(spec) {
            "HEAD" => format!("curl -sS -I '{url}'"),
            method => format!("curl -sS -i -X {method} '{url}'"),
        };
        for (name, value) in self.shown_headers(spec, request) {
            let shown = if value.starts_with('$') {
                format!("\"{name}: {value}\"")
            } else {
                format!("'{name}: {value}'")
            };
            let _ = write!(line, " -H {shown}");
        }
        if let Some((_, body)) = &request.shape.body {
            let _ = write!(line, " --data-raw '{}'", body.replace('\'', "'\\''"));
        }
        if request.shape.version == HttpVersion::Http10 {
            line.push_str(" --http1.0");
        }
        line
    }

    /// The headers the tool sets on `request`, each credential shown as the shell variable
    /// that holds it (the token's, or `$CSS_CONFORMANCE_AUTHORIZATION` for a signature); a
    /// wrong credential the scenario made up on purpose is shown as it is.
    pub fn shown_headers(&self, spec: &Spec, request: &Request) -> Vec<(String, String)> {
        let now = time::OffsetDateTime::now_utc();
        self.auth_headers(spec, request, now)
            .into_iter()
            .map(|(name, value)| {
                let shown = match name.as_str() {
                    _ if name == TOKEN_HEADER && request.credentials == Credentials::Valid => {
                        format!("${}", self.token_env)
                    }
                    "Authorization" => "$CSS_CONFORMANCE_AUTHORIZATION".to_owned(),
                    _ => value.expose().to_owned(),
                };
                (name, shown)
            })
            .collect()
    }
}
