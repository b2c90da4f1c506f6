//! The talkops binary: parse, run, map the result to an exit code. Everything else is in the
//! library, where tests can reach it.

use std::process::ExitCode;

fn main() -> ExitCode {
    match talkops::run(std::env::args_os()) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
