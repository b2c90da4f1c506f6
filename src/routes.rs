//! `talkops routes`: the routing table, one row per phone number of the environment: who
//! answers it and who dials from it, live or as a plan would leave it. Pure: the live state
//! (and a plan) in, rows out; `render` and `commands::routes` print them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::{LiveState, PhoneId};
use crate::plan::{routed_agents, Plan, RoutedAgent};

/// One number's routing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub phone_id: PhoneId,
    /// E.164 where the API gives it.
    pub number: Option<String>,
    /// Who answers it (or may: an agent of unknown direction counts).
    pub inbound: Vec<RoutedAgent>,
    /// Who dials out from it.
    pub outbound: Vec<RoutedAgent>,
    /// With a config: whether the plan changes this row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<bool>,
    /// How the number is shown.
    #[serde(skip)]
    pub shown: String,
    /// Agents on this row whose direction talkops does not know.
    #[serde(skip)]
    pub unknown_direction: bool,
}

impl Row {
    /// No agent answers or dials from it.
    pub fn idle(&self) -> bool {
        self.inbound.is_empty() && self.outbound.is_empty()
    }

    /// Answered by more than one agent: ambiguous routing.
    pub fn ambiguous(&self) -> bool {
        self.inbound.len() > 1
    }
}

/// The table: every number of the environment (and any number an agent holds that the
/// number list lacks), live, or as `plan` would leave it (its rows marked with `changes`).
/// Sorted by number then phone id, idle numbers last.
pub fn table(live: &LiveState, plan: Option<&Plan>) -> Vec<Row> {
    let routing = live.routing();
    let routed = routed_agents(live);
    let after: BTreeMap<&PhoneId, &crate::plan::RoutingChange> = plan
        .map(|p| p.routing_changes.iter().map(|c| (&c.phone_id, c)).collect())
        .unwrap_or_default();
    let mut phones: BTreeSet<&PhoneId> = live.phone_numbers.keys().collect();
    for agent in live.agents.values() {
        phones.extend(&agent.phone_ids);
    }
    let mut rows: Vec<Row> = phones
        .into_iter()
        .map(|phone| {
            let answerers = routing.answerers(phone);
            let unknown_direction = answerers.iter().any(|a| a.direction.is_none());
            let (inbound, outbound, changes) = match after.get(phone) {
                Some(change) => (
                    change.inbound_after.clone(),
                    change.outbound_after.clone(),
                    Some(true),
                ),
                None => (
                    answerers.iter().map(|a| routed(&a.id)).collect(),
                    routing
                        .callers(phone)
                        .iter()
                        .map(|a| routed(&a.id))
                        .collect(),
                    plan.map(|_| false),
                ),
            };
            Row {
                phone_id: phone.clone(),
                number: live.phone_numbers.get(phone).cloned().flatten(),
                inbound,
                outbound,
                changes,
                shown: live.label(phone),
                unknown_direction,
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.idle(), &a.shown, &a.phone_id).cmp(&(b.idle(), &b.shown, &b.phone_id)));
    rows
}

/// The rows for these numbers (E.164 or phone ids), in the order asked; the ones that match
/// no row are returned as the error.
pub fn select<'a>(rows: &'a [Row], numbers: &[String]) -> Result<Vec<&'a Row>, Vec<String>> {
    let (found, missing) = matching(rows, numbers);
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(missing)
    }
}

/// The rows for these numbers (E.164 or phone ids), in the order asked, and the numbers that
/// match no row.
pub fn matching<'a>(rows: &'a [Row], numbers: &[String]) -> (Vec<&'a Row>, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for wanted in numbers {
        let matching: Vec<&Row> = rows
            .iter()
            .filter(|r| r.number.as_deref() == Some(wanted) || r.phone_id.as_str() == wanted)
            .collect();
        if matching.is_empty() {
            missing.push(wanted.clone());
        }
        found.extend(matching);
    }
    (found, missing)
}
