//! A request as a one-line cURL command, credentials replaced by shell variables.

use std::fmt::Write as _;

use crate::exchange::{Credentials, Request, TOKEN_HEADER};
use crate::spec::Spec;

use super::Target;

impl Target {
    /// A one-line cURL command that sends `request` as `send` does, with every credential
    /// replaced by a shell variable (`$CSS_CONFORMANCE_TOKEN`; for AK/SK the signature, which
    /// `css-conformance replay` makes anew, by `$CSS_CONFORMANCE_AUTHORIZATION`).
    pub fn curl(&self, spec: &Spec, request: &Request) -> String {
        let url = self.url(spec, request).replace('\'', "'\\''");
        let mut line = format!("curl -sS -i -X {} '{url}'", request.method(spec));
        let now = time::OffsetDateTime::now_utc();
        for (name, value) in self.auth_headers(spec, request, now) {
            let shown = match name.as_str() {
                _ if name == TOKEN_HEADER && request.credentials == Credentials::Valid => {
                    format!("\"{name}: ${}\"", self.token_env)
                }
                "Authorization" => format!("\"{name}: $CSS_CONFORMANCE_AUTHORIZATION\""),
                _ => format!("'{name}: {}'", value.expose()),
            };
            let _ = write!(line, " -H {shown}");
        }
        line
    }
}
