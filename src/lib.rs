//! talkops manages Talkover voice agents' phone routing as code.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! files --desired--> DesiredConfig --resolve(+ LiveState from api)--> ResolvedAgent[]
//!       --diff--> Plan (+ order, guards) --render--> text | markdown | json (document)
//!       --apply(api)--> ApplyReport --render--> text | markdown | json
//! ```
//!
//! `desired`, `resolve`, `diff`, `order`, `guards`, `plan`, `document`, `export` and `render`
//! are pure; only `api` (and `apply`, through it) touch the network, and only
//! `desired::load` and this module touch the disk. [`run`] wires the stages to the command
//! line.

pub mod api;
pub mod apply;
mod cli;
mod demo;
pub mod desired;
pub mod diff;
pub mod document;
pub mod export;
pub mod guards;
pub mod order;
pub mod plan;
pub mod progress;
pub mod render;
pub mod resolve;
pub mod schema;
pub mod settings;
pub mod state;
pub mod stdout;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Parser;

use crate::api::Client;
use crate::apply::ApplyReport;
use crate::cli::{Arguments, Command, Format, OutputArgs};
use crate::desired::DesiredConfig;
use crate::document::{OverridesDocument, PlanDocument, FORMAT_VERSION};
use crate::plan::Plan;
use crate::render::Style;
use crate::settings::Settings;
use crate::state::LiveState;

/// Runs talkops with these arguments (the first is the program name) and returns the exit
/// code: 0 success, 1 error, 2 changes present under `plan --detailed-exitcode`. A failed
/// write to stdout makes it an error (see [`stdout`]).
pub fn run<I, T>(args: I) -> anyhow::Result<u8>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    stdout::finish(dispatch(args))
}

fn dispatch<I, T>(args: I) -> anyhow::Result<u8>
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
            output,
            detailed_exitcode,
            out,
            force,
            allow_unrouted,
            target,
            paths,
        } => {
            let (config, settings, client) = prepare(&paths, &api)?;
            let plan = runtime()?.block_on(make_plan(
                &client,
                &settings.api_url,
                &config,
                thresholds(&guards),
                &target,
            ))?;
            let overrides = OverridesDocument {
                force,
                allow_unrouted,
            };
            let mut document = PlanDocument::new(&plan, &settings.api_url, overrides);
            document.targets = target.clone();
            print_plan(&plan, &document, &output)?;
            if let Some(path) = out {
                let text = serde_json::to_string_pretty(&document)?;
                std::fs::write(&path, text + "\n")
                    .with_context(|| format!("cannot write the plan to {}", path.display()))?;
                stdout::eprint(&format!(
                    "Saved the plan to {path}. Apply exactly this plan with: talkops apply --plan {path}\n",
                    path = path.display()
                ));
            }
            Ok(if detailed_exitcode && plan.has_changes() {
                2
            } else {
                0
            })
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
            paths,
        } => {
            let overrides = Overrides {
                force,
                allow_unrouted,
            };
            let options = ApplyOptions {
                approval: if auto_approve || plan.is_some() {
                    Approval::Given
                } else {
                    Approval::AskOnTerminal
                },
                overrides,
                parallelism: usize::from(parallelism),
                thresholds: thresholds(&guards),
            };
            if let Some(file) = plan {
                // The config, if given, is validated offline first, as for a fresh plan.
                let config = if paths.is_empty() {
                    None
                } else {
                    Some(desired::load(&paths)?)
                };
                let (settings, client) = connect(&api)?;
                return runtime()?.block_on(apply_saved(
                    &client,
                    &settings.api_url,
                    &file,
                    config.as_ref(),
                    &options,
                    &output,
                ));
            }
            let (config, settings, client) = prepare(&paths, &api)?;
            runtime()?.block_on(plan_and_apply(
                &client,
                &settings.api_url,
                &config,
                &target,
                &options,
                &output,
            ))
        }
        Command::Export { api, out } => {
            let (settings, client) = connect(&api)?;
            let live = runtime()?.block_on(read_live(&client, &settings.api_url))?;
            let text = export::export(
                &live,
                &settings.api_url,
                &document::rfc3339(std::time::SystemTime::now()),
            );
            match out {
                Some(path) => {
                    std::fs::write(&path, &text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    stdout::eprint(&format!(
                        "Exported {} agents to {}\n",
                        live.agents.len(),
                        path.display()
                    ));
                }
                None => stdout::print(&text),
            }
            Ok(0)
        }
        Command::Schema => {
            stdout::print(schema::SCHEMA);
            Ok(0)
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
    let (settings, client) = connect(api)?;
    Ok((config, settings, client))
}

/// The settings (token, URL, client options) and a client for them.
fn connect(api: &cli::ApiArgs) -> anyhow::Result<(Settings, Client)> {
    let settings = Settings::resolve(api)?;
    let client = Client::new(
        &settings.api_url,
        settings.token.clone(),
        settings.client.clone(),
    )?;
    Ok((settings, client))
}

fn validate(paths: &[PathBuf]) -> anyhow::Result<u8> {
    let config = desired::load(paths)?;
    let agents = config.agents.len();
    let files = config.files;
    stdout::println(&format!(
        "ok: {agents} agent{} in {files} file{}, no problems found",
        if agents == 1 { "" } else { "s" },
        if files == 1 { "" } else { "s" }
    ));
    Ok(0)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn read_live(client: &Client, api_url: &str) -> anyhow::Result<LiveState> {
    client
        .fetch_live()
        .await
        .with_context(|| format!("cannot read the environment at {api_url}"))
}

/// Reads the live environment, resolves the config against it, diffs, orders and judges the
/// guards: all validation happens here, before anything could be written. With `targets`,
/// only the declared agents with those names or ids are planned.
pub(crate) async fn make_plan(
    client: &Client,
    api_url: &str,
    config: &DesiredConfig,
    thresholds: guards::Thresholds,
    targets: &[String],
) -> anyhow::Result<Plan> {
    let live = read_live(client, api_url).await?;
    let mut plan = changes_for(config, &live, targets)?;
    judge_guards(client, api_url, &mut plan, &live, thresholds).await?;
    Ok(plan)
}

/// The changes (ordered, no warnings yet) that bring the live environment to the config,
/// for the `targets` agents only when there are any. Pure.
fn changes_for(
    config: &DesiredConfig,
    live: &LiveState,
    targets: &[String],
) -> anyhow::Result<Plan> {
    let mut resolved = resolve::resolve(config, live)?;
    let declared = resolved.len();
    if !targets.is_empty() {
        let matches = |agent: &resolve::ResolvedAgent, target: &str| {
            agent.id.as_str() == target
                || live.agents.get(&agent.id).is_some_and(|a| a.name == target)
        };
        let unknown: Vec<&str> = targets
            .iter()
            .filter(|t| !resolved.iter().any(|a| matches(a, t)))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            bail!(
                "--target {} matches no agent declared in the config (give a declared agent's name or id)",
                unknown.join(", --target ")
            );
        }
        resolved.retain(|a| targets.iter().any(|t| matches(a, t)));
        // The untargeted agents stay as they are; a targeted claim on a number one of them
        // was to release would leave it with two inbound agents.
        resolve::check_end_state(&resolved, live)
            .context("with --target, the agents not targeted keep their live settings")?;
    }
    let mut plan = diff::diff(&resolved, live);
    plan.untargeted = declared.saturating_sub(resolved.len());
    plan.unmanaged = plan.unmanaged.saturating_sub(plan.untargeted);
    Ok(plan)
}

/// Fills in the plan's warnings. The callback role matters only when an inbound agent turns
/// outbound; asking only then keeps a plan at its floor of requests.
async fn judge_guards(
    client: &Client,
    api_url: &str,
    plan: &mut Plan,
    live: &LiveState,
    thresholds: guards::Thresholds,
) -> anyhow::Result<()> {
    let callback = if guards::needs_callback_agents(plan) {
        Some(
            client
                .callback_agents()
                .await
                .with_context(|| format!("cannot read the callback agents at {api_url}"))?,
        )
    } else {
        None
    };
    plan.warnings = guards::check(plan, live, callback.as_ref(), thresholds);
    Ok(())
}

/// Prints the plan in the chosen format on stdout.
fn print_plan(plan: &Plan, document: &PlanDocument, output: &OutputArgs) -> anyhow::Result<()> {
    match output.format {
        Format::Text => stdout::print(&render::render_plan(
            plan,
            settings::style_for(output.color),
        )),
        Format::Markdown => stdout::print(&render::render_plan_markdown(plan)),
        Format::Json => stdout::println(&serde_json::to_string_pretty(document)?),
    }
    Ok(())
}

fn print_report(report: &ApplyReport, output: &OutputArgs) -> anyhow::Result<()> {
    match output.format {
        Format::Text => stdout::print(&render::render_report(
            report,
            settings::style_for(output.color),
        )),
        Format::Markdown => stdout::print(&render::render_report_markdown(report)),
        Format::Json => stdout::println(&serde_json::to_string_pretty(
            &document::ReportDocument::new(report),
        )?),
    }
    Ok(())
}

/// Whether apply may proceed without asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Approval {
    /// `--auto-approve`, a saved plan, or the demo.
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
    targets: &[String],
    options: &ApplyOptions,
    output: &OutputArgs,
) -> anyhow::Result<u8> {
    let plan = make_plan(client, api_url, config, options.thresholds, targets).await?;
    apply_plan(client, api_url, &plan, options.overrides, options, output).await
}

/// Shows the plan, checks the guards against `overrides`, asks when it must, and performs it.
async fn apply_plan(
    client: &Client,
    api_url: &str,
    plan: &Plan,
    overrides: Overrides,
    options: &ApplyOptions,
    output: &OutputArgs,
) -> anyhow::Result<u8> {
    // The plan goes where the report goes when that is text; with a machine format on
    // stdout, people still see the plan, on stderr.
    if output.format == Format::Text {
        stdout::print(&render::render_plan(
            plan,
            settings::style_for(output.color),
        ));
    } else {
        stdout::eprint(&render::render_plan(plan, Style { color: false }));
    }
    if !plan.has_changes() {
        if output.format == Format::Text {
            stdout::println("Nothing to apply.");
        }
        print_report(&apply::ApplyReport::nothing(plan), output)?;
        return Ok(0);
    }
    check_overrides(plan, overrides)?;
    if options.approval == Approval::AskOnTerminal {
        if !confirm(api_url)? {
            bail!("apply cancelled; nothing was changed");
        }
        // The prompt may have been open for minutes: what was confirmed is the plan as of
        // its read, so the environment is read again and the plan performed only if it
        // still holds.
        let fresh = recheck(client, api_url, plan, overrides, options.thresholds).await?;
        return execute(client, &fresh, options, output).await;
    }
    execute(client, plan, options, output).await
}

/// After the confirmation prompt: refuses, writing nothing, if an agent the plan changes
/// drifted or another agent started answering a number the plan claims while the prompt
/// was open (as `apply --plan` does for a saved plan), and judges the guards again on the
/// fresh read. Returns the plan to perform, its warnings those of the fresh read.
async fn recheck(
    client: &Client,
    api_url: &str,
    plan: &Plan,
    overrides: Overrides,
    thresholds: guards::Thresholds,
) -> anyhow::Result<Plan> {
    let live = read_live(client, api_url).await?;
    let mut drifted = drift(plan, &live);
    drifted.extend(new_conflicts(plan, &live));
    if !drifted.is_empty() {
        bail!(
            "refusing to apply: the environment changed while the confirmation prompt was open:\n  {}\nMake and review a new plan. Nothing was changed",
            drifted.join("\n  ")
        );
    }
    let mut fresh = plan.clone();
    for change in &mut fresh.changes {
        if let Some(now) = live.agents.get(&change.id) {
            change.status = now.status.clone();
        }
    }
    judge_guards(client, api_url, &mut fresh, &live, thresholds).await?;
    // A warning that was not on the confirmed plan was never seen: show it before judging.
    for warning in fresh.warnings.iter().filter(|w| !plan.warnings.contains(w)) {
        stdout::eprint(&format!(
            "Warning (new since the plan was shown): {} (apply needs {})\n",
            render::visible(&warning.message),
            warning.needs.flag()
        ));
    }
    check_overrides(&fresh, overrides)?;
    Ok(fresh)
}

/// Refuses, naming the flags, when a warning has not been accepted.
fn check_overrides(plan: &Plan, overrides: Overrides) -> anyhow::Result<()> {
    let missing: BTreeSet<&str> = plan
        .warnings
        .iter()
        .filter(|w| !overrides.allow(w.needs))
        .map(|w| w.needs.flag())
        .collect();
    if !missing.is_empty() {
        bail!(
            "refusing to apply: the plan trips {} (see the warnings above); review it and pass {} to apply anyway. Nothing was changed",
            if missing.len() == 1 { "a guard" } else { "guards" },
            missing.into_iter().collect::<Vec<_>>().join(" and ")
        );
    }
    Ok(())
}

/// Performs the plan's steps and prints the report.
async fn execute(
    client: &Client,
    plan: &Plan,
    options: &ApplyOptions,
    output: &OutputArgs,
) -> anyhow::Result<u8> {
    // From here on an interrupt no longer kills the process: the first stops new PUTs (and a
    // second abandons those in flight), so that the report can say what was done. SIGTERM
    // (timeout, docker stop, Kubernetes, CI cancellation) and SIGHUP (a closed terminal)
    // count as interrupts too. The handlers are installed before the first PUT starts.
    // Before this point a signal kills the process as usual: nothing has been written.
    let mut interrupts = interrupt_signals()?;
    // Printed after the handlers are in place, so that the line between plan and report
    // also tells a watcher that a signal from now on is handled.
    if output.format == Format::Text {
        stdout::println("");
    }
    let report = apply::apply(client, plan, options.parallelism, &mut interrupts).await;
    drop(interrupts);
    print_report(&report, output)?;
    // An interrupted apply fails even if everything it had started finished: whoever sent
    // the signal asked it to stop, and must not read that as a completed run.
    Ok(if report.succeeded() && !report.interrupted {
        0
    } else {
        1
    })
}

/// One message per SIGINT, SIGTERM or SIGHUP received from now on (for as long as the
/// receiver lives). Each handler is registered before this returns, so no signal is missed
/// between here and the first PUT; once registered, tokio keeps it for the process's life,
/// so a signal after apply no longer kills the process while the report is printed.
fn interrupt_signals() -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<()>> {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        for kind in [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::hangup(),
        ] {
            let mut stream = signal(kind).context("cannot install a signal handler")?;
            let sender = sender.clone();
            // Ends when the receiver is dropped (the send fails) or the runtime shuts down.
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    if sender.send(()).is_err() {
                        break;
                    }
                }
            });
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if sender.send(()).is_err() {
                break;
            }
        }
    });
    Ok(receiver)
}

/// `apply --plan FILE [PATH...]`: performs exactly the saved steps, after checking that the
/// file belongs to this API and version, that no agent it changes has changed since, and,
/// given a config, that planning that config now makes exactly the saved changes.
async fn apply_saved(
    client: &Client,
    api_url: &str,
    file: &Path,
    config: Option<&DesiredConfig>,
    options: &ApplyOptions,
    output: &OutputArgs,
) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the saved plan {}", file.display()))?;
    let shown = file.display();
    let version: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{shown} is not a saved talkops plan (not JSON)"))?;
    match version.get("format_version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => bail!(
            "{shown} is a plan in format version {v}, made by talkops {}; this talkops {} reads version {FORMAT_VERSION}. Make the plan again with this version",
            version.get("talkops_version").and_then(serde_json::Value::as_str).unwrap_or("(unknown)"),
            env!("CARGO_PKG_VERSION")
        ),
        None => bail!("{shown} is not a saved talkops plan (no format_version)"),
    }
    let document: PlanDocument = serde_json::from_str(&text)
        .with_context(|| format!("{shown} is not a valid saved talkops plan"))?;
    if document.api_url != api_url {
        bail!(
            "{shown} was made against {}, not {api_url}; refusing to apply it here. Nothing was changed",
            document.api_url
        );
    }
    let mut plan = document
        .to_plan()
        .map_err(|reason| anyhow::anyhow!("{shown} is not a valid saved talkops plan: {reason}"))?;

    let live = read_live(client, api_url).await?;
    let mut drifted = drift(&plan, &live);
    drifted.extend(new_conflicts(&plan, &live));
    if !drifted.is_empty() {
        bail!(
            "refusing to apply {shown}: the environment changed since the plan was made (at {}):\n  {}\nMake and review a new plan. Nothing was changed",
            document.created_at,
            drifted.join("\n  ")
        );
    }
    if let Some(config) = config {
        // The saved plan must be what this config asks for today: a plan reviewed on one
        // version of the config is not applied after another was merged.
        let now = changes_for(config, &live, &document.targets).with_context(|| {
            format!("cannot check {shown} against the config given (nothing was changed)")
        })?;
        let differences = plan_differences(&plan, &now);
        if !differences.is_empty() {
            bail!(
                "refusing to apply {shown}: it is not the plan of the config given{}:\n  {}\nMake and review a new plan from this config. Nothing was changed",
                if document.targets.is_empty() {
                    String::new()
                } else {
                    format!(" (for --target {})", document.targets.join(", --target "))
                },
                differences.join("\n  ")
            );
        }
        // The counts the change-size guard judges by come from the config too, not from the
        // file, which anyone who can edit the artifact could shrink or grow.
        plan.unchanged = now.unchanged;
        plan.unmanaged = now.unmanaged;
        plan.untargeted = now.untargeted;
    }
    // The guards are judged again on today's environment (publishing status included); the
    // flags given now and those recorded in the plan both count.
    for change in &mut plan.changes {
        if let Some(now) = live.agents.get(&change.id) {
            change.status = now.status.clone();
        }
    }
    judge_guards(client, api_url, &mut plan, &live, options.thresholds).await?;
    let overrides = Overrides {
        force: options.overrides.force || document.overrides.force,
        allow_unrouted: options.overrides.allow_unrouted || document.overrides.allow_unrouted,
    };
    apply_plan(client, api_url, &plan, overrides, options, output).await
}

/// How the saved plan's changes differ from those the config makes now, one line per agent:
/// an agent only one of them changes, or one they change differently. Empty when they are
/// the same changes (same agents, same before and after).
fn plan_differences(saved: &Plan, now: &Plan) -> Vec<String> {
    let settings =
        |plan: &Plan, direction: Option<state::Direction>, ids: &BTreeSet<state::PhoneId>| {
            let numbers: Vec<&str> = ids.iter().map(|id| plan.label(id)).collect();
            format!(
                "{} with {}",
                direction.map_or("(unknown)", state::Direction::as_str),
                if numbers.is_empty() {
                    "no numbers".to_owned()
                } else {
                    numbers.join(", ")
                }
            )
        };
    let mut differences = Vec::new();
    for change in &saved.changes {
        let who = format!("agent {:?} (id {})", change.name, change.id);
        let saved_after = settings(saved, Some(change.after.direction), &change.after.phone_ids);
        match now.changes.iter().find(|c| c.id == change.id) {
            None => differences.push(format!(
                "{who}: the saved plan makes it {saved_after}; the config changes nothing on it"
            )),
            Some(other) => {
                let now_after = settings(now, Some(other.after.direction), &other.after.phone_ids);
                if other.after != change.after {
                    differences.push(format!(
                        "{who}: the saved plan makes it {saved_after}; the config makes it {now_after}"
                    ));
                }
                if other.before != change.before {
                    differences.push(format!(
                        "{who}: the saved plan starts from {}; it is {} now",
                        settings(saved, change.before.direction, &change.before.phone_ids),
                        settings(now, other.before.direction, &other.before.phone_ids)
                    ));
                }
            }
        }
    }
    for change in &now.changes {
        if !saved.changes.iter().any(|c| c.id == change.id) {
            differences.push(format!(
                "agent {:?} (id {}): the config makes it {}; the saved plan does not change it",
                change.name,
                change.id,
                settings(now, Some(change.after.direction), &change.after.phone_ids)
            ));
        }
    }
    differences
}

/// Each changed agent whose live settings differ from those the plan was made from.
fn drift(plan: &Plan, live: &LiveState) -> Vec<String> {
    let mut drifted = Vec::new();
    for change in &plan.changes {
        let who = format!("agent {:?} (id {})", change.name, change.id);
        let Some(now) = live.agents.get(&change.id) else {
            drifted.push(format!("{who}: no longer exists"));
            continue;
        };
        if live.unknown_numbers.contains(&change.id) {
            // Unknown is not "unchanged": the drift cannot be judged.
            drifted.push(format!(
                "{who}: the API no longer gives its phone numbers, so whether they changed is unknown"
            ));
            continue;
        }
        let mut what = Vec::new();
        if now.direction != change.before.direction {
            what.push(format!(
                "direction was {}, is now {}",
                change.before.direction.map_or("(unknown)", |d| d.as_str()),
                now.direction.map_or("(unknown)", |d| d.as_str())
            ));
        }
        let label = |id: &state::PhoneId| {
            plan.numbers
                .get(id)
                .cloned()
                .unwrap_or_else(|| live.label(id))
        };
        let gained: Vec<String> = now
            .phone_ids
            .difference(&change.before.phone_ids)
            .map(label)
            .collect();
        let lost: Vec<String> = change
            .before
            .phone_ids
            .difference(&now.phone_ids)
            .map(label)
            .collect();
        if !gained.is_empty() {
            what.push(format!("gained {}", gained.join(", ")));
        }
        if !lost.is_empty() {
            what.push(format!("lost {}", lost.join(", ")));
        }
        if !what.is_empty() {
            drifted.push(format!("{who}: {}", what.join("; ")));
        }
    }
    drifted
}

/// Numbers the plan makes an agent answer inbound that an agent outside the plan has started
/// answering inbound since: applying would leave them with two inbound agents. An agent
/// whose direction is unknown (none given, or one talkops does not know) may answer its
/// numbers, so it counts as inbound here.
fn new_conflicts(plan: &Plan, live: &LiveState) -> Vec<String> {
    let changing: BTreeSet<&state::AgentId> = plan.changes.iter().map(|c| &c.id).collect();
    let mut conflicts = Vec::new();
    let has_claims = plan.changes.iter().any(|c| {
        c.after.direction == state::Direction::Inbound
            && (c.before.direction != Some(state::Direction::Inbound)
                || !c.after.phone_ids.is_subset(&c.before.phone_ids))
    });
    if has_claims {
        // An agent outside the plan that may answer calls, with numbers the API no longer
        // gives: whether a claim gives one of them a second inbound agent cannot be judged.
        for id in &live.unknown_numbers {
            if let Some(other) = live.agents.get(id) {
                if !changing.contains(id) && other.may_answer() {
                    conflicts.push(format!(
                        "agent {:?} (id {}), direction {}, may answer numbers the plan claims: the API no longer gives its phone numbers",
                        other.name,
                        other.id,
                        other.direction_shown()
                    ));
                }
            }
        }
    }
    for change in &plan.changes {
        if change.after.direction != state::Direction::Inbound {
            continue;
        }
        let held = change.before.direction == Some(state::Direction::Inbound);
        let claims = change
            .after
            .phone_ids
            .iter()
            .filter(|p| !(held && change.before.phone_ids.contains(*p)));
        for phone in claims {
            for other in live.agents.values() {
                if changing.contains(&other.id)
                    || other.direction == Some(state::Direction::Outbound)
                    || !other.phone_ids.contains(phone)
                {
                    continue;
                }
                let holder = match other.direction {
                    Some(state::Direction::Inbound) => {
                        format!(
                            "inbound agent {:?} (id {}) now answers",
                            other.name, other.id
                        )
                    }
                    _ => format!(
                        "agent {:?} (id {}), whose direction is unknown, may answer",
                        other.name, other.id
                    ),
                };
                conflicts.push(format!(
                    "agent {:?} (id {}): would answer {}, which {holder}",
                    change.name,
                    change.id,
                    plan.label(phone),
                ));
            }
        }
    }
    conflicts
}

/// Asks on the terminal; without one, refuses rather than assume consent.
fn confirm(api_url: &str) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("refusing to apply without confirmation: stdin is not a terminal, so talkops cannot ask; review the plan and pass --auto-approve to apply non-interactively. Nothing was changed");
    }
    // The question goes to stderr, so that it is seen even when stdout is redirected.
    stdout::eprint(&format!(
        "\nApply these changes to {api_url}? Only 'yes' will be accepted: "
    ));
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
