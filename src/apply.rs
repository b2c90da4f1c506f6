//! Executing a plan through the client: one PUT per changed agent with its complete desired
//! settings, each response checked against what was asked, failures collected rather than
//! stopping the run.

use crate::api::Client;
use crate::plan::{Change, Plan};
use crate::state::{AgentId, Direction};

/// What happened to one changed agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The PUT succeeded and the response shows the desired settings; notes say anything else
    /// worth knowing (a status change, a response without numbers).
    Changed { notes: Vec<String> },
    /// The PUT failed, or succeeded with settings other than those asked for.
    Failed { reason: String },
}

/// One agent's line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentResult {
    pub id: AgentId,
    pub name: String,
    pub outcome: Outcome,
}

/// Everything apply did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// One result per change of the plan, in plan order.
    pub results: Vec<AgentResult>,
    pub unchanged: usize,
    pub unmanaged: usize,
}

impl ApplyReport {
    pub fn changed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Changed { .. }))
            .count()
    }

    pub fn failed(&self) -> usize {
        self.results.len() - self.changed()
    }
}

/// PUTs every change of the plan, in plan order. A refused agent does not stop the others.
pub async fn apply(client: &Client, plan: &Plan) -> ApplyReport {
    let mut results = Vec::with_capacity(plan.changes.len());
    for change in &plan.changes {
        let outcome = apply_one(client, change).await;
        results.push(AgentResult {
            id: change.id.clone(),
            name: change.name.clone(),
            outcome,
        });
    }
    ApplyReport {
        results,
        unchanged: plan.unchanged,
        unmanaged: plan.unmanaged,
    }
}

async fn apply_one(client: &Client, change: &Change) -> Outcome {
    let target = &change.after;
    let response = match client
        .put_calling(&change.id, target.direction, &target.phone_ids)
        .await
    {
        Ok(response) => response,
        Err(err) => {
            return Outcome::Failed {
                reason: err.to_string(),
            }
        }
    };
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    if response.direction != Some(target.direction) {
        problems.push(format!(
            "direction is {}, not {}",
            response.direction.map_or("(missing)", Direction::as_str),
            target.direction
        ));
    }
    match &response.phone_ids {
        Some(ids) if *ids != target.phone_ids => {
            let list = |set: &std::collections::BTreeSet<_>| {
                set.iter()
                    .map(|id: &crate::state::PhoneId| id.as_str().to_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            problems.push(format!(
                "phone number ids are [{}], not [{}]",
                list(ids),
                list(&target.phone_ids)
            ));
        }
        Some(_) => {}
        None => notes.push(
            "the response did not list the agent's numbers, so they were not verified".into(),
        ),
    }
    if let (Some(before), Some(after)) = (&change.status, &response.status) {
        if before != after {
            notes.push(format!(
                "current_status changed from {before} to {after} (talkops does not change publishing)"
            ));
        }
    }
    if problems.is_empty() {
        Outcome::Changed { notes }
    } else {
        Outcome::Failed {
            reason: format!(
                "the server accepted the change but reports {}",
                problems.join(" and ")
            ),
        }
    }
}
