//! The Gherkin features, embedded in the binary so an installed `css-conformance` runs them
//! outside the source tree, and the cucumber parser that reads them from memory.

use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, GherkinEnv};
use futures::stream;

/// Every file under `features/`, by its path in the source tree (a test keeps this complete).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "features/doors.feature",
        include_str!("../../features/doors.feature"),
    ),
    (
        "features/methods.feature",
        include_str!("../../features/methods.feature"),
    ),
    (
        "features/path_parameters.feature",
        include_str!("../../features/path_parameters.feature"),
    ),
    (
        "features/retry_mode.feature",
        include_str!("../../features/retry_mode.feature"),
    ),
    (
        "features/response_bodies.feature",
        include_str!("../../features/response_bodies.feature"),
    ),
    (
        "features/status_and_credentials.feature",
        include_str!("../../features/status_and_credentials.feature"),
    ),
    (
        "features/task_state.feature",
        include_str!("../../features/task_state.feature"),
    ),
];

/// A feature file that could not be read or did not parse: the file, the words, the cause.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", file.display())]
pub struct FeatureError {
    pub file: PathBuf,
    pub message: String,
    #[source]
    cause: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl FeatureError {
    fn new(file: &Path, cause: impl std::error::Error + Send + Sync + 'static) -> FeatureError {
        FeatureError {
            file: file.to_owned(),
            message: cause.to_string(),
            cause: Box::new(cause),
        }
    }
}

/// Parses one feature's text, with its Scenario Outlines expanded; `file` names it.
pub fn parse(text: &str, file: &Path) -> Result<gherkin::Feature, FeatureError> {
    let mut feature = gherkin::Feature::parse(text, GherkinEnv::default())
        .map_err(|e| FeatureError::new(file, e))?;
    feature.path = Some(file.to_owned());
    feature
        .expand_examples()
        .map_err(|e| FeatureError::new(file, e))
}

/// The embedded features, parsed.
pub fn embedded() -> Vec<gherkin::Feature> {
    EMBEDDED
        .iter()
        .map(|(file, text)| {
            parse(text, Path::new(file))
                .unwrap_or_else(|e| unreachable!("embedded features are parsed by tests: {e}"))
        })
        .collect()
}

/// Every `*.feature` file in `dir`, sorted by name and parsed.
pub fn load_dir(dir: &Path) -> Result<Vec<gherkin::Feature>, FeatureError> {
    let read_err = |e: std::io::Error| FeatureError::new(dir, e);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "feature"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).map_err(|e| FeatureError::new(file, e))?;
            parse(&text, file)
        })
        .collect()
}

/// A cucumber parser over features already in memory.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct InMemory;

impl cucumber::Parser<Vec<gherkin::Feature>> for InMemory {
    type Cli = cucumber::cli::Empty;
    type Output =
        stream::Iter<std::vec::IntoIter<Result<gherkin::Feature, cucumber::parser::Error>>>;

    fn parse(self, input: Vec<gherkin::Feature>, _: Self::Cli) -> Self::Output {
        stream::iter(input.into_iter().map(Ok).collect::<Vec<_>>())
    }
}
