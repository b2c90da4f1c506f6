//! The project file (`talkops.yaml`): every Talkover environment a repository manages, each
//! with its own config paths, token variable, API URL and guard thresholds.
//!
//! [`parse`] is pure (a file name and its text in, the project or every problem out), so that
//! every rule is tested without a disk; [`find`] and [`load`] own the filesystem. Nothing here
//! reads a token: the commands do, from each environment's `token_env`, when they need it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::desired::{self, Code, Diagnostic, Invalid};
use crate::settings::{self, SettingsError};

/// The project file looked for in the current directory.
pub const DEFAULT_FILE: &str = "talkops.yaml";
/// The variable that names a project file elsewhere.
pub const PROJECT_VAR: &str = "TALKOPS_PROJECT";
/// The API URL of an environment that does not set one.
pub const DEFAULT_API_URL: &str = "https://app.talkover.ai";

/// File names a directory walk never reads as agents files.
pub const PROJECT_FILE_NAMES: [&str; 2] = ["talkops.yaml", "talkops.yml"];

const TOP_KEYS: [&str; 1] = ["environments"];
const ENVIRONMENT_KEYS: [&str; 5] = [
    "paths",
    "token_env",
    "api_url",
    "max_change_percent",
    "change_guard_min_agents",
];

/// A parsed, valid project file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// The file as found (`talkops.yaml`, or as given).
    pub file: PathBuf,
    /// In the order the file lists them: the order apply goes in.
    pub environments: Vec<Environment>,
}

/// One environment of the project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    /// The paths as written in the file, relative to it.
    pub paths: Vec<String>,
    /// The paths to read: `paths` joined to the project file's directory.
    pub config_paths: Vec<PathBuf>,
    /// The variable that holds this environment's token.
    pub token_env: String,
    /// Checked as `--api-url` is, without a trailing slash.
    pub api_url: String,
    pub max_change_percent: Option<u32>,
    pub change_guard_min_agents: Option<usize>,
    /// The line of the environment's key in the project file, where it could be located.
    pub line: Option<usize>,
}

impl Project {
    /// The environments named (every one when `names` is empty), in project-file order. An
    /// unknown name is an error listing the known ones.
    pub fn select(&self, names: &[String]) -> Result<Vec<&Environment>, String> {
        let unknown: Vec<&String> = names
            .iter()
            .filter(|name| !self.environments.iter().any(|env| &env.name == *name))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "unknown environment{} {} (the project file {} lists: {})",
                if unknown.len() == 1 { "" } else { "s" },
                unknown
                    .iter()
                    .map(|name| format!("{name:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.file.display(),
                self.names().join(", ")
            ));
        }
        Ok(self
            .environments
            .iter()
            .filter(|env| names.is_empty() || names.contains(&env.name))
            .collect())
    }

    pub fn names(&self) -> Vec<&str> {
        self.environments.iter().map(|e| e.name.as_str()).collect()
    }
}

/// Where the project file is, if there is one: `explicit` (`--project`), else the
/// `TALKOPS_PROJECT` variable (when not empty), else `talkops.yaml` in the current
/// directory. A file named explicitly must exist; that is checked when it is loaded.
pub fn find(explicit: Option<&Path>) -> Option<PathBuf> {
    // An empty variable is an unset one (CI sets variables to "" when their source is unset).
    let from_var = std::env::var_os(PROJECT_VAR)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from);
    match explicit.map(Path::to_path_buf).or(from_var) {
        Some(path) => Some(path),
        None => {
            let default = PathBuf::from(DEFAULT_FILE);
            // Whatever it is (a file, a dangling link, a directory): present means project
            // mode, and a project file that cannot be read is an error, not a fallback to
            // TALKOVER_TOKEN.
            std::fs::symlink_metadata(&default)
                .is_ok()
                .then_some(default)
        }
    }
}

/// Reads and parses the project file.
pub fn load(path: &Path) -> Result<Project, Invalid> {
    // A directory would be walked for its YAML files; a project file is one file.
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(Invalid(vec![Diagnostic::file(
            Code::Unreadable,
            path.display().to_string(),
            "is a directory: the project file is one YAML file (talkops.yaml)",
        )]));
    }
    let (files, mut problems) = desired::read_sources(&[path.to_path_buf()]);
    let Some(file) = files.into_iter().next() else {
        if problems.is_empty() {
            problems.push(Diagnostic::file(
                Code::Unreadable,
                path.display().to_string(),
                "cannot read the project file",
            ));
        }
        return Err(Invalid(problems));
    };
    let base = path.parent().unwrap_or(Path::new(""));
    parse(&file.name, &file.text, base, path)
}

/// Parses the project file `file` (shown as `name`), whose relative paths are relative to
/// `base`. Every problem is collected.
pub fn parse(name: &str, text: &str, base: &Path, file: &Path) -> Result<Project, Invalid> {
    let mut problems = Vec::new();
    let value = match desired::read_document(name, text) {
        Ok(value) => value,
        Err(problem) => return Err(Invalid(vec![problem])),
    };
    let top = match value {
        Value::Mapping(top) => top,
        Value::Null => {
            return Err(Invalid(vec![Diagnostic::file(
                Code::EmptyFile,
                name,
                "the project file is empty: it is a mapping with an `environments:` mapping",
            )]))
        }
        other => {
            return Err(Invalid(vec![Diagnostic::file(
                Code::WrongType,
                name,
                format!(
                    "expected a mapping with `environments:` at the top, found {}",
                    desired::kind(&other)
                ),
            )]))
        }
    };
    let mut environments = None;
    for (key, value) in top {
        match key.as_str() {
            Some("environments") => environments = Some(value),
            _ => problems.push(Diagnostic::file(
                Code::UnknownKey,
                name,
                format!(
                    "unknown top-level key {}: a project file has only `environments:`{}",
                    desired::show_key(&key),
                    desired::did_you_mean(&key, &TOP_KEYS)
                ),
            )),
        }
    }
    let entries = match environments {
        Some(Value::Mapping(entries)) if !entries.is_empty() => entries,
        Some(Value::Mapping(_)) | Some(Value::Null) => {
            problems.push(Diagnostic::file(
                Code::EmptyValue,
                name,
                "`environments:` lists no environment",
            ));
            return Err(Invalid(problems));
        }
        Some(other) => {
            problems.push(Diagnostic::file(
                Code::WrongType,
                name,
                format!(
                    "`environments` must be a mapping of environment names to settings, found {}",
                    desired::kind(&other)
                ),
            ));
            return Err(Invalid(problems));
        }
        None => {
            problems.push(Diagnostic::file(
                Code::MissingKey,
                name,
                "missing `environments:`: the project file names each environment with its `paths` and `token_env`",
            ));
            return Err(Invalid(problems));
        }
    };
    let lines = environment_lines(text);
    let mut parsed = Vec::new();
    for (index, (key, settings)) in entries.iter().enumerate() {
        let env_name = match key {
            Value::String(text) => text.clone(),
            other => {
                problems.push(Diagnostic::file(
                    Code::WrongType,
                    name,
                    format!(
                        "environment #{}: its name must be a string, found {}",
                        index + 1,
                        desired::kind(other)
                    ),
                ));
                continue;
            }
        };
        let line = lines.get(env_name.as_str()).copied();
        if let Some(env) = parse_environment(name, line, &env_name, settings, base, &mut problems) {
            parsed.push(env);
        }
    }
    // One Talkover environment managed twice would have two plans fight over it.
    let mut seen: BTreeMap<(String, &str), &str> = BTreeMap::new();
    for env in &parsed {
        if let Some(first) = seen.insert((same_api_key(&env.api_url), &env.token_env), &env.name) {
            problems.push(environment_problem(
                Code::SameEnvironment,
                name,
                env.line,
                &env.name,
                format!(
                    "has the same api_url and token_env as environment {first:?}: they are one Talkover environment; list it once"
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(Project {
            file: file.to_path_buf(),
            environments: parsed,
        })
    } else {
        Err(Invalid(problems))
    }
}

/// The variable that allows other API hosts, as `--allow-api-host` does (comma-separated).
pub const ALLOW_HOSTS_VAR: &str = "TALKOPS_ALLOW_API_HOSTS";

/// Whether this environment's token may be sent to its `api_url`. The project file is data
/// that a pull request can change, and it decides where each token goes: so its URL must be
/// Talkover's own host or loopback, or a host allowed where the project file cannot reach
/// (`--allow-api-host` on the command line, or `TALKOPS_ALLOW_API_HOSTS`, set in the CI
/// recipe or the shell).
pub fn check_host(env: &Environment, allowed: &[String]) -> Result<(), String> {
    let Ok(url) = reqwest::Url::parse(&env.api_url) else {
        return Err(format!(
            "environment {:?}: api_url is not a valid URL",
            env.name
        ));
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let talkover = reqwest::Url::parse(DEFAULT_API_URL)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let loopback = crate::api::is_loopback(&url);
    let shown = host.trim_start_matches('[').trim_end_matches(']');
    if host == talkover
        || loopback
        || allowed.iter().any(|a| {
            a.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .eq_ignore_ascii_case(shown)
        })
    {
        return Ok(());
    }
    Err(format!(
        "environment {:?}: api_url's host {shown:?} is not {talkover}, and the project file alone cannot send {} there (anyone who can edit the file could redirect the token): allow the host where the file cannot reach, with --allow-api-host {shown} or {ALLOW_HOSTS_VAR}={shown}",
        env.name, env.token_env
    ))
}

/// The hosts allowed by `--allow-api-host` and `TALKOPS_ALLOW_API_HOSTS`.
pub fn allowed_hosts(flags: &[String]) -> Vec<String> {
    let mut hosts = flags.to_vec();
    if let Ok(value) = std::env::var(ALLOW_HOSTS_VAR) {
        hosts.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_owned),
        );
    }
    hosts
}

/// The API URL as compared between environments: parsed (so the host's case, a default
/// port and a trailing slash do not make two spellings of one API look like two).
pub fn same_api_key(api_url: &str) -> String {
    match reqwest::Url::parse(api_url) {
        Ok(url) => url.as_str().trim_end_matches('/').to_owned(),
        Err(_) => api_url.trim_end_matches('/').to_owned(),
    }
}

fn environment_problem(
    code: Code,
    file: &str,
    line: Option<usize>,
    env: &str,
    message: String,
) -> Diagnostic {
    Diagnostic {
        entry: Some(format!(
            "environment {:?}",
            if env.len() > MAX_NAME {
                format!("{}...", env.chars().take(MAX_NAME).collect::<String>())
            } else {
                env.to_owned()
            }
        )),
        ..Diagnostic::at(code, file, line, None, message)
    }
}

/// Checks one environment's settings; `None` (with the problems pushed) when any is wrong.
fn parse_environment(
    file: &str,
    line: Option<usize>,
    name: &str,
    settings: &Value,
    base: &Path,
    problems: &mut Vec<Diagnostic>,
) -> Option<Environment> {
    let before = problems.len();
    let mut problem = |code: Code, message: String| {
        problems.push(environment_problem(code, file, line, name, message));
    };
    if !valid_name(name) {
        problem(
            Code::InvalidValue,
            format!("an environment name has letters, digits, `-` and `_`, starts with a letter or digit, and is at most {MAX_NAME} characters long"),
        );
    }
    let Value::Mapping(map) = settings else {
        problem(
            Code::WrongType,
            format!(
                "must be a mapping with `paths:` and `token_env:`, found {}",
                desired::kind(settings)
            ),
        );
        return None;
    };
    let mut paths = None;
    let mut token_env = None;
    let mut api_url = None;
    let mut percent = None;
    let mut min_agents = None;
    for (key, value) in map {
        match key.as_str() {
            Some("paths") => paths = Some(value),
            Some("token_env") => token_env = Some(value),
            Some("api_url") => api_url = Some(value),
            Some("max_change_percent") => percent = Some(value),
            Some("change_guard_min_agents") => min_agents = Some(value),
            _ => problem(
                Code::UnknownKey,
                format!(
                    "unknown key {} (an environment has {}){}",
                    desired::show_key(key),
                    ENVIRONMENT_KEYS.join(", "),
                    desired::did_you_mean(key, &ENVIRONMENT_KEYS)
                ),
            ),
        }
    }
    let paths = match paths {
        None => {
            problem(
                Code::MissingKey,
                "missing `paths:`: the config files or directories of this environment".to_owned(),
            );
            None
        }
        Some(Value::Sequence(items)) if items.is_empty() => {
            problem(Code::EmptyValue, "`paths` is empty".to_owned());
            None
        }
        Some(Value::Sequence(items)) => {
            let mut paths = Vec::new();
            for item in items {
                match item {
                    Value::String(path) if !path.trim().is_empty() => paths.push(path.clone()),
                    Value::String(_) => {
                        problem(Code::EmptyValue, "a `paths` item is empty".to_owned())
                    }
                    other => problem(
                        Code::WrongType,
                        format!(
                            "a `paths` item must be a string, found {}",
                            desired::kind(other)
                        ),
                    ),
                }
            }
            Some(paths)
        }
        Some(other) => {
            problem(
                Code::WrongType,
                format!(
                    "`paths` must be a list of files or directories, found {}",
                    desired::kind(other)
                ),
            );
            None
        }
    };
    let token_env = match token_env {
        None => {
            problem(
                Code::MissingKey,
                "missing `token_env:`: the environment variable that holds this environment's API token".to_owned(),
            );
            None
        }
        Some(Value::String(var)) if valid_variable(var) => Some(var.clone()),
        Some(Value::String(_)) => {
            problem(
                Code::InvalidValue,
                    "`token_env` must name an environment variable (letters, digits and `_`, not starting with a digit); the value is not shown, as it may be the token itself: give the variable's name here and the token in that variable".to_owned(),
            );
            None
        }
        Some(other) => {
            problem(
                Code::WrongType,
                format!(
                    "`token_env` must be a string, found {}",
                    desired::kind(other)
                ),
            );
            None
        }
    };
    let api_url = match api_url {
        None => Some(DEFAULT_API_URL.to_owned()),
        Some(Value::String(url)) => match settings::check_api_url(url) {
            Ok(url) => Some(url),
            Err(err) => {
                problem(Code::InvalidValue, url_problem(&err));
                None
            }
        },
        Some(other) => {
            problem(
                Code::WrongType,
                format!("`api_url` must be a string, found {}", desired::kind(other)),
            );
            None
        }
    };
    let max_change_percent = match percent {
        None => None,
        Some(value) => match value.as_u64() {
            Some(n) if n <= 100 => u32::try_from(n).ok(),
            _ => {
                problem(
                    Code::InvalidValue,
                    format!(
                        "`max_change_percent` must be a whole number from 0 to 100, found {}",
                        shown_value(value)
                    ),
                );
                None
            }
        },
    };
    let change_guard_min_agents = match min_agents {
        None => None,
        Some(value) => match value.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) => Some(n),
            None => {
                problem(
                    Code::InvalidValue,
                    format!(
                        "`change_guard_min_agents` must be a whole number, 0 or more, found {}",
                        shown_value(value)
                    ),
                );
                None
            }
        },
    };
    if problems.len() > before {
        return None;
    }
    let paths = paths?;
    Some(Environment {
        name: name.to_owned(),
        config_paths: paths.iter().map(|path| base.join(path)).collect(),
        paths,
        token_env: token_env?,
        api_url: api_url?,
        max_change_percent,
        change_guard_min_agents,
        line,
    })
}

/// The message for an `api_url` the rules of `--api-url` refuse; like those, it never echoes
/// a part of the URL that may hold a secret.
fn url_problem(err: &SettingsError) -> String {
    let why = match err {
        SettingsError::InvalidUrl(reason) => format!("is not a valid URL ({reason})"),
        SettingsError::Credentials => "must not contain a user name or password".to_owned(),
        SettingsError::Query => "must not contain a query string (`?...`)".to_owned(),
        SettingsError::Fragment => "must not contain a fragment (`#...`)".to_owned(),
        SettingsError::PlainHttp(host) => format!(
            "uses plain http to host {host:?}: use https (plain http is allowed only for localhost)"
        ),
        SettingsError::Scheme(scheme) => format!("has scheme {scheme:?}: use https"),
        other => other.to_string(),
    };
    format!("`api_url` {why}; it is not shown here, as it may hold a secret")
}

fn shown_value(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.len() <= 40 => format!("{:?}", crate::printable::visible(s)),
        other => desired::kind(other).to_owned(),
    }
}

/// The longest environment name: names head sections and comment lines.
const MAX_NAME: usize = 64;

fn valid_name(name: &str) -> bool {
    if name.len() > MAX_NAME {
        return false;
    }
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn valid_variable(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The 1-based line of each environment's key under `environments:`, found in one pass over
/// the text (the YAML value carries no positions): the keys indented like the first line
/// after `environments:`. An environment whose line cannot be told is left out.
fn environment_lines(text: &str) -> BTreeMap<&str, usize> {
    let mut found = BTreeMap::new();
    let mut lines = text.lines().enumerate();
    if lines
        .find(|(_, line)| line.trim_end().starts_with("environments:"))
        .is_none()
    {
        return found;
    }
    let mut indent = None;
    for (number, line) in lines {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let here = line.len() - trimmed.len();
        if here == 0 {
            break;
        }
        match indent {
            None => indent = Some(here),
            Some(level) if here != level => continue,
            Some(_) => {}
        }
        if let Some((key, _)) = trimmed.split_once(':') {
            let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
            found.entry(key).or_insert(number + 1);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Project, Vec<String>> {
        parse(
            "talkops.yaml",
            text,
            Path::new("repo"),
            Path::new("repo/talkops.yaml"),
        )
        .map_err(|Invalid(problems)| problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_valid_project_keeps_file_order_and_resolves_paths() {
        let project = parsed(
            "environments:\n  staging:\n    paths: [agents/staging]\n    token_env: TOKEN_STAGING\n  production:\n    paths: [agents/production, agents/shared]\n    token_env: TOKEN_PRODUCTION\n    api_url: https://api.example.com/\n    max_change_percent: 10\n    change_guard_min_agents: 3\n",
        )
        .unwrap();
        assert_eq!(project.names(), ["staging", "production"]);
        let staging = &project.environments[0];
        assert_eq!(staging.api_url, DEFAULT_API_URL);
        assert_eq!(staging.config_paths, [PathBuf::from("repo/agents/staging")]);
        assert_eq!(staging.line, Some(2));
        assert_eq!(staging.max_change_percent, None);
        let production = &project.environments[1];
        assert_eq!(production.api_url, "https://api.example.com");
        assert_eq!(production.paths, ["agents/production", "agents/shared"]);
        assert_eq!(production.max_change_percent, Some(10));
        assert_eq!(production.change_guard_min_agents, Some(3));
        assert_eq!(production.line, Some(5));
    }

    #[test]
    fn every_problem_is_reported_with_file_line_and_environment() {
        let problems = parsed(
            "environments:\n  staging:\n    path: [agents/staging]\n    token_env: TOKEN\n  prod uction:\n    paths: agents\n    token_env: \"talq-live-secret\"\n    max_change_percent: 150\n  dev:\n    paths: [a]\n    token_env: T\n    api_url: http://example.com/?token=abc\nextra: 1\n",
        )
        .unwrap_err();
        let all = problems.join("\n");
        for expected in [
            "talkops.yaml: unknown top-level key `extra`: a project file has only `environments:` [unknown-key]",
            "talkops.yaml:2: environment \"staging\": unknown key `path` (an environment has paths, token_env, api_url, max_change_percent, change_guard_min_agents); did you mean `paths`? [unknown-key]",
            "talkops.yaml:2: environment \"staging\": missing `paths:`",
            "talkops.yaml:5: environment \"prod uction\": an environment name has letters",
            "talkops.yaml:5: environment \"prod uction\": `paths` must be a list of files or directories, found a string [wrong-type]",
            "talkops.yaml:5: environment \"prod uction\": `max_change_percent` must be a whole number from 0 to 100, found 150 [invalid-value]",
            "talkops.yaml:9: environment \"dev\": `api_url` must not contain a query string",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
        // token_env holding something that is not a variable name is refused; the URL's
        // query is never echoed.
        assert!(all.contains("`token_env` must name an environment variable"));
        assert!(!all.contains("token=abc"), "{all}");
        assert!(!all.contains("talq-live-secret"), "{all}");
    }

    #[test]
    fn two_spellings_of_one_url_are_one_api() {
        assert_eq!(
            same_api_key("https://APP.talkover.ai:443/"),
            same_api_key("https://app.talkover.ai")
        );
        assert_ne!(
            same_api_key("https://app.talkover.ai/eu"),
            same_api_key("https://app.talkover.ai")
        );
        let problems = parsed(
            "environments:\n  a:\n    paths: [x]\n    token_env: T\n  b:\n    paths: [y]\n    token_env: T\n    api_url: https://App.Talkover.ai:443/\n",
        )
        .unwrap_err();
        assert!(
            problems[0].contains("same api_url and token_env"),
            "{problems:?}"
        );
    }

    #[test]
    fn lines_are_the_environments_own_not_a_setting_with_their_name() {
        // An environment named like a setting of the one before it.
        let problems = parsed(
            "environments:\n  a:\n    paths: [x]\n    token_env: A\n  token_env:\n    paths: [y]\n    token_env: B\n    bogus: 1\n",
        )
        .unwrap_err();
        assert!(
            problems[0]
                .starts_with("talkops.yaml:5: environment \"token_env\": unknown key `bogus`"),
            "{problems:?}"
        );
        let lines = environment_lines("# c\nenvironments:\n\n  # note\n  'a':\n    paths: []\n  \"b\": {}\nother: 1\n  c: 1\n");
        assert_eq!(lines.get("a"), Some(&5));
        assert_eq!(lines.get("b"), Some(&7));
        assert_eq!(lines.get("c"), None);
    }

    #[test]
    fn a_long_environment_name_is_refused_and_clipped() {
        let name = "n".repeat(1000);
        let problems = parsed(&format!(
            "environments:\n  {name}:\n    paths: [x]\n    token_env: A\n"
        ))
        .unwrap_err();
        assert!(
            problems[0].contains("at most 64 characters"),
            "{problems:?}"
        );
        assert!(problems[0].len() < 400, "{problems:?}");
    }

    #[test]
    fn a_token_goes_only_to_talkover_loopback_or_an_allowed_host() {
        let project = parsed(
            "environments:\n  a:\n    paths: [x]\n    token_env: A\n  b:\n    paths: [x]\n    token_env: B\n    api_url: http://127.0.0.1:9\n  c:\n    paths: [x]\n    token_env: C\n    api_url: https://Evil.example/api\n  d:\n    paths: [x]\n    token_env: D\n    api_url: https://APP.talkover.ai/\n",
        )
        .unwrap();
        let envs = &project.environments;
        assert_eq!(check_host(&envs[0], &[]), Ok(()));
        assert_eq!(check_host(&envs[1], &[]), Ok(()));
        assert_eq!(check_host(&envs[3], &[]), Ok(()));
        let refused = check_host(&envs[2], &[]).unwrap_err();
        assert!(
            refused.contains("api_url's host \"evil.example\" is not app.talkover.ai")
                && refused.contains("--allow-api-host evil.example"),
            "{refused}"
        );
        assert_eq!(check_host(&envs[2], &["EVIL.example".to_owned()]), Ok(()));
        assert!(check_host(&envs[2], &["other.example".to_owned()]).is_err());
    }

    #[test]
    fn one_talkover_environment_listed_twice_is_refused() {
        let problems = parsed(
            "environments:\n  a:\n    paths: [x]\n    token_env: T\n  b:\n    paths: [y]\n    token_env: T\n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("talkops.yaml:5: environment \"b\": has the same api_url and token_env as environment \"a\""),
            "{problems:?}"
        );
    }

    #[test]
    fn empty_and_wrong_shapes_are_named() {
        for (text, expected) in [
            ("", "the project file is empty"),
            ("[]\n", "expected a mapping with `environments:`"),
            ("environments:\n", "`environments:` lists no environment"),
            ("environments: [a]\n", "`environments` must be a mapping"),
            ("other: 1\n", "missing `environments:`"),
            (
                "environments:\n  a: 1\n",
                "must be a mapping with `paths:` and `token_env:`",
            ),
            (
                "environments:\n  a:\n    paths: []\n    token_env: T\n",
                "`paths` is empty",
            ),
            (
                "environments:\n  a:\n    paths: [x]\n    token_env: 1X\n",
                "`token_env` must name an environment variable",
            ),
        ] {
            let problems = parsed(text).unwrap_err().join("\n");
            assert!(problems.contains(expected), "{text:?}: {problems}");
        }
    }

    #[test]
    fn select_names_the_known_environments() {
        let project = parsed(
            "environments:\n  a:\n    paths: [x]\n    token_env: A\n  b:\n    paths: [y]\n    token_env: B\n",
        )
        .unwrap();
        let names = |selected: Vec<&Environment>| {
            selected.iter().map(|e| e.name.clone()).collect::<Vec<_>>()
        };
        assert_eq!(names(project.select(&[]).unwrap()), ["a", "b"]);
        // Project-file order, whatever the order of --env.
        assert_eq!(
            names(project.select(&["b".into(), "a".into()]).unwrap()),
            ["a", "b"]
        );
        assert_eq!(
            project.select(&["c".into()]).unwrap_err(),
            "unknown environment \"c\" (the project file repo/talkops.yaml lists: a, b)"
        );
    }
}
