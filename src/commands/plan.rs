//! `talkops plan`: read, resolve, diff, order, judge the guards, print; write nothing but
//! the `--out` file.

use std::path::PathBuf;

use anyhow::Context;

use super::{connect, make_plan, print_plan, runtime, GuardFlags};
use crate::desired::DesiredConfig;
use crate::render::document::{GuardFlagsDocument, PlanDocument};
use crate::settings::{Output, Settings};
use crate::stdout;

/// A `plan` command, resolved.
pub(super) struct Request {
    pub config: DesiredConfig,
    pub settings: Settings,
    pub output: Output,
    pub thresholds: crate::plan::Thresholds,
    pub detailed_exitcode: bool,
    pub out: Option<PathBuf>,
    /// The guard flags to record in a saved plan.
    pub overrides: GuardFlags,
    pub targets: Vec<String>,
}

pub(super) fn run(request: Request) -> anyhow::Result<u8> {
    let Request {
        config,
        settings,
        output,
        thresholds,
        detailed_exitcode,
        out,
        overrides,
        targets,
    } = request;
    let client = connect(&settings)?;
    let plan = runtime()?.block_on(make_plan(
        &client,
        &settings.api_url,
        &config,
        thresholds,
        &targets,
    ))?;
    let recorded = GuardFlagsDocument {
        force: overrides.force,
        allow_unrouted: overrides.allow_unrouted,
    };
    let mut document = PlanDocument::new(&plan, &settings.api_url, recorded);
    document.targets = targets;
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
