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
//! `render` (with the JSON `document`) are pure; only `api` (and `apply`, through it) touch
//! the network, and only `desired::load` and `commands` touch the disk. `commands` wires the
//! stages to the command line: [`run`] (there) parses it and hands each command to its module.

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
pub mod project;
pub mod render;
pub mod resolve;
pub mod routes;
pub mod schema;
pub mod settings;
pub mod stdout;

pub use commands::run;
