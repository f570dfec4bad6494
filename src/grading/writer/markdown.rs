//! `report.md`: the clause table and the evidence, for a merge request.

use std::fmt::Write as _;

use crate::grading::baseline::Diff;
use crate::grading::report::{ClauseResult, Grade};
use crate::shown::shorten;

use super::document::{Document, fuzz_line, judged_cell, rfc3339, shows};
use super::many_targets::ManyTargets;
use super::render::Writer;

/// `report.md`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

impl Writer for Markdown {
    /// The clause table in Markdown, for a merge request.
    fn render(&self, doc: &Document) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# css-conformance: {}\n", doc.report.target);
        if let Some(diff) = &doc.baseline {
            out.push_str(&diff_markdown(diff));
        }
        let _ = writeln!(out, "**{}**\n", doc.headline());
        let _ = writeln!(out, "{}\n", super::console::verdict_line(&doc.report));
        if let Some(page) = doc.report.page_line() {
            let _ = writeln!(out, "{page}.\n");
        }
        let _ = writeln!(
            out,
            "{} {} · started {} · {:.2} s{}\n",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            rfc3339(doc.started),
            doc.duration.as_secs_f64(),
            doc.fuzz
                .as_ref()
                .map(|f| f.seed)
                .map_or(String::new(), |s| format!(" · fuzz seed {s}"))
        );
        let _ = writeln!(out, "| Clause | Level | Verdict | Judged | Statement |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for c in &doc.report.clauses {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                c.id,
                c.level,
                verdict_cell(c.grade),
                judged_cell(c),
                c.statement.replace('|', "\\|")
            );
        }
        let shown: Vec<&ClauseResult> = doc.report.clauses.iter().filter(|c| shows(c)).collect();
        if !shown.is_empty() {
            let _ = writeln!(out, "\n## Evidence\n");
            for c in shown {
                let _ = writeln!(out, "### {} {}\n", c.id, c.grade.label());
                for e in &c.evidence {
                    let _ = writeln!(out, "```\n{}\n```", e.replace("```", "'''"));
                }
                out.push('\n');
            }
        }
        if let Some(f) = &doc.fuzz {
            let _ = writeln!(out, "## Fuzzing\n\n{}", fuzz_line(f));
            for finding in &f.findings {
                let _ = writeln!(
                    out,
                    "\n### Finding {} ({})\n\n```\n{} {}\n{}\n```",
                    finding.clause,
                    finding.reproduction.label().replace('`', "'"),
                    finding.method,
                    shorten(&finding.url).replace("```", "'''"),
                    finding.curl.replace("```", "'''")
                );
            }
        }
        out
    }

    /// `report.md`.
    fn render_many(&self, many: &ManyTargets<'_>) -> String {
        let mut out = format!(
            "# css-conformance: {} targets\n\n{} {} · started {}\n\n",
            many.runs.len(),
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            rfc3339(many.started)
        );
        if let Some(diff) = many.diff {
            out.push_str(&diff_markdown(diff));
        }
        out.push_str("## Clauses by target\n\n| Clause | Level |");
        for (name, _) in &many.runs {
            let _ = write!(out, " {} |", name.replace('|', "\\|"));
        }
        out.push_str(" |\n|---|---|");
        for _ in &many.runs {
            out.push_str("---|");
        }
        out.push_str("---|\n");
        for (id, level) in many.rows() {
            let _ = write!(out, "| {id} | {level} |");
            for (_, d) in &many.runs {
                let label = ManyTargets::label(&d.report, id);
                let shown = if matches!(label, "FAIL" | "INTERMITTENT") {
                    format!("**{label}**")
                } else {
                    label.to_owned()
                };
                let _ = write!(out, " {shown} |");
            }
            let _ = writeln!(out, " {} |", if many.differs(id) { "differs" } else { "" });
        }
        out.push_str("\n## Targets\n\n");
        for (name, d) in &many.runs {
            let _ = writeln!(
                out,
                "- **{}** (`{}`): {} ([report]({}/report.md))",
                name.replace('*', "\\*"),
                d.report.target.replace('`', "'"),
                super::console::verdict_line(&d.report),
                name
            );
        }
        out
    }
}

fn verdict_cell(grade: Grade) -> String {
    match grade {
        Grade::Fail | Grade::Intermittent => format!("**{}**", grade.label()),
        g => g.label().to_owned(),
    }
}

/// What changed since the baseline, in Markdown: the counts, then each change.
pub(super) fn diff_markdown(diff: &Diff) -> String {
    let mut out = format!("## Since the baseline\n\n{}\n\n", diff.headline());
    let changed = diff.changed();
    if !changed.is_empty() {
        out.push_str("| Change | Clause | Target | Before | Now |\n|---|---|---|---|---|\n");
        for d in changed {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                d.change.label(),
                d.clause,
                d.target.replace('|', "\\|"),
                d.before.as_deref().unwrap_or("-"),
                d.now
            );
        }
        out.push('\n');
    }
    out
}
