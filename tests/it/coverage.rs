//! The coverage check: each clause has a scenario, each clause tag names a clause; and the
//! features embedded in the binary are exactly those in `features/`.

use std::path::Path;

use css_conformance::contract::coverage::{self, Gap};
use css_conformance::contract::features;
use css_conformance::contract::spec::Spec;

fn feature(text: &str) -> cucumber::gherkin::Feature {
    features::parse(text, Path::new("features/test.feature")).expect("parses")
}

#[test]
fn the_shipped_features_cover_every_clause() {
    let gaps = coverage::gaps(&Spec::embedded(), &features::embedded());
    assert!(gaps.is_empty(), "{gaps:#?}");
}

#[test]
fn a_clause_without_a_scenario_is_a_gap() {
    let spec = Spec::embedded();
    let mut all = features::embedded();
    // Drop every scenario tagged with RUT-AUTH-03.
    for f in &mut all {
        f.scenarios
            .retain(|s| !s.tags.iter().any(|t| t == "RUT-AUTH-03"));
    }
    let gaps = coverage::gaps(&spec, &all);
    assert_eq!(gaps, [Gap::UncoveredClause("RUT-AUTH-03".into())]);
}

#[test]
fn a_tag_naming_no_clause_is_a_gap() {
    let spec = Spec::embedded();
    let mut all = features::embedded();
    all.push(feature(
        "Feature: stray\n\n  @RUT-QUERY-99\n  Scenario: s\n    Given a failed upgrade task\n",
    ));
    let gaps = coverage::gaps(&spec, &all);
    assert_eq!(
        gaps,
        [Gap::UnknownClauseTag {
            tag: "RUT-QUERY-99".into(),
            file: "features/test.feature".into(),
            line: 4,
        }]
    );
    assert_eq!(
        gaps[0].to_string(),
        "features/test.feature:4: tag @RUT-QUERY-99 names no clause of the spec"
    );
}

#[test]
fn a_scenario_without_a_clause_tag_is_a_gap() {
    let spec = Spec::embedded();
    let mut all = features::embedded();
    all.push(feature(
        "Feature: untagged\n\n  Scenario: s\n    Given a failed upgrade task\n",
    ));
    let gaps = coverage::gaps(&spec, &all);
    assert!(
        matches!(&gaps[..], [Gap::UntaggedScenario { line: 3, .. }]),
        "{gaps:?}"
    );
}

#[test]
fn the_embedded_features_are_the_features_folder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = std::fs::read_dir(root.join("features"))
        .unwrap()
        .map(|e| format!("features/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = features::EMBEDDED
        .iter()
        .map(|(f, _)| f.to_string())
        .collect();
    embedded.sort();
    assert_eq!(
        embedded, on_disk,
        "list every features/ file in features::EMBEDDED"
    );
    for (file, text) in features::EMBEDDED {
        assert_eq!(*text, std::fs::read_to_string(root.join(file)).unwrap());
    }
}
