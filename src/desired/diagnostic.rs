//! The problems that validation and resolution report: each has a stable [`Code`] (one per
//! kind of problem, not per wording), a [`Place`] and a message.
//!
//! Codes are part of talkops' interface: scripts match on them (`validate --format json`) and
//! the README lists them. Never rename or reuse one; add a new code for a new kind of problem.
//! This module owns no rule; it only describes what the rules report.

use std::fmt;

use super::Source;

/// Declares [`Code`] with its kebab-case text and [`Code::ALL`], from one list, so that a code
/// cannot be added without its text or be missing from `ALL`.
macro_rules! codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $text:literal,)+) => {
        /// The kind of a problem, stable across releases (cargo-deny style).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];

            /// The code as shown to users, e.g. `duplicate-agent`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)+
                }
            }
        }
    };
}

codes! {
    // Reading the paths.
    /// No config path was given.
    NoPaths = "no-paths",
    /// `-` (stdin) is named more than once.
    StdinTwice = "stdin-twice",
    /// A file or directory cannot be read (missing, no permission, a dangling symlink).
    Unreadable = "unreadable",
    /// A file is not valid UTF-8 text.
    NotUtf8 = "not-utf8",
    /// A file is larger than the size cap.
    TooLarge = "too-large",
    /// A FIFO or device named like config inside a directory.
    SpecialFile = "special-file",
    /// A directory named on the command line holds no `*.yaml`/`*.yml` file.
    EmptyDirectory = "empty-directory",

    // Offline rules of one file.
    /// `[` and `{` nest too deeply; the file was not parsed.
    TooDeep = "too-deep",
    /// The file is not valid YAML (syntax, several documents, a bad merge key).
    InvalidYaml = "invalid-yaml",
    /// The file holds nothing.
    EmptyFile = "empty-file",
    /// A value has the wrong type: the top level, `agents`, an entry, `phone_numbers` or one
    /// of its items, `name` or `id`.
    WrongType = "wrong-type",
    /// A key talkops does not know, at the top level or in an entry.
    UnknownKey = "unknown-key",
    /// A required key is missing: `agents:`, `direction:`, or both `name:` and `id:`.
    MissingKey = "missing-key",
    /// An entry has both `name:` and `id:`.
    NameAndId = "name-and-id",
    /// A key or list item with an empty value (`name:`, `phone_numbers:`, `""`).
    EmptyValue = "empty-value",
    /// A YAML number where a string is needed (an unquoted `+1...` loses its `+`).
    YamlNumber = "yaml-number",
    /// `direction` is not `inbound` or `outbound`.
    InvalidDirection = "invalid-direction",
    /// A phone number that starts with `+` but is not E.164.
    InvalidNumber = "invalid-number",

    // Rules across entries (offline), repeated on resolved ids.
    /// One phone number listed twice in one agent (also as a number and its id).
    DuplicateNumber = "duplicate-number",
    /// One agent declared twice (also by name and by id).
    DuplicateAgent = "duplicate-agent",
    /// A number that two inbound agents would answer.
    InboundConflict = "inbound-conflict",

    // Resolving against the live environment (plan and apply only).
    /// No agent in the environment has this name or id (or the token cannot see it).
    UnknownAgent = "unknown-agent",
    /// Several agents in the environment have this name: use `id:`.
    AmbiguousName = "ambiguous-name",
    /// The number or phone-number id is not one of the environment's.
    UnknownNumber = "unknown-number",
    /// The number appears more than once in the environment: use its id.
    AmbiguousNumber = "ambiguous-number",
    /// The API did not give an agent's phone numbers, so no safe plan can be made.
    NumbersUnknown = "numbers-unknown",

    // The project file (`talkops.yaml`).
    /// A project setting with a value talkops cannot use: an environment name, a token
    /// variable name, an API URL, a threshold out of range.
    InvalidValue = "invalid-value",
    /// Two environments of the project file are one Talkover environment (the same API URL
    /// and token).
    SameEnvironment = "same-environment",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A file (as found from the command-line path, or a path as given), with the line and
    /// column where known.
    File {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// The command line as a whole (no path given, `-` twice).
    CommandLine,
    /// The live environment, not one file (an agent the config does not declare).
    Environment,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File { file, line, column } => {
                f.write_str(file)?;
                if let Some(line) = line {
                    write!(f, ":{line}")?;
                    if let Some(column) = column {
                        write!(f, ":{column}")?;
                    }
                }
                Ok(())
            }
            Place::CommandLine => f.write_str("command line"),
            Place::Environment => f.write_str("the environment"),
        }
    }
}

/// One problem found in the config or while resolving it against the live environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub place: Place,
    /// The agent entry, e.g. `agent "SupportBot"` or `agent entry #3`, when the problem is in
    /// one.
    pub entry: Option<String>,
    pub message: String,
}

impl Diagnostic {
    /// A problem in an agent entry.
    pub fn entry(
        code: Code,
        source: &Source,
        entry: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            place: Place::File {
                file: source.file.clone(),
                line: source.line,
                column: None,
            },
            entry: Some(entry.into()),
            message: message.into(),
        }
    }

    /// A problem with a whole file or path.
    pub fn file(code: Code, file: impl Into<String>, message: impl Into<String>) -> Self {
        Self::at(code, file, None, None, message)
    }

    /// A problem at a line (and column) of a file.
    pub fn at(
        code: Code,
        file: impl Into<String>,
        line: Option<usize>,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            place: Place::File {
                file: file.into(),
                line,
                column,
            },
            entry: None,
            message: message.into(),
        }
    }

    /// A problem with the command line as a whole.
    pub fn command_line(code: Code, message: impl Into<String>) -> Self {
        Self::elsewhere(code, Place::CommandLine, message)
    }

    /// A problem in the live environment rather than in one file.
    pub fn environment(code: Code, message: impl Into<String>) -> Self {
        Self::elsewhere(code, Place::Environment, message)
    }

    fn elsewhere(code: Code, place: Place, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            place,
            entry: None,
            message: message.into(),
        }
    }

    /// The file, when the problem is in one (or in a path named on the command line).
    pub fn file_name(&self) -> Option<&str> {
        match &self.place {
            Place::File { file, .. } => Some(file),
            Place::CommandLine | Place::Environment => None,
        }
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        match &self.place {
            Place::File { line, .. } => *line,
            Place::CommandLine | Place::Environment => None,
        }
    }

    /// The 1-based column (in characters), when known.
    pub fn column(&self) -> Option<usize> {
        match &self.place {
            Place::File { column, .. } => *column,
            Place::CommandLine | Place::Environment => None,
        }
    }

    /// What is wrong, with the entry it is in: the text line without place and code.
    pub fn text(&self) -> String {
        match &self.entry {
            Some(entry) => format!("{entry}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// `place: entry: message [code]`. The code goes last so that every line still starts with
/// `file:line:` (which editors and `grep -n`-style tools jump to) and reads as before; the
/// brackets make it greppable (`grep '\[unknown-key\]'`).
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.entry {
            Some(entry) => write!(f, "{}: {}: {}", self.place, entry, self.message)?,
            None => write!(f, "{}: {}", self.place, self.message)?,
        }
        write!(f, " [{}]", self.code)
    }
}

/// Every problem found, reported together; any of them means nothing is written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Invalid(pub Vec<Diagnostic>);

impl Invalid {
    /// "1 problem", "3 problems".
    pub fn count(&self) -> String {
        match self.0.len() {
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    }

    /// Every problem, one a line, each line after the first starting with `indent`.
    pub fn listed(&self, indent: &str) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(&format!("\n{indent}"))
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the configuration has {n} problem{s}; nothing was changed",
            s = if n == 1 { "" } else { "s" }
        )?;
        for diagnostic in &self.0 {
            write!(f, "\n  {diagnostic}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = BTreeSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} is used twice");
            let kebab = !text.is_empty()
                && !text.starts_with('-')
                && !text.ends_with('-')
                && !text.contains("--")
                && text.starts_with(|c: char| c.is_ascii_lowercase())
                && text
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            assert!(kebab, "{text:?} is not kebab-case");
        }
        assert_eq!(seen.len(), Code::ALL.len());
    }

    #[test]
    fn the_code_follows_the_message_and_the_place_leads() {
        let source = Source {
            file: "a.yaml".into(),
            line: Some(4),
        };
        let problem = Diagnostic::entry(Code::DuplicateAgent, &source, "agent \"A\"", "twice");
        assert_eq!(
            problem.to_string(),
            "a.yaml:4: agent \"A\": twice [duplicate-agent]"
        );
        assert_eq!(problem.text(), "agent \"A\": twice");
        let deep = Diagnostic::at(Code::TooDeep, "a.yaml", Some(2), Some(73), "deep");
        assert_eq!(deep.to_string(), "a.yaml:2:73: deep [too-deep]");
        assert_eq!(
            Diagnostic::command_line(Code::StdinTwice, "twice").to_string(),
            "command line: twice [stdin-twice]"
        );
        assert_eq!(
            Diagnostic::environment(Code::NumbersUnknown, "x").file_name(),
            None
        );
    }
}
