//! Which clauses rest on each statement of a page, and what rests on nothing: the statements
//! no clause quotes (and the spec does not say make no rule), the quotes not on the page.

use serde::Serialize;

use crate::contract::spec::{Clause, Level, NoRule, Place, Spec};

use super::edition::Page;
use super::statement::{Statement, says_nothing};

/// Why a labelled part that says `N/A` makes no rule.
const NOTHING: &str = "a part that says nothing (N/A)";

/// A page traced against a spec.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub page: String,
    pub sha256: String,
    /// The edition the spec was traced to, when this page is it byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    pub statements: Vec<Traced>,
    /// Quotes of the spec's edition that are not on this page.
    pub missing: Vec<Quote>,
    /// Quotes of another edition, not looked for on this page.
    pub elsewhere: Vec<Quote>,
    /// MUST and SHOULD clauses that quote nothing of the spec's edition.
    pub ungrounded: Vec<String>,
    /// EXTENDED clauses that quote no page (the page makes no such rule).
    pub off_page: Vec<String>,
}

/// A statement and what rests on it.
#[derive(Debug, Clone, Serialize)]
pub struct Traced {
    #[serde(flatten)]
    pub statement: Statement,
    /// The clauses that quote it.
    pub clauses: Vec<String>,
    /// Why it makes no rule, as the spec says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_rule: Option<String>,
}

impl Traced {
    pub(crate) fn is_untraced(&self) -> bool {
        self.clauses.is_empty() && self.no_rule.is_none()
    }
}

/// A clause's quote (or a statement the spec says makes no rule: `clause` is then empty).
#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub clause: String,
    pub place: String,
    pub quote: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// Our words for a page not shipped.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub paraphrase: bool,
}

impl Trace {
    /// Every statement traced or said to make no rule, every quote found, every MUST and
    /// SHOULD clause grounded.
    pub fn is_complete(&self) -> bool {
        self.untraced().next().is_none() && self.missing.is_empty() && self.ungrounded.is_empty()
    }

    pub fn untraced(&self) -> impl Iterator<Item = &Traced> {
        self.statements.iter().filter(|t| t.is_untraced())
    }
}

/// Every clause of `spec`, the operation's and the client's.
pub(super) fn clauses(spec: &Spec) -> impl Iterator<Item = &Clause> {
    spec.clauses.iter().chain(&spec.client_clauses)
}

/// Traces `page` against the quotes of `spec`.
pub fn trace(spec: &Spec, page: &Page) -> Trace {
    let statements = page
        .statements
        .iter()
        .map(|s| Traced {
            statement: s.clone(),
            clauses: Vec::new(),
            no_rule: says_nothing(s).then(|| NOTHING.to_owned()),
        })
        .collect();
    let edition = spec
        .page
        .as_ref()
        .filter(|p| p.sha256.eq_ignore_ascii_case(&page.sha256))
        .map(|p| p.edition.clone());
    let mut trace = Trace {
        page: page.name.clone(),
        sha256: page.sha256.clone(),
        edition,
        statements,
        missing: Vec::new(),
        elsewhere: Vec::new(),
        ungrounded: Vec::new(),
        off_page: Vec::new(),
    };
    for clause in clauses(spec) {
        trace.ground(clause);
    }
    for no_rule in &spec.no_rule {
        trace.no_rule(no_rule);
    }
    trace
}

impl Trace {
    /// Marks the statements `clause` quotes; notes its quotes not on the page, those of
    /// another edition, and whether it is grounded at all.
    fn ground(&mut self, clause: &Clause) {
        let mut grounded = false;
        for ground in &clause.ground {
            let quote = Quote {
                clause: clause.id.clone(),
                place: ground.place().to_string(),
                quote: ground.quote.clone(),
                edition: ground.edition.clone(),
                paraphrase: ground.paraphrase,
            };
            if ground.edition.is_some() {
                self.elsewhere.push(quote);
                continue;
            }
            grounded = true;
            let found = self.mark(&ground.place(), &ground.quote, |t| {
                if !t.clauses.contains(&clause.id) {
                    t.clauses.push(clause.id.clone());
                }
            });
            if !found {
                self.missing.push(quote);
            }
        }
        match (grounded, clause.level) {
            (true, _) => {}
            (false, Level::Extended) if clause.ground.is_empty() => {
                self.off_page.push(clause.id.clone())
            }
            (false, Level::Extended) => {}
            (false, _) => self.ungrounded.push(clause.id.clone()),
        }
    }

    /// Applies `mark` to each statement that holds `quote` at `place`; whether one did.
    fn mark(&mut self, place: &Place, quote: &str, mut mark: impl FnMut(&mut Traced)) -> bool {
        let mut found = false;
        for t in self
            .statements
            .iter_mut()
            .filter(|t| t.statement.holds(place, quote))
        {
            found = true;
            mark(t);
        }
        found
    }

    /// Marks the statements the spec says make no rule (a stale entry is a quote missing).
    fn no_rule(&mut self, no_rule: &NoRule) {
        let found = self.mark(&no_rule.place(), &no_rule.quote, |t| {
            t.no_rule.get_or_insert_with(|| no_rule.why.clone());
        });
        if !found {
            self.missing.push(Quote {
                clause: String::new(),
                place: no_rule.place().to_string(),
                quote: no_rule.quote.clone(),
                edition: None,
                paraphrase: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_spec_traces_the_seed_page_completely() {
        let spec = Spec::embedded();
        let trace = trace(&spec, &Page::seed());
        let untraced: Vec<_> = trace
            .untraced()
            .map(|t| t.statement.place() + ": " + &t.statement.text)
            .collect();
        assert!(untraced.is_empty(), "untraced: {untraced:#?}");
        assert!(trace.missing.is_empty(), "{:#?}", trace.missing);
        assert!(trace.ungrounded.is_empty(), "{:?}", trace.ungrounded);
        assert!(
            trace.edition.is_some(),
            "the seed is the spec's edition: {}",
            trace.sha256
        );
        assert!(trace.is_complete());
    }

    #[test]
    fn a_quote_the_page_does_not_hold_is_missing_and_a_statement_no_one_quotes_untraced() {
        let mut spec = Spec::embedded();
        spec.clauses[0].ground[0].quote = "Words the page never said.".to_owned();
        spec.no_rule.clear();
        let trace = trace(&spec, &Page::seed());
        assert_eq!(trace.missing.len(), 1, "{:#?}", trace.missing);
        assert_eq!(trace.missing[0].clause, spec.clauses[0].id);
        assert!(trace.untraced().count() >= 2);
        assert!(!trace.is_complete());
    }
}
