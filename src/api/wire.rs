//! The Talkover API's JSON as talkops reads and writes it: lenient on input (unknown fields
//! ignored, most fields optional, ids accepted as strings or numbers), exact on output.

use serde::{Deserialize, Deserializer, Serialize};

/// `{"success": ..., "data": ..., "meta"?: ...}`.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub data: Option<T>,
    #[serde(default)]
    pub meta: Option<Meta>,
}

/// Pagination metadata of list responses. Only `last_page` drives paging: it already
/// accounts for a server that serves fewer than the `per_page` asked for.
#[derive(Debug, Default, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub last_page: Option<u64>,
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
    #[serde(default, deserialize_with = "null_as_empty")]
    pub phone_numbers: Vec<AgentPhoneNumber>,
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

/// Ids are opaque strings; a server that sends a number is tolerated.
fn opaque_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match Id::deserialize(deserializer)? {
        Id::Text(text) => text,
        Id::Number(number) => number.to_string(),
    })
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}
