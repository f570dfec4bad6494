//! The credentials a target is reached with, and how a request carries them.

use crate::config::profile::AuthMethod;
use crate::contract::request::{Credentials, TOKEN_HEADER};
use crate::secret::Secret;
use crate::transport::signing;

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
    /// How it signs in: `none`, `token` or `aksk` in reports.
    pub fn method(&self) -> AuthMethod {
        match self {
            Auth::None => AuthMethod::None,
            Auth::Token(_) => AuthMethod::Token,
            Auth::AkSk { .. } => AuthMethod::Aksk,
        }
    }
}

/// What an AK/SK signature names besides the request: the host and the project.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    pub host: &'a str,
    pub project_id: &'a str,
}

impl Auth {
    /// The headers that authenticate a `method` request of `path` (on the wire, behind the
    /// endpoint's prefix) and `query` (decoded pairs), presenting `credentials`, signed at
    /// `now` for `signer` where AK/SK signs.
    pub fn headers(
        &self,
        signer: &Signer<'_>,
        method: &str,
        message: &Message<'_>,
        credentials: Credentials,
        now: time::OffsetDateTime,
    ) -> Vec<(String, Secret)> {
        let token = |t: &Secret| vec![(TOKEN_HEADER.to_owned(), t.clone())];
        match (self, credentials) {
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
                    (
                        "Content-Type".to_owned(),
                        message
                            .content_type
                            .unwrap_or("application/json")
                            .to_owned(),
                    ),
                    ("X-Project-Id".to_owned(), signer.project_id.to_owned()),
                    ("X-Sdk-Date".to_owned(), signing::sdk_date(date)),
                ];
                let unsigned = signing::Unsigned {
                    method,
                    host: signer.host,
                    path: message.path,
                    query: message.query,
                    headers: &supplied,
                    body: message.body,
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
}

/// What a signature covers of a request besides its method and headers.
pub struct Message<'a> {
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
    /// The body's content type (a signature says JSON when none is given).
    pub content_type: Option<&'a str>,
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
