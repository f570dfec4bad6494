//! The memory of refusals: answers of 400 and 403 by request, so that the same request is
//! never sent again (the page says a client should not repeat it), nor one the server failed
//! after its retries. Identical requests take turns, so that one refused while another was in
//! flight is not sent again either.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex};

use crate::contract::request::{Request, Response};
use crate::contract::spec::Spec;

use super::endpoint::TransportError;

/// How many refusals a target remembers (each a few hundred bytes).
const MAX_REMEMBERED: usize = 10_000;

/// The turn of identical requests, holding the refusal once one came.
pub(super) type Slot = Arc<tokio::sync::Mutex<Option<Response>>>;

/// Refusals by request.
#[derive(Debug, Default)]
pub(super) struct Refusals {
    memory: Mutex<HashMap<u64, Slot>>,
}

/// A request's place in the memory: its fingerprint and the turn it waits for.
pub(super) struct Turn {
    fingerprint: u64,
    pub(super) slot: Slot,
}

impl Refusals {
    /// The place of `request` (sent to `request_target`) in the memory. Memory is bounded:
    /// past the cap, a new request is not remembered (if it comes again it goes out again).
    pub(super) fn turn(&self, request_target: &str, request: &Request) -> Option<Turn> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // Headers, a body or another HTTP version make another request than the same target
        // without them.
        let shape = &request.shape;
        (request_target, request.credentials, &request.method, shape).hash(&mut h);
        let fingerprint = h.finish();
        let mut memory = self.memory.lock().ok()?;
        if memory.len() >= MAX_REMEMBERED && !memory.contains_key(&fingerprint) {
            return None;
        }
        let slot = memory.entry(fingerprint).or_default().clone();
        Some(Turn { fingerprint, slot })
    }

    /// Keeps the answer a request sent on `turn` got, if it stands for the run (`held` is
    /// the turn's slot, locked by the sender); forgets the request otherwise.
    pub(super) fn record(
        &self,
        spec: &Spec,
        turn: &Turn,
        held: Option<&mut Option<Response>>,
        response: &Result<Response, TransportError>,
    ) {
        let Ok(mut memory) = self.memory.lock() else {
            return;
        };
        match response {
            // A refusal is not sent again (the page says so), nor a request the server
            // failed (after its retries): its answer stands for the run.
            Ok(r) if !spec.client_may_repeat(r.status) || r.status >= 500 => {
                if let Some(answer) = held {
                    *answer = Some(remembered(r));
                }
                memory.insert(turn.fingerprint, Arc::clone(&turn.slot));
            }
            // Only refusals are remembered; other answers may change when sent again.
            _ => {
                memory.remove(&turn.fingerprint);
            }
        }
    }
}

/// What of a refusal is remembered: what judging it again needs, and no more. An error body
/// is kept with its message cut to 200 characters (it parses as before); another body is cut
/// to 200 bytes (and, should the cut make it parse as an error body, kept from doing so).
fn remembered(answer: &Response) -> Response {
    use crate::contract::oracle::ErrorFields;
    const KEPT: usize = 200;
    let body = match serde_json::from_slice::<ErrorFields>(&answer.body) {
        Ok(mut e) => {
            e.error_code = e.error_code.chars().take(KEPT.max(64)).collect();
            e.error_msg = e.error_msg.chars().take(KEPT).collect();
            serde_json::to_vec(&e).unwrap_or_default()
        }
        Err(_) if answer.body.len() <= KEPT => answer.body.clone(),
        Err(_) => {
            let mut cut = answer.body[..KEPT].to_vec();
            if serde_json::from_slice::<ErrorFields>(&cut).is_ok() {
                cut.insert(0, b'#');
            }
            cut
        }
    };
    // Headers judge nothing: not kept.
    Response {
        status: answer.status,
        content_type: answer.content_type.clone(),
        body,
        headers: Vec::new(),
        truncated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_refusal_is_small_and_judged_as_the_answer_was() {
        let spec = crate::contract::spec::Spec::embedded();
        let kind = crate::contract::spec::Kind::InvalidRetryMode;
        let huge =
            serde_json::json!({ "error_code": "CSS.0001", "error_msg": "x".repeat(1 << 20) });
        for body in [
            huge.to_string().into_bytes(),
            vec![b'y'; 1 << 20],
            format!(
                r#"{{"error_code":"CSS.0001","error_msg":"m"}}{}"#,
                " ".repeat(300)
            )
            .into_bytes(),
            br#"{"error_code":"CSS.0001","error_msg":"m"}"#.to_vec(),
        ] {
            let answer = Response {
                status: 400,
                content_type: Some("application/json".to_owned()),
                body,
                headers: Vec::new(),
                truncated: false,
            };
            let kept = remembered(&answer);
            assert!(kept.body.len() <= 300, "{}", kept.body.len());
            let judged = |r: &Response| {
                let v = crate::contract::oracle::judge(&spec, kind, r);
                (
                    v.violations
                        .into_iter()
                        .map(|v| v.clause)
                        .collect::<Vec<_>>(),
                    v.checked,
                )
            };
            assert_eq!(judged(&kept), judged(&answer));
        }
        // A body that is no error body stays none when cut.
        let mut tricky = br#"{"error_code":"CSS.0001","error_msg":"m"}"#.to_vec();
        tricky.resize(201, b'}');
        let answer = Response {
            status: 400,
            content_type: None,
            body: tricky,
            headers: Vec::new(),
            truncated: false,
        };
        let v = |r: &Response| {
            crate::contract::oracle::judge(&spec, kind, r)
                .violations
                .len()
        };
        assert_eq!(v(&remembered(&answer)), v(&answer));
    }
}
