//! The one way talkops writes to stdout. `print!` panics when stdout is gone (`talkops apply
//! ... | head -1`: Rust ignores SIGPIPE, so the write fails with EPIPE and `print!` panics
//! with exit 101), which after the PUTs would lose the report. Here a write error instead
//! turns stdout off for the rest of the run: that text and everything after it goes to
//! stderr, and [`finish`] turns the run's exit code into an error (exit 1).
//!
//! Owns no formatting; must not panic whatever the state of stdout or stderr.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Set once a write to stdout failed: from then on output goes to stderr. Process-wide on
/// purpose, like stdout itself.
static BROKEN: AtomicBool = AtomicBool::new(false);
/// The first write error, for the closing message.
static FIRST_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Writes `text` to stdout and flushes it; if that fails (or failed before), writes it to
/// stderr instead. Never panics.
pub fn print(text: &str) {
    if !BROKEN.load(Ordering::SeqCst) {
        let mut stdout = std::io::stdout().lock();
        match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Ok(()) => return,
            Err(err) => {
                BROKEN.store(true, Ordering::SeqCst);
                if let Ok(mut first) = FIRST_ERROR.lock() {
                    first.get_or_insert_with(|| err.to_string());
                }
                // Part of `text` may have reached stdout; the whole of it goes to stderr, so
                // that nothing is lost (a line may show twice where both are read).
                let _ = writeln!(
                    std::io::stderr(),
                    "talkops: cannot write to stdout ({err}); the rest of the output follows here on stderr"
                );
            }
        }
    }
    eprint(text);
}

/// [`print`] with a line end.
pub fn println(text: &str) {
    print(&format!("{text}\n"));
}

/// Why stdout could not be written, if a write failed: the run then fails (exit 1),
/// whatever its own result.
pub fn failure() -> Option<String> {
    if !BROKEN.load(Ordering::SeqCst) {
        return None;
    }
    let reason = FIRST_ERROR
        .lock()
        .ok()
        .and_then(|first| first.clone())
        .unwrap_or_else(|| "unknown error".to_owned());
    Some(format!(
        "cannot write to stdout ({reason}): its output was written to stderr instead"
    ))
}

/// Writes `text` to stderr, ignoring a failure: `eprint!` would panic when stderr is gone
/// (a closed terminal after SIGHUP), and there is nowhere left to say so.
pub fn eprint(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}
