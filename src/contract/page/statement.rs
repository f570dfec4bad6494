//! One thing a page says, where it says it, and which quotes it holds.

use crate::contract::spec::Place;

/// One thing the page says: a sentence, a table cell, an example request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Statement {
    /// The section it is in; for a table row, the table's caption ("Path Parameters").
    pub section: String,
    /// In a table: the row's first cell (a parameter, a status code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// In a table: the column's heading ("Mandatory", "Description").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Its words, the markup gone and the spaces collapsed.
    pub text: String,
    pub form: Form,
    /// Its line in the page (1-based).
    pub line: usize,
}

/// What kind of statement it is, which says how a quote matches it: a sentence holds a quote
/// that is part of it; a cell, a code block or the URI only a quote that is all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    Sentence,
    Cell,
    Code,
}

impl Statement {
    /// Where it is, in words: `Query Parameters · retry_mode · Description`.
    pub fn place(&self) -> String {
        Place::of(&self.section, &self.row, &self.column).to_string()
    }

    /// Whether `quote`, at `place`, rests on this statement.
    pub fn holds(&self, place: &Place, quote: &str) -> bool {
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let quote = words(quote);
        same(&self.section, &place.section)
            && place
                .row
                .as_deref()
                .is_none_or(|r| self.row.as_deref().is_some_and(|s| same(r, s)))
            && place
                .column
                .as_deref()
                .is_none_or(|c| self.column.as_deref().is_some_and(|s| same(c, s)))
            && match self.form {
                Form::Sentence => !quote.is_empty() && self.text.contains(&quote),
                Form::Cell | Form::Code => self.text == quote,
            }
    }
}

/// Whether a statement is a labelled part that says nothing (`Constraints: N/A`): no rule.
pub fn says_nothing(s: &Statement) -> bool {
    s.text.split_once(": ").is_some_and(|(label, value)| {
        label.split_whitespace().count() <= 4
            && matches!(
                value.trim_end_matches('.'),
                "N/A" | "NA" | "-" | "None" | "none"
            )
    })
}

/// `text` with inline markup gone (`**bold**`, ``literal``, `:ref:` roles) and runs of
/// spaces made one.
pub fn words(text: &str) -> String {
    let text = roles(text).replace("**", "").replace("``", "");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `:role:`Title <target>`` as `Title`, `:role:`target`` as `target`.
fn roles(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest
        .find(":`")
        .filter(|&at| rest[..at].rfind(':').is_some())
    {
        let role_start = rest[..at].rfind(':').unwrap_or(at);
        let Some(end) = rest[at + 2..].find('`') else {
            break;
        };
        let inner = &rest[at + 2..at + 2 + end];
        let shown = match inner.rfind('<') {
            Some(lt) if inner.ends_with('>') => inner[..lt].trim_end(),
            _ => inner,
        };
        out.push_str(&rest[..role_start]);
        out.push_str(shown);
        rest = &rest[at + 3 + end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_gone_from_the_words() {
        assert_eq!(
            words("Currently, its value can only be **abort**."),
            "Currently, its value can only be abort."
        );
        assert_eq!(
            words("See :ref:`Error Codes <css_03_0076>`.  Then\n more"),
            "See Error Codes. Then more"
        );
        assert_eq!(
            words("see :ref:`css_03_0076` and ``x``"),
            "see css_03_0076 and x"
        );
    }
}
