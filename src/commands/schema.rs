//! `talkops schema`: the config's JSON Schema, for editors.

use crate::{schema, stdout};

pub(super) fn run() -> anyhow::Result<u8> {
    stdout::print(schema::SCHEMA);
    Ok(0)
}
