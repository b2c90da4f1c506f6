//! A one-line progress display on stderr for long reads and applies: only on a terminal, and
//! never with `--quiet`. It redraws in place and clears itself when done, so it never mixes
//! into the plan or the report.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// A shared progress line; cheap to clone. Disabled, every call does nothing.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    inner: Option<Arc<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    done: AtomicU64,
    total: AtomicU64,
    shown: AtomicBool,
}

impl Progress {
    /// Enabled only when stderr is a terminal and the user did not ask for quiet.
    pub fn for_terminal(quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            Progress::default()
        } else {
            Progress {
                inner: Some(Arc::default()),
            }
        }
    }

    /// Starts counting `total` units of `what` (e.g. "reading agents: pages").
    pub fn start(&self, what: &str, total: u64) {
        if let Some(inner) = &self.inner {
            inner.done.store(0, Ordering::Relaxed);
            inner.total.store(total, Ordering::Relaxed);
            draw(inner, what);
        }
    }

    /// One more unit done.
    pub fn tick(&self, what: &str) {
        if let Some(inner) = &self.inner {
            inner.done.fetch_add(1, Ordering::Relaxed);
            draw(inner, what);
        }
    }

    /// Clears the line.
    pub fn finish(&self) {
        if let Some(inner) = &self.inner {
            if inner.shown.swap(false, Ordering::Relaxed) {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            }
        }
    }
}

fn draw(inner: &Inner, what: &str) {
    let done = inner.done.load(Ordering::Relaxed);
    let total = inner.total.load(Ordering::Relaxed).max(1);
    let width = 24;
    let filled = (done.min(total) * width / total) as usize;
    let bar = format!(
        "{}{}",
        "#".repeat(filled),
        "-".repeat(width as usize - filled)
    );
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{what} [{bar}] {done}/{total}");
    let _ = err.flush();
    inner.shown.store(true, Ordering::Relaxed);
}
