//! End-to-end benchmark of talkops: generates environments and configs of several sizes, runs
//! the simulator in a separate process with a set latency and page cap, runs the real
//! `talkops` binary for plan, apply and plan again, and the strategies users would script
//! instead (Terraform-style, a sequential minimal client, a naive script), and reports each
//! one's requests, 429s, wall time, CPU time and peak RSS, with ratios to talkops and
//! talkops' ratio to the floor.
//!
//! `cargo run --release -p talkops-bench` (it builds the release binaries it runs first).
//! `-- --quick` runs one small size, for CI; it reports and never judges.
//!
//! The pipeline: [`cli`] flags → [`workload`] files → [`sim`] process → [`measure`]d runs of
//! talkops and of the [`peers`] ([`bench`]) → [`report`].

pub mod bench;
pub mod cli;
pub mod measure;
pub mod peers;
pub mod report;
pub mod sim;
pub mod workload;
