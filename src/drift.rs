//! Whether a plan still holds on a fresh read of the environment: the agents it changes
//! have not drifted from the settings it was made from, no agent outside it has started
//! answering a number it claims, and (for a saved plan given a config) it is exactly the
//! plan that config makes now. Pure: plans and live state in, one line per problem out.

use std::collections::BTreeSet;

use crate::model::{self, agent_label, LiveState};
use crate::plan::Plan;

/// How the saved plan's changes differ from those the config makes now, one line per agent:
/// an agent only one of them changes, or one they change differently. Empty when they are
/// the same changes (same agents, same before and after).
pub fn plan_differences(saved: &Plan, now: &Plan) -> Vec<String> {
    let settings =
        |plan: &Plan, direction: Option<model::Direction>, ids: &BTreeSet<model::PhoneId>| {
            let numbers: Vec<&str> = ids.iter().map(|id| plan.label(id)).collect();
            format!(
                "{} with {}",
                direction.map_or("(unknown)", model::Direction::as_str),
                if numbers.is_empty() {
                    "no numbers".to_owned()
                } else {
                    numbers.join(", ")
                }
            )
        };
    let mut differences = Vec::new();
    for change in &saved.changes {
        let who = format!("agent {}", agent_label(&change.name, &change.id));
        let saved_after = settings(saved, Some(change.after.direction), &change.after.phone_ids);
        match now.changes.iter().find(|c| c.id == change.id) {
            None => differences.push(format!(
                "{who}: the saved plan makes it {saved_after}; the config changes nothing on it"
            )),
            Some(other) => {
                let now_after = settings(now, Some(other.after.direction), &other.after.phone_ids);
                if other.after != change.after {
                    differences.push(format!(
                        "{who}: the saved plan makes it {saved_after}; the config makes it {now_after}"
                    ));
                }
                if other.before != change.before {
                    differences.push(format!(
                        "{who}: the saved plan starts from {}; it is {} now",
                        settings(saved, change.before.direction, &change.before.phone_ids),
                        settings(now, other.before.direction, &other.before.phone_ids)
                    ));
                }
            }
        }
    }
    for change in &now.changes {
        if !saved.changes.iter().any(|c| c.id == change.id) {
            differences.push(format!(
                "agent {}: the config makes it {}; the saved plan does not change it",
                agent_label(&change.name, &change.id),
                settings(now, Some(change.after.direction), &change.after.phone_ids)
            ));
        }
    }
    differences
}

/// Each changed agent whose live settings differ from those the plan was made from.
pub fn drift(plan: &Plan, live: &LiveState) -> Vec<String> {
    let mut drifted = Vec::new();
    for change in &plan.changes {
        let who = format!("agent {}", agent_label(&change.name, &change.id));
        let Some(now) = live.agents.get(&change.id) else {
            drifted.push(format!("{who}: no longer exists"));
            continue;
        };
        if live.unknown_numbers.contains(&change.id) {
            // Unknown is not "unchanged": the drift cannot be judged.
            drifted.push(format!(
                "{who}: the API no longer gives its phone numbers, so whether they changed is unknown"
            ));
            continue;
        }
        let mut what = Vec::new();
        if now.direction != change.before.direction {
            what.push(format!(
                "direction was {}, is now {}",
                change.before.direction.map_or("(unknown)", |d| d.as_str()),
                now.direction.map_or("(unknown)", |d| d.as_str())
            ));
        }
        let label = |id: &model::PhoneId| plan.label_with(live, id);
        let gained: Vec<String> = now
            .phone_ids
            .difference(&change.before.phone_ids)
            .map(label)
            .collect();
        let lost: Vec<String> = change
            .before
            .phone_ids
            .difference(&now.phone_ids)
            .map(label)
            .collect();
        if !gained.is_empty() {
            what.push(format!("gained {}", gained.join(", ")));
        }
        if !lost.is_empty() {
            what.push(format!("lost {}", lost.join(", ")));
        }
        if !what.is_empty() {
            drifted.push(format!("{who}: {}", what.join("; ")));
        }
    }
    drifted
}

/// Numbers the plan makes an agent answer inbound that an agent outside the plan has started
/// answering inbound since: applying would leave them with two inbound agents. An agent
/// whose direction is unknown (none given, or one talkops does not know) may answer its
/// numbers, so it counts as inbound here.
pub fn new_conflicts(plan: &Plan, live: &LiveState) -> Vec<String> {
    let changing: BTreeSet<&model::AgentId> = plan.changes.iter().map(|c| &c.id).collect();
    let mut conflicts = Vec::new();
    let has_claims = plan.changes.iter().any(|c| {
        c.after.direction == model::Direction::Inbound
            && (c.before.direction != Some(model::Direction::Inbound)
                || !c.after.phone_ids.is_subset(&c.before.phone_ids))
    });
    if has_claims {
        // An agent outside the plan that may answer calls, with numbers the API no longer
        // gives: whether a claim gives one of them a second inbound agent cannot be judged.
        for id in &live.unknown_numbers {
            if let Some(other) = live.agents.get(id) {
                if !changing.contains(id) && other.may_answer() {
                    conflicts.push(format!(
                        "agent {}, direction {}, may answer numbers the plan claims: the API no longer gives its phone numbers",
                        agent_label(&other.name, &other.id),
                        other.direction_shown()
                    ));
                }
            }
        }
    }
    let routing = live.routing();
    for change in &plan.changes {
        if change.after.direction != model::Direction::Inbound {
            continue;
        }
        let held = change.before.direction == Some(model::Direction::Inbound);
        let claims = change
            .after
            .phone_ids
            .iter()
            .filter(|p| !(held && change.before.phone_ids.contains(*p)));
        for phone in claims {
            for other in routing.answerers(phone) {
                if changing.contains(&other.id) {
                    continue;
                }
                let holder = match other.direction {
                    Some(_) => format!(
                        "inbound agent {} now answers",
                        agent_label(&other.name, &other.id)
                    ),
                    None => format!(
                        "agent {}, whose direction is unknown, may answer",
                        agent_label(&other.name, &other.id)
                    ),
                };
                conflicts.push(format!(
                    "agent {}: would answer {}, which {holder}",
                    agent_label(&change.name, &change.id),
                    plan.label(phone),
                ));
            }
        }
    }
    conflicts
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::model::{AgentId, Direction, LiveAgent, PhoneId};
    use crate::plan::{Calling, Change, DesiredCalling};

    fn ids(list: &[&str]) -> BTreeSet<PhoneId> {
        list.iter().map(|s| PhoneId::new(*s)).collect()
    }

    fn agent(id: &str, direction: Option<Direction>, phones: &[&str]) -> LiveAgent {
        LiveAgent {
            id: AgentId::new(id),
            name: id.to_uppercase(),
            direction,
            direction_text: None,
            status: None,
            phone_ids: ids(phones),
        }
    }

    fn live(agents: Vec<LiveAgent>) -> LiveState {
        let mut state = LiveState::default();
        for agent in agents {
            state.agents.insert(agent.id.clone(), agent);
        }
        state
    }

    /// A plan changing agent `a` from inbound on p1 to inbound on p1 and p2 (numbers +1p1...).
    fn plan() -> Plan {
        let mut plan = Plan {
            numbers: ["p1", "p2", "p9"]
                .iter()
                .map(|p| (PhoneId::new(*p), format!("+1{p}")))
                .collect(),
            changes: vec![Change {
                id: AgentId::new("a"),
                name: "A".into(),
                source: "t:1".into(),
                status: None,
                numbers_managed: true,
                before: Calling {
                    direction: Some(Direction::Inbound),
                    phone_ids: ids(&["p1"]),
                },
                after: DesiredCalling {
                    direction: Direction::Inbound,
                    phone_ids: ids(&["p1", "p2"]),
                },
            }],
            ..Plan::default()
        };
        plan.relabel();
        plan
    }

    #[test]
    fn nothing_drifted_means_no_lines() {
        let now = live(vec![agent("a", Some(Direction::Inbound), &["p1"])]);
        assert!(drift(&plan(), &now).is_empty());
        assert!(new_conflicts(&plan(), &now).is_empty());
        assert!(plan_differences(&plan(), &plan()).is_empty());
    }

    #[test]
    fn drift_names_what_changed_and_what_is_unknown() {
        let now = live(vec![agent("a", Some(Direction::Outbound), &["p1", "p3"])]);
        assert_eq!(
            drift(&plan(), &now),
            ["agent \"A\" (id a): direction was inbound, is now outbound; gained p3"]
        );
        let mut unknown = live(vec![agent("a", Some(Direction::Inbound), &[])]);
        unknown.unknown_numbers.insert(AgentId::new("a"));
        assert!(drift(&plan(), &unknown)[0].contains("whether they changed is unknown"));
        assert_eq!(
            drift(&plan(), &LiveState::default()),
            ["agent \"A\" (id a): no longer exists"]
        );
    }

    #[test]
    fn a_new_holder_that_may_answer_a_claimed_number_is_a_conflict() {
        for (direction, expected) in [
            (
                Some(Direction::Inbound),
                "inbound agent \"B\" (id b) now answers",
            ),
            (
                None,
                "agent \"B\" (id b), whose direction is unknown, may answer",
            ),
        ] {
            let now = live(vec![
                agent("a", Some(Direction::Inbound), &["p1"]),
                agent("b", direction, &["p2"]),
            ]);
            let conflicts = new_conflicts(&plan(), &now);
            assert_eq!(conflicts.len(), 1, "{conflicts:?}");
            assert!(conflicts[0].contains(expected), "{conflicts:?}");
        }
        let outbound = live(vec![
            agent("a", Some(Direction::Inbound), &["p1"]),
            agent("b", Some(Direction::Outbound), &["p2"]),
        ]);
        assert!(new_conflicts(&plan(), &outbound).is_empty());
    }

    #[test]
    fn plan_differences_name_each_agent_that_differs() {
        let mut other = plan();
        other.changes[0].after.phone_ids = ids(&["p1", "p9"]);
        other.relabel();
        let differences = plan_differences(&plan(), &other);
        assert_eq!(
            differences,
            ["agent \"A\" (id a): the saved plan makes it inbound with +1p1, +1p2; the config makes it inbound with +1p1, +1p9"]
        );
        let none = Plan::default();
        assert!(plan_differences(&plan(), &none)[0].contains("the config changes nothing on it"));
    }
}
