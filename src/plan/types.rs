//! Every plan data type: the changes, the ordered steps, the guard warnings and the flags
//! that accept them, and how phone ids are labelled. Plain data, no I/O; built by
//! [`crate::plan::build`], rendered by [`crate::render`], executed by [`crate::apply`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::{AgentId, Direction, PhoneId};

/// An agent's calling settings: direction and the set of its phone numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Calling {
    /// `None` only for a live agent whose direction the API did not report.
    pub direction: Option<Direction>,
    pub phone_ids: BTreeSet<PhoneId>,
}

/// The calling settings the config asks for; the direction is always known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DesiredCalling {
    pub direction: Direction,
    pub phone_ids: BTreeSet<PhoneId>,
}

impl DesiredCalling {
    /// Whether `current` already is this target.
    pub fn is_met_by(&self, current: &Calling) -> bool {
        current.direction == Some(self.direction) && current.phone_ids == self.phone_ids
    }
}

/// One agent whose calling settings differ from the config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub id: AgentId,
    pub name: String,
    /// Where the agent is declared (`file:line`).
    pub source: String,
    /// The agent's publishing status, which talkops never changes.
    pub status: Option<String>,
    /// False when the config omits `phone_numbers`: `after` then keeps the current numbers.
    pub numbers_managed: bool,
    pub before: Calling,
    pub after: DesiredCalling,
}

impl Change {
    /// Numbers the agent gains.
    pub fn added(&self) -> impl Iterator<Item = &PhoneId> {
        self.after.phone_ids.difference(&self.before.phone_ids)
    }

    /// Numbers the agent loses.
    pub fn removed(&self) -> impl Iterator<Item = &PhoneId> {
        self.before.phone_ids.difference(&self.after.phone_ids)
    }

    /// Whether the direction changes (and not only the numbers).
    pub fn direction_changes(&self) -> bool {
        self.before.direction != Some(self.after.direction)
    }
}

/// Everything `plan` found and `apply` would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Agents to change, sorted by name then id.
    pub changes: Vec<Change>,
    /// Declared agents already as declared.
    pub unchanged: usize,
    /// Live agents the config does not declare: never touched.
    pub unmanaged: usize,
    /// Declared agents left out by `--target`.
    pub untargeted: usize,
    /// The number of each phone id in the plan, where the API gave one.
    pub numbers: BTreeMap<PhoneId, String>,
    /// How each phone id in the plan is shown (see [`labels`]).
    pub labels: BTreeMap<PhoneId, String>,
    /// The PUTs to make, in a safe order, with their dependencies (see [`crate::order`]).
    pub steps: Vec<Step>,
    /// Guards this plan trips (see [`crate::guards`]); filled in after the diff.
    pub warnings: Vec<Warning>,
    /// The numbers whose callers reach someone else after the plan (see
    /// [`crate::plan::routing_changes`]), sorted by label then phone id.
    pub routing_changes: Vec<RoutingChange>,
}

/// An agent as a routing change shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutedAgent {
    pub agent_id: AgentId,
    pub agent_name: String,
    /// How people are shown it: the quoted name, with the id where the name is not unique
    /// in the environment. Not saved: it is worked out again from a fresh read.
    #[serde(skip)]
    pub shown: String,
}

/// One number whose inbound answerers or outbound callers change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingChange {
    pub phone_id: PhoneId,
    /// How the number is shown (its E.164 number where known). Not saved.
    #[serde(skip)]
    pub shown: String,
    /// Who answers it (or may: an agent of unknown direction counts), before and after.
    pub inbound_before: Vec<RoutedAgent>,
    pub inbound_after: Vec<RoutedAgent>,
    /// Who dials out from it, before and after.
    pub outbound_before: Vec<RoutedAgent>,
    pub outbound_after: Vec<RoutedAgent>,
}

impl Plan {
    /// Whether applying the plan would write anything.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Recomputes `labels` from the changes and `numbers`.
    pub fn relabel(&mut self) {
        self.labels = labels(&self.changes, &self.numbers);
    }

    /// Whether the order of the PUTs matters: some claim needs a release first.
    pub fn order_matters(&self) -> bool {
        self.steps
            .iter()
            .any(|s| !s.claims.is_empty() && !s.after.is_empty())
    }

    /// The label of a phone id, falling back to the live environment's for a number this
    /// plan does not touch: the one way every message shows a number.
    pub fn label_with(&self, live: &crate::model::LiveState, id: &PhoneId) -> String {
        self.labels
            .get(id)
            .cloned()
            .unwrap_or_else(|| live.label(id))
    }

    /// The label of a phone id (its number when known).
    pub fn label<'a>(&'a self, id: &'a PhoneId) -> &'a str {
        self.labels.get(id).map_or(id.as_str(), String::as_str)
    }
}

/// Whether a step is an agent's final PUT or an intermediate one that breaks a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// Keeps the agent's direction and drops the numbers it is losing, claiming none.
    Release,
    /// Puts the agent in its desired state.
    Final,
}

/// One PUT of an apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Index of the agent's change in `Plan::changes`.
    pub change: usize,
    pub kind: StepKind,
    /// What this PUT sends.
    pub sends: DesiredCalling,
    /// Steps (indices into the step list) that must succeed before this one runs.
    pub after: Vec<usize>,
    /// Numbers this PUT makes the agent answer that it did not answer before.
    pub claims: Vec<PhoneId>,
    /// Numbers this PUT stops the agent answering that another agent's PUT claims.
    pub releases_for_others: Vec<PhoneId>,
}

/// When a plan counts as "large".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// More than this percentage of the managed agents changing is large...
    pub max_change_percent: u32,
    /// ...when at least this many agents are managed.
    pub min_managed: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_change_percent: 30,
            min_managed: 10,
        }
    }
}

/// The flag that lets apply go ahead despite a warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardFlag {
    Force,
    AllowUnrouted,
}

impl GuardFlag {
    pub fn flag(self) -> &'static str {
        match self {
            GuardFlag::Force => "--force",
            GuardFlag::AllowUnrouted => "--allow-unrouted",
        }
    }
}

/// Which guard a warning comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardKind {
    ChangeSize,
    Unrouted,
    CallbackRole,
    /// A changed agent's current direction is one talkops does not know.
    UnknownDirection,
}

/// A reason to stop and think before applying.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub kind: GuardKind,
    pub message: String,
    /// The flag that accepts it.
    pub needs: GuardFlag,
}

/// Whether an agent whose direction was `before` (`None`: not known) turns outbound: the one
/// change the callback role cares about, since only inbound agents receive callbacks.
pub fn turns_outbound(before: Option<Direction>, after: Direction) -> bool {
    before != Some(Direction::Outbound) && after == Direction::Outbound
}

/// How each phone id of the changes is shown: its number; the id too where two ids share a
/// number (or a number is unknown), since a change must never look like no change.
pub fn labels(
    changes: &[Change],
    numbers: &BTreeMap<PhoneId, String>,
) -> BTreeMap<PhoneId, String> {
    let mut labels = BTreeMap::new();
    for change in changes {
        for id in change
            .before
            .phone_ids
            .iter()
            .chain(&change.after.phone_ids)
        {
            let label = numbers.get(id).cloned().unwrap_or_else(|| id.to_string());
            labels.insert(id.clone(), label);
        }
    }
    disambiguate(&mut labels);
    labels
}

/// Two phone ids showing the same number (or a number without one, shown by id) would make a
/// change look like no change; such labels carry their id.
fn disambiguate(labels: &mut BTreeMap<PhoneId, String>) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for label in labels.values() {
        *seen.entry(label.clone()).or_default() += 1;
    }
    for (id, label) in labels.iter_mut() {
        if label == id.as_str() {
            *label = format!("(id {id}, number unknown)");
        } else if seen.get(label.as_str()).copied().unwrap_or(0) > 1 {
            *label = format!("{label} (id {id})");
        }
    }
}
