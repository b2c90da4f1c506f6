//! The benchmark proper: for each size, generate the environment, run talkops (plan, apply,
//! plan again) against one simulator and each peer against a fresh one, each measured
//! alone, and check that every run converged the simulator's state.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::cli::{Options, Peer};
use crate::measure::{measure, Measured, Run};
use crate::peers::PEER_MODE;
use crate::report;
use crate::sim::{Sim, TOKEN};
use crate::workload;

/// The release binaries the benchmark runs, and itself (the measuring wrapper and the peers).
struct Binaries {
    talkops: PathBuf,
    sim: PathBuf,
    bench: PathBuf,
}

/// Requests, refusals and cost of one run.
#[derive(Clone, Copy)]
pub struct Figures {
    pub requests: usize,
    pub refused: usize,
    pub measured: Measured,
}

/// A peer's row at one size.
pub enum PeerOutcome {
    Measured(Figures),
    /// Scaled linearly from the run at `from` agents (`--naive-max-agents`).
    Extrapolated {
        from: usize,
        figures: Figures,
    },
    /// Above `--naive-max-agents` with no smaller run to scale from.
    Skipped,
}

/// Everything measured at one size.
pub struct SizeResult {
    pub size: usize,
    pub changes: usize,
    /// talkops' plan, apply and plan again, in that order.
    pub talkops: Vec<(&'static str, Figures)>,
    pub peers: Vec<(Peer, PeerOutcome)>,
}

pub fn run(options: &Options) -> Result<(), String> {
    let root = workspace_root();
    build(&root)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let binaries = Binaries {
        talkops: target.join("release/talkops"),
        sim: target.join("release/talkover-sim"),
        bench: std::env::current_exe().map_err(|e| format!("cannot find this benchmark: {e}"))?,
    };
    report::print_header(options);
    let started = std::time::Instant::now();
    let mut results: Vec<SizeResult> = Vec::new();
    for &size in &options.sizes {
        let result = bench_size(&binaries, options, size, &results)?;
        results.push(result);
    }
    report::print_tables(options, &results);
    eprintln!(
        "the benchmark took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn bench_size(
    binaries: &Binaries,
    options: &Options,
    size: usize,
    earlier: &[SizeResult],
) -> Result<SizeResult, String> {
    let dir = std::env::temp_dir().join(format!("talkops-bench-{}-{size}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let changes = size * options.change_percent / 100;
    workload::write(&dir, size, changes)?;
    let result = bench_in(binaries, options, size, changes, &dir, earlier);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench_in(
    binaries: &Binaries,
    options: &Options,
    size: usize,
    changes: usize,
    dir: &Path,
    earlier: &[SizeResult],
) -> Result<SizeResult, String> {
    let seed = dir.join("seed.json");
    let parallelism = options.parallelism.to_string();
    let mut talkops = Vec::new();
    let server = Sim::start(&binaries.sim, &seed, options)?;
    for (label, args, expected_code) in [
        (
            "plan",
            vec!["plan", "--detailed-exitcode", "agents.yaml"],
            if changes > 0 { 2 } else { 0 },
        ),
        (
            "apply",
            vec![
                "apply",
                "--auto-approve",
                "agents.yaml",
                "--parallelism",
                &parallelism,
            ],
            0,
        ),
        (
            "plan again",
            vec!["plan", "--detailed-exitcode", "agents.yaml"],
            0,
        ),
    ] {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let figures = run_measured(binaries, &server, &binaries.talkops, &args, dir)?;
        if figures.measured.code != expected_code {
            return Err(format!(
                "talkops {label} at {size} agents exited {} (expected {expected_code}):\n{}",
                figures.measured.code,
                log(dir)
            ));
        }
        progress(size, &format!("talkops {label}"), &figures);
        talkops.push((label, figures));
    }
    workload::check_converged(&server.state()?, size, changes)
        .map_err(|e| format!("talkops apply at {size} agents did not converge: {e}"))?;
    drop(server);

    let mut peers = Vec::new();
    for &peer in &options.peers {
        if peer == Peer::Naive && size > options.naive_max_agents {
            peers.push((peer, extrapolate_naive(size, earlier)));
            continue;
        }
        let server = Sim::start(&binaries.sim, &seed, options)?;
        let args = [OsStr::new(PEER_MODE), OsStr::new(peer.name())];
        let figures = run_measured(binaries, &server, &binaries.bench, &args, dir)?;
        if figures.measured.code != 0 {
            return Err(format!(
                "peer {} at {size} agents exited {}:\n{}",
                peer.name(),
                figures.measured.code,
                log(dir)
            ));
        }
        workload::check_converged(&server.state()?, size, changes).map_err(|e| {
            format!(
                "peer {} at {size} agents did not converge: {e}",
                peer.name()
            )
        })?;
        progress(size, peer.name(), &figures);
        peers.push((peer, PeerOutcome::Measured(figures)));
    }
    Ok(SizeResult {
        size,
        changes,
        talkops,
        peers,
    })
}

/// Runs `program` measured, against `server`, and counts the requests it drew.
fn run_measured(
    binaries: &Binaries,
    server: &Sim,
    program: &Path,
    args: &[&OsStr],
    dir: &Path,
) -> Result<Figures, String> {
    let before = server.journal()?.len();
    let measured = measure(
        &binaries.bench,
        &Run {
            program,
            args,
            dir,
            env: &[("TALKOVER_TOKEN", TOKEN), ("TALKOVER_API_URL", &server.url)],
        },
    )?;
    let journal = server.journal()?;
    let new = journal.get(before..).unwrap_or_default();
    Ok(Figures {
        requests: new.len(),
        refused: new.iter().filter(|e| e.status == 429).count(),
        measured,
    })
}

/// The naive script is one sequential PUT per agent: its requests are the agents, and its
/// wall and CPU time grow linearly, so they are scaled from the largest size it ran at.
fn extrapolate_naive(size: usize, earlier: &[SizeResult]) -> PeerOutcome {
    let measured = earlier.iter().rev().find_map(|r| {
        r.peers.iter().find_map(|(peer, outcome)| match outcome {
            PeerOutcome::Measured(figures) if *peer == Peer::Naive && r.size > 0 => {
                Some((r.size, *figures))
            }
            _ => None,
        })
    });
    let Some((from, figures)) = measured else {
        return PeerOutcome::Skipped;
    };
    let scale = size as f64 / from as f64;
    let scaled = |d: Duration| Duration::from_secs_f64(d.as_secs_f64() * scale);
    PeerOutcome::Extrapolated {
        from,
        figures: Figures {
            requests: size,
            refused: figures.refused * size / from,
            measured: Measured {
                wall: scaled(figures.measured.wall),
                cpu: scaled(figures.measured.cpu),
                ..figures.measured
            },
        },
    }
}

fn progress(size: usize, what: &str, figures: &Figures) {
    eprintln!(
        "{size} agents: {what}: {} requests, {:.2} s",
        figures.requests,
        figures.measured.wall.as_secs_f64()
    );
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// Builds the release binaries the benchmark runs (a no-op when they are current).
fn build(root: &Path) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "talkops",
            "-p",
            "talkover-sim",
        ])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("cargo build --release failed".into())
    }
}
