//! `css-conformance spec lint`, `spec openapi`, `spec trace` and `spec diff`.

use std::path::Path;

use css_conformance::contract::openapi;
use css_conformance::contract::page::{self, ChangeKind, Diff, Page, Trace};
use css_conformance::shown::inert;

use super::{CONFORMANT, NOT_CONFORMANT, PageFormat, SpecSource};

/// The largest page read (the vendor's pages are some kilobytes).
const MAX_PAGE_BYTES: u64 = 4 << 20;

pub fn lint(source: &SpecSource, page: Option<&Path>) -> anyhow::Result<u8> {
    let (spec, features) = source.load()?;
    if let Some(file) = page {
        let traced = page::trace(&spec, &read_page(file)?);
        if !traced.missing.is_empty() || !traced.ungrounded.is_empty() {
            for q in &traced.missing {
                eprintln!("{}", missing_line(q));
            }
            for id in &traced.ungrounded {
                eprintln!("{id}: a MUST or SHOULD clause that quotes nothing of the page");
            }
            anyhow::bail!(
                "{}: {} quote(s) not on the page, {} clause(s) quoting nothing",
                file.display(),
                traced.missing.len(),
                traced.ungrounded.len()
            );
        }
    }
    let scenarios: usize = features
        .iter()
        .map(|f| f.scenarios.len() + f.rules.iter().map(|r| r.scenarios.len()).sum::<usize>())
        .sum();
    println!(
        "spec OK: {} clauses, {} kinds of request, {} error codes; {} scenarios cover every clause{}",
        spec.clauses.len(),
        spec.expectations.len(),
        spec.error_codes.len(),
        scenarios,
        match page {
            Some(file) => format!("; every quote is on {}", inert(&file.display().to_string())),
            None => String::new(),
        }
    );
    Ok(CONFORMANT)
}

pub fn openapi(source: &SpecSource, output: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let (spec, _) = source.load()?;
    let text = serde_json::to_string_pretty(&openapi::document(&spec))? + "\n";
    match output {
        Some(file) => std::fs::write(file, text)
            .map_err(|e| anyhow::anyhow!("--output {}: {e}", file.display()))?,
        None => print!("{text}"),
    }
    Ok(CONFORMANT)
}

pub fn trace(source: &SpecSource, file: Option<&Path>, format: PageFormat) -> anyhow::Result<u8> {
    let (spec, _) = source.load()?;
    let page = match file {
        Some(file) => read_page(file)?,
        None => Page::seed(),
    };
    let traced = page::trace(&spec, &page);
    match format {
        PageFormat::Json => println!("{}", serde_json::to_string_pretty(&traced)?),
        PageFormat::Text => print!("{}", trace_text(&traced, spec.page.as_ref())),
    }
    Ok(if traced.is_complete() {
        CONFORMANT
    } else {
        NOT_CONFORMANT
    })
}

pub fn diff(
    source: &SpecSource,
    old: Option<&Path>,
    new: &Path,
    format: PageFormat,
) -> anyhow::Result<u8> {
    let (spec, _) = source.load()?;
    let old = match old {
        Some(file) => read_page(file)?,
        None => Page::seed(),
    };
    let changes = page::diff(&spec, &old, &read_page(new)?);
    match format {
        PageFormat::Json => println!("{}", serde_json::to_string_pretty(&changes)?),
        PageFormat::Text => print!("{}", diff_text(&changes)),
    }
    Ok(if changes.touched().is_empty() {
        CONFORMANT
    } else {
        NOT_CONFORMANT
    })
}

/// The page in `file`, read within `MAX_PAGE_BYTES`.
fn read_page(file: &Path) -> anyhow::Result<Page> {
    use std::io::Read as _;
    let name = file.display().to_string();
    let opened = std::fs::File::open(file).map_err(|reason| {
        css_conformance::file_error::FileError::Read {
            file: file.to_owned(),
            reason,
        }
    })?;
    let mut bytes = Vec::new();
    opened
        .take(MAX_PAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|reason| css_conformance::file_error::FileError::Read {
            file: file.to_owned(),
            reason,
        })?;
    if bytes.len() as u64 > MAX_PAGE_BYTES {
        anyhow::bail!(
            "{}: larger than {} MiB: not a page",
            inert(&name),
            MAX_PAGE_BYTES >> 20
        );
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        anyhow::anyhow!("{}:{line}: not UTF-8 text", inert(&name))
    })?;
    Ok(Page::parse(&text, &name)?)
}

fn missing_line(q: &page::Quote) -> String {
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

/// The trace for people: each section's statements with what rests on them, then what is
/// missing, then the sums.
fn trace_text(t: &Trace, edition: Option<&css_conformance::contract::spec::PageRef>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "spec trace: {} (sha256 {})",
        inert(&t.page),
        &t.sha256[..12]
    );
    match (&t.edition, edition) {
        (Some(e), _) => {
            let _ = writeln!(out, "The edition the spec was traced to: {e}.");
        }
        (None, Some(e)) => {
            let _ = writeln!(
                out,
                "Not the edition the spec was traced to ({}, sha256 {}).",
                e.edition,
                &e.sha256[..12.min(e.sha256.len())]
            );
        }
        (None, None) => {}
    }
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
        let _ = writeln!(
            out,
            "  l.{:<4} {cell}{}",
            st.line,
            inert(&st.text).replace('\n', " ⏎ ")
        );
        let rests = if !s.clauses.is_empty() {
            s.clauses.join(", ")
        } else if let Some(why) = &s.no_rule {
            format!("no rule: {why}")
        } else {
            "UNTRACED: no clause quotes it".to_owned()
        };
        let _ = writeln!(out, "         → {rests}");
    }
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
    if !t.elsewhere.is_empty() {
        let shown: Vec<String> = t
            .elsewhere
            .iter()
            .map(|q| {
                format!(
                    "{} ({}{})",
                    q.clause,
                    q.edition.as_deref().unwrap_or(""),
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

/// The diff for people: each change, reworded words side by side, then the clauses touched.
fn diff_text(d: &Diff) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "spec diff: {} → {}", inert(&d.old), inert(&d.new));
    if d.changes.is_empty() {
        let _ = writeln!(out, "No change: the two pages say the same.");
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
        let _ = writeln!(out, "\n{:<9} {at} ({lines}); {touches}", c.kind.name());
        if let (ChangeKind::Moved, Some(n)) = (c.kind, &c.new) {
            let _ = writeln!(out, "  = {}", inert(&n.text).replace('\n', " ⏎ "));
            continue;
        }
        if let Some(o) = &c.old {
            let _ = writeln!(out, "  - {}", inert(&o.text).replace('\n', " ⏎ "));
        }
        if let Some(n) = &c.new {
            let _ = writeln!(out, "  + {}", inert(&n.text).replace('\n', " ⏎ "));
        }
    }
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
