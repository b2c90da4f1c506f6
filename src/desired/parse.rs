//! Parsing one config file's text into agent entries, reporting every problem in it.
//!
//! The YAML is read into a generic value first and each entry is checked by hand, rather than
//! deserialised straight into a struct: serde stops at the first error, and users deserve to
//! see every problem of a file in one run.

use std::collections::BTreeSet;

use serde_yaml::Value;

use super::{
    entry_label, nesting, stream, AgentRef, Code, DesiredAgent, Diagnostic, NumberRef, Source,
};
use crate::model::{AgentId, Direction, PhoneId, E164};

const ENTRY_KEYS: [&str; 4] = ["name", "id", "direction", "phone_numbers"];

/// Parses `text` (the file `file`) and appends its valid entries to `agents`, its problems to
/// `diagnostics`. An entry with any problem is left out of `agents`.
pub(super) fn parse_file(
    file: &str,
    text: &str,
    agents: &mut Vec<DesiredAgent>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    // The common shape streams (one entry held at a time); any other file, and any file with
    // too deep a nesting for the parser, is loaded whole.
    if nesting::check_flow_depth(text).is_ok()
        && stream::parse_streaming(file, text, agents, diagnostics)
    {
        return;
    }
    parse_whole(file, text, agents, diagnostics);
}

/// [`parse_file`] through the whole document's value: for every file the streaming path
/// does not take.
pub(super) fn parse_whole(
    file: &str,
    text: &str,
    agents: &mut Vec<DesiredAgent>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let value = match read_document(file, text) {
        Ok(value) => value,
        Err(problem) => {
            diagnostics.push(problem);
            return;
        }
    };
    let Some(entries) = agent_entries(file, value, diagnostics) else {
        return;
    };

    let lines = entry_lines(text, entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let source = Source {
            file: file.to_owned(),
            line: lines.as_ref().map(|lines| lines[index]),
        };
        if let Some(agent) = parse_entry(entry, index, &source, diagnostics) {
            agents.push(agent);
        }
    }
}

/// The file's YAML document, merge keys applied; the nesting is checked first, before the
/// parser, whose time grows with the square of the nesting depth.
pub(crate) fn read_document(file: &str, text: &str) -> Result<Value, Diagnostic> {
    if let Err(at) = nesting::check_flow_depth(text) {
        return Err(Diagnostic::at(
            Code::TooDeep,
            file,
            Some(at.line),
            Some(at.column),
            format!(
                "`[` and `{{` nest more than {} levels deep here: a talkops config needs two or three; the file was not parsed",
                nesting::MAX_FLOW_DEPTH
            ),
        ));
    }
    let mut value: Value = serde_yaml::from_str(text).map_err(|err| {
        let line = err.location().map(|at| at.line());
        let text = err.to_string();
        let hint = if text.contains("more than one document") {
            " (a talkops file holds one YAML document: split it into several files)"
        } else {
            ""
        };
        Diagnostic::at(
            Code::InvalidYaml,
            file,
            line,
            None,
            format!("invalid YAML: {text}{hint}"),
        )
    })?;
    // `<<: *defaults` merge keys are resolved first, so that they read as the keys they bring.
    value.apply_merge().map_err(|err| {
        Diagnostic::file(
            Code::InvalidYaml,
            file,
            format!("invalid YAML merge key: {err}"),
        )
    })?;
    Ok(value)
}

/// The `agents:` list of a file's top-level mapping; `None`, with the problems pushed, when
/// the file is not such a mapping (an unknown top-level key is a problem, but the list is
/// still checked).
fn agent_entries(
    file: &str,
    value: Value,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Vec<Value>> {
    let top = match value {
        Value::Mapping(top) => top,
        Value::Null => {
            diagnostics.push(Diagnostic::file(
                Code::EmptyFile,
                file,
                "the file is empty: a talkops config is a mapping with an `agents:` list",
            ));
            return None;
        }
        other => {
            diagnostics.push(Diagnostic::file(
                Code::WrongType,
                file,
                format!(
                    "expected a mapping with an `agents:` list at the top, found {}",
                    kind(&other)
                ),
            ));
            return None;
        }
    };
    let mut entries = None;
    for (key, value) in top {
        match key.as_str() {
            Some("agents") => entries = Some(value),
            _ => diagnostics.push(Diagnostic::file(
                Code::UnknownKey,
                file,
                format!(
                    "unknown top-level key {}: a talkops config has only `agents:`",
                    show_key(&key)
                ),
            )),
        }
    }
    match entries {
        Some(Value::Sequence(entries)) => Some(entries),
        Some(other) => {
            diagnostics.push(Diagnostic::file(
                Code::WrongType,
                file,
                format!("`agents` must be a list of agents, found {}", kind(&other)),
            ));
            None
        }
        None => {
            diagnostics.push(Diagnostic::file(
                Code::MissingKey,
                file,
                "missing `agents:`: every config file holds an `agents:` list",
            ));
            None
        }
    }
}

/// Checks one entry; returns it when it has no problem.
pub(super) fn parse_entry(
    entry: &Value,
    index: usize,
    source: &Source,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<DesiredAgent> {
    let Value::Mapping(map) = entry else {
        diagnostics.push(Diagnostic::entry(
            Code::WrongType,
            source,
            entry_label(None, index),
            format!(
                "must be a mapping with `name:` or `id:`, `direction:` and optionally `phone_numbers:`, found {}",
                kind(entry)
            ),
        ));
        return None;
    };

    let mut problems = Vec::new();
    let mut name = None;
    let mut id = None;
    let mut direction = None;
    let mut numbers = None;
    for (key, value) in map {
        match key.as_str() {
            Some("name") => name = Some(value),
            Some("id") => id = Some(value),
            Some("direction") => direction = Some(value),
            Some("phone_numbers") => numbers = Some(value),
            _ => problems.push((Code::UnknownKey, unknown_key(key))),
        }
    }

    let name = name.and_then(|v| text_field("name", v, &mut problems));
    let id = id.and_then(|v| text_field("id", v, &mut problems));
    let agent = match (name, id) {
        (Some(name), None) => Some(AgentRef::Name(name)),
        (None, Some(id)) => Some(AgentRef::Id(AgentId::new(id))),
        (Some(_), Some(_)) => {
            problems.push((
                Code::NameAndId,
                "has both `name:` and `id:`: give exactly one".to_owned(),
            ));
            None
        }
        (None, None) => {
            if !map.contains_key("name") && !map.contains_key("id") {
                problems.push((
                    Code::MissingKey,
                    "has neither `name:` nor `id:`: give exactly one".to_owned(),
                ));
            }
            None
        }
    };

    let direction = entry_direction(direction, &mut problems);

    let numbers = match numbers {
        None => None,
        Some(value) => parse_numbers(value, &mut problems),
    };

    let label = entry_label(agent.as_ref(), index);
    if !problems.is_empty() {
        for (code, problem) in problems {
            diagnostics.push(Diagnostic::entry(code, source, label.clone(), problem));
        }
        return None;
    }
    Some(DesiredAgent {
        source: source.clone(),
        agent: agent?,
        direction: direction?,
        phone_numbers: numbers,
    })
}

/// The entry's `direction:`, or a problem.
fn entry_direction(value: Option<&Value>, problems: &mut Vec<(Code, String)>) -> Option<Direction> {
    match value {
        None => {
            problems.push((
                Code::MissingKey,
                "missing `direction:` (inbound or outbound)".to_owned(),
            ));
            None
        }
        Some(Value::String(text)) => {
            let parsed = Direction::parse(text);
            if parsed.is_none() {
                problems.push((
                    Code::InvalidDirection,
                    format!("direction {text:?} is not one of: inbound, outbound"),
                ));
            }
            parsed
        }
        Some(other) => {
            problems.push((
                Code::InvalidDirection,
                format!(
                    "direction must be inbound or outbound, found {}",
                    kind(other)
                ),
            ));
            None
        }
    }
}

/// Parses `phone_numbers`; returns the list when the value is a list. Problems in its items
/// are pushed to `problems`, which makes the whole entry invalid.
fn parse_numbers(value: &Value, problems: &mut Vec<(Code, String)>) -> Option<Vec<NumberRef>> {
    let items = match value {
        Value::Sequence(items) => items,
        Value::Null => {
            // `phone_numbers:` with nothing after it: the user may mean "none" or "unmanaged".
            // Guessing either could take a line off the air, so ask.
            problems.push((
                Code::EmptyValue,
                "`phone_numbers:` has no value: write `phone_numbers: []` for no numbers, or remove the key to leave the agent's numbers as they are"
                    .to_owned(),
            ));
            return None;
        }
        other => {
            problems.push((
                Code::WrongType,
                format!(
                    "`phone_numbers` must be a list of E.164 numbers or phone-number ids, found {}",
                    kind(other)
                ),
            ));
            return None;
        }
    };
    let mut seen = BTreeSet::new();
    // Sized to the entry: held for every agent until the plan is made.
    let mut list = Vec::with_capacity(items.len());
    for item in items {
        let parsed = match item {
            Value::String(text) if text.starts_with('+') => match E164::parse(text) {
                Some(number) => Some(NumberRef::Number(number)),
                None => {
                    problems.push((
                        Code::InvalidNumber,
                        format!(
                            "phone number {text:?} is not E.164 (+ then 2 to 15 digits, no spaces or dashes)"
                        ),
                    ));
                    None
                }
            },
            Value::String(text) if text.trim().is_empty() => {
                problems.push((Code::EmptyValue, "a phone number entry is empty".to_owned()));
                None
            }
            Value::String(text) => Some(NumberRef::Id(PhoneId::new(text.as_str()))),
            Value::Number(number) => {
                problems.push((
                    Code::YamlNumber,
                    format!(
                        "phone number entry {number} is a YAML number, not a string: quote it, \"+{number}\" for an E.164 number (YAML drops the + of an unquoted +number) or \"{number}\" for a phone-number id"
                    ),
                ));
                None
            }
            other => {
                problems.push((
                    Code::WrongType,
                    format!(
                        "phone number entries must be strings, found {}",
                        kind(other)
                    ),
                ));
                None
            }
        };
        if let Some(parsed) = parsed {
            if !seen.insert(parsed.clone()) {
                problems.push((Code::DuplicateNumber, format!("{parsed} is listed twice")));
            } else {
                list.push(parsed);
            }
        }
    }
    Some(list)
}

/// A non-empty string field (`name`, `id`).
fn text_field(field: &str, value: &Value, problems: &mut Vec<(Code, String)>) -> Option<String> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::String(_) | Value::Null => {
            problems.push((Code::EmptyValue, format!("`{field}:` is empty")));
            None
        }
        Value::Number(_) => {
            problems.push((
                Code::YamlNumber,
                format!("`{field}:` is a YAML number: put it in quotes to make it a string"),
            ));
            None
        }
        other => {
            problems.push((
                Code::WrongType,
                format!("`{field}:` must be a string, found {}", kind(other)),
            ));
            None
        }
    }
}

fn unknown_key(key: &Value) -> String {
    format!(
        "unknown key {} (an entry has name or id, direction, phone_numbers){}",
        show_key(key),
        did_you_mean(key, &ENTRY_KEYS)
    )
}

/// `; did you mean `KEY`?` for the first of `known` within one typo per three characters of
/// `key` ("drection" finds direction, "to" does not find id); empty when none is.
pub(crate) fn did_you_mean(key: &Value, known: &[&str]) -> String {
    key.as_str()
        .and_then(|key| {
            let tolerance = (key.chars().count() / 3).max(1);
            known
                .iter()
                .find(|k| strsim::levenshtein(key, k) <= tolerance)
                .map(|k| format!("; did you mean `{k}`?"))
        })
        .unwrap_or_default()
}

pub(crate) fn show_key(key: &Value) -> String {
    match key {
        Value::String(text) => format!("`{text}`"),
        other => kind(other).to_owned(),
    }
}

pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// The 1-based line on which each entry of the top-level `agents:` block list starts.
///
/// The YAML value carries no positions, so this scans the text for the list's `-` items. It
/// returns `None` unless it finds exactly `count` items (flow style, anchors or anything
/// unusual), and messages then name the file and the entry without a line.
fn entry_lines(text: &str, count: usize) -> Option<Vec<usize>> {
    item_lines(text).filter(|starts| starts.len() == count)
}

/// The 1-based line of every item of the top-level `agents:` block list, however many there
/// are; `None` when the list is not found or not in block style.
pub(super) fn item_lines(text: &str) -> Option<Vec<usize>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    lines.find(|(_, line)| {
        let code = match line.find(" #").or_else(|| line.find("\t#")) {
            Some(at) => &line[..at],
            None => line,
        };
        matches!(code.trim_end(), "agents:" | "\"agents\":" | "'agents':")
    })?;
    let mut item_indent = None;
    let mut starts = Vec::new();
    for (number, line) in lines {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        match item_indent {
            None if is_item => item_indent = Some(indent),
            None => return None,
            Some(expected) if indent == expected && is_item => {}
            Some(expected) if indent > expected => continue,
            Some(_) => break,
        }
        starts.push(number + 1);
    }
    Some(starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<DesiredAgent>, Vec<String>) {
        let mut agents = Vec::new();
        let mut diagnostics = Vec::new();
        parse_file("a.yaml", text, &mut agents, &mut diagnostics);
        (
            agents,
            diagnostics.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn entry_lines_follow_block_items() {
        let text = "# c\nagents:\n  - name: a\n    direction: inbound\n\n  - id: b\n    direction: outbound\nother: 1\n";
        assert_eq!(entry_lines(text, 2), Some(vec![3, 6]));
        assert_eq!(entry_lines(text, 3), None);
        let flush = "agents:\n- name: a\n  direction: inbound\n- name: b\n";
        assert_eq!(entry_lines(flush, 2), Some(vec![2, 4]));
        assert_eq!(entry_lines("agents: [{name: a}]\n", 1), None);
    }

    #[test]
    fn a_valid_file_parses_every_form() {
        let (agents, problems) = parse(
            "agents:\n  - name: A\n    direction: inbound\n    phone_numbers: [\"+14155550100\", pn-1]\n  - id: x1\n    direction: outbound\n  - name: C\n    direction: inbound\n    phone_numbers: []\n",
        );
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(agents.len(), 3);
        assert_eq!(agents[0].source.line, Some(2));
        assert_eq!(
            agents[0].phone_numbers,
            Some(vec![
                NumberRef::Number(E164::parse("+14155550100").unwrap()),
                NumberRef::Id(PhoneId::new("pn-1"))
            ])
        );
        assert_eq!(agents[1].agent, AgentRef::Id(AgentId::new("x1")));
        assert_eq!(agents[1].phone_numbers, None);
        assert_eq!(agents[2].phone_numbers, Some(vec![]));
    }

    #[test]
    fn every_problem_of_a_file_is_reported() {
        let (agents, problems) = parse(
            "agents:\n  - name: A\n    direction: inbund\n    phone_number: []\n  - direction: inbound\n  - name: B\n    id: b\n    direction: outbound\n    phone_numbers: [\"+1 415\", 14155550100, \"+14155550100\", \"+14155550100\"]\n",
        );
        assert!(agents.is_empty());
        assert_eq!(
            problems,
            [
                "a.yaml:2: agent \"A\": unknown key `phone_number` (an entry has name or id, direction, phone_numbers); did you mean `phone_numbers`? [unknown-key]",
                "a.yaml:2: agent \"A\": direction \"inbund\" is not one of: inbound, outbound [invalid-direction]",
                "a.yaml:5: agent entry #2: has neither `name:` nor `id:`: give exactly one [missing-key]",
                "a.yaml:6: agent entry #3: has both `name:` and `id:`: give exactly one [name-and-id]",
                "a.yaml:6: agent entry #3: phone number \"+1 415\" is not E.164 (+ then 2 to 15 digits, no spaces or dashes) [invalid-number]",
                "a.yaml:6: agent entry #3: phone number entry 14155550100 is a YAML number, not a string: quote it, \"+14155550100\" for an E.164 number (YAML drops the + of an unquoted +number) or \"14155550100\" for a phone-number id [yaml-number]",
                "a.yaml:6: agent entry #3: number +14155550100 is listed twice [duplicate-number]",
            ]
        );
    }

    #[test]
    fn file_level_problems() {
        assert_eq!(
            parse("").1,
            ["a.yaml: the file is empty: a talkops config is a mapping with an `agents:` list [empty-file]"]
        );
        assert_eq!(
            parse("- 1\n").1,
            ["a.yaml: expected a mapping with an `agents:` list at the top, found a list [wrong-type]"]
        );
        assert_eq!(
            parse("agent: []\n").1,
            [
                "a.yaml: unknown top-level key `agent`: a talkops config has only `agents:` [unknown-key]",
                "a.yaml: missing `agents:`: every config file holds an `agents:` list [missing-key]",
            ]
        );
        let syntax = parse("agents:\n  - name: [\n").1;
        assert_eq!(syntax.len(), 1);
        assert!(syntax[0].starts_with("a.yaml:"), "{}", syntax[0]);
        assert!(syntax[0].contains("invalid YAML"), "{}", syntax[0]);
    }

    #[test]
    fn empty_phone_numbers_key_is_ambiguous() {
        let (_, problems) =
            parse("agents:\n  - name: A\n    direction: inbound\n    phone_numbers:\n");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("write `phone_numbers: []`"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn merge_keys_bom_and_quoted_keys_are_understood() {
        let (agents, problems) = parse(
            "\u{feff}\"agents\":\t# all of them\n  - &base\n    name: A\n    direction: inbound\n  - <<: *base\n    name: B\n",
        );
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(agents.len(), 2);
        assert_eq!(agents[1].agent, AgentRef::Name("B".into()));
        assert_eq!(agents[1].source.line, Some(5));
    }

    #[test]
    fn short_unknown_keys_get_no_far_fetched_suggestion() {
        let (_, problems) =
            parse("agents:\n  - name: A\n    direction: inbound\n    to: x\n    drection: y\n");
        assert!(!problems[0].contains("did you mean"), "{}", problems[0]);
        assert!(
            problems[1].contains("did you mean `direction`?"),
            "{}",
            problems[1]
        );
    }

    #[test]
    fn several_documents_in_one_file_get_a_hint() {
        let (_, problems) = parse("agents: []\n---\nagents: []\n");
        assert!(
            problems[0].contains("split it into several files"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn unknown_keys_suggest_the_entry_key_within_a_typo_per_three_characters() {
        let suggests = |key: &str| unknown_key(&Value::String(key.into()));
        for (key, known) in [
            ("phone_number", "phone_numbers"),
            ("drection", "direction"),
            ("nam", "name"),
            ("Id", "id"),
            ("phöne_numbers", "phone_numbers"),
        ] {
            assert!(
                suggests(key).ends_with(&format!("; did you mean `{known}`?")),
                "{key}: {}",
                suggests(key)
            );
        }
        for key in ["dir", "to", "numbers", "label"] {
            assert!(
                !suggests(key).contains("did you mean"),
                "{key}: {}",
                suggests(key)
            );
        }
    }
}
