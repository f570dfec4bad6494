//! The reports of the servers' runs: a served stub's clients, and a proxy's exchanges.

use std::collections::BTreeMap;

use crate::contract::spec::{Clause, Spec};
use crate::records::clients::{ClientSummary, Tally};
use crate::shown::shorten;

use super::Report;
use super::grade::{ClauseResult, Grade};

use crate::settings::options::STUB_FIXTURES;

impl Report {
    /// The client side of a served stub's run: each client clause of `spec` graded from what
    /// the stub's clients did, strictly (the stub is asked to check its clients, so a SHOULD
    /// or EXTENDED clause they broke fails the run too); a clause no request gave occasion to
    /// judge is SKIP, saying why.
    pub fn of_clients(spec: &Spec, target: &str, summary: &ClientSummary) -> Report {
        let why = "not judged: the stub answers no 429, so no client had to wait";
        Report::of(target, client_results(spec, summary, why)).strict(true)
    }

    /// A proxy's run: the server's clauses graded from the exchanges that judged them
    /// (`strict` as for `check`), then the client clauses as `of_clients` grades them; a
    /// server clause no exchange judged is SKIP, saying why. `fault` says why the upstream
    /// answered nothing, if it did not; `knows_upstream`, whether the proxy knew what the
    /// upstream knows (its reason for a SKIP).
    pub fn of_proxy(
        spec: &Spec,
        target: &str,
        server: &BTreeMap<String, Tally>,
        clients: &ClientSummary,
        strict: bool,
        fault: Option<String>,
        knows_upstream: bool,
    ) -> Report {
        let rules = &spec.rules;
        let by_effect: Vec<&String> = [
            &rules.refusal_leaves_task,
            &rules.acceptance_acts,
            &rules.named_task_only,
        ]
        .into_iter()
        .chain(
            spec.expectations
                .iter()
                .filter_map(|e| e.never_acts.as_ref()),
        )
        .collect();
        let results = graded(&spec.clauses, server, |clause| {
            if by_effect.contains(&&clause.id) {
                "not judged: the proxy sees what the server answered, not what it did to a task (`check` judges it with a failed task)".to_owned()
            } else if knows_upstream {
                "not judged: no exchange through the proxy gave occasion to".to_owned()
            } else {
                format!(
                    "not judged: no exchange settled it (judged only where every reading of a request agrees; {STUB_FIXTURES} tells what a stub upstream knows)"
                )
            }
        });
        let mut report = Report::of(target, results)
            .strict(strict)
            .with_target_fault(fault);
        report.clauses.extend(client_results(
            spec,
            clients,
            "not judged: no 429 came, so no client had to wait",
        ));
        report
    }
}

/// Each client clause graded from what the clients did (FAIL when broken at all: strict);
/// `no_429` says why the clause on Retry-After was not judged, if it was not.
fn client_results(spec: &Spec, summary: &ClientSummary, no_429: &'static str) -> Vec<ClauseResult> {
    let rules = &spec.client_rules;
    graded(&spec.client_clauses, &summary.clauses, |clause| {
        let why = if clause.id == rules.honours_retry_after {
            no_429
        } else if clause.id == rules.well_formed_signature {
            "not judged: no AK/SK request came"
        } else {
            "not judged: no request of the operation came"
        };
        why.to_owned()
    })
}

/// Each of `clauses` graded from its tally: FAIL when violated, PASS when judged, otherwise
/// SKIP with `not_judged`'s reason.
fn graded(
    clauses: &[Clause],
    tallies: &BTreeMap<String, Tally>,
    not_judged: impl Fn(&Clause) -> String,
) -> Vec<ClauseResult> {
    clauses
        .iter()
        .map(|clause| {
            let tally = tallies.get(&clause.id).cloned().unwrap_or_default();
            let (grade, evidence) = if tally.violated > 0 {
                let mut shown = vec![format!(
                    "violated in {} of the {} judged",
                    tally.violated, tally.judged
                )];
                shown.extend(tally.examples.iter().map(|e| shorten(e).to_owned()));
                (Grade::Fail, shown)
            } else if tally.judged > 0 {
                (Grade::Pass, Vec::new())
            } else {
                (Grade::Skip, vec![not_judged(clause)])
            };
            ClauseResult {
                id: clause.id.clone(),
                level: clause.level,
                statement: clause.statement.clone(),
                grade,
                evidence,
                scenarios: Vec::new(),
                judged_scenarios: 0,
                judged_by: Vec::new(),
                intermittent: false,
                needs_read_api: clause.needs_read_api,
            }
        })
        .collect()
}
