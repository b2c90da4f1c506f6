//! The `talkover-sim` binary's front door: its flags, and [`run`], which loads the seed,
//! binds, announces the URL on stdout and serves until Ctrl-C or SIGTERM.
//!
//! The clap types stop here: [`run`] turns them into a [`SimConfig`] straight away.

use std::fmt;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{NonEmptyStringValueParser, RangedU64ValueParser};
use clap::Parser;
use tokio::net::TcpListener;

use crate::faults::{RateLimit, RetryAfter};
use crate::seed::Seed;
use crate::server::serve;
use crate::state::{SharedState, SimConfig, DEFAULT_PAGE_SIZE_CAP};

const AFTER_HELP: &str = "\
Once bound, prints exactly one line to stdout, then serves until Ctrl-C or SIGTERM:
  talkover-sim listening on http://127.0.0.1:PORT

Example:
  TALKOVER_SIM_TOKEN=talq_demo talkover-sim --port 8080 --seed crates/talkover-sim/seeds/example.json
  curl -H 'Authorization: Bearer talq_demo' http://127.0.0.1:8080/api/v1/agents

Besides the /api/v1 endpoints talkops uses, it serves GET /health, and GET /_sim/journal
and GET /_sim/state (no token) to inspect the requests it saw and the agents' state.

Fault knobs that name requests by number count /api/v1 requests only, from 1, in arrival
order, including those answered 401, 429 or 503 (a retry is a new number). Per request
the order is: wait (latency, slow), 503 (--fail-requests), 429 (--rate-limit-every),
429 (--rate-limit), token check, route.";

/// A stateful local simulator of the Talkover REST API, for talkops' tests and demo.
#[derive(Debug, Parser)]
#[command(name = "talkover-sim", version, after_help = AFTER_HELP)]
pub struct Arguments {
    /// Port to listen on; 0 picks a free one. Always binds 127.0.0.1 only.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,

    /// JSON file with the environment at start: {"agents": [...], "phone_numbers": [...]}
    /// (see crates/talkover-sim/seeds/example.json). Without it the environment is empty.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// Bearer token the simulator accepts on /api/v1. Required: there is no built-in
    /// default token. Prefer the environment variable, which other users cannot see in
    /// the process list.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "TALKOVER_SIM_TOKEN",
        hide_env_values = true,
        value_parser = NonEmptyStringValueParser::new()
    )]
    pub token: String,

    /// Largest per_page served; larger requests are clamped to it, as the real service
    /// clamps them.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_PAGE_SIZE_CAP,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub page_size_cap: usize,

    /// Fault: refuse every PUT to agent ID with 422 and MESSAGE (repeatable).
    #[arg(long = "refuse-agent", value_name = "ID=MESSAGE", value_parser = parse_refusal)]
    pub refuse_agent: Vec<(String, String)>,

    /// Fault: the PUT adds phone_number_ids to an agent's numbers instead of replacing them.
    #[arg(long)]
    pub merge_numbers_on_put: bool,

    /// Fault: answer every /api/v1 request only after N milliseconds. Concurrent
    /// requests wait together, not one after another.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,

    /// Fault: hold the /api/v1 requests with these arrival numbers (1-based) for
    /// --slow-ms more, to let a client's timeout fire. They are still answered (and a
    /// write still applied) afterwards.
    #[arg(
        long,
        value_name = "N,...",
        value_delimiter = ',',
        value_parser = RangedU64ValueParser::<u64>::new().range(1..)
    )]
    pub slow_requests: Vec<u64>,

    /// The extra delay of --slow-requests, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub slow_ms: u64,

    /// Fault: answer the /api/v1 requests with these arrival numbers (1-based) with 503
    /// "Service temporarily unavailable", changing nothing.
    #[arg(
        long,
        value_name = "N,...",
        value_delimiter = ',',
        value_parser = RangedU64ValueParser::<u64>::new().range(1..)
    )]
    pub fail_requests: Vec<u64>,

    /// Fault: answer every Nth /api/v1 request (arrival numbers N, 2N, ...) with 429 "Too
    /// Many Requests" and a Retry-After header, changing nothing.
    #[arg(
        long,
        value_name = "N",
        value_parser = RangedU64ValueParser::<u64>::new().range(1..)
    )]
    pub rate_limit_every: Option<u64>,

    /// The Retry-After of --rate-limit-every's 429s, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    pub retry_after: u64,

    /// Send --retry-after as an HTTP date (e.g. "Sun, 06 Nov 1994 08:49:37 GMT") that many
    /// seconds ahead, instead of a number of seconds.
    #[arg(long)]
    pub retry_after_http_date: bool,

    /// Fault: a fixed-window rate limit of LIMIT /api/v1 requests per SECONDS (e.g.
    /// 100/60), windows starting at the first request. Every /api/v1 response carries
    /// X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset; a request over the
    /// limit gets 429 with Retry-After.
    #[arg(long, value_name = "LIMIT/SECONDS", value_parser = parse_rate_limit)]
    pub rate_limit: Option<RateLimit>,

    /// Fault: refuse with 409 DID_IN_USE a PUT that makes an agent newly answer (inbound)
    /// a number another inbound agent answers, changing nothing.
    #[arg(long)]
    pub enforce_single_inbound_owner: bool,
}

fn parse_rate_limit(text: &str) -> Result<RateLimit, String> {
    let parsed = text.split_once('/').and_then(|(limit, seconds)| {
        let limit = limit.trim().parse::<u64>().ok()?;
        let seconds = seconds.trim().parse::<u64>().ok()?;
        (limit > 0 && seconds > 0).then(|| RateLimit {
            limit,
            window: Duration::from_secs(seconds),
        })
    });
    parsed.ok_or_else(|| {
        format!("expected LIMIT/SECONDS with both at least 1 (e.g. 100/60), got {text:?}")
    })
}

fn parse_refusal(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((id, message)) if !id.is_empty() && !message.is_empty() => {
            Ok((id.to_owned(), message.to_owned()))
        }
        _ => Err(format!("expected ID=MESSAGE, got {text:?}")),
    }
}

/// Why the binary stopped with a failure.
#[derive(Debug)]
pub enum RunError {
    /// The seed file could not be read or is not a valid seed.
    Seed {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The runtime could not start.
    Runtime(io::Error),
    /// `127.0.0.1:port` could not be bound.
    Bind {
        /// The port asked for.
        port: u16,
        /// The bind error.
        source: io::Error,
    },
    /// The URL could not be announced on stdout.
    Announce(io::Error),
    /// The server failed while serving.
    Serve(io::Error),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Seed { path, reason } => write!(f, "{}: {reason}", path.display()),
            RunError::Runtime(err) => write!(f, "cannot start the runtime: {err}"),
            RunError::Bind { port, source } => {
                write!(f, "cannot listen on 127.0.0.1:{port}: {source}")
            }
            RunError::Announce(err) => write!(f, "cannot write to stdout: {err}"),
            RunError::Serve(err) => write!(f, "server error: {err}"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Seed { .. } => None,
            RunError::Runtime(err) | RunError::Announce(err) | RunError::Serve(err) => Some(err),
            RunError::Bind { source, .. } => Some(source),
        }
    }
}

/// Runs the simulator as the binary does, returning when it has been stopped by a
/// signal, or with the reason it could not run.
pub fn run(args: Arguments) -> Result<(), RunError> {
    let seed = match &args.seed {
        Some(path) => load_seed(path)?,
        None => Seed::default(),
    };
    let state = SharedState::new(sim_config(&args, seed)).map_err(|err| RunError::Seed {
        // Only reachable with a seed file: the empty seed is always valid.
        path: args.seed.clone().unwrap_or_default(),
        reason: err.to_string(),
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    runtime.block_on(async move {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
            .await
            .map_err(|source| RunError::Bind {
                port: args.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| RunError::Bind {
            port: args.port,
            source,
        })?;
        announce(&format!("talkover-sim listening on http://{addr}"))
            .map_err(RunError::Announce)?;
        serve(listener, state, shutdown_signal())
            .await
            .map_err(RunError::Serve)
    })
}

/// The simulator config the flags describe, around the already loaded seed.
fn sim_config(args: &Arguments, seed: Seed) -> SimConfig {
    SimConfig {
        token: args.token.clone(),
        page_size_cap: args.page_size_cap,
        seed,
        refused_agents: args.refuse_agent.iter().cloned().collect(),
        merge_numbers_on_put: args.merge_numbers_on_put,
        latency: Duration::from_millis(args.latency_ms),
        slow_requests: args.slow_requests.iter().copied().collect(),
        slow_delay: Duration::from_millis(args.slow_ms),
        // A barrier is for tests in code that drive their own concurrent client.
        barrier: None,
        fail_requests: args.fail_requests.iter().copied().collect(),
        rate_limit_every: args.rate_limit_every,
        retry_after: if args.retry_after_http_date {
            RetryAfter::HttpDate(args.retry_after)
        } else {
            RetryAfter::Seconds(args.retry_after)
        },
        rate_limit: args.rate_limit,
        enforce_single_inbound_owner: args.enforce_single_inbound_owner,
        // Hand-written answers are for tests in code; the binary has no flag for them.
        canned: Vec::new(),
    }
}

fn load_seed(path: &PathBuf) -> Result<Seed, RunError> {
    let failed = |reason: String| RunError::Seed {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|err| failed(err.to_string()))?;
    Seed::from_json(&text).map_err(|err| failed(err.to_string()))
}

/// Writes the one line a parent process waits for, flushed so it arrives even when
/// stdout is a pipe.
fn announce(line: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM. A signal that cannot be listened for is
/// ignored rather than taken as a request to stop.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(flags: &[&str]) -> SimConfig {
        let argv = ["talkover-sim", "--token", "talq_t"].iter().chain(flags);
        let args = Arguments::try_parse_from(argv).unwrap();
        sim_config(&args, Seed::default())
    }

    fn rejected(flags: &[&str]) -> String {
        let argv = ["talkover-sim", "--token", "talq_t"].iter().chain(flags);
        Arguments::try_parse_from(argv).unwrap_err().to_string()
    }

    #[test]
    fn every_fault_knob_defaults_to_off() {
        let config = config(&[]);
        let new = SimConfig::new("talq_t", Seed::default());
        assert_eq!(config.latency, new.latency);
        assert_eq!(config.slow_requests, new.slow_requests);
        assert_eq!(config.slow_delay, new.slow_delay);
        assert_eq!(config.fail_requests, new.fail_requests);
        assert_eq!(config.rate_limit_every, new.rate_limit_every);
        assert_eq!(config.retry_after, RetryAfter::Seconds(1));
        assert_eq!(config.retry_after, new.retry_after);
        assert_eq!(config.rate_limit, new.rate_limit);
        assert!(!config.enforce_single_inbound_owner);
        assert!(!new.enforce_single_inbound_owner);
    }

    #[test]
    fn fault_flags_become_the_config() {
        let config = config(&[
            "--latency-ms",
            "250",
            "--slow-requests",
            "1,4",
            "--slow-requests",
            "9",
            "--slow-ms",
            "3000",
            "--fail-requests",
            "2,3,4",
            "--rate-limit-every",
            "5",
            "--retry-after",
            "7",
            "--retry-after-http-date",
            "--rate-limit",
            "100/60",
            "--enforce-single-inbound-owner",
        ]);
        assert_eq!(config.latency, Duration::from_millis(250));
        assert_eq!(config.slow_requests, [1, 4, 9].into());
        assert_eq!(config.slow_delay, Duration::from_secs(3));
        assert_eq!(config.fail_requests, [2, 3, 4].into());
        assert_eq!(config.rate_limit_every, Some(5));
        assert_eq!(config.retry_after, RetryAfter::HttpDate(7));
        assert_eq!(
            config.rate_limit,
            Some(RateLimit {
                limit: 100,
                window: Duration::from_secs(60)
            })
        );
        assert!(config.enforce_single_inbound_owner);
        let seconds = self::config(&["--retry-after", "0"]);
        assert_eq!(seconds.retry_after, RetryAfter::Seconds(0));
    }

    #[test]
    fn bad_fault_flags_are_refused() {
        for flags in [
            &["--rate-limit", "100"][..],
            &["--rate-limit", "0/60"],
            &["--rate-limit", "100/0"],
            &["--rate-limit", "a/b"],
        ] {
            assert!(rejected(flags).contains("LIMIT/SECONDS"), "{flags:?}");
        }
        for flags in [
            &["--fail-requests", "0"][..],
            &["--slow-requests", "1,x"],
            &["--rate-limit-every", "0"],
        ] {
            rejected(flags);
        }
    }
}
