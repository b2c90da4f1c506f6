//! `talkops demo`: the main job end to end with no account and no network. It starts the
//! simulator in-process on 127.0.0.1, seeded so that `examples/agents.yaml` has changes to
//! make, then shows plan, apply and a clean second plan.

use anyhow::{bail, Context};
use talkover_sim::{Seed, SimConfig};

use super::apply::{plan_and_apply, ApplyOptions, Approval, GuardFlags};
use super::{make_plan, runtime};
use crate::api::{Client, ClientOptions, Token};
use crate::desired::{self, SourceFile};
use crate::plan::Thresholds;
use crate::settings::{Output, OutputFormat};
use crate::{render, settings, stdout};

const EXAMPLE_NAME: &str = "examples/agents.yaml";
const EXAMPLE: &str = include_str!("../../examples/agents.yaml");
const SEED: &str = include_str!("../../examples/demo-seed.json");
/// The simulator lives only as long as the demo, on loopback; this token guards nothing real.
const DEMO_TOKEN: &str = "talq_demo_local_only";

pub(super) fn run() -> anyhow::Result<u8> {
    let seed = Seed::from_json(SEED).context("the built-in demo environment is not valid")?;
    let sim = talkover_sim::spawn(SimConfig::new(DEMO_TOKEN, seed), 0)
        .context("cannot start the local simulator")?;
    let url = sim.url();
    let config = desired::parse_sources(&[SourceFile {
        name: EXAMPLE_NAME.to_owned(),
        text: EXAMPLE.to_owned(),
    }])?;
    let client = Client::new(&url, Token::new(DEMO_TOKEN), ClientOptions::default())?;
    let thresholds = Thresholds::default();
    let style = settings::style_for(None);

    stdout::println(&format!(
        "talkops demo: a local Talkover simulator is serving a sample environment at {url}."
    ));
    stdout::println(&format!(
        "The config is {EXAMPLE_NAME}; nothing leaves this machine.\n"
    ));

    let runtime = runtime()?;
    stdout::println(&format!("$ talkops plan {EXAMPLE_NAME}\n"));
    let plan = runtime.block_on(make_plan(&client, &url, &config, thresholds, &[]))?;
    stdout::print(&render::render_plan(&plan, style));

    // The night line going dark is intended here, so the demo says so, as a reviewer would.
    stdout::println(&format!(
        "\n$ talkops apply --auto-approve --allow-unrouted {EXAMPLE_NAME}\n"
    ));
    let options = ApplyOptions {
        approval: Approval::Given,
        overrides: GuardFlags {
            force: false,
            allow_unrouted: true,
        },
        parallelism: 8,
        thresholds,
    };
    let output = Output {
        format: OutputFormat::Text,
        style,
    };
    let code = runtime.block_on(plan_and_apply(
        &client,
        &url,
        &config,
        &[],
        &options,
        &output,
    ))?;
    if code != 0 {
        bail!("the demo apply did not succeed");
    }

    stdout::println(&format!(
        "\n$ talkops plan --detailed-exitcode {EXAMPLE_NAME}\n"
    ));
    let again = runtime.block_on(make_plan(&client, &url, &config, thresholds, &[]))?;
    stdout::print(&render::render_plan(&again, style));
    if again.has_changes() {
        bail!("the demo did not converge: the second plan still has changes");
    }

    let journal = sim.journal();
    let puts = journal.iter().filter(|e| e.method == "PUT").count();
    stdout::println(&format!(
        "\nThe simulator saw {} requests: {} reads and {puts} PUTs, one per changed agent.",
        journal.len(),
        journal.len().saturating_sub(puts)
    ));
    sim.shutdown();
    Ok(0)
}
