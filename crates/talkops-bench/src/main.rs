//! End-to-end benchmark of talkops: generates environments and configs of several sizes, runs
//! the simulator in a separate process with a set latency and page cap, runs the real
//! `talkops` binary for plan and apply, and reports requests made, wall time, wall time
//! relative to the sequential sum of latencies, CPU time and peak RSS.
//!
//! `cargo run --release -p talkops-bench` (it builds the release binaries it runs first).
//! `-- --quick` runs one small size, for CI; it reports and never judges.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};

/// The token the benchmark's simulator accepts; it guards nothing.
const TOKEN: &str = "talq_bench_local";

/// End-to-end benchmark of talkops against the simulator in a separate process.
#[derive(Parser)]
#[command(name = "talkops-bench")]
struct Arguments {
    /// One small size (1000 agents) with 5 ms latency, for CI; flags given explicitly win.
    #[arg(long)]
    quick: bool,
    /// Environment sizes in agents, comma-separated [default: 1000,10000,50000].
    #[arg(long, value_delimiter = ',', value_name = "N,N,...")]
    sizes: Option<Vec<usize>>,
    /// The simulator's latency per request, in milliseconds [default: 20].
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,
    /// The simulator's page size cap.
    #[arg(long, default_value_t = 100, value_name = "N")]
    page_cap: usize,
    /// Percentage of agents whose numbers change.
    #[arg(long, default_value_t = 10, value_name = "PERCENT")]
    change_percent: usize,
    /// talkops apply's --parallelism.
    #[arg(long, default_value_t = 8, value_name = "N")]
    parallelism: usize,
    /// The simulator's --rate-limit.
    #[arg(long, value_name = "LIMIT/SECONDS")]
    rate_limit: Option<String>,
    /// A 429 (Retry-After: 1) on every Nth request.
    #[arg(long = "429-every", value_name = "N")]
    every_nth_429: Option<u64>,
}

/// The flags resolved: `--quick`'s defaults applied under the explicit flags.
struct Options {
    sizes: Vec<usize>,
    latency_ms: u64,
    page_cap: usize,
    change_percent: usize,
    parallelism: usize,
    rate_limit: Option<String>,
    every_nth_429: Option<u64>,
}

impl From<Arguments> for Options {
    fn from(args: Arguments) -> Options {
        let (sizes, latency_ms) = if args.quick {
            (vec![1_000], 5)
        } else {
            (vec![1_000, 10_000, 50_000], 20)
        };
        Options {
            sizes: args.sizes.unwrap_or(sizes),
            latency_ms: args.latency_ms.unwrap_or(latency_ms),
            page_cap: args.page_cap,
            change_percent: args.change_percent,
            parallelism: args.parallelism,
            rate_limit: args.rate_limit,
            every_nth_429: args.every_nth_429,
        }
    }
}

fn main() {
    if let Err(err) = run() {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let options = Options::from(Arguments::parse());
    let root = workspace_root();
    build(&root)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let binaries = Binaries {
        talkops: target.join("release/talkops"),
        sim: target.join("release/talkover-sim"),
    };
    print_header(&options);
    for &size in &options.sizes {
        bench_size(&binaries, &options, size)?;
    }
    Ok(())
}

/// The release binaries the benchmark runs.
struct Binaries {
    talkops: PathBuf,
    sim: PathBuf,
}

/// The settings, the machine and the table's head.
fn print_header(options: &Options) {
    println!(
        "talkops benchmark: latency {} ms, page cap {}, {}% of agents change, --parallelism {}{}",
        options.latency_ms,
        options.page_cap,
        options.change_percent,
        options.parallelism,
        options
            .rate_limit
            .as_ref()
            .map(|r| format!(", rate limit {r} (requests/seconds)"))
            .unwrap_or_default()
            + &options
                .every_nth_429
                .map(|n| format!(", a 429 (Retry-After: 1) on every {n}th request"))
                .unwrap_or_default()
    );
    println!("machine: {}", machine());
    println!();
    println!(
        "| agents | run | requests | 429s | wall | sequential latency | ratio | CPU | peak RSS |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
}

/// One environment of `size` agents: plan, apply and plan again, one table row each.
fn bench_size(binaries: &Binaries, options: &Options, size: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("talkops-bench-{}-{size}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let changes = size * options.change_percent / 100;
    write_environment(&dir, size, changes)?;
    let server = Sim::start(&binaries.sim, &dir.join("seed.json"), options)?;
    for (label, args) in [
        ("plan", vec!["plan", "--detailed-exitcode", "agents.yaml"]),
        ("apply", vec!["apply", "--auto-approve", "agents.yaml"]),
        (
            "plan again",
            vec!["plan", "--detailed-exitcode", "agents.yaml"],
        ),
    ] {
        let before = server.journal()?;
        let parallelism = options.parallelism.to_string();
        let mut full: Vec<&str> = args.clone();
        if label == "apply" {
            full.extend(["--parallelism", &parallelism]);
        }
        let run = measure(&binaries.talkops, &full, &dir, &server.url)?;
        let journal = server.journal()?;
        let new = &journal[before.len()..];
        let refused = new.iter().filter(|e| e["status"] == 429).count();
        let expected_code = match label {
            "plan" if changes > 0 => 2,
            _ => 0,
        };
        if run.code != expected_code {
            let log = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
            return Err(format!(
                "talkops {label} exited {} (expected {expected_code}):\n{log}",
                run.code
            ));
        }
        let sequential = Duration::from_millis(options.latency_ms * new.len() as u64);
        let ratio = if sequential.is_zero() {
            "-".to_owned()
        } else {
            format!("{:.3}", run.wall.as_secs_f64() / sequential.as_secs_f64())
        };
        println!(
            "| {size} | {label} | {} | {refused} | {:.3} s | {:.3} s | {ratio} | {:.3} s | {:.1} MiB |",
            new.len(),
            run.wall.as_secs_f64(),
            sequential.as_secs_f64(),
            run.cpu.as_secs_f64(),
            run.max_rss_kib as f64 / 1024.0
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
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

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

/// The seed (every agent holding one number, half inbound, half outbound, plus one free number
/// per changing agent) and a config that declares every agent, `changes` of them gaining
/// their free number: no guard trips and no PUT depends on another.
fn write_environment(dir: &Path, size: usize, changes: usize) -> Result<(), String> {
    let mut agents = Vec::with_capacity(size);
    let mut numbers = Vec::with_capacity(size + changes);
    let mut config = String::with_capacity(size * 90);
    config.push_str("agents:\n");
    for i in 0..size {
        let direction = if i % 2 == 0 { "inbound" } else { "outbound" };
        numbers.push(json!({"id": format!("pn-{i}"), "number": format!("+1{:010}", 2_000_000_000u64 + i as u64)}));
        agents.push(json!({
            "id": format!("agent-{i:06}"),
            "name": format!("Agent {i:06}"),
            "direction": direction,
            "phone_number_ids": [format!("pn-{i}")],
        }));
        let mut list = vec![format!("\"+1{:010}\"", 2_000_000_000u64 + i as u64)];
        if i < changes {
            numbers.push(json!({"id": format!("pn-free-{i}"), "number": format!("+1{:010}", 3_000_000_000u64 + i as u64)}));
            list.push(format!("\"+1{:010}\"", 3_000_000_000u64 + i as u64));
        }
        config.push_str(&format!(
            "  - name: Agent {i:06}\n    direction: {direction}\n    phone_numbers: [{}]\n",
            list.join(", ")
        ));
    }
    let seed = json!({"agents": agents, "phone_numbers": numbers});
    std::fs::write(dir.join("seed.json"), seed.to_string()).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("agents.yaml"), config).map_err(|e| e.to_string())
}

/// The simulator in its own process.
struct Sim {
    child: Child,
    url: String,
    client: reqwest::blocking::Client,
}

impl Sim {
    fn start(binary: &Path, seed: &Path, options: &Options) -> Result<Sim, String> {
        let mut command = Command::new(binary);
        command
            .args(["--port", "0", "--seed"])
            .arg(seed)
            .args(["--latency-ms", &options.latency_ms.to_string()])
            .args(["--page-size-cap", &options.page_cap.to_string()])
            .env("TALKOVER_SIM_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(limit) = &options.rate_limit {
            command.args(["--rate-limit", limit]);
        }
        if let Some(every) = options.every_nth_429 {
            // A 429 with Retry-After: 1 on every Nth request: a storm the client must ride out.
            command.args([
                "--rate-limit-every",
                &every.to_string(),
                "--retry-after",
                "1",
            ]);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the simulator: {e}"))?;
        let stdout = child.stdout.take().ok_or("no simulator stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the simulator's URL: {e}"))?;
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://"))
            .ok_or(format!("unexpected simulator output {line:?}"))?
            .to_owned();
        // No proxy: the environment may name one, and loopback must be reached directly.
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Sim { child, url, client })
    }

    /// `GET /_sim/journal`: every request the simulator has answered, in arrival order.
    fn journal(&self) -> Result<Vec<Value>, String> {
        self.client
            .get(format!("{}/_sim/journal", self.url))
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .and_then(reqwest::blocking::Response::json)
            .map_err(|e| format!("journal: {e}"))
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Measured {
    code: i32,
    wall: Duration,
    cpu: Duration,
    max_rss_kib: i64,
}

/// Runs talkops and reads its own CPU time and peak RSS with wait4(2).
fn measure(binary: &Path, args: &[&str], dir: &Path, url: &str) -> Result<Measured, String> {
    let stdout = File::create(dir.join("stdout.log")).map_err(|e| e.to_string())?;
    let stderr = File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let child = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .env("TALKOVER_TOKEN", TOKEN)
        .env("TALKOVER_API_URL", url)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot run talkops: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 writes only into `status` and `usage`, both owned here; the pid is our
    // own child, which `Child` never waits for because it is forgotten below.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    std::mem::forget(child);
    if waited != pid {
        return Err("wait4 failed".into());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Ok(Measured {
        code,
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss,
    })
}
