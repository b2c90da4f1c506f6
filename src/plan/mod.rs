//! The plan: which agents change, from what to what, in which order, and what a reviewer
//! must accept first. [`types`] holds every plan data type; [`build`] is the one pure
//! builder, running diff → order → labels → guards. Nothing here performs I/O: the callback
//! role holders, the one guard input that needs a request, are asked for by the caller
//! (only when [`needs_callback_agents`] says so) and handed in.

pub mod types;

use std::collections::BTreeSet;

pub use types::*;

use crate::model::{AgentId, Direction, LiveState};
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
    plan
}

/// Whether planning these agents turns an inbound agent (or one whose direction is unknown)
/// outbound: only then are the callback role holders worth a request.
pub fn needs_callback_agents(resolved: &[ResolvedAgent], live: &LiveState) -> bool {
    resolved.iter().any(|agent| {
        agent.direction == Direction::Outbound
            && live
                .agents
                .get(&agent.id)
                .is_some_and(|a| a.direction != Some(Direction::Outbound))
    })
}
