//! Re-sending a finding's case and judging the answer anew.

use crate::contract::oracle;
use crate::contract::spec::Spec;
use crate::contract::verdict::Verdict;
use crate::transport::target::{Target, TransportError};

use crate::records::findings::Finding;

/// What a replay showed.
#[derive(Debug, Clone)]
pub enum Replay {
    /// The answer, judged anew, to the request sent (its method and URL).
    Judged {
        method: String,
        url: String,
        verdict: Verdict,
    },
    /// The case needs a failed task and the target has none left.
    NoTask,
    /// The case may act on a task of a live endpoint, and mutations are not allowed.
    NeedsConsent,
}

/// Re-sends a finding's case to `target` and judges the answer anew.
pub async fn replay(
    spec: &Spec,
    target: &Target,
    finding: &Finding,
) -> Result<Replay, TransportError> {
    // A finding file is data, not consent: a case that may act on a task (one of the target's
    // failed tasks, or an ID the file names itself, which may be a real task) goes to a live
    // endpoint only with --allow-mutations.
    if finding.draft.may_act(spec) && !target.is_owned_by_us() && !target.mutations_allowed() {
        return Ok(Replay::NeedsConsent);
    }
    let Some(case) = finding.draft.resolve(spec, target) else {
        return Ok(Replay::NoTask);
    };
    let response = target.send(spec, &case.request).await?;
    // Judged as the fuzzer judged it: by every way a server may take it.
    let readings = target.readings(spec, &case.request, case.kind);
    Ok(Replay::Judged {
        method: case.request.method(spec).to_owned(),
        url: target.url(spec, &case.request),
        verdict: oracle::judge_request_as(spec, &readings, &case.request, &response),
    })
}
