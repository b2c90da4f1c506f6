//! The pure core: resolved desired agents + live state -> the changes to make (ordered,
//! labelled and judged by [`crate::plan::build`]).
//!
//! Numbers are compared as sets, so order never makes a change; diff never performs I/O.

use std::collections::BTreeMap;

use crate::model::LiveState;
use crate::plan::types::{Calling, Change, DesiredCalling, Plan};
use crate::resolve::ResolvedAgent;

/// Compares each declared agent with its live counterpart. Agents the config does not
/// declare are only counted. Changes come sorted by agent name, then id.
pub fn diff(resolved: &[ResolvedAgent], live: &LiveState) -> Plan {
    let mut changes = Vec::new();
    let mut unchanged = 0;
    let mut numbers = BTreeMap::new();
    for agent in resolved {
        let Some(current) = live.agents.get(&agent.id) else {
            // resolve only returns agents that exist; nothing to compare otherwise.
            continue;
        };
        let before = Calling {
            direction: current.direction,
            phone_ids: current.phone_ids.clone(),
        };
        let after = DesiredCalling {
            direction: agent.direction,
            phone_ids: agent
                .phone_ids
                .clone()
                .unwrap_or_else(|| current.phone_ids.clone()),
        };
        if after.is_met_by(&before) {
            unchanged += 1;
            continue;
        }
        for id in before.phone_ids.union(&after.phone_ids) {
            let known = live.phone_numbers.get(id).cloned().flatten();
            if let Some(number) = known.or_else(|| live.extra_labels.get(id).cloned()) {
                numbers.insert(id.clone(), number);
            }
        }
        changes.push(Change {
            id: agent.id.clone(),
            name: current.name.clone(),
            source: agent.source.to_string(),
            status: current.status.clone(),
            numbers_managed: agent.phone_ids.is_some(),
            before,
            after,
        });
    }
    changes.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let unmanaged = live.agents.len().saturating_sub(changes.len() + unchanged);
    Plan {
        changes,
        unchanged,
        unmanaged,
        numbers,
        ..Plan::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Source;
    use crate::model::{AgentId, Direction, LiveAgent, PhoneId};
    use std::collections::BTreeSet;

    fn ids(list: &[&str]) -> BTreeSet<PhoneId> {
        list.iter().map(|s| PhoneId::new(*s)).collect()
    }

    fn live(agents: &[(&str, Direction, &[&str])]) -> LiveState {
        let mut state = LiveState::default();
        for (id, direction, phones) in agents {
            state.agents.insert(
                AgentId::new(*id),
                LiveAgent {
                    id: AgentId::new(*id),
                    name: format!("name-{id}"),
                    direction: Some(*direction),
                    direction_text: None,
                    status: Some("published".into()),
                    phone_ids: ids(phones),
                },
            );
            for phone in *phones {
                state
                    .phone_numbers
                    .insert(PhoneId::new(*phone), Some(format!("+1555{phone}")));
            }
        }
        state
    }

    fn want(id: &str, direction: Direction, phones: Option<&[&str]>) -> ResolvedAgent {
        ResolvedAgent {
            source: Source {
                file: "a.yaml".into(),
                line: Some(1),
            },
            entry: crate::desired::AgentRef::Id(AgentId::new(id)),
            id: AgentId::new(id),
            direction,
            phone_ids: phones.map(ids),
        }
    }

    use Direction::{Inbound, Outbound};

    #[test]
    fn identical_sets_in_any_order_are_no_change() {
        let state = live(&[("a", Inbound, &["2", "1"])]);
        let plan = diff(&[want("a", Inbound, Some(&["1", "2"]))], &state);
        assert!(plan.changes.is_empty());
        assert_eq!((plan.unchanged, plan.unmanaged), (1, 0));
    }

    #[test]
    fn omitted_numbers_keep_the_current_ones() {
        let state = live(&[("a", Inbound, &["1"])]);
        let plan = diff(&[want("a", Outbound, None)], &state);
        assert_eq!(plan.changes.len(), 1);
        let change = &plan.changes[0];
        assert_eq!(change.after.phone_ids, ids(&["1"]));
        assert!(!change.numbers_managed);
        assert_eq!(change.added().count() + change.removed().count(), 0);
    }

    #[test]
    fn additions_removals_and_unmanaged_counts() {
        let state = live(&[
            ("a", Inbound, &["1", "2"]),
            ("b", Outbound, &[]),
            ("c", Inbound, &["3"]),
        ]);
        let mut plan = diff(
            &[
                want("a", Inbound, Some(&["2", "3"])),
                want("b", Outbound, Some(&[])),
            ],
            &state,
        );
        plan.relabel();
        assert_eq!((plan.unchanged, plan.unmanaged), (1, 1));
        let change = &plan.changes[0];
        assert_eq!(
            change.added().cloned().collect::<BTreeSet<_>>(),
            ids(&["3"])
        );
        assert_eq!(
            change.removed().cloned().collect::<BTreeSet<_>>(),
            ids(&["1"])
        );
        assert_eq!(
            plan.labels.get(&PhoneId::new("3")).map(String::as_str),
            Some("+15553")
        );
    }

    #[test]
    fn two_ids_with_one_number_are_told_apart() {
        let mut state = live(&[("a", Inbound, &["1"])]);
        state
            .phone_numbers
            .insert(PhoneId::new("2"), Some("+15551".into()));
        let mut plan = diff(&[want("a", Inbound, Some(&["2"]))], &state);
        plan.relabel();
        assert_eq!(plan.label(&PhoneId::new("1")), "+15551 (id 1)");
        assert_eq!(plan.label(&PhoneId::new("2")), "+15551 (id 2)");
    }

    #[test]
    fn changes_are_sorted_by_name_then_id() {
        let state = live(&[("b", Inbound, &[]), ("a", Inbound, &[])]);
        let plan = diff(
            &[want("b", Outbound, None), want("a", Outbound, None)],
            &state,
        );
        let order: Vec<&str> = plan.changes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(order, ["a", "b"]);
    }
}
