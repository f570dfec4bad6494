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

/// How deep a YAML document may nest (flow brackets, or block sequences on one line): far
/// beyond any file the tool reads, and far below what makes a parser slow or deep.
pub const MAX_NESTING: usize = 64;

/// `text` parsed as the YAML of `file`, once it is known to nest no deeper than
/// `MAX_NESTING` (a parser spends time quadratic in the nesting, or stack linear in it).
pub(crate) fn from_yaml<T: serde::de::DeserializeOwned>(
    file: &std::path::Path,
    text: &str,
) -> Result<T, FileError> {
    if let Some(line) = too_deep(text) {
        return Err(FileError::Syntax {
            file: file.to_owned(),
            line,
            column: 0,
            message: format!("nested more than {MAX_NESTING} deep"),
        });
    }
    serde_yaml::from_str(text).map_err(|e| FileError::syntax(file, &e))
}

/// The 1-based line where `text` first nests deeper than `MAX_NESTING`, if it does: flow
/// brackets outside quotes, or `- ` items begun on one line.
pub(crate) fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (n, line) in text.lines().enumerate() {
        let items = line
            .trim_start()
            .as_bytes()
            .chunks(2)
            .take_while(|c| *c == b"- " || *c == b"-")
            .count();
        if items > MAX_NESTING {
            return Some(n + 1);
        }
        for c in line.chars() {
            match (quote, c) {
                (Some('"'), '\\') if !escaped => {
                    escaped = true;
                    continue;
                }
                (Some(q), c) if c == q && !escaped => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Some(n + 1);
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                (None, _) => {}
            }
            escaped = false;
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_nested_too_deep_is_refused_at_once_and_quoted_brackets_count_for_nothing() {
        let deep = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        let err =
            from_yaml::<serde_yaml::Value>(std::path::Path::new("f.yaml"), &deep).unwrap_err();
        assert!(
            err.to_string().contains("nested more than 64 deep"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(too_deep(&format!("- {}x", "- ".repeat(70))), Some(1));
        assert_eq!(
            too_deep("a: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['"),
            None
        );
        assert_eq!(too_deep("a: [[1], {b: [2]}]\n- - x\n"), None);
        assert!(from_yaml::<serde_yaml::Value>(std::path::Path::new("f.yaml"), "a: [[1]]").is_ok());
    }
}
