//! The report of a run of several targets (`check --profile A --profile B`): a clause x target
//! table in every form (console, Markdown, HTML, JSON), JUnit with one testsuite per target,
//! and, with a baseline, what changed since, shown first. Each target's own reports are
//! written beside it, in a folder named after the target.

use std::fmt::Write as _;

use junit_report::TestSuiteBuilder;

use crate::grading::baseline::Diff;
use crate::grading::report::{Grade, Report};

use super::console::{diff_console, verdict_line};
use super::document::{Document, Writer as _, rfc3339};
use super::html::{STYLE, diff_html, esc};
use super::json::{Json, SCHEMA};
use super::junit;
use super::markdown::diff_markdown;

/// Several targets' documents, each under its name, and the comparison with a baseline.
pub struct Many<'a> {
    pub runs: Vec<(String, &'a Document)>,
    pub diff: Option<&'a Diff>,
}

/// The `schema` value of a run of several targets' `report.json`.
pub const MANY_SCHEMA: &str = "css-conformance-report-many/1";

impl Many<'_> {
    /// The worst exit code of the targets (3 not judged, 1 not conformant, 0).
    pub fn exit_code(&self) -> u8 {
        self.runs
            .iter()
            .map(|(_, d)| d.report.exit_code())
            .max()
            .unwrap_or(0)
    }

    /// The clause IDs, in the first target's order, with their level.
    fn rows(&self) -> Vec<(&str, String)> {
        self.runs.first().map_or_else(Vec::new, |(_, d)| {
            d.report
                .clauses
                .iter()
                .map(|c| (c.id.as_str(), c.level.to_string()))
                .collect()
        })
    }

    fn grade(report: &Report, id: &str) -> Option<Grade> {
        report.clause(id).map(|c| c.grade)
    }

    /// A cell of the table: the clause's verdict on a target, `-` when it has none.
    fn label(report: &Report, id: &str) -> &'static str {
        Self::grade(report, id).map_or("-", Grade::label)
    }

    /// Whether the targets' verdicts differ for clause `id`.
    fn differs(&self, id: &str) -> bool {
        let mut grades = self.runs.iter().map(|(_, d)| Self::grade(&d.report, id));
        let first = grades.next().flatten();
        grades.any(|g| g != first)
    }

    /// The console: the changes since the baseline, the table (quiet: the rows that are not
    /// all PASS), each target's verdict.
    pub fn console(&self, quiet: bool, colors: bool) -> String {
        let mut out = String::new();
        if let Some(diff) = self.diff {
            out.push_str(&diff_console(diff, true));
            out.push('\n');
        }
        let width = self
            .runs
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(0)
            .max(12);
        let _ = write!(out, "{:<13} {:<8}", "Clause", "Level");
        for (name, _) in &self.runs {
            let _ = write!(out, " {name:<width$}");
        }
        out.push('\n');
        for (id, level) in self.rows() {
            let all_pass = self
                .runs
                .iter()
                .all(|(_, d)| Self::grade(&d.report, id) == Some(Grade::Pass));
            if quiet && all_pass {
                continue;
            }
            let _ = write!(out, "{id:<13} {level:<8}");
            for (_, d) in &self.runs {
                let label = Self::label(&d.report, id);
                let style = match Self::grade(&d.report, id) {
                    Some(Grade::Pass) => console::Style::new().green(),
                    Some(Grade::Fail | Grade::Intermittent) => console::Style::new().red().bold(),
                    Some(Grade::NonStrict) => console::Style::new().yellow(),
                    _ => console::Style::new().dim(),
                };
                let padded = format!("{label:<width$}");
                let _ = write!(out, " {}", style.force_styling(colors).apply_to(padded));
            }
            if self.differs(id) {
                out.push_str("  <- differs");
            }
            out.push('\n');
        }
        out.push('\n');
        for (name, d) in &self.runs {
            let _ = writeln!(
                out,
                "{name} ({}): {}",
                d.report.target,
                verdict_line(&d.report)
            );
        }
        out
    }

    /// `report.md`.
    pub fn markdown(&self, started: time::OffsetDateTime) -> String {
        let mut out = format!(
            "# css-conformance: {} targets\n\n{} {} · started {}\n\n",
            self.runs.len(),
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            rfc3339(started)
        );
        if let Some(diff) = self.diff {
            out.push_str(&diff_markdown(diff));
        }
        out.push_str("## Clauses by target\n\n| Clause | Level |");
        for (name, _) in &self.runs {
            let _ = write!(out, " {} |", name.replace('|', "\\|"));
        }
        out.push_str(" |\n|---|---|");
        for _ in &self.runs {
            out.push_str("---|");
        }
        out.push_str("---|\n");
        for (id, level) in self.rows() {
            let _ = write!(out, "| {id} | {level} |");
            for (_, d) in &self.runs {
                let label = Self::label(&d.report, id);
                let shown = if matches!(label, "FAIL" | "INTERMITTENT") {
                    format!("**{label}**")
                } else {
                    label.to_owned()
                };
                let _ = write!(out, " {shown} |");
            }
            let _ = writeln!(out, " {} |", if self.differs(id) { "differs" } else { "" });
        }
        out.push_str("\n## Targets\n\n");
        for (name, d) in &self.runs {
            let _ = writeln!(
                out,
                "- **{}** (`{}`): {} ([report]({}/report.md))",
                name.replace('*', "\\*"),
                d.report.target.replace('`', "'"),
                verdict_line(&d.report),
                name
            );
        }
        out
    }

    /// `report.html`: one self-contained page, the changes first, then the table.
    pub fn html(&self, started: time::OffsetDateTime) -> String {
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>css-conformance: {} targets</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>css-conformance: {} targets</h1>\n<p class=\"meta\">{} {} · started {}</p>\n",
            self.runs.len(),
            self.runs.len(),
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            esc(&rfc3339(started))
        );
        if let Some(diff) = self.diff {
            out.push_str(&diff_html(diff));
        }
        out.push_str(
            "<h2>Clauses by target</h2>\n<table>\n<thead><tr><th>Clause</th><th>Level</th>",
        );
        for (name, _) in &self.runs {
            let _ = write!(out, "<th>{}</th>", esc(name));
        }
        out.push_str("<th></th></tr></thead>\n<tbody>\n");
        for (id, level) in self.rows() {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td>", esc(id), esc(&level));
            for (_, d) in &self.runs {
                let label = Self::label(&d.report, id);
                let _ = write!(
                    out,
                    "<td class=\"cell {}\">{}</td>",
                    label.to_ascii_lowercase(),
                    esc(label)
                );
            }
            let _ = writeln!(
                out,
                "<td>{}</td></tr>",
                if self.differs(id) { "differs" } else { "" }
            );
        }
        out.push_str("</tbody>\n</table>\n<h2>Targets</h2>\n<ul>\n");
        for (name, d) in &self.runs {
            let _ = writeln!(
                out,
                "<li><strong>{}</strong> (<code>{}</code>): {} (<a href=\"{}/report.html\">report</a>)</li>",
                esc(name),
                esc(&d.report.target),
                esc(&verdict_line(&d.report)),
                esc(name)
            );
        }
        out.push_str("</ul>\n<style>.cell.pass{color:#1a7f37;font-weight:600}.cell.fail,.cell.intermittent{background:#fde2e1;color:#b42318;font-weight:600}.cell.non-strict{background:#fff4d6}.cell.skip,.cell.info{color:#777}</style>\n</body>\n</html>\n");
        out
    }

    /// `report.json`: each target's report as its own `report.json` has it, the clause x
    /// target table, the comparison with the baseline, the exit code.
    pub fn json(&self) -> String {
        let targets: Vec<serde_json::Value> = self
            .runs
            .iter()
            .map(|(name, d)| {
                let report: serde_json::Value =
                    serde_json::from_str(&Json.render(d)).unwrap_or_default();
                serde_json::json!({ "name": name, "report": report })
            })
            .collect();
        let clauses: Vec<serde_json::Value> = self
            .rows()
            .into_iter()
            .map(|(id, level)| {
                let verdicts: serde_json::Map<String, serde_json::Value> = self
                    .runs
                    .iter()
                    .map(|(name, d)| {
                        let label = Self::label(&d.report, id);
                        (name.clone(), serde_json::Value::from(label))
                    })
                    .collect();
                serde_json::json!({ "id": id, "level": level, "verdicts": verdicts })
            })
            .collect();
        let json = serde_json::json!({
            "schema": MANY_SCHEMA,
            "report_schema": SCHEMA,
            "exit_code": self.exit_code(),
            "baseline": self.diff,
            "clauses": clauses,
            "targets": targets,
        });
        serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
    }

    /// `junit.xml`: one testsuite per target, a testcase per clause as graded and one for the
    /// target's verdict.
    pub fn junit(&self, started: time::OffsetDateTime) -> String {
        let suites = self
            .runs
            .iter()
            .map(|(name, d)| {
                TestSuiteBuilder::new(name)
                    .set_timestamp(started)
                    .add_testcases(junit::clause_cases(&d.report))
                    .build()
            })
            .collect();
        junit::xml(suites)
    }
}
