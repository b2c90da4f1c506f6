//! The plan as a versioned JSON document: what `plan --format json` prints and what
//! `plan --out` saves for `apply --plan`. It holds everything needed to perform the plan
//! exactly (resolved ids, ordered steps) and to check that nothing drifted (each changed
//! agent's live settings when the plan was made), and never the token.
//!
//! Pure: conversion between [`Plan`] and [`PlanDocument`], no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::model::{AgentId, Direction, PhoneId};
use crate::plan::Warning;
use crate::plan::{Calling, Change, DesiredCalling, Plan, RoutedAgent};
use crate::plan::{Step, StepKind};

/// Bumped on any change that an older talkops could not read correctly.
pub const FORMAT_VERSION: u32 = 1;

/// The JSON plan (schema in the README, "JSON plan format").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDocument {
    pub format_version: u32,
    pub talkops_version: String,
    /// The API the plan was made against; `apply --plan` refuses any other.
    pub api_url: String,
    /// When the plan was made (RFC 3339, UTC).
    pub created_at: String,
    pub summary: Summary,
    pub changes: Vec<ChangeDocument>,
    /// The PUTs in a safe order; `after` holds indices into this list.
    pub steps: Vec<StepDocument>,
    pub warnings: Vec<Warning>,
    /// The guard flags given when the plan was made.
    pub overrides: GuardFlagsDocument,
    /// The `--target` agents the plan was made for (names or ids); absent when it covers
    /// every declared agent. `apply --plan FILE PATH...` recomputes the plan for these.
    /// Optional, so that plans saved before it existed still read as format version 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Every number whose inbound answerers or outbound callers the plan changes, once,
    /// sorted by number then phone id. Additive: absent from older plans, which still read.
    #[serde(default)]
    pub routing_changes: Vec<RoutingChangeDocument>,
}

/// One number whose routing the plan changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingChangeDocument {
    pub phone_id: String,
    /// E.164, or `null` when the API gives no number.
    pub number: Option<String>,
    pub inbound_before: Vec<RoutedAgent>,
    pub inbound_after: Vec<RoutedAgent>,
    pub outbound_before: Vec<RoutedAgent>,
    pub outbound_after: Vec<RoutedAgent>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub to_change: usize,
    pub unchanged: usize,
    pub not_managed: usize,
    /// Declared agents left out by `--target`.
    #[serde(default)]
    pub not_targeted: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardFlagsDocument {
    pub force: bool,
    pub allow_unrouted: bool,
}

/// A phone number: its id, and its E.164 number when the API gave one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberDocument {
    pub id: String,
    pub number: Option<String>,
}

/// An agent's calling settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsDocument {
    /// `null` only for a live agent whose direction the API did not report.
    pub direction: Option<Direction>,
    pub phone_numbers: Vec<NumberDocument>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeDocument {
    pub agent_id: String,
    pub agent_name: String,
    /// Where the agent is declared (`file:line`).
    pub source: String,
    /// `draft` or `published`, as the API reported it.
    pub status: Option<String>,
    /// False when the config omits `phone_numbers` (the current numbers are kept).
    pub numbers_managed: bool,
    /// The live settings when the plan was made: the fingerprint `apply --plan` checks.
    pub before: SettingsDocument,
    pub after: SettingsDocument,
    pub direction_changes: bool,
    pub numbers_added: Vec<NumberDocument>,
    pub numbers_removed: Vec<NumberDocument>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDocument {
    /// Index into `changes`.
    pub change: usize,
    pub agent_id: String,
    pub kind: StepKind,
    /// What the PUT sends.
    pub direction: Direction,
    pub phone_number_ids: Vec<String>,
    /// Indices of the steps that must succeed first.
    pub after: Vec<usize>,
    pub claims: Vec<String>,
    pub releases_for_others: Vec<String>,
}

impl PlanDocument {
    /// The document for a plan made now against `api_url`.
    pub fn new(plan: &Plan, api_url: &str, overrides: GuardFlagsDocument) -> PlanDocument {
        let number = |id: &PhoneId| NumberDocument {
            id: id.to_string(),
            number: plan.numbers.get(id).cloned(),
        };
        let numbers = |ids: &mut dyn Iterator<Item = &PhoneId>| ids.map(number).collect::<Vec<_>>();
        PlanDocument {
            format_version: FORMAT_VERSION,
            talkops_version: env!("CARGO_PKG_VERSION").to_owned(),
            api_url: api_url.to_owned(),
            created_at: rfc3339(SystemTime::now()),
            summary: Summary {
                to_change: plan.changes.len(),
                unchanged: plan.unchanged,
                not_managed: plan.unmanaged,
                not_targeted: plan.untargeted,
            },
            changes: plan
                .changes
                .iter()
                .map(|c| ChangeDocument {
                    agent_id: c.id.to_string(),
                    agent_name: c.name.clone(),
                    source: c.source.clone(),
                    status: c.status.clone(),
                    numbers_managed: c.numbers_managed,
                    before: SettingsDocument {
                        direction: c.before.direction,
                        phone_numbers: numbers(&mut c.before.phone_ids.iter()),
                    },
                    after: SettingsDocument {
                        direction: Some(c.after.direction),
                        phone_numbers: numbers(&mut c.after.phone_ids.iter()),
                    },
                    direction_changes: c.direction_changes(),
                    numbers_added: numbers(&mut c.added()),
                    numbers_removed: numbers(&mut c.removed()),
                })
                .collect(),
            steps: plan
                .steps
                .iter()
                .map(|s| StepDocument {
                    change: s.change,
                    agent_id: plan.changes[s.change].id.to_string(),
                    kind: s.kind,
                    direction: s.sends.direction,
                    phone_number_ids: s.sends.phone_ids.iter().map(|p| p.to_string()).collect(),
                    after: s.after.clone(),
                    claims: s.claims.iter().map(|p| p.to_string()).collect(),
                    releases_for_others: s
                        .releases_for_others
                        .iter()
                        .map(|p| p.to_string())
                        .collect(),
                })
                .collect(),
            warnings: plan.warnings.clone(),
            overrides,
            targets: Vec::new(),
            routing_changes: plan
                .routing_changes
                .iter()
                .map(|c| RoutingChangeDocument {
                    phone_id: c.phone_id.to_string(),
                    number: plan.numbers.get(&c.phone_id).cloned(),
                    inbound_before: c.inbound_before.clone(),
                    inbound_after: c.inbound_after.clone(),
                    outbound_before: c.outbound_before.clone(),
                    outbound_after: c.outbound_after.clone(),
                })
                .collect(),
        }
    }

    /// The plan this document describes, checked for internal consistency (a hand-edited or
    /// corrupted file must not turn into PUTs nobody reviewed).
    pub fn to_plan(&self) -> Result<Plan, InvalidPlan> {
        let mut plan = Plan {
            unchanged: self.summary.unchanged,
            unmanaged: self.summary.not_managed,
            untargeted: self.summary.not_targeted,
            warnings: self.warnings.clone(),
            ..Plan::default()
        };
        plan.changes = self.changes(&mut plan.numbers)?;
        plan.steps = self.steps(&plan.changes)?;
        let mut agents = BTreeSet::new();
        if let Some(twice) = plan.changes.iter().find(|c| !agents.insert(&c.id)) {
            return Err(InvalidPlan::ChangedTwice(twice.id.to_string()));
        }
        // The steps must be exactly those the changes call for: an edited file must not turn
        // into PUTs that nobody reviewed (an extra release, a different order).
        if crate::order::order(&plan.changes) != plan.steps {
            return Err(InvalidPlan::EditedSteps);
        }
        plan.relabel();
        Ok(plan)
    }

    /// The changes, recording every number the file gives in `numbers`.
    fn changes(&self, numbers: &mut BTreeMap<PhoneId, String>) -> Result<Vec<Change>, InvalidPlan> {
        let mut ids = |list: &[NumberDocument]| -> BTreeSet<PhoneId> {
            list.iter()
                .map(|n| {
                    let id = PhoneId::new(n.id.as_str());
                    if let Some(number) = &n.number {
                        numbers.insert(id.clone(), number.clone());
                    }
                    id
                })
                .collect()
        };
        let mut changes = Vec::new();
        for c in &self.changes {
            let direction = c
                .after
                .direction
                .ok_or_else(|| InvalidPlan::NoTargetDirection(c.agent_id.clone()))?;
            changes.push(Change {
                id: AgentId::new(c.agent_id.as_str()),
                name: c.agent_name.clone(),
                source: c.source.clone(),
                status: c.status.clone(),
                numbers_managed: c.numbers_managed,
                before: Calling {
                    direction: c.before.direction,
                    phone_ids: ids(&c.before.phone_numbers),
                },
                after: DesiredCalling {
                    direction,
                    phone_ids: ids(&c.after.phone_numbers),
                },
            });
        }
        Ok(changes)
    }

    /// The steps, each checked against its change; every change has exactly one final step.
    fn steps(&self, changes: &[Change]) -> Result<Vec<Step>, InvalidPlan> {
        let mut steps = Vec::with_capacity(self.steps.len());
        let mut finals = BTreeMap::new();
        for (index, s) in self.steps.iter().enumerate() {
            let change = changes.get(s.change).ok_or(InvalidPlan::UnknownChange {
                step: index,
                change: s.change,
            })?;
            if change.id.as_str() != s.agent_id {
                return Err(InvalidPlan::WrongAgent {
                    step: index,
                    agent: s.agent_id.clone(),
                    change_agent: change.id.to_string(),
                });
            }
            if s.after.iter().any(|&d| d >= index) {
                return Err(InvalidPlan::LaterDependency(index));
            }
            let target = DesiredCalling {
                direction: s.direction,
                phone_ids: phone_ids(&s.phone_number_ids).collect(),
            };
            if s.kind == StepKind::Final {
                if target != change.after {
                    return Err(InvalidPlan::FinalMismatch(change.id.to_string()));
                }
                *finals.entry(s.change).or_insert(0) += 1;
            }
            steps.push(Step {
                change: s.change,
                kind: s.kind,
                sends: target,
                after: s.after.clone(),
                claims: phone_ids(&s.claims).collect(),
                releases_for_others: phone_ids(&s.releases_for_others).collect(),
            });
        }
        if (0..changes.len()).any(|c| finals.get(&c) != Some(&1)) {
            return Err(InvalidPlan::FinalCount);
        }
        Ok(steps)
    }
}

fn phone_ids(list: &[String]) -> impl Iterator<Item = PhoneId> + '_ {
    list.iter().map(|p| PhoneId::new(p.as_str()))
}

/// Why a saved plan cannot be performed: it does not hang together, so it may have been
/// edited or damaged, and nothing in it is trusted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPlan {
    #[error("change of agent {0} has no target direction")]
    NoTargetDirection(String),
    #[error("step {step} names change {change}, which does not exist")]
    UnknownChange { step: usize, change: usize },
    #[error("step {step} is for agent {agent}, but its change is for {change_agent}")]
    WrongAgent {
        step: usize,
        agent: String,
        change_agent: String,
    },
    #[error("step {0} depends on a later step")]
    LaterDependency(usize),
    #[error("the final step of agent {0} does not match its change")]
    FinalMismatch(String),
    #[error("every change must have exactly one final step")]
    FinalCount,
    #[error("agent {0} is changed twice")]
    ChangedTwice(String),
    #[error("its steps are not the ones its changes call for (was it edited?)")]
    EditedSteps,
}

/// A project's plan (`plan --format json` and `plan --out` in project mode): each
/// environment's plan document, sorted by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPlanDocument {
    pub format_version: u32,
    pub talkops_version: String,
    pub environments: Vec<EnvironmentPlanDocument>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentPlanDocument {
    pub name: String,
    pub plan: PlanDocument,
}

impl ProjectPlanDocument {
    /// The environments' plans, sorted by name.
    pub fn new(mut environments: Vec<EnvironmentPlanDocument>) -> ProjectPlanDocument {
        environments.sort_by(|a, b| a.name.cmp(&b.name));
        ProjectPlanDocument {
            format_version: FORMAT_VERSION,
            talkops_version: env!("CARGO_PKG_VERSION").to_owned(),
            environments,
        }
    }
}

/// A project's apply report: one entry per environment, in the order they were applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectReportDocument {
    pub format_version: u32,
    pub environments: Vec<EnvironmentReportDocument>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentReportDocument {
    pub name: String,
    /// `applied`, `failed` (some agent failed, or the apply was interrupted), `no_changes`,
    /// or `not_applied` (an earlier environment failed or the apply was interrupted first).
    pub outcome: String,
    /// The environment's report; null when it was not applied.
    pub report: Option<ReportDocument>,
}

/// apply's report as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDocument {
    pub format_version: u32,
    pub summary: ReportSummary,
    /// One per changed agent, in plan order.
    pub results: Vec<ResultDocument>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub changed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub unchanged: usize,
    pub not_managed: usize,
    /// PUT steps that completed (a retried request counts once).
    pub puts: usize,
    pub interrupted: bool,
    /// PUTs still in flight when a second interrupt abandoned them (they may or may not
    /// have been applied).
    #[serde(default)]
    pub abandoned: usize,
    /// How many numbers the plan routes differently.
    #[serde(default)]
    pub routing_changes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultDocument {
    pub agent_id: String,
    pub agent_name: String,
    /// `changed`, `failed` or `skipped`.
    pub result: String,
    /// The server's reason (failed), why (skipped), or notes (changed).
    pub detail: Vec<String>,
    /// For a failed agent: whether the change may have reached it anyway (`no`, `maybe`,
    /// `differently`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<crate::apply::Applied>,
}

impl ReportDocument {
    pub fn new(report: &crate::apply::ApplyReport) -> ReportDocument {
        use crate::apply::Outcome;
        ReportDocument {
            format_version: FORMAT_VERSION,
            summary: ReportSummary {
                changed: report.changed(),
                failed: report.failed(),
                skipped: report.skipped(),
                unchanged: report.unchanged,
                not_managed: report.unmanaged,
                puts: report.puts,
                interrupted: report.interrupted,
                abandoned: report.abandoned,
                routing_changes: report.routing_changes,
            },
            results: report
                .results
                .iter()
                .map(|r| {
                    let (result, detail, applied) = match &r.outcome {
                        Outcome::Changed { notes } => ("changed", notes.clone(), None),
                        Outcome::Failed { reason, applied } => {
                            ("failed", vec![reason.clone()], Some(*applied))
                        }
                        Outcome::Skipped { reason } => ("skipped", vec![reason.clone()], None),
                    };
                    ResultDocument {
                        agent_id: r.id.to_string(),
                        agent_name: r.name.clone(),
                        result: result.to_owned(),
                        detail,
                        applied,
                    }
                })
                .collect(),
        }
    }
}

/// RFC 3339 in UTC, to the second. A clock before 1970 or past 9999 (what the format's four
/// year digits hold) is written as the nearest end of that range rather than failing:
/// `humantime` refuses both, and a timestamp is not worth a failed command.
pub fn rfc3339(time: SystemTime) -> String {
    /// 9999-12-31T23:59:59Z, the last second `humantime` formats.
    const LAST: std::time::Duration = std::time::Duration::from_secs(253_402_300_799);
    let since_epoch = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .min(LAST);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + since_epoch).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_utc_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_835_438_400 + 3_661)),
            "2028-02-29T13:01:01Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_millis(951_868_799_999)),
            "2000-02-29T23:59:59Z",
            "to the second, truncated"
        );
    }

    #[test]
    fn rfc3339_keeps_a_clock_out_of_range_in_range_instead_of_panicking() {
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(1)),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 100)),
            "9999-12-31T23:59:59Z"
        );
    }
}
