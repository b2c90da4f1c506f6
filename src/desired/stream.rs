//! The streaming path of parsing a config file: the `agents:` entries are read from the YAML
//! events one at a time, each checked as it is complete and then dropped, so that a 50,000-
//! agent file never exists as one value tree nor as one buffer of events.
//!
//! It takes only the plain shape of a config: one document, a top-level mapping whose only
//! key is `agents:`, a list of mappings, no anchors, aliases, tags or merge keys, no repeated
//! key, and every entry found on its line by [`super::parse::item_lines`]. Each entry is
//! rebuilt as the small value the full load would have given and checked by the same
//! [`super::parse::parse_entry`], so its problems read the same. Anything else, and any syntax
//! error, returns `None`: the caller then loads the file whole, as before, which reports it in
//! its own words. So this path changes how much is held at once, never what is said.

use serde_yaml::{Mapping, Value};

use super::events::{Event, Events};
use super::parse::{item_lines, parse_entry};
use super::{DesiredAgent, Diagnostic, Source};

/// The deepest nesting rebuilt inside one entry; a config entry needs two (the entry and its
/// `phone_numbers` list). Deeper is left to the full load, which has its own limit.
const MAX_ENTRY_DEPTH: usize = 16;

/// Parses `text` as [`super::parse::parse_file`] would, appending to `agents` and
/// `diagnostics`; `false` (with both left as they were) when the file is not of the plain
/// shape this path takes.
pub(super) fn parse_streaming(
    file: &str,
    text: &str,
    agents: &mut Vec<DesiredAgent>,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    let before = (agents.len(), diagnostics.len());
    let read = read_entries(file, text, agents, diagnostics);
    if read.is_none() {
        agents.truncate(before.0);
        diagnostics.truncate(before.1);
    }
    read.is_some()
}

fn read_entries(
    file: &str,
    text: &str,
    agents: &mut Vec<DesiredAgent>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<()> {
    // Where each entry starts, counted before parsing; the full load keeps the lines only
    // when the count matches the entries, and so does this path (checked at the end).
    let lines = item_lines(text)?;
    let mut events = Events::new(text);
    expect(&mut events, &Event::StreamStart)?;
    expect(&mut events, &Event::DocumentStart)?;
    expect(&mut events, &Event::MappingStart)?;
    match events.next()? {
        Event::Scalar { value, plain } if value == "agents" && is_string(&value, plain) => {}
        _ => return None,
    }
    expect(&mut events, &Event::SequenceStart)?;
    let mut index = 0;
    loop {
        match events.next()? {
            Event::SequenceEnd => break,
            Event::MappingStart => {}
            _ => return None,
        }
        let entry = Value::Mapping(mapping(&mut events, 1)?);
        let source = Source {
            file: file.to_owned(),
            line: Some(*lines.get(index)?),
        };
        if let Some(agent) = parse_entry(&entry, index, &source, diagnostics) {
            agents.push(agent);
        }
        index += 1;
    }
    expect(&mut events, &Event::MappingEnd)?;
    expect(&mut events, &Event::DocumentEnd)?;
    expect(&mut events, &Event::StreamEnd)?;
    (index == lines.len()).then_some(())
}

fn expect(events: &mut Events<'_>, expected: &Event) -> Option<()> {
    (events.next()? == *expected).then_some(())
}

/// The rest of a mapping whose start was read; `None` for a repeated key, a merge key or a
/// key that is not a string.
fn mapping(events: &mut Events<'_>, depth: usize) -> Option<Mapping> {
    let mut map = Mapping::new();
    loop {
        let key = match events.next()? {
            Event::MappingEnd => return Some(map),
            Event::Scalar { value, plain } if value != "<<" && is_string(&value, plain) => value,
            _ => return None,
        };
        let value = node(events, depth)?;
        if map.insert(Value::String(key), value).is_some() {
            return None;
        }
    }
}

/// The next node as a value.
fn node(events: &mut Events<'_>, depth: usize) -> Option<Value> {
    if depth > MAX_ENTRY_DEPTH {
        return None;
    }
    match events.next()? {
        Event::Scalar { value, plain } if is_string(&value, plain) => Some(Value::String(value)),
        Event::MappingStart => mapping(events, depth + 1).map(Value::Mapping),
        Event::SequenceStart => {
            let mut items = Vec::new();
            loop {
                match events.next()? {
                    Event::SequenceEnd => return Some(Value::Sequence(items)),
                    Event::Scalar { value, plain } if is_string(&value, plain) => {
                        items.push(Value::String(value));
                    }
                    Event::MappingStart => items.push(Value::Mapping(mapping(events, depth + 2)?)),
                    _ => return None,
                }
            }
        }
        _ => None,
    }
}

/// Whether a scalar is certainly a string to yaml_serde: quoted, or plain text that cannot
/// be read as null, a boolean or a number. The test is stricter than YAML's (any plain text
/// starting with a digit, a sign or a dot fails it); what fails it is left to the full load.
fn is_string(value: &str, plain: bool) -> bool {
    if !plain {
        return true;
    }
    let Some(first) = value.bytes().next() else {
        return false;
    };
    !(first.is_ascii_digit()
        || matches!(first, b'+' | b'-' | b'.')
        || matches!(
            value,
            "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (bool, Vec<String>, Vec<String>) {
        let shown = |agents: &[DesiredAgent], problems: &[Diagnostic]| {
            let mut all: Vec<String> = agents.iter().map(|a| format!("{a:?}")).collect();
            all.extend(problems.iter().map(ToString::to_string));
            all
        };
        let (mut agents, mut problems) = (Vec::new(), Vec::new());
        let streamed = parse_streaming("a.yaml", text, &mut agents, &mut problems);
        let fast = shown(&agents, &problems);
        let (mut agents, mut problems) = (Vec::new(), Vec::new());
        super::super::parse::parse_whole("a.yaml", text, &mut agents, &mut problems);
        (streamed, fast, shown(&agents, &problems))
    }

    #[test]
    fn the_streaming_path_says_what_the_full_load_says() {
        for text in [
            "agents:\n  - name: A\n    direction: inbound\n    phone_numbers: [\"+14155550100\", pn-1]\n  - id: x1\n    direction: outbound\n",
            "agents:\n  - name: A\n    direction: inbund\n    phone_number: []\n  - direction: inbound\n  - name: B\n    id: b\n    direction: outbound\n    phone_numbers: ['+1 415', \"+14155550100\", \"+14155550100\"]\n",
            "agents:\n- name: A\n  direction: [inbound]\n  phone_numbers: {a: b}\n- name: {x: y}\n  direction: outbound\n",
            "\u{feff}\"agents\":\t# all of them\n  - name: A # here\n\n    direction: inbound\n",
        ] {
            let (streamed, fast, whole) = both(text);
            assert!(streamed, "{text}");
            assert_eq!(fast, whole, "{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_full_load() {
        for text in [
            "",
            "agents:\n  - &a\n    name: A\n    direction: inbound\n  - <<: *a\n    name: B\n",
            "agents:\n  - name: A\n    direction: inbound\n    phone_numbers: [14155550100]\n",
            "agents:\n  - name: A\n    name: B\n    direction: inbound\n",
            "agents:\n  - name: A\n    direction: inbound\nother: 1\n",
            "agents: [{name: A, direction: inbound}]\n",
            "agents: []\n",
            "agents:\n  - name: A\n    direction: !!str inbound\n",
            "agents:\n  - name: [\n",
            "agents: []\n---\nagents: []\n",
            "agents:\n  - name:\n    direction: inbound\n",
            "agents:\n  - name: true\n    direction: inbound\n",
        ] {
            let (streamed, fast, _) = both(text);
            assert!(!streamed, "{text}");
            assert!(fast.is_empty(), "{text}");
        }
    }

    #[test]
    fn only_text_that_cannot_be_another_type_is_a_plain_string() {
        for text in ["inbound", "Agent 1", "pn-1", "nullable", "Infinity", "nan"] {
            assert!(is_string(text, true), "{text}");
        }
        for text in [
            "", "~", "null", "True", "12", "+1415", "-1", ".5", "0x1f", ".inf",
        ] {
            assert!(!is_string(text, true), "{text}");
            assert!(is_string(text, false), "{text}");
        }
    }
}
