//! The one trait every writer implements: a run's result, of one target or of several, for
//! one place.

use super::document::Document;
use super::many_targets::ManyTargets;

/// Renders a run's result for one place.
pub trait Writer {
    /// One target's run.
    fn render(&self, doc: &Document) -> String;
    /// Several targets' runs side by side.
    fn render_many(&self, many: &ManyTargets<'_>) -> String;
}
