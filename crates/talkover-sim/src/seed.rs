//! The seed: what a simulated environment holds when it starts, as loaded from JSON.
//!
//! This module owns the seed format and its checks (unique ids, no dangling number
//! references, the callback role on inbound agents only). It does not decide how the seed is served; see `state` and `wire`.
//! Values such as an agent's `direction` are kept exactly as given, so a seed can
//! model a server that returns something unexpected.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What the simulated environment holds at start, loadable from JSON.
///
/// Agents are served in the order given here, which is the stable order of
/// `GET /api/v1/agents`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Seed {
    /// The environment's agents, in list order.
    #[serde(default)]
    pub agents: Vec<SeedAgent>,
    /// The environment's phone numbers, in list order.
    #[serde(default)]
    pub phone_numbers: Vec<SeedPhoneNumber>,
}

/// One agent of a [`Seed`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeedAgent {
    /// Opaque id, unique within the seed.
    pub id: String,
    /// Display name; not required to be unique, like the real service.
    pub name: String,
    /// Optional label, also matched by the list's `search` filter.
    #[serde(default)]
    pub label: Option<String>,
    /// `"inbound"` or `"outbound"`; kept as given.
    pub direction: String,
    /// `"draft"` or `"published"` (the default); kept as given.
    #[serde(default = "published")]
    pub current_status: String,
    /// Ids into [`Seed::phone_numbers`], in the order the agent holds them.
    #[serde(default)]
    pub phone_number_ids: Vec<String>,
    /// Whether it holds the callback role (listed by `GET /api/v1/callback-agents`).
    /// Only an inbound agent may hold it.
    #[serde(default)]
    pub callback: bool,
}

/// One phone number of a [`Seed`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeedPhoneNumber {
    /// Opaque id, unique within the seed.
    pub id: String,
    /// E.164, e.g. `"+14155550100"`.
    pub number: String,
    /// ISO country code such as `"US"`; derived from the number's prefix when absent.
    #[serde(default)]
    pub country_code: Option<String>,
    /// National formatting such as `"(415) 555-0100"`; derived when absent.
    #[serde(default)]
    pub formatted_number: Option<String>,
    /// Number type such as `"local"` (the default) or `"toll_free"`.
    #[serde(default)]
    pub r#type: Option<String>,
}

fn published() -> String {
    "published".to_owned()
}

impl Seed {
    /// Parses a seed from JSON text and checks it (see [`Seed::validate`]).
    ///
    /// A seed that parses but fails the checks is reported as a `serde_json` error
    /// carrying the check's message, so callers have one error type to handle.
    pub fn from_json(text: &str) -> Result<Seed, serde_json::Error> {
        let seed: Seed = serde_json::from_str(text)?;
        seed.validate()
            .map_err(<serde_json::Error as serde::de::Error>::custom)?;
        Ok(seed)
    }

    /// Checks that ids are unique, that every agent's `phone_number_ids` names a
    /// number of the seed, and that only inbound agents hold the callback role.
    pub fn validate(&self) -> Result<(), SeedError> {
        let mut numbers = HashSet::new();
        for number in &self.phone_numbers {
            if !numbers.insert(number.id.as_str()) {
                return Err(SeedError::DuplicatePhoneNumberId(number.id.clone()));
            }
        }
        let mut agents = HashSet::new();
        for agent in &self.agents {
            if !agents.insert(agent.id.as_str()) {
                return Err(SeedError::DuplicateAgentId(agent.id.clone()));
            }
            if agent.callback && agent.direction != "inbound" {
                return Err(SeedError::CallbackNotInbound {
                    agent_id: agent.id.clone(),
                    direction: agent.direction.clone(),
                });
            }
            if let Some(missing) = agent
                .phone_number_ids
                .iter()
                .find(|id| !numbers.contains(id.as_str()))
            {
                return Err(SeedError::UnknownPhoneNumber {
                    agent_id: agent.id.clone(),
                    phone_number_id: missing.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Why a [`Seed`] cannot be served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedError {
    /// Two agents share an id.
    DuplicateAgentId(String),
    /// Two phone numbers share an id.
    DuplicatePhoneNumberId(String),
    /// An agent refers to a phone number id the seed does not define.
    UnknownPhoneNumber {
        /// The agent holding the reference.
        agent_id: String,
        /// The id it names.
        phone_number_id: String,
    },
    /// An agent holds the callback role but is not inbound.
    CallbackNotInbound {
        /// The agent.
        agent_id: String,
        /// Its direction as given.
        direction: String,
    },
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeedError::DuplicateAgentId(id) => write!(f, "duplicate agent id {id:?}"),
            SeedError::DuplicatePhoneNumberId(id) => {
                write!(f, "duplicate phone number id {id:?}")
            }
            SeedError::UnknownPhoneNumber {
                agent_id,
                phone_number_id,
            } => write!(
                f,
                "agent {agent_id:?} names phone number id {phone_number_id:?}, which the seed does not define"
            ),
            SeedError::CallbackNotInbound {
                agent_id,
                direction,
            } => write!(
                f,
                "agent {agent_id:?} holds the callback role but its direction is {direction:?}: only an inbound agent may hold it"
            ),
        }
    }
}

impl std::error::Error for SeedError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_in() {
        let seed = Seed::from_json(
            r#"{"agents": [{"id": "a1", "name": "Sales", "direction": "inbound"}]}"#,
        )
        .unwrap();
        assert_eq!(seed.agents[0].current_status, "published");
        assert_eq!(seed.agents[0].label, None);
        assert!(seed.agents[0].phone_number_ids.is_empty());
        assert!(!seed.agents[0].callback);
        assert!(seed.phone_numbers.is_empty());
        assert!(Seed::from_json("{}").unwrap().agents.is_empty());
    }

    #[test]
    fn dangling_number_is_rejected() {
        let err = Seed::from_json(
            r#"{"agents": [{"id": "a1", "name": "S", "direction": "inbound", "phone_number_ids": ["p9"]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"agent "a1" names phone number id "p9", which the seed does not define"#
        );
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let err = Seed::from_json(
            r#"{"phone_numbers": [{"id": "p1", "number": "+1"}, {"id": "p1", "number": "+2"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), r#"duplicate phone number id "p1""#);
        let err = Seed::from_json(
            r#"{"agents": [{"id": "a", "name": "x", "direction": "inbound"}, {"id": "a", "name": "y", "direction": "outbound"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), r#"duplicate agent id "a""#);
    }

    #[test]
    fn only_an_inbound_agent_may_hold_the_callback_role() {
        let err = Seed::from_json(
            r#"{"agents": [{"id": "a1", "name": "S", "direction": "outbound", "callback": true}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"agent "a1" holds the callback role but its direction is "outbound": only an inbound agent may hold it"#
        );
        let seed = Seed::from_json(
            r#"{"agents": [{"id": "a1", "name": "S", "direction": "inbound", "callback": true}]}"#,
        )
        .unwrap();
        assert!(seed.agents[0].callback);
    }

    #[test]
    fn syntax_errors_keep_their_position() {
        let err = Seed::from_json(r#"{"agents": [,]}"#).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn example_seed_is_valid() {
        let seed = Seed::from_json(include_str!("../seeds/example.json")).unwrap();
        assert_eq!(seed.agents.len(), 3);
        assert_eq!(seed.phone_numbers.len(), 4);
    }
}
