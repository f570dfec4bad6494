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

/// The largest page read (the vendor's pages are some kilobytes).
pub const MAX_PAGE_BYTES: u64 = 4 << 20;

/// A page that cannot be read, with the line that stops it (and the cause, where there is
/// one).
#[derive(Debug, thiserror::Error)]
#[error("{name}{}: {message}", at_line(*line))]
pub struct PageError {
    pub name: String,
    pub line: usize,
    pub message: String,
    #[source]
    cause: Option<std::io::Error>,
}

/// `:LINE`, or nothing for a page not read at all (line 0).
fn at_line(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

impl Page {
    /// Reads the page in `file`, within `MAX_PAGE_BYTES`.
    pub fn read(file: &std::path::Path) -> Result<Page, PageError> {
        use std::io::Read as _;
        let name = file.display().to_string();
        let fail = |line: usize, message: String, cause: Option<std::io::Error>| PageError {
            name: crate::shown::inert(&name).into_owned(),
            line,
            message,
            cause,
        };
        let mut bytes = Vec::new();
        std::fs::File::open(file)
            .and_then(|f| f.take(MAX_PAGE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| fail(0, "cannot read".to_owned(), Some(e)))?;
        if bytes.len() as u64 > MAX_PAGE_BYTES {
            let message = format!("larger than {} MiB: not a page", MAX_PAGE_BYTES >> 20);
            return Err(fail(1, message, None));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = 1 + valid.iter().filter(|b| **b == b'\n').count();
            fail(line, "not UTF-8 text".to_owned(), None)
        })?;
        Page::parse(&text, &name)
    }

    /// Reads `text` (reStructuredText) into its statements; `name` says what it was read from.
    pub fn parse(text: &str, name: &str) -> Result<Page, PageError> {
        let statements = rst::statements(text).map_err(|(line, message)| PageError {
            name: name.to_owned(),
            line,
            message,
            cause: None,
        })?;
        if statements.len() > MAX_STATEMENTS {
            return Err(PageError {
                name: name.to_owned(),
                line: statements[MAX_STATEMENTS].line,
                message: format!(
                    "more than {MAX_STATEMENTS} statements: not one page of the API reference"
                ),
                cause: None,
            });
        }
        if statements.iter().all(|s| s.section.is_empty()) {
            return Err(PageError {
                name: name.to_owned(),
                line: 1,
                message: "no section heading with a statement under it: not a page of the vendor's API reference in reStructuredText".to_owned(),
                cause: None,
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
