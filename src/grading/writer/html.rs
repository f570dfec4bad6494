//! `report.html`: one self-contained page (no script, no network), readable printed.

use std::fmt::Write as _;

use crate::grading::baseline::{Change, Diff};
use crate::grading::report::ClauseResult;
use crate::shown::{inert, shorten};

use super::document::{Document, fuzz_line, judged_cell, rfc3339, shows};
use super::many_targets::ManyTargets;
use super::render::Writer;

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
            out.push_str(&diff_html(diff));
            out.push_str("<h2>This run</h2>\n");
        } else {
            out.push_str("<h1>css-conformance report</h1>\n");
        }
        let _ = writeln!(
            out,
            "<p class=\"headline {}\">{}</p>\n<p>{}</p>\n<p>{}</p>",
            match doc.report.verdict() {
                crate::grading::report::RunVerdict::Conformant => "ok",
                crate::grading::report::RunVerdict::Incomplete => "partial",
                _ => "bad",
            },
            esc(&doc.headline()),
            esc(&super::console::verdict_line(&doc.report)),
            esc(&doc.report.page_line().unwrap_or_default())
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
        clause_table(&mut out, doc);
        exchanges(&mut out, doc);
        if let Some(f) = &doc.fuzz {
            fuzzing(&mut out, f);
        }
        let _ = writeln!(out, "</body>\n</html>");
        out
    }

    /// `report.html`: one self-contained page, the changes first, then the table.
    fn render_many(&self, many: &ManyTargets<'_>) -> String {
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>css-conformance: {} targets</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>css-conformance: {} targets</h1>\n<p class=\"meta\">{} {} · started {}</p>\n",
            many.runs.len(),
            many.runs.len(),
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            esc(&rfc3339(many.started))
        );
        if let Some(diff) = many.diff {
            out.push_str(&diff_html(diff));
        }
        out.push_str(
            "<h2>Clauses by target</h2>\n<table>\n<thead><tr><th>Clause</th><th>Level</th>",
        );
        for (name, _) in &many.runs {
            let _ = write!(out, "<th>{}</th>", esc(name));
        }
        out.push_str("<th></th></tr></thead>\n<tbody>\n");
        for (id, level) in many.rows() {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td>", esc(id), esc(&level));
            for (_, d) in &many.runs {
                let label = ManyTargets::label(&d.report, id);
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
                if many.differs(id) { "differs" } else { "" }
            );
        }
        out.push_str("</tbody>\n</table>\n<h2>Targets</h2>\n<ul>\n");
        for (name, d) in &many.runs {
            let _ = writeln!(
                out,
                "<li><strong>{}</strong> (<code>{}</code>): {} (<a href=\"{}/report.html\">report</a>)</li>",
                esc(name),
                esc(&d.report.target),
                esc(&super::console::verdict_line(&d.report)),
                esc(name)
            );
        }
        out.push_str("</ul>\n<style>.cell.pass{color:#1a7f37;font-weight:600}.cell.fail,.cell.intermittent{background:#fde2e1;color:#b42318;font-weight:600}.cell.non-strict{background:#fff4d6}.cell.skip,.cell.info{color:#777}</style>\n</body>\n</html>\n");
        out
    }
}

/// The clause table, coloured by verdict, and each clause's evidence that did not pass.
fn clause_table(out: &mut String, doc: &Document) {
    let _ = writeln!(
        out,
        "<table>\n<thead><tr><th>Clause</th><th>Level</th><th>Verdict</th><th>Judged</th><th>Statement</th></tr></thead>\n<tbody>"
    );
    for c in &doc.report.clauses {
        let class = c.grade.label().to_ascii_lowercase();
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td class=\"verdict\">{}</td><td>{}</td><td>{}</td></tr>",
            anchor(c),
            c.level,
            c.grade.label(),
            judged_cell(c),
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
                let _ = writeln!(out, "<pre>{}</pre>", breakable(e));
            }
            let _ = writeln!(out, "</section>");
        }
    }
}

/// The fuzzer's totals and each finding with its reproduction.
fn fuzzing(out: &mut String, f: &crate::records::findings::Summary) {
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
            breakable(&shorten(&finding.url)),
            breakable(&finding.curl)
        );
    }
}

/// Every exchange of the scenarios, each a panel to open: the request (method, URL, the
/// headers the tool set, credentials as the variables that hold them) beside the response
/// (status, headers, a body excerpt), the violations and the cURL line; filtered by verdict
/// with radio buttons and CSS alone (no script: the page reads the same without one).
fn exchanges(out: &mut String, doc: &Document) {
    let mut records: Vec<&crate::records::judgement::ScenarioRecord> = doc
        .records
        .iter()
        .filter(|r| !r.judgements.is_empty())
        .collect();
    if records.is_empty() {
        return;
    }
    records.sort_by(|a, b| a.file_order().cmp(&b.file_order()));
    let class = |j: &crate::records::judgement::Judgement| {
        if !j.verdict.violations.is_empty() {
            "fail"
        } else if j.verdict.note.is_some() {
            "info"
        } else {
            "pass"
        }
    };
    let all: Vec<_> = records.iter().flat_map(|r| &r.judgements).collect();
    let n = |c: &str| all.iter().filter(|j| class(j) == c).count();
    let _ = writeln!(
        out,
        "<h2>Exchanges</h2>\n<div class=\"filter\">\n<span>Show:</span>\n\
         <input type=\"radio\" name=\"show\" id=\"show-all\" checked><label for=\"show-all\">all ({})</label>\n\
         <input type=\"radio\" name=\"show\" id=\"show-fail\"><label for=\"show-fail\">violations ({})</label>\n\
         <input type=\"radio\" name=\"show\" id=\"show-pass\"><label for=\"show-pass\">conforming ({})</label>\n\
         <input type=\"radio\" name=\"show\" id=\"show-info\"><label for=\"show-info\">not the operation ({})</label>\n\
         <div class=\"exchanges\">",
        all.len(),
        n("fail"),
        n("pass"),
        n("info")
    );
    for r in records {
        for (i, j) in r.judgements.iter().enumerate() {
            exchange(out, r, i, j, class(j));
        }
    }
    let _ = writeln!(out, "</div>\n</div>");
}

/// One exchange's panel: its summary line, the request beside the response, the violations,
/// the note and the cURL line.
fn exchange(
    out: &mut String,
    r: &crate::records::judgement::ScenarioRecord,
    i: usize,
    j: &crate::records::judgement::Judgement,
    class: &str,
) {
    let violated: Vec<&str> = j
        .verdict
        .violations
        .iter()
        .map(|v| v.clause.as_str())
        .collect();
    let label = match class {
        "fail" => format!("FAIL {}", violated.join(" ")),
        "info" => "INFO".to_owned(),
        _ => "PASS".to_owned(),
    };
    let effect = if j.derived {
        " · its effect, seen later"
    } else {
        ""
    };
    let code = j
        .error_code
        .as_deref()
        .map_or(String::new(), |c| format!(" {}", esc(&inert(c))));
    let _ = writeln!(
        out,
        "<details class=\"exchange {class}\" id=\"x-{}-{i}\">\n<summary><span class=\"verdict\">{}</span> <code>{} {}</code> &rarr; {}{code} <span class=\"where\">{}{effect}</span></summary>",
        esc(&r.location.replace([':', '/', '.'], "-")),
        esc(&label),
        esc(&j.method),
        breakable(&shorten(&j.url)),
        j.status,
        esc(&r.location),
    );
    let body = if j.shown.body_excerpt.is_empty() {
        "<p class=\"none\">no body</p>".to_owned()
    } else {
        format!("<pre>{}</pre>", breakable(&j.shown.body_excerpt))
    };
    let _ = writeln!(
        out,
        "<div class=\"panels\">\n<div class=\"panel\"><h4>Request</h4><p class=\"line\"><b>{}</b> {}</p><h5>Headers the tool set</h5>{}</div>\n<div class=\"panel\"><h4>Response</h4><p class=\"line\"><b>{}</b>{code}</p><h5>Headers</h5>{}<h5>Body</h5>{body}</div>\n</div>",
        esc(&j.method),
        breakable(&j.url),
        header_table(&j.shown.request_headers),
        j.status,
        header_table(&j.shown.response_headers),
    );
    for v in &j.verdict.violations {
        let _ = writeln!(
            out,
            "<p class=\"violation\"><b>{}</b> [{}] expected {}</p>",
            esc(&v.clause),
            v.level,
            esc(&inert(&v.expected))
        );
    }
    if let Some(note) = &j.verdict.note {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&inert(note)));
    }
    let _ = writeln!(
        out,
        "<pre class=\"curl\">{}</pre>\n</details>",
        breakable(&j.curl)
    );
}

/// Headers as a table of name and value, or "none".
fn header_table(hs: &[(String, String)]) -> String {
    if hs.is_empty() {
        return "<p class=\"none\">none</p>".to_owned();
    }
    let rows: String = hs
        .iter()
        .map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", esc(k), breakable(v)))
        .collect();
    format!("<table class=\"headers\">{rows}</table>")
}

/// HTML text that may wrap at the places a reader expects: after `/`, `?`, `&`, `=`, `,`
/// and `;` (URLs, cURL lines, header values); a run without any still wraps, anywhere.
fn breakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        out.push_str(&esc(c.encode_utf8(&mut [0; 4])));
        if matches!(c, '/' | '?' | '&' | '=' | ',' | ';') {
            out.push_str("<wbr>");
        }
    }
    out
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
pre { background: #f6f8fa; padding: .6em; white-space: pre-wrap; overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }
.filter > input { position: absolute; opacity: 0; }
.filter > label { display: inline-block; margin: 0 .3em .6em 0; padding: .15em .6em; border: 1px solid #bbb; border-radius: 1em; cursor: pointer; }
.filter > input:checked + label { background: #1d1d1f; color: #fff; border-color: #1d1d1f; }
.filter > input:focus-visible + label { outline: 2px solid #5b6cff; }
#show-fail:checked ~ .exchanges details:not(.fail), #show-pass:checked ~ .exchanges details:not(.pass), #show-info:checked ~ .exchanges details:not(.info) { display: none; }
details.exchange { border-left: 4px solid #bbb; margin: .3em 0; padding: .2em .8em; background: #fafafa; }
details.exchange.fail { border-color: #b42318; } details.exchange.pass { border-color: #1a7f37; } details.exchange.info { border-color: #777; }
details.exchange summary { cursor: pointer; overflow-wrap: anywhere; }
details.exchange.fail summary .verdict { color: #b42318; } details.exchange.pass summary .verdict { color: #1a7f37; } details.exchange.info summary .verdict { color: #777; }
.where { color: #555; font-size: .85em; }
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(22em, 1fr)); gap: .8em; margin: .5em 0; }
.panel { background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: .3em .8em; min-width: 0; }
.panel h4 { margin: .3em 0; } .panel h5 { margin: .6em 0 .2em; color: #555; font-weight: 600; }
.panel .line { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
table.headers th, table.headers td { font-family: ui-monospace, monospace; font-size: .9em; border: none; padding: .1em .4em; overflow-wrap: anywhere; }
table.headers th { white-space: nowrap; color: #555; font-weight: 500; }
.none { color: #777; font-style: italic; }
.violation { color: #b42318; } .note { color: #555; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } tr, section, pre, .panels { break-inside: avoid; } a { color: inherit; text-decoration: none; } .filter > input, .filter > label, .filter > span { display: none; } details.exchange.fail::details-content { content-visibility: visible; display: contents; } }
";

/// What changed since the baseline, in HTML: the counts, then each change.
pub(super) fn diff_html(diff: &Diff) -> String {
    let mut out = format!(
        "<h2>Since the baseline</h2>\n<p class=\"headline {}\">{}</p>\n",
        if diff.count(Change::NewFailure) > 0 {
            "bad"
        } else {
            "ok"
        },
        esc(&diff.headline())
    );
    let changed = diff.changed();
    if !changed.is_empty() {
        out.push_str("<table>\n<thead><tr><th>Change</th><th>Clause</th><th>Target</th><th>Before</th><th>Now</th></tr></thead>\n<tbody>\n");
        for d in changed {
            let class = match d.change {
                Change::NewFailure => "fail",
                Change::Fixed => "pass",
                _ => "skip",
            };
            let _ = writeln!(
                out,
                "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"verdict\">{}</td></tr>",
                esc(d.change.label()),
                esc(&d.clause),
                esc(&d.target),
                esc(d.before.as_deref().unwrap_or("-")),
                esc(&d.now)
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out
}
