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

/// Pagination metadata of list responses.
#[derive(Debug, Default, Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::Meta;

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
