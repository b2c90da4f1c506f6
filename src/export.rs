//! `talkops export`: the environment's current calling settings written as a talkops config,
//! the way a team adopts talkops. Pure: live state in, YAML text out.
//!
//! Agents are sorted by name, named by `name:` where the name is unique and by `id:` where it
//! is not; numbers are written as E.164 (by id where the API gives no number, or two ids
//! share one). `plan` of a fresh export shows no change.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use crate::model::{Direction, LiveAgent, LiveState, PhoneId, Routing, E164};

/// The config text for `live`, with a header saying where and when it was exported.
pub fn export(live: &LiveState, api_url: &str, now: &str) -> String {
    let counts = Counts::new(live);
    let mut agents: Vec<&LiveAgent> = live.agents.values().collect();
    agents.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# talkops config exported from {api_url} at {now} by talkops {}.",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        out,
        "# Every agent of the environment: by name, or by id where a name is not unique."
    );
    out.push_str("agents:\n");
    let mut skipped = BTreeMap::new();
    for agent in agents {
        let Some(direction) = agent.direction else {
            skipped.insert(agent.id.to_string(), agent.name.clone());
            continue;
        };
        write_agent(&mut out, live, &counts, agent, direction);
    }
    for (id, name) in skipped {
        let _ = writeln!(
            out,
            "# left out: agent {} (id {id}) has no direction the API reported",
            quote(&name)
        );
    }
    out
}

/// How often each name and number occurs, and how many inbound agents answer each number.
struct Counts<'a> {
    names: HashMap<&'a str, usize>,
    numbers: HashMap<&'a str, usize>,
    /// Who answers each number: one that several agents answer (or may) cannot be written
    /// as config (the routing is ambiguous), so those agents' numbers are left unmanaged,
    /// with a comment.
    routing: Routing<'a>,
}

impl<'a> Counts<'a> {
    fn new(live: &'a LiveState) -> Counts<'a> {
        let mut names: HashMap<&str, usize> = HashMap::new();
        for agent in live.agents.values() {
            *names.entry(agent.name.as_str()).or_default() += 1;
        }
        let mut numbers: HashMap<&str, usize> = HashMap::new();
        for number in live.phone_numbers.values().flatten() {
            *numbers.entry(number.as_str()).or_default() += 1;
        }
        Counts {
            names,
            numbers,
            routing: live.routing(),
        }
    }

    /// A number as the config writes it: E.164 when the API gives a valid one that no other
    /// id shares, else the phone id.
    fn number_of(&self, live: &LiveState, id: &PhoneId) -> String {
        match live.phone_numbers.get(id).cloned().flatten() {
            Some(number)
                if E164::parse(&number).is_some()
                    && self.numbers.get(number.as_str()) == Some(&1) =>
            {
                number
            }
            _ => id.to_string(),
        }
    }
}

/// One agent's entry: its name (or id), direction, and numbers or why they are left out.
fn write_agent(
    out: &mut String,
    live: &LiveState,
    counts: &Counts,
    agent: &LiveAgent,
    direction: Direction,
) {
    let unique = !agent.name.trim().is_empty() && counts.names.get(agent.name.as_str()) == Some(&1);
    if unique {
        let _ = writeln!(out, "  - name: {}", quote(&agent.name));
    } else {
        let _ = writeln!(
            out,
            "  - id: {}  # {} (name shared with another agent)",
            quote(agent.id.as_str()),
            quote(&agent.name)
        );
    }
    let _ = writeln!(out, "    direction: {}", direction_word(direction));
    if live.unknown_numbers.contains(&agent.id) {
        // Unknown is not none: `phone_numbers: []` would remove them on the next apply.
        let _ = writeln!(
            out,
            "    # phone_numbers left out (not managed): the API did not give this agent's numbers"
        );
        return;
    }
    let shared: Vec<String> = agent
        .phone_ids
        .iter()
        .filter(|p| direction == Direction::Inbound && counts.routing.answerers(p).len() > 1)
        .map(|p| counts.number_of(live, p))
        .collect();
    let unknown: Vec<String> = agent
        .phone_ids
        .iter()
        .filter(|p| !live.phone_numbers.contains_key(*p))
        .map(|p| p.to_string())
        .collect();
    if !shared.is_empty() || !unknown.is_empty() {
        let why = if shared.is_empty() {
            format!(
                "{} not in the environment's phone numbers",
                unknown.join(", ")
            )
        } else {
            format!(
                "{} also answered by another inbound agent (or one whose direction is unknown)",
                shared.join(", ")
            )
        };
        let _ = writeln!(out, "    # phone_numbers left out (not managed): {why}");
        return;
    }
    let mut list: Vec<String> = agent
        .phone_ids
        .iter()
        .map(|p| counts.number_of(live, p))
        .collect();
    list.sort();
    if list.is_empty() {
        out.push_str("    phone_numbers: []\n");
    } else {
        out.push_str("    phone_numbers:\n");
        for number in list {
            let _ = writeln!(out, "      - {}", quote(&number));
        }
    }
}

fn direction_word(direction: Direction) -> &'static str {
    direction.as_str()
}

/// A double-quoted YAML scalar. JSON string syntax is valid YAML, but YAML also forbids raw
/// DEL, C1 controls and a few other non-printable characters that JSON allows, so every
/// character outside YAML's printable set is escaped as `\uXXXX`.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' | ' '..='~' => out.push(c),
            c if c as u32 >= 0xA0
                && !matches!(c as u32, 0xD800..=0xDFFF | 0xFEFF | 0xFFFE | 0xFFFF) =>
            {
                out.push(c)
            }
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{parse_sources, SourceFile};
    use crate::model::AgentId;

    #[test]
    fn an_export_is_a_valid_config_naming_shared_names_by_id() {
        let mut live = LiveState::default();
        for (id, name, direction, phones) in [
            (
                "a2",
                "Sales: \"east\"",
                Some(Direction::Outbound),
                vec!["p1"],
            ),
            ("a1", "Twin", Some(Direction::Inbound), vec!["p1", "p2"]),
            ("a3", "Twin", Some(Direction::Outbound), vec![]),
            ("a4", "Odd", None, vec![]),
        ] {
            live.agents.insert(
                AgentId::new(id),
                LiveAgent {
                    id: AgentId::new(id),
                    name: name.into(),
                    direction,
                    direction_text: None,
                    status: None,
                    phone_ids: phones.into_iter().map(PhoneId::new).collect(),
                },
            );
        }
        live.phone_numbers
            .insert(PhoneId::new("p1"), Some("+14155550100".into()));
        live.phone_numbers.insert(PhoneId::new("p2"), None);
        let text = export(&live, "https://x", "2026-01-01T00:00:00Z");
        let config = parse_sources(&[SourceFile {
            name: "export.yaml".into(),
            text: text.clone(),
        }])
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.agents.len(), 3, "{text}");
        assert!(text.contains("  - name: \"Sales: \\\"east\\\"\""), "{text}");
        assert!(text.contains("  - id: \"a1\"  # \"Twin\""), "{text}");
        assert!(
            text.contains("      - \"+14155550100\"\n      - \"p2\""),
            "{text}"
        );
        assert!(text.contains("# left out: agent \"Odd\" (id a4)"), "{text}");
    }

    #[test]
    fn an_agent_whose_numbers_are_unknown_is_exported_without_them() {
        let mut live = LiveState::default();
        live.agents.insert(
            AgentId::new("a1"),
            LiveAgent {
                id: AgentId::new("a1"),
                name: "Dialer".into(),
                direction: Some(Direction::Outbound),
                direction_text: None,
                status: None,
                phone_ids: Default::default(),
            },
        );
        live.unknown_numbers.insert(AgentId::new("a1"));
        let text = export(&live, "https://x", "2026-01-01T00:00:00Z");
        assert!(
            text.contains("  - name: \"Dialer\"\n    direction: outbound\n    # phone_numbers left out (not managed): the API did not give"),
            "{text}"
        );
        assert!(!text.contains("phone_numbers: []"), "{text}");
    }

    #[test]
    fn quoting_escapes_what_yaml_cannot_hold_raw() {
        for name in [
            "plain",
            "a \"quote\" and \\",
            "tab\there",
            "del\u{7f}",
            "nel\u{85}",
            "é ☎",
        ] {
            let text = format!(
                "agents:\n  - name: {}\n    direction: inbound\n",
                quote(name)
            );
            let config = parse_sources(&[SourceFile {
                name: "q.yaml".into(),
                text: text.clone(),
            }])
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(
                config.agents[0].agent,
                crate::desired::AgentRef::Name(name.into()),
                "{text}"
            );
        }
    }
}
