//! `talkops apply --plan FILE [PATH...]`: a saved plan performed exactly, after checking that
//! it belongs to this API and format, that nothing it changes drifted, and, given a config,
//! that it is that config's plan today.

use std::path::Path;

use anyhow::{bail, Context};

use super::apply::{apply_plan, ApplyOptions, GuardFlags};
use super::{changes_for, connect, judge_guards, read_live, runtime};
use crate::api::Client;
use crate::desired::DesiredConfig;
use crate::drift;
use crate::plan::Plan;
use crate::render::document::{PlanDocument, FORMAT_VERSION};
use crate::settings::{Output, Settings};

pub(super) fn run(
    file: &Path,
    config: Option<&DesiredConfig>,
    settings: &Settings,
    options: &ApplyOptions,
    output: &Output,
) -> anyhow::Result<u8> {
    let client = connect(settings)?;
    runtime()?.block_on(apply_saved(
        &client,
        &settings.api_url,
        file,
        config,
        options,
        output,
    ))
}

/// Reads a saved plan: it must be JSON in this format version, made against this API URL,
/// and consistent (its steps exactly those its changes need).
fn load(file: &Path, api_url: &str) -> anyhow::Result<(PlanDocument, Plan)> {
    let (text, header) = read_versioned(file)?;
    let shown = file.display();
    if header.is_project_plan() {
        bail!(
            "{shown} is a project plan (of the environments in a project file): apply it without config PATHs, in project mode. Nothing was changed"
        );
    }
    let document: PlanDocument = serde_json::from_str(&text)
        .with_context(|| format!("{shown} is not a valid saved talkops plan"))?;
    let plan = checked(&shown.to_string(), &document, api_url)?;
    Ok((document, plan))
}

/// The largest saved plan read: far above any real plan, far below what would exhaust memory.
const MAX_PLAN_BYTES: u64 = 256 << 20;

/// What a saved plan file says it is, read without building its whole JSON tree.
#[derive(serde::Deserialize)]
pub(super) struct Header {
    format_version: Option<serde_json::Value>,
    talkops_version: Option<serde_json::Value>,
    /// Present in a project plan.
    #[serde(default)]
    environments: Option<serde::de::IgnoredAny>,
    /// Present in one environment's plan.
    #[serde(default)]
    api_url: Option<serde::de::IgnoredAny>,
}

impl Header {
    /// A project plan: environments, and no API URL of its own.
    pub(super) fn is_project_plan(&self) -> bool {
        self.environments.is_some() && self.api_url.is_none()
    }

    /// One environment's plan: it names its API URL.
    pub(super) fn is_single_plan(&self) -> bool {
        self.api_url.is_some()
    }
}

/// A saved plan file's text and header, once its size is sane and its format version is
/// this talkops' own.
pub(super) fn read_versioned(file: &Path) -> anyhow::Result<(String, Header)> {
    use std::io::Read;
    let shown = file.display();
    // Read one byte past the cap, so that a larger file is known without reading it all.
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_PLAN_BYTES + 1).read_to_end(&mut bytes))
        .with_context(|| format!("cannot read the saved plan {shown}"))?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        bail!(
            "{shown} is larger than {} MiB: not a saved talkops plan (a plan of 50,000 changes is far smaller). Nothing was changed",
            MAX_PLAN_BYTES >> 20
        );
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{shown} is not a saved talkops plan (not UTF-8 text)"))?;
    let header: Header = serde_json::from_str(&text)
        .with_context(|| format!("{shown} is not a saved talkops plan (not a JSON object)"))?;
    match header.format_version.as_ref().and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => bail!(
            "{shown} is a plan in format version {v}, made by talkops {}; this talkops {} reads version {FORMAT_VERSION}. Make the plan again with this version",
            crate::render::visible(
                header.talkops_version.as_ref().and_then(serde_json::Value::as_str).unwrap_or("(unknown)")
            ),
            env!("CARGO_PKG_VERSION")
        ),
        None => bail!("{shown} is not a saved talkops plan (no format_version)"),
    }
    Ok((text, header))
}

/// The plan a saved document holds, once it is known to be made against `api_url` and
/// consistent. `shown` names it in messages.
pub(super) fn checked(shown: &str, document: &PlanDocument, api_url: &str) -> anyhow::Result<Plan> {
    if document.api_url != api_url {
        bail!(
            "{shown} was made against {}, not {api_url}; refusing to apply it here. Nothing was changed",
            document.api_url
        );
    }
    document
        .to_plan()
        .map_err(|reason| anyhow::anyhow!("{shown} is not a valid saved talkops plan: {reason}"))
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
    output: &Output,
) -> anyhow::Result<u8> {
    let (document, plan) = load(file, api_url)?;
    let (plan, overrides) = verify(
        client,
        api_url,
        &file.display().to_string(),
        &document,
        plan,
        config,
        options,
    )
    .await?;
    apply_plan(client, api_url, &plan, overrides, options, output).await
}

/// The checks a saved plan must pass before any of it is performed: nothing it changes has
/// drifted, nothing new answers a number it claims, and, given a config, it is exactly that
/// config's plan today. Returns the plan with its guards judged again on today's
/// environment, and the guard flags that count (those given now and those recorded).
/// `shown` names the plan in messages.
pub(super) async fn verify(
    client: &Client,
    api_url: &str,
    shown: &str,
    document: &PlanDocument,
    mut plan: Plan,
    config: Option<&DesiredConfig>,
    options: &ApplyOptions,
) -> anyhow::Result<(Plan, GuardFlags)> {
    let live = read_live(client, api_url).await?;
    let mut drifted = drift::drift(&plan, &live);
    drifted.extend(drift::new_conflicts(&plan, &live));
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
        let differences = drift::plan_differences(&plan, &now);
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
    let overrides = GuardFlags {
        force: options.overrides.force || document.overrides.force,
        allow_unrouted: options.overrides.allow_unrouted || document.overrides.allow_unrouted,
    };
    Ok((plan, overrides))
}
