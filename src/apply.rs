//! Executing a plan through the client: its steps in dependency order, independent ones
//! concurrently (bounded), each response checked against what was asked. A failure does not
//! stop the others; steps that needed it are skipped. An interrupt stops new PUTs and lets
//! those in flight finish (a second one abandons them).

use std::collections::BTreeSet;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::api::{ApiError, Client};
use crate::model::{AgentId, PhoneId};
use crate::plan::StepKind;
use crate::plan::{DesiredCalling, Plan};

/// What happened to one changed agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its PUTs succeeded and the response shows the desired settings; notes say anything
    /// else worth knowing (a status change, a response without numbers).
    Changed { notes: Vec<String> },
    /// A PUT failed, or succeeded with settings other than those asked for.
    Failed { reason: String, applied: Applied },
    /// Not attempted: it needed another agent's change, which failed, or apply was
    /// interrupted before its turn.
    Skipped { reason: String },
}

/// Whether a failed change may have reached the agent anyway: what an operator needs to know
/// before running apply again or calling the line's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applied {
    /// The server refused it (a 4xx, `success: false`), or it was never sent.
    No,
    /// Unknown: the request did not complete, the server failed (5xx) or answered with
    /// nothing usable, or apply was interrupted while it was in flight.
    Maybe,
    /// The server accepted it but reports settings other than those asked for.
    Differently,
}

/// Why one step failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    pub applied: Applied,
}

impl Failure {
    /// The failure of a PUT that did not succeed, classified by what the client saw.
    fn of(error: &ApiError) -> Failure {
        if error.may_have_applied() {
            Failure {
                reason: format!(
                    "{error}; the PUT may or may not have been applied: run plan to see"
                ),
                applied: Applied::Maybe,
            }
        } else {
            Failure {
                reason: error.to_string(),
                applied: Applied::No,
            }
        }
    }
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
    /// PUT requests whose step completed (each retried request counts once).
    pub puts: usize,
    /// Whether an interrupt (Ctrl-C, SIGTERM, SIGHUP) stopped the apply early.
    pub interrupted: bool,
    /// PUT steps still in flight when a second interrupt abandoned them: they may or may
    /// not have reached the server.
    pub abandoned: usize,
    /// How many numbers the plan routes differently (see [`Plan::routing_changes`]).
    pub routing_changes: usize,
}

impl ApplyReport {
    /// The report of a plan with nothing to do.
    pub fn nothing(plan: &Plan) -> ApplyReport {
        ApplyReport {
            unchanged: plan.unchanged,
            unmanaged: plan.unmanaged,
            ..ApplyReport::default()
        }
    }

    fn count(&self, wanted: fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| wanted(&r.outcome)).count()
    }

    pub fn changed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Changed { .. }))
    }

    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }

    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped { .. }))
    }

    /// Whether everything the plan asked for was done.
    pub fn succeeded(&self) -> bool {
        self.changed() == self.results.len()
    }
}

/// The state of one step.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Done { notes: Vec<String> },
    Failed(Failure),
    Skipped(String),
}

/// Runs the plan's steps: at most `parallelism` PUTs at once, each only after the steps it
/// depends on succeeded. Each message on `interrupts` is an interrupt request (Ctrl-C,
/// SIGTERM, SIGHUP): the first stops new PUTs and lets those in flight finish, the second
/// abandons them.
pub async fn apply(
    client: &Client,
    plan: &Plan,
    parallelism: usize,
    interrupts: &mut UnboundedReceiver<()>,
) -> ApplyReport {
    let mut state = vec![State::Waiting; plan.steps.len()];
    let mut running = FuturesUnordered::new();
    let mut interrupted = false;
    let mut abandoned = false;
    let mut puts = 0;
    let parallelism = parallelism.max(1);
    let progress = client.observer();
    progress.start("applying (PUTs)", plan.steps.len() as u64);

    loop {
        let room = parallelism.saturating_sub(running.len());
        for index in advance(plan, &mut state, interrupted, room) {
            running.push(run_step(client, plan, index));
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((index, result)) = running.next() => {
                puts += 1;
                progress.tick();
                state[index] = match result {
                    Ok(notes) => State::Done { notes },
                    Err(failure) => State::Failed(failure),
                };
            }
            Some(()) = interrupts.recv(), if !abandoned => {
                if interrupted {
                    abandoned = true;
                    break;
                }
                interrupted = true;
            }
        }
    }
    drop(running);
    progress.finish();
    report(plan, &state, puts, interrupted, abandoned)
}

/// Marks the waiting steps that can no longer run (a step they need failed or was skipped)
/// as skipped, and, unless interrupted, up to `room` steps whose dependencies are done as
/// running; returns those to start.
fn advance(plan: &Plan, state: &mut [State], interrupted: bool, room: usize) -> Vec<usize> {
    let mut start = Vec::new();
    for index in 0..plan.steps.len() {
        if state[index] != State::Waiting {
            continue;
        }
        let after = &plan.steps[index].after;
        let blocked = after.iter().find_map(|&dep| match &state[dep] {
            State::Failed(_) | State::Skipped(_) => Some(dep),
            _ => None,
        });
        if let Some(dep) = blocked {
            state[index] = State::Skipped(blocked_reason(plan, index, dep));
            continue;
        }
        let ready = after
            .iter()
            .all(|&dep| matches!(state[dep], State::Done { .. }));
        if !interrupted && ready && start.len() < room {
            state[index] = State::Running;
            start.push(index);
        }
    }
    start
}

/// The report: one result per change of the plan, in plan order.
fn report(
    plan: &Plan,
    state: &[State],
    puts: usize,
    interrupted: bool,
    abandoned: bool,
) -> ApplyReport {
    let steps = &plan.steps;
    let mut report = ApplyReport {
        results: Vec::with_capacity(plan.changes.len()),
        unchanged: plan.unchanged,
        unmanaged: plan.unmanaged,
        puts,
        interrupted,
        abandoned: if abandoned {
            state.iter().filter(|s| **s == State::Running).count()
        } else {
            0
        },
        routing_changes: plan.routing_changes.len(),
    };
    for (change_index, change) in plan.changes.iter().enumerate() {
        let mine: Vec<usize> = (0..steps.len())
            .filter(|&s| steps[s].change == change_index)
            .collect();
        let outcome = agent_outcome(plan, &mine, state, abandoned);
        report.results.push(AgentResult {
            id: change.id.clone(),
            name: change.name.clone(),
            outcome,
        });
    }
    report
}

/// An agent's outcome from its steps' states (a release step, then the final one).
fn agent_outcome(plan: &Plan, mine: &[usize], state: &[State], abandoned: bool) -> Outcome {
    let released = mine.iter().find(|&&s| {
        plan.steps[s].kind == StepKind::Release && matches!(state[s], State::Done { .. })
    });
    let partly = |reason: String| match released {
        Some(&s) => format!(
            "{reason}; its temporary release step had already applied, so it now answers only {}",
            numbers(plan, &plan.steps[s].sends)
        ),
        None => reason,
    };
    for &s in mine {
        match &state[s] {
            State::Failed(failure) => {
                // Its release step landed: the agent is no longer as it was.
                let applied = match (released, failure.applied) {
                    (Some(_), Applied::No) => Applied::Differently,
                    (_, applied) => applied,
                };
                return Outcome::Failed {
                    reason: partly(failure.reason.clone()),
                    applied,
                };
            }
            State::Skipped(reason) => {
                return Outcome::Skipped {
                    reason: partly(reason.clone()),
                }
            }
            _ => {}
        }
    }
    if abandoned && mine.iter().any(|&s| state[s] == State::Running) {
        return Outcome::Failed {
            reason: partly("interrupted while its PUT was in flight: it may or may not have been applied; run plan to see".into()),
            applied: Applied::Maybe,
        };
    }
    match mine.last().map(|&s| &state[s]) {
        Some(State::Done { notes }) => Outcome::Changed {
            notes: notes.clone(),
        },
        _ => Outcome::Skipped {
            reason: partly("not attempted: apply was interrupted".into()),
        },
    }
}

fn blocked_reason(plan: &Plan, index: usize, dep: usize) -> String {
    let step = &plan.steps[index];
    let blocker = &plan.steps[dep];
    let other = &plan.changes[blocker.change];
    if blocker.change == step.change {
        return "not attempted: its temporary release step did not succeed".into();
    }
    let needed: Vec<&str> = step
        .claims
        .iter()
        .filter(|p| blocker.releases_for_others.contains(p))
        .map(|p| plan.label(p))
        .collect();
    format!(
        "not attempted: it needs {} released by agent {}, whose change did not succeed",
        if needed.is_empty() {
            "a number".to_owned()
        } else {
            needed.join(", ")
        },
        crate::model::agent_label(&other.name, &other.id)
    )
}

fn numbers(plan: &Plan, target: &DesiredCalling) -> String {
    if target.phone_ids.is_empty() {
        return "no numbers".into();
    }
    target
        .phone_ids
        .iter()
        .map(|p| plan.label(p))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One PUT, checked against what was asked. Returns notes on success, the reason on failure.
async fn run_step(
    client: &Client,
    plan: &Plan,
    index: usize,
) -> (usize, Result<Vec<String>, Failure>) {
    let step = &plan.steps[index];
    let change = &plan.changes[step.change];
    let target = &step.sends;
    let response = match client
        .put_calling(&change.id, target.direction, &target.phone_ids)
        .await
    {
        Ok(response) => response,
        // A request that did not complete may still have reached the server and been applied
        // (a timeout after the body was sent, a connection reset before the answer): say so,
        // rather than let "failed" read as "not applied".
        Err(err) => return (index, Err(Failure::of(&err))),
    };
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    match (response.direction, &response.direction_text) {
        (Some(direction), _) if direction != target.direction => problems.push(format!(
            "direction is {direction}, not {}",
            target.direction
        )),
        (Some(_), _) => {}
        (None, Some(text)) => problems.push(format!(
            "direction {text:?} (neither inbound nor outbound), not {}",
            target.direction
        )),
        (None, None) => notes
            .push("the response did not give the agent's direction, so it was not verified".into()),
    }
    match &response.phone_ids {
        Some(ids) if *ids != target.phone_ids => problems.push(format!(
            "phone number ids are [{}], not [{}]",
            id_list(ids),
            id_list(&target.phone_ids)
        )),
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
        (index, Ok(notes))
    } else {
        (
            index,
            Err(Failure {
                reason: format!(
                    "the server accepted the change but reports {}",
                    problems.join(" and ")
                ),
                applied: Applied::Differently,
            }),
        )
    }
}

fn id_list(ids: &BTreeSet<PhoneId>) -> String {
    ids.iter()
        .map(PhoneId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}
