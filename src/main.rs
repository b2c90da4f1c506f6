//! The talkops binary: parse, run, map the result to an exit code. Everything else is in the
//! library, where tests can reach it.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    match talkops::run(std::env::args_os()) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // Not eprintln!, which panics when stderr is gone (exit 101 instead of 1).
            // Errors carry server messages and file names: control characters are shown,
            // not sent to the terminal.
            let text = talkops::render::visible(&format!("{err:#}"));
            let _ = writeln!(std::io::stderr(), "error: {text}");
            ExitCode::from(1)
        }
    }
}
