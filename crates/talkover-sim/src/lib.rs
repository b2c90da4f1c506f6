//! A stateful local simulator of the Talkover REST API, for talkops' integration tests
//! and `talkops demo`.
//!
//! It serves the four calls talkops depends on (list agents, show an agent, list phone
//! numbers, update an agent's calling settings), and the list of callback agents, as the
//! contract in `shared/talkover-api.md` describes them, with its own wire types: it must
//! never depend on the talkops crate, so that the client is checked against the contract
//! rather than against itself. Every request is journaled for tests to assert on, and
//! fault knobs on [`SimConfig`] make it slow, flaky, rate-limited or strict on demand.
//!
//! - `seed`: the environment at start ([`Seed`]), loadable from JSON and checked.
//! - `state`: the environment, its mutations, the fake clock and the journal.
//! - `faults`: the request-level fault knobs' decisions ([`RetryAfter`], [`RateLimit`]).
//! - `lock`: the poison-tolerant mutex lock that `state` and `faults` share.
//! - `canned`: hand-written answers to matching requests ([`Canned`]).
//! - `wire`: the JSON the simulator answers with.
//! - `routes`: the HTTP surface ([`router`]).
//! - `server`: [`spawn`] on a background thread, or [`serve`] in a caller's runtime.
//! - [`cli`]: the `talkover-sim` binary.
//!
//! ```no_run
//! use talkover_sim::{spawn, Seed, SimConfig};
//!
//! let seed = Seed::from_json(r#"{"agents": [{"id": "a1", "name": "Sales", "direction": "inbound"}]}"#)?;
//! let sim = spawn(SimConfig::new("talq_test", seed), 0)?;
//! println!("{}", sim.url()); // http://127.0.0.1:PORT
//! assert!(sim.writes().is_empty());
//! sim.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod canned;
pub mod cli;
mod faults;
mod lock;
mod routes;
mod seed;
mod server;
mod state;
mod wire;

pub use canned::Canned;
pub use faults::{RateLimit, RetryAfter};
pub use routes::router;
pub use seed::{Seed, SeedAgent, SeedError, SeedPhoneNumber};
pub use server::{serve, spawn, SimHandle};
pub use state::{
    AgentState, JournalEntry, SharedState, SimConfig, SimConfigError, DEFAULT_PAGE_SIZE_CAP,
};
