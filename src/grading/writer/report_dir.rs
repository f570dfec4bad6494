//! The report directory: `report.json`, `report.md` and `report.html` of one run.

use std::path::{Path, PathBuf};

use super::document::Document;
use super::html::Html;
use super::json::Json;
use super::markdown::Markdown;
use super::render::Writer;

impl Document {
    /// Writes `report.json`, `report.md` and `report.html` into `dir`, returning their paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
        let fail = |path: &Path, cause: std::io::Error| WriteError {
            path: path.to_owned(),
            cause,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
        let writers: [(&str, &dyn Writer); 3] = [
            ("report.json", &Json),
            ("report.md", &Markdown),
            ("report.html", &Html),
        ];
        let mut written = Vec::new();
        for (name, writer) in writers {
            let path = dir.join(name);
            std::fs::write(&path, writer.render(self)).map_err(|e| fail(&path, e))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// A report directory that could not be written (the binary names its flag).
#[derive(Debug, thiserror::Error)]
#[error("{}: {cause}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub cause: std::io::Error,
}
