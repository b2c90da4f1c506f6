//! The simulator's own wire types: the JSON shapes it answers with, written from the
//! API contract (`shared/talkover-api.md`), independently of the talkops client.
//!
//! This module owns how stored state is rendered and what error bodies look like. It
//! does not choose status codes or decide validity; `routes` does.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;

use crate::state::{Agent, PhoneNumber, World};

/// `{"success": true, "data": ..., "message"?, "meta"?}`.
#[derive(Serialize)]
pub(crate) struct Success<T> {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
    data: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
}

impl<T: Serialize> Success<T> {
    pub fn data(data: T) -> Self {
        Success {
            success: true,
            message: None,
            data,
            meta: None,
        }
    }

    pub fn with_message(mut self, message: &'static str) -> Self {
        self.message = Some(message);
        self
    }

    pub fn with_meta(mut self, meta: Meta) -> Self {
        self.meta = Some(meta);
        self
    }
}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

/// Pagination of `GET /api/v1/agents`.
#[derive(Serialize)]
pub(crate) struct Meta {
    pub current_page: u64,
    pub per_page: u64,
    pub total: u64,
    pub last_page: u64,
}

/// An agent as `GET /api/v1/agents` and `GET /api/v1/agents/{id}` show it.
#[derive(Serialize)]
pub(crate) struct AgentBody {
    id: String,
    name: String,
    label: Option<String>,
    direction: String,
    current_status: String,
    /// Always null here; the contract says clients must cope with that.
    voice: Value,
    created_at: String,
    updated_at: String,
    phone_numbers: Vec<AgentPhoneNumber>,
    /// Present only so clients prove they ignore fields they do not use.
    trainings: Vec<Value>,
    /// As `trainings`.
    actions: Vec<Value>,
}

impl AgentBody {
    pub fn new(agent: &Agent, world: &World) -> Self {
        AgentBody {
            id: agent.id.clone(),
            name: agent.name.clone(),
            label: agent.label.clone(),
            direction: agent.direction.clone(),
            current_status: agent.current_status.clone(),
            voice: Value::Null,
            created_at: agent.created_at.clone(),
            updated_at: agent.updated_at.clone(),
            phone_numbers: AgentPhoneNumber::all(agent, world),
            trainings: Vec::new(),
            actions: Vec::new(),
        }
    }
}

/// The `data` of a successful `PUT /api/v1/agents/{id}/calling`.
#[derive(Serialize)]
pub(crate) struct CallingBody {
    id: String,
    name: String,
    direction: String,
    current_status: String,
    phone_numbers: Vec<AgentPhoneNumber>,
    updated_at: String,
}

impl CallingBody {
    pub fn new(agent: &Agent, world: &World) -> Self {
        CallingBody {
            id: agent.id.clone(),
            name: agent.name.clone(),
            direction: agent.direction.clone(),
            current_status: agent.current_status.clone(),
            phone_numbers: AgentPhoneNumber::all(agent, world),
            updated_at: agent.updated_at.clone(),
        }
    }
}

/// One of an agent's `phone_numbers`.
#[derive(Serialize)]
pub(crate) struct AgentPhoneNumber {
    id: String,
    number: String,
    country_code: Option<String>,
    formatted_number: String,
    international_number: String,
    current_status: &'static str,
}

impl AgentPhoneNumber {
    fn all(agent: &Agent, world: &World) -> Vec<Self> {
        // Ids are checked against the environment on the way in (seed and PUT), so a
        // miss cannot happen; skipping rather than panicking keeps that assumption cheap.
        agent
            .phone_number_ids
            .iter()
            .filter_map(|id| world.number(id))
            .map(|number| AgentPhoneNumber {
                id: number.id.clone(),
                number: number.number.clone(),
                country_code: number.country_code.clone(),
                formatted_number: number.formatted_number.clone(),
                international_number: number.international_number.clone(),
                current_status: "active",
            })
            .collect()
    }
}

/// An item of `GET /api/v1/phone-numbers`.
#[derive(Serialize)]
pub(crate) struct PhoneNumberBody {
    id: String,
    number: String,
    country_code: Option<String>,
    formatted_number: String,
    international_number: String,
    r#type: String,
    has_voice: bool,
    has_sms: bool,
    current_status: &'static str,
    is_sandbox: bool,
    monthly_price: &'static str,
    /// Null, as in the one locale of the docs that shows it: the agents' `phone_numbers`
    /// stay the only link between numbers and agents.
    agents: Value,
}

impl PhoneNumberBody {
    pub fn new(number: &PhoneNumber) -> Self {
        PhoneNumberBody {
            id: number.id.clone(),
            number: number.number.clone(),
            country_code: number.country_code.clone(),
            formatted_number: number.formatted_number.clone(),
            international_number: number.international_number.clone(),
            r#type: number.r#type.clone(),
            has_voice: true,
            has_sms: true,
            current_status: "active",
            is_sandbox: false,
            monthly_price: "1.00",
            agents: Value::Null,
        }
    }
}

/// `{"success": false, "message", "code"?, "errors"?}` with its status.
pub(crate) struct Failure {
    status: StatusCode,
    body: FailureBody,
}

#[derive(Serialize)]
struct FailureBody {
    success: bool,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<BTreeMap<String, Vec<String>>>,
}

impl Failure {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Failure {
            status,
            body: FailureBody {
                success: false,
                message: message.into(),
                code: None,
                errors: None,
            },
        }
    }

    pub fn unauthenticated() -> Self {
        Failure::new(StatusCode::UNAUTHORIZED, "Unauthenticated.")
    }

    pub fn agent_not_found() -> Self {
        Failure::new(StatusCode::NOT_FOUND, "Agent not found")
    }

    pub fn route_not_found() -> Self {
        Failure::new(StatusCode::NOT_FOUND, "Not found")
    }

    pub fn method_not_allowed() -> Self {
        Failure::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
    }

    pub fn payload_too_large() -> Self {
        Failure::new(StatusCode::PAYLOAD_TOO_LARGE, "Payload too large")
    }

    /// `SimConfig::fail_requests`.
    pub fn unavailable() -> Self {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service temporarily unavailable",
        )
    }

    /// `SimConfig::rate_limit_every` and `SimConfig::rate_limit`; the gate adds the
    /// `Retry-After` header.
    pub fn too_many_requests() -> Self {
        Failure::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
    }

    /// A PUT claiming a number another inbound agent answers, under
    /// `SimConfig::enforce_single_inbound_owner`.
    pub fn number_in_use(number: &PhoneNumber, holder: &Agent) -> Self {
        let mut failure = Failure::new(
            StatusCode::CONFLICT,
            format!(
                "Phone number {} is already answered by inbound agent {} ({})",
                number.number, holder.name, holder.id
            ),
        );
        failure.body.code = Some("DID_IN_USE");
        failure
    }

    /// The refusal configured for an agent (`SimConfig::refused_agents`).
    pub fn refused(message: &str) -> Self {
        let mut failure = Failure::new(StatusCode::UNPROCESSABLE_ENTITY, message);
        failure.body.code = Some("AGENT_UPDATE_REFUSED");
        failure
    }

    /// A framework-style validation failure; `errors` maps a field to its messages.
    pub fn invalid(errors: BTreeMap<String, Vec<String>>) -> Self {
        let mut failure = Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The given data was invalid.",
        );
        failure.body.code = Some("VALIDATION_ERROR");
        failure.body.errors = Some(errors);
        failure
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
