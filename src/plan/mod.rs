//! The plan: which agents change, from what to what, in which order, and what a reviewer
//! must accept first. [`types`] holds every plan data type; [`build`] is the one pure
//! builder, running diff → order → labels → guards. Nothing here performs I/O: the callback
//! role holders, the one guard input that needs a request, are asked for by the caller
//! (only when [`needs_callback_agents`] says so) and handed in.

mod routing;
pub mod types;

use std::collections::BTreeSet;

pub use routing::{routed_agents, routing_changes};
pub use types::*;

use crate::model::{AgentId, LiveState};
use crate::resolve::ResolvedAgent;
use crate::{diff, guards, order};

/// The plan for `resolved` (the declared agents to plan, after any `--target` selection, out
/// of `declared` in all) against `live`: the changes, their ordered steps, the labels of
/// their numbers and the guard warnings.
pub fn build(
    resolved: &[ResolvedAgent],
    declared: usize,
    live: &LiveState,
    callback_agents: Option<&BTreeSet<AgentId>>,
    thresholds: Thresholds,
) -> Plan {
    let mut plan = diff::diff(resolved, live);
    plan.untargeted = declared.saturating_sub(resolved.len());
    plan.unmanaged = plan.unmanaged.saturating_sub(plan.untargeted);
    plan.steps = order::order(&plan.changes);
    plan.relabel();
    plan.warnings = guards::check(&plan, live, callback_agents, thresholds);
    plan.routing_changes = routing_changes(&plan, live);
    plan
}

/// Whether planning these agents turns an inbound agent (or one whose direction is unknown)
/// outbound: only then are the callback role holders worth a request.
pub fn needs_callback_agents(resolved: &[ResolvedAgent], live: &LiveState) -> bool {
    resolved.iter().any(|agent| {
        live.agents
            .get(&agent.id)
            .is_some_and(|a| turns_outbound(a.direction, agent.direction))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{AgentRef, Source};
    use crate::model::{Direction, LiveAgent, PhoneId};

    #[test]
    fn build_diffs_orders_labels_and_judges() {
        // a answers p1 and moves it to b: a release before a claim, and a, turning outbound,
        // is a callback holder.
        let mut live = LiveState::default();
        for (id, direction, phones) in [
            ("a", Direction::Inbound, vec!["p1"]),
            ("b", Direction::Inbound, vec![]),
        ] {
            live.agents.insert(
                AgentId::new(id),
                LiveAgent {
                    id: AgentId::new(id),
                    name: id.to_uppercase(),
                    direction: Some(direction),
                    direction_text: None,
                    status: None,
                    phone_ids: phones.into_iter().map(PhoneId::new).collect(),
                },
            );
        }
        live.phone_numbers
            .insert(PhoneId::new("p1"), Some("+14155550100".into()));
        let want = |id: &str, direction, phones: &[&str]| ResolvedAgent {
            source: Source {
                file: "a.yaml".into(),
                line: None,
            },
            entry: AgentRef::Id(AgentId::new(id)),
            id: AgentId::new(id),
            direction,
            phone_ids: Some(phones.iter().map(|p| PhoneId::new(*p)).collect()),
        };
        let resolved = [
            want("a", Direction::Outbound, &[]),
            want("b", Direction::Inbound, &["p1"]),
        ];
        assert!(needs_callback_agents(&resolved, &live));
        let callback: BTreeSet<AgentId> = [AgentId::new("a")].into();
        let plan = build(&resolved, 3, &live, Some(&callback), Thresholds::default());
        assert_eq!(plan.changes.len(), 2);
        assert_eq!(plan.untargeted, 1);
        assert_eq!(plan.steps.len(), 2);
        assert!(plan.order_matters(), "the claim waits for the release");
        assert_eq!(plan.label(&PhoneId::new("p1")), "+14155550100");
        let kinds: Vec<GuardKind> = plan.warnings.iter().map(|w| w.kind).collect();
        assert_eq!(kinds, [GuardKind::CallbackRole]);
    }
}
