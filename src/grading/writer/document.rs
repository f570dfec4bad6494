//! What every writer renders: `Document`, a run's result, and the `Writer` trait; with the
//! small renderings several writers share.

use crate::grading::report::{Grade, Report, RunVerdict};
use crate::records::findings::Summary;
use crate::records::judgement::ScenarioRecord;
use crate::records::traffic::Traffic;

/// Everything a run's reports say: the graded clauses, the scenarios with their judgements,
/// the fuzzer's summary, what the politeness layer did, and what the run was (profile, time).
#[derive(Debug, Clone)]
pub struct Document {
    pub report: Report,
    pub records: Vec<ScenarioRecord>,
    pub fuzz: Option<Summary>,
    /// What went on the wire, when the run sent anything of its own.
    pub traffic: Option<Traffic>,
    /// The profile in force (file, environment and flags merged), as YAML keys; it names the
    /// variables that hold secrets, never their values.
    pub profile: serde_json::Value,
    pub started: time::OffsetDateTime,
    pub duration: std::time::Duration,
    /// What changed since a baseline, when one was given: shown first.
    pub baseline: Option<crate::grading::baseline::Diff>,
    /// What each door of a failed task was judged to have done.
    pub doors: Vec<crate::records::effects::DoorResult>,
    /// What the run showed of the user's fixtures, said first.
    pub fixture_notes: Vec<String>,
}

impl Document {
    /// A document of `report` alone: no scenarios, fuzzing or traffic.
    pub fn new(
        report: &Report,
        profile: serde_json::Value,
        fuzz: Option<&Summary>,
        started: time::OffsetDateTime,
        duration: std::time::Duration,
    ) -> Document {
        Document {
            report: report.clone(),
            records: Vec::new(),
            fuzz: fuzz.cloned(),
            traffic: None,
            profile: without_userinfo(profile),
            started,
            duration,
            baseline: None,
            doors: Vec::new(),
            fixture_notes: Vec::new(),
        }
    }

    /// The same document, with what the run showed of the user's fixtures.
    pub(crate) fn with_fixture_notes(mut self, notes: Vec<String>) -> Document {
        self.fixture_notes = notes;
        self
    }

    /// The same document, with what each door was judged to have done.
    pub(crate) fn with_doors(
        mut self,
        doors: Vec<crate::records::effects::DoorResult>,
    ) -> Document {
        self.doors = doors;
        self
    }

    /// The same document, with what changed since a baseline.
    pub(crate) fn with_baseline(
        mut self,
        diff: Option<crate::grading::baseline::Diff>,
    ) -> Document {
        self.baseline = diff;
        self
    }

    /// The same document, with the scenarios' records.
    pub(crate) fn with_records(mut self, records: Vec<ScenarioRecord>) -> Document {
        self.records = records;
        self
    }

    /// The same document, with what the politeness layer did.
    pub(crate) fn with_traffic(mut self, traffic: Traffic) -> Document {
        self.traffic = Some(traffic);
        self
    }

    /// Clause counts by verdict, every verdict named, in the order of their labels.
    pub(super) fn grade_counts(&self) -> std::collections::BTreeMap<&'static str, usize> {
        Grade::ALL
            .iter()
            .map(|g| {
                let n = self.report.clauses.iter().filter(|c| c.grade == *g).count();
                (g.label(), n)
            })
            .collect()
    }

    /// The one-line summary every rendering leads with.
    pub fn headline(&self) -> String {
        let counts: Vec<String> = self
            .grade_counts()
            .into_iter()
            .filter(|(label, n)| *n > 0 || matches!(*label, "PASS" | "FAIL"))
            .map(|(label, n)| format!("{n} {label}"))
            .collect();
        format!(
            "{}: {} clauses ({}){}",
            match self.report.verdict() {
                RunVerdict::Conformant => "Conformant",
                RunVerdict::NotConformant => "NOT conformant",
                RunVerdict::Incomplete => "INCOMPLETE (MUST clauses not judged)",
                RunVerdict::FixtureError => {
                    "FIXTURE ERROR (MUST clauses not judged: a fixture was not usable)"
                }
                RunVerdict::NotJudged => "NOT JUDGED (the target answered nothing)",
                RunVerdict::Interrupted => "INTERRUPTED (what was judged before the signal)",
            },
            self.report.clauses.len(),
            counts.join(", "),
            if self.report.strict { ", strict" } else { "" }
        )
    }
}

/// The fuzzer's totals in a sentence (Markdown and HTML).
pub(super) fn fuzz_line(f: &Summary) -> String {
    format!(
        "{} generated cases (seed {}): {} judged, {} without a failed task, {} transport errors; {} finding(s).",
        f.cases,
        f.seed,
        f.judged,
        f.without_task,
        f.transport_errors,
        f.findings.len()
    )
}

pub(super) use crate::shown::rfc3339;

/// The profile with any `user:password@` taken out of its endpoint.
pub(super) fn without_userinfo(mut profile: serde_json::Value) -> serde_json::Value {
    if let Some(serde_json::Value::String(endpoint)) = profile.get_mut("endpoint") {
        *endpoint = crate::shown::without_userinfo(endpoint);
    }
    profile
}

/// The "Judged" cell of a clause: its judged scenarios of all it has (`3/4`), or `-` for a
/// verdict of requests alone (a served stub's or a proxy's, which has no scenarios).
pub(super) fn judged_cell(c: &crate::grading::report::ClauseResult) -> String {
    if c.scenarios.is_empty() {
        "-".to_owned()
    } else {
        format!("{}/{}", c.judged_scenarios, c.scenarios.len())
    }
}

/// Whether a clause's evidence is worth showing: it did not simply pass.
pub(super) fn shows(c: &crate::grading::report::ClauseResult) -> bool {
    c.grade != Grade::Pass && !c.evidence.is_empty()
}
