//! The `talkover-sim` binary: parses its flags and hands them to
//! [`talkover_sim::cli::run`]; everything else is library code.

use std::process::ExitCode;

use clap::Parser;
use talkover_sim::cli::{run, Arguments};

fn main() -> ExitCode {
    match run(Arguments::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
