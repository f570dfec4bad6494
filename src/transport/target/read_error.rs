//! Why the read API could not say a task's status: what the server answered, and the
//! setting that fits its answer.

use std::fmt;

use crate::contract::spec::{Kind, Spec};
use crate::settings::setting;

use super::auth::Auth;

use crate::settings::{Flag, flag};

const READ_API: &Flag = flag("read_api");

/// The most pages of one listing read for one task when the profile sets none
/// (`read_api_pages`); the offset's documented range (1-1000) bounds a listing's pages too.
pub(super) const MAX_PAGES: u32 = crate::config::profile::READ_API_PAGES;

/// Why the read API could not say a task's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// No answer came (or only transient ones, or a fault of the way).
    NoAnswer { url: String, why: String },
    /// The server refused the read: what it said, and the setting that fits its answer.
    Refused {
        url: String,
        status: u16,
        code: Option<String>,
        message: Option<String>,
        fix: String,
    },
    /// The answer is not the documented listing.
    Malformed { url: String, why: String },
    /// The task was not among the first pages of any listing (`read_api_pages` of each).
    TooLong { seen: usize, pages: u32 },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |url: &str| crate::shown::shorten(url).to_owned();
        match self {
            ReadError::NoAnswer { url, why } => write!(f, "GET {}: no answer: {why}", short(url)),
            ReadError::Refused {
                url,
                status,
                code,
                message,
                fix,
            } => {
                write!(f, "GET {}: the server answered {status}", short(url))?;
                if let Some(code) = code {
                    write!(f, " {}", crate::shown::inert(code))?;
                }
                if let Some(message) = message {
                    write!(f, " \"{}\"", crate::shown::inert(message))?;
                }
                write!(f, "; {fix}")
            }
            ReadError::Malformed { url, why } => {
                write!(f, "GET {}: not the documented listing: {why}", short(url))
            }
            ReadError::TooLong { seen, pages } => write!(
                f,
                "the task is not among the first {seen} tasks of any listing ({pages} pages each, the bound `read_api_pages` sets): not known to be listed or not; raise the bound, or leave out {READ_API}"
            ),
        }
    }
}

/// What to check for a read refused with `status` and `code`, naming the setting that fits:
/// the credentials, the project, the cluster (by the codes the vendor's table gives for each),
/// the endpoint for a path it does not know, the read API itself for anything else.
pub(super) fn fix_for(
    spec: &Spec,
    (auth, token_env): (&Auth, &str),
    status: u16,
    code: Option<&str>,
) -> String {
    let is = |kind: Kind| spec.expectation(kind).is_refusal(spec, status, code);
    let ways = |key: &str| setting(key).map_or_else(|| key.to_owned(), |s| s.ways());
    let credentials = match auth {
        Auth::AkSk { .. } => {
            "the AK/SK in the variables `auth.ak_env` and `auth.sk_env` name".to_owned()
        }
        _ => format!("the token in ${token_env}, the variable `auth.token_env` names"),
    };
    let mut fixes = Vec::new();
    if status == 401 || is(Kind::InvalidCredentials) || is(Kind::MissingCredentials) {
        fixes.push(format!("the credentials ({credentials})"));
    }
    if is(Kind::ForeignProject) {
        fixes.push(format!("the project ({})", ways("project_id")));
    }
    if is(Kind::UnknownCluster) {
        fixes.push(format!("the cluster ({})", ways("fixtures.cluster_id")));
    }
    if !fixes.is_empty() {
        return format!("check {}", fixes.join(", "));
    }
    if status == 404 {
        return format!(
            "the endpoint serves no read API at this path: check {}, or leave out {READ_API}",
            ways("endpoint")
        );
    }
    format!(
        "it does not read as the vendor documents it; leave out {READ_API} ({})",
        ways("read_api")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn a_refused_read_names_the_setting_its_code_fits() {
        let spec = Spec::embedded();
        let token = Auth::Token(Secret::new("t"));
        let fix = |status, code| fix_for(&spec, (&token, "MY_TOKEN"), status, code);
        let credentials = fix(403, Some("CSS.0010"));
        assert!(credentials.contains("$MY_TOKEN"), "{credentials}");
        assert!(fix(401, None).contains("credentials"));
        assert!(fix(403, Some("CSS.5045")).contains("--project-id"));
        assert!(fix(400, Some("CSS.0047")).contains("--cluster-id"));
        // A code the table gives for two cases names both.
        let both = fix(403, Some("CSS.0015"));
        assert!(
            both.contains("--project-id") && both.contains("--cluster-id"),
            "{both}"
        );
        assert!(fix(404, None).contains("--endpoint"));
        let other = fix(400, Some("CSS.0001"));
        assert!(
            other.contains("--read-api") && !other.contains("--cluster-id"),
            "{other}"
        );
        let aksk = Auth::AkSk {
            ak: Secret::new("a"),
            sk: Secret::new("s"),
        };
        assert!(fix_for(&spec, (&aksk, "T"), 403, Some("CSS.0010")).contains("auth.sk_env"));
    }

    #[test]
    fn a_refused_read_says_what_the_server_said_made_inert() {
        let error = ReadError::Refused {
            url: "http://h/v1.0/p/clusters/c/upgrade/detail?limit=1000&offset=1".to_owned(),
            status: 403,
            code: Some("CSS.0010".to_owned()),
            message: Some("denied\u{1b}[2J".to_owned()),
            fix: "check the credentials".to_owned(),
        };
        let shown = error.to_string();
        assert!(shown.contains("answered 403 CSS.0010 \"denied"), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(shown.ends_with("check the credentials"), "{shown}");
    }
}
