//! The HTTP surface: the router, the gate middleware (fault knobs, authentication and
//! journal) and one handler per endpoint of the contract, with the request validation
//! each needs.
//!
//! Handlers never hold the state lock across an `.await`; every decision about one
//! request is made under a single lock of the environment, so a rejected write changes
//! nothing and an accepted one changes everything it names at once.

use std::collections::{BTreeMap, HashMap};
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::faults::{Fault, Verdict, WindowState};
use crate::state::{AgentFilter, JournalEntry, SharedState, World};
use crate::wire::{AgentBody, CallingBody, Failure, Meta, PhoneNumberBody, Success};

/// The largest request body read. The one write carries a direction and a list of ids,
/// so a megabyte is generous; it only stops a runaway client from exhausting memory.
const MAX_BODY_BYTES: usize = 1 << 20;

/// `per_page` when the request does not say, as documented.
const DEFAULT_PER_PAGE: u64 = 20;

/// The axum router of the simulator over shared state, for embedding in an existing
/// runtime; [`crate::spawn`] and [`crate::serve`] use it too.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/api/v1/agents", get(list_agents))
        .route("/api/v1/agents/{agent_id}", get(show_agent))
        .route("/api/v1/agents/{agent_id}/calling", put(update_calling))
        .route("/api/v1/phone-numbers", get(list_phone_numbers))
        .route("/api/v1/callback-agents", get(list_callback_agents))
        .route("/health", get(health))
        .route("/_sim/journal", get(sim_journal))
        .route("/_sim/state", get(sim_state))
        .fallback(not_found)
        // Must come after every route: it is attached to the routes present when called.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

/// Whether a path is journaled: everything but the sim's own health and introspection.
fn journaled(path: &str) -> bool {
    path != "/health" && path != "/_sim" && !path.starts_with("/_sim/")
}

/// Whether a path is under `/api/v1`: such requests need the bearer token, and are
/// the ones the request-level fault knobs count, delay and fault.
fn is_api(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// Applies the request-level fault knobs to `/api/v1` requests, authenticates them, and
/// journals every request but health and `/_sim`.
///
/// Each journaled request is answered on a task of its own, so that a client giving up
/// (its timeout firing during a slow request) does not cancel the answer: the request
/// is still routed, applied and journaled, as a real server would process it.
async fn gate(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !journaled(&path) {
        return next.run(request).await;
    }
    let arrival = state.arrival();
    // Numbered here, on arrival, before any waiting, so numbers follow arrival order.
    let api_arrival = is_api(&path).then(|| state.api_arrival());
    let answering = tokio::spawn(answer(state, arrival, api_arrival, path, request, next));
    match answering.await {
        Ok(response) => response,
        // A handler panic is the simulator's bug: let it surface as it would have
        // without the task.
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        // Only the runtime shutting down cancels the task, and then nobody is listening.
        Err(_) => Failure::unavailable().into_response(),
    }
}

/// The gate's work for one journaled request, in the order `SimConfig` documents:
/// delay, faults, token, canned answer or route; then the rate-limit headers, the
/// canned headers (which may replace them) and the journal entry.
///
/// The body is buffered here so the journal can hold it; the handler then gets the same
/// bytes back. The presented token is compared and dropped, never stored or echoed.
async fn answer(
    state: SharedState,
    arrival: u64,
    api_arrival: Option<u64>,
    path: String,
    request: Request,
    next: Next,
) -> Response {
    let verdict = match api_arrival {
        Some(number) => Some(wait_for_verdict(&state, number).await),
        None => None,
    };
    let method = request.method().clone();
    let query = request.uri().query().map(str::to_owned);
    let (parts, body) = request.into_parts();
    // Reading fails when the limit is exceeded (or the client went away, in which case
    // nobody reads the answer).
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.ok();
    let journal_body = bytes
        .as_ref()
        .and_then(|bytes| journal_body(&method, bytes));
    let fault = verdict.as_ref().and_then(|verdict| verdict.fault.as_ref());
    let mut canned = None;
    let mut response = match (fault, bytes) {
        (Some(fault), _) => fault_response(fault),
        (None, None) => Failure::payload_too_large().into_response(),
        (None, Some(_)) if api_arrival.is_some() && !bearer_matches(&state, &parts.headers) => {
            Failure::unauthenticated().into_response()
        }
        (None, Some(bytes)) => {
            // Only `/api/v1` requests are canned; the use is counted here, once.
            canned = api_arrival.and_then(|_| {
                state
                    .canned()
                    .take(method.as_str(), &path, query.as_deref())
            });
            match canned {
                Some(answer) if !answer.route_first() => answer.response(),
                _ => {
                    let routed = next
                        .run(Request::from_parts(parts, Body::from(bytes)))
                        .await;
                    // With `route_first` the real answer is dropped: its effect on the
                    // state is the point.
                    canned.map_or(routed, |answer| answer.response())
                }
            }
        }
    };
    if let Some(window) = verdict.and_then(|verdict| verdict.window) {
        add_rate_limit_headers(response.headers_mut(), window);
    }
    if let Some(answer) = canned {
        answer.apply_headers(response.headers_mut());
    }
    state.record(
        arrival,
        JournalEntry {
            method: method.as_str().to_owned(),
            path,
            query,
            body: journal_body,
            status: response.status().as_u16(),
        },
    );
    response
}

/// Holds the `number`-th `/api/v1` request for its delay and at the barrier, then
/// decides whether it is faulted.
async fn wait_for_verdict(state: &SharedState, number: u64) -> Verdict {
    let delay = state.faults().delay(number);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    state.barrier().await;
    state
        .faults()
        .verdict(number, Instant::now(), SystemTime::now())
}

/// The answer to an injected fault: its JSON body, and `Retry-After` on a 429.
fn fault_response(fault: &Fault) -> Response {
    match fault {
        Fault::Unavailable => Failure::unavailable().into_response(),
        Fault::TooManyRequests { retry_after } => {
            let mut response = Failure::too_many_requests().into_response();
            // Digits or an IMF-fixdate, both plain ASCII, so this cannot fail.
            if let Ok(value) = HeaderValue::try_from(retry_after.as_str()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

/// `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`, the names the
/// contract expects a client to meet.
fn add_rate_limit_headers(headers: &mut HeaderMap, window: WindowState) {
    for (name, value) in [
        ("x-ratelimit-limit", window.limit),
        ("x-ratelimit-remaining", window.remaining),
        ("x-ratelimit-reset", window.reset_seconds),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// The body as the journal keeps it: JSON when it parses, else the raw text; nothing
/// for reads and empty bodies.
fn journal_body(method: &Method, bytes: &Bytes) -> Option<Value> {
    if *method == Method::GET || *method == Method::HEAD || bytes.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    )
}

/// Whether the request carries `Authorization: Bearer <configured token>`. The scheme
/// is matched case-insensitively, as HTTP defines it.
fn bearer_matches(state: &SharedState, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && state.token_matches(token.trim())
}

/// A validation failure under construction: field → messages.
#[derive(Default)]
struct Invalid(BTreeMap<String, Vec<String>>);

impl Invalid {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    fn into_result(self) -> Result<(), Failure> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Failure::invalid(self.0))
        }
    }
}

/// Query parameters, the last occurrence of a repeated key winning and empty values
/// counting as absent, as Laravel-style frameworks (whose error shapes the contract
/// shows) treat them.
fn query_params(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<HashMap<String, String>, Failure> {
    let Query(pairs) = query.map_err(|_| {
        let mut invalid = Invalid::default();
        invalid.add("query", "The query string could not be parsed.");
        Failure::invalid(invalid.0)
    })?;
    Ok(pairs
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .collect())
}

/// A positive integer parameter, or its default when absent. Laravel shows
/// `per_page` as "per page" in its messages, and so do we.
fn positive_integer(
    params: &HashMap<String, String>,
    field: &str,
    default: u64,
    invalid: &mut Invalid,
) -> u64 {
    let Some(raw) = params.get(field) else {
        return default;
    };
    let shown = field.replace('_', " ");
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        invalid.add(field, format!("The {shown} field must be an integer."));
        return default;
    }
    match raw.parse::<u64>() {
        Ok(0) => {
            invalid.add(field, format!("The {shown} field must be at least 1."));
            default
        }
        Ok(value) => value,
        // All digits but too large: as good as past the end.
        Err(_) => u64::MAX,
    }
}

/// An optional parameter restricted to a set of values.
fn one_of(
    params: &HashMap<String, String>,
    field: &str,
    allowed: &[&str],
    invalid: &mut Invalid,
) -> Option<String> {
    let value = params.get(field)?;
    if allowed.contains(&value.as_str()) {
        Some(value.clone())
    } else {
        invalid.add(field, format!("The selected {field} is invalid."));
        None
    }
}

/// `GET /api/v1/agents`: filtered, paginated, in seed order.
async fn list_agents(
    State(state): State<SharedState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Success<Vec<AgentBody>>, Failure> {
    let params = query_params(query)?;
    let mut invalid = Invalid::default();
    let page = positive_integer(&params, "page", 1, &mut invalid);
    let requested_per_page = positive_integer(&params, "per_page", DEFAULT_PER_PAGE, &mut invalid);
    let filter = AgentFilter {
        status: one_of(&params, "status", &["draft", "published"], &mut invalid),
        direction: one_of(&params, "direction", &["inbound", "outbound"], &mut invalid),
        search: params.get("search").cloned(),
    };
    invalid.into_result()?;

    let cap = u64::try_from(state.page_size_cap()).unwrap_or(u64::MAX);
    let per_page = requested_per_page.clamp(1, cap);
    let world = state.world();
    let matching: Vec<_> = world.agents_matching(&filter).collect();
    let total = u64::try_from(matching.len()).unwrap_or(u64::MAX);
    let last_page = total.div_ceil(per_page).max(1);
    let skip = (page - 1)
        .checked_mul(per_page)
        .and_then(|skip| usize::try_from(skip).ok())
        .unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(usize::MAX);
    let data = matching
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|agent| AgentBody::new(agent, &world))
        .collect();
    Ok(Success::data(data).with_meta(Meta {
        current_page: page,
        per_page,
        total,
        last_page,
    }))
}

/// `GET /api/v1/agents/{agent_id}`.
async fn show_agent(
    State(state): State<SharedState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Success<AgentBody>, Failure> {
    let Path(id) = id.map_err(|_| Failure::agent_not_found())?;
    let world = state.world();
    let agent = world.agent(&id).ok_or_else(Failure::agent_not_found)?;
    Ok(Success::data(AgentBody::new(agent, &world)))
}

/// `PUT /api/v1/agents/{agent_id}/calling`: validates everything first, then changes
/// the agent under the same lock, or changes nothing.
async fn update_calling(
    State(state): State<SharedState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Success<CallingBody>, Failure> {
    let Path(id) = id.map_err(|_| Failure::agent_not_found())?;
    let mut world = state.world();
    // Unknown agents are reported before the body is looked at, as a framework's
    // route-model binding does before validation runs.
    let current_numbers = world
        .agent(&id)
        .map(|agent| agent.phone_number_ids.clone())
        .ok_or_else(Failure::agent_not_found)?;
    if let Some(message) = state.refusal(&id) {
        return Err(Failure::refused(message));
    }
    let CallingUpdate {
        direction,
        phone_number_ids,
    } = calling_update(&headers, &body, &world)?;
    let phone_number_ids = match (phone_number_ids, state.merges_numbers()) {
        (Some(new), true) => Some(current_numbers.iter().cloned().chain(new).collect()),
        (ids, _) => ids,
    };
    if state.enforces_single_inbound_owner() {
        let after = phone_number_ids.as_deref().unwrap_or(&current_numbers);
        if let Some((number, holder)) = world.inbound_claim_conflict(&id, &direction, after) {
            return Err(Failure::number_in_use(number, holder));
        }
    }
    world.update_calling(&id, direction, phone_number_ids);
    let agent = world.agent(&id).ok_or_else(Failure::agent_not_found)?;
    let data = CallingBody::new(agent, &world);
    Ok(Success::data(data).with_message("Agent calling settings updated successfully"))
}

/// A calling update that passed validation.
struct CallingUpdate {
    direction: String,
    /// The numbers to set (or add, with the merge knob); `None` keeps them.
    phone_number_ids: Option<Vec<String>>,
}

/// The body of a calling update, validated against the environment: every problem is
/// reported at once, as a framework's validator does.
fn calling_update(
    headers: &HeaderMap,
    body: &Bytes,
    world: &World,
) -> Result<CallingUpdate, Failure> {
    let mut invalid = Invalid::default();
    let Some(fields) = json_object(headers, body, &mut invalid) else {
        return Err(Failure::invalid(invalid.0));
    };
    let direction = match fields.get("direction").and_then(Value::as_str) {
        Some(direction @ ("inbound" | "outbound")) => Some(direction.to_owned()),
        _ => {
            invalid.add("direction", "The selected direction is invalid.");
            None
        }
    };
    let phone_number_ids = fields
        .get("phone_number_ids")
        .and_then(|value| known_number_ids(value, world, &mut invalid));
    // A missing direction was recorded as invalid, so this also covers it.
    match direction {
        Some(direction) if invalid.0.is_empty() => Ok(CallingUpdate {
            direction,
            phone_number_ids,
        }),
        _ => Err(Failure::invalid(invalid.0)),
    }
}

/// `phone_number_ids` as a list of ids the environment defines, each problem recorded.
fn known_number_ids(value: &Value, world: &World, invalid: &mut Invalid) -> Option<Vec<String>> {
    let Value::Array(items) = value else {
        invalid.add(
            "phone_number_ids",
            "The phone_number_ids field must be an array.",
        );
        return None;
    };
    let mut ids = Vec::with_capacity(items.len());
    for (at, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(id) if world.number(id).is_some() => ids.push(id.to_owned()),
            _ => invalid.add(
                format!("phone_number_ids.{at}"),
                format!("The selected phone_number_ids.{at} is invalid."),
            ),
        }
    }
    Some(ids)
}

/// The body of a write as a JSON object, or `None` with the reason recorded under
/// `body`. The contract says writes send `Content-Type: application/json`; a framework
/// server reads anything else as form data, so a body without it is not read as JSON.
fn json_object(
    headers: &HeaderMap,
    body: &Bytes,
    invalid: &mut Invalid,
) -> Option<serde_json::Map<String, Value>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|essence| {
            let essence = essence.trim().to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        })
        .unwrap_or(false);
    if !is_json {
        invalid.add(
            "body",
            "The request body must be JSON sent with Content-Type: application/json.",
        );
        return None;
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(fields)) => Some(fields),
        Ok(_) => {
            invalid.add("body", "The request body must be a JSON object.");
            None
        }
        Err(_) => {
            invalid.add("body", "The request body is not valid JSON.");
            None
        }
    }
}

/// `GET /api/v1/phone-numbers`: every number, unpaginated, optionally filtered by a
/// substring of the number (`search`) or by `type`.
async fn list_phone_numbers(
    State(state): State<SharedState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Success<Vec<PhoneNumberBody>>, Failure> {
    let params = query_params(query)?;
    let search = params.get("search");
    let kind = params.get("type");
    let world = state.world();
    let data = world
        .numbers()
        .iter()
        .filter(|number| search.is_none_or(|needle| number.number.contains(needle.as_str())))
        .filter(|number| kind.is_none_or(|kind| number.r#type == *kind))
        .map(PhoneNumberBody::new)
        .collect();
    Ok(Success::data(data))
}

/// `GET /api/v1/callback-agents`: the inbound agents holding the callback role, in seed
/// order, unpaginated (the contract documents no pagination for it).
async fn list_callback_agents(State(state): State<SharedState>) -> Success<Vec<AgentBody>> {
    let world = state.world();
    let data = world
        .callback_agents()
        .map(|agent| AgentBody::new(agent, &world))
        .collect();
    Success::data(data)
}

/// `GET /health`, unauthenticated, for readiness checks.
async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /_sim/journal`: the journal, for tests and benchmarks out of process.
async fn sim_journal(State(state): State<SharedState>) -> Json<Vec<JournalEntry>> {
    Json(state.journal())
}

/// `GET /_sim/state`: the agents' state, sorted by id.
async fn sim_state(State(state): State<SharedState>) -> Json<Vec<crate::AgentState>> {
    Json(state.agents())
}

async fn not_found() -> Failure {
    Failure::route_not_found()
}

async fn method_not_allowed() -> Failure {
    Failure::method_not_allowed()
}
