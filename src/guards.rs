//! Safety guards: plans that are surprising enough to need a flag before apply writes them.
//! `plan` shows the warnings and succeeds; `apply` refuses unless told. Pure: it reads a plan,
//! the live state and the callback role holders, and performs no I/O.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{agent_label, AgentId, Direction, LiveAgent, LiveState, PhoneId};
use crate::plan::types::{turns_outbound, GuardFlag, GuardKind, Plan, Thresholds, Warning};

/// Every guard that this plan trips. `callback_agents` is `None` when it was not asked for
/// (no inbound agent turns outbound, so the callback guard cannot trip).
pub fn check(
    plan: &Plan,
    live: &LiveState,
    callback_agents: Option<&BTreeSet<AgentId>>,
    thresholds: Thresholds,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    warnings.extend(change_size(plan, thresholds));
    warnings.extend(off_the_air(plan, live));
    warnings.extend(unknown_direction(plan, live));
    warnings.extend(published_without_numbers(plan, live));
    if let Some(callback) = callback_agents {
        warnings.extend(callback_role(plan, live, callback));
    }
    warnings
}

/// `"Name" (id X)` of a live agent, or `id X`.
fn who(live: &LiveState, id: &AgentId) -> String {
    match live.agents.get(id) {
        Some(agent) => agent_label(&agent.name, id),
        None => format!("id {id}"),
    }
}

/// More than the percentage of the managed agents change. Untargeted agents are still
/// managed: --target must not slip a large change past the guard.
fn change_size(plan: &Plan, thresholds: Thresholds) -> Option<Warning> {
    let managed = plan.changes.len() + plan.unchanged + plan.untargeted;
    let changing = plan.changes.len();
    let large = managed >= thresholds.min_managed
        && changing * 100 > managed * thresholds.max_change_percent as usize;
    large.then(|| Warning {
        kind: GuardKind::ChangeSize,
        message: format!(
            "{changing} of {managed} managed agents change ({}%), more than {}%",
            changing * 100 / managed.max(1),
            thresholds.max_change_percent
        ),
        needs: GuardFlag::Force,
    })
}

/// Numbers answered inbound today that no inbound agent answers afterwards. An agent whose
/// direction talkops does not know may answer its numbers today; afterwards only a known
/// inbound agent counts, unless the agent does not change (then "may" stays "may").
fn off_the_air(plan: &Plan, live: &LiveState) -> Vec<Warning> {
    let after: BTreeMap<&AgentId, (Direction, &BTreeSet<PhoneId>)> = plan
        .changes
        .iter()
        .map(|c| (&c.id, (c.after.direction, &c.after.phone_ids)))
        .collect();
    let routing = live.routing();
    let mut answered_after: BTreeSet<&PhoneId> = BTreeSet::new();
    for agent in live.agents.values() {
        match after.get(&agent.id) {
            Some((direction, phones)) => {
                if *direction == Direction::Inbound {
                    answered_after.extend(*phones);
                }
            }
            None => {
                if agent.may_answer() {
                    answered_after.extend(&agent.phone_ids);
                }
            }
        }
    }
    routing
        .answered()
        .filter(|(phone, _)| !answered_after.contains(*phone))
        .map(|(phone, owners)| off_the_air_warning(plan, live, phone, &owners))
        .collect()
}

fn off_the_air_warning(
    plan: &Plan,
    live: &LiveState,
    phone: &PhoneId,
    owners: &[&LiveAgent],
) -> Warning {
    let unsure = owners.iter().any(|a| a.direction.is_none());
    let owners: Vec<String> = owners
        .iter()
        .map(|agent| match agent.direction {
            None => format!(
                "agent {} (direction {})",
                agent_label(&agent.name, &agent.id),
                agent.direction_shown()
            ),
            Some(_) => format!("inbound agent {}", agent_label(&agent.name, &agent.id)),
        })
        .collect();
    let number = plan.label_with(live, phone);
    let message = if unsure {
        format!(
            "number {number} may go off the air: {} may answer it today (talkops cannot tell) and no inbound agent will after this plan",
            owners.join(", ")
        )
    } else {
        format!(
            "number {number} goes off the air: {} answers it today and no inbound agent will after this plan",
            owners.join(", ")
        )
    };
    Warning {
        kind: GuardKind::Unrouted,
        message,
        needs: GuardFlag::AllowUnrouted,
    }
}

/// A published inbound agent left with no numbers: no call can reach it.
fn published_without_numbers<'a>(
    plan: &'a Plan,
    live: &'a LiveState,
) -> impl Iterator<Item = Warning> + 'a {
    plan.changes
        .iter()
        .filter(|change| {
            change.status.as_deref() == Some("published")
                && change.after.direction == Direction::Inbound
                && change.after.phone_ids.is_empty()
        })
        .map(move |change| Warning {
            kind: GuardKind::Unrouted,
            message: format!(
                "published inbound agent {} is left with no numbers: no call can reach it",
                who(live, &change.id)
            ),
            needs: GuardFlag::AllowUnrouted,
        })
}

/// A changed agent whose direction today talkops does not understand.
fn unknown_direction<'a>(
    plan: &'a Plan,
    live: &'a LiveState,
) -> impl Iterator<Item = Warning> + 'a {
    plan.changes
        .iter()
        .filter(|change| change.before.direction.is_none())
        .map(move |change| {
            let shown = live
                .agents
                .get(&change.id)
                .map_or_else(|| "(unknown)".to_owned(), |a| a.direction_shown());
            Warning {
                kind: GuardKind::UnknownDirection,
                message: format!(
                    "agent {} has direction {shown} today, which talkops does not understand: it cannot tell what this change does to the calls it handles now",
                    who(live, &change.id)
                ),
                needs: GuardFlag::Force,
            }
        })
}

/// A callback-role holder turning outbound: callbacks are only routed to inbound agents.
fn callback_role<'a>(
    plan: &'a Plan,
    live: &'a LiveState,
    callback: &'a BTreeSet<AgentId>,
) -> impl Iterator<Item = Warning> + 'a {
    plan.changes
        .iter()
        .filter(|change| {
            turns_outbound(change.before.direction, change.after.direction)
                && callback.contains(&change.id)
        })
        .map(move |change| Warning {
            kind: GuardKind::CallbackRole,
            message: format!(
                "agent {} holds the callback role and turns outbound: callbacks are only routed to inbound agents",
                who(live, &change.id)
            ),
            needs: GuardFlag::Force,
        })
}

/// Whether any change turns an inbound agent (or one whose direction is unknown) outbound:
/// only then is the callback role worth a request.
pub fn needs_callback_agents(plan: &Plan) -> bool {
    plan.changes
        .iter()
        .any(|c| turns_outbound(c.before.direction, c.after.direction))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LiveAgent;
    use crate::plan::{Calling, Change, DesiredCalling};

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
                    name: id.to_uppercase(),
                    direction: Some(*direction),
                    direction_text: None,
                    status: Some("published".into()),
                    phone_ids: ids(phones),
                },
            );
            for phone in *phones {
                state
                    .phone_numbers
                    .insert(PhoneId::new(*phone), Some(format!("+1{phone}")));
            }
        }
        state
    }

    fn plan(state: &LiveState, changes: &[(&str, Direction, &[&str])], unchanged: usize) -> Plan {
        Plan {
            changes: changes
                .iter()
                .map(|(id, direction, phones)| {
                    let current = &state.agents[&AgentId::new(*id)];
                    Change {
                        id: AgentId::new(*id),
                        name: current.name.clone(),
                        source: "t".into(),
                        status: current.status.clone(),
                        numbers_managed: true,
                        before: Calling {
                            direction: current.direction,
                            phone_ids: current.phone_ids.clone(),
                        },
                        after: DesiredCalling {
                            direction: *direction,
                            phone_ids: ids(phones),
                        },
                    }
                })
                .collect(),
            unchanged,
            ..Plan::default()
        }
    }

    use Direction::{Inbound, Outbound};

    #[test]
    fn change_size_trips_above_the_percentage_with_enough_managed_agents() {
        let state = live(&[
            ("a", Outbound, &[]),
            ("b", Outbound, &[]),
            ("c", Outbound, &[]),
            ("d", Outbound, &[]),
        ]);
        let three = plan(
            &state,
            &[
                ("a", Inbound, &[]),
                ("b", Inbound, &[]),
                ("c", Inbound, &[]),
            ],
            7,
        );
        let size = |p: &Plan, t| {
            check(p, &state, None, t)
                .into_iter()
                .filter(|w| w.kind == GuardKind::ChangeSize)
                .count()
        };
        assert_eq!(
            size(&three, Thresholds::default()),
            0,
            "3 of 10 is 30%, not more"
        );
        let four = plan(
            &state,
            &[
                ("a", Inbound, &[]),
                ("b", Inbound, &[]),
                ("c", Inbound, &[]),
                ("d", Inbound, &[]),
            ],
            6,
        );
        assert_eq!(size(&four, Thresholds::default()), 1, "4 of 10");
        let few = plan(&state, &[("a", Inbound, &[]), ("b", Inbound, &[])], 0);
        assert_eq!(
            size(&few, Thresholds::default()),
            0,
            "fewer than 10 managed"
        );
        assert_eq!(
            size(
                &few,
                Thresholds {
                    max_change_percent: 50,
                    min_managed: 2
                }
            ),
            1
        );
    }

    #[test]
    fn a_number_nobody_answers_after_the_plan_is_named() {
        let state = live(&[("a", Inbound, &["1", "2"]), ("b", Outbound, &["2"])]);
        let warnings = check(
            &plan(&state, &[("a", Inbound, &["2"])], 0),
            &state,
            None,
            Thresholds::default(),
        );
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].needs, GuardFlag::AllowUnrouted);
        assert!(
            warnings[0]
                .message
                .contains("number +11 goes off the air: inbound agent \"A\" (id a)"),
            "{}",
            warnings[0].message
        );
        // A move to another inbound agent keeps the number on the air.
        let state = live(&[("a", Inbound, &["1"]), ("b", Inbound, &[])]);
        let moved = plan(&state, &[("a", Inbound, &["9"]), ("b", Inbound, &["1"])], 0);
        assert!(check(&moved, &state, None, Thresholds::default()).is_empty());
    }

    #[test]
    fn a_published_inbound_agent_with_no_numbers_is_named() {
        let state = live(&[("a", Outbound, &[])]);
        let warnings = check(
            &plan(&state, &[("a", Inbound, &[])], 0),
            &state,
            None,
            Thresholds::default(),
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0]
            .message
            .contains("published inbound agent \"A\" (id a) is left with no numbers"));
    }

    #[test]
    fn an_unknown_direction_may_answer_and_says_so() {
        let mut state = live(&[("a", Inbound, &["1"]), ("b", Outbound, &["2"])]);
        if let Some(agent) = state.agents.get_mut(&AgentId::new("a")) {
            agent.direction = None;
            agent.direction_text = Some("both".into());
        }
        // Turning it outbound may take +11 off the air, and its direction is unknown.
        let p = plan(&state, &[("a", Outbound, &["1"])], 0);
        let warnings = check(&p, &state, None, Thresholds::default());
        let kinds: Vec<GuardKind> = warnings.iter().map(|w| w.kind).collect();
        assert_eq!(
            kinds,
            [GuardKind::Unrouted, GuardKind::UnknownDirection],
            "{warnings:#?}"
        );
        assert!(
            warnings[0]
                .message
                .contains("number +11 may go off the air: agent \"A\" (id a) (direction \"both\" (not inbound or outbound)) may answer it today"),
            "{}",
            warnings[0].message
        );
        assert_eq!(warnings[1].needs, GuardFlag::Force);
        // Left alone, its numbers are not reported off the air by another agent's change.
        let p = plan(&state, &[("b", Inbound, &["2"])], 0);
        assert!(check(&p, &state, None, Thresholds::default()).is_empty());
    }

    #[test]
    fn a_callback_agent_turning_outbound_needs_force() {
        let state = live(&[("a", Inbound, &["1"]), ("b", Inbound, &["1"])]);
        let p = plan(&state, &[("a", Outbound, &["1"])], 0);
        assert!(needs_callback_agents(&p));
        let callback: BTreeSet<AgentId> = [AgentId::new("a")].into();
        let warnings = check(&p, &state, Some(&callback), Thresholds::default());
        assert_eq!(warnings.len(), 1);
        assert_eq!(
            (warnings[0].kind, warnings[0].needs),
            (GuardKind::CallbackRole, GuardFlag::Force)
        );
    }
}
