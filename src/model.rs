//! The canonical, comparable model that both the user's YAML and the live API are converted
//! into: directions, E.164 numbers, agent and phone-number ids, and the live environment.
//!
//! Nothing here performs I/O; the API layer builds a [`LiveState`] and the desired side is
//! resolved against it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether an agent answers calls to its numbers or places calls from them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The agent answers calls to its numbers.
    Inbound,
    /// The agent places calls from its numbers.
    Outbound,
}

impl Direction {
    /// Parses the wire and config spelling, exactly `inbound` or `outbound`.
    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            _ => None,
        }
    }

    /// The wire and config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phone number in E.164 form: `+` then 2 to 15 digits, nothing else.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct E164(String);

impl E164 {
    /// Accepts exactly `+` followed by 2 to 15 ASCII digits.
    pub fn parse(text: &str) -> Option<E164> {
        let digits = text.strip_prefix('+')?;
        let ok = (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| E164(text.to_owned()))
    }

    /// The number as written, with its leading `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Shared, not copied: an id is held by the live state, the resolved config, the routing
        /// index and the plan at once, and at 50,000 agents a copy in each would be megabytes
        /// (a clone is a reference count). Compared, ordered and hashed as its text.
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(std::sync::Arc<str>);

        impl $name {
            /// Wraps an id exactly as the API gives it; its shape is never parsed.
            pub fn new(id: impl Into<String>) -> Self {
                $name(std::sync::Arc::from(id.into()))
            }

            /// The id as the API spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name::new)
            }
        }
    };
}

opaque_id!(
    /// An agent's opaque id (a UUID, `agent_123456`, ...: never validated).
    AgentId
);
opaque_id!(
    /// A phone number's opaque id in the environment.
    PhoneId
);

/// One agent as the live environment has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveAgent {
    pub id: AgentId,
    pub name: String,
    /// `None` when the API sent no direction or one talkops does not know. Wherever safety is
    /// judged, `None` counts as "may be inbound": see [`LiveAgent::may_answer`].
    pub direction: Option<Direction>,
    /// The direction as the API spelled it when talkops does not know it (`"both"`), for
    /// messages; `None` when it is known or was not sent.
    pub direction_text: Option<String>,
    /// `draft` or `published` as the API reports it, when it does.
    pub status: Option<String>,
    pub phone_ids: BTreeSet<PhoneId>,
}

/// The environment as read from the API: its agents and its phone numbers.
#[derive(Clone, Debug, Default)]
pub struct LiveState {
    /// Every agent, keyed by id.
    pub agents: BTreeMap<AgentId, LiveAgent>,
    /// The environment's phone numbers (`GET /phone-numbers`): id to number as the API gives
    /// it, `None` when the API gave none (the id is still a valid number to assign).
    pub phone_numbers: BTreeMap<PhoneId, Option<String>>,
    /// Numbers seen only inside an agent's `phone_numbers`, for display; never used to resolve
    /// the config, which may name only numbers that exist in the environment.
    pub extra_labels: BTreeMap<PhoneId, String>,
    /// Agents whose numbers the API did not give (`phone_numbers` missing or `null`, in the
    /// list and when read alone). Their `phone_ids` is empty, which here means *unknown*:
    /// such an agent cannot be planned, and one that may answer calls blocks every plan.
    pub unknown_numbers: BTreeSet<AgentId>,
    /// The routing index, built on first use: a `LiveState` is not changed once it is read.
    routing: std::sync::OnceLock<RoutingIndex>,
}

/// An agent as every message names it: `"Name" (id X)` (the name quoted and escaped, so that
/// an odd name cannot pass for something else).
pub fn agent_label(name: &str, id: &AgentId) -> String {
    format!("{name:?} (id {id})")
}

/// Who each phone number routes to in the live environment: the agents that answer it (or
/// may: inbound, or a direction talkops does not know) and those that call from it
/// (outbound). Built once per [`LiveState`], on first use ([`LiveState::routing`]); the one
/// place that says "who answers this number", for resolution, the guards, the drift checks
/// and export.
#[derive(Clone, Copy, Debug)]
pub struct Routing<'a> {
    live: &'a LiveState,
    index: &'a RoutingIndex,
}

/// The index behind [`Routing`]: agent ids by number, in id order.
#[derive(Clone, Debug, Default)]
pub struct RoutingIndex {
    answerers: BTreeMap<PhoneId, Vec<AgentId>>,
    callers: BTreeMap<PhoneId, Vec<AgentId>>,
}

impl RoutingIndex {
    fn new(live: &LiveState) -> RoutingIndex {
        let mut answerers = Vec::new();
        let mut callers = Vec::new();
        for agent in live.agents.values() {
            let side = if agent.may_answer() {
                &mut answerers
            } else {
                &mut callers
            };
            side.extend(agent.phone_ids.iter().map(|phone| (phone, &agent.id)));
        }
        RoutingIndex {
            answerers: by_phone(answerers),
            callers: by_phone(callers),
        }
    }
}

/// The agents of each phone, in id order (the order `pairs` has them in). Sorted and grouped
/// first, then built in one pass: at 50,000 agents that is several times quicker than
/// inserting each pair, and the map's nodes come out full.
fn by_phone(mut pairs: Vec<(&PhoneId, &AgentId)>) -> BTreeMap<PhoneId, Vec<AgentId>> {
    // Stable: the agents of one phone stay in id order.
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut grouped: Vec<(PhoneId, Vec<AgentId>)> = Vec::new();
    for (phone, agent) in pairs {
        match grouped.last_mut() {
            Some((last, agents)) if last == phone => agents.push(agent.clone()),
            // Most numbers have one agent on a side: a list sized for one, not four.
            _ => grouped.push((phone.clone(), vec![agent.clone()])),
        }
    }
    grouped.into_iter().collect()
}

impl<'a> Routing<'a> {
    fn agents(&self, ids: Option<&'a Vec<AgentId>>) -> Vec<&'a LiveAgent> {
        ids.into_iter()
            .flatten()
            .filter_map(|id| self.live.agents.get(id))
            .collect()
    }

    /// The agents that answer `phone`, or may (by id order).
    pub fn answerers(&self, phone: &PhoneId) -> Vec<&'a LiveAgent> {
        self.agents(self.index.answerers.get(phone))
    }

    /// The outbound agents that call from `phone` (by id order).
    pub fn callers(&self, phone: &PhoneId) -> Vec<&'a LiveAgent> {
        self.agents(self.index.callers.get(phone))
    }

    /// Every number someone answers or may answer, with those agents.
    pub fn answered(self) -> impl Iterator<Item = (&'a PhoneId, Vec<&'a LiveAgent>)> + 'a {
        self.index
            .answerers
            .iter()
            .map(move |(phone, ids)| (phone, self.agents(Some(ids))))
    }
}

impl LiveAgent {
    /// Whether the agent answers, or may answer, calls to its numbers: inbound, or a
    /// direction talkops does not know (missing, or a value like `"both"`).
    pub fn may_answer(&self) -> bool {
        self.direction != Some(Direction::Outbound)
    }

    /// The direction for people: `inbound`, `outbound`, or what the API said and why it is
    /// not understood.
    pub fn direction_shown(&self) -> String {
        match (self.direction, &self.direction_text) {
            (Some(direction), _) => direction.to_string(),
            (None, Some(text)) => format!("{text:?} (not inbound or outbound)"),
            (None, None) => "(not given by the API)".to_owned(),
        }
    }
}

impl LiveState {
    /// Who answers and who calls each number (built once, on first use).
    pub fn routing(&self) -> Routing<'_> {
        Routing {
            live: self,
            index: self.routing.get_or_init(|| RoutingIndex::new(self)),
        }
    }

    /// How a phone id is shown to people: its number when known, else the id itself.
    pub fn label(&self, id: &PhoneId) -> String {
        self.phone_numbers
            .get(id)
            .and_then(Option::as_ref)
            .or_else(|| self.extra_labels.get(id))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_accepts_plus_and_2_to_15_digits_only() {
        for good in ["+14155550100", "+44", "+123456789012345"] {
            assert!(E164::parse(good).is_some(), "{good}");
        }
        for bad in [
            "14155550100",
            "+1",
            "+1234567890123456",
            "+1 415 555 0100",
            "+1-415",
            "+",
            "",
            "++14155550100",
            "+１２３",
        ] {
            assert!(E164::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn routing_knows_who_answers_and_who_calls_each_number() {
        let mut live = LiveState::default();
        for (id, direction, phones) in [
            ("a", Some(Direction::Inbound), &["1", "2"][..]),
            ("b", Some(Direction::Outbound), &["1"][..]),
            ("c", None, &["2"][..]),
        ] {
            live.agents.insert(
                AgentId::new(id),
                LiveAgent {
                    id: AgentId::new(id),
                    name: id.into(),
                    direction,
                    direction_text: None,
                    status: None,
                    phone_ids: phones.iter().map(|p| PhoneId::new(*p)).collect(),
                },
            );
        }
        let routing = live.routing();
        let ids = |agents: Vec<&LiveAgent>| -> Vec<String> {
            agents.iter().map(|a| a.id.to_string()).collect()
        };
        assert_eq!(ids(routing.answerers(&PhoneId::new("1"))), ["a"]);
        assert_eq!(ids(routing.callers(&PhoneId::new("1"))), ["b"]);
        assert_eq!(
            ids(routing.answerers(&PhoneId::new("2"))),
            ["a", "c"],
            "unknown may answer"
        );
        assert!(routing.answerers(&PhoneId::new("9")).is_empty());
        assert_eq!(
            agent_label("A \"x\"", &AgentId::new("a")),
            "\"A \\\"x\\\"\" (id a)"
        );
    }

    #[test]
    fn direction_parses_only_exact_spellings() {
        assert_eq!(Direction::parse("inbound"), Some(Direction::Inbound));
        assert_eq!(Direction::parse("outbound"), Some(Direction::Outbound));
        assert_eq!(Direction::parse("Inbound"), None);
        assert_eq!(Direction::parse(" inbound"), None);
    }
}
