//! `talkops export [--out FILE]`: the environment written as a talkops config.

use std::path::Path;

use anyhow::Context;

use super::{connect, read_live, runtime};
use crate::render::document;
use crate::settings::Settings;
use crate::stdout;

pub(super) fn run(settings: &Settings, out: Option<&Path>) -> anyhow::Result<u8> {
    let client = connect(settings)?;
    let live = runtime()?.block_on(read_live(&client, &settings.api_url))?;
    let text = crate::export::export(
        &live,
        &settings.api_url,
        &document::rfc3339(std::time::SystemTime::now()),
    );
    match out {
        Some(path) => {
            std::fs::write(path, &text)
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
