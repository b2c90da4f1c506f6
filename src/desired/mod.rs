//! The YAML side: the user's declared agents, how files are found and parsed, and the offline
//! validation that reports every problem at once.
//!
//! `load` owns the filesystem; `parse` and `check` are pure functions over file names and
//! text, so that every rule can be tested without touching a disk or a network.

mod check;
mod diagnostic;
mod events;
mod load;
mod nesting;
mod parse;
mod stream;

use std::fmt;

use crate::model::{AgentId, Direction, PhoneId, E164};

pub use diagnostic::{Code, Diagnostic, Invalid, Place};
pub use load::{read_sources, SourceFile};
pub(crate) use parse::{did_you_mean, kind, read_document, show_key};

/// Where a declared agent (or a problem) comes from: the file, and the line where known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The file as found from the command-line path, e.g. `agents/sales.yaml`.
    pub file: String,
    /// 1-based line of the agent's entry, when it could be located.
    pub line: Option<usize>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.file, line),
            None => f.write_str(&self.file),
        }
    }
}

/// How an entry names its agent: exactly one of `name:` or `id:`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgentRef {
    Name(String),
    Id(AgentId),
}

impl fmt::Display for AgentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentRef::Name(name) => write!(f, "agent {name:?}"),
            AgentRef::Id(id) => write!(f, "agent id {id}"),
        }
    }
}

/// One entry of `phone_numbers`: an E.164 number (starts with `+`) or a phone-number id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NumberRef {
    Number(E164),
    Id(PhoneId),
}

impl fmt::Display for NumberRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberRef::Number(number) => write!(f, "number {number}"),
            NumberRef::Id(id) => write!(f, "phone number id {id:?}", id = id.as_str()),
        }
    }
}

/// One valid agent entry of the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredAgent {
    pub source: Source,
    pub agent: AgentRef,
    pub direction: Direction,
    /// `None`: the entry omits `phone_numbers`, so the agent's numbers are not managed.
    /// Entries are unique within the list (a duplicate is a validation error).
    pub phone_numbers: Option<Vec<NumberRef>>,
}

/// Every agent declared across the given files, in file order then entry order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DesiredConfig {
    pub agents: Vec<DesiredAgent>,
    /// How many files were read.
    pub files: usize,
}

/// Parses and validates already-read files: every offline rule, every problem collected.
pub fn parse_sources(files: &[SourceFile]) -> Result<DesiredConfig, Invalid> {
    parse_with(files, Vec::new())
}

/// Reads the paths from disk and parses them (`talkops validate`, and the start of plan/apply).
/// Unreadable paths and the problems of the readable files are reported together.
pub fn load(paths: &[std::path::PathBuf]) -> Result<DesiredConfig, Invalid> {
    let (files, diagnostics) = read_sources(paths);
    parse_with(&files, diagnostics)
}

fn parse_with(
    files: &[SourceFile],
    mut diagnostics: Vec<Diagnostic>,
) -> Result<DesiredConfig, Invalid> {
    let mut agents = Vec::new();
    for file in files {
        parse::parse_file(&file.name, &file.text, &mut agents, &mut diagnostics);
    }
    check::check_across_entries(&agents, &mut diagnostics);
    // Held until the plan is made: no room for more agents.
    agents.shrink_to_fit();
    if diagnostics.is_empty() {
        Ok(DesiredConfig {
            agents,
            files: files.len(),
        })
    } else {
        Err(Invalid(diagnostics))
    }
}

/// How an entry is named in messages: by the agent it names, else by its position.
pub(crate) fn entry_label(agent: Option<&AgentRef>, index: usize) -> String {
    match agent {
        Some(agent) => agent.to_string(),
        None => format!("agent entry #{}", index + 1),
    }
}
