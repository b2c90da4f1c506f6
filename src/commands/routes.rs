//! `talkops routes [PATH...]`: who answers and who dials from each number, live or as a
//! config would leave it. Reads the environment once (the plan's request floor); writes
//! nothing.

use anyhow::bail;

use super::{connect, read_live, runtime};
use crate::cli::RoutesFormat;
use crate::desired::DesiredConfig;
use crate::render::routes as render;
use crate::render::Style;
use crate::settings::Settings;
use crate::{resolve, stdout};

pub(super) fn run(
    settings: &Settings,
    config: Option<&DesiredConfig>,
    format: RoutesFormat,
    style: Style,
    numbers: &[String],
) -> anyhow::Result<u8> {
    let client = connect(settings)?;
    let live = runtime()?.block_on(read_live(&client, &settings.api_url))?;
    let plan = match config {
        Some(config) => {
            let resolved = resolve::resolve(config, &live)?;
            Some(crate::plan::build(
                &resolved,
                resolved.len(),
                &live,
                None,
                crate::plan::Thresholds::default(),
            ))
        }
        None => None,
    };
    let rows = crate::routes::table(&live, plan.as_ref());
    let shown = if numbers.is_empty() {
        rows.iter().collect()
    } else {
        match crate::routes::select(&rows, numbers) {
            Ok(shown) => shown,
            Err(missing) => bail!(
                "--number {} is not one of the environment's phone numbers (give an E.164 number or a phone-number id)",
                missing.join(", --number ")
            ),
        }
    };
    stdout::print(&match format {
        RoutesFormat::Text => render::render_routes(&shown, style),
        RoutesFormat::Markdown => render::render_routes_markdown(&shown),
        RoutesFormat::Json => render::render_routes_json(&shown, &settings.api_url),
        RoutesFormat::Csv => render::render_routes_csv(&shown),
    });
    Ok(0)
}
