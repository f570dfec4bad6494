//! The one error type of a YAML file the tool reads (the spec, a profile, a stub's fixtures,
//! a baseline): it names the file, the line and the key, and how the line is found.

use std::path::PathBuf;

/// A YAML file that could not be used, with where the fault is.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: cannot read: {reason}", file.display())]
    Read {
        file: PathBuf,
        reason: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", file.display())]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}: key `{key}`: {message}", file.display())]
    Invalid {
        file: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

impl FileError {
    /// The error of text that is not the YAML `file` should hold.
    pub(crate) fn syntax(file: &std::path::Path, e: &serde_yaml::Error) -> FileError {
        let (line, column, message) = yaml_error(e);
        FileError::Syntax {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    }
}

/// Line, column and message of a YAML error (the message without serde's " at line L column
/// C", which the caller puts in front); 0, 0 when serde knows no location.
pub(crate) fn yaml_error(e: &serde_yaml::Error) -> (usize, usize, String) {
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    (line, column, strip_location(&e.to_string()).to_owned())
}

/// serde's messages end in " at line L column C", which the caller already says.
pub(crate) fn strip_location(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

/// The 1-based line of the `nth` (0-based) occurrence of `needle`, or of its first when there
/// are fewer; 0 when it does not occur. serde gives no spans for values that parsed, so
/// semantic errors point at the text that carries the offending value.
pub fn line_of(text: &str, needle: &str, nth: usize) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    hits.get(nth).or(hits.first()).copied().unwrap_or(0)
}
