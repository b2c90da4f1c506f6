//! The JSON Schema (draft-07, which YAML editors understand) of the config format, as
//! `talkops schema` prints it. The file in `schema/` is the source; a test checks that the
//! schema and the parser accept and reject the same files, so neither drifts from the other.

/// The schema text.
pub const SCHEMA: &str = include_str!("../schema/talkops.schema.json");

/// The project file's schema (`talkops schema project`), kept beside it in `schema/`.
pub const PROJECT_SCHEMA: &str = include_str!("../schema/talkops-project.schema.json");
