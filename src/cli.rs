//! The command line, as clap derive types. Nothing past `lib::run` sees these: they are
//! resolved into [`crate::settings::Settings`] and plain arguments first.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Manage Talkover voice agents' phone routing as code.
///
/// talkops reads YAML files that declare each agent's call direction and phone numbers,
/// compares them with the live Talkover environment, and makes only the changes needed.
#[derive(Debug, Parser)]
#[command(name = "talkops", version, about, long_about)]
pub struct Arguments {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check config files offline (no token, no network): every problem is reported.
    Validate {
        /// Config files or directories (read recursively: *.yaml, *.yml).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Show what apply would change. Writes nothing.
    Plan {
        #[command(flatten)]
        api: ApiArgs,
        /// Exit 2 when there are changes, 0 when there are none (1 stays "error").
        #[arg(long)]
        detailed_exitcode: bool,
        /// Config files or directories (read recursively: *.yaml, *.yml).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Compute the plan, show it, and after confirmation make the changes.
    Apply {
        #[command(flatten)]
        api: ApiArgs,
        /// Apply without asking. Required when stdin is not a terminal (CI).
        #[arg(long)]
        auto_approve: bool,
        /// Config files or directories (read recursively: *.yaml, *.yml).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Run plan, apply and plan again against a built-in local simulator: no account, no network.
    Demo,
}

/// Where the API is. The token is read from TALKOVER_TOKEN only, never from a flag, so that it
/// does not end up in shell history or process listings.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Base URL of the Talkover API.
    #[arg(
        long,
        env = "TALKOVER_API_URL",
        default_value = "https://app.talkover.ai",
        value_name = "URL"
    )]
    pub api_url: String,
}
