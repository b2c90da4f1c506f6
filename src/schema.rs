//! The JSON Schema (draft-07, which YAML editors understand) of the config format, as
//! `talkops schema` prints it. The file in `schema/` is the source; a test checks that the
//! schema and the parser accept and reject the same files, so neither drifts from the other.

/// The schema text.
pub const SCHEMA: &str = include_str!("../schema/talkops.schema.json");
