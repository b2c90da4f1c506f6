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
    /// In project mode: the environment whose config has the problem; null for a problem of
    /// the project file itself. Absent outside project mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<Option<&'a str>>,
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
            environment: None,
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
            stdout::println(&format!("ok: {}", summary(&loaded?)));
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
            json_exit(diagnostics.len())
        }
    }
}

/// `validate` in project mode: each selected environment's config (`Some(name)`), or the
/// project file itself when it is invalid (`None`). Text: an `ok` line per valid environment
/// on stdout, and every problem of every environment in the error. JSON: every problem, each
/// naming its environment.
pub(super) fn report_environments(
    results: &[(Option<&str>, Result<desired::DesiredConfig, Invalid>)],
    report: Report,
) -> anyhow::Result<u8> {
    let problems: usize = results
        .iter()
        .map(|(_, result)| result.as_ref().err().map_or(0, |Invalid(d)| d.len()))
        .sum();
    match report {
        Report::Text => {
            let mut failed = Vec::new();
            for (name, result) in results {
                let label = match name {
                    Some(name) => format!("environment {name:?}"),
                    None => "the project file".to_owned(),
                };
                match result {
                    Ok(config) => stdout::println(&format!(
                        "ok: {}: {}",
                        name.unwrap_or("(project)"),
                        summary(config)
                    )),
                    Err(invalid) => failed.push(format!(
                        "{label}: {}:\n    {}",
                        invalid.count(),
                        invalid.listed("    ")
                    )),
                }
            }
            if failed.is_empty() {
                return Ok(0);
            }
            Err(anyhow::anyhow!(
                "{} {problems} problem{}; nothing was changed\n  {}",
                if results.iter().any(|(name, _)| name.is_none()) {
                    "the project file has"
                } else {
                    "the configuration has"
                },
                if problems == 1 { "" } else { "s" },
                failed.join("\n  ")
            ))
        }
        Report::Json => {
            let mut listed = Vec::new();
            for (name, result) in results {
                if let Err(Invalid(diagnostics)) = result {
                    listed.extend(diagnostics.iter().map(|d| Problem {
                        environment: Some(*name),
                        ..Problem::from(d)
                    }));
                }
            }
            stdout::println(&serde_json::to_string_pretty(&Problems {
                problems: listed,
            })?);
            json_exit(problems)
        }
    }
}

/// `3 agents in 1 file, no problems found`.
fn summary(config: &desired::DesiredConfig) -> String {
    let agents = config.agents.len();
    let files = config.files;
    format!(
        "{agents} agent{} in {files} file{}, no problems found",
        if agents == 1 { "" } else { "s" },
        if files == 1 { "" } else { "s" }
    )
}

/// The exit of `validate --format json` with `problems` listed on stdout: 0, or an error
/// whose only job is to say on stderr why the exit code is 1, so that a CI log that keeps
/// stdout in a file still shows that validation failed.
fn json_exit(problems: usize) -> anyhow::Result<u8> {
    match problems {
        0 => Ok(0),
        n => Err(anyhow::anyhow!(
            "the configuration has {n} problem{}; they are listed in the JSON on stdout",
            if n == 1 { "" } else { "s" }
        )),
    }
}
