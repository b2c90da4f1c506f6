//! The strategies users would script instead of talkops, each run as its own process (the
//! benchmark binary in [`PEER_MODE`]) against the same simulator, so that their requests,
//! wall time, CPU time and peak RSS are measured exactly as talkops' are.
//!
//! They are written to be fair: the blocking reqwest client with connection reuse, typed
//! decoding of only the fields they read, the same YAML config and YAML crate as talkops,
//! numbers compared as sets, and a retry on 429 (after `Retry-After`) and 5xx so that they
//! converge under the same faults. They do not pace themselves by the rate-limit headers:
//! scripts of this kind rarely do.

use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::cli::Peer;

/// The hidden first argument that turns the benchmark binary into a peer:
/// `talkops-bench __peer STRATEGY`, in the directory that holds `agents.yaml` and
/// `naive.json`, with `TALKOVER_API_URL` and `TALKOVER_TOKEN` set as for talkops.
pub const PEER_MODE: &str = "__peer";

/// Terraform's default `-parallelism`.
const TERRAFORM_PARALLELISM: usize = 10;

/// The page size the contract documents asking for; the peers obey what `meta` says.
const PER_PAGE: usize = 100;

/// Tries per request before a peer gives up (429s and 5xx are retried).
const ATTEMPTS: u32 = 10;

/// The peer's `main`: the arguments after [`PEER_MODE`].
pub fn peer_main(args: &[OsString]) -> Result<(), String> {
    let [name] = args else {
        return Err(format!("usage: talkops-bench {PEER_MODE} STRATEGY"));
    };
    let peer = name
        .to_str()
        .and_then(Peer::from_name)
        .ok_or_else(|| format!("unknown peer strategy {name:?}"))?;
    let api = Api::from_env()?;
    match peer {
        Peer::Terraform => terraform(&api),
        Peer::Sequential => sequential(&api),
        Peer::Naive => naive(&api),
    }
}

/// Terraform-style: the pages (one by one, as a data source reads them) to find the ids, the
/// numbers once, then a refresh GET of every declared agent and the PUTs of those that
/// differ, each with parallelism 10.
fn terraform(api: &Api) -> Result<(), String> {
    let desired = load_config()?;
    let numbers = api.numbers()?;
    let ids: HashMap<String, String> = api
        .pages()?
        .into_iter()
        .map(|agent| (agent.name, agent.id))
        .collect();
    let declared: Vec<(&Declared, &str)> = desired
        .iter()
        .map(|d| {
            ids.get(&d.name)
                .map(|id| (d, id.as_str()))
                .ok_or_else(|| format!("agent {} not found", d.name))
        })
        .collect::<Result<_, _>>()?;
    let refreshed = parallel(&declared, TERRAFORM_PARALLELISM, |(_, id)| {
        api.get::<One>(&["api", "v1", "agents", id], &[])
            .map(|one| one.data)
    })?;
    let mut changes = Vec::new();
    for ((d, _), current) in declared.iter().zip(refreshed) {
        if let Some(change) = diff(d, &current, &numbers)? {
            changes.push(change);
        }
    }
    parallel(&changes, TERRAFORM_PARALLELISM, |c| api.put_calling(c))?;
    Ok(())
}

/// Sequential minimal client: pages one by one, numbers once, the changed PUTs one by one.
fn sequential(api: &Api) -> Result<(), String> {
    let desired = load_config()?;
    let current: HashMap<String, Agent> = api
        .pages()?
        .into_iter()
        .map(|agent| (agent.name.clone(), agent))
        .collect();
    let numbers = api.numbers()?;
    for d in &desired {
        let agent = current
            .get(&d.name)
            .ok_or_else(|| format!("agent {} not found", d.name))?;
        if let Some(change) = diff(d, agent, &numbers)? {
            api.put_calling(&change)?;
        }
    }
    Ok(())
}

/// Naive script: PUT every agent of its hard-coded list (ids, as such scripts keep them),
/// one after another, whether it changes or not.
fn naive(api: &Api) -> Result<(), String> {
    let text = std::fs::read_to_string("naive.json").map_err(|e| format!("naive.json: {e}"))?;
    let list: Vec<Calling> = serde_json::from_str(&text).map_err(|e| format!("naive.json: {e}"))?;
    for calling in &list {
        api.put_calling(calling)?;
    }
    Ok(())
}

/// One declared agent of `agents.yaml`, the fields the generated configs use.
#[derive(Deserialize)]
struct Declared {
    name: String,
    direction: String,
    phone_numbers: Vec<String>,
}

#[derive(Deserialize)]
struct Config {
    agents: Vec<Declared>,
}

fn load_config() -> Result<Vec<Declared>, String> {
    let text = std::fs::read_to_string("agents.yaml").map_err(|e| format!("agents.yaml: {e}"))?;
    let config: Config = yaml_serde::from_str(&text).map_err(|e| format!("agents.yaml: {e}"))?;
    Ok(config.agents)
}

/// The body of `PUT /api/v1/agents/{id}/calling`, with the agent it goes to.
#[derive(Deserialize, Serialize)]
struct Calling {
    #[serde(skip_serializing)]
    id: String,
    direction: String,
    phone_number_ids: Vec<String>,
}

/// The PUT that brings `current` to `declared`, if any: numbers compared as sets.
fn diff(
    declared: &Declared,
    current: &Agent,
    numbers: &HashMap<String, String>,
) -> Result<Option<Calling>, String> {
    let mut want = declared
        .phone_numbers
        .iter()
        .map(|n| {
            numbers
                .get(n)
                .cloned()
                .ok_or_else(|| format!("number {n} of agent {} not found", declared.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    want.sort();
    want.dedup();
    let mut have: Vec<&str> = current
        .phone_numbers
        .iter()
        .map(|n| n.id.as_str())
        .collect();
    have.sort_unstable();
    have.dedup();
    if declared.direction == current.direction && want == have {
        return Ok(None);
    }
    Ok(Some(Calling {
        id: current.id.clone(),
        direction: declared.direction.clone(),
        phone_number_ids: want,
    }))
}

/// Runs `f` over `items` on `workers` threads, keeping the items' order in the results.
fn parallel<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> Result<R, String> + Sync,
) -> Result<Vec<R>, String> {
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::with_capacity(items.len()));
    let failed = Mutex::new(None);
    thread::scope(|scope| {
        for _ in 0..workers.min(items.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                match f(item) {
                    Ok(r) => done.lock().map(|mut d| d.push((i, r))).unwrap_or(()),
                    Err(e) => {
                        // Stop every worker: the first error is the one reported.
                        next.store(items.len(), Ordering::Relaxed);
                        if let Ok(mut slot) = failed.lock() {
                            slot.get_or_insert(e);
                        }
                        break;
                    }
                }
            });
        }
    });
    if let Some(err) = failed.into_inner().ok().flatten() {
        return Err(err);
    }
    let mut done = done.into_inner().map_err(|_| "a worker panicked")?;
    if done.len() != items.len() {
        return Err("a worker panicked".into());
    }
    done.sort_unstable_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, r)| r).collect())
}

#[derive(Deserialize)]
struct Agent {
    id: String,
    name: String,
    direction: String,
    phone_numbers: Vec<NumberRef>,
}

#[derive(Deserialize)]
struct NumberRef {
    id: String,
}

#[derive(Deserialize)]
struct Page {
    data: Vec<Agent>,
    meta: Meta,
}

#[derive(Deserialize)]
struct Meta {
    last_page: u64,
}

#[derive(Deserialize)]
struct One {
    data: Agent,
}

#[derive(Deserialize)]
struct Numbers {
    data: Vec<PhoneNumber>,
}

#[derive(Deserialize)]
struct PhoneNumber {
    id: String,
    number: String,
}

/// The peers' client: base URL, token, retries.
struct Api {
    client: Client,
    base: Url,
    token: String,
}

impl Api {
    fn from_env() -> Result<Api, String> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let base = Url::parse(&var("TALKOVER_API_URL")?).map_err(|e| format!("api url: {e}"))?;
        let client = Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(TERRAFORM_PARALLELISM)
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Api {
            client,
            base,
            token: var("TALKOVER_TOKEN")?,
        })
    }

    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Url, String> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| "the api url cannot take a path")?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, String> {
        let url = self.url(segments, query)?;
        self.send(|| self.client.get(url.clone()))?
            .json()
            .map_err(|e| format!("GET {url}: {e}"))
    }

    /// Every agent, page after page, following `meta.last_page`.
    fn pages(&self) -> Result<Vec<Agent>, String> {
        let mut agents = Vec::new();
        let mut page = 1;
        loop {
            let query = [
                ("page", page.to_string()),
                ("per_page", PER_PAGE.to_string()),
            ];
            let body: Page = self.get(&["api", "v1", "agents"], &query)?;
            agents.extend(body.data);
            if page >= body.meta.last_page {
                return Ok(agents);
            }
            page += 1;
        }
    }

    /// Number (E.164) to id.
    fn numbers(&self) -> Result<HashMap<String, String>, String> {
        let body: Numbers = self.get(&["api", "v1", "phone-numbers"], &[])?;
        Ok(body.data.into_iter().map(|n| (n.number, n.id)).collect())
    }

    fn put_calling(&self, calling: &Calling) -> Result<(), String> {
        let url = self.url(&["api", "v1", "agents", &calling.id, "calling"], &[])?;
        self.send(|| self.client.put(url.clone()).json(calling))
            .map(drop)
    }

    /// Sends with the token, retrying 429 (after `Retry-After`, else a second), 5xx and
    /// transport errors; any other failure is final.
    fn send(&self, build: impl Fn() -> RequestBuilder) -> Result<Response, String> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            let wait = match build().bearer_auth(&self.token).send() {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    last = format!("{} {}", response.url(), response.status());
                    response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse().ok())
                        .map_or(Duration::from_secs(1), Duration::from_secs)
                }
                Ok(response) if response.status().is_server_error() => {
                    last = format!("{} {}", response.url(), response.status());
                    Duration::from_millis(100 << attempt.min(5))
                }
                Ok(response) => {
                    let head = format!("{} {}", response.url(), response.status());
                    let body = response.text().unwrap_or_default();
                    return Err(format!("{head}: {body}"));
                }
                Err(e) => {
                    last = e.to_string();
                    Duration::from_millis(100 << attempt.min(5))
                }
            };
            thread::sleep(wait);
        }
        Err(format!("gave up after {ATTEMPTS} tries: {last}"))
    }
}
