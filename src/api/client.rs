//! The HTTP client: reading the environment (agents, paged; phone numbers) and the one write.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use serde::de::DeserializeOwned;

use super::error::{scrub, ApiError};
use super::retry::{self, Gate, RetryPolicy};
use super::wire::{self, Envelope};
use super::Token;
use crate::progress::Progress;
use crate::state::{AgentId, Direction, LiveAgent, LiveState, PhoneId};

/// The page size talkops asks for; servers may clamp it, and `meta` is obeyed.
const PER_PAGE: u64 = 100;
/// Agent pages after the first are fetched this many at a time.
const PAGE_CONCURRENCY: usize = 8;
/// A server claiming more pages than this is not believed: it would mean ten million agents
/// at the smallest sane page size, far past any real environment, and a buggy `meta` must not
/// turn into an unbounded request loop.
const MAX_PAGES: u64 = 100_000;

/// A client for one Talkover environment (one base URL, one token). Clones share the
/// connection pool and the rate-limit gate.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Token,
    options: ClientOptions,
    gate: Arc<Gate>,
}

/// What the server says an agent looks like after a successful PUT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutOutcome {
    pub direction: Option<Direction>,
    /// `None` when the response leaves out the numbers.
    pub phone_ids: Option<BTreeSet<PhoneId>>,
    pub status: Option<String>,
}

impl Client {
    /// A client for `base_url` (e.g. `https://app.talkover.ai`) authenticating with `token`.
    pub fn new(base_url: &str, token: Token, options: ClientOptions) -> anyhow::Result<Client> {
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                anyhow::anyhow!(
                    "TALKOVER_TOKEN contains characters that cannot be sent in an HTTP header"
                )
            })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("talkops/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .build()?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            token,
            options,
            gate: Arc::default(),
        })
    }

    /// Reads the environment: every agent (page 1 with the phone numbers, then the remaining
    /// pages concurrently, bounded) and the phone numbers. Never one request per agent.
    pub async fn fetch_live(&self) -> Result<LiveState, ApiError> {
        let (first, phones) = tokio::try_join!(self.agents_page(1), self.phone_numbers())?;
        let last_page = first.meta.as_ref().map_or(1, wire::Meta::pages);
        let total = first.meta.as_ref().and_then(|m| m.total);
        if last_page > MAX_PAGES {
            return Err(ApiError::Decode {
                call: "GET /api/v1/agents".into(),
                reason: format!(
                    "meta says {last_page} pages, more than talkops will follow ({MAX_PAGES})"
                ),
            });
        }
        let progress = &self.options.progress;
        progress.start("reading agents (pages)", last_page);
        progress.tick("reading agents (pages)");
        let rest: Result<Vec<Envelope<Vec<wire::Agent>>>, ApiError> =
            futures::stream::iter(2..=last_page)
                .map(|page| async move {
                    let result = self.agents_page(page).await;
                    progress.tick("reading agents (pages)");
                    result
                })
                .buffered(PAGE_CONCURRENCY)
                .try_collect()
                .await;
        progress.finish();
        let rest = rest?;

        let mut live = LiveState::default();
        for phone in phones {
            live.phone_numbers
                .insert(PhoneId::new(phone.id), phone.number);
        }
        let agents = std::iter::once(first)
            .chain(rest)
            .flat_map(|page| page.data.unwrap_or_default());
        for agent in agents {
            let id = AgentId::new(agent.id);
            if live.agents.contains_key(&id) {
                // Pages can overlap when the list shifts between requests; keep the first.
                continue;
            }
            let mut phone_ids = BTreeSet::new();
            for phone in agent.phone_numbers {
                let phone_id = PhoneId::new(phone.id);
                if !live.phone_numbers.contains_key(&phone_id) {
                    if let Some(number) = phone.number {
                        live.extra_labels.insert(phone_id.clone(), number);
                    }
                }
                phone_ids.insert(phone_id);
            }
            live.agents.insert(
                id.clone(),
                LiveAgent {
                    id,
                    name: agent.name.unwrap_or_default(),
                    direction: agent.direction.as_deref().and_then(Direction::parse),
                    status: agent.current_status,
                    phone_ids,
                },
            );
        }
        // Fewer agents than the server counted means some were missed (the list changed
        // while it was paged, or the paging metadata is wrong). A missed agent could hide a
        // shared name or an inbound owner, so the plan would not be safe.
        if let Some(total) = total {
            let read = live.agents.len() as u64;
            if read < total {
                return Err(ApiError::Decode {
                    call: "GET /api/v1/agents".into(),
                    reason: format!(
                        "the server counts {total} agents but paging returned {read}; the list may have changed while it was read: run again"
                    ),
                });
            }
        }
        Ok(live)
    }

    async fn agents_page(&self, page: u64) -> Result<Envelope<Vec<wire::Agent>>, ApiError> {
        let call = format!("GET /api/v1/agents?page={page}&per_page={PER_PAGE}");
        let url = format!(
            "{}/api/v1/agents?page={page}&per_page={PER_PAGE}",
            self.base
        );
        self.send(call, self.http.get(url)).await
    }

    /// `GET /phone-numbers`: not documented as paginated, but a `meta` is followed if one
    /// appears.
    async fn phone_numbers(&self) -> Result<Vec<wire::PhoneNumber>, ApiError> {
        let url = format!("{}/api/v1/phone-numbers", self.base);
        let first: Envelope<Vec<wire::PhoneNumber>> = self
            .send("GET /api/v1/phone-numbers".into(), self.http.get(&url))
            .await?;
        let last_page = first.meta.as_ref().map_or(1, wire::Meta::pages);
        if last_page > MAX_PAGES {
            return Err(ApiError::Decode {
                call: "GET /api/v1/phone-numbers".into(),
                reason: format!(
                    "meta says {last_page} pages, more than talkops will follow ({MAX_PAGES})"
                ),
            });
        }
        let mut numbers = first.data.unwrap_or_default();
        for page in 2..=last_page {
            let next: Envelope<Vec<wire::PhoneNumber>> = self
                .send(
                    format!("GET /api/v1/phone-numbers?page={page}"),
                    self.http.get(format!("{url}?page={page}")),
                )
                .await?;
            numbers.extend(next.data.unwrap_or_default());
        }
        Ok(numbers)
    }

    /// The agents holding the callback role (`GET /callback-agents`), following a `meta` if
    /// one appears. Asked only when a plan turns an inbound agent outbound.
    pub async fn callback_agents(&self) -> Result<BTreeSet<AgentId>, ApiError> {
        let url = format!("{}/api/v1/callback-agents", self.base);
        let first: Envelope<Vec<wire::Agent>> = self
            .send("GET /api/v1/callback-agents".into(), self.http.get(&url))
            .await?;
        let last_page = first
            .meta
            .as_ref()
            .map_or(1, wire::Meta::pages)
            .min(MAX_PAGES);
        let mut ids: BTreeSet<AgentId> = first
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|a| AgentId::new(a.id))
            .collect();
        for page in 2..=last_page {
            let next: Envelope<Vec<wire::Agent>> = self
                .send(
                    format!("GET /api/v1/callback-agents?page={page}"),
                    self.http.get(format!("{url}?page={page}")),
                )
                .await?;
            ids.extend(
                next.data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| AgentId::new(a.id)),
            );
        }
        Ok(ids)
    }

    /// `PUT /agents/{id}/calling` with the direction and the complete list of numbers.
    pub async fn put_calling(
        &self,
        agent: &AgentId,
        direction: Direction,
        phone_ids: &BTreeSet<PhoneId>,
    ) -> Result<PutOutcome, ApiError> {
        let call = format!("PUT /api/v1/agents/{agent}/calling");
        let url = format!(
            "{}/api/v1/agents/{}/calling",
            self.base,
            path_segment(agent.as_str())
        );
        let body = wire::CallingRequest {
            direction: direction.as_str(),
            phone_number_ids: phone_ids.iter().map(PhoneId::as_str).collect(),
        };
        let response: Envelope<wire::CallingResponse> = self
            .send(call.clone(), self.http.put(url).json(&body))
            .await?;
        let data = response.data.ok_or_else(|| ApiError::Decode {
            call,
            reason: "no `data` in the response".into(),
        })?;
        Ok(PutOutcome {
            direction: data.direction.as_deref().and_then(Direction::parse),
            phone_ids: data
                .phone_numbers
                .map(|list| list.into_iter().map(|p| PhoneId::new(p.id)).collect()),
            status: data.current_status,
        })
    }

    /// Sends a request, retrying what the retry policy allows, and decodes a success.
    async fn send<T: DeserializeOwned>(
        &self,
        call: String,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let policy = self.options.retry;
        let mut waited = Duration::ZERO;
        let mut retry = 0;
        loop {
            // Wait for the rate-limit gate (its waits are pacing, not retries).
            while let Some(wait) = self.gate.reserve(Instant::now()) {
                // Pacing and rate-limit pauses count against --max-retry-wait too, so that a
                // huge Retry-After or X-RateLimit-Reset cannot stall a pipeline unbounded.
                if waited + wait > policy.max_wait {
                    return Err(ApiError::Status {
                        call,
                        status: 429,
                        message: format!(
                            "the API's rate limit asks talkops to wait {:.0}s more, past --max-retry-wait ({:.0}s)",
                            wait.as_secs_f64(),
                            policy.max_wait.as_secs_f64()
                        ),
                        code: None,
                    });
                }
                self.log(|| {
                    format!(
                        "{call}: pacing for the rate limit, waiting {:.1}s",
                        wait.as_secs_f64()
                    )
                });
                waited += wait;
                tokio::time::sleep(wait).await;
            }
            let Some(attempt) = request.try_clone() else {
                return Err(ApiError::Decode {
                    call,
                    reason: "the request cannot be repeated".into(),
                });
            };
            let started = Instant::now();
            let outcome = self.attempt(&call, attempt).await;
            let wait = match &outcome {
                Attempt::Done(_) => None,
                Attempt::Failed { error, retry_after } => {
                    let wait = retry_after.unwrap_or_else(|| policy.backoff(retry + 1));
                    if let ApiError::Status { status: 429, .. } = error {
                        // Everyone waits, not only this request: the limit is shared. Never
                        // longer than this request may wait at all.
                        let budget = policy.max_wait.saturating_sub(waited);
                        self.gate.pause(Instant::now() + wait.min(budget));
                    }
                    Some(wait)
                }
                Attempt::Final(_) => None,
            };
            let error = match outcome {
                Attempt::Done(body) => {
                    self.log(|| format!("{call}: ok ({} ms)", started.elapsed().as_millis()));
                    return serde_json::from_str(&body).map_err(|err| ApiError::Decode {
                        call,
                        reason: scrub(&err.to_string(), self.token.expose()),
                    });
                }
                Attempt::Final(error) => return Err(error),
                Attempt::Failed { error, .. } => error,
            };
            let Some(wait) = wait else {
                return Err(error);
            };
            if retry >= policy.max_retries || waited + wait > policy.max_wait {
                return Err(error.gave_up(retry + 1));
            }
            retry += 1;
            waited += wait;
            self.log(|| {
                format!(
                    "{error}; retry {retry} of {} in {:.1}s",
                    policy.max_retries,
                    wait.as_secs_f64()
                )
            });
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: the body of a success, or an error and whether it may be retried.
    async fn attempt(&self, call: &str, request: reqwest::RequestBuilder) -> Attempt {
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                return Attempt::Failed {
                    error: ApiError::transport(call.to_owned(), &err),
                    retry_after: None,
                }
            }
        };
        let status = response.status();
        self.gate
            .observe(response.headers(), Instant::now(), SystemTime::now());
        let retry_after = retry::retry_after(response.headers(), SystemTime::now());
        let body = match response.text().await {
            Ok(body) => body,
            Err(err) => {
                return Attempt::Failed {
                    error: ApiError::transport(call.to_owned(), &err),
                    retry_after: None,
                }
            }
        };
        if status.is_success() {
            return Attempt::Done(body);
        }
        let error =
            ApiError::from_response(call.to_owned(), status.as_u16(), &body, self.token.expose());
        if status.as_u16() == 429 || status.is_server_error() {
            Attempt::Failed { error, retry_after }
        } else {
            Attempt::Final(error)
        }
    }

    /// The progress line this client reports to.
    pub fn progress(&self) -> &Progress {
        &self.options.progress
    }

    fn log(&self, message: impl FnOnce() -> String) {
        if self.options.verbose {
            eprintln!("talkops: {}", scrub(&message(), self.token.expose()));
        }
    }
}

/// The outcome of one attempt.
enum Attempt {
    Done(String),
    /// Retryable (5xx, 429, transport), after `retry_after` when the server said.
    Failed {
        error: ApiError,
        retry_after: Option<Duration>,
    },
    /// Not retryable (any other 4xx).
    Final(ApiError),
}

/// How the client behaves: timeouts, retries, logging, progress.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Log requests and retries to stderr (`-v`).
    pub verbose: bool,
    /// The progress line for reads and applies.
    pub progress: Progress,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            verbose: false,
            progress: Progress::default(),
        }
    }
}

/// Percent-encodes an opaque id for use as one path segment.
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::path_segment;

    #[test]
    fn ids_are_encoded_as_one_path_segment() {
        assert_eq!(path_segment("agent_123-abc"), "agent_123-abc");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }
}
