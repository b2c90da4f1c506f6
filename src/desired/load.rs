//! Finding and reading config files: the only part of the desired side that touches the disk
//! (and stdin, for `-`).
//!
//! A path named on the command line is read whatever it is: a regular file, a FIFO,
//! `/dev/stdin`, a process substitution (`<(...)`), a character device. Skipping such a path
//! would make a drift check pass on a config it never read. Inside a directory only regular
//! `*.yaml`/`*.yml` files are config; other entries are ignored.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{Code, Diagnostic};

/// How stdin is named in diagnostics and plans when it is read through `-`.
pub const STDIN_NAME: &str = "(stdin)";

/// The largest config file read, in bytes. A real config is a few kilobytes; the cap keeps a
/// wrong path (a disk device, a log that never ends) from being read into memory whole.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A config file's name (as derived from the command-line path) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// One input to read, in command-line order.
enum Input {
    Path(PathBuf),
    Stdin,
}

/// Reads every path: a file as given, `-` as stdin, a directory recursively (regular `*.yaml`
/// and `*.yml` files, in sorted order). Returns the files that could be read and a problem for
/// each path that could not, so that the readable files' problems are reported in the same run.
pub fn read_sources(paths: &[PathBuf]) -> (Vec<SourceFile>, Vec<Diagnostic>) {
    read_sources_from(paths, &mut io::stdin().lock())
}

/// [`read_sources`] with stdin given, for tests.
fn read_sources_from(
    paths: &[PathBuf],
    stdin: &mut dyn Read,
) -> (Vec<SourceFile>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut found = Vec::new();
    let mut visited = BTreeSet::new();
    if paths.is_empty() {
        diagnostics.push(Diagnostic::command_line(
            Code::NoPaths,
            "no config path given: name the files or directories that hold the agents, or run where a project file (talkops.yaml) lists the environments",
        ));
    }
    let mut stdin_named = false;
    for path in paths {
        if path.as_os_str() == "-" {
            // stdin can be read once; a second `-` would silently read nothing.
            if stdin_named {
                diagnostics.push(Diagnostic::command_line(
                    Code::StdinTwice,
                    "`-` (stdin) is named more than once: stdin can be read only once",
                ));
            } else {
                stdin_named = true;
                found.push(Input::Stdin);
            }
            continue;
        }
        collect(path, true, &mut visited, &mut found, &mut diagnostics);
    }

    // A file reached twice (named and inside a named directory) is read once.
    let mut seen = BTreeSet::new();
    let mut files = Vec::new();
    for input in found {
        let (name, read) = match input {
            Input::Stdin => (STDIN_NAME.to_owned(), read_capped(stdin)),
            Input::Path(path) => {
                let key = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if !seen.insert(key) {
                    continue;
                }
                let name = path.display().to_string();
                (
                    name,
                    fs::File::open(&path).and_then(|mut f| read_capped(&mut f)),
                )
            }
        };
        match read {
            Ok(Some(bytes)) => match String::from_utf8(bytes) {
                Ok(text) => files.push(SourceFile { name, text }),
                Err(_) => diagnostics.push(Diagnostic::file(
                    Code::NotUtf8,
                    name,
                    "is not valid UTF-8 text",
                )),
            },
            Ok(None) => diagnostics.push(Diagnostic::file(
                Code::TooLarge,
                name,
                format!(
                    "is larger than {} MiB: a talkops config is far smaller; check the path",
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            )),
            Err(err) => diagnostics.push(Diagnostic::file(
                Code::Unreadable,
                name,
                format!("cannot read: {err}"),
            )),
        }
    }

    (files, diagnostics)
}

/// Reads all of `reader`, or `None` once it has given more than [`MAX_FILE_BYTES`].
fn read_capped(reader: &mut dyn Read) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES.saturating_add(1))
        .read_to_end(&mut bytes)?;
    // usize -> u64 cannot lose anything on the platforms Rust supports.
    if u64::try_from(bytes.len()).map_or(true, |len| len > MAX_FILE_BYTES) {
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// `visited` holds the canonical form of every directory entered, so that a symlink loop is
/// entered once rather than followed forever.
fn collect(
    path: &Path,
    named: bool,
    visited: &mut BTreeSet<PathBuf>,
    found: &mut Vec<Input>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let shown = path.display().to_string();
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        // Inside a directory, a dangling symlink is config only if it is named like config:
        // `notes.txt -> nowhere` is not ours to report, `sales.yaml -> nowhere` is a config
        // file that went missing, and reading the directory without it would plan as if its
        // agents were not declared.
        Err(_) if !named && !is_yaml(path) && is_symlink(path) => return,
        Err(err) => {
            diagnostics.push(Diagnostic::file(
                Code::Unreadable,
                shown,
                format!("cannot read: {err}"),
            ));
            return;
        }
    };
    if metadata.is_dir() {
        read_directory(path, named, visited, found, diagnostics);
        return;
    }
    if named {
        // A path named on the command line is read whatever it is and whatever its
        // extension: the user chose it, and skipping it would read a config as empty.
        found.push(Input::Path(path.to_path_buf()));
        return;
    }
    if !is_yaml(path) {
        return;
    }
    // The project file sits beside the agents directories, often inside one of them: a
    // directory walk never takes it for an agents file.
    if path
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| crate::project::PROJECT_FILE_NAMES.contains(&name))
    {
        return;
    }
    if metadata.is_file() {
        found.push(Input::Path(path.to_path_buf()));
    } else {
        // A FIFO or device named like config inside a directory: reading it could block or
        // never end, and skipping it would leave its agents out unnoticed.
        diagnostics.push(Diagnostic::file(
            Code::SpecialFile,
            shown,
            "is not a regular file: inside a directory only regular files are read; name it on the command line to read it",
        ));
    }
}

fn read_directory(
    path: &Path,
    named: bool,
    visited: &mut BTreeSet<PathBuf>,
    found: &mut Vec<Input>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let shown = path.display().to_string();
    let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if !visited.insert(canonical) {
        return;
    }
    let mut entries = match fs::read_dir(path) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect::<Vec<_>>(),
        Err(err) => {
            diagnostics.push(Diagnostic::file(
                Code::Unreadable,
                shown,
                format!("cannot read directory: {err}"),
            ));
            return;
        }
    };
    entries.sort();
    let before = (found.len(), diagnostics.len());
    for entry in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden {
            collect(&entry, false, visited, found, diagnostics);
        }
    }
    // An empty directory reads as no agents at all; an entry that was reported already says
    // why this one has none.
    if named && (found.len(), diagnostics.len()) == before {
        diagnostics.push(Diagnostic::file(
            Code::EmptyDirectory,
            shown,
            "no *.yaml or *.yml files in this directory",
        ));
    }
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(paths: &[&str], stdin: &str) -> (Vec<SourceFile>, Vec<String>) {
        let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
        let (files, diagnostics) = read_sources_from(&paths, &mut stdin.as_bytes());
        (files, diagnostics.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn dash_reads_stdin_once_and_names_it() {
        let (files, problems) = read(&["-"], "agents: []\n");
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(
            files,
            [SourceFile {
                name: "(stdin)".into(),
                text: "agents: []\n".into()
            }]
        );
        let (files, problems) = read(&["-", "-"], "agents: []\n");
        assert_eq!(files.len(), 1);
        assert_eq!(
            problems,
            ["command line: `-` (stdin) is named more than once: stdin can be read only once [stdin-twice]"]
        );
    }

    #[test]
    fn input_over_the_cap_is_refused_without_reading_it_all() {
        let mut endless = io::repeat(b'#');
        assert_eq!(read_capped(&mut endless).expect("reads"), None);
        let exact = vec![b'#'; 1024];
        assert_eq!(
            read_capped(&mut exact.as_slice()).expect("reads"),
            Some(exact.clone())
        );
    }

    #[cfg(unix)]
    #[test]
    fn dangling_symlinks_in_a_directory_ignored_unless_named_like_config() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path();
        fs::write(root.join("a.yaml"), "agents: []\n").expect("write");
        symlink(root.join("missing"), root.join("notes.txt")).expect("symlink");
        let shown = root.display().to_string();
        let (files, problems) = read(&[&shown], "");
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(files.len(), 1);

        symlink(root.join("missing"), root.join("b.yaml")).expect("symlink");
        let (_, problems) = read(&[&shown], "");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(&format!("{shown}/b.yaml: cannot read: ")),
            "{problems:?}"
        );
    }
}
