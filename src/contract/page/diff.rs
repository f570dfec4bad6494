//! What changed between two editions of a page, statement by statement, and which clauses
//! each change touches. Statements are matched at their place (section, table row, column)
//! by their words, then the rest of each place by likeness, then across places: the same
//! words moved, or like words.

use serde::Serialize;

use crate::contract::spec::{Place, Spec};

use super::edition::Page;
use super::statement::{Form, Statement, says_nothing};
use super::trace::clauses;

/// How alike two statements' words must be to be one statement reworded (at one place, and
/// moved to another).
const LIKE_AT_PLACE: f64 = 0.4;
const LIKE_MOVED: f64 = 0.6;

/// The characters of each statement its likeness is measured on (a measure costs the product
/// of the two lengths).
const LIKENESS_CHARS: usize = 400;

/// The most pairs of statements measured across places (beyond, what is left is added and
/// removed).
const MAX_MOVED_PAIRS: usize = 40_000;

/// The changes from one edition to another.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub old: String,
    pub new: String,
    pub changes: Vec<Change>,
}

/// One statement added, removed or reworded, and the clauses whose ground it is (or, added,
/// whose ground it stands beside: a new sentence in a quoted cell, a new row of a quoted
/// table).
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Statement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Statement>,
    pub clauses: Vec<String>,
}

/// What became of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    /// Other words (at the same place or another).
    Reworded,
    /// The same words at another place (a section renamed, a row moved).
    Moved,
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Reworded => "reworded",
            ChangeKind::Moved => "moved",
        }
    }
}

impl Diff {
    /// The clauses some change touches, each once, in the spec's order of first touch.
    pub fn touched(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for id in self.changes.iter().flat_map(|c| &c.clauses) {
            if !out.contains(&id.as_str()) {
                out.push(id);
            }
        }
        out
    }
}

/// The changes from `old` to `new`, each with the clauses of `spec` it touches.
pub fn diff(spec: &Spec, old: &Page, new: &Page) -> Diff {
    let pairs = pair(&old.statements, &new.statements);
    let mut changes = Vec::new();
    for (o, n) in pairs {
        let (o, n) = (o.map(|i| &old.statements[i]), n.map(|i| &new.statements[i]));
        if let (Some(a), Some(b)) = (o, n)
            && a.text == b.text
            && same_place(a, b)
        {
            continue;
        }
        let mut touched = Vec::new();
        for clause in clauses(spec) {
            let grounds = || clause.ground.iter().filter(|g| g.edition.is_none());
            let rests = |s: &Statement| grounds().any(|g| s.holds(&g.place(), &g.quote));
            let beside = |s: &Statement| grounds().any(|g| stands_beside(s, &g.place()));
            let hit = match (o, n) {
                (None, Some(b)) if says_nothing(b) => false,
                // Reworded: a quote the old words held that the new do not.
                (Some(a), Some(b)) => grounds().any(|g| {
                    let place = g.place();
                    a.holds(&place, &g.quote) && !b.holds(&place, &g.quote)
                }),
                (Some(a), None) => rests(a),
                (None, Some(b)) => rests(b) || beside(b),
                (None, None) => false,
            };
            if hit {
                touched.push(clause.id.clone());
            }
        }
        let kind = match (o, n) {
            (Some(a), Some(b)) if a.text == b.text => ChangeKind::Moved,
            (Some(_), Some(_)) => ChangeKind::Reworded,
            (Some(_), None) => ChangeKind::Removed,
            _ => ChangeKind::Added,
        };
        changes.push(Change {
            kind,
            old: o.cloned(),
            new: n.cloned(),
            clauses: touched,
        });
    }
    Diff {
        old: old.name.clone(),
        new: new.name.clone(),
        changes,
    }
}

/// Whether a new statement `s` stands beside words quoted at `place`: in the same cell, or a
/// new row's key in a table whose rows are quoted.
fn stands_beside(s: &Statement, place: &Place) -> bool {
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    };
    let in_section = s.section.eq_ignore_ascii_case(&place.section);
    let a_row_key = s.form == Form::Cell && s.row.as_deref() == Some(s.text.as_str());
    in_section
        && place.row.is_some()
        && same(&s.column, &place.column)
        && (same(&s.row, &place.row) || a_row_key)
}

/// The first `LIKENESS_CHARS` characters of `text`.
fn head(text: &str) -> &str {
    text.char_indices()
        .nth(LIKENESS_CHARS)
        .map_or(text, |(at, _)| &text[..at])
}

fn same_place(a: &Statement, b: &Statement) -> bool {
    key(a) == key(b)
}

fn key(s: &Statement) -> (String, String, String) {
    let lower = |v: &Option<String>| v.as_deref().unwrap_or("").to_lowercase();
    (s.section.to_lowercase(), lower(&s.row), lower(&s.column))
}

/// Pairs the statements of two editions: (old, new) indexes, either missing for one removed
/// or added. Order: the new edition's, removed ones where they stood.
fn pair(old: &[Statement], new: &[Statement]) -> Vec<(Option<usize>, Option<usize>)> {
    let mut of_old: Vec<Option<usize>> = vec![None; old.len()];
    let mut taken = vec![false; new.len()];
    // The same words at the same place; then the same words anywhere (moved).
    for same_place_only in [true, false] {
        for (i, a) in old.iter().enumerate() {
            if of_old[i].is_some() {
                continue;
            }
            let found = (0..new.len()).find(|&j| {
                !taken[j] && new[j].text == a.text && (!same_place_only || same_place(a, &new[j]))
            });
            if let Some(j) = found {
                of_old[i] = Some(j);
                taken[j] = true;
            }
        }
    }
    // The likest words at the same place; then what is left at a place, in order (one
    // sentence of a cell rewritten, a cell's value changed); then anywhere, likelier still.
    for (same_place_only, least) in [(true, LIKE_AT_PLACE), (true, 0.0), (false, LIKE_MOVED)] {
        let left = |taken: &[bool]| taken.iter().filter(|t| !**t).count();
        let unpaired = of_old.iter().filter(|o| o.is_none()).count();
        if !same_place_only && unpaired * left(&taken) > MAX_MOVED_PAIRS {
            break;
        }
        let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
        for (i, a) in old.iter().enumerate().filter(|(i, _)| of_old[*i].is_none()) {
            for (j, b) in new.iter().enumerate().filter(|(j, _)| !taken[*j]) {
                if same_place_only && !same_place(a, b) {
                    continue;
                }
                let like = if least == 0.0 {
                    0.0
                } else {
                    strsim::normalized_levenshtein(head(&a.text), head(&b.text))
                };
                if like >= least {
                    candidates.push((like, i, j));
                }
            }
        }
        if least == 0.0 {
            // In order, whatever the likeness.
            candidates.sort_by_key(|&(_, i, j)| (i, j));
        } else {
            candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        }
        for (_, i, j) in candidates {
            if of_old[i].is_none() && !taken[j] {
                of_old[i] = Some(j);
                taken[j] = true;
            }
        }
    }
    let mut out: Vec<(Option<usize>, Option<usize>)> = Vec::new();
    let mut removed = (0..old.len()).filter(|&i| of_old[i].is_none()).peekable();
    for j in 0..new.len() {
        let old_of_j = of_old.iter().position(|&n| n == Some(j));
        // The removed statements that stood before this one's old place.
        while let (Some(&r), Some(o)) = (removed.peek(), old_of_j) {
            if r > o {
                break;
            }
            out.push((Some(r), None));
            removed.next();
        }
        out.push((old_of_j, Some(j)));
    }
    out.extend(removed.map(|r| (Some(r), None)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Page {
        Page::parse(text, "p.rst").unwrap()
    }

    #[test]
    fn a_page_against_itself_has_no_change() {
        let spec = Spec::embedded();
        let seed = Page::seed();
        assert!(diff(&spec, &seed, &seed).changes.is_empty());
    }

    #[test]
    fn statements_are_paired_by_place_then_words_then_likeness() {
        let old = page("S\n===\n\nOne thing here. Two things there. Gone now.\n");
        let new =
            page("S\n===\n\nTwo things there. One thing here too.\n\nT\n===\n\nBrand new words!\n");
        let spec = Spec::embedded();
        let d = diff(&spec, &old, &new);
        let shown: Vec<String> = d
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{} {:?} {:?}",
                    c.kind.name(),
                    c.old.as_ref().map(|s| &s.text),
                    c.new.as_ref().map(|s| &s.text)
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "reworded Some(\"One thing here.\") Some(\"One thing here too.\")",
                "added None Some(\"Brand new words!\")",
                "removed Some(\"Gone now.\") None",
            ]
        );
    }
}
