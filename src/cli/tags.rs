//! `--tags`: a tag expression, bounded before cucumber's parser reads it.

use cucumber::gherkin::tagexpr::TagOperation;

/// A tag expression as given and as cucumber reads it: `@a and not (@b or @c)`.
#[derive(Debug, Clone)]
pub struct Tags {
    pub raw: String,
    pub expression: TagOperation,
}

pub fn parse_tags(expr: &str) -> Result<Tags, String> {
    // cucumber's parser recurses once a parenthesis or a `not`: bounded before it runs.
    const DEEPEST: usize = 64;
    let mut depth = 0usize;
    let deepest = expr.chars().fold(0usize, |deepest, c| {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        deepest.max(depth)
    });
    let nots = expr.split_whitespace().filter(|w| *w == "not").count();
    if expr.len() > 4096 || deepest > DEEPEST || nots > DEEPEST {
        return Err(format!(
            "a tag expression is at most 4096 characters, {DEEPEST} parentheses deep and {DEEPEST} `not`s; this one is {} characters, {deepest} deep, with {nots}",
            expr.len()
        ));
    }
    let expression = expr.parse::<TagOperation>().map_err(|e| {
        format!(
            "not a tag expression (column {}: expected {}); e.g. '@RUT-QUERY-03 or not @RUT-AUTH-03'",
            e.location.column, e.expected
        )
    })?;
    Ok(Tags {
        raw: expr.to_owned(),
        expression,
    })
}

impl Tags {
    /// The error for an expression that selects no scenario of `features`, naming the tags
    /// near the ones it names that no scenario has.
    pub fn selects_nothing(&self, features: &[cucumber::gherkin::Feature]) -> anyhow::Error {
        let known: std::collections::BTreeSet<&str> = features
            .iter()
            .flat_map(|f| {
                f.tags
                    .iter()
                    .chain(f.rules.iter().flat_map(|r| r.tags.iter()))
                    .chain(f.scenarios.iter().flat_map(|s| s.tags.iter()))
                    .chain(
                        f.rules
                            .iter()
                            .flat_map(|r| r.scenarios.iter().flat_map(|s| s.tags.iter())),
                    )
            })
            .map(String::as_str)
            .collect();
        let mut hints = Vec::new();
        for word in self
            .raw
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        {
            let Some(tag) = word.strip_prefix('@') else {
                continue;
            };
            if known.contains(tag) {
                continue;
            }
            let mut near: Vec<(usize, &str)> = known
                .iter()
                .map(|k| {
                    let d = if k.eq_ignore_ascii_case(tag) {
                        0
                    } else {
                        strsim::levenshtein(&k.to_ascii_uppercase(), &tag.to_ascii_uppercase())
                            .max(1)
                    };
                    (d, *k)
                })
                .filter(|(d, _)| *d <= 3)
                .collect();
            near.sort();
            let near: Vec<String> = near.iter().take(3).map(|(_, k)| format!("@{k}")).collect();
            hints.push(if near.is_empty() {
                format!("no scenario has @{tag}")
            } else {
                format!(
                    "no scenario has @{tag}; did you mean {}?",
                    near.join(" or ")
                )
            });
        }
        anyhow::anyhow!(
            "--tags '{}' selects no scenario{}; tags are case-sensitive, and every clause ID is one (e.g. @RUT-AUTH-01)",
            self.raw,
            if hints.is_empty() {
                String::new()
            } else {
                format!(" ({})", hints.join("; "))
            }
        )
    }
}
