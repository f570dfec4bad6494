//! An answer the run's fixtures explain as well as the server. The preflight found that the
//! target answers an unknown task of the run's project and cluster as it answers a project or
//! a cluster that is not the caller's, and could not tell which it is (no read API, no task
//! that is not failed). Until a request on that project and cluster is accepted (then they are
//! the caller's), a clause broken with exactly that answer is not judged by it: a wrong
//! project or cluster would have the same answer, and the run says so as a fixture error.

use std::collections::BTreeMap;

use crate::contract::verdict::{Evidence, Verdict};
use crate::records::effects::judge::outcomes_follow;
use crate::records::judgement::ScenarioRecord;

/// The answer a project or a cluster that is not the caller's gets, and what the preflight
/// said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspicion {
    pub why: String,
    pub status: u16,
    pub error_code: Option<String>,
}

impl Suspicion {
    fn answered(&self, evidence: &Evidence) -> bool {
        evidence.status == self.status && evidence.error_code == self.error_code
    }

    /// Whether `records` show that `project` and `cluster` are the caller's: a request on
    /// both was accepted (200).
    pub fn refuted(records: &[ScenarioRecord], project: &str, cluster: &str) -> bool {
        records.iter().flat_map(|r| &r.judgements).any(|j| {
            j.status == 200 && j.request.project_id == project && j.request.cluster_id == cluster
        })
    }

    /// Sets aside every violation in `records` whose answer is the suspect one: its clause is
    /// not judged by that request (unconfirmed, with why), and the scenario's outcome follows.
    /// Returns how many were set aside.
    pub fn set_aside_in_records(&self, records: &mut [ScenarioRecord]) -> usize {
        let mut touched = BTreeMap::new();
        let mut set_aside = 0;
        for (at, record) in records.iter_mut().enumerate() {
            for judgement in &mut record.judgements {
                let n = self.set_aside_in(&mut judgement.verdict);
                if n > 0 {
                    set_aside += n;
                    touched.insert(at, judgement.verdict.note.clone());
                }
            }
        }
        outcomes_follow(records, touched);
        set_aside
    }

    /// Sets aside the violations of `verdict` whose answer is the suspect one (unconfirmed,
    /// with why); how many.
    pub fn set_aside_in(&self, verdict: &mut Verdict) -> usize {
        let (aside, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut verdict.violations)
            .into_iter()
            .partition(|v| self.answered(&v.evidence));
        verdict.violations = kept;
        for v in &aside {
            verdict.checked.remove(&v.clause);
            if !verdict.unconfirmed.contains(&v.clause) {
                verdict.unconfirmed.push(v.clause.clone());
            }
        }
        if !aside.is_empty() {
            verdict.note = Some(format!(
                "unconfirmed: the answer ({}) is the one the target gives a project or a cluster that is not yours, and the run could not tell that its own are: {}",
                self.answer(),
                self.why
            ));
        }
        aside.len()
    }

    /// The suspect answer in words: `403 CSS.0015`.
    fn answer(&self) -> String {
        match &self.error_code {
            Some(code) => format!("{} {}", self.status, crate::shown::inert(code)),
            None => self.status.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::spec::{Kind, Level};
    use crate::contract::verdict::Violation;
    use crate::records::judgement::{Judgement, ScenarioOutcome};

    fn suspicion() -> Suspicion {
        Suspicion {
            why: "check the project and the cluster".to_owned(),
            status: 403,
            error_code: Some("CSS.0015".to_owned()),
        }
    }

    /// A request that broke `clause` with `status` and `code`.
    fn broke(clause: &str, status: u16, code: Option<&str>) -> Judgement {
        let mut verdict = Verdict::of(Kind::InvalidRetryMode);
        verdict.checked.insert(clause.to_owned());
        verdict.violations.push(Violation {
            clause: clause.to_owned(),
            level: Level::Should,
            expected: "400".to_owned(),
            evidence: Evidence {
                status,
                error_code: code.map(str::to_owned),
                body_excerpt: String::new(),
            },
        });
        Judgement::sample(verdict, status, code)
    }

    #[test]
    fn a_violation_with_the_answer_another_cluster_gets_is_not_judged_and_others_stand() {
        let mut records = vec![ScenarioRecord::sample("a:1"), ScenarioRecord::sample("b:2")];
        records[0]
            .judgements
            .push(broke("RUT-QUERY-04", 403, Some("CSS.0015")));
        // The same status with another code is not the suspect answer.
        records[1]
            .judgements
            .push(broke("RUT-QUERY-04", 403, Some("CSS.0010")));
        for record in &mut records {
            record.outcome = ScenarioOutcome::Failed("violated".to_owned());
        }
        assert_eq!(suspicion().set_aside_in_records(&mut records), 1);
        let set_aside = &records[0].judgements[0].verdict;
        assert!(set_aside.passed(), "{set_aside:?}");
        assert_eq!(set_aside.unconfirmed, ["RUT-QUERY-04"]);
        assert!(!set_aside.checked.contains("RUT-QUERY-04"));
        let note = set_aside.note.as_deref().unwrap_or_default();
        assert!(
            note.starts_with("unconfirmed: the answer (403 CSS.0015)"),
            "{note}"
        );
        assert!(
            note.contains("403 CSS.0015") && note.contains("check the project"),
            "{note}"
        );
        assert!(
            matches!(&records[0].outcome, ScenarioOutcome::Unjudged(why) if why == note),
            "{:?}",
            records[0].outcome
        );
        assert!(!records[1].judgements[0].verdict.passed());
        assert!(matches!(records[1].outcome, ScenarioOutcome::Failed(_)));
    }

    #[test]
    fn a_request_accepted_on_the_runs_project_and_cluster_lifts_the_doubt() {
        let mut records = vec![ScenarioRecord::sample("a:1")];
        let on = |status, code| Judgement::sample(Verdict::of(Kind::Retry), status, code);
        records[0].judgements.push(on(403, Some("CSS.0015")));
        assert!(!Suspicion::refuted(&records, "p", "c"));
        records[0].judgements.push(on(200, None));
        // `Request::sample` is on project p, cluster c: accepted there, not elsewhere.
        assert!(Suspicion::refuted(&records, "p", "c"));
        assert!(!Suspicion::refuted(&records, "p", "another"));
        assert!(!Suspicion::refuted(&records, "another", "c"));
    }

    #[test]
    fn a_verdict_keeps_what_another_answer_broke() {
        let mut judged = broke("RUT-QUERY-04", 403, Some("CSS.0015")).verdict;
        let other = broke("RUT-STATUS-02", 500, None).verdict.violations;
        judged.violations.extend(other);
        judged.checked.insert("RUT-STATUS-02".to_owned());
        assert_eq!(suspicion().set_aside_in(&mut judged), 1);
        let left: Vec<&str> = judged
            .violations
            .iter()
            .map(|v| v.clause.as_str())
            .collect();
        assert_eq!(left, ["RUT-STATUS-02"]);
        assert_eq!(judged.unconfirmed, ["RUT-QUERY-04"]);
        assert!(judged.checked.contains("RUT-STATUS-02"));
        // Nothing to set aside: the verdict is as it was.
        let before = judged.clone();
        assert_eq!(suspicion().set_aside_in(&mut judged), 0);
        assert_eq!(judged, before);
    }
}
