//! The client side of the contract, as the stub sees it: a request refused with a status the
//! page says not to repeat unchanged (400, 403: the spec's `client_may_repeat`) must not come
//! again unchanged. "Unchanged" is the method, path, query, body and the identity presented
//! (the token, or the AK of a signature), so a client that re-signs the same request (a new
//! X-Sdk-Date and signature) still counts as repeating it.

use std::collections::BTreeMap;
use std::hash::{Hash as _, Hasher as _};

use crate::exchange::TOKEN_HEADER;
use crate::signing;
use crate::spec::{Kind, Spec};
use crate::text::shorten;

use super::answer::{Incoming, path_and_query};

/// What the stub's clients did, and the refusals they must not repeat.
#[derive(Debug, Default)]
pub struct Watch {
    /// Refused requests by fingerprint, with the status they got.
    refused: std::collections::HashMap<u64, u16>,
    summary: ClientSummary,
}

/// What the stub's clients did, for the summary on shutdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSummary {
    pub requests: u64,
    pub by_status: BTreeMap<u16, u64>,
    /// Requests re-sent unchanged after a 400 or 403.
    pub resent: u64,
    /// The first few re-sent requests, described.
    pub examples: Vec<String>,
    /// Requests (any method) that named one of the stub's tasks.
    pub on_tasks: u64,
}

impl std::fmt::Display for ClientSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(status, n)| format!("{n} x {status}"))
            .collect();
        write!(
            f,
            "{} request(s) answered ({})",
            self.requests,
            if statuses.is_empty() {
                "none".to_owned()
            } else {
                statuses.join(", ")
            }
        )?;
        if self.resent == 0 {
            write!(
                f,
                "; no request was re-sent unchanged after a 400 or 403; {} named one of the stub's tasks",
                self.on_tasks
            )
        } else {
            write!(
                f,
                "; CLIENT FAULT: {} request(s) re-sent unchanged after a 400 or 403, which the page says not to repeat:",
                self.resent
            )?;
            for e in &self.examples {
                write!(f, "\n  {e}")?;
            }
            Ok(())
        }
    }
}

impl Watch {
    pub fn summary(&self) -> &ClientSummary {
        &self.summary
    }

    /// Logs the request with the stub's verdict and checks it against the client's duties.
    pub fn observe(&mut self, spec: &Spec, req: &Incoming<'_>, status: u16, kind: Option<Kind>) {
        let uri = path_and_query(req.target);
        let shown = shorten(uri);
        let verdict = kind.map_or_else(|| "not classified".to_owned(), |k| k.to_string());
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (req.method, uri, req.body, identity(req.headers)).hash(&mut h);
        let fingerprint = h.finish();
        let before = if spec.client_may_repeat(status) {
            self.refused.remove(&fingerprint)
        } else {
            self.refused.insert(fingerprint, status)
        };
        let summary = &mut self.summary;
        summary.requests += 1;
        *summary.by_status.entry(status).or_default() += 1;
        tracing::info!("{} {shown} -> {status} ({verdict})", req.method);
        if let Some(earlier) = before {
            summary.resent += 1;
            let what = format!(
                "{} {shown}: re-sent unchanged after a {earlier}",
                req.method
            );
            tracing::warn!(
                "client fault: {what}; the page says a {earlier} is not to be repeated unchanged"
            );
            if summary.examples.len() < 10 {
                summary.examples.push(what);
            }
        }
    }
}

/// Who a request says it is: its token or the access key of its signature (not the date or
/// signature, which change every time a request is signed).
fn identity(headers: &[(String, String)]) -> Option<String> {
    headers.iter().find_map(|(k, v)| {
        if k.eq_ignore_ascii_case(TOKEN_HEADER) {
            Some(format!("token {v}"))
        } else if k.eq_ignore_ascii_case("authorization") {
            let access = signing::authorization_field(v, "Access");
            Some(format!("ak {}", access.unwrap_or(v)))
        } else {
            None
        }
    })
}
