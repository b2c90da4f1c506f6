//! Offline rules that span entries and files: an agent declared twice, and a number answered by
//! two inbound agents. Both compare what is written; `resolve` repeats them on resolved ids.

use std::collections::HashMap;

use super::{AgentRef, Code, DesiredAgent, Diagnostic, NumberRef};
use crate::model::Direction;

pub(super) fn check_across_entries(agents: &[DesiredAgent], diagnostics: &mut Vec<Diagnostic>) {
    // Looked up, never iterated: hashed.
    let mut first_by_ref: HashMap<&AgentRef, &DesiredAgent> = HashMap::with_capacity(agents.len());
    for agent in agents {
        match first_by_ref.get(&agent.agent) {
            Some(first) => diagnostics.push(Diagnostic::entry(
                Code::DuplicateAgent,
                &agent.source,
                agent.agent.to_string(),
                format!(
                    "is declared twice, here and at {}: declare each agent once",
                    first.source
                ),
            )),
            None => {
                first_by_ref.insert(&agent.agent, agent);
            }
        }
    }

    // One number on an inbound and an outbound agent is the callback set-up and is fine, as
    // is one number on several outbound agents; two inbound agents would make routing
    // ambiguous.
    let mut inbound_owner: HashMap<&NumberRef, &DesiredAgent> = HashMap::new();
    for agent in agents.iter().filter(|a| a.direction == Direction::Inbound) {
        for number in agent.phone_numbers.iter().flatten() {
            match inbound_owner.get(number) {
                Some(first) if first.agent != agent.agent => {
                    diagnostics.push(Diagnostic::entry(
                        Code::InboundConflict,
                        &agent.source,
                        agent.agent.to_string(),
                        format!(
                            "{number} is also answered by inbound {} ({}): an inbound number must have one inbound agent",
                            first.agent, first.source
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    inbound_owner.insert(number, agent);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_sources, SourceFile};

    fn problems(files: &[(&str, &str)]) -> Vec<String> {
        let files: Vec<SourceFile> = files
            .iter()
            .map(|(name, text)| SourceFile {
                name: (*name).to_owned(),
                text: (*text).to_owned(),
            })
            .collect();
        match parse_sources(&files) {
            Ok(_) => Vec::new(),
            Err(invalid) => invalid.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn an_agent_declared_in_two_files_names_both() {
        assert_eq!(
            problems(&[
                ("a.yaml", "agents:\n  - name: A\n    direction: inbound\n"),
                ("b.yaml", "agents:\n  - id: x\n    direction: inbound\n  - name: A\n    direction: outbound\n"),
            ]),
            ["b.yaml:4: agent \"A\": is declared twice, here and at a.yaml:2: declare each agent once [duplicate-agent]"]
        );
    }

    #[test]
    fn two_inbound_agents_on_one_number_are_rejected_other_pairs_allowed() {
        let shared = "phone_numbers: [\"+14155550100\"]";
        assert_eq!(
            problems(&[(
                "a.yaml",
                &format!("agents:\n  - name: A\n    direction: inbound\n    {shared}\n  - name: B\n    direction: inbound\n    {shared}\n")
            )]),
            ["a.yaml:5: agent \"B\": number +14155550100 is also answered by inbound agent \"A\" (a.yaml:2): an inbound number must have one inbound agent [inbound-conflict]"]
        );
        assert!(problems(&[(
            "a.yaml",
            &format!("agents:\n  - name: A\n    direction: inbound\n    {shared}\n  - name: B\n    direction: outbound\n    {shared}\n  - name: C\n    direction: outbound\n    {shared}\n")
        )])
        .is_empty());
    }
}
