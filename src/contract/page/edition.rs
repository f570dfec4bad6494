//! A page read whole: its statements and the digest that says which edition it is.

use sha2::Digest as _;

use crate::contract::spec::Place;

use super::rst;
use super::statement::Statement;

/// The page the embedded spec was traced to: the seed edition, shipped beside the spec.
pub const SEED: &str = include_str!("../../../spec/pages/RetryUpgradeTask.rst");

/// The most statements a page may hold (the vendor's pages hold some dozens): comparing two
/// editions costs the product of their counts.
pub const MAX_STATEMENTS: usize = 2_000;

/// A page read into statements.
#[derive(Debug, Clone)]
pub struct Page {
    /// What the page was read from, as given (a file name).
    pub name: String,
    /// The SHA-256 of its bytes, in hex: which edition it is, exactly.
    pub sha256: String,
    pub statements: Vec<Statement>,
}

/// A page that cannot be read, with the line that stops it.
#[derive(Debug, thiserror::Error)]
#[error("{name}:{line}: {message}")]
pub struct PageError {
    pub name: String,
    pub line: usize,
    pub message: String,
}

impl Page {
    /// Reads `text` (reStructuredText) into its statements; `name` says what it was read from.
    pub fn parse(text: &str, name: &str) -> Result<Page, PageError> {
        let statements = rst::statements(text).map_err(|(line, message)| PageError {
            name: name.to_owned(),
            line,
            message,
        })?;
        if statements.len() > MAX_STATEMENTS {
            return Err(PageError {
                name: name.to_owned(),
                line: statements[MAX_STATEMENTS].line,
                message: format!(
                    "more than {MAX_STATEMENTS} statements: not one page of the API reference"
                ),
            });
        }
        if statements.iter().all(|s| s.section.is_empty()) {
            return Err(PageError {
                name: name.to_owned(),
                line: 1,
                message: "no section heading with a statement under it: not a page of the vendor's API reference in reStructuredText".to_owned(),
            });
        }
        Ok(Page {
            name: name.to_owned(),
            sha256: hex::encode(sha2::Sha256::digest(text.as_bytes())),
            statements,
        })
    }

    /// The seed page, as the embedded spec was traced to it.
    pub fn seed() -> Page {
        Page::parse(SEED, "spec/pages/RetryUpgradeTask.rst (embedded)")
            .expect("the seed page reads")
    }

    /// The statements `quote` at `place` rests on.
    pub fn holding<'a>(
        &'a self,
        place: &'a Place,
        quote: &'a str,
    ) -> impl Iterator<Item = &'a Statement> {
        self.statements
            .iter()
            .filter(move |s| s.holds(place, quote))
    }
}
