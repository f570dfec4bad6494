//! `spec trace` and `spec diff` for people: each section's statements with what rests on
//! them, the quotes not found and the sums; each change with the old and new words side by
//! side and the clauses it touches. The page's words are untrusted: shown inert.

use std::fmt::Write as _;

use crate::contract::page::{self, ChangeKind, Diff, Quote, Statement, Trace};
use crate::contract::spec::PageRef;
use crate::shown::inert;

/// A quote not found, in a line.
pub fn missing_line(q: &Quote) -> String {
    let who = if q.clause.is_empty() {
        "no_rule".to_owned()
    } else {
        q.clause.clone()
    };
    format!(
        "{who}: \"{}\" is not at {} on this page",
        inert(&q.quote),
        inert(&q.place)
    )
}

/// The trace of a page against the spec traced to `edition`.
pub fn trace_text(t: &Trace, edition: Option<&PageRef>) -> String {
    let mut out = trace_head(t, edition);
    out.push_str(&trace_statements(t));
    out.push_str(&trace_sums(t));
    out
}

fn trace_head(t: &Trace, edition: Option<&PageRef>) -> String {
    let mut out = format!(
        "spec trace: {} (sha256 {})\n",
        inert(&t.page),
        &t.sha256[..12]
    );
    match (&t.edition, edition) {
        (Some(e), _) => {
            let _ = writeln!(out, "The edition the spec was traced to: {}.", inert(e));
        }
        (None, Some(e)) => {
            let _ = writeln!(
                out,
                "Not the edition the spec was traced to ({}, sha256 {}).",
                inert(&e.edition),
                inert(&e.sha256[..12.min(e.sha256.len())])
            );
        }
        (None, None) => {}
    }
    out
}

/// Each statement under its section, with what rests on it.
fn trace_statements(t: &Trace) -> String {
    let mut out = String::new();
    let mut section = None;
    for s in &t.statements {
        let st = &s.statement;
        if section != Some(&st.section) {
            let _ = writeln!(out, "\n{}", inert(&st.section));
            section = Some(&st.section);
        }
        let cell = match (&st.row, &st.column) {
            (Some(r), Some(c)) => format!("{} · {}: ", inert(r), inert(c)),
            _ => String::new(),
        };
        let _ = writeln!(out, "  l.{:<4} {cell}{}", st.line, words(st));
        let rests = if !s.clauses.is_empty() {
            s.clauses.join(", ")
        } else if let Some(why) = &s.no_rule {
            format!("no rule: {why}")
        } else {
            "UNTRACED: no clause quotes it".to_owned()
        };
        let _ = writeln!(out, "         → {rests}");
    }
    out
}

/// What is missing, then the sums and the verdict.
fn trace_sums(t: &Trace) -> String {
    let mut out = String::new();
    if !t.missing.is_empty() {
        let _ = writeln!(out, "\nQuotes not on this page:");
        for q in &t.missing {
            let _ = writeln!(out, "  {}", missing_line(q));
        }
    }
    for id in &t.ungrounded {
        let _ = writeln!(
            out,
            "{id}: a MUST or SHOULD clause that quotes nothing of the page"
        );
    }
    let untraced = t.untraced().count();
    let no_rule = t
        .statements
        .iter()
        .filter(|s| s.clauses.is_empty() && s.no_rule.is_some())
        .count();
    let _ = writeln!(
        out,
        "\n{} statements: {} traced to clauses, {} make no rule (the spec says why, or they say N/A), {} untraced.",
        t.statements.len(),
        t.statements.len() - untraced - no_rule,
        no_rule,
        untraced
    );
    let mut clauses: Vec<&str> = t
        .statements
        .iter()
        .flat_map(|s| s.clauses.iter().map(String::as_str))
        .collect();
    clauses.sort_unstable();
    clauses.dedup();
    let _ = writeln!(
        out,
        "{} clauses quote this page; {} quote(s) not on it.",
        clauses.len(),
        t.missing.len()
    );
    out.push_str(&elsewhere(t));
    let _ = writeln!(
        out,
        "{}",
        if t.is_complete() {
            "Traced: every statement has a clause or makes no rule, and every quote is on the page."
        } else {
            "NOT traced: see the UNTRACED statements and the quotes not on this page above."
        }
    );
    out
}

/// The clauses that quote another edition, or no page.
fn elsewhere(t: &Trace) -> String {
    let mut out = String::new();
    if !t.elsewhere.is_empty() {
        let shown: Vec<String> = t
            .elsewhere
            .iter()
            .map(|q| {
                format!(
                    "{} ({}{})",
                    q.clause,
                    inert(q.edition.as_deref().unwrap_or("")),
                    if q.paraphrase { ", in our words" } else { "" }
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "Quoting another edition, not looked for here: {}.",
            shown.join(", ")
        );
    }
    if !t.off_page.is_empty() {
        let _ = writeln!(out, "EXTENDED, on no page: {}.", t.off_page.join(", "));
    }
    out
}

/// The changes between two editions, then the clauses they touch.
pub fn diff_text(d: &Diff) -> String {
    let mut out = format!("spec diff: {} → {}\n", inert(&d.old), inert(&d.new));
    if d.changes.is_empty() {
        out.push_str("No change: the two pages say the same.\n");
        return out;
    }
    let count = |kind| d.changes.iter().filter(|c| c.kind == kind).count();
    let touched = d.touched();
    let _ = writeln!(
        out,
        "{} change(s): {} reworded, {} added, {} removed, {} moved; {} clause(s) touched{}",
        d.changes.len(),
        count(ChangeKind::Reworded),
        count(ChangeKind::Added),
        count(ChangeKind::Removed),
        count(ChangeKind::Moved),
        touched.len(),
        if touched.is_empty() {
            String::new()
        } else {
            format!(": {}", touched.join(", "))
        }
    );
    for c in &d.changes {
        out.push_str(&change_text(c));
    }
    out.push_str(&diff_sums(d, &touched));
    out
}

/// One change: where, what it touches, the words before and after.
fn change_text(c: &page::Change) -> String {
    let at = c
        .new
        .as_ref()
        .or(c.old.as_ref())
        .map(|s| inert(&s.place()).into_owned())
        .unwrap_or_default();
    let lines = match (&c.old, &c.new) {
        (Some(o), Some(n)) if o.place() != n.place() => {
            format!(
                "l.{} → l.{}, moved from {}",
                o.line,
                n.line,
                inert(&o.place())
            )
        }
        (Some(o), Some(n)) => format!("l.{} → l.{}", o.line, n.line),
        (Some(o), None) => format!("l.{}", o.line),
        (None, Some(n)) => format!("l.{}", n.line),
        (None, None) => String::new(),
    };
    let touches = if c.clauses.is_empty() {
        "touches no clause".to_owned()
    } else {
        format!("touches {}", c.clauses.join(", "))
    };
    let mut out = format!("\n{:<9} {at} ({lines}); {touches}\n", c.kind.name());
    if let (ChangeKind::Moved, Some(n)) = (c.kind, &c.new) {
        let _ = writeln!(out, "  = {}", words(n));
        return out;
    }
    if let Some(o) = &c.old {
        let _ = writeln!(out, "  - {}", words(o));
    }
    if let Some(n) = &c.new {
        let _ = writeln!(out, "  + {}", words(n));
    }
    out
}

fn diff_sums(d: &Diff, touched: &[&str]) -> String {
    let mut out = String::new();
    let new_rules = d
        .changes
        .iter()
        .filter(|c| c.old.is_none() && c.clauses.is_empty())
        .filter(|c| c.new.as_ref().is_some_and(|s| !page::says_nothing(s)))
        .count();
    if new_rules > 0 {
        let _ = writeln!(
            out,
            "\n{new_rules} new statement(s) no clause rests on: does one make a rule? (`spec trace NEW` lists them)"
        );
    }
    let _ = writeln!(
        out,
        "\n{}",
        if touched.is_empty() {
            "Nothing a clause rests on changed.".to_owned()
        } else {
            format!(
                "The ground of {} clause(s) changed: {}. Read them against the new edition, then `spec trace NEW`.",
                touched.len(),
                touched.join(", ")
            )
        }
    );
    out
}

/// A statement's words on one line, inert.
fn words(s: &Statement) -> String {
    inert(&s.text).replace('\n', " ⏎ ")
}
