//! talkops' integration tests: the real binary against the simulator over loopback HTTP.
//!
//! One test binary (see `autotests = false` in Cargo.toml); `harness` holds the builder that
//! every test uses.

mod harness;
mod harness_checks;

mod apply;
mod auth;
mod demo;
mod guards;
mod hostile_api;
mod hostile_input;
mod interruptions;
mod live_validation;
mod ordering;
mod plan;
mod projects;
mod resilience;
mod review;
mod routes;
mod security;
mod terminal;
mod tls;
mod validation;
