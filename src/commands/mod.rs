//! The commands: each turns its resolved arguments into the pipeline's stages and prints the
//! result. This is the only layer below `lib.rs` that sees the clap types ([`crate::cli`]):
//! [`dispatch`] resolves them into [`Settings`], [`Output`] and plain values once, and each
//! command module takes those. `anyhow` errors live here and in `main`.
//!
//! - `validate`, `plan`, `apply` (a fresh plan), `saved` (`apply --plan`), `export`, `schema`,
//!   `demo`: one file per command.
//! - This module: the dispatch, and the steps several commands share (connecting, reading
//!   the environment, planning, printing).

mod apply;
mod demo;
mod export;
mod plan;
mod routes;
mod saved;
mod schema;
mod validate;

use std::sync::Arc;

use anyhow::Context;

use crate::api::{Client, ClientOptions, RetryPolicy};
use crate::apply::ApplyReport;
use crate::cli::{self, Command};
use crate::desired::DesiredConfig;
use crate::guards;
use crate::model::LiveState;
use crate::plan::Plan;
use crate::progress::Progress;
use crate::render;
use crate::render::document::{self, PlanDocument};
use crate::resolve;
use crate::settings::{self, Output, OutputFormat, Settings};
use crate::stdout;

pub(crate) use self::apply::{ApplyOptions, Approval, GuardFlags};

/// Runs talkops with these arguments (the first is the program name) and returns the exit
/// code: 0 success, 1 error, 2 changes present under `plan --detailed-exitcode`. A failed
/// write to stdout makes it an error (see [`crate::stdout`]).
pub fn run<I, T>(args: I) -> anyhow::Result<u8>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    let arguments = match cli::Arguments::try_parse_from(args) {
        Ok(arguments) => arguments,
        Err(err) => {
            // Usage errors exit 1, not clap's 2: under --detailed-exitcode, 2 means "changes".
            let _ = err.print();
            return Ok(if err.use_stderr() { 1 } else { 0 });
        }
    };
    let result = dispatch(arguments.command);
    match (stdout::failure(), result) {
        (None, result) => result,
        (Some(message), Ok(_)) => Err(anyhow::anyhow!(message)),
        (Some(message), Err(err)) => Err(err.context(message)),
    }
}

/// Runs one parsed command line and returns its exit code.
pub(crate) fn dispatch(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Validate { format, paths } => validate::run(
            &paths,
            match format {
                cli::ValidateFormat::Text => validate::Report::Text,
                cli::ValidateFormat::Json => validate::Report::Json,
            },
        ),
        Command::Plan {
            api,
            guards,
            output,
            detailed_exitcode,
            out,
            force,
            allow_unrouted,
            target,
            paths,
        } => plan::run(plan::Request {
            config: crate::desired::load(&paths)?,
            settings: api_settings(&api)?,
            output: output_of(&output),
            thresholds: thresholds(&guards),
            detailed_exitcode,
            out,
            overrides: GuardFlags {
                force,
                allow_unrouted,
            },
            targets: target,
        }),
        Command::Apply {
            api,
            guards,
            output,
            auto_approve,
            force,
            allow_unrouted,
            parallelism,
            plan,
            target,
            paths,
        } => {
            let options = ApplyOptions {
                approval: if auto_approve || plan.is_some() {
                    Approval::Given
                } else {
                    Approval::AskOnTerminal
                },
                overrides: GuardFlags {
                    force,
                    allow_unrouted,
                },
                parallelism: usize::from(parallelism),
                thresholds: thresholds(&guards),
            };
            run_apply(
                &api,
                &output_of(&output),
                &options,
                plan.as_deref(),
                &target,
                &paths,
            )
        }
        Command::Export { api, out } => export::run(&api_settings(&api)?, out.as_deref()),
        Command::Routes {
            api,
            format,
            color,
            number,
            paths,
        } => {
            // The config first, so that its problems show even without a token.
            let config = if paths.is_empty() {
                None
            } else {
                Some(crate::desired::load(&paths)?)
            };
            let style = settings::style_for(match color {
                cli::ColorChoice::Auto => None,
                cli::ColorChoice::Always => Some(true),
                cli::ColorChoice::Never => Some(false),
            });
            routes::run(
                &api_settings(&api)?,
                config.as_ref(),
                format,
                style,
                &number,
            )
        }
        Command::Schema => schema::run(),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut cli::Arguments::command(),
                "talkops",
                &mut script,
            );
            stdout::print(&String::from_utf8_lossy(&script));
            Ok(0)
        }
        Command::Man => {
            use clap::CommandFactory;
            let mut page = Vec::new();
            clap_mangen::Man::new(cli::Arguments::command())
                .render(&mut page)
                .context("cannot render the man page")?;
            stdout::print(&String::from_utf8_lossy(&page));
            Ok(0)
        }
        Command::Demo => demo::run(),
    }
}

/// `apply`: a saved plan (with the config it must match, if given), or a fresh one. The
/// config is validated offline first, so that its problems show even without a token.
fn run_apply(
    api: &cli::ApiArgs,
    output: &Output,
    options: &ApplyOptions,
    saved_plan: Option<&std::path::Path>,
    targets: &[String],
    paths: &[std::path::PathBuf],
) -> anyhow::Result<u8> {
    match saved_plan {
        Some(file) => {
            let config = if paths.is_empty() {
                None
            } else {
                Some(crate::desired::load(paths)?)
            };
            saved::run(file, config.as_ref(), &api_settings(api)?, options, output)
        }
        None => {
            let config = crate::desired::load(paths)?;
            apply::run(&config, &api_settings(api)?, targets, options, output)
        }
    }
}

/// `--api-url`, the timeouts and retry limits, `-v` and `-q`, and the token from the
/// environment, resolved and checked.
fn api_settings(api: &cli::ApiArgs) -> anyhow::Result<Settings> {
    let client = ClientOptions {
        connect_timeout: api.connect_timeout,
        request_timeout: api.request_timeout,
        retry: RetryPolicy {
            max_retries: api.max_retries,
            max_wait: api.max_retry_wait,
            ..RetryPolicy::default()
        },
        verbose: api.verbose,
        // The commands own the terminal: the client reports to the progress line (and logs
        // through it) without knowing what it is.
        observer: Arc::new(Progress::for_terminal(api.quiet)),
    };
    Ok(Settings::resolve(&api.api_url, client)?)
}

/// `--format` and `--color`, with `auto` colour decided now.
fn output_of(args: &cli::OutputArgs) -> Output {
    Output {
        format: match args.format {
            cli::Format::Text => OutputFormat::Text,
            cli::Format::Markdown => OutputFormat::Markdown,
            cli::Format::Json => OutputFormat::Json,
        },
        style: settings::style_for(match args.color {
            cli::ColorChoice::Auto => None,
            cli::ColorChoice::Always => Some(true),
            cli::ColorChoice::Never => Some(false),
        }),
    }
}

fn thresholds(args: &cli::GuardArgs) -> crate::plan::Thresholds {
    crate::plan::Thresholds {
        max_change_percent: args.max_change_percent,
        min_managed: args.change_guard_min_agents,
    }
}

/// A client for the settings.
fn connect(settings: &Settings) -> anyhow::Result<Client> {
    Ok(Client::new(
        &settings.api_url,
        settings.token.clone(),
        settings.client.clone(),
    )?)
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) async fn read_live(client: &Client, api_url: &str) -> anyhow::Result<LiveState> {
    client
        .fetch_live()
        .await
        .with_context(|| format!("cannot read the environment at {api_url}"))
}

/// Reads the live environment, resolves the config against it and builds the plan (diff,
/// order, guards): all validation happens here, before anything could be written. With
/// `targets`, only the declared agents with those names or ids are planned.
pub(crate) async fn make_plan(
    client: &Client,
    api_url: &str,
    config: &DesiredConfig,
    thresholds: crate::plan::Thresholds,
    targets: &[String],
) -> anyhow::Result<Plan> {
    let live = read_live(client, api_url).await?;
    let (resolved, declared) = resolve_targets(config, &live, targets)?;
    // The callback role matters only when an inbound agent turns outbound; asking only then
    // keeps a plan at its floor of requests.
    let callback = if crate::plan::needs_callback_agents(&resolved, &live) {
        Some(callback_agents(client, api_url).await?)
    } else {
        None
    };
    Ok(crate::plan::build(
        &resolved,
        declared,
        &live,
        callback.as_ref(),
        thresholds,
    ))
}

/// The declared agents to plan (those `targets` names, if any), and how many are declared.
fn resolve_targets(
    config: &DesiredConfig,
    live: &LiveState,
    targets: &[String],
) -> anyhow::Result<(Vec<resolve::ResolvedAgent>, usize)> {
    let resolved = resolve::resolve(config, live)?;
    let declared = resolved.len();
    Ok((resolve::select_targets(resolved, live, targets)?, declared))
}

/// The plan the config makes against `live` (for the `targets` agents, if any), without the
/// callback-role guard: for comparing a saved plan's changes and counts. Pure.
fn changes_for(
    config: &DesiredConfig,
    live: &LiveState,
    targets: &[String],
) -> anyhow::Result<Plan> {
    let (resolved, declared) = resolve_targets(config, live, targets)?;
    Ok(crate::plan::build(
        &resolved,
        declared,
        live,
        None,
        crate::plan::Thresholds::default(),
    ))
}

/// The callback role holders.
async fn callback_agents(
    client: &Client,
    api_url: &str,
) -> anyhow::Result<std::collections::BTreeSet<crate::model::AgentId>> {
    client
        .callback_agents()
        .await
        .with_context(|| format!("cannot read the callback agents at {api_url}"))
}

/// Judges the guards again on an existing plan (a saved one, or one confirmed at the prompt)
/// against a fresh read. The callback role is asked for only when an inbound agent turns
/// outbound.
async fn judge_guards(
    client: &Client,
    api_url: &str,
    plan: &mut Plan,
    live: &LiveState,
    thresholds: crate::plan::Thresholds,
) -> anyhow::Result<()> {
    let callback = if guards::needs_callback_agents(plan) {
        Some(callback_agents(client, api_url).await?)
    } else {
        None
    };
    plan.warnings = guards::check(plan, live, callback.as_ref(), thresholds);
    plan.routing_changes = crate::plan::routing_changes(plan, live);
    Ok(())
}

/// Prints the plan in the chosen format on stdout.
fn print_plan(plan: &Plan, document: &PlanDocument, output: &Output) -> anyhow::Result<()> {
    match output.format {
        OutputFormat::Text => stdout::print(&render::render_plan(plan, output.style)),
        OutputFormat::Markdown => stdout::print(&render::render_plan_markdown(plan)),
        OutputFormat::Json => stdout::println(&serde_json::to_string_pretty(document)?),
    }
    Ok(())
}

fn print_report(report: &ApplyReport, output: &Output) -> anyhow::Result<()> {
    match output.format {
        OutputFormat::Text => stdout::print(&render::render_report(report, output.style)),
        OutputFormat::Markdown => stdout::print(&render::render_report_markdown(report)),
        OutputFormat::Json => stdout::println(&serde_json::to_string_pretty(
            &document::ReportDocument::new(report),
        )?),
    }
    Ok(())
}
