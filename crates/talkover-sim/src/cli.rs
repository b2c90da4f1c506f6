//! The `talkover-sim` binary's front door: its flags, and [`run`], which loads the seed,
//! binds, announces the URL on stdout and serves until Ctrl-C or SIGTERM.
//!
//! The clap types stop here: [`run`] turns them into a [`SimConfig`] straight away.

use std::fmt;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::builder::{NonEmptyStringValueParser, RangedU64ValueParser};
use clap::Parser;
use tokio::net::TcpListener;

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
and GET /_sim/state (no token) to inspect the requests it saw and the agents' state.";

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
    let state = SharedState::new(SimConfig {
        token: args.token,
        page_size_cap: args.page_size_cap,
        seed,
        refused_agents: args.refuse_agent.into_iter().collect(),
        merge_numbers_on_put: args.merge_numbers_on_put,
    })
    .map_err(|err| RunError::Seed {
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
