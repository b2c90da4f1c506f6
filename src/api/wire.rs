//! The Talkover API's JSON as talkops reads and writes it: lenient on input (unknown fields
//! ignored, most fields optional, ids accepted as strings or numbers), exact on output.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize};

use crate::model::{AgentId, Direction, LiveAgent, LiveState, PhoneId};

/// `{"success": ..., "data": ..., "message"?: ..., "meta"?: ...}`. Every field is optional
/// here so that a hostile or odd answer is judged by [`Envelope::into_parts`], which says
/// what is wrong, rather than by a serde message.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    #[serde(default)]
    pub success: Option<serde_json::Value>,
    #[serde(default)]
    pub message: Option<serde_json::Value>,
    /// A missing field reads as `None` for an `Option` without `#[serde(default)]` (which
    /// would demand `T: Default`).
    pub data: Option<T>,
    #[serde(default)]
    pub meta: Option<Meta>,
}

/// Why an envelope cannot be used, before its data is looked at.
#[derive(Debug, PartialEq, Eq)]
pub enum EnvelopeProblem {
    /// `success: false` (the server's message, verbatim, when it gave one).
    Refused(Option<String>),
    /// `success` missing, `null` or not a boolean.
    NoSuccess(String),
    /// `data` missing or `null`.
    NoData,
}

impl<T> Envelope<T> {
    /// The data and the paging metadata of an answer that says `success: true` and carries
    /// `data`; anything else is a problem, never an empty list.
    pub fn into_parts(self) -> Result<(T, Option<Meta>), EnvelopeProblem> {
        match self.success {
            Some(serde_json::Value::Bool(true)) => {}
            Some(serde_json::Value::Bool(false)) => {
                let message = match self.message {
                    Some(serde_json::Value::String(text)) => Some(text),
                    Some(serde_json::Value::Null) | None => None,
                    Some(other) => Some(other.to_string()),
                };
                return Err(EnvelopeProblem::Refused(message));
            }
            None => return Err(EnvelopeProblem::NoSuccess("no `success` field".into())),
            Some(other) => {
                let shown: String = other.to_string().chars().take(40).collect();
                return Err(EnvelopeProblem::NoSuccess(format!(
                    "`success` is {shown}, not true"
                )));
            }
        }
        match self.data {
            Some(data) => Ok((data, self.meta)),
            None => Err(EnvelopeProblem::NoData),
        }
    }
}

/// Pagination metadata of list responses.
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Meta {
    /// The page count; it already accounts for a server that serves fewer than asked for.
    #[serde(default)]
    pub last_page: Option<u64>,
    /// What the server actually serves per page (it may clamp what was asked).
    #[serde(default)]
    pub per_page: Option<u64>,
    /// How many items there are in all.
    #[serde(default)]
    pub total: Option<u64>,
}

impl Meta {
    /// The number of pages: `last_page`, else derived from `total` and the `per_page` the
    /// server reports, else 1 (a list without pagination).
    pub fn pages(&self) -> u64 {
        match (self.last_page, self.total, self.per_page) {
            (Some(last), _, _) => last,
            (None, Some(total), Some(per_page)) if per_page > 0 => total.div_ceil(per_page).max(1),
            _ => 1,
        }
    }
}

/// The fields of an agent that talkops uses.
#[derive(Debug, Deserialize)]
pub struct Agent {
    #[serde(deserialize_with = "opaque_id")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub current_status: Option<String>,
    /// `None` when the field is missing or `null`: the numbers are then *unknown*, never
    /// "none" (`[]` is none).
    #[serde(default)]
    pub phone_numbers: Option<Vec<AgentPhoneNumber>>,
}

/// A number as embedded in an agent.
#[derive(Debug, Deserialize)]
pub struct AgentPhoneNumber {
    #[serde(deserialize_with = "opaque_id")]
    pub id: String,
    #[serde(default)]
    pub number: Option<String>,
}

/// An item of `GET /phone-numbers`.
#[derive(Debug, Deserialize)]
pub struct PhoneNumber {
    #[serde(deserialize_with = "opaque_id")]
    pub id: String,
    #[serde(default)]
    pub number: Option<String>,
}

/// The body of `PUT /agents/{id}/calling`: always the complete list of numbers.
#[derive(Debug, Serialize)]
pub struct CallingRequest<'a> {
    pub direction: &'a str,
    pub phone_number_ids: Vec<&'a str>,
}

/// The `data` of a successful PUT.
#[derive(Debug, Deserialize)]
pub struct CallingResponse {
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub current_status: Option<String>,
    /// `None` when the response leaves the numbers out.
    #[serde(default)]
    pub phone_numbers: Option<Vec<AgentPhoneNumber>>,
}

/// Error bodies come in several documented shapes; every field is optional.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub errors: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub error: Option<NestedError>,
}

/// The nested `{"error": {"code", "message", "details"}}` form.
#[derive(Debug, Default, Deserialize)]
pub struct NestedError {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub details: Option<serde_json::Value>,
}

/// The live state from what the reads gave: the environment's numbers, the agent list, and
/// the agents read alone because the list left their numbers out (by id).
///
/// Each map is built in one pass from its sorted entries rather than by one insert each: at
/// 50,000 agents and 100,000 numbers that is a sort instead of 150,000 searches among string
/// keys, and the maps' nodes come out full (a third less memory than grown by inserts). The
/// phone ids an agent holds share their text with the environment's list.
pub fn live_state(
    phones: Vec<PhoneNumber>,
    agents: Vec<Agent>,
    mut reread: BTreeMap<String, Agent>,
) -> LiveState {
    let mut live = LiveState::default();
    live.phone_numbers = phones
        .into_iter()
        .map(|phone| (PhoneId::new(phone.id), phone.number))
        .collect();
    let mut unknown_numbers = Vec::new();
    let mut live_agents = Vec::with_capacity(agents.len());
    for listed in agents {
        let agent = match listed.phone_numbers {
            Some(_) => listed,
            None => reread.remove(&listed.id).unwrap_or(listed),
        };
        let id = AgentId::new(agent.id);
        let phone_ids = match agent.phone_numbers {
            Some(list) => {
                let mut phone_ids = Vec::with_capacity(list.len());
                for phone in list {
                    let phone_id = PhoneId::new(phone.id);
                    match live.phone_numbers.get_key_value(&phone_id) {
                        Some((known, _)) => phone_ids.push(known.clone()),
                        None => {
                            if let Some(number) = phone.number {
                                live.extra_labels.insert(phone_id.clone(), number);
                            }
                            phone_ids.push(phone_id);
                        }
                    }
                }
                phone_ids.into_iter().collect()
            }
            None => {
                unknown_numbers.push(id.clone());
                BTreeSet::new()
            }
        };
        let direction = agent.direction.as_deref().and_then(Direction::parse);
        let direction_text = match (agent.direction, direction) {
            (Some(text), None) => Some(text),
            _ => None,
        };
        live_agents.push((
            id.clone(),
            LiveAgent {
                id,
                name: agent.name.unwrap_or_default(),
                direction,
                direction_text,
                status: agent.current_status,
                phone_ids,
            },
        ));
    }
    live.agents = live_agents.into_iter().collect();
    live.unknown_numbers = unknown_numbers.into_iter().collect();
    live
}

/// Ids are opaque strings; a server that sends a number is tolerated.
///
/// A visitor rather than an untagged enum: serde buffers an untagged value before trying each
/// variant, which cost two allocations and copies for each of the 200,000 ids of a 50,000-
/// agent read.
fn opaque_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct OpaqueId;

    impl serde::de::Visitor<'_> for OpaqueId {
        type Value = String;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or a number")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<String, E> {
            Ok(text.to_owned())
        }

        fn visit_string<E: serde::de::Error>(self, text: String) -> Result<String, E> {
            Ok(text)
        }

        fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<String, E> {
            Ok(number.to_string())
        }

        fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<String, E> {
            Ok(number.to_string())
        }

        fn visit_f64<E: serde::de::Error>(self, number: f64) -> Result<String, E> {
            // As serde_json prints it, which is what the untagged `Number` gave before.
            Ok(serde_json::Number::from_f64(number)
                .map_or_else(|| number.to_string(), |n| n.to_string()))
        }
    }

    deserializer.deserialize_any(OpaqueId)
}

#[cfg(test)]
mod tests {
    use super::{Envelope, EnvelopeProblem, Meta};
    use crate::model::{AgentId, Direction, PhoneId};

    fn parts(body: &str) -> Result<(Vec<u32>, Option<Meta>), EnvelopeProblem> {
        serde_json::from_str::<Envelope<Vec<u32>>>(body)
            .expect("an envelope")
            .into_parts()
    }

    #[test]
    fn only_success_true_with_data_is_data() {
        assert_eq!(
            parts(r#"{"success": true, "data": [1]}"#).map(|p| p.0),
            Ok(vec![1])
        );
        assert_eq!(
            parts(r#"{"success": true, "data": []}"#).map(|p| p.0),
            Ok(vec![])
        );
        assert_eq!(
            parts(r#"{"success": false, "message": "Nope.", "data": [1]}"#),
            Err(EnvelopeProblem::Refused(Some("Nope.".into())))
        );
        assert_eq!(
            parts(r#"{"success": false}"#),
            Err(EnvelopeProblem::Refused(None))
        );
        assert_eq!(
            parts(r#"{"success": true, "data": null}"#),
            Err(EnvelopeProblem::NoData)
        );
        assert_eq!(parts(r#"{"success": true}"#), Err(EnvelopeProblem::NoData));
        assert!(matches!(
            parts(r#"{"data": [1]}"#),
            Err(EnvelopeProblem::NoSuccess(_))
        ));
        assert!(matches!(
            parts(r#"{"success": "true", "data": [1]}"#),
            Err(EnvelopeProblem::NoSuccess(_))
        ));
        assert!(matches!(
            parts(r#"{"success": null, "data": [1]}"#),
            Err(EnvelopeProblem::NoSuccess(_))
        ));
    }

    #[test]
    fn the_live_state_keeps_what_each_read_says() {
        let agents: Vec<super::Agent> = serde_json::from_str(
            r#"[
                {"id": "b", "name": "B", "direction": "both", "phone_numbers": [{"id": "p1", "number": "+1"}, {"id": "x9", "number": "+9"}]},
                {"id": "a", "name": "A", "direction": "inbound", "current_status": "published", "phone_numbers": [{"id": "p2"}]},
                {"id": "c", "direction": "outbound"},
                {"id": "d", "direction": "outbound", "phone_numbers": null}
            ]"#,
        )
        .expect("agents");
        let phones: Vec<super::PhoneNumber> =
            serde_json::from_str(r#"[{"id": "p2", "number": "+2"}, {"id": "p1"}]"#)
                .expect("numbers");
        let reread: Vec<super::Agent> = serde_json::from_str(
            r#"[{"id": "c", "direction": "inbound", "phone_numbers": [{"id": "p2"}]}]"#,
        )
        .expect("reread");
        let reread = reread.into_iter().map(|a| (a.id.clone(), a)).collect();
        let live = super::live_state(phones, agents, reread);
        let ids = |id: &str| -> Vec<&str> {
            live.agents[&AgentId::new(id)]
                .phone_ids
                .iter()
                .map(PhoneId::as_str)
                .collect()
        };
        assert_eq!(
            live.agents.keys().map(AgentId::as_str).collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
        assert_eq!(ids("b"), ["p1", "x9"]);
        assert_eq!(ids("c"), ["p2"], "the agent read alone gives the numbers");
        assert!(ids("d").is_empty());
        assert_eq!(
            live.unknown_numbers
                .iter()
                .map(AgentId::as_str)
                .collect::<Vec<_>>(),
            ["d"]
        );
        let b = &live.agents[&AgentId::new("b")];
        assert_eq!(
            (b.direction, b.direction_text.as_deref()),
            (None, Some("both"))
        );
        let a = &live.agents[&AgentId::new("a")];
        assert_eq!(a.status.as_deref(), Some("published"));
        assert_eq!(
            live.agents[&AgentId::new("c")].direction,
            Some(Direction::Inbound)
        );
        assert_eq!(live.agents[&AgentId::new("c")].name, "");
        // A number only an agent shows is a label, never one of the environment's numbers.
        assert_eq!(live.phone_numbers.len(), 2);
        assert_eq!(live.phone_numbers[&PhoneId::new("p1")], None);
        assert_eq!(live.label(&PhoneId::new("x9")), "+9");
        assert!(!live.extra_labels.contains_key(&PhoneId::new("p1")));
    }

    #[test]
    fn ids_are_strings_or_numbers_as_json_prints_them() {
        let id = |json: &str| {
            serde_json::from_str::<super::PhoneNumber>(&format!(r#"{{"id": {json}}}"#))
                .map(|p| p.id)
                .map_err(|e| e.to_string())
        };
        assert_eq!(id(r#""pn-1""#), Ok("pn-1".to_owned()));
        assert_eq!(id(r#""a\"b""#), Ok("a\"b".to_owned()));
        assert_eq!(id("42"), Ok("42".to_owned()));
        assert_eq!(id("-7"), Ok("-7".to_owned()));
        assert_eq!(id("1.5"), Ok("1.5".to_owned()));
        assert_eq!(id("1e20"), Ok("1e+20".to_owned()));
        let refused = id("null").expect_err("null is no id");
        assert!(
            refused.contains("expected a string or a number"),
            "{refused}"
        );
        assert!(id("{}").is_err());
    }

    #[test]
    fn pages_come_from_last_page_else_total_and_per_page_else_one() {
        let meta = |last_page, per_page, total| Meta {
            last_page,
            per_page,
            total,
        };
        assert_eq!(meta(Some(4), Some(2), Some(7)).pages(), 4);
        assert_eq!(meta(None, Some(2), Some(7)).pages(), 4);
        assert_eq!(meta(None, Some(100), Some(0)).pages(), 1);
        assert_eq!(meta(None, Some(0), Some(7)).pages(), 1);
        assert_eq!(meta(None, None, Some(7)).pages(), 1);
        assert_eq!(Meta::default().pages(), 1);
    }
}
