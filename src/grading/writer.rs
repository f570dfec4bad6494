//! The writers: one stage that renders one run's result, `Document`, for each place it goes,
//! named as cucumber names its writers: `writer::Console`, `writer::Markdown`,
//! `writer::Html`, `writer::Json` (`report.json`, a stable schema documented in docs/reference.md)
//! and `writer::JUnit`.

mod console;
mod document;
mod html;
pub mod json;
pub mod junit;
mod many_targets;
mod markdown;
pub mod page_text;
mod render;
mod report_dir;

pub use console::{Console, diff_console, fuzz_summary, judged_of, traffic_lines, verdict_line};
pub use document::Document;
pub use html::Html;
pub use json::{Json, SCHEMA};
pub use junit::JUnit;
pub use many_targets::{MANY_SCHEMA, ManyTargets};
pub use markdown::Markdown;
pub use render::Writer;
pub use report_dir::WriteError;
