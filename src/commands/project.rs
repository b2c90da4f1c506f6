//! Project mode: `validate`, `plan`, `apply`, `export`, `routes` and `environments` over the
//! environments of a project file (`talkops.yaml`).
//!
//! Each environment is a world of its own: its own config, token (from its `token_env`), URL,
//! client (so its own rate-limit pacing), guards and ordering; no plan crosses environments.
//! What the environments share is the run: every selected environment is checked (configs
//! and token variables) before any request, read concurrently, shown together, confirmed
//! once, and applied one after another in project-file order, stopping at the first that
//! fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;

use super::apply::{
    check_overrides, confirm, recheck, show_plan, start_writing, ApplyOptions, Approval, GuardFlags,
};
use super::saved::{checked, read_versioned, verify};
use super::{connect, make_plan, read_live, runtime, thresholds};
use crate::api::{Client, ClientOptions};
use crate::apply::ApplyReport;
use crate::cli::{self, RoutesFormat};
use crate::desired::{DesiredConfig, Invalid};
use crate::model::LiveState;
use crate::plan::{Plan, Thresholds};
use crate::project::{Environment, Project};
use crate::render::document::{
    EnvironmentPlanDocument, EnvironmentReportDocument, GuardFlagsDocument, PlanDocument,
    ProjectPlanDocument, ProjectReportDocument, ReportDocument, FORMAT_VERSION,
};
use crate::render::{self, Style};
use crate::settings::{Output, OutputFormat, Settings};
use crate::stdout;

/// How project mode may reach the environments' APIs: the client options, and the hosts
/// allowed beyond Talkover's and loopback (`--allow-api-host`, `TALKOPS_ALLOW_API_HOSTS`).
pub(super) struct Access {
    pub client: ClientOptions,
    pub allowed_hosts: Vec<String>,
}

/// The selected environments, each ready to talk to its API: configs loaded and token
/// variables read, all checked before any request.
pub(super) struct Fleet<'p> {
    members: Vec<Member<'p>>,
}

struct Member<'p> {
    env: &'p Environment,
    /// `None` for the commands that read the environment only (`routes`).
    config: Option<DesiredConfig>,
    settings: Settings,
    thresholds: Thresholds,
    client: Client,
}

impl Member<'_> {
    fn name(&self) -> &str {
        &self.env.name
    }

    fn url(&self) -> &str {
        &self.settings.api_url
    }

    fn config(&self) -> anyhow::Result<&DesiredConfig> {
        self.config
            .as_ref()
            .with_context(|| format!("environment {:?}: its config was not loaded", self.name()))
    }

    fn options(&self, options: &ApplyOptions) -> ApplyOptions {
        ApplyOptions {
            thresholds: self.thresholds,
            ..*options
        }
    }
}

impl<'p> Fleet<'p> {
    /// Loads every selected environment's config and reads its token variable; every
    /// problem of every environment is reported at once, before any request.
    pub(super) fn prepare(
        project: &'p Project,
        selected: &[&'p Environment],
        access: &Access,
        guards: &cli::GuardArgs,
        targets: &[String],
    ) -> anyhow::Result<Fleet<'p>> {
        if !targets.is_empty() && selected.len() != 1 {
            bail!(
                "--target names agents of one environment: select it with --env NAME (the project file {} lists: {})",
                project.file.display(),
                project.names().join(", ")
            );
        }
        Fleet::build(selected, access, Some(guards))
    }

    /// Reads every selected environment's token variable (no config): for `routes`.
    pub(super) fn connect_only(
        selected: &[&'p Environment],
        access: &Access,
    ) -> anyhow::Result<Fleet<'p>> {
        Fleet::build(selected, access, None)
    }

    fn build(
        selected: &[&'p Environment],
        access: &Access,
        guards: Option<&cli::GuardArgs>,
    ) -> anyhow::Result<Fleet<'p>> {
        let mut problems = Vec::new();
        let mut members = Vec::new();
        for env in selected {
            if let Err(problem) = crate::project::check_host(env, &access.allowed_hosts) {
                // Not even the token is read for a host that is not allowed.
                problems.push(problem);
                continue;
            }
            let config = match guards {
                None => Ok(None),
                Some(_) => crate::desired::load(&env.config_paths).map(Some),
            };
            let settings = Settings::from_variable(
                &env.token_env,
                &env.api_url,
                ClientOptions {
                    label: Some(env.name.clone()),
                    ..access.client.clone()
                },
            );
            match (config, settings) {
                // A client that cannot be set up (a token that is not a valid header value)
                // is one more problem of its environment, reported with the others.
                (Ok(config), Ok(settings)) => match connect(&settings) {
                    Ok(client) => members.push(Member {
                        env,
                        config,
                        thresholds: guards
                            .map_or_else(Thresholds::default, |g| thresholds(g, Some(env))),
                        settings,
                        client,
                    }),
                    Err(err) => problems.push(format!("environment {:?}: {err:#}", env.name)),
                },
                (config, settings) => {
                    if let Err(err) = settings {
                        problems.push(format!("environment {:?}: {err}", env.name));
                    }
                    if let Err(invalid) = config {
                        problems.push(format!(
                            "environment {:?}: its configuration has {}:\n    {}",
                            env.name,
                            invalid.count(),
                            invalid.listed("    ")
                        ));
                    }
                }
            }
        }
        // Two names for one Talkover environment would plan it twice and apply it twice.
        for (i, first) in members.iter().enumerate() {
            for second in members.iter().skip(i + 1) {
                if crate::project::same_api_key(first.url())
                    == crate::project::same_api_key(second.url())
                    && first.settings.token.expose() == second.settings.token.expose()
                {
                    problems.push(format!(
                        "environments {:?} and {:?} are one Talkover environment: the same api_url, and {} and {} hold the same token (not shown); list it once",
                        first.name(),
                        second.name(),
                        first.env.token_env,
                        second.env.token_env
                    ));
                }
            }
        }
        if !problems.is_empty() {
            bail!(
                "{} problem{} in the selected environments; nothing was requested or changed:\n  {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems.join("\n  ")
            );
        }
        Ok(Fleet { members })
    }
}

/// `validate` in project mode: every selected environment's config, offline.
pub(super) fn validate(
    selected: &[&Environment],
    report: super::validate::Report,
) -> anyhow::Result<u8> {
    let results: Vec<(Option<&str>, Result<DesiredConfig, Invalid>)> = selected
        .iter()
        .map(|env| {
            (
                Some(env.name.as_str()),
                crate::desired::load(&env.config_paths),
            )
        })
        .collect();
    super::validate::report_environments(&results, report)
}

/// What `plan` was asked for, beyond the fleet.
pub(super) struct PlanRequest {
    pub output: Output,
    pub detailed_exitcode: bool,
    pub out: Option<PathBuf>,
    /// The guard flags to record in a saved plan.
    pub overrides: GuardFlags,
    pub targets: Vec<String>,
}

/// `plan` in project mode: every environment read concurrently, one plan each, shown
/// together; `--out` saves them as one project plan.
pub(super) fn plan(fleet: &Fleet<'_>, request: &PlanRequest) -> anyhow::Result<u8> {
    let plans = runtime()?.block_on(plan_each(fleet, &request.targets))?;
    let recorded = GuardFlagsDocument {
        force: request.overrides.force,
        allow_unrouted: request.overrides.allow_unrouted,
    };
    let document = ProjectPlanDocument::new(
        fleet
            .members
            .iter()
            .zip(&plans)
            .map(|(member, plan)| {
                let mut plan_document = PlanDocument::new(plan, member.url(), recorded);
                plan_document.targets = request.targets.clone();
                EnvironmentPlanDocument {
                    name: member.name().to_owned(),
                    plan: plan_document,
                }
            })
            .collect(),
    );
    match request.output.format {
        OutputFormat::Text => stdout::print(&render_plans(fleet, &plans, request.output.style)),
        OutputFormat::Markdown => {
            let environments: Vec<render::EnvironmentPlan<'_>> = fleet
                .members
                .iter()
                .zip(&plans)
                .map(|(member, plan)| render::EnvironmentPlan {
                    name: member.name(),
                    api_url: member.url(),
                    plan,
                })
                .collect();
            stdout::print(&render::render_project_markdown(&environments));
        }
        OutputFormat::Json => stdout::println(&serde_json::to_string_pretty(&document)?),
    }
    if let Some(path) = &request.out {
        let text = serde_json::to_string_pretty(&document)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        stdout::eprint(&format!(
            "Saved the plan of {} to {path}. Apply exactly this plan with: talkops apply --plan {path}\n",
            environment_list(fleet.members.iter().map(Member::name)),
            path = path.display()
        ));
    }
    Ok(
        if request.detailed_exitcode && plans.iter().any(Plan::has_changes) {
            2
        } else {
            0
        },
    )
}

/// Every environment's plan, made concurrently (each on its own client). Any environment
/// that cannot be planned fails the whole run, naming each one that failed.
async fn plan_each(fleet: &Fleet<'_>, targets: &[String]) -> anyhow::Result<Vec<Plan>> {
    let results = futures::future::join_all(fleet.members.iter().map(|member| async move {
        make_plan(
            &member.client,
            member.url(),
            member.config()?,
            member.thresholds,
            targets,
        )
        .await
    }))
    .await;
    collect(fleet, results, "cannot plan")
}

/// The values of every environment, or one error naming each environment that failed.
fn collect<T>(
    fleet: &Fleet<'_>,
    results: Vec<anyhow::Result<T>>,
    what: &str,
) -> anyhow::Result<Vec<T>> {
    let mut values = Vec::new();
    let mut failures = Vec::new();
    for (member, result) in fleet.members.iter().zip(results) {
        match result {
            Ok(value) => values.push(value),
            Err(err) => failures.push(format!(
                "environment {:?}: {}",
                member.name(),
                format!("{err:#}").replace('\n', "\n  ")
            )),
        }
    }
    if failures.is_empty() {
        return Ok(values);
    }
    bail!(
        "{what} {} of {} environment{}; nothing was changed in any:\n  {}",
        failures.len(),
        fleet.members.len(),
        if fleet.members.len() == 1 { "" } else { "s" },
        failures.join("\n  ")
    )
}

/// The text plan of every environment, each under its heading, and the closing summary.
fn render_plans(fleet: &Fleet<'_>, plans: &[Plan], style: Style) -> String {
    let mut out = String::new();
    for (member, plan) in fleet.members.iter().zip(plans) {
        out.push_str(&render::render_environment_heading(
            member.name(),
            member.url(),
            style,
        ));
        out.push_str(&render::render_plan(plan, style));
        out.push('\n');
    }
    let summary: Vec<(&str, &Plan)> = fleet
        .members
        .iter()
        .map(Member::name)
        .zip(plans.iter())
        .collect();
    out.push_str(&render::render_project_summary(&summary));
    out
}

/// `apply` in project mode: a fresh plan for every environment, shown, judged, confirmed once
/// and applied in project-file order.
pub(super) fn apply(
    fleet: &Fleet<'_>,
    targets: &[String],
    options: &ApplyOptions,
    output: &Output,
) -> anyhow::Result<u8> {
    runtime()?.block_on(async {
        let plans = plan_each(fleet, targets).await?;
        let overrides = vec![options.overrides; plans.len()];
        perform(fleet, plans, &overrides, options, output).await
    })
}

/// `apply --plan FILE` in project mode: the saved project plan's environments (or those
/// `--env` selects, each of which must be in it), every one checked (its drift, and that
/// its config plans exactly its saved changes today) before the first PUT anywhere.
pub(super) fn apply_saved(
    project: &Project,
    envs: &[String],
    file: &Path,
    access: &Access,
    guards: &cli::GuardArgs,
    options: &ApplyOptions,
    output: &Output,
) -> anyhow::Result<u8> {
    let document = load_project_plan(file)?;
    let shown = file.display().to_string();
    let saved: BTreeSet<&str> = document
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    if saved.len() != document.environments.len() {
        bail!("{shown} lists an environment twice; it is not a valid saved talkops plan. Nothing was changed");
    }
    for name in &saved {
        if !project.environments.iter().any(|e| e.name == *name) {
            bail!(
                "{shown} holds a plan for environment {name:?}, which the project file {} does not list (it lists: {}); refusing to apply it. Nothing was changed",
                project.file.display(),
                project.names().join(", ")
            );
        }
    }
    let selected = if envs.is_empty() {
        project
            .environments
            .iter()
            .filter(|e| saved.contains(e.name.as_str()))
            .collect::<Vec<_>>()
    } else {
        let selected = project.select(envs).map_err(anyhow::Error::msg)?;
        let missing: Vec<&str> = selected
            .iter()
            .map(|e| e.name.as_str())
            .filter(|name| !saved.contains(name))
            .collect();
        if !missing.is_empty() {
            bail!(
                "{shown} holds no plan for {} (it holds: {}). Nothing was changed",
                missing
                    .iter()
                    .map(|name| format!("environment {name:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                saved.iter().copied().collect::<Vec<_>>().join(", ")
            );
        }
        selected
    };
    let fleet = Fleet::prepare(project, &selected, access, guards, &[])?;
    runtime()?.block_on(async {
        let checks = futures::future::join_all(fleet.members.iter().map(|member| {
            let shown = &shown;
            let document = &document;
            async move {
                let saved = document
                    .environments
                    .iter()
                    .find(|e| e.name == member.name())
                    .with_context(|| format!("{shown} holds no plan for this environment"))?;
                let label = format!("{shown} (environment {:?})", member.name());
                let plan = checked(&label, &saved.plan, member.url())?;
                verify(
                    &member.client,
                    member.url(),
                    &label,
                    &saved.plan,
                    plan,
                    Some(member.config()?),
                    &member.options(options),
                )
                .await
            }
        }))
        .await;
        let checked = collect(
            &fleet,
            checks,
            "refusing to apply the saved plan: cannot verify",
        )?;
        let (plans, overrides): (Vec<Plan>, Vec<GuardFlags>) = checked.into_iter().unzip();
        perform(&fleet, plans, &overrides, options, output).await
    })
}

/// Reads a saved project plan: this format version, and a project plan, not one
/// environment's.
fn load_project_plan(file: &Path) -> anyhow::Result<ProjectPlanDocument> {
    let (text, header) = read_versioned(file)?;
    let shown = file.display();
    if !header.is_project_plan() && !header.is_single_plan() {
        bail!("{shown} is not a valid saved talkops project plan (it has no `environments`). Nothing was changed");
    }
    if !header.is_project_plan() {
        bail!(
            "{shown} is the plan of one environment (made with config PATHs), not of the project file's environments: apply it with those PATHs and {}. Nothing was changed",
            crate::settings::TOKEN_VAR
        );
    }
    let document: ProjectPlanDocument = serde_json::from_str(&text)
        .with_context(|| format!("{shown} is not a valid saved talkops project plan"))?;
    if document.environments.is_empty() {
        // `plan --out` never writes this: it is an edit, and applying it would report
        // success having checked nothing.
        bail!("{shown} holds no environment: it is not a valid saved talkops project plan. Nothing was changed");
    }
    Ok(document)
}

/// Shows every plan, refuses (before asking) when any environment trips a guard not
/// accepted, asks once, reads every environment again after the answer, then applies.
async fn perform(
    fleet: &Fleet<'_>,
    mut plans: Vec<Plan>,
    overrides: &[GuardFlags],
    options: &ApplyOptions,
    output: &Output,
) -> anyhow::Result<u8> {
    show_plan(|style| render_plans(fleet, &plans, style), output);
    let changing: Vec<usize> = (0..plans.len())
        .filter(|&i| plans[i].has_changes())
        .collect();
    if changing.is_empty() {
        if output.format == OutputFormat::Text {
            stdout::println("Nothing to apply.");
        }
        let outcomes = plans
            .iter()
            .map(|plan| Outcome::NoChanges(ApplyReport::nothing(plan)))
            .collect::<Vec<_>>();
        print_reports(fleet, &outcomes, output)?;
        return Ok(0);
    }
    let refused: Vec<String> = changing
        .iter()
        .filter_map(|&i| {
            check_overrides(&plans[i], overrides[i])
                .err()
                .map(|err| format!("environment {:?}: {err:#}", fleet.members[i].name()))
        })
        .collect();
    if !refused.is_empty() {
        bail!(
            "refusing to apply any environment:\n  {}",
            refused.join("\n  ")
        );
    }
    if options.approval == Approval::AskOnTerminal {
        let whom = environment_list(
            changing
                .iter()
                .map(|&i| format!("{} ({})", fleet.members[i].name(), fleet.members[i].url())),
        );
        if !confirm(&whom)? {
            bail!("apply cancelled; nothing was changed");
        }
        // What was confirmed is every plan as of its read: every environment is read again,
        // and nothing is applied anywhere unless every plan still holds.
        let fresh = futures::future::join_all(changing.iter().map(|&i| {
            let member = &fleet.members[i];
            recheck(
                &member.client,
                member.url(),
                &plans[i],
                overrides[i],
                member.thresholds,
            )
        }))
        .await;
        let mut failures = Vec::new();
        for (&i, result) in changing.iter().zip(fresh) {
            match result {
                Ok(plan) => plans[i] = plan,
                Err(err) => failures.push(format!(
                    "environment {:?}: {err:#}",
                    fleet.members[i].name()
                )),
            }
        }
        if !failures.is_empty() {
            bail!(
                "refusing to apply any environment:\n  {}",
                failures.join("\n  ")
            );
        }
    }
    run_in_order(fleet, &plans, options, output).await
}

/// What became of one environment in an apply.
enum Outcome {
    Applied(ApplyReport),
    Failed(ApplyReport),
    NoChanges(ApplyReport),
    /// Not started: `why` (an earlier environment failed, or the apply was interrupted).
    NotApplied(String),
}

/// Applies the environments one after another in project-file order; after one fails or an
/// interrupt arrives, no PUT is sent to the rest.
async fn run_in_order(
    fleet: &Fleet<'_>,
    plans: &[Plan],
    options: &ApplyOptions,
    output: &Output,
) -> anyhow::Result<u8> {
    // As in one environment's apply; an interrupt also stops the environments not yet
    // started.
    let mut interrupts = start_writing(output)?;
    let mut outcomes = Vec::new();
    let mut stopped: Option<String> = None;
    for (member, plan) in fleet.members.iter().zip(plans) {
        if !plan.has_changes() {
            outcomes.push(Outcome::NoChanges(ApplyReport::nothing(plan)));
            continue;
        }
        if stopped.is_none() && interrupts.try_recv().is_ok() {
            stopped = Some("the apply was interrupted before it started".to_owned());
        }
        if let Some(why) = &stopped {
            outcomes.push(Outcome::NotApplied(why.clone()));
            continue;
        }
        if output.format == OutputFormat::Text {
            stdout::eprint(&format!("Applying environment {}...\n", member.name()));
        }
        let report =
            crate::apply::apply(&member.client, plan, options.parallelism, &mut interrupts).await;
        if report.interrupted {
            stopped = Some(format!(
                "the apply was interrupted during environment {}",
                member.name()
            ));
            outcomes.push(Outcome::Failed(report));
        } else if !report.succeeded() {
            stopped = Some(format!("environment {} failed first", member.name()));
            outcomes.push(Outcome::Failed(report));
        } else {
            outcomes.push(Outcome::Applied(report));
        }
    }
    drop(interrupts);
    print_reports(fleet, &outcomes, output)?;
    Ok(if stopped.is_none() { 0 } else { 1 })
}

/// Every environment's report, in the output format.
fn print_reports(fleet: &Fleet<'_>, outcomes: &[Outcome], output: &Output) -> anyhow::Result<()> {
    match output.format {
        OutputFormat::Json => {
            let document = ProjectReportDocument {
                format_version: FORMAT_VERSION,
                environments: fleet
                    .members
                    .iter()
                    .zip(outcomes)
                    .map(|(member, outcome)| {
                        let (outcome, report) = match outcome {
                            Outcome::Applied(report) => ("applied", Some(report)),
                            Outcome::Failed(report) => ("failed", Some(report)),
                            Outcome::NoChanges(report) => ("no_changes", Some(report)),
                            Outcome::NotApplied(_) => ("not_applied", None),
                        };
                        EnvironmentReportDocument {
                            name: member.name().to_owned(),
                            outcome: outcome.to_owned(),
                            report: report.map(ReportDocument::new),
                        }
                    })
                    .collect(),
            };
            stdout::println(&serde_json::to_string_pretty(&document)?);
        }
        OutputFormat::Text | OutputFormat::Markdown => {
            let markdown = output.format == OutputFormat::Markdown;
            let mut out = String::new();
            for (member, outcome) in fleet.members.iter().zip(outcomes) {
                if markdown {
                    out.push_str(&render::render_environment_heading_markdown(
                        member.name(),
                        member.url(),
                    ));
                } else {
                    out.push_str(&render::render_environment_heading(
                        member.name(),
                        member.url(),
                        output.style,
                    ));
                }
                match outcome {
                    Outcome::Applied(report) | Outcome::Failed(report) => {
                        out.push_str(&if markdown {
                            render::render_report_markdown(report)
                        } else {
                            render::render_report(report, output.style)
                        });
                    }
                    Outcome::NoChanges(_) => out.push_str("No changes.\n"),
                    Outcome::NotApplied(why) => {
                        out.push_str(&format!("Not applied: {why}; nothing was sent to it.\n"))
                    }
                }
                out.push('\n');
            }
            out.push_str(&closing_line(fleet, outcomes));
            stdout::print(&out);
        }
    }
    Ok(())
}

/// The last line of a project's apply report.
fn closing_line(fleet: &Fleet<'_>, outcomes: &[Outcome]) -> String {
    let named = |wanted: fn(&Outcome) -> bool| {
        fleet
            .members
            .iter()
            .zip(outcomes)
            .filter(|(_, o)| wanted(o))
            .map(|(m, _)| m.name())
            .collect::<Vec<_>>()
    };
    let applied = named(|o| matches!(o, Outcome::Applied(_)));
    let failed = named(|o| matches!(o, Outcome::Failed(_)));
    let not_applied = named(|o| matches!(o, Outcome::NotApplied(_)));
    let mut parts = Vec::new();
    if !applied.is_empty() {
        parts.push(format!("applied: {}", applied.join(", ")));
    }
    if !failed.is_empty() {
        parts.push(format!("failed: {}", failed.join(", ")));
    }
    if !not_applied.is_empty() {
        parts.push(format!("not applied: {}", not_applied.join(", ")));
    }
    if parts.is_empty() {
        parts.push("no changes".to_owned());
    }
    format!("All environments: {}.\n", parts.join("; "))
}

/// "a", "a and b", "a, b and c".
fn environment_list<S: AsRef<str>>(names: impl Iterator<Item = S>) -> String {
    let names: Vec<String> = names.map(|n| n.as_ref().to_owned()).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// `export` in project mode: the one environment to export.
pub(super) fn export_environment<'p>(
    project: &'p Project,
    envs: &[String],
) -> anyhow::Result<&'p Environment> {
    let selected = project.select(envs).map_err(anyhow::Error::msg)?;
    match selected.as_slice() {
        [one] => Ok(one),
        _ => bail!(
            "export writes one environment's config: name it with --env NAME (the project file {} lists: {})",
            project.file.display(),
            project.names().join(", ")
        ),
    }
}

/// `routes` in project mode: each environment's live routing, read concurrently.
pub(super) fn routes(
    fleet: &Fleet<'_>,
    format: RoutesFormat,
    style: Style,
    numbers: &[String],
) -> anyhow::Result<u8> {
    let lives: Vec<LiveState> = runtime()?.block_on(async {
        let results = futures::future::join_all(
            fleet
                .members
                .iter()
                .map(|member| read_live(&member.client, member.url())),
        )
        .await;
        collect(fleet, results, "cannot read")
    })?;
    let tables: Vec<Vec<crate::routes::Row>> = lives
        .iter()
        .map(|live| crate::routes::table(live, None))
        .collect();
    // A number is shown from every environment that has it, and must be in one at least.
    let (shown, missing_here): (Vec<Vec<&crate::routes::Row>>, Vec<Vec<String>>) = tables
        .iter()
        .map(|rows| {
            if numbers.is_empty() {
                (rows.iter().collect(), Vec::new())
            } else {
                crate::routes::matching(rows, numbers)
            }
        })
        .unzip();
    let missing: Vec<&String> = numbers
        .iter()
        .filter(|n| missing_here.iter().all(|missing| missing.contains(n)))
        .collect();
    if !missing.is_empty() {
        bail!(
            "--number {} is not a phone number of any selected environment (give an E.164 number or a phone-number id)",
            missing
                .iter()
                .map(|n| crate::render::visible(n))
                .collect::<Vec<_>>()
                .join(", --number ")
        );
    }
    let mut out = String::new();
    match format {
        RoutesFormat::Text | RoutesFormat::Markdown => {
            for (member, rows) in fleet.members.iter().zip(&shown) {
                let heading = if format == RoutesFormat::Text {
                    render::render_environment_heading(member.name(), member.url(), style)
                } else {
                    render::render_environment_heading_markdown(member.name(), member.url())
                };
                out.push_str(&heading);
                if rows.is_empty() && !numbers.is_empty() {
                    out.push_str(
                        "None of the --number values is a phone number of this environment.\n",
                    );
                } else if format == RoutesFormat::Text {
                    out.push_str(&render::routes::render_routes(rows, style));
                } else {
                    out.push_str(&render::routes::render_routes_markdown(rows));
                }
                out.push('\n');
            }
        }
        RoutesFormat::Json => {
            #[derive(Serialize)]
            struct Environments<'a> {
                format_version: u32,
                environments: Vec<EnvironmentRoutes<'a>>,
            }
            #[derive(Serialize)]
            struct EnvironmentRoutes<'a> {
                name: &'a str,
                api_url: &'a str,
                numbers: &'a [&'a crate::routes::Row],
            }
            let document = Environments {
                format_version: 1,
                environments: fleet
                    .members
                    .iter()
                    .zip(&shown)
                    .map(|(member, rows)| EnvironmentRoutes {
                        name: member.name(),
                        api_url: member.url(),
                        numbers: rows,
                    })
                    .collect(),
            };
            out = serde_json::to_string_pretty(&document)? + "\n";
        }
        RoutesFormat::Csv => {
            out.push_str("environment,number,phone_id,answered_by,dialed_from_by,notes\n");
            for (member, rows) in fleet.members.iter().zip(&shown) {
                // Environment names are letters, digits, `-` and `_`: nothing to quote.
                for line in render::routes::render_routes_csv(rows).lines().skip(1) {
                    out.push_str(&format!("{},{line}\n", member.name()));
                }
            }
        }
    }
    stdout::print(&out);
    Ok(0)
}

/// `talkops environments`: the project's environments, for people and for CI matrices.
/// Whether each token variable is set is shown; its value never is.
pub(super) fn environments(project: &Project, json: bool) -> anyhow::Result<u8> {
    #[derive(Serialize)]
    struct Listing<'a> {
        project: String,
        environments: Vec<Entry<'a>>,
    }
    #[derive(Serialize)]
    struct Entry<'a> {
        name: &'a str,
        paths: &'a [String],
        token_env: &'a str,
        api_url: &'a str,
        token_set: bool,
    }
    let entries: Vec<Entry<'_>> = project
        .environments
        .iter()
        .map(|env| Entry {
            name: &env.name,
            paths: &env.paths,
            token_env: &env.token_env,
            // A token pasted into the URL is not read out with it.
            api_url: if crate::settings::shows_token(&env.api_url, &env.token_env) {
                "(not shown: it contains the token)"
            } else {
                &env.api_url
            },
            token_set: crate::settings::token_is_set(&env.token_env),
        })
        .collect();
    if json {
        let listing = Listing {
            project: project.file.display().to_string(),
            environments: entries,
        };
        stdout::println(&serde_json::to_string_pretty(&listing)?);
        return Ok(0);
    }
    let rows: Vec<[String; 5]> = entries
        .iter()
        .map(|e| {
            [
                e.name.to_owned(),
                e.api_url.to_owned(),
                e.token_env.to_owned(),
                if e.token_set { "yes" } else { "no" }.to_owned(),
                crate::render::visible(&e.paths.join(", ")),
            ]
        })
        .collect();
    let header = [
        "NAME".to_owned(),
        "API URL".to_owned(),
        "TOKEN VARIABLE".to_owned(),
        "SET".to_owned(),
        "PATHS".to_owned(),
    ];
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    stdout::print(&out);
    Ok(0)
}
