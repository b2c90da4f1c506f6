//! What a plan does to callers: for each number whose inbound answerers or outbound callers
//! change, who they are before and after. Pure: the plan and the live state in, the changes
//! out, read from the live routing index and the plan's changes.

use std::collections::{BTreeMap, BTreeSet};

use super::types::{Plan, RoutedAgent, RoutingChange};
use crate::model::{agent_label, AgentId, Direction, LiveState, PhoneId};

/// How routing views show an agent by id: its quoted name, with the id where the name is not
/// unique in the environment (shared by the plan's routing changes and `talkops routes`).
pub fn routed_agents(live: &LiveState) -> impl Fn(&AgentId) -> RoutedAgent + '_ {
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for agent in live.agents.values() {
        *names.entry(agent.name.as_str()).or_default() += 1;
    }
    move |id: &AgentId| {
        let name = live
            .agents
            .get(id)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let shown = if names.get(name.as_str()) == Some(&1) {
            format!("{name:?}")
        } else {
            agent_label(&name, id)
        };
        RoutedAgent {
            agent_id: id.clone(),
            agent_name: name,
            shown,
        }
    }
}

/// The routing changes of `plan` against `live`, sorted by number, then phone id.
pub fn routing_changes(plan: &Plan, live: &LiveState) -> Vec<RoutingChange> {
    let changed: BTreeMap<&AgentId, (Direction, &BTreeSet<PhoneId>)> = plan
        .changes
        .iter()
        .map(|c| (&c.id, (c.after.direction, &c.after.phone_ids)))
        .collect();
    // Who holds each number after the plan, among the changing agents: indexed, so that each
    // number looks only at its own holders (linear in the plan, not quadratic).
    let mut holders_after: BTreeMap<&PhoneId, Vec<(&AgentId, Direction)>> = BTreeMap::new();
    for (id, (direction, phones)) in &changed {
        for phone in *phones {
            holders_after
                .entry(phone)
                .or_default()
                .push((*id, *direction));
        }
    }
    // Only the numbers a changing agent holds before or after can change routing.
    let mut phones: BTreeSet<&PhoneId> = BTreeSet::new();
    for change in &plan.changes {
        phones.extend(&change.before.phone_ids);
        phones.extend(&change.after.phone_ids);
    }
    let routing = live.routing();
    let routed = routed_agents(live);
    let mut out = Vec::new();
    for phone in phones {
        let inbound_before: Vec<&AgentId> =
            routing.answerers(phone).iter().map(|a| &a.id).collect();
        let outbound_before: Vec<&AgentId> = routing.callers(phone).iter().map(|a| &a.id).collect();
        let after = |inbound: bool| -> Vec<&AgentId> {
            let before = if inbound {
                &inbound_before
            } else {
                &outbound_before
            };
            let mut ids: BTreeSet<&AgentId> = before
                .iter()
                .copied()
                .filter(|id| !changed.contains_key(id))
                .collect();
            for (id, direction) in holders_after.get(phone).into_iter().flatten() {
                if (*direction == Direction::Inbound) == inbound {
                    ids.insert(*id);
                }
            }
            ids.into_iter().collect()
        };
        let (inbound_after, outbound_after) = (after(true), after(false));
        if inbound_after == inbound_before && outbound_after == outbound_before {
            continue;
        }
        let list = |ids: &[&AgentId]| ids.iter().map(|id| routed(id)).collect();
        out.push(RoutingChange {
            phone_id: phone.clone(),
            shown: plan.label_with(live, phone),
            inbound_before: list(&inbound_before),
            inbound_after: list(&inbound_after),
            outbound_before: list(&outbound_before),
            outbound_after: list(&outbound_after),
        });
    }
    out.sort_by(|a, b| (&a.shown, &a.phone_id).cmp(&(&b.shown, &b.phone_id)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LiveAgent;
    use crate::plan::{Calling, Change, DesiredCalling};

    use Direction::{Inbound, Outbound};

    fn live(agents: &[(&str, Direction, &[&str])]) -> LiveState {
        let mut state = LiveState::default();
        for (id, direction, phones) in agents {
            state.agents.insert(
                AgentId::new(*id),
                LiveAgent {
                    id: AgentId::new(*id),
                    name: id.to_uppercase(),
                    direction: Some(*direction),
                    direction_text: None,
                    status: None,
                    phone_ids: phones.iter().map(|p| PhoneId::new(*p)).collect(),
                },
            );
        }
        state
    }

    fn plan(state: &LiveState, changes: &[(&str, Direction, &[&str])]) -> Plan {
        Plan {
            changes: changes
                .iter()
                .map(|(id, direction, phones)| {
                    let now = &state.agents[&AgentId::new(*id)];
                    Change {
                        id: AgentId::new(*id),
                        name: now.name.clone(),
                        source: "t".into(),
                        status: None,
                        numbers_managed: true,
                        before: Calling {
                            direction: now.direction,
                            phone_ids: now.phone_ids.clone(),
                        },
                        after: DesiredCalling {
                            direction: *direction,
                            phone_ids: phones.iter().map(|p| PhoneId::new(*p)).collect(),
                        },
                    }
                })
                .collect(),
            ..Plan::default()
        }
    }

    /// Each change as `phone: inbound before -> after | outbound before -> after`.
    fn lines(state: &LiveState, changes: &[(&str, Direction, &[&str])]) -> Vec<String> {
        let ids = |list: &[RoutedAgent]| {
            list.iter()
                .map(|a| a.agent_id.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        routing_changes(&plan(state, changes), state)
            .iter()
            .map(|c| {
                format!(
                    "{}: {}->{} | {}->{}",
                    c.phone_id,
                    ids(&c.inbound_before),
                    ids(&c.inbound_after),
                    ids(&c.outbound_before),
                    ids(&c.outbound_after)
                )
            })
            .collect()
    }

    #[test]
    fn a_move_a_swap_and_an_off_air_number() {
        let state = live(&[("a", Inbound, &["1"]), ("b", Inbound, &["2"])]);
        assert_eq!(
            lines(&state, &[("a", Inbound, &[]), ("b", Inbound, &["1", "2"])]),
            ["1: a->b | ->"]
        );
        assert_eq!(
            lines(&state, &[("a", Inbound, &["2"]), ("b", Inbound, &["1"])]),
            ["1: a->b | ->", "2: b->a | ->"]
        );
        assert_eq!(lines(&state, &[("a", Inbound, &[])]), ["1: a-> | ->"]);
    }

    #[test]
    fn a_callback_pair_turning_round_and_an_unmanaged_caller() {
        // a answers 1, b dials from it; c (not in the plan) dials from it too.
        let state = live(&[
            ("a", Inbound, &["1"]),
            ("b", Outbound, &["1"]),
            ("c", Outbound, &["1"]),
        ]);
        assert_eq!(
            lines(&state, &[("a", Outbound, &["1"]), ("b", Inbound, &["1"])]),
            ["1: a->b | b,c->a,c"]
        );
        // A change that moves no number changes no routing.
        assert!(lines(&state, &[("a", Inbound, &["1"])]).is_empty());
    }
}
