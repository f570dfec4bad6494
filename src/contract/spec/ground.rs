//! What the clauses rest on: the vendor's page in one edition, and the quotes of it, each at
//! its place.

use serde::{Deserialize, Serialize};

/// The vendor's page in one edition: its file's name, the edition in words, the SHA-256 of
/// its bytes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PageRef {
    pub name: String,
    pub edition: String,
    pub sha256: String,
}

/// Words of the page a clause rests on, and where they are.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ground {
    /// The section, or a table's caption (`Query Parameters`).
    pub section: String,
    /// In a table: the row's first cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// In a table: the column's heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The page's words, exactly (markup aside): part of a sentence, or a whole cell or
    /// example.
    pub quote: String,
    /// The edition they come from, when not the one `page` names (a page not shipped: the
    /// words are then ours, `paraphrase`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paraphrase: bool,
}

impl Ground {
    pub fn place(&self) -> Place {
        Place::of(&self.section, &self.row, &self.column)
    }
}

/// Where on the page words are: a section, and in a table a row and a column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub section: String,
    pub row: Option<String>,
    pub column: Option<String>,
}

impl Place {
    pub fn of(section: &str, row: &Option<String>, column: &Option<String>) -> Place {
        Place {
            section: section.to_owned(),
            row: row.clone(),
            column: column.clone(),
        }
    }
}

/// `Query Parameters · retry_mode · Description`.
impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.section)?;
        for part in [&self.row, &self.column].into_iter().flatten() {
            write!(f, " · {part}")?;
        }
        Ok(())
    }
}

/// A statement of the page that makes no rule, and why.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoRule {
    pub section: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub quote: String,
    pub why: String,
}

impl NoRule {
    pub fn place(&self) -> Place {
        Place::of(&self.section, &self.row, &self.column)
    }
}
