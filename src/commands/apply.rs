//! `talkops apply PATH...`: a fresh plan, shown, checked against the guards, confirmed (and
//! re-checked after the confirmation), then performed with the report printed. Also the
//! apply steps `apply --plan` shares (see `saved`).

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};

use super::{connect, judge_guards, make_plan, print_report, read_live, runtime};
use crate::api::Client;
use crate::desired::DesiredConfig;
use crate::plan::Plan;
use crate::render::{self, Style};
use crate::settings::{Output, OutputFormat, Settings};
use crate::{apply, drift, stdout};

pub(super) fn run(
    config: &DesiredConfig,
    settings: &Settings,
    targets: &[String],
    options: &ApplyOptions,
    output: &Output,
) -> anyhow::Result<u8> {
    let client = connect(settings)?;
    runtime()?.block_on(plan_and_apply(
        &client,
        &settings.api_url,
        config,
        targets,
        options,
        output,
    ))
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
pub(crate) struct GuardFlags {
    pub force: bool,
    pub allow_unrouted: bool,
}

impl GuardFlags {
    fn allow(self, needed: crate::plan::GuardFlag) -> bool {
        match needed {
            crate::plan::GuardFlag::Force => self.force,
            crate::plan::GuardFlag::AllowUnrouted => self.allow_unrouted,
        }
    }
}

/// How apply runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ApplyOptions {
    pub approval: Approval,
    pub overrides: GuardFlags,
    pub parallelism: usize,
    pub thresholds: crate::plan::Thresholds,
}

pub(crate) async fn plan_and_apply(
    client: &Client,
    api_url: &str,
    config: &DesiredConfig,
    targets: &[String],
    options: &ApplyOptions,
    output: &Output,
) -> anyhow::Result<u8> {
    let plan = make_plan(client, api_url, config, options.thresholds, targets).await?;
    apply_plan(client, api_url, &plan, options.overrides, options, output).await
}

/// Shows the plan, checks the guards against `overrides`, asks when it must, and performs it.
pub(super) async fn apply_plan(
    client: &Client,
    api_url: &str,
    plan: &Plan,
    overrides: GuardFlags,
    options: &ApplyOptions,
    output: &Output,
) -> anyhow::Result<u8> {
    show_plan(|style| render::render_plan(plan, style), output);
    if !plan.has_changes() {
        if output.format == OutputFormat::Text {
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

/// Shows a plan before it is applied: where the report goes when that is text; with a
/// machine format on stdout, people still see the plan, on stderr (without colour).
pub(super) fn show_plan(render: impl Fn(Style) -> String, output: &Output) {
    if output.format == OutputFormat::Text {
        stdout::print(&render(output.style));
    } else {
        stdout::eprint(&render(Style { color: false }));
    }
}

/// After the confirmation prompt: refuses, writing nothing, if an agent the plan changes
/// drifted or another agent started answering a number the plan claims while the prompt
/// was open (as `apply --plan` does for a saved plan), and judges the guards again on the
/// fresh read. Returns the plan to perform, its warnings those of the fresh read.
pub(super) async fn recheck(
    client: &Client,
    api_url: &str,
    plan: &Plan,
    overrides: GuardFlags,
    thresholds: crate::plan::Thresholds,
) -> anyhow::Result<Plan> {
    let live = read_live(client, api_url).await?;
    let mut drifted = drift::drift(plan, &live);
    drifted.extend(drift::new_conflicts(plan, &live));
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
pub(super) fn check_overrides(plan: &Plan, overrides: GuardFlags) -> anyhow::Result<()> {
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
    output: &Output,
) -> anyhow::Result<u8> {
    let mut interrupts = start_writing(output)?;
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

/// Called just before the first PUT. From here on an interrupt no longer kills the process:
/// the first stops new PUTs (and a second abandons those in flight), so that the report can
/// say what was done. SIGTERM (timeout, docker stop, Kubernetes, CI cancellation) and SIGHUP
/// (a closed terminal) count as interrupts too. Before this point a signal kills the process
/// as usual: nothing has been written.
pub(super) fn start_writing(
    output: &Output,
) -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<()>> {
    let interrupts = interrupt_signals()?;
    // Printed after the handlers are in place, so that the line between plan and report
    // also tells a watcher that a signal from now on is handled.
    if output.format == OutputFormat::Text {
        stdout::println("");
    }
    Ok(interrupts)
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

/// Asks on the terminal whether to apply the changes to `whom` (a URL, or the project's
/// environments); without a terminal, refuses rather than assume consent.
pub(super) fn confirm(whom: &str) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("refusing to apply without confirmation: stdin is not a terminal, so talkops cannot ask; review the plan and pass --auto-approve to apply non-interactively. Nothing was changed");
    }
    // The question goes to stderr, so that it is seen even when stdout is redirected.
    stdout::eprint(&format!(
        "\nApply these changes to {whom}? Only 'yes' will be accepted: "
    ));
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
