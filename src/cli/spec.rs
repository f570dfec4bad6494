//! `css-conformance spec lint` and `spec openapi`.

use css_conformance::contract::openapi;

use super::{CONFORMANT, SpecSource};

pub fn lint(source: &SpecSource) -> anyhow::Result<u8> {
    let (spec, features) = source.load()?;
    let scenarios: usize = features
        .iter()
        .map(|f| f.scenarios.len() + f.rules.iter().map(|r| r.scenarios.len()).sum::<usize>())
        .sum();
    println!(
        "spec OK: {} clauses, {} kinds of request, {} error codes; {} scenarios cover every clause",
        spec.clauses.len(),
        spec.expectations.len(),
        spec.error_codes.len(),
        scenarios
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
