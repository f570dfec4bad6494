//! The report documents a run leaves in its report directory: `report.json` (a stable schema,
//! documented in the README), `report.md` (the clause table for a merge request) and
//! `report.html` (one self-contained page, readable printed). All three are made from the same
//! `Document`, which is the `Report` with what the run was: tool, target, profile (no
//! secrets: a profile only names the variables that hold them), seed, time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::fuzz::Summary;
use crate::report::{ClauseResult, Grade, Report};

/// The `schema` value of `report.json`; it changes when a field changes meaning or goes.
pub const SCHEMA: &str = "css-conformance-report/1";

/// Everything a report document says.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub schema: &'static str,
    pub tool: Tool,
    pub target: String,
    /// The profile in force (file, environment and flags merged), as YAML keys.
    pub profile: serde_json::Value,
    /// The fuzz seed, when the run fuzzed.
    pub seed: Option<u64>,
    /// When the run started, RFC 3339 in UTC.
    pub started: String,
    pub duration_s: f64,
    pub strict: bool,
    pub conformant: bool,
    pub summary: Totals,
    pub clauses: Vec<ClauseResult>,
    pub fuzz: Option<Summary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// Counts by verdict and by scenario outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub clauses: std::collections::BTreeMap<&'static str, usize>,
    pub scenarios_passed: usize,
    pub scenarios_failed: usize,
    pub scenarios_skipped: usize,
}

/// A report directory that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("--report-dir {}: {message}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub message: String,
}

impl Document {
    pub fn new(
        report: &Report,
        profile: serde_json::Value,
        fuzz: Option<&Summary>,
        started: time::OffsetDateTime,
        duration: std::time::Duration,
    ) -> Document {
        let clauses = Grade::ALL
            .iter()
            .map(|g| {
                let n = report.clauses.iter().filter(|c| c.grade == *g).count();
                (g.label(), n)
            })
            .collect();
        Document {
            schema: SCHEMA,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            target: report.target.clone(),
            profile: without_userinfo(profile),
            seed: fuzz.map(|f| f.seed),
            started: rfc3339(started),
            duration_s: duration.as_secs_f64(),
            strict: report.strict,
            conformant: report.conformant(),
            summary: Totals {
                clauses,
                scenarios_passed: report.scenarios_passed,
                scenarios_failed: report.scenarios_failed,
                scenarios_skipped: report.scenarios_skipped,
            },
            clauses: report.clauses.clone(),
            fuzz: fuzz.cloned(),
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| unreachable!("plain data: {e}"))
            + "\n"
    }

    /// The one-line summary every rendering leads with.
    pub fn headline(&self) -> String {
        let counts: Vec<String> = self
            .summary
            .clauses
            .iter()
            .filter(|(label, n)| **n > 0 || matches!(**label, "PASS" | "FAIL"))
            .map(|(label, n)| format!("{n} {label}"))
            .collect();
        format!(
            "{}: {} clauses ({}){}",
            if self.conformant {
                "Conformant"
            } else {
                "NOT conformant"
            },
            self.clauses.len(),
            counts.join(", "),
            if self.strict { ", strict" } else { "" }
        )
    }

    /// The clause table in Markdown, for a merge request.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# css-conformance: {}\n", self.target);
        let _ = writeln!(out, "**{}**\n", self.headline());
        let _ = writeln!(
            out,
            "{} {} · started {} · {:.2} s{}\n",
            self.tool.name,
            self.tool.version,
            self.started,
            self.duration_s,
            self.seed
                .map_or(String::new(), |s| format!(" · fuzz seed {s}"))
        );
        let _ = writeln!(out, "| Clause | Level | Verdict | Statement |");
        let _ = writeln!(out, "|---|---|---|---|");
        for c in &self.clauses {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                c.id,
                c.level,
                verdict_cell(c.grade),
                c.statement.replace('|', "\\|")
            );
        }
        let shown: Vec<&ClauseResult> = self.clauses.iter().filter(|c| shows(c)).collect();
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
        if let Some(f) = &self.fuzz {
            let _ = writeln!(out, "## Fuzzing\n\n{}", fuzz_line(f));
        }
        out
    }

    /// One self-contained page (no script, no network): the summary, the clause table
    /// coloured by verdict, each failure's evidence and reproduction, the fuzz summary.
    pub fn html(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>css-conformance: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            esc(&self.target)
        );
        let _ = writeln!(
            out,
            "<h1>css-conformance report</h1>\n<p class=\"headline {}\">{}</p>",
            if self.conformant { "ok" } else { "bad" },
            esc(&self.headline())
        );
        let _ = writeln!(
            out,
            "<p class=\"meta\">Target <code>{}</code> · {} {} · started {} · {:.2} s{}</p>",
            esc(&self.target),
            self.tool.name,
            self.tool.version,
            esc(&self.started),
            self.duration_s,
            self.seed
                .map_or(String::new(), |s| format!(" · fuzz seed {s}"))
        );
        let _ = writeln!(
            out,
            "<table>\n<thead><tr><th>Clause</th><th>Level</th><th>Verdict</th><th>Statement</th></tr></thead>\n<tbody>"
        );
        for c in &self.clauses {
            let class = c.grade.label().to_ascii_lowercase();
            let _ = writeln!(
                out,
                "<tr class=\"{class}\"><td>{}</td><td>{}</td><td class=\"verdict\">{}</td><td>{}</td></tr>",
                anchor(c),
                c.level,
                c.grade.label(),
                esc(&c.statement)
            );
        }
        let _ = writeln!(out, "</tbody>\n</table>");
        let shown: Vec<&ClauseResult> = self.clauses.iter().filter(|c| shows(c)).collect();
        if !shown.is_empty() {
            let _ = writeln!(out, "<h2>Evidence</h2>");
            for c in shown {
                let class = c.grade.label().to_ascii_lowercase();
                let _ = writeln!(
                    out,
                    "<section id=\"{}\" class=\"{class}\">\n<h3>{} <span class=\"tag\">{}</span></h3>\n<p>{}</p>",
                    esc(&c.id),
                    esc(&c.id),
                    c.grade.label(),
                    esc(&c.statement)
                );
                for e in &c.evidence {
                    let _ = writeln!(out, "<pre>{}</pre>", esc(e));
                }
                let _ = writeln!(out, "</section>");
            }
        }
        if let Some(f) = &self.fuzz {
            let _ = writeln!(out, "<h2>Fuzzing</h2>\n<p>{}</p>", esc(&fuzz_line(f)));
            for finding in &f.findings {
                let _ = writeln!(
                    out,
                    "<section class=\"fail\"><h3>{} <span class=\"tag\">finding</span></h3>\n<pre>{} {}\n{}</pre></section>",
                    esc(&finding.clause),
                    esc(&finding.method),
                    esc(&crate::report::shorten(&finding.url)),
                    esc(&finding.curl)
                );
            }
        }
        let _ = writeln!(out, "</body>\n</html>");
        out
    }

    /// Writes `report.json`, `report.md` and `report.html` into `dir`, returning their paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
        let fail = |path: &Path, e: &dyn std::fmt::Display| WriteError {
            path: path.to_owned(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
        let mut written = Vec::new();
        for (name, text) in [
            ("report.json", self.json()),
            ("report.md", self.markdown()),
            ("report.html", self.html()),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| fail(&path, &e))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// Whether a clause's evidence is worth showing: it did not simply pass.
fn shows(c: &ClauseResult) -> bool {
    c.grade != Grade::Pass && !c.evidence.is_empty()
}

fn verdict_cell(grade: Grade) -> String {
    match grade {
        Grade::Fail => "**FAIL**".to_owned(),
        g => g.label().to_owned(),
    }
}

fn anchor(c: &ClauseResult) -> String {
    if shows(c) {
        format!("<a href=\"#{0}\">{0}</a>", esc(&c.id))
    } else {
        esc(&c.id)
    }
}

fn fuzz_line(f: &Summary) -> String {
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

/// HTML text: the five characters that mean something there, escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-11-27T01:46:18Z`.
fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The profile with any `user:password@` taken out of its endpoint.
fn without_userinfo(mut profile: serde_json::Value) -> serde_json::Value {
    if let Some(serde_json::Value::String(endpoint)) = profile.get_mut("endpoint") {
        *endpoint = crate::target::without_userinfo(endpoint);
    }
    profile
}

const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
.headline { font-size: 1.2em; font-weight: 600; padding: .4em .7em; border-radius: 4px; }
.headline.ok { background: #e3f5e1; } .headline.bad { background: #fde2e1; }
.meta { color: #555; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
td:first-child { white-space: nowrap; font-family: ui-monospace, monospace; }
.verdict { font-weight: 600; white-space: nowrap; }
tr.pass .verdict { color: #1a7f37; } tr.fail { background: #fde2e1; } tr.fail .verdict { color: #b42318; }
tr.non-strict { background: #fff4d6; } tr.xfail, tr.xpass { background: #eef0ff; } tr.skip .verdict, tr.info .verdict { color: #777; }
section { border-left: 4px solid #bbb; padding: .1em 1em; margin: 1em 0; }
section.fail { border-color: #b42318; } section.non-strict { border-color: #d29922; } section.xfail, section.xpass { border-color: #5b6cff; }
.tag { font-size: .75em; padding: .1em .4em; border-radius: 3px; background: #eee; }
pre { background: #f6f8fa; padding: .6em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } tr, section, pre { break-inside: avoid; } a { color: inherit; text-decoration: none; } }
";
