//! `talkops validate PATH...`: the config checked offline, every problem reported.

use std::path::PathBuf;

use crate::{desired, stdout};

pub(super) fn run(paths: &[PathBuf]) -> anyhow::Result<u8> {
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
