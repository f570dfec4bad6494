//! The oracle: the one place where expectations are applied. Given the kind of request that was
//! sent and the answer that came back, it returns a verdict naming every violated clause of the
//! spec with its evidence. It knows no clause IDs of its own: the spec's `rules` and
//! `expectations` name them.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::contract::classify::Parts;
use crate::contract::request::{Request, Response};
use crate::contract::spec::{Expectation, Kind, Level, Spec};
use crate::contract::verdict::{Evidence, Verdict, Violation};

/// How much of a body a verdict quotes.
const EXCERPT_CHARS: usize = 200;

/// The error body the vendor documents (a remembered refusal keeps it in this shape too).
#[derive(Deserialize, serde::Serialize)]
pub(crate) struct ErrorFields {
    pub(crate) error_code: String,
    pub(crate) error_msg: String,
}

/// Judges `response` as the answer to `request`, of `kind`: as `judge`, except that an answer
/// from in front of the operation (one of the spec's gateway statuses for a path with an
/// empty segment) is judged by no clause and says so in a note (INFO).
pub fn judge_request(spec: &Spec, kind: Kind, request: &Request, response: &Response) -> Verdict {
    let error = error_fields(response);
    let judged = Judged {
        error: error.as_ref(),
        words: true,
    };
    judge_exchange(
        spec,
        kind,
        gateway_statuses(spec, request),
        response,
        judged,
    )
}

/// What a gateway in front of the operation may answer `request` with, and why (a path with
/// an empty segment; a form of the grammar a gateway may not serve, such as HTTP/1.0).
fn gateway_statuses<'s>(spec: &'s Spec, request: &Request) -> Option<(&'s [u16], &'static str)> {
    if request.has_empty_segment() {
        return Some((&spec.gateway_statuses_for_empty_segments, EMPTY_SEGMENT));
    }
    let version = request.shape.version;
    if version.is_default() {
        return None;
    }
    spec.variations()
        .map(|(_, v)| v)
        .find(|v| v.version == Some(version))
        .map(|v| {
            (
                v.gateway_statuses.as_slice(),
                "a request in another version of HTTP",
            )
        })
}

const EMPTY_SEGMENT: &str = "a path with an empty segment";

/// What judging an answer takes besides the answer: its body's error fields, read once, and
/// whether a violation is put into words (its expectation and evidence).
#[derive(Clone, Copy)]
struct Judged<'e> {
    error: Option<&'e ErrorFields>,
    words: bool,
}

/// Judges `response` as the answer to a request of which only the `readings` are known (what
/// the proxy sees: the server's credentials check, the caller's project and the task's state
/// may be unknown). A clause is judged only where every reading judges it, and violated only
/// where every reading says so: never a false alarm, whichever reading was the server's.
pub(crate) fn judge_readings(
    spec: &Spec,
    readings: &BTreeSet<Kind>,
    parts: &Parts<'_>,
    response: &Response,
) -> Verdict {
    let gateway = parts.has_empty_segment().then_some((
        spec.gateway_statuses_for_empty_segments.as_slice(),
        EMPTY_SEGMENT,
    ));
    every_one(each_reading(spec, readings, gateway, response))
}

/// `judge_request` of a request a server may take as any of `readings` (one whose
/// `retry_mode` is not allowed, on a task that is not a failed one of the caller's: the page
/// does not say which a server checks first). An answer one reading allows passes; one that
/// none allows is judged by what they all say it broke, or else (each broke another clause:
/// a 200, say) by the first reading.
pub fn judge_request_as(
    spec: &Spec,
    readings: &BTreeSet<Kind>,
    request: &Request,
    response: &Response,
) -> Verdict {
    // One reading (nearly every request): as `judge_request`, without the comparing.
    if let (1, Some(kind)) = (readings.len(), readings.first()) {
        return judge_request(spec, *kind, request, response);
    }
    let mut each = each_reading(spec, readings, gateway_statuses(spec, request), response);
    if let Some(allowed) = each.iter().position(Verdict::passed) {
        return each.swap_remove(allowed);
    }
    let first = each.first().cloned();
    let all = every_one(each);
    match first {
        Some(first) if all.violations.is_empty() => first,
        _ => all,
    }
}

/// The verdict of each of `readings` on `response`, the first with its words.
fn each_reading(
    spec: &Spec,
    readings: &BTreeSet<Kind>,
    gateway: Option<(&[u16], &'static str)>,
    response: &Response,
) -> Vec<Verdict> {
    // The body is read once, whatever the number of readings.
    let error = error_fields(response);
    readings
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let judged = Judged {
                error: error.as_ref(),
                words: i == 0,
            };
            judge_exchange(spec, *kind, gateway, response, judged)
        })
        .collect()
}

/// What every verdict judges and violates, with the first's words.
fn every_one(verdicts: Vec<Verdict>) -> Verdict {
    let mut each = verdicts.into_iter();
    let Some(mut verdict) = each.next() else {
        return Verdict {
            note: Some("no reading".to_owned()),
            ..Verdict::of(Kind::OtherMethod)
        };
    };
    for other in each {
        verdict.checked.retain(|c| other.checked.contains(c));
        verdict.violations.retain(|v| other.violates(&v.clause));
        if verdict.note != other.note {
            verdict.note = None;
        }
    }
    verdict
}

/// `judge_request`, from what it needs of the request: whether a path parameter is empty.
/// A request is judged by the clauses of its own kind and the rules for every answer only: a
/// retry with a parameter the page does not define, accepted, judges RUT-QUERY-06, never the
/// clauses of the page's own two requests.
fn judge_exchange(
    spec: &Spec,
    kind: Kind,
    gateway: Option<(&[u16], &str)>,
    response: &Response,
    judged: Judged<'_>,
) -> Verdict {
    if let Some((statuses, form)) = gateway
        && statuses.contains(&response.status)
    {
        return Verdict {
            note: Some(format!(
                "status {} for {form}: the gateway's answer, in front of the operation, not the operation's",
                response.status
            )),
            ..Verdict::of(kind)
        };
    }
    judge_read(spec, kind, response, judged)
}

/// The error code of an answer's error body, if it has the documented one.
pub fn error_code(response: &Response) -> Option<String> {
    error_fields(response).map(|e| e.error_code)
}

/// Judges `response` as the answer to a request of `kind`.
pub fn judge(spec: &Spec, kind: Kind, response: &Response) -> Verdict {
    let error = error_fields(response);
    let judged = Judged {
        error: error.as_ref(),
        words: true,
    };
    judge_read(spec, kind, response, judged)
}

/// The error fields of an answer's body, if it is the documented error body.
fn error_fields(response: &Response) -> Option<ErrorFields> {
    serde_json::from_slice(&response.body).ok()
}

/// `judge`, the body's error fields already read.
fn judge_read(spec: &Spec, kind: Kind, response: &Response, judged: Judged<'_>) -> Verdict {
    let expectation = spec.expectation(kind);
    let error = judged.error;
    let mut judging = Judging {
        spec,
        response,
        error_code: error.map(|e| e.error_code.as_str()),
        words: judged.words,
        verdict: Verdict::of(kind),
    };
    // The rules for the operation's own answers do not hold for what is not the operation.
    judging.answer_rules(error, !expectation.not_the_operation);
    judging.kind_rules(expectation);
    let status = response.status;
    if let (Some(clause), 200) = (&expectation.never_acts, status) {
        // What is not the operation may answer as it likes; whether it acted is seen on the
        // task afterwards.
        judging.verdict.note = Some(format!(
            "status 200 for a {kind} request: not the operation's answer; whether it acted on the task is judged by what the task does next ({clause})"
        ));
    }
    judging.verdict
}

/// One answer being judged, clause by clause.
struct Judging<'a> {
    spec: &'a Spec,
    response: &'a Response,
    error_code: Option<&'a str>,
    /// Whether a violation is put into words; without, only its clause is recorded.
    words: bool,
    verdict: Verdict,
}

impl Judging<'_> {
    /// Records that `clause` was exercised, and a violation unless it `holds`; `expected` is
    /// put into words only for a violation (most exchanges conform).
    fn check(&mut self, clause: &str, holds: bool, expected: &dyn Fn() -> String) {
        // Most clauses are checked once per answer: one search, not a look and then a second.
        self.verdict.checked.insert(clause.to_owned());
        if !holds {
            let level = self.spec.clause(clause).map_or(Level::Must, |c| c.level);
            let evidence = Evidence {
                status: self.response.status,
                error_code: self.error_code.map(str::to_owned),
                body_excerpt: String::new(),
            };
            let (expected, evidence) = if self.words {
                let body_excerpt = excerpt(&self.response.body);
                (
                    expected(),
                    Evidence {
                        body_excerpt,
                        ..evidence
                    },
                )
            } else {
                (String::new(), evidence)
            };
            self.verdict.violations.push(Violation {
                clause: clause.to_owned(),
                level,
                expected,
                evidence,
            });
        }
    }

    /// The rules every answer of the operation keeps, whatever the request: a documented
    /// status, no 5xx, no body on a 200, the documented error body.
    fn answer_rules(&mut self, error: Option<&ErrorFields>, the_operation: bool) {
        let (spec, status) = (self.spec, self.response.status);
        let rules = &spec.rules;
        if the_operation {
            self.check(
                &rules.documented_status,
                spec.is_documented_status(status),
                &|| {
                    let documented: Vec<String> = spec
                        .status_codes
                        .iter()
                        .map(|s| s.code.to_string())
                        .collect();
                    format!("a documented status ({})", documented.join(", "))
                },
            );
        }
        self.check(
            &rules.no_server_error,
            !(500..600).contains(&status),
            &|| "no 5xx server error".to_owned(),
        );
        if the_operation && status == 200 {
            let empty = self.response.body.is_empty();
            self.check(&rules.empty_success_body, empty, &|| {
                "a 200 without a body".to_owned()
            });
        }
        if the_operation && spec.is_error_status(status) && self.response.truncated {
            // What the whole body says cannot be told from a part of it.
            self.verdict.note = Some(format!(
                "its body is too large to judge (only the first {} bytes are read): whether it is the documented error body is not judged",
                self.response.body.len()
            ));
        } else if the_operation && spec.is_error_status(status) {
            self.check(&rules.error_body, error.is_some(), &|| {
                "a JSON body with string error_code and error_msg".to_owned()
            });
            if let Some(e) = error {
                self.check(
                    &rules.error_code_form,
                    spec.error_code_form().is_match(&e.error_code),
                    &|| format!("an error_code matching {}", spec.error_body.code_pattern),
                );
            }
        }
    }

    /// The rules of the request's kind: refused where it must be, answered as it is to be.
    fn kind_rules(&mut self, expectation: &Expectation) {
        let (kind, status) = (self.verdict.kind, self.response.status);
        if let Some(refused_by) = &expectation.refused_by {
            self.check(refused_by, expectation.accepts() || status != 200, &|| {
                format!("{kind} not accepted with 200")
            });
        }
        if let Some(answered_by) = &expectation.answered_by {
            // A code in a body too large to read whole is not known: the status alone judges.
            let allowed = expectation.allows(status, self.error_code)
                || (self.response.truncated
                    && expectation.outcomes.iter().any(|o| o.status == status));
            self.check(answered_by, allowed, &|| describe_outcomes(expectation));
        }
    }
}

fn describe_outcomes(expectation: &Expectation) -> String {
    let each: Vec<String> = expectation
        .outcomes
        .iter()
        .map(|o| {
            if o.error_codes.is_empty() {
                o.status.to_string()
            } else {
                format!("{} ({})", o.status, o.error_codes.join(" | "))
            }
        })
        .collect();
    each.join(" or ")
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gateways_505_to_http_1_0_is_not_the_operations_answer_and_to_http_1_1_it_is() {
        let spec = Spec::embedded();
        let refused = Response {
            status: 505,
            ..Response::default()
        };
        let mut old = Request::sample();
        old.shape.version = crate::contract::spec::HttpVersion::Http10;
        let verdict = judge_request(&spec, Kind::UnknownTask, &old, &refused);
        assert!(verdict.passed(), "{verdict}");
        assert!(
            verdict
                .note
                .as_deref()
                .is_some_and(|n| n.contains("another version of HTTP"))
        );
        let verdict = judge_request(&spec, Kind::UnknownTask, &Request::sample(), &refused);
        assert!(!verdict.passed(), "{verdict}");
    }

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: None,
            body: body.as_bytes().to_vec(),
            headers: Vec::new(),
            truncated: false,
        }
    }

    const ERR400: &str = r#"{"error_code":"CSS.0001","error_msg":"Incorrect parameters"}"#;
    const ERR403: &str = r#"{"error_code":"CSS.0010","error_msg":"not authorized"}"#;

    fn violated(kind: Kind, response: Response) -> Vec<String> {
        let v = judge(&Spec::embedded(), kind, &response);
        v.violations.into_iter().map(|v| v.clause).collect()
    }

    #[test]
    fn an_answer_one_reading_allows_passes_and_one_none_allows_fails() {
        let spec = Spec::embedded();
        let both = BTreeSet::from([Kind::InvalidRetryMode, Kind::UnknownTask]);
        let judged = |response: Response| {
            let v = judge_request_as(&spec, &both, &Request::sample(), &response);
            v.violations
                .into_iter()
                .map(|v| v.clause)
                .collect::<Vec<_>>()
        };
        let unknown = r#"{"error_code":"CSS.0015","error_msg":"No resources are found"}"#;
        // The unknown task's refusal, which the bad retry_mode alone would not allow.
        assert_eq!(
            violated(Kind::InvalidRetryMode, answer(403, unknown)),
            ["RUT-QUERY-04"]
        );
        assert!(judged(answer(403, unknown)).is_empty());
        assert!(judged(answer(400, ERR400)).is_empty());
        // Accepted: no reading allows it, each broke its own clause; the first one's stand.
        assert_eq!(judged(answer(200, "")), ["RUT-QUERY-03", "RUT-QUERY-04"]);
        // A refusal without the vendor's body: what every reading says it broke.
        assert_eq!(judged(answer(403, "")), ["RUT-ERR-01"]);
    }

    #[test]
    fn a_bodyless_200_for_a_retry_conforms() {
        assert!(violated(Kind::Retry, answer(200, "")).is_empty());
    }

    #[test]
    fn a_200_with_a_body_violates_the_empty_body_clause() {
        assert_eq!(violated(Kind::Retry, answer(200, "{}")), ["RUT-RESP-01"]);
    }

    #[test]
    fn an_invalid_retry_mode_accepted_with_200_violates_must_and_should() {
        assert_eq!(
            violated(Kind::InvalidRetryMode, answer(200, "")),
            ["RUT-QUERY-03", "RUT-QUERY-04"]
        );
        assert!(violated(Kind::InvalidRetryMode, answer(400, ERR400)).is_empty());
    }

    #[test]
    fn a_500_violates_the_status_clauses() {
        let v = violated(Kind::MalformedId, answer(500, ""));
        assert!(v.contains(&"RUT-STATUS-01".to_owned()));
        assert!(v.contains(&"RUT-STATUS-02".to_owned()));
        assert!(v.contains(&"RUT-PATH-02".to_owned()));
    }

    #[test]
    fn an_unknown_cluster_may_be_400_or_403_with_the_listed_code() {
        let css0015 = r#"{"error_code":"CSS.0015","error_msg":"denied"}"#;
        assert!(violated(Kind::UnknownCluster, answer(403, css0015)).is_empty());
        assert_eq!(
            violated(Kind::UnknownCluster, answer(403, ERR403)),
            ["RUT-PATH-03"]
        );
    }

    #[test]
    fn a_401_for_missing_credentials_is_undocumented_and_wrong() {
        assert_eq!(
            violated(Kind::MissingCredentials, answer(401, ERR403)),
            ["RUT-STATUS-01", "RUT-AUTH-01"]
        );
        assert!(violated(Kind::MissingCredentials, answer(403, ERR403)).is_empty());
    }

    #[test]
    fn under_several_readings_only_what_every_reading_says_is_judged() {
        let spec = Spec::embedded();
        let parts = Parts::of_wire(
            &spec,
            "PUT",
            "/v1.0/6204a5bd270343b5885144cf9c8c158d/clusters/ea244205-d641-45d9-9dcb-ab2236bcd07e/upgrade/bcdb711c-a7f0-4007-b8ee-9f13c05f8326/retry?retry_mode=ABORT",
            crate::contract::classify::Identity::Valid,
        )
        .unwrap();
        let judged = |kinds: &[Kind], answer: Response| {
            let readings = kinds.iter().copied().collect();
            let v = judge_readings(&spec, &readings, &parts, &answer);
            let violated: Vec<String> = v.violations.into_iter().map(|v| v.clause).collect();
            (violated, v.checked)
        };
        // `ABORT` accepted, the credentials known valid: the page's MUST is broken.
        let (violated, _) = judged(&[Kind::InvalidRetryMode], answer(200, ""));
        assert_eq!(violated, ["RUT-QUERY-03", "RUT-QUERY-04"]);
        // The credentials unknown: bad credentials accepted or `ABORT` accepted, but which
        // clause is not known, so neither is named (never a false alarm); what holds either
        // way (a documented status, an empty 200) is still judged.
        let both = [Kind::InvalidCredentials, Kind::InvalidRetryMode];
        let (violated, checked) = judged(&both, answer(200, ""));
        assert!(violated.is_empty(), "{violated:?}");
        assert!(checked.contains("RUT-STATUS-01") && checked.contains("RUT-RESP-01"));
        assert!(!checked.contains("RUT-QUERY-03"));
        // A 500 is a 500 under every reading.
        let (violated, _) = judged(&both, answer(500, "boom"));
        assert!(
            violated.contains(&"RUT-STATUS-02".to_owned()),
            "{violated:?}"
        );
    }

    #[test]
    fn an_error_without_the_documented_body_violates_the_error_body_clause() {
        assert_eq!(
            violated(Kind::InvalidRetryMode, answer(400, "bad request")),
            ["RUT-ERR-01"]
        );
        let odd = r#"{"error_code":"E1","error_msg":"x"}"#;
        assert_eq!(
            violated(Kind::InvalidRetryMode, answer(400, odd)),
            ["RUT-ERR-02"]
        );
    }

    #[test]
    fn a_body_too_large_to_read_whole_is_not_judged_by_what_only_the_whole_says() {
        let spec = Spec::embedded();
        let mut cut = answer(403, r#"{"error_code":"CSS.0015","error_msg":"xxxxxxxx"#);
        cut.truncated = true;
        let verdict = judge(&spec, Kind::UnknownCluster, &cut);
        assert!(!verdict.violates("RUT-ERR-01"), "{verdict}");
        assert!(!verdict.violates("RUT-PATH-03"), "{verdict}");
        assert!(
            verdict
                .note
                .as_deref()
                .is_some_and(|n| n.contains("too large to judge"))
        );
        // The same bytes, whole, are not the error body.
        cut.truncated = false;
        assert!(judge(&spec, Kind::UnknownCluster, &cut).violates("RUT-ERR-01"));
    }
}
