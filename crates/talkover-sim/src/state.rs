//! The simulated environment's state: agents, numbers, the fake clock and the journal.
//!
//! This module owns every mutation of the environment and keeps it synchronous, so the
//! HTTP layer only parses, locks, calls and renders. It knows nothing about HTTP status
//! codes or JSON envelopes (see `routes` and `wire`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::canned::{Canned, CannedAnswers, InvalidCanned};
use crate::faults::{FixedWindow, RateLimit, RequestFaults, RetryAfter};
use crate::lock::lock;
use crate::seed::{Seed, SeedError};

/// Default for [`SimConfig::page_size_cap`]: the `per_page` talkops asks for, so the
/// default simulator serves it unclamped; tests lower it to exercise clamping.
pub const DEFAULT_PAGE_SIZE_CAP: usize = 100;

/// Everything a simulator is started with: the token, the environment, and the knobs.
///
/// Every fault knob defaults to off in [`SimConfig::new`]; set fields on its result
/// (`SimConfig { latency, ..SimConfig::new(token, seed) }`) to turn them on.
///
/// **Arrival numbers.** The request knobs that name requests by number (`slow_requests`,
/// `fail_requests`, `rate_limit_every`) count `/api/v1` requests only: every request whose
/// path is `/api/v1` or starts with `/api/v1/`, whatever its method, in the order they
/// reach the simulator, starting at 1, *including* those answered 401, 404, 413, 422, 429
/// or 503 (so a client's retry is a new number). `/health`, `/_sim/...` and paths outside
/// `/api/v1` are neither counted nor delayed nor faulted. The journal (see
/// [`SharedState::journal`]) lists requests in the same order, but also holds the paths
/// outside `/api/v1`, so an entry's position there is not its arrival number.
///
/// **Order.** For each `/api/v1` request the simulator: numbers it; waits `latency`
/// (plus `slow_delay` for a slow request); waits at the `barrier`, if any; answers 503 if `fail_requests` names it, else
/// 429 if `rate_limit_every` does, else 429 if the `rate_limit` window is exceeded; else
/// answers 413 to a body over 1 MiB; else checks the token (401); else answers with the
/// first `canned` entry that matches and has uses left (routing the request first if the
/// entry says `route_first`); else routes it. Every one of these answers is journaled,
/// with the status actually sent.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The bearer token the sim accepts. Should not be empty: an empty token would let
    /// a bare `Authorization: Bearer ` through.
    pub token: String,
    /// Max `per_page` served; requests above it are clamped, as the real service does.
    /// A cap of 0 is treated as 1.
    pub page_size_cap: usize,
    /// The environment at start.
    pub seed: Seed,
    /// Fault knob: agent id -> message. Every PUT to such an agent is refused with 422 and
    /// this message, as a server refuses an agent it will not change.
    pub refused_agents: BTreeMap<String, String>,
    /// Fault knob: the PUT adds `phone_number_ids` to the agent's numbers instead of
    /// replacing them, one reading of what the contract leaves open. Clients must notice.
    pub merge_numbers_on_put: bool,
    /// Fault knob: every `/api/v1` request is answered only after this delay (zero: at
    /// once). The wait is asynchronous, so requests in flight together wait together:
    /// eight concurrent requests with 100 ms latency take about 100 ms, not 800.
    pub latency: Duration,
    /// Fault knob: the `/api/v1` requests with these arrival numbers (1-based, see above)
    /// wait `slow_delay` on top of `latency`, long enough for a client's timeout to fire.
    /// The request is still answered (and a write still applied) once the delay is over,
    /// even if the client has given up, as a real server would.
    pub slow_requests: BTreeSet<u64>,
    /// The extra delay of `slow_requests`.
    pub slow_delay: Duration,
    /// Fault knob: `Some(n)` holds every `/api/v1` request, once its delay is over, until
    /// `n` `/api/v1` requests have arrived (by arrival number, see above), then answers
    /// each as usual; later requests pass at once. A barrier, for a test to prove that a
    /// client has `n` requests in flight at the same time without timing anything: a
    /// client that waits for one answer before sending the next request never gets one
    /// (its own timeout is then what ends the test).
    pub barrier: Option<u64>,
    /// Fault knob: the `/api/v1` requests with these arrival numbers are answered
    /// `503 {"success": false, "message": "Service temporarily unavailable"}` and change
    /// nothing.
    pub fail_requests: BTreeSet<u64>,
    /// Fault knob: `Some(n)` answers every n-th `/api/v1` request (arrival numbers n, 2n,
    /// 3n, ...) `429 {"success": false, "message": "Too Many Requests"}` with a
    /// `Retry-After` header as `retry_after` says; it changes nothing. `Some(0)` is off.
    pub rate_limit_every: Option<u64>,
    /// The `Retry-After` of `rate_limit_every`'s 429s; default `Seconds(1)`.
    pub retry_after: RetryAfter,
    /// Fault knob: a fixed-window rate limit over `/api/v1` requests, by the real clock.
    /// Every `/api/v1` request counts against the window when its delay is over (those
    /// answered 503 or 429 by the knobs above, and 401s, too), and every `/api/v1`
    /// response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` (after counting it)
    /// and `X-RateLimit-Reset` (whole seconds until the window resets, rounded up, at
    /// least 1). A request over the limit is answered 429 as above, with `Retry-After`
    /// equal to `X-RateLimit-Reset`.
    pub rate_limit: Option<RateLimit>,
    /// Fault knob: refuse a PUT that would make this agent an inbound holder of a number
    /// it did not hold inbound before, while another agent holds that number inbound:
    /// `409 {"success": false, "message": "Phone number +14155550100 is already answered
    /// by inbound agent Support (a1)", "code": "DID_IN_USE"}`, changing nothing. An
    /// outbound holder never conflicts, and numbers the agent already answered stay
    /// allowed even if another inbound agent answers them too (a seed may start so).
    pub enforce_single_inbound_owner: bool,
    /// Fault knob: hand-written answers to the `/api/v1` requests that match them (see
    /// [`Canned`]), for answers the contract allows but the simulator never gives. The
    /// first entry that matches and has uses left answers; the rest are not consulted.
    /// The `rate_limit` headers are still added, unless a canned header of the same name
    /// replaces them. Checked by [`SharedState::new`]: an invalid status, header name or
    /// header value is a [`SimConfigError::Canned`].
    pub canned: Vec<Canned>,
}

impl SimConfig {
    /// A config with the given token and seed, the default page size cap (100) and every
    /// fault knob off.
    pub fn new(token: impl Into<String>, seed: Seed) -> SimConfig {
        SimConfig {
            token: token.into(),
            page_size_cap: DEFAULT_PAGE_SIZE_CAP,
            seed,
            refused_agents: BTreeMap::new(),
            merge_numbers_on_put: false,
            latency: Duration::ZERO,
            slow_requests: BTreeSet::new(),
            slow_delay: Duration::ZERO,
            barrier: None,
            fail_requests: BTreeSet::new(),
            rate_limit_every: None,
            retry_after: RetryAfter::default(),
            rate_limit: None,
            enforce_single_inbound_owner: false,
            canned: Vec::new(),
        }
    }
}

/// Why a [`SimConfig`] cannot be served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimConfigError {
    /// The seed does not check out (see [`Seed::validate`]).
    Seed(SeedError),
    /// An entry of [`SimConfig::canned`] cannot be sent as given.
    Canned {
        /// Its position in [`SimConfig::canned`], from 0.
        index: usize,
        /// Its method, as given.
        method: String,
        /// Its path, as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for SimConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimConfigError::Seed(err) => err.fmt(f),
            SimConfigError::Canned {
                index,
                method,
                path,
                reason,
            } => write!(f, "canned answer {index} ({method} {path}): {reason}"),
        }
    }
}

/// No `source`: `Display` already shows a seed error itself, and a chain printer would
/// show it twice.
impl std::error::Error for SimConfigError {}

impl From<SeedError> for SimConfigError {
    fn from(err: SeedError) -> Self {
        SimConfigError::Seed(err)
    }
}

impl From<InvalidCanned> for SimConfigError {
    fn from(err: InvalidCanned) -> Self {
        SimConfigError::Canned {
            index: err.index,
            method: err.method,
            path: err.path,
            reason: err.reason,
        }
    }
}

/// One request as the sim saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// `"GET"`, `"PUT"`, ...
    pub method: String,
    /// The path as sent (still percent-encoded), e.g. `"/api/v1/agents/a1/calling"`.
    pub path: String,
    /// The raw query string, e.g. `"page=2&per_page=100"`; `None` when the URL has none.
    pub query: Option<String>,
    /// The body of a write, parsed as JSON, or the raw text as `Value::String` when it is
    /// not JSON; `None` for reads and empty bodies.
    pub body: Option<serde_json::Value>,
    /// The status the sim answered with.
    pub status: u16,
}

impl JournalEntry {
    /// Whether this request was a write (anything but `GET` and `HEAD`).
    pub fn is_write(&self) -> bool {
        self.method != "GET" && self.method != "HEAD"
    }
}

/// Snapshot of one agent's state, for tests to assert on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    /// The agent's id.
    pub id: String,
    /// The agent's name.
    pub name: String,
    /// Its direction, as last set.
    pub direction: String,
    /// `"draft"` or `"published"`; never changed by the simulator.
    pub current_status: String,
    /// The numbers it holds, as stored, in order.
    pub phone_number_ids: Vec<String>,
    /// Whether it holds the callback role (lost when a PUT turns it outbound).
    pub callback: bool,
}

/// The simulator's state, shared by every request handler and by [`crate::SimHandle`].
///
/// Cloning is cheap (an `Arc`); all clones see the same environment.
#[derive(Clone, Debug)]
pub struct SharedState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    token: String,
    page_size_cap: usize,
    refused_agents: BTreeMap<String, String>,
    merge_numbers_on_put: bool,
    enforce_single_inbound_owner: bool,
    faults: RequestFaults,
    barrier: Option<u64>,
    canned: CannedAnswers,
    world: Mutex<World>,
    /// Entries with the arrival number of their request, kept sorted by it.
    journal: Mutex<Vec<(u64, JournalEntry)>>,
    /// Arrival numbers of every journaled request, 0-based, for the journal's order.
    next_arrival: AtomicU64,
    /// How many `/api/v1` requests have arrived: the last arrival number handed out for
    /// the fault knobs (1-based), watched by requests waiting at the barrier.
    api_arrivals: watch::Sender<u64>,
}

impl SharedState {
    /// Builds the environment a config describes, after checking its seed and its
    /// canned answers.
    pub fn new(config: SimConfig) -> Result<SharedState, SimConfigError> {
        config.seed.validate()?;
        let canned = CannedAnswers::new(config.canned)?;
        Ok(SharedState(Arc::new(Inner {
            token: config.token,
            page_size_cap: config.page_size_cap.max(1),
            refused_agents: config.refused_agents,
            merge_numbers_on_put: config.merge_numbers_on_put,
            enforce_single_inbound_owner: config.enforce_single_inbound_owner,
            faults: RequestFaults {
                latency: config.latency,
                slow_requests: config.slow_requests,
                slow_delay: config.slow_delay,
                fail_requests: config.fail_requests,
                rate_limit_every: config.rate_limit_every,
                retry_after: config.retry_after,
                limiter: config
                    .rate_limit
                    .map(|limit| Mutex::new(FixedWindow::new(limit))),
            },
            barrier: config.barrier,
            canned,
            world: Mutex::new(World::from_seed(config.seed)),
            journal: Mutex::new(Vec::new()),
            next_arrival: AtomicU64::new(0),
            api_arrivals: watch::Sender::new(0),
        })))
    }

    /// Every journaled request answered so far, in arrival order (a request still
    /// being answered appears once it is, in its place).
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.0.journal)
            .iter()
            .map(|(_, entry)| entry.clone())
            .collect()
    }

    /// The journal filtered to writes (see [`JournalEntry::is_write`]).
    pub fn writes(&self) -> Vec<JournalEntry> {
        lock(&self.0.journal)
            .iter()
            .map(|(_, entry)| entry)
            .filter(|entry| entry.is_write())
            .cloned()
            .collect()
    }

    /// The agents' current state, sorted by id.
    pub fn agents(&self) -> Vec<AgentState> {
        let world = self.world();
        let mut agents: Vec<AgentState> = world
            .agents
            .iter()
            .map(|agent| AgentState {
                id: agent.id.clone(),
                name: agent.name.clone(),
                direction: agent.direction.clone(),
                current_status: agent.current_status.clone(),
                phone_number_ids: agent.phone_number_ids.clone(),
                callback: agent.callback,
            })
            .collect();
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        agents
    }

    /// Whether `presented` is the configured token. Compares in time independent of
    /// where the strings differ, out of habit: this is an auth check.
    pub(crate) fn token_matches(&self, presented: &str) -> bool {
        let expected = self.0.token.as_bytes();
        let presented = presented.as_bytes();
        expected.len() == presented.len()
            && expected
                .iter()
                .zip(presented)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// The message every PUT to `agent_id` is refused with, if that fault is configured.
    pub(crate) fn refusal(&self, agent_id: &str) -> Option<&str> {
        self.0.refused_agents.get(agent_id).map(String::as_str)
    }

    /// Whether the PUT merges numbers instead of replacing them (a fault knob).
    pub(crate) fn merges_numbers(&self) -> bool {
        self.0.merge_numbers_on_put
    }

    /// Whether a PUT may not claim a number another agent answers (a fault knob).
    pub(crate) fn enforces_single_inbound_owner(&self) -> bool {
        self.0.enforce_single_inbound_owner
    }

    /// The request-level fault knobs.
    pub(crate) fn faults(&self) -> &RequestFaults {
        &self.0.faults
    }

    pub(crate) fn page_size_cap(&self) -> usize {
        self.0.page_size_cap
    }

    /// Sets an agent's direction and numbers directly, as another client's PUT would,
    /// without validation or a journal entry. Returns false if there is no such agent.
    ///
    /// For tests that change the environment while a client runs. As a PUT does, it
    /// bumps `updated_at`, drops duplicate ids (first appearance wins), and takes the
    /// callback role from an agent that is no longer inbound. Nothing is checked: an
    /// unknown direction is stored as given, and a number id the environment does not
    /// define is stored but not shown in the agent's `phone_numbers`.
    pub fn set_calling(&self, agent_id: &str, direction: &str, phone_number_ids: &[&str]) -> bool {
        let ids = phone_number_ids.iter().map(|&id| id.to_owned()).collect();
        self.world()
            .update_calling(agent_id, direction.to_owned(), Some(ids))
    }

    /// The checked [`SimConfig::canned`] answers with their use counts.
    pub(crate) fn canned(&self) -> &CannedAnswers {
        &self.0.canned
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.0.world)
    }

    /// Numbers a request as it arrives, for [`SharedState::record`].
    pub(crate) fn arrival(&self) -> u64 {
        self.0.next_arrival.fetch_add(1, Ordering::Relaxed)
    }

    /// Numbers an `/api/v1` request as it arrives, from 1: the arrival number the fault
    /// knobs name (see [`SimConfig`]).
    pub(crate) fn api_arrival(&self) -> u64 {
        let mut number = 0;
        // Counted and read under the channel's lock, so every number is handed out once.
        self.0.api_arrivals.send_modify(|count| {
            *count = count.saturating_add(1);
            number = *count;
        });
        number
    }

    /// Waits until as many `/api/v1` requests have arrived as [`SimConfig::barrier`]
    /// says; returns at once when it is off or already reached.
    pub(crate) async fn barrier(&self) {
        let Some(needed) = self.0.barrier else {
            return;
        };
        let mut arrivals = self.0.api_arrivals.subscribe();
        // Fails only when the sender is gone, and `self` holds it.
        let _ = arrivals.wait_for(|&count| count >= needed).await;
    }

    /// Journals a request in its arrival place, which is almost always the end.
    pub(crate) fn record(&self, arrival: u64, entry: JournalEntry) {
        let mut journal = lock(&self.0.journal);
        let at = journal.partition_point(|(earlier, _)| *earlier < arrival);
        journal.insert(at, (arrival, entry));
    }
}

/// The environment proper.
#[derive(Debug)]
pub(crate) struct World {
    agents: Vec<Agent>,
    agent_index: HashMap<String, usize>,
    numbers: Vec<PhoneNumber>,
    number_index: HashMap<String, usize>,
    clock: FakeClock,
}

/// An agent as stored.
#[derive(Clone, Debug)]
pub(crate) struct Agent {
    pub id: String,
    pub name: String,
    pub label: Option<String>,
    pub direction: String,
    pub current_status: String,
    pub phone_number_ids: Vec<String>,
    /// Holds the callback role; only ever true while the agent is inbound.
    pub callback: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A phone number as stored, with every derived field filled in.
#[derive(Clone, Debug)]
pub(crate) struct PhoneNumber {
    pub id: String,
    pub number: String,
    pub country_code: Option<String>,
    pub formatted_number: String,
    pub international_number: String,
    pub r#type: String,
}

/// Filters of `GET /api/v1/agents`, already validated.
#[derive(Clone, Debug, Default)]
pub(crate) struct AgentFilter {
    pub status: Option<String>,
    pub direction: Option<String>,
    pub search: Option<String>,
}

impl World {
    fn from_seed(seed: Seed) -> World {
        let clock = FakeClock::default();
        let created_at = clock.now();
        let numbers: Vec<PhoneNumber> = seed
            .phone_numbers
            .into_iter()
            .map(|seed| {
                let country_code = seed
                    .country_code
                    .or_else(|| country_of(&seed.number).map(str::to_owned));
                PhoneNumber {
                    formatted_number: seed
                        .formatted_number
                        .unwrap_or_else(|| national_format(&seed.number)),
                    international_number: international_format(&seed.number),
                    r#type: seed.r#type.unwrap_or_else(|| "local".to_owned()),
                    country_code,
                    id: seed.id,
                    number: seed.number,
                }
            })
            .collect();
        let agents: Vec<Agent> = seed
            .agents
            .into_iter()
            .map(|seed| Agent {
                id: seed.id,
                name: seed.name,
                label: seed.label,
                direction: seed.direction,
                current_status: seed.current_status,
                phone_number_ids: seed.phone_number_ids,
                callback: seed.callback,
                created_at: created_at.clone(),
                updated_at: created_at.clone(),
            })
            .collect();
        World {
            agent_index: index(agents.iter().map(|agent| agent.id.as_str())),
            number_index: index(numbers.iter().map(|number| number.id.as_str())),
            agents,
            numbers,
            clock,
        }
    }

    /// The agents a filter selects, in seed order.
    pub fn agents_matching<'a>(
        &'a self,
        filter: &'a AgentFilter,
    ) -> impl Iterator<Item = &'a Agent> {
        let search = filter.search.as_deref().map(str::to_lowercase);
        self.agents.iter().filter(move |agent| {
            filter
                .status
                .as_ref()
                .is_none_or(|status| agent.current_status == *status)
                && filter
                    .direction
                    .as_ref()
                    .is_none_or(|direction| agent.direction == *direction)
                && search.as_ref().is_none_or(|needle| {
                    agent.name.to_lowercase().contains(needle)
                        || agent
                            .label
                            .as_ref()
                            .is_some_and(|label| label.to_lowercase().contains(needle))
                })
        })
    }

    /// The agents holding the callback role, in seed order.
    pub fn callback_agents(&self) -> impl Iterator<Item = &Agent> {
        self.agents
            .iter()
            .filter(|agent| agent.callback && agent.direction == "inbound")
    }

    pub fn agent(&self, id: &str) -> Option<&Agent> {
        self.agent_index.get(id).map(|&at| &self.agents[at])
    }

    pub fn number(&self, id: &str) -> Option<&PhoneNumber> {
        self.number_index.get(id).map(|&at| &self.numbers[at])
    }

    pub fn numbers(&self) -> &[PhoneNumber] {
        &self.numbers
    }

    /// The first number (in `phone_number_ids` order) that agent `id`, set to `direction`
    /// with these numbers, would newly answer while another agent answers it too, with
    /// that other agent (the first in seed order). "Newly": the agent was not inbound, or
    /// did not hold the number, before. `None` when there is no such claim.
    pub fn inbound_claim_conflict<'a>(
        &'a self,
        id: &str,
        direction: &str,
        phone_number_ids: &[String],
    ) -> Option<(&'a PhoneNumber, &'a Agent)> {
        if direction != "inbound" {
            return None;
        }
        let agent = self.agent(id)?;
        let answered_before = |number: &String| {
            agent.direction == "inbound" && agent.phone_number_ids.contains(number)
        };
        phone_number_ids
            .iter()
            .filter(|number| !answered_before(number))
            .find_map(|number| {
                let holder = self.agents.iter().find(|other| {
                    other.id != id
                        && other.direction == "inbound"
                        && other.phone_number_ids.contains(number)
                })?;
                Some((self.number(number)?, holder))
            })
    }

    /// Applies a validated calling update: sets the direction, replaces the numbers
    /// when given (deduplicated, first appearance wins), and bumps `updated_at`. An
    /// agent turned outbound loses the callback role, which only inbound agents hold.
    /// Returns `false`, changing nothing, when the id is unknown.
    pub fn update_calling(
        &mut self,
        id: &str,
        direction: String,
        phone_number_ids: Option<Vec<String>>,
    ) -> bool {
        let Some(&at) = self.agent_index.get(id) else {
            return false;
        };
        let updated_at = self.clock.tick();
        let agent = &mut self.agents[at];
        if direction != "inbound" {
            agent.callback = false;
        }
        agent.direction = direction;
        if let Some(ids) = phone_number_ids {
            let mut deduplicated: Vec<String> = Vec::with_capacity(ids.len());
            for id in ids {
                if !deduplicated.contains(&id) {
                    deduplicated.push(id);
                }
            }
            agent.phone_number_ids = deduplicated;
        }
        agent.updated_at = updated_at;
        true
    }
}

fn index<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<String, usize> {
    ids.enumerate()
        .map(|(at, id)| (id.to_owned(), at))
        .collect()
}

/// A clock that only moves when the environment changes, one second per write, so
/// that the same sequence of requests always yields the same timestamps.
#[derive(Debug, Default)]
struct FakeClock {
    seconds_after_start: u64,
}

impl FakeClock {
    /// 2026-01-01T00:00:00Z as Unix time.
    const START: u64 = 1_767_225_600;

    /// 9999-12-31T23:59:59Z, the last second RFC 3339's four-digit year can write (and
    /// `humantime` refuses to format past it). A clock that moves one second per write
    /// never gets there; the bound only keeps formatting total.
    const LAST: u64 = 253_402_300_799;

    /// The time as RFC 3339 with whole seconds, e.g. `2026-01-01T00:00:01Z`.
    fn now(&self) -> String {
        let seconds = Self::START
            .saturating_add(self.seconds_after_start)
            .min(Self::LAST);
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(seconds)).to_string()
    }

    fn tick(&mut self) -> String {
        self.seconds_after_start = self.seconds_after_start.saturating_add(1);
        self.now()
    }
}

/// Calling codes of the countries a seed is likely to use, longest first where one
/// prefixes another. Anything else gets a `null` country code, which clients must
/// tolerate anyway.
const COUNTRY_PREFIXES: &[(&str, &str)] = &[
    ("+353", "IE"),
    ("+1", "US"),
    ("+31", "NL"),
    ("+32", "BE"),
    ("+33", "FR"),
    ("+34", "ES"),
    ("+39", "IT"),
    ("+41", "CH"),
    ("+44", "GB"),
    ("+49", "DE"),
    ("+52", "MX"),
    ("+55", "BR"),
    ("+61", "AU"),
    ("+81", "JP"),
    ("+91", "IN"),
];

fn country_of(number: &str) -> Option<&'static str> {
    COUNTRY_PREFIXES
        .iter()
        .find(|(prefix, _)| number.starts_with(prefix))
        .map(|&(_, country)| country)
}

/// The ten national digits of a North American number (`+1` and ten digits).
fn nanp_digits(number: &str) -> Option<&str> {
    let digits = number.strip_prefix("+1")?;
    (digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `(415) 555-0100` for North American numbers; other numbers as given.
fn national_format(number: &str) -> String {
    match nanp_digits(number) {
        Some(d) => format!("({}) {}-{}", &d[..3], &d[3..6], &d[6..]),
        None => number.to_owned(),
    }
}

/// `+1 415-555-0100` for North American numbers; other numbers as given.
fn international_format(number: &str) -> String {
    match nanp_digits(number) {
        Some(d) => format!("+1 {}-{}-{}", &d[..3], &d[3..6], &d[6..]),
        None => number.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_starts_at_2026_and_ticks_one_second_per_write() {
        let mut clock = FakeClock::default();
        assert_eq!(clock.now(), "2026-01-01T00:00:00Z");
        assert_eq!(clock.tick(), "2026-01-01T00:00:01Z");
        assert_eq!(clock.tick(), "2026-01-01T00:00:02Z");
    }

    #[test]
    fn clock_formats_across_day_month_and_year_boundaries() {
        let at = |seconds_after_start| {
            FakeClock {
                seconds_after_start,
            }
            .now()
        };
        assert_eq!(at(86_399), "2026-01-01T23:59:59Z");
        assert_eq!(at(31 * 86_400), "2026-02-01T00:00:00Z");
        // 2028 is a leap year: 2026 and 2027 have 365 days, then 31 + 28 more.
        assert_eq!(at((2 * 365 + 59) * 86_400), "2028-02-29T00:00:00Z");
        assert_eq!(at(u64::MAX), "9999-12-31T23:59:59Z", "clamped, not a panic");
    }

    #[test]
    fn numbers_get_derived_fields() {
        assert_eq!(country_of("+14155550100"), Some("US"));
        assert_eq!(country_of("+353861234567"), Some("IE"));
        assert_eq!(country_of("+999"), None);
        assert_eq!(national_format("+14155550100"), "(415) 555-0100");
        assert_eq!(international_format("+14155550100"), "+1 415-555-0100");
        assert_eq!(national_format("+442071838750"), "+442071838750");
    }

    #[test]
    fn update_deduplicates_and_keeps_first_order() {
        let seed = Seed::from_json(
            r#"{"agents": [{"id": "a", "name": "A", "direction": "inbound", "phone_number_ids": ["p1"]}],
                "phone_numbers": [{"id": "p1", "number": "+14155550100"}, {"id": "p2", "number": "+14155550101"}]}"#,
        )
        .unwrap();
        let mut world = World::from_seed(seed);
        let ids = vec!["p2".to_owned(), "p1".to_owned(), "p2".to_owned()];
        assert!(world.update_calling("a", "outbound".to_owned(), Some(ids)));
        let agent = world.agent("a").unwrap();
        assert_eq!(agent.phone_number_ids, ["p2", "p1"]);
        assert_eq!(agent.updated_at, "2026-01-01T00:00:01Z");
        assert!(world.update_calling("a", "inbound".to_owned(), None));
        let agent = world.agent("a").unwrap();
        assert_eq!(agent.phone_number_ids, ["p2", "p1"]);
        assert_eq!(agent.direction, "inbound");
        assert_eq!(agent.updated_at, "2026-01-01T00:00:02Z");
        assert!(!world.update_calling("nope", "inbound".to_owned(), None));
    }

    #[test]
    fn only_new_inbound_claims_conflict() {
        let seed = Seed::from_json(
            r#"{"agents": [
                  {"id": "in1", "name": "One", "direction": "inbound", "phone_number_ids": ["p1", "p2"]},
                  {"id": "in2", "name": "Two", "direction": "inbound", "phone_number_ids": ["p2"]},
                  {"id": "out", "name": "Out", "direction": "outbound", "phone_number_ids": ["p1", "p3"]}
                ],
                "phone_numbers": [{"id": "p1", "number": "+14155550100"}, {"id": "p2", "number": "+14155550101"},
                                  {"id": "p3", "number": "+14155550102"}]}"#,
        )
        .unwrap();
        let world = World::from_seed(seed);
        let ids = |ids: &[&str]| ids.iter().map(|&id| id.to_owned()).collect::<Vec<_>>();
        let conflict = |id: &str, direction: &str, numbers: &[&str]| {
            world
                .inbound_claim_conflict(id, direction, &ids(numbers))
                .map(|(number, holder)| (number.id.as_str(), holder.id.as_str()))
        };
        // Claiming a number another agent answers.
        assert_eq!(
            conflict("in2", "inbound", &["p2", "p1"]),
            Some(("p1", "in1"))
        );
        // Turning inbound with the numbers already held: each is a claim.
        assert_eq!(
            conflict("out", "inbound", &["p3", "p1"]),
            Some(("p1", "in1"))
        );
        // Keeping numbers already answered, even shared ones, is not a claim.
        assert_eq!(conflict("in2", "inbound", &["p2"]), None);
        assert_eq!(conflict("in1", "inbound", &["p2", "p1"]), None);
        // Outbound holders and outbound PUTs never conflict.
        assert_eq!(conflict("in1", "inbound", &["p3"]), None);
        assert_eq!(conflict("in2", "outbound", &["p1"]), None);
    }

    #[test]
    fn turning_outbound_loses_the_callback_role_for_good() {
        let seed = Seed::from_json(
            r#"{"agents": [{"id": "a", "name": "A", "direction": "inbound", "callback": true},
                           {"id": "b", "name": "B", "direction": "inbound"}]}"#,
        )
        .unwrap();
        let mut world = World::from_seed(seed);
        let holders = |world: &World| {
            world
                .callback_agents()
                .map(|agent| agent.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(holders(&world), ["a"]);
        assert!(world.update_calling("a", "inbound".to_owned(), None));
        assert_eq!(holders(&world), ["a"], "staying inbound keeps it");
        assert!(world.update_calling("a", "outbound".to_owned(), None));
        assert!(holders(&world).is_empty());
        assert!(world.update_calling("a", "inbound".to_owned(), None));
        assert!(
            holders(&world).is_empty(),
            "turning back does not restore it"
        );
    }

    #[test]
    fn set_calling_changes_the_agent_without_checks_or_journal() {
        let seed = Seed::from_json(
            r#"{"agents": [{"id": "a", "name": "A", "direction": "inbound", "callback": true,
                            "phone_number_ids": ["p1"]}],
                "phone_numbers": [{"id": "p1", "number": "+14155550100"}, {"id": "p2", "number": "+14155550101"}]}"#,
        )
        .unwrap();
        let state = SharedState::new(SimConfig::new("talq_secret", seed)).unwrap();
        assert!(state.set_calling("a", "outbound", &["p2", "p1", "p2"]));
        let agent = &state.agents()[0];
        assert_eq!(agent.direction, "outbound");
        assert_eq!(agent.phone_number_ids, ["p2", "p1"]);
        assert!(!agent.callback, "as a PUT turning it outbound would");
        assert_eq!(
            state.world().agent("a").unwrap().updated_at,
            "2026-01-01T00:00:01Z"
        );
        // No validation: whatever another client might have managed to store.
        assert!(state.set_calling("a", "both", &["p9"]));
        assert_eq!(state.agents()[0].direction, "both");
        assert_eq!(state.agents()[0].phone_number_ids, ["p9"]);
        assert!(!state.set_calling("nope", "inbound", &[]));
        assert!(state.journal().is_empty());
    }

    #[test]
    fn an_uncheckable_config_is_refused() {
        let seed =
            Seed::from_json(r#"{"agents": [{"id": "a", "name": "A", "direction": "inbound"}]}"#)
                .unwrap();
        let config = SimConfig {
            canned: vec![Canned::new("GET", "/api/v1/agents", 200, "{}").header("X-A", "\r\n")],
            ..SimConfig::new("talq_secret", seed.clone())
        };
        let err = SharedState::new(config).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"canned answer 0 (GET /api/v1/agents): invalid value "\r\n" of header "X-A""#
        );
        let mut bad_seed = seed;
        bad_seed.agents[0].callback = true;
        bad_seed.agents[0].direction = "outbound".into();
        let err = SharedState::new(SimConfig::new("talq_secret", bad_seed)).unwrap_err();
        assert!(matches!(
            err,
            SimConfigError::Seed(SeedError::CallbackNotInbound { .. })
        ));
    }

    #[test]
    fn token_must_match_exactly() {
        let state = SharedState::new(SimConfig::new("talq_secret", Seed::default())).unwrap();
        assert!(state.token_matches("talq_secret"));
        assert!(!state.token_matches("talq_secreT"));
        assert!(!state.token_matches("talq_secret "));
        assert!(!state.token_matches(""));
    }
}
