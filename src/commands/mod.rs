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
mod project;
mod routes;
mod saved;
mod schema;
mod validate;

use std::sync::Arc;

use anyhow::{bail, Context};

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
    let result = dispatch(arguments);
    match (stdout::failure(), result) {
        (None, result) => result,
        (Some(message), Ok(_)) => Err(anyhow::anyhow!(message)),
        (Some(message), Err(err)) => Err(err.context(message)),
    }
}

/// Runs one parsed command line and returns its exit code.
pub(crate) fn dispatch(arguments: cli::Arguments) -> anyhow::Result<u8> {
    let project = arguments.project;
    match arguments.command {
        Command::Validate {
            format,
            envs,
            paths,
        } => {
            let report = match format {
                cli::ValidateFormat::Text => validate::Report::Text,
                cli::ValidateFormat::Json => validate::Report::Json,
            };
            match locate(project.as_deref(), paths, &envs)? {
                Located::Single(paths) => validate::run(&paths, report),
                // A project file with problems is reported as validation problems (in JSON
                // too), not as an error before validation.
                Located::Project(file) => match crate::project::load(&file) {
                    Ok(project) => project::validate(&select(&project, &envs)?, report),
                    Err(invalid) => validate::report_environments(&[(None, Err(invalid))], report),
                },
            }
        }
        Command::Plan {
            api,
            guards,
            output,
            detailed_exitcode,
            out,
            force,
            allow_unrouted,
            target,
            envs,
            paths,
        } => {
            let overrides = GuardFlags {
                force,
                allow_unrouted,
            };
            refuse_overwriting_project(out.as_deref(), project.as_deref())?;
            match mode(project.as_deref(), paths, &envs)? {
                Mode::Single(paths) => plan::run(plan::Request {
                    config: crate::desired::load(&paths)?,
                    settings: api_settings(&api)?,
                    output: output_of(&output),
                    thresholds: thresholds(&guards, None),
                    detailed_exitcode,
                    out,
                    overrides,
                    targets: target,
                }),
                Mode::Project(project) => {
                    let fleet = prepare_fleet(&project, &envs, &api, &guards, &target)?;
                    project::plan(
                        &fleet,
                        &project::PlanRequest {
                            output: output_of(&output),
                            detailed_exitcode,
                            out,
                            overrides,
                            targets: target,
                        },
                    )
                }
            }
        }
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
            envs,
            paths,
        } => {
            let options = |thresholds| ApplyOptions {
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
                thresholds,
            };
            match mode(project.as_deref(), paths, &envs)? {
                Mode::Single(paths) => run_apply(
                    &api,
                    &output_of(&output),
                    &options(thresholds(&guards, None)),
                    plan.as_deref(),
                    &target,
                    &paths,
                ),
                Mode::Project(project) => {
                    // Each environment's thresholds come from its own settings (see Fleet).
                    let options = options(crate::plan::Thresholds::default());
                    match plan {
                        Some(file) => project::apply_saved(
                            &project,
                            &envs,
                            &file,
                            &project_access(&api)?,
                            &guards,
                            &options,
                            &output_of(&output),
                        ),
                        None => project::apply(
                            &prepare_fleet(&project, &envs, &api, &guards, &target)?,
                            &target,
                            &options,
                            &output_of(&output),
                        ),
                    }
                }
            }
        }
        Command::Export { api, out, envs } => {
            refuse_overwriting_project(out.as_deref(), project.as_deref())?;
            export_in(
                mode(project.as_deref(), Vec::new(), &envs)?,
                &api,
                &envs,
                out.as_deref(),
            )
        }
        Command::Routes {
            api,
            format,
            color,
            number,
            envs,
            paths,
        } => {
            let style = settings::style_for(match color {
                cli::ColorChoice::Auto => None,
                cli::ColorChoice::Always => Some(true),
                cli::ColorChoice::Never => Some(false),
            });
            match mode(project.as_deref(), paths.clone(), &envs)? {
                Mode::Single(_) => {
                    // The config first, so that its problems show even without a token.
                    let config = if paths.is_empty() {
                        None
                    } else {
                        Some(crate::desired::load(&paths)?)
                    };
                    routes::run(
                        &api_settings(&api)?,
                        config.as_ref(),
                        format,
                        style,
                        &number,
                    )
                }
                Mode::Project(project) => {
                    let selected = select(&project, &envs)?;
                    let fleet = project::Fleet::connect_only(&selected, &project_access(&api)?)?;
                    project::routes(&fleet, format, style, &number)
                }
            }
        }
        Command::Environments { format } => {
            let Some(file) = crate::project::find(project.as_deref()) else {
                bail!(
                    "no project file: talkops environments lists the environments of {} (or of --project FILE / {})",
                    crate::project::DEFAULT_FILE,
                    crate::project::PROJECT_VAR
                );
            };
            let project = load_project(&file)?;
            project::environments(&project, format == cli::ValidateFormat::Json)
        }
        Command::Schema { kind } => schema::run(kind),
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

/// `export`: the environment of `TALKOVER_TOKEN`, or the one project environment named.
fn export_in(
    mode: Mode,
    api: &cli::ApiArgs,
    envs: &[String],
    out: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    match mode {
        Mode::Single(_) => export::run(&api_settings(api)?, out),
        Mode::Project(project) => {
            let env = project::export_environment(&project, envs)?;
            export::run(&environment_settings(env, api)?, out)
        }
    }
}

/// One environment (config PATHs, `TALKOVER_TOKEN`, `--api-url`), or every environment of a
/// project file.
enum Mode {
    Single(Vec<std::path::PathBuf>),
    Project(crate::project::Project),
}

/// PATHs given: one environment, as always. Otherwise the project file, if there is one
/// (`--project`, `TALKOPS_PROJECT`, `./talkops.yaml`); `--env` needs one and refuses PATHs.
fn mode(
    project: Option<&std::path::Path>,
    paths: Vec<std::path::PathBuf>,
    envs: &[String],
) -> anyhow::Result<Mode> {
    Ok(match locate(project, paths, envs)? {
        Located::Single(paths) => Mode::Single(paths),
        Located::Project(file) => Mode::Project(load_project(&file)?),
    })
}

/// The mode, before the project file is read: config PATHs, or the project file's path.
enum Located {
    Single(Vec<std::path::PathBuf>),
    Project(std::path::PathBuf),
}

/// See [`mode`].
fn locate(
    project: Option<&std::path::Path>,
    paths: Vec<std::path::PathBuf>,
    envs: &[String],
) -> anyhow::Result<Located> {
    if !paths.is_empty() {
        if !envs.is_empty() {
            bail!("--env selects environments of the project file, and cannot be used with config PATHs (which name one environment's config, used with {}): give one or the other", settings::TOKEN_VAR);
        }
        return Ok(Located::Single(paths));
    }
    match crate::project::find(project) {
        Some(file) => Ok(Located::Project(file)),
        None if !envs.is_empty() => bail!(
            "--env needs a project file: there is no {} here (or give --project FILE / {})",
            crate::project::DEFAULT_FILE,
            crate::project::PROJECT_VAR
        ),
        None => Ok(Located::Single(paths)),
    }
}

/// Refuses an `--out` that is the project file: `plan --out talkops.yaml` would replace the
/// list of environments with a plan.
fn refuse_overwriting_project(
    out: Option<&std::path::Path>,
    project: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let (Some(out), Some(file)) = (out, crate::project::find(project)) else {
        return Ok(());
    };
    let same = match (std::fs::canonicalize(out), std::fs::canonicalize(&file)) {
        (Ok(out), Ok(file)) => out == file,
        _ => false,
    };
    if same {
        bail!(
            "--out {} is the project file: refusing to overwrite it; write to another file",
            out.display()
        );
    }
    Ok(())
}

/// The project file, or every problem in it.
fn load_project(file: &std::path::Path) -> anyhow::Result<crate::project::Project> {
    crate::project::load(file).map_err(|invalid| {
        anyhow::anyhow!(
            "the project file {} has {}; nothing was requested or changed\n  {}",
            file.display(),
            invalid.count(),
            invalid.listed("  ")
        )
    })
}

fn select<'p>(
    project: &'p crate::project::Project,
    envs: &[String],
) -> anyhow::Result<Vec<&'p crate::project::Environment>> {
    project.select(envs).map_err(anyhow::Error::msg)
}

/// The environments `--env` selects (all without it), each with its config loaded and its
/// token read: every problem of every one reported before any request.
fn prepare_fleet<'p>(
    project: &'p crate::project::Project,
    envs: &[String],
    api: &cli::ApiArgs,
    guards: &cli::GuardArgs,
    targets: &[String],
) -> anyhow::Result<project::Fleet<'p>> {
    let selected = select(project, envs)?;
    project::Fleet::prepare(project, &selected, &project_access(api)?, guards, targets)
}

/// The client options of project mode, where each environment's URL comes from the project
/// file: `--api-url` would be ambiguous, so it is refused.
fn project_access(api: &cli::ApiArgs) -> anyhow::Result<project::Access> {
    if api.api_url.is_some() {
        bail!("--api-url cannot be used with a project file: each environment's URL is its api_url there (give config PATHs to work on one environment by URL)");
    }
    Ok(project::Access {
        client: client_options(api),
        allowed_hosts: crate::project::allowed_hosts(&api.allow_api_host),
    })
}

/// One project environment's settings: its URL and the token from its variable.
fn environment_settings(
    env: &crate::project::Environment,
    api: &cli::ApiArgs,
) -> anyhow::Result<Settings> {
    let access = project_access(api)?;
    crate::project::check_host(env, &access.allowed_hosts).map_err(anyhow::Error::msg)?;
    Ok(Settings::from_variable(
        &env.token_env,
        &env.api_url,
        access.client,
    )?)
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

/// `--api-url` (else `TALKOVER_API_URL`, else the default), the timeouts and retry limits,
/// `-v` and `-q`, and the token from the environment, resolved and checked.
fn api_settings(api: &cli::ApiArgs) -> anyhow::Result<Settings> {
    if !api.allow_api_host.is_empty() {
        bail!("--allow-api-host allows a host for the environments of a project file; with config PATHs the URL is --api-url / TALKOVER_API_URL, which needs no allowing");
    }
    let url = match &api.api_url {
        Some(url) => url.clone(),
        None => std::env::var("TALKOVER_API_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| crate::project::DEFAULT_API_URL.to_owned()),
    };
    Ok(Settings::resolve(&url, client_options(api))?)
}

/// The timeouts, retry limits, `-v` and `-q`.
fn client_options(api: &cli::ApiArgs) -> ClientOptions {
    ClientOptions {
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
        read_parallelism: usize::from(api.read_parallelism),
        label: None,
    }
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

/// The guard thresholds: a flag given wins, then the project environment's setting, then
/// the defaults.
fn thresholds(
    args: &cli::GuardArgs,
    env: Option<&crate::project::Environment>,
) -> crate::plan::Thresholds {
    let defaults = crate::plan::Thresholds::default();
    crate::plan::Thresholds {
        max_change_percent: args
            .max_change_percent
            .or(env.and_then(|e| e.max_change_percent))
            .unwrap_or(defaults.max_change_percent),
        min_managed: args
            .change_guard_min_agents
            .or(env.and_then(|e| e.change_guard_min_agents))
            .unwrap_or(defaults.min_managed),
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
    read_live_knowing(client, api_url, 0).await
}

/// [`read_live`], knowing that at least `agents` agents exist (see [`Client::fetch_live`]).
async fn read_live_knowing(
    client: &Client,
    api_url: &str,
    agents: u64,
) -> anyhow::Result<LiveState> {
    client
        .fetch_live(agents)
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
    // Every declared agent must exist: their pages are asked for together with the first.
    let declared = u64::try_from(config.agents.len()).unwrap_or(u64::MAX);
    let live = read_live_knowing(client, api_url, declared).await?;
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
