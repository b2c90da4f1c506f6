//! talkops manages Talkover voice agents' phone routing as code.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! files --desired--> DesiredConfig --resolve(+ LiveState from api)--> ResolvedAgent[]
//!       --diff--> Plan (+ order, guards) --render--> text | markdown | json (document)
//!       --apply(api)--> ApplyReport --render--> text | markdown | json
//! ```
//!
//! `desired`, `model`, `resolve`, `diff`, `order`, `guards`, `drift`, `plan`, `export` and
//! `render` (with the JSON `document`) are pure; only `api` (and `apply`, through it) touch the network, and only
//! `desired::load` and `commands` touch the disk. `commands` wires the stages to the command
//! line: [`run`] parses it and hands each command to its module there.

pub mod api;
pub mod apply;
mod cli;
mod commands;
pub mod desired;
pub mod diff;
pub mod drift;
pub mod export;
pub mod guards;
pub mod model;
pub mod order;
pub mod plan;
pub mod printable;
pub mod progress;
pub mod render;
pub mod resolve;
pub mod schema;
pub mod settings;
pub mod stdout;

use std::ffi::OsString;

use clap::Parser;

/// Runs talkops with these arguments (the first is the program name) and returns the exit
/// code: 0 success, 1 error, 2 changes present under `plan --detailed-exitcode`. A failed
/// write to stdout makes it an error (see [`stdout`]).
pub fn run<I, T>(args: I) -> anyhow::Result<u8>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let arguments = match cli::Arguments::try_parse_from(args) {
        Ok(arguments) => arguments,
        Err(err) => {
            // Usage errors exit 1, not clap's 2: under --detailed-exitcode, 2 means "changes".
            let _ = err.print();
            return Ok(if err.use_stderr() { 1 } else { 0 });
        }
    };
    stdout::finish(commands::dispatch(arguments.command))
}
