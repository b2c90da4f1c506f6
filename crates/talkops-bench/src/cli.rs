//! The benchmark's flags, and [`Options`], what the rest of the benchmark reads.

use clap::{Parser, ValueEnum};

/// End-to-end benchmark of talkops, and of the strategies users script instead, against the
/// simulator in a separate process.
#[derive(Parser)]
#[command(name = "talkops-bench")]
pub struct Arguments {
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
    /// The peer strategies to run next to talkops, comma-separated, or `none`.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "PEER,...",
        default_value = "terraform,sequential,naive"
    )]
    peers: Vec<PeerChoice>,
    /// Run the naive script (one sequential PUT per agent) only up to this many agents;
    /// above, its row is extrapolated linearly from the largest size it ran at, and marked
    /// so. At 20 ms it costs about 21 s per 1,000 agents.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    naive_max_agents: usize,
}

/// One value of `--peers`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PeerChoice {
    Terraform,
    Sequential,
    Naive,
    None,
}

/// A strategy users would otherwise script, run against the same simulator as talkops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// List pages to find ids, one GET per declared agent and the changed PUTs, both
    /// parallelism 10 (Terraform's default).
    Terraform,
    /// Pages one by one, phone numbers once, changed PUTs one by one.
    Sequential,
    /// PUT every declared agent, sequentially, from ids it already holds.
    Naive,
}

impl Peer {
    /// The name on the command line of the peer mode.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Terraform => "terraform",
            Peer::Sequential => "sequential",
            Peer::Naive => "naive",
        }
    }

    pub fn from_name(name: &str) -> Option<Peer> {
        [Peer::Terraform, Peer::Sequential, Peer::Naive]
            .into_iter()
            .find(|p| p.name() == name)
    }

    /// The row label in the table.
    pub fn label(self) -> &'static str {
        match self {
            Peer::Terraform => "Terraform-style (GET each, parallelism 10)",
            Peer::Sequential => "sequential minimal client",
            Peer::Naive => "naive script (PUT every agent)",
        }
    }
}

/// The flags resolved: `--quick`'s defaults applied under the explicit flags.
pub struct Options {
    pub sizes: Vec<usize>,
    pub latency_ms: u64,
    pub page_cap: usize,
    pub change_percent: usize,
    pub parallelism: usize,
    pub rate_limit: Option<String>,
    pub every_nth_429: Option<u64>,
    pub peers: Vec<Peer>,
    pub naive_max_agents: usize,
}

impl From<Arguments> for Options {
    fn from(args: Arguments) -> Options {
        let (sizes, latency_ms) = if args.quick {
            (vec![1_000], 5)
        } else {
            (vec![1_000, 10_000, 50_000], 20)
        };
        let mut peers = Vec::new();
        for choice in &args.peers {
            let peer = match choice {
                PeerChoice::Terraform => Peer::Terraform,
                PeerChoice::Sequential => Peer::Sequential,
                PeerChoice::Naive => Peer::Naive,
                PeerChoice::None => continue,
            };
            if !peers.contains(&peer) {
                peers.push(peer);
            }
        }
        if args.peers.contains(&PeerChoice::None) {
            peers.clear();
        }
        Options {
            sizes: args.sizes.unwrap_or(sizes),
            latency_ms: args.latency_ms.unwrap_or(latency_ms),
            page_cap: args.page_cap,
            change_percent: args.change_percent,
            parallelism: args.parallelism,
            rate_limit: args.rate_limit,
            every_nth_429: args.every_nth_429,
            peers,
            naive_max_agents: args.naive_max_agents,
        }
    }
}
