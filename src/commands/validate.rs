//! `talkops validate PATH...`: the config checked offline, every problem reported, as text
//! (problems on stderr) or as JSON on stdout for scripts and CI annotations.

use std::path::PathBuf;

use serde::Serialize;

use crate::desired::{self, Diagnostic, Invalid};
use crate::stdout;

/// How `validate` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Report {
    /// `ok: ...` on stdout, or the problems on stderr (through `main`'s error line).
    Text,
    /// `{"problems": [...]}` on stdout, valid or not.
    Json,
}

/// The JSON document: the one shape for valid and invalid configs alike.
#[derive(Serialize)]
struct Problems<'a> {
    problems: Vec<Problem<'a>>,
}

/// One problem in the JSON document. `file` is null for a problem with the command line as a
/// whole; `line` and `column` are null where unknown.
#[derive(Serialize)]
struct Problem<'a> {
    code: &'static str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    /// The text line without place and code: `agent "A": is declared twice, ...`.
    message: String,
}

impl<'a> From<&'a Diagnostic> for Problem<'a> {
    fn from(diagnostic: &'a Diagnostic) -> Self {
        Problem {
            code: diagnostic.code.as_str(),
            file: diagnostic.file_name(),
            line: diagnostic.line(),
            column: diagnostic.column(),
            message: diagnostic.text(),
        }
    }
}

/// Exit 0 when the config is valid, 1 (through an error) when it has problems, in either
/// format.
pub(super) fn run(paths: &[PathBuf], report: Report) -> anyhow::Result<u8> {
    let loaded = desired::load(paths);
    match report {
        Report::Text => {
            let config = loaded?;
            let agents = config.agents.len();
            let files = config.files;
            stdout::println(&format!(
                "ok: {agents} agent{} in {files} file{}, no problems found",
                if agents == 1 { "" } else { "s" },
                if files == 1 { "" } else { "s" }
            ));
            Ok(0)
        }
        Report::Json => {
            let diagnostics = match &loaded {
                Ok(_) => &[][..],
                Err(Invalid(diagnostics)) => diagnostics.as_slice(),
            };
            let document = Problems {
                problems: diagnostics.iter().map(Problem::from).collect(),
            };
            stdout::println(&serde_json::to_string_pretty(&document)?);
            match diagnostics.len() {
                0 => Ok(0),
                // The list is on stdout; stderr says only why the exit code is 1, so that a
                // CI log that keeps stdout in a file still shows that validation failed.
                n => Err(anyhow::anyhow!(
                    "the configuration has {n} problem{}; they are listed in the JSON on stdout",
                    if n == 1 { "" } else { "s" }
                )),
            }
        }
    }
}
