//! `css-conformance spec lint`, `spec openapi`, `spec trace` and `spec diff`.

use std::path::Path;

use css_conformance::contract::openapi;
use css_conformance::contract::page::{self, Page};
use css_conformance::grading::writer::page_text::{diff_text, missing_line, trace_text};
use css_conformance::shown::inert;

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use css_conformance::contract::spec::Spec;
use css_conformance::contract::{coverage, features};
use css_conformance::engines::fuzz::strategy;

use super::{CONFORMANT, NOT_CONFORMANT};

#[derive(Subcommand)]
pub enum SpecCommand {
    /// Validate a contract file and check that the features cover every clause of it (and,
    /// with --page, that every clause's quote is on that page).
    ///
    /// Exit 0 when it holds, 2 with each problem (file:line and key) when not.
    ///
    /// Example: css-conformance spec lint --spec my-spec.yaml --features features/
    #[command(verbatim_doc_comment)]
    Lint {
        #[command(flatten)]
        source: SpecSource,
        /// A page of the vendor's (reStructuredText) on which every clause's quote must be.
        #[arg(long, value_name = "PAGE")]
        page: Option<PathBuf>,
    },
    /// List every statement of the vendor's page with the clauses that quote it, then the
    /// quotes that are not on it.
    ///
    /// PAGE is the page in reStructuredText, as the vendor's docs repository publishes it
    /// (default: the seed edition the embedded spec was traced to, which ships as
    /// spec/pages/RetryUpgradeTask.rst).
    ///
    /// Exit: 0 every statement traced to a clause (or said by the spec to make no rule)
    /// and every quote on the page; 1 otherwise; 2 a page or spec that cannot be read
    /// (its line named).
    ///
    /// Example: css-conformance spec trace new-edition.rst
    #[command(verbatim_doc_comment)]
    Trace {
        page: Option<PathBuf>,
        #[command(flatten)]
        source: SpecSource,
        #[arg(long, value_enum, default_value_t = PageFormat::Text)]
        format: PageFormat,
    },
    /// The statements added, removed and reworded between two editions of the page, and
    /// the clauses each touches. Given one page: from the seed edition the embedded spec was
    /// traced to, to it.
    ///
    /// Exit: 0 nothing a clause rests on changed; 1 the ground of a clause changed (re-read
    /// those clauses against NEW); 2 a page or spec that cannot be read.
    ///
    /// Examples:
    ///   css-conformance spec diff new-edition.rst
    ///   css-conformance spec diff old-edition.rst new-edition.rst
    #[command(verbatim_doc_comment)]
    Diff {
        /// [OLD] NEW
        #[arg(value_name = "PAGE", num_args = 1..=2, required = true)]
        pages: Vec<PathBuf>,
        #[command(flatten)]
        source: SpecSource,
        #[arg(long, value_enum, default_value_t = PageFormat::Text)]
        format: PageFormat,
    },
    /// Write the OpenAPI 3.0 document of the operation, generated from the spec.
    ///
    /// Exit: 0 written; 2 a spec that does not load, or features that leave a clause of it
    /// uncovered.
    ///
    /// Examples:
    ///   css-conformance spec openapi > retry-upgrade-task.openapi.json
    ///   schemathesis run retry-upgrade-task.openapi.json --url https://css.eu-de.otc.t-systems.com
    #[command(
        verbatim_doc_comment,
        mut_arg("features", |a| a.help(
            "A folder of .feature files the spec is checked against before it is exported (the export is refused when they leave a clause uncovered)"
        ))
    )]
    Openapi {
        #[command(flatten)]
        source: SpecSource,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
pub struct SpecSource {
    /// A contract file to use instead of the embedded spec/retry_upgrade_task.yaml.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// A folder of .feature files to use instead of the embedded ones (they must cover the spec).
    #[arg(long, value_name = "DIR")]
    pub features: Option<PathBuf>,
}

impl SpecSource {
    /// The spec and the features, which must cover every clause of it.
    pub fn load(&self) -> anyhow::Result<(Spec, Vec<cucumber::gherkin::Feature>)> {
        let spec = match &self.spec {
            Some(file) => {
                let text = std::fs::read_to_string(file).map_err(|reason| {
                    css_conformance::file_error::FileError::Read {
                        file: file.clone(),
                        reason,
                    }
                })?;
                let spec = Spec::parse(&text, file)?;
                // The fuzzer asks whether it can generate values of the spec's formats.
                strategy::check_formats(&spec, &text, file)?;
                css_conformance::contract::doors::check(&spec, &text, file)?;
                spec
            }
            None => Spec::embedded(),
        };
        let features = match &self.features {
            Some(dir) => features::load_dir(dir)?,
            None => features::embedded(),
        };
        let gaps = coverage::gaps(&spec, &features);
        for gap in &gaps {
            eprintln!("coverage: {gap}");
        }
        if !gaps.is_empty() {
            anyhow::bail!("the features do not cover the spec ({} gaps)", gaps.len());
        }
        Ok((spec, features))
    }
}

/// `spec trace --format`, `spec diff --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PageFormat {
    /// For people, grouped by section.
    Text,
    /// One JSON document.
    Json,
}

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
