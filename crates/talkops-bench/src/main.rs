//! The `talkops-bench` binary: the benchmark, or one of its two hidden internal modes (the
//! measuring wrapper and a peer strategy), which it runs as child processes of itself.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use talkops_bench::cli::{Arguments, Options};
use talkops_bench::measure::{self, WRAPPER_MODE};
use talkops_bench::peers::{self, PEER_MODE};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    // The internal modes are dispatched before clap: the wrapper must stay as small as a
    // process can be, since its high-water mark is what its child's peak RSS starts from.
    let rest = args.get(2..).unwrap_or_default();
    let result = match args.get(1).and_then(|a| a.to_str()) {
        Some(WRAPPER_MODE) => return measure::wrapper_main(rest),
        Some(PEER_MODE) => peers::peer_main(rest),
        _ => talkops_bench::bench::run(&Options::from(Arguments::parse())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
