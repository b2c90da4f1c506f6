//! Finding and reading config files: the only part of the desired side that touches the disk.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::Diagnostic;

/// A config file's name (as derived from the command-line path) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// Reads every path: a file as given, a directory recursively (`*.yaml` and `*.yml`, in sorted
/// order). Returns the files that could be read and a problem for each path that could not,
/// so that the readable files' problems are reported in the same run.
pub fn read_sources(paths: &[PathBuf]) -> (Vec<SourceFile>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut found = Vec::new();
    let mut visited = BTreeSet::new();
    if paths.is_empty() {
        diagnostics.push(Diagnostic::file(
            "command line",
            "no config path given: name the files or directories that hold the agents",
        ));
    }
    for path in paths {
        collect(path, true, &mut visited, &mut found, &mut diagnostics);
    }

    // A file reached twice (named and inside a named directory) is read once.
    let mut seen = BTreeSet::new();
    let mut files = Vec::new();
    for path in found {
        let key = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !seen.insert(key) {
            continue;
        }
        let name = path.display().to_string();
        match fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => files.push(SourceFile { name, text }),
                Err(_) => diagnostics.push(Diagnostic::file(name, "is not valid UTF-8 text")),
            },
            Err(err) => diagnostics.push(Diagnostic::file(name, format!("cannot read: {err}"))),
        }
    }

    (files, diagnostics)
}

/// `visited` holds the canonical form of every directory entered, so that a symlink loop is
/// entered once rather than followed forever.
fn collect(
    path: &Path,
    named: bool,
    visited: &mut BTreeSet<PathBuf>,
    found: &mut Vec<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let shown = path.display().to_string();
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) => {
            diagnostics.push(Diagnostic::file(shown, format!("cannot read: {err}")));
            return;
        }
    };
    if metadata.is_file() {
        // A file named on the command line is read whatever its extension: the user chose it.
        if named || is_yaml(path) {
            found.push(path.to_path_buf());
        }
        return;
    }
    if !metadata.is_dir() {
        return;
    }
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
                shown,
                format!("cannot read directory: {err}"),
            ));
            return;
        }
    };
    entries.sort();
    let before = found.len();
    for entry in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden {
            collect(&entry, false, visited, found, diagnostics);
        }
    }
    if named && found.len() == before {
        diagnostics.push(Diagnostic::file(
            shown,
            "no *.yaml or *.yml files in this directory",
        ));
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}
