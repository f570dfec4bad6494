//! Progress on stderr for runs that take more than a couple of seconds, drawn only when stderr
//! is a terminal: a pipe, a file or a CI log gets nothing of it.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before its progress is shown.
pub const SHOW_AFTER: Duration = Duration::from_secs(2);

/// A bar of `len` steps (a counter when `None`) saying `what`, hidden for its first
/// `SHOW_AFTER` and for good when stderr is not a terminal. Call from within a tokio runtime.
pub fn start(len: Option<u64>, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden());
    let template = if len.is_some() {
        "{msg} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})"
    } else {
        "{spinner} {msg}: {pos} ({elapsed})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    if console::Term::stderr().is_term() {
        let shown = bar.clone();
        tokio::spawn(async move {
            tokio::time::sleep(SHOW_AFTER).await;
            if !shown.is_finished() {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(200));
            }
        });
    }
    bar
}
