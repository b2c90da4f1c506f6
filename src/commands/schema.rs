//! `talkops schema [agents|project]`: the JSON Schema of the agents files or of the project
//! file, for editors.

use crate::{schema, stdout};

pub(super) fn run(kind: crate::cli::SchemaKind) -> anyhow::Result<u8> {
    stdout::print(match kind {
        crate::cli::SchemaKind::Agents => schema::SCHEMA,
        crate::cli::SchemaKind::Project => schema::PROJECT_SCHEMA,
    });
    Ok(0)
}
