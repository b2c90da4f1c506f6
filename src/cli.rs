//! The command line, as clap derive types. Nothing below `commands` sees these: `commands`
//! resolves them into [`crate::settings::Settings`], [`crate::settings::Output`] and plain
//! values first.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Manage Talkover voice agents' phone routing as code.
///
/// talkops reads YAML files that declare each agent's call direction and phone numbers,
/// compares them with the live Talkover environment, and makes only the changes needed.
#[derive(Debug, Parser)]
#[command(name = "talkops", version, about, long_about)]
pub struct Arguments {
    #[command(subcommand)]
    pub command: Command,
    /// The project file listing the environments [default: $TALKOPS_PROJECT, else
    /// talkops.yaml in the current directory, when it exists]. Used only when no config
    /// PATH is given.
    #[arg(long, global = true, value_name = "FILE")]
    pub project: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check config files offline (no token, no network): every problem is reported.
    Validate {
        /// Output format: text (problems on stderr), or json (`{"problems": [...]}` on
        /// stdout, an empty list when valid). The exit code is 1 when there are problems.
        #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
        format: ValidateFormat,
        /// Only this environment of the project file (repeatable; default: all of them).
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Config files or directories (read recursively: *.yaml, *.yml). Without any: every
        /// environment of the project file (talkops.yaml).
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Show what apply would change. Writes nothing (but the --out file).
    Plan {
        #[command(flatten)]
        api: ApiArgs,
        #[command(flatten)]
        guards: GuardArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Exit 2 when there are changes, 0 when there are none (1 stays "error").
        #[arg(long)]
        detailed_exitcode: bool,
        /// Save the plan to FILE for `apply --plan FILE` (JSON; no token in it).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Record in the saved plan that its large change or callback warning was accepted.
        #[arg(long)]
        force: bool,
        /// Record in the saved plan that numbers going off the air were accepted.
        #[arg(long)]
        allow_unrouted: bool,
        /// Only these agents (name or id; repeatable). The whole config is still validated.
        #[arg(long, value_name = "NAME_OR_ID")]
        target: Vec<String>,
        /// Only this environment of the project file (repeatable; default: all of them).
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Config files or directories (read recursively: *.yaml, *.yml). Without any: every
        /// environment of the project file (talkops.yaml).
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Compute the plan, show it, and after confirmation make the changes; or perform a
    /// saved plan exactly (--plan FILE).
    Apply {
        #[command(flatten)]
        api: ApiArgs,
        #[command(flatten)]
        guards: GuardArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Apply without asking. Required when stdin is not a terminal (CI).
        #[arg(long)]
        auto_approve: bool,
        /// Apply despite a large change or a callback agent turning outbound.
        #[arg(long)]
        force: bool,
        /// Apply even if a number goes off the air or a published inbound agent is left with
        /// no numbers.
        #[arg(long)]
        allow_unrouted: bool,
        /// How many PUTs may be in flight at once (steps that depend on each other still
        /// wait for each other).
        #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
        parallelism: u16,
        /// Perform this saved plan (from `plan --out`) with no prompt: it was reviewed. Refused
        /// if any agent it changes has changed on the server since. With config PATHs, also
        /// refused unless that config, planned now, makes exactly the saved plan's changes.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["target", "auto_approve"])]
        plan: Option<PathBuf>,
        /// Only these agents (name or id; repeatable). The whole config is still validated.
        #[arg(long, value_name = "NAME_OR_ID")]
        target: Vec<String>,
        /// Only this environment of the project file (repeatable; default: all of them).
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Config files or directories (read recursively: *.yaml, *.yml). With --plan: the
        /// config the saved plan must match. Without any: every environment of the project
        /// file (talkops.yaml).
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Write the environment's current calling settings as a talkops config.
    Export {
        #[command(flatten)]
        api: ApiArgs,
        /// Write to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// With a project file: the environment to export (needed when it lists several).
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
    },
    /// Who answers and who dials from each phone number: live, or (with config PATHs) as
    /// applying that config would leave it. Writes nothing.
    Routes {
        #[command(flatten)]
        api: ApiArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = RoutesFormat::Text)]
        format: RoutesFormat,
        /// Colour in text output (auto: only on a terminal, and never with NO_COLOR set).
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
        /// Only this number (E.164 or phone-number id; repeatable).
        #[arg(long, value_name = "NUMBER")]
        number: Vec<String>,
        /// With a project file and no PATH: only this environment (repeatable; default: all).
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Config files or directories: show the routing as applying them would leave it,
        /// marking the rows that change.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// List the project file's environments: name, paths, token variable, URL, and whether
    /// the token variable is set (never its value). For scripts and CI matrices.
    Environments {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
        format: ValidateFormat,
    },
    /// Print the JSON Schema (draft-07) of the config format, or of the project file, for
    /// editors.
    Schema {
        /// Which file's schema.
        #[arg(value_enum, default_value_t = SchemaKind::Agents)]
        kind: SchemaKind,
    },
    /// Print a shell completion script (e.g. `talkops completions bash > /etc/bash_completion.d/talkops`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `talkops man > /usr/local/share/man/man1/talkops.1`.
    Man,
    /// Run plan, apply and plan again against a built-in local simulator: no account, no network.
    Demo,
}

/// Where the API is and how to talk to it. The token is read from TALKOVER_TOKEN only, never
/// from a flag, so that it does not end up in shell history or process listings.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Base URL of the Talkover API [default: $TALKOVER_API_URL, else https://app.talkover.ai].
    /// With a project file, each environment's api_url is used instead.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Seconds to wait for a connection to the API.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
    pub connect_timeout: Duration,
    /// Seconds to wait for one request's whole response.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    pub request_timeout: Duration,
    /// Retries of a request after a 429, a 5xx, a connection error or a timeout.
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub max_retries: u32,
    /// The most seconds one request may spend waiting between its retries, in all.
    #[arg(long, value_name = "SECONDS", default_value = "120", value_parser = seconds)]
    pub max_retry_wait: Duration,
    /// How many list pages may be in flight at once (reading the environment). The
    /// rate-limit headers pace them too.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub read_parallelism: u16,
    /// With a project file: also send an environment's token to this API host
    /// (repeatable; also TALKOPS_ALLOW_API_HOSTS, comma-separated). Without it, a project
    /// environment's api_url must be app.talkover.ai or loopback.
    #[arg(long, value_name = "HOST")]
    pub allow_api_host: Vec<String>,
    /// Log each request, retry and rate-limit pause to stderr.
    #[arg(short, long)]
    pub verbose: bool,
    /// No progress line on stderr (it is shown only on a terminal anyway).
    #[arg(short, long)]
    pub quiet: bool,
}

/// How plans and reports are printed.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format of the plan and of apply's report.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colour in text output (auto: only on a terminal, and never with NO_COLOR set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The formats of `talkops routes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoutesFormat {
    Text,
    Markdown,
    Json,
    Csv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Which schema `talkops schema` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// The agents files (`agents:` lists).
    Agents,
    /// The project file (`talkops.yaml`).
    Project,
}

/// `validate`'s (and `environments`') formats: a list of problems has no Markdown form worth having, so clap
/// refuses `markdown` here rather than printing text under that name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// When a plan is large enough to need --force.
#[derive(Debug, Args)]
pub struct GuardArgs {
    /// A plan changing more than this percentage of the managed agents needs --force...
    /// [default: the environment's max_change_percent, else 30]
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_change_percent: Option<u32>,
    /// ...when at least this many agents are managed. [default: the environment's
    /// change_guard_min_agents, else 10]
    #[arg(long, value_name = "N")]
    pub change_guard_min_agents: Option<usize>,
}

/// Parses a number of seconds, fractions allowed ("30", "0.5").
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    match Duration::try_from_secs_f64(value) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}
