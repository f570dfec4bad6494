//! The client side of the contract, as the stub sees it: a request refused with a status the
//! page says not to repeat unchanged (400, 403: the spec's `client_may_repeat`) must not come
//! again unchanged. "Unchanged" is the method (and a header asking for another), path, query,
//! body and the credentials as the stub judged them: the token, or the AK of a signature
//! (taken from the header the stub verifies, `Authorization` before `X-Auth-Token`), with
//! whether they were valid. So a client that re-signs the same request (a new X-Sdk-Date and
//! signature) still repeats it, and one that corrects its SK (same AK, now valid) or its token
//! does not. The memory of refusals is bounded (the most recent `REMEMBERED` to
//! `2 * REMEMBERED`), and `reset` starts a new scope (a client team's next run of its suite).

use std::hash::{Hash as _, Hasher as _};

use crate::contract::request::TOKEN_HEADER;
use crate::contract::spec::{Kind, Spec};
pub use crate::records::clients::{ClientSummary, Tally};
use crate::shown::shorten;
use crate::transport::signing;

use super::answer::Incoming;
use crate::contract::classify::{self, Identity, Parts, path_and_query};

/// What the server made of a request, as far as the watcher knows it: the stub knows all,
/// the proxy in front of a server may not.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen<'a> {
    /// The kind the server took it for, when known.
    pub kind: Option<Kind>,
    /// Whether it is a request of the operation (its path, its method).
    pub operation: bool,
    /// The credentials as the server judged them, when known.
    pub credentials: Option<Identity>,
    /// What is wrong with its signature as such (`answer::signature_fault`).
    pub signature_fault: Option<&'a str>,
}

impl<'a> Seen<'a> {
    /// What the stub made of a request it took for `kind` (none: not the operation's path,
    /// or answered before it was classified).
    pub(crate) fn by_stub(kind: Option<Kind>, signature_fault: Option<&'a str>) -> Seen<'a> {
        Seen {
            kind,
            operation: kind.is_some_and(|k| k != Kind::OtherMethod),
            credentials: Some(match kind {
                Some(Kind::MissingCredentials) => Identity::Nothing,
                Some(Kind::InvalidCredentials) => Identity::Invalid,
                _ => Identity::Valid,
            }),
            signature_fault,
        }
    }

    fn verdict(&self) -> String {
        match self.kind {
            Some(kind) => kind.to_string(),
            None if self.operation => "not classified: more than one reading".to_owned(),
            None => "not classified".to_owned(),
        }
    }
}

/// What the stub's clients did, and the refusals they must not repeat.
#[derive(Debug, Default)]
pub struct Watch {
    /// Refused requests by fingerprint, with the status they got: the current generation,
    /// and the one before it (dropped when the current one is full).
    refused: std::collections::HashMap<u64, u16>,
    older: std::collections::HashMap<u64, u16>,
    summary: ClientSummary,
    /// The client faults logged a line each so far, those said only in a sum since, and when
    /// the last sum was said: a client that repeats a fault thousands of times a second gets
    /// a line a fault for its first ones, then one line every `SUM_EVERY`.
    faults_logged: u64,
    faults_unsaid: u64,
    last_sum: Option<std::time::Instant>,
}

/// How many client faults are logged a line each.
const FAULTS_LOGGED: u64 = 20;
/// How often the faults past those are said in a sum.
const SUM_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Refusals remembered per generation (two generations are kept: ~3 MB at most).
pub const REMEMBERED: usize = 50_000;

impl ClientSummary {
    /// Counts one request against `clause`; `violation` says how it broke it, if it did.
    fn judge(&mut self, clause: &str, violation: Option<String>) {
        self.clauses
            .entry(clause.to_owned())
            .or_default()
            .count(violation);
    }
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

    /// Forgets the refusals: what comes next is a new scope (the summary keeps counting).
    pub fn reset(&mut self) {
        self.refused.clear();
        self.older.clear();
        tracing::info!(target: "css_conformance::clients", "client scope reset: earlier refusals forgotten");
    }

    /// How many refusals it remembers now.
    pub fn remembered(&self) -> usize {
        self.refused.len() + self.older.len()
    }

    /// Logs the request with the verdict on it and checks it against the client's duties.
    pub(crate) fn observe(
        &mut self,
        spec: &Spec,
        req: &Incoming<'_>,
        status: u16,
        seen: &Seen<'_>,
    ) {
        let uri = path_and_query(req.target);
        // A client's text is as untrusted as a server's: inert wherever it is shown.
        let shown = crate::shown::inert(&shorten(uri)).into_owned();
        let method = crate::shown::inert(req.method).into_owned();
        let verdict = seen.verdict();
        let earlier = self.recall(spec, fingerprint(req, uri, seen), status);
        let summary = &mut self.summary;
        summary.requests += 1;
        *summary.by_status.entry(status).or_default() += 1;
        tracing::info!(target: "css_conformance::clients", "{method} {shown} -> {status} ({verdict})");
        // Requests of the operation (another method, or another path, is not its client).
        if seen.operation {
            summary.judge_duties(spec, req, seen, &format!("{method} {shown}"), earlier);
        }
        if let Some(earlier) = earlier {
            summary.resent += 1;
            let what = format!("{method} {shown}: re-sent unchanged after a {earlier}");
            if self.faults_logged < FAULTS_LOGGED {
                self.faults_logged += 1;
                tracing::warn!(
                    target: "css_conformance::clients",
                    "client fault: {what}; the page says a {earlier} is not to be repeated unchanged"
                );
            } else {
                self.faults_unsaid += 1;
                if self.last_sum.is_none_or(|at| at.elapsed() >= SUM_EVERY) {
                    tracing::warn!(
                        target: "css_conformance::clients",
                        "client faults: {} more refusal(s) re-sent unchanged (the last: {what}); {} in all so far",
                        self.faults_unsaid,
                        self.summary.resent
                    );
                    self.faults_unsaid = 0;
                    self.last_sum = Some(std::time::Instant::now());
                }
            }
            let summary = &mut self.summary;
            if summary.examples.len() < 10 {
                summary.examples.push(what);
            }
        }
    }

    /// The refusal an identical request got before (forgotten now: it is this one's turn), and
    /// this one remembered if it was refused.
    fn recall(&mut self, spec: &Spec, fingerprint: u64, status: u16) -> Option<u16> {
        let earlier = self
            .refused
            .remove(&fingerprint)
            .or_else(|| self.older.remove(&fingerprint));
        if !spec.client_may_repeat(status) {
            if self.refused.len() >= REMEMBERED {
                self.older = std::mem::take(&mut self.refused);
            }
            self.refused.insert(fingerprint, status);
        }
        earlier
    }
}

impl ClientSummary {
    /// Judges a request of the operation (`what`: its method and target, shown) by the
    /// client's duties: retry_mode as the page allows, no refusal re-sent unchanged
    /// (`earlier`), a signature well formed.
    fn judge_duties(
        &mut self,
        spec: &Spec,
        req: &Incoming<'_>,
        seen: &Seen<'_>,
        what: &str,
        earlier: Option<u16>,
    ) {
        let rules = &spec.client_rules;
        let bad_mode = Parts::of_wire(spec, req.method, req.target, Identity::Valid)
            .is_some_and(|p| classify::retry_mode_fault(spec, &p.retry_mode).is_some());
        self.judge(
            &rules.retry_mode_allowed,
            bad_mode.then(|| format!("{what}: retry_mode not as the page allows")),
        );
        self.judge(
            &rules.no_unchanged_resend,
            earlier.map(|e| format!("{what}: re-sent unchanged after a {e}")),
        );
        if req
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            self.judge(
                &rules.well_formed_signature,
                seen.signature_fault.map(|f| format!("{what}: {f}")),
            );
        }
    }
}

/// Identical requests' fingerprint: method, target, body, a method-override header, who the
/// request says it is, and the credentials as the server judged them (not known: only the very
/// same credentials, a byte-identical signature, are the same).
fn fingerprint(req: &Incoming<'_>, uri: &str, seen: &Seen<'_>) -> u64 {
    let judged = match seen.credentials {
        Some(Identity::Nothing) => "none",
        Some(Identity::Invalid) => "invalid",
        Some(Identity::Valid) => "valid",
        None => "unknown",
    };
    let exact = seen.credentials.is_none();
    // A header that asks for another method makes another request.
    let overrides: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter(|(k, _)| crate::contract::classify::is_method_override(k))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        req.method,
        uri,
        req.body,
        overrides,
        identity(req.headers, exact),
        judged,
    )
        .hash(&mut h);
    h.finish()
}

/// Who a request says it is: the access key of its signature, or else its token (not the
/// date or signature, which change every time a request is signed, unless `exact`). The same
/// header the stub verifies: `Authorization` first, whatever order the headers came in.
fn identity(headers: &[(String, String)], exact: bool) -> Option<String> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if let Some(v) = header("authorization") {
        if exact {
            return Some(format!("signature {v}"));
        }
        let access = signing::authorization_field(v, "Access");
        return Some(format!("ak {}", access.unwrap_or(v)));
    }
    header(TOKEN_HEADER).map(|v| format!("token {v}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(watch: &mut Watch, spec: &Spec, n: usize) {
        let target = format!("/v1.0/p/clusters/c/upgrade/{n}/retry");
        let incoming = Incoming {
            method: "PUT",
            target: &target,
            headers: &[],
            body: b"",
        };
        watch.observe(
            spec,
            &incoming,
            400,
            &Seen::by_stub(Some(Kind::UnknownTask), None),
        );
    }

    #[test]
    fn the_memory_of_refusals_is_bounded_and_keeps_the_recent_ones() {
        let spec = Spec::embedded();
        let mut watch = Watch::default();
        for n in 0..3 * REMEMBERED {
            refused(&mut watch, &spec, n);
            assert!(watch.remembered() <= 2 * REMEMBERED);
        }
        assert_eq!(watch.summary().resent, 0);
        // The most recent refusal is still known: sending it again is a fault.
        refused(&mut watch, &spec, 3 * REMEMBERED - 1);
        assert_eq!(watch.summary().resent, 1);
        // The oldest was forgotten (never a false fault, at worst a missed one).
        refused(&mut watch, &spec, 0);
        assert_eq!(watch.summary().resent, 1);
    }
}
