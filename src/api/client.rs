//! The HTTP client: reading the environment (agents, paged; phone numbers) and the one write.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use serde::de::DeserializeOwned;

use super::error::{scrub, ApiError};
use super::wire::{self, Envelope};
use super::Token;
use crate::state::{AgentId, Direction, LiveAgent, LiveState, PhoneId};

/// The page size talkops asks for; servers may clamp it, and `meta` is obeyed.
const PER_PAGE: u64 = 100;
/// Agent pages after the first are fetched this many at a time.
const PAGE_CONCURRENCY: usize = 8;
/// A server claiming more pages than this is not believed: it would mean ten million agents
/// at the smallest sane page size, far past any real environment, and a buggy `meta` must not
/// turn into an unbounded request loop.
const MAX_PAGES: u64 = 100_000;

/// A client for one Talkover environment (one base URL, one token).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Token,
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
    pub fn new(base_url: &str, token: Token) -> anyhow::Result<Client> {
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
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            token,
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
        let rest: Vec<Envelope<Vec<wire::Agent>>> = futures::stream::iter(2..=last_page)
            .map(|page| self.agents_page(page))
            .buffered(PAGE_CONCURRENCY)
            .try_collect()
            .await?;

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

    async fn send<T: DeserializeOwned>(
        &self,
        call: String,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => return Err(ApiError::transport(call, &err)),
        };
        let status = response.status();
        let body = match response.text().await {
            Ok(body) => body,
            Err(err) => return Err(ApiError::transport(call, &err)),
        };
        if !status.is_success() {
            return Err(ApiError::from_response(
                call,
                status.as_u16(),
                &body,
                self.token.expose(),
            ));
        }
        serde_json::from_str(&body).map_err(|err| ApiError::Decode {
            call,
            reason: scrub(&err.to_string(), self.token.expose()),
        })
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
