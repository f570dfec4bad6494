//! `css-conformance spec lint`, `spec openapi`, `spec trace` and `spec diff`.

use std::path::Path;

use css_conformance::contract::openapi;
use css_conformance::contract::page::{self, Page};
use css_conformance::grading::writer::page_text::{diff_text, missing_line, trace_text};
use css_conformance::shown::inert;

use super::{CONFORMANT, NOT_CONFORMANT, PageFormat, SpecSource};

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

/// The page in `file` (a line of its own when it cannot be read).
fn read_page(file: &Path) -> anyhow::Result<Page> {
    Ok(Page::read(file)?)
}
