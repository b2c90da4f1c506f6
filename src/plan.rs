//! The plan: which agents change, from what to what, and how many are left alone.
//!
//! A plan is plain data, built by [`crate::diff::diff`] and rendered by [`crate::render`];
//! apply executes it. Nothing here performs I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::guards::Warning;
use crate::order::Step;
use crate::state::{AgentId, Direction, PhoneId};

/// An agent's calling settings: direction and the set of its phone numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Calling {
    /// `None` only for a live agent whose direction the API did not report.
    pub direction: Option<Direction>,
    pub phone_ids: BTreeSet<PhoneId>,
}

/// The calling settings the config asks for; the direction is always known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    pub direction: Direction,
    pub phone_ids: BTreeSet<PhoneId>,
}

impl Target {
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
    pub after: Target,
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
    /// How each phone id in the plan is shown (see [`crate::diff::labels`]).
    pub labels: BTreeMap<PhoneId, String>,
    /// The PUTs to make, in a safe order, with their dependencies (see [`crate::order`]).
    pub steps: Vec<Step>,
    /// Guards this plan trips (see [`crate::guards`]); filled in after the diff.
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// Whether applying the plan would write anything.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Recomputes `labels` from the changes and `numbers`.
    pub fn relabel(&mut self) {
        self.labels = crate::diff::labels(&self.changes, &self.numbers);
    }

    /// Whether the order of the PUTs matters: some claim needs a release first.
    pub fn order_matters(&self) -> bool {
        self.steps
            .iter()
            .any(|s| !s.claims.is_empty() && !s.after.is_empty())
    }

    /// The label of a phone id (its number when known).
    pub fn label<'a>(&'a self, id: &'a PhoneId) -> &'a str {
        self.labels.get(id).map_or(id.as_str(), String::as_str)
    }
}
