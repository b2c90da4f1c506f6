//! talkops manages Talkover voice agents' phone routing as code.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! files --desired--> DesiredConfig --resolve(+ LiveState from api)--> ResolvedAgent[]
//!       --diff--> Plan --render--> text        --apply(api)--> ApplyReport --render--> text
//! ```
//!
//! `desired`, `resolve`, `diff`, `plan` and `render` are pure; only `api` (and `apply`, through
//! it) touch the network, and only `desired::load` touches the disk. [`run`] wires the stages
//! to the command line.

pub mod api;
pub mod apply;
mod cli;
mod demo;
pub mod desired;
pub mod diff;
pub mod guards;
pub mod order;
pub mod plan;
pub mod render;
pub mod resolve;
pub mod settings;
pub mod state;

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Parser;

use crate::api::Client;
use crate::cli::{Arguments, Command};
use crate::desired::DesiredConfig;
use crate::plan::Plan;
use crate::render::Style;
use crate::settings::Settings;

/// Runs talkops with these arguments (the first is the program name) and returns the exit
/// code: 0 success, 1 error, 2 changes present under `plan --detailed-exitcode`.
pub fn run<I, T>(args: I) -> anyhow::Result<u8>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let arguments = match Arguments::try_parse_from(args) {
        Ok(arguments) => arguments,
        Err(err) => {
            // Usage errors exit 1, not clap's 2: under --detailed-exitcode, 2 means "changes".
            let _ = err.print();
            return Ok(if err.use_stderr() { 1 } else { 0 });
        }
    };
    match arguments.command {
        Command::Validate { paths } => validate(&paths),
        Command::Plan {
            api,
            guards,
            detailed_exitcode,
            paths,
        } => {
            let (config, settings, client) = prepare(&paths, &api)?;
            let plan = runtime()?.block_on(make_plan(
                &client,
                &settings.api_url,
                &config,
                thresholds(&guards),
            ))?;
            print!("{}", render::render_plan(&plan, settings::style()));
            Ok(if detailed_exitcode && plan.has_changes() {
                2
            } else {
                0
            })
        }
        Command::Apply {
            api,
            guards,
            auto_approve,
            force,
            allow_unrouted,
            parallelism,
            paths,
        } => {
            let (config, settings, client) = prepare(&paths, &api)?;
            let options = ApplyOptions {
                approval: if auto_approve {
                    Approval::Given
                } else {
                    Approval::AskOnTerminal
                },
                overrides: Overrides {
                    force,
                    allow_unrouted,
                },
                parallelism: usize::from(parallelism),
                thresholds: thresholds(&guards),
            };
            runtime()?.block_on(plan_and_apply(
                &client,
                &settings.api_url,
                &config,
                &options,
                settings::style(),
            ))
        }
        Command::Demo => demo::run(),
    }
}

fn thresholds(args: &cli::GuardArgs) -> guards::Thresholds {
    guards::Thresholds {
        max_change_percent: args.max_change_percent,
        min_managed: args.change_guard_min_agents,
    }
}

/// What plan and apply start with: the config, validated offline first (so that its problems
/// show even without a token), then the settings and a client.
fn prepare(
    paths: &[PathBuf],
    api: &cli::ApiArgs,
) -> anyhow::Result<(DesiredConfig, Settings, Client)> {
    let config = desired::load(paths)?;
    let settings = Settings::resolve(api)?;
    let client = Client::new(&settings.api_url, settings.token.clone(), settings.client)?;
    Ok((config, settings, client))
}

fn validate(paths: &[PathBuf]) -> anyhow::Result<u8> {
    let config = desired::load(paths)?;
    let agents = config.agents.len();
    let files = config.files;
    println!(
        "ok: {agents} agent{} in {files} file{}, no problems found",
        if agents == 1 { "" } else { "s" },
        if files == 1 { "" } else { "s" }
    );
    Ok(0)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Reads the live environment, resolves the config against it, diffs, orders and judges the
/// guards: all validation happens here, before anything could be written.
pub(crate) async fn make_plan(
    client: &Client,
    api_url: &str,
    config: &DesiredConfig,
    thresholds: guards::Thresholds,
) -> anyhow::Result<Plan> {
    let live = client
        .fetch_live()
        .await
        .with_context(|| format!("cannot read the environment at {api_url}"))?;
    let resolved = resolve::resolve(config, &live)?;
    let mut plan = diff::diff(&resolved, &live);
    // The callback role matters only when an inbound agent turns outbound; asking only then
    // keeps a plan at its floor of requests.
    let callback = if guards::needs_callback_agents(&plan) {
        Some(
            client
                .callback_agents()
                .await
                .with_context(|| format!("cannot read the callback agents at {api_url}"))?,
        )
    } else {
        None
    };
    plan.warnings = guards::check(&plan, &live, callback.as_ref(), thresholds);
    Ok(plan)
}

/// Whether apply may proceed without asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Approval {
    /// `--auto-approve` (or the demo).
    Given,
    /// Ask on a terminal; refuse when there is none.
    AskOnTerminal,
}

/// The guard flags given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Overrides {
    pub force: bool,
    pub allow_unrouted: bool,
}

impl Overrides {
    fn allow(self, needed: guards::Override) -> bool {
        match needed {
            guards::Override::Force => self.force,
            guards::Override::AllowUnrouted => self.allow_unrouted,
        }
    }
}

/// How apply runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ApplyOptions {
    pub approval: Approval,
    pub overrides: Overrides,
    pub parallelism: usize,
    pub thresholds: guards::Thresholds,
}

pub(crate) async fn plan_and_apply(
    client: &Client,
    api_url: &str,
    config: &DesiredConfig,
    options: &ApplyOptions,
    style: Style,
) -> anyhow::Result<u8> {
    let plan = make_plan(client, api_url, config, options.thresholds).await?;
    print!("{}", render::render_plan(&plan, style));
    if !plan.has_changes() {
        println!("Nothing to apply.");
        return Ok(0);
    }
    let mut missing: Vec<&str> = plan
        .warnings
        .iter()
        .filter(|w| !options.overrides.allow(w.needs))
        .map(|w| w.needs.flag())
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        bail!(
            "refusing to apply: the plan trips {} (see the warnings above); review it and pass {} to apply anyway. Nothing was changed",
            if missing.len() == 1 { "a guard" } else { "guards" },
            missing.join(" and ")
        );
    }
    if options.approval == Approval::AskOnTerminal && !confirm(api_url)? {
        bail!("apply cancelled; nothing was changed");
    }
    println!();
    // From here on Ctrl-C no longer kills the process: it stops new PUTs (and a second one
    // abandons those in flight), so that the report can say what was done.
    let (sender, mut interrupts) = tokio::sync::mpsc::unbounded_channel();
    let listener = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if sender.send(()).is_err() {
                break;
            }
        }
    });
    let report = apply::apply(client, &plan, options.parallelism, &mut interrupts).await;
    listener.abort();
    print!("{}", render::render_report(&report, style));
    Ok(if report.succeeded() { 0 } else { 1 })
}

/// Asks on the terminal; without one, refuses rather than assume consent.
fn confirm(api_url: &str) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("refusing to apply without confirmation: stdin is not a terminal, so talkops cannot ask; review the plan and pass --auto-approve to apply non-interactively. Nothing was changed");
    }
    // The question goes to stderr, so that it is seen even when stdout is redirected.
    eprint!("\nApply these changes to {api_url}? Only 'yes' will be accepted: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
