//! The progress line on stderr for long reads and applies, drawn by `indicatif`: only on a
//! terminal, and never with `--quiet`. It clears itself when done, so it never mixes into the
//! plan or the report; and the `-v` log goes through it ([`Progress::log`]), so that a log
//! line is printed above the line instead of over it.
//!
//! This is the terminal side of the API client's [`Observer`]: the commands build one and
//! hand it to the client, which knows nothing of terminals. Must not panic, even when stderr
//! is closed (indicatif ignores its own write errors; the log goes through
//! [`crate::stdout::eprint`]).

use std::io::IsTerminal;
use std::sync::{Mutex, PoisonError};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::api::Observer;

/// A progress line; share it behind an `Arc`. Disabled, it draws nothing and only passes the
/// log to stderr.
#[derive(Debug, Default)]
pub struct Progress {
    /// `None` when disabled.
    line: Option<Line>,
}

struct Line {
    style: ProgressStyle,
    /// The bar of the count in progress, if any; a new one for each count, as a finished
    /// indicatif bar stays finished.
    bar: Mutex<Option<ProgressBar>>,
}

impl std::fmt::Debug for Line {
    // By hand: indicatif's `ProgressStyle` is not `Debug`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Line")
            .field("bar", &self.bar)
            .finish_non_exhaustive()
    }
}

/// `what [####----] 3/8`, the bar 24 columns wide, as talkops drew it by hand before.
const TEMPLATE: &str = "{msg} [{bar:24}] {pos}/{len}";

impl Progress {
    /// Enabled only when stderr is a terminal and the user did not ask for quiet.
    pub fn for_terminal(quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress::default();
        }
        // The template is a constant; should indicatif ever refuse it, there is simply no
        // progress line (a progress line is never worth failing a run).
        match ProgressStyle::with_template(TEMPLATE) {
            Ok(style) => Progress {
                line: Some(Line {
                    style: style.progress_chars("#-"),
                    bar: Mutex::new(None),
                }),
            },
            Err(_) => Progress::default(),
        }
    }

    /// The bar now shown, if any (a clone: indicatif's bars are shared handles).
    fn bar(&self) -> Option<ProgressBar> {
        let line = self.line.as_ref()?;
        let bar = line.bar.lock().unwrap_or_else(PoisonError::into_inner);
        bar.clone()
    }
}

impl Observer for Progress {
    fn start(&self, what: &str, total: u64) {
        if let Some(line) = &self.line {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(line.style.clone())
                .with_message(what.to_owned());
            bar.tick();
            let old = line
                .bar
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .replace(bar);
            if let Some(old) = old {
                old.finish_and_clear();
            }
        }
    }

    fn tick(&self) {
        if let Some(bar) = self.bar() {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(line) = &self.line {
            let bar = line
                .bar
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
        }
    }

    /// Prints `line` on stderr above the progress line: indicatif clears the bar, the line is
    /// written, the bar is drawn again. Not `ProgressBar::println`, which prints nothing when
    /// the bar is hidden.
    fn log(&self, line: &str) {
        let text = format!("{line}\n");
        match self.bar() {
            Some(bar) => bar.suspend(|| crate::stdout::eprint(&text)),
            None => crate::stdout::eprint(&text),
        }
    }
}
