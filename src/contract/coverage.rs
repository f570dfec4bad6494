//! The coverage check: every clause of the spec is checked by at least one scenario, and every
//! clause tag on a scenario names a clause of the spec.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use cucumber::gherkin;

use crate::contract::spec::Spec;

/// Clause tags start like this (`@RUT-QUERY-02`; gherkin drops the `@`).
const CLAUSE_TAG_PREFIX: &str = "RUT-";

/// One gap between the spec and the features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// A clause no scenario is tagged with.
    UncoveredClause(String),
    /// A scenario tag naming no clause of the spec.
    UnknownClauseTag {
        tag: String,
        file: String,
        line: usize,
    },
    /// A scenario tagged with no clause at all.
    UntaggedScenario {
        scenario: String,
        file: String,
        line: usize,
    },
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::UncoveredClause(id) => write!(f, "clause {id} is checked by no scenario"),
            Gap::UnknownClauseTag { tag, file, line } => {
                write!(f, "{file}:{line}: tag @{tag} names no clause of the spec")
            }
            Gap::UntaggedScenario {
                scenario,
                file,
                line,
            } => write!(
                f,
                "{file}:{line}: scenario {scenario:?} is tagged with no clause"
            ),
        }
    }
}

/// The clause IDs a scenario is tagged with, its feature's tags included.
pub(crate) fn clause_tags<'a>(
    feature: &'a gherkin::Feature,
    rule: Option<&'a gherkin::Rule>,
    scenario: &'a gherkin::Scenario,
) -> impl Iterator<Item = &'a str> {
    feature
        .tags
        .iter()
        .chain(rule.into_iter().flat_map(|r| r.tags.iter()))
        .chain(scenario.tags.iter())
        .map(String::as_str)
        .filter(|t| t.starts_with(CLAUSE_TAG_PREFIX))
}

/// Which scenarios (by `file:line`) check each clause.
pub(crate) fn scenarios_by_clause(features: &[gherkin::Feature]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for_each_scenario(features, |feature, rule, scenario| {
        for tag in clause_tags(feature, rule, scenario) {
            map.entry(tag.to_owned())
                .or_default()
                .push(location(feature, scenario));
        }
    });
    map
}

/// Every gap between `spec` and `features`; empty when each clause has a scenario and each
/// scenario names only clauses of the spec.
pub fn gaps(spec: &Spec, features: &[gherkin::Feature]) -> Vec<Gap> {
    let known: BTreeSet<&str> = spec.clauses.iter().map(|c| c.id.as_str()).collect();
    let mut gaps = Vec::new();
    for_each_scenario(features, |feature, rule, scenario| {
        let file = file_name(feature);
        let mut any = false;
        for tag in clause_tags(feature, rule, scenario) {
            any = true;
            if !known.contains(tag) {
                let gap = Gap::UnknownClauseTag {
                    tag: tag.to_owned(),
                    file: file.clone(),
                    line: scenario.position.line,
                };
                if !gaps.contains(&gap) {
                    gaps.push(gap);
                }
            }
        }
        if !any {
            gaps.push(Gap::UntaggedScenario {
                scenario: scenario.name.clone(),
                file,
                line: scenario.position.line,
            });
        }
    });
    let covered = scenarios_by_clause(features);
    for clause in &spec.clauses {
        if !covered.contains_key(&clause.id) {
            gaps.push(Gap::UncoveredClause(clause.id.clone()));
        }
    }
    gaps
}

fn for_each_scenario<'a>(
    features: &'a [gherkin::Feature],
    mut f: impl FnMut(&'a gherkin::Feature, Option<&'a gherkin::Rule>, &'a gherkin::Scenario),
) {
    for feature in features {
        for scenario in &feature.scenarios {
            f(feature, None, scenario);
        }
        for rule in &feature.rules {
            for scenario in &rule.scenarios {
                f(feature, Some(rule), scenario);
            }
        }
    }
}

/// The file a feature was read from, as its scenarios' locations name it.
pub(crate) fn file_name(feature: &gherkin::Feature) -> String {
    feature
        .path
        .as_ref()
        .map_or_else(|| feature.name.clone(), |p| p.display().to_string())
}

/// `file:line` of a scenario.
pub fn location(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> String {
    format!("{}:{}", file_name(feature), scenario.position.line)
}
