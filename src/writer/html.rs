//! `report.html`: one self-contained page (no script, no network), readable printed.

use std::fmt::Write as _;

use crate::report::ClauseResult;
use crate::text::shorten;

use super::{Document, Writer, fuzz_line, rfc3339, shows};

/// `report.html`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl Writer for Html {
    /// One self-contained page (no script, no network): the summary, the clause table
    /// coloured by verdict, each failure's evidence and reproduction, the fuzz summary.
    fn render(&self, doc: &Document) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>css-conformance: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            esc(&doc.report.target)
        );
        if let Some(diff) = &doc.baseline {
            out.push_str("<h1>css-conformance report</h1>\n");
            out.push_str(&super::many::diff_html(diff));
            out.push_str("<h2>This run</h2>\n");
        } else {
            out.push_str("<h1>css-conformance report</h1>\n");
        }
        let _ = writeln!(
            out,
            "<p class=\"headline {}\">{}</p>\n<p>{}</p>",
            match doc.report.verdict() {
                crate::report::Verdict::Conformant => "ok",
                crate::report::Verdict::Incomplete => "partial",
                _ => "bad",
            },
            esc(&doc.headline()),
            esc(&super::verdict_line(&doc.report))
        );
        let _ = writeln!(
            out,
            "<p class=\"meta\">Target <code>{}</code> · {} {} · started {} · {:.2} s{}</p>",
            esc(&doc.report.target),
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            esc(&rfc3339(doc.started)),
            doc.duration.as_secs_f64(),
            doc.fuzz
                .as_ref()
                .map(|f| f.seed)
                .map_or(String::new(), |s| format!(" · fuzz seed {s}"))
        );
        let _ = writeln!(
            out,
            "<table>\n<thead><tr><th>Clause</th><th>Level</th><th>Verdict</th><th>Judged</th><th>Statement</th></tr></thead>\n<tbody>"
        );
        for c in &doc.report.clauses {
            let class = c.grade.label().to_ascii_lowercase();
            let _ = writeln!(
                out,
                "<tr class=\"{class}\"><td>{}</td><td>{}</td><td class=\"verdict\">{}</td><td>{}/{}</td><td>{}</td></tr>",
                anchor(c),
                c.level,
                c.grade.label(),
                c.judged_scenarios,
                c.scenarios.len(),
                esc(&c.statement)
            );
        }
        let _ = writeln!(out, "</tbody>\n</table>");
        let shown: Vec<&ClauseResult> = doc.report.clauses.iter().filter(|c| shows(c)).collect();
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
        if let Some(f) = &doc.fuzz {
            let _ = writeln!(out, "<h2>Fuzzing</h2>\n<p>{}</p>", esc(&fuzz_line(f)));
            for finding in &f.findings {
                let _ = writeln!(
                    out,
                    "<section class=\"{}\"><h3>{} <span class=\"tag\">finding, {}</span></h3>\n<pre>{} {}\n{}</pre></section>",
                    if finding.reproduction.intermittent() {
                        "intermittent"
                    } else {
                        "fail"
                    },
                    esc(&finding.clause),
                    esc(&finding.reproduction.label()),
                    esc(&finding.method),
                    esc(&shorten(&finding.url)),
                    esc(&finding.curl)
                );
            }
        }
        let _ = writeln!(out, "</body>\n</html>");
        out
    }
}

fn anchor(c: &ClauseResult) -> String {
    if shows(c) {
        format!("<a href=\"#{0}\">{0}</a>", esc(&c.id))
    } else {
        esc(&c.id)
    }
}

/// HTML text: the five characters that mean something there, escaped.
pub(super) fn esc(text: &str) -> String {
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

pub(super) const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
.headline { font-size: 1.2em; font-weight: 600; padding: .4em .7em; border-radius: 4px; }
.headline.ok { background: #e3f5e1; } .headline.bad { background: #fde2e1; } .headline.partial { background: #fff4d6; }
.meta { color: #555; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
td:first-child { white-space: nowrap; font-family: ui-monospace, monospace; }
.verdict { font-weight: 600; white-space: nowrap; }
tr.pass .verdict { color: #1a7f37; } tr.fail { background: #fde2e1; } tr.fail .verdict { color: #b42318; }
tr.intermittent { background: #fdeee0; } tr.intermittent .verdict { color: #b42318; }
tr.non-strict { background: #fff4d6; } tr.xfail, tr.xpass { background: #eef0ff; } tr.skip .verdict, tr.info .verdict { color: #777; }
section { border-left: 4px solid #bbb; padding: .1em 1em; margin: 1em 0; }
section.fail { border-color: #b42318; } section.intermittent { border-color: #e07b39; border-left-style: dashed; } section.non-strict { border-color: #d29922; } section.xfail, section.xpass { border-color: #5b6cff; }
.tag { font-size: .75em; padding: .1em .4em; border-radius: 3px; background: #eee; }
pre { background: #f6f8fa; padding: .6em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } tr, section, pre { break-inside: avoid; } a { color: inherit; text-decoration: none; } }
";
