//! `report.json`: the whole result in a stable schema (`css-conformance-report/1`, documented
//! in docs/reference.md).

use serde::Serialize;

use crate::grading::report::ClauseResult;
use crate::records::findings::Summary;

use super::document::{Document, rfc3339};
use super::many_targets::{MANY_SCHEMA, ManyTargets};
use super::render::Writer;

/// The `schema` value of `report.json`; it changes when a field changes meaning or goes.
pub const SCHEMA: &str = "css-conformance-report/1";

/// `report.json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Writer for Json {
    fn render(&self, doc: &Document) -> String {
        let report = &doc.report;
        let json = Schema {
            schema: SCHEMA,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            target: &report.target,
            page: report.page.as_ref(),
            profile: &doc.profile,
            seed: doc.fuzz.as_ref().map(|f| f.seed),
            started: rfc3339(doc.started),
            duration_s: doc.duration.as_secs_f64(),
            strict: report.strict,
            conformant: report.conformant(),
            complete: report.complete(),
            verdict: report.verdict(),
            exit_code: report.exit_code(),
            summary: Totals {
                clauses: doc.grade_counts(),
                scenarios_passed: report.scenarios_passed,
                scenarios_failed: report.scenarios_failed,
                scenarios_skipped: report.scenarios_skipped,
                scenarios_unanswered: report.scenarios_unanswered,
            },
            clauses: &report.clauses,
            doors: &doc.doors,
            fuzz: doc.fuzz.as_ref(),
            traffic: doc.traffic.as_ref(),
        };
        serde_json::to_string_pretty(&json).unwrap_or_else(|e| unreachable!("plain data: {e}"))
            + "\n"
    }

    /// `report.json`: each target's report as its own `report.json` has it, the clause x
    /// target table, the comparison with the baseline, the exit code.
    fn render_many(&self, many: &ManyTargets<'_>) -> String {
        let targets: Vec<serde_json::Value> = many
            .runs
            .iter()
            .map(|(name, d)| {
                let report: serde_json::Value =
                    serde_json::from_str(&self.render(d)).unwrap_or_default();
                serde_json::json!({ "name": name, "report": report })
            })
            .collect();
        let clauses: Vec<serde_json::Value> = many
            .rows()
            .into_iter()
            .map(|(id, level)| {
                let verdicts: serde_json::Map<String, serde_json::Value> = many
                    .runs
                    .iter()
                    .map(|(name, d)| {
                        let label = ManyTargets::label(&d.report, id);
                        (name.clone(), serde_json::Value::from(label))
                    })
                    .collect();
                serde_json::json!({ "id": id, "level": level, "verdicts": verdicts })
            })
            .collect();
        let json = serde_json::json!({
            "schema": MANY_SCHEMA,
            "report_schema": SCHEMA,
            "exit_code": many.exit_code(),
            "baseline": many.diff,
            "clauses": clauses,
            "targets": targets,
        });
        serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
    }
}

/// The fields of `report.json`, in order.
#[derive(Serialize)]
struct Schema<'a> {
    schema: &'static str,
    tool: Tool,
    target: &'a str,
    /// The edition of the vendor's page the contract was traced to (name, edition, sha256).
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<&'a crate::contract::spec::PageRef>,
    profile: &'a serde_json::Value,
    seed: Option<u64>,
    started: String,
    duration_s: f64,
    strict: bool,
    conformant: bool,
    complete: bool,
    verdict: crate::grading::report::RunVerdict,
    exit_code: u8,
    summary: Totals,
    clauses: &'a [ClauseResult],
    /// Each door of a failed task and what it was judged to have done (none: no door ran).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    doors: &'a [crate::records::effects::DoorResult],
    fuzz: Option<&'a Summary>,
    /// What went on the wire (none: a document of a report alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    traffic: Option<&'a crate::records::traffic::Traffic>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// Counts by verdict and by scenario outcome.
#[derive(Serialize)]
struct Totals {
    clauses: std::collections::BTreeMap<&'static str, usize>,
    scenarios_passed: usize,
    scenarios_failed: usize,
    scenarios_skipped: usize,
    scenarios_unanswered: usize,
}
