//! The benchmark's output: the settings and machine, then two Markdown tables (talkops
//! against the floor; talkops next to the peers). Progress goes to stderr as it runs.

use std::time::Duration;

use crate::bench::{Figures, PeerOutcome, SizeResult};
use crate::cli::Options;

/// The settings and the machine.
pub fn print_header(options: &Options) {
    let mut settings = format!(
        "talkops benchmark: latency {} ms, page cap {}, {}% of agents change, --parallelism {}",
        options.latency_ms, options.page_cap, options.change_percent, options.parallelism
    );
    if let Some(rate) = &options.rate_limit {
        settings.push_str(&format!(", rate limit {rate} (requests/seconds)"));
    }
    if let Some(n) = options.every_nth_429 {
        settings.push_str(&format!(", a 429 (Retry-After: 1) on every {n}th request"));
    }
    println!("{settings}");
    println!("machine: {}", machine());
}

/// Both tables, once every size has run.
pub fn print_tables(options: &Options, results: &[SizeResult]) {
    println!();
    println!("talkops against the floor (floor: agent pages + the number list + one PUT per");
    println!("change; its wall: two round trips for a plan, plus ceil(changes / --parallelism)");
    println!("for the PUTs of an apply):");
    println!();
    println!(
        "| agents | run | requests | floor | 429s | wall | floor wall | ÷ floor | sequential latency | ÷ sequential | CPU | peak RSS |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for result in results {
        for (label, figures) in &result.talkops {
            let (floor, floor_wall) = floor(options, result, label);
            let sequential = latency(options) * u32::try_from(figures.requests).unwrap_or(u32::MAX);
            println!(
                "| {} | {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                thousands(result.size),
                thousands(figures.requests),
                thousands(floor),
                figures.refused,
                seconds(figures.measured.wall),
                seconds(floor_wall),
                ratio(figures.measured.wall, floor_wall),
                seconds(sequential),
                ratio(figures.measured.wall, sequential),
                seconds(figures.measured.cpu),
                mib(figures.measured.max_rss_kib),
            );
        }
    }
    if options.peers.is_empty() {
        return;
    }
    println!();
    println!("talkops apply next to the strategies users script instead (× = the strategy's");
    println!("figure ÷ talkops apply's; each converges the same fresh environment):");
    println!();
    println!(
        "| agents | strategy | requests | 429s | wall | CPU | peak RSS | requests × | wall × | CPU × | RSS × |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut footnotes = Vec::new();
    for result in results {
        let Some((_, talkops)) = result.talkops.iter().find(|(label, _)| *label == "apply") else {
            continue;
        };
        peer_row(result.size, "talkops apply", talkops, talkops, false);
        for (peer, outcome) in &result.peers {
            match outcome {
                PeerOutcome::Measured(figures) => {
                    peer_row(result.size, peer.label(), figures, talkops, false);
                }
                PeerOutcome::Extrapolated { from, figures } => {
                    let label = format!("{} †", peer.label());
                    peer_row(result.size, &label, figures, talkops, true);
                    let note = format!(
                        "† not run above --naive-max-agents {}: requests are one per agent, wall and CPU scaled linearly from the {}-agent run",
                        thousands(options.naive_max_agents),
                        thousands(*from)
                    );
                    if !footnotes.contains(&note) {
                        footnotes.push(note);
                    }
                }
                PeerOutcome::Skipped => println!(
                    "| {} | {} | not run (--naive-max-agents {}) | | | | | | | | |",
                    thousands(result.size),
                    peer.label(),
                    thousands(options.naive_max_agents)
                ),
            }
        }
    }
    for note in footnotes {
        println!();
        println!("{note}");
    }
}

fn peer_row(size: usize, label: &str, figures: &Figures, talkops: &Figures, extrapolated: bool) {
    let approx = if extrapolated { "≈ " } else { "" };
    let m = &figures.measured;
    let t = &talkops.measured;
    let (rss, rss_ratio) = if extrapolated {
        ("-".to_owned(), "-".to_owned())
    } else {
        (
            mib(m.max_rss_kib),
            times(m.max_rss_kib as f64, t.max_rss_kib as f64),
        )
    };
    println!(
        "| {} | {label} | {} | {} | {approx}{} | {approx}{} | {rss} | {} | {approx}{} | {approx}{} | {rss_ratio} |",
        thousands(size),
        thousands(figures.requests),
        figures.refused,
        seconds(m.wall),
        seconds(m.cpu),
        times(figures.requests as f64, talkops.requests as f64),
        times(m.wall.as_secs_f64(), t.wall.as_secs_f64()),
        times(m.cpu.as_secs_f64(), t.cpu.as_secs_f64()),
    );
}

/// The fewest requests a run can make, and the fewest round trips' wall time.
fn floor(options: &Options, result: &SizeResult, label: &str) -> (usize, Duration) {
    let pages = result.size.div_ceil(options.page_cap.max(1)).max(1);
    let plan = pages + 1;
    let round_trips = if label == "apply" {
        2 + result.changes.div_ceil(options.parallelism.max(1))
    } else {
        2
    };
    let requests = if label == "apply" {
        plan + result.changes
    } else {
        plan
    };
    (
        requests,
        latency(options) * u32::try_from(round_trips).unwrap_or(u32::MAX),
    )
}

fn latency(options: &Options) -> Duration {
    Duration::from_millis(options.latency_ms)
}

fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ratio(wall: Duration, base: Duration) -> String {
    if base.is_zero() {
        "-".into()
    } else {
        format!("{:.2}", wall.as_secs_f64() / base.as_secs_f64())
    }
}

fn times(value: f64, base: f64) -> String {
    if base > 0.0 {
        format!("{:.1}", value / base)
    } else {
        "-".into()
    }
}

/// 12345 as "12,345".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(50_000), "50,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
