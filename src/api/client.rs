//! The HTTP client: reading the environment (agents, paged; phone numbers) and the one write.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use serde::de::DeserializeOwned;

use super::error::{scrub, ApiError};
use super::retry::{self, Gate, RetryPolicy};
use super::tls::SetupError;
use super::wire::{self, Envelope, EnvelopeProblem};
use super::Token;
use crate::model::{AgentId, Direction, LiveState, PhoneId};

/// The page size talkops asks for first. The API documents no maximum: a server that clamps
/// it says so in `meta` (which is obeyed), and one that refuses it (422) is asked for
/// [`PER_PAGE`] instead for the rest of the run. Every page saved is a round trip saved, and
/// on a 100-requests-a-minute plan 0.6 s of a user's time.
const ASK_PER_PAGE: u64 = 1_000;
/// The page size the API documents (its default), asked for after a 422.
const PER_PAGE: u64 = 100;
/// How many agents a client re-reads one by one at a time (those listed without numbers).
const PAGE_CONCURRENCY: usize = 8;
/// The default of `--read-parallelism`: how many list pages may be in flight at once.
pub const READ_PARALLELISM: usize = 16;
/// A server claiming more pages than this is not believed: it would mean ten million agents
/// at the smallest sane page size, far past any real environment, and a buggy `meta` must not
/// turn into an unbounded request loop.
const MAX_PAGES: u64 = 100_000;
/// The largest answer read: a page of 100 agents is about 100 KB, so 64 MiB is far past any
/// real answer and still small enough that a runaway server cannot exhaust memory.
const MAX_BODY_BYTES: u64 = 64 << 20;

/// A client for one Talkover environment (one base URL, one token). Clones share the
/// connection pool and the rate-limit gate.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Token,
    options: ClientOptions,
    gate: Arc<Gate>,
    /// The page size asked for: [`ASK_PER_PAGE`], until a server refuses it.
    per_page: Arc<std::sync::atomic::AtomicU64>,
}

/// What the server says an agent looks like after a successful PUT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutOutcome {
    pub direction: Option<Direction>,
    /// The direction as the server spelled it when talkops does not know it (`"both"`).
    pub direction_text: Option<String>,
    /// `None` when the response leaves out the numbers.
    pub phone_ids: Option<BTreeSet<PhoneId>>,
    pub status: Option<String>,
}

impl Client {
    /// A client for `base_url` (e.g. `https://app.talkover.ai`) authenticating with `token`.
    pub fn new(base_url: &str, token: Token, options: ClientOptions) -> Result<Client, SetupError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| SetupError::TokenNotAHeader(token.variable().to_owned()))?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("talkops/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            // A redirect would carry the token wherever it points (plain http included);
            // it is reported instead, so that the user fixes --api-url.
            .redirect(reqwest::redirect::Policy::none());
        if is_loopback(base_url) {
            // Plain http is allowed only on loopback because the token cannot leave the
            // machine; a proxy from HTTP_PROXY/ALL_PROXY would carry it off in clear.
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(super::tls::build_error)?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            token,
            options,
            gate: Arc::default(),
            per_page: Arc::new(std::sync::atomic::AtomicU64::new(ASK_PER_PAGE)),
        })
    }

    /// Reads the environment: every agent (paged, pages concurrently, bounded), the phone
    /// numbers, and one agent at a time only for an agent whose numbers the list left out.
    /// Anything the answers leave unknown is recorded as unknown. `known_agents` is how many
    /// agents surely exist (the config declares that many, and each must exist; 0 when
    /// nothing is known): their pages are asked for together with the first.
    pub async fn fetch_live(&self, known_agents: u64) -> Result<LiveState, ApiError> {
        self.read_live(known_agents)
            .await
            .map_err(|err| err.scrubbed(self.token.expose()))
    }

    async fn read_live(&self, known_agents: u64) -> Result<LiveState, ApiError> {
        let (agents, phones) = tokio::try_join!(self.agents(known_agents), self.phone_numbers())?;

        // An agent listed without `phone_numbers` (missing or null) holds numbers talkops
        // does not know: ask for that agent alone.
        let missing: Vec<String> = agents
            .iter()
            .filter(|a| a.phone_numbers.is_none())
            .map(|a| a.id.clone())
            .collect();
        let reread: Vec<wire::Agent> = futures::stream::iter(missing)
            .map(|id| async move { self.agent(&id).await })
            .buffered(PAGE_CONCURRENCY)
            .try_collect()
            .await?;
        let reread: BTreeMap<String, wire::Agent> =
            reread.into_iter().map(|a| (a.id.clone(), a)).collect();

        Ok(wire::live_state(phones, agents, reread))
    }

    /// Every agent, page by page (see [`Client::read_list`]), checked against `meta.total`.
    async fn agents(&self, known: u64) -> Result<Vec<wire::Agent>, ApiError> {
        self.read_list::<wire::Agent>(
            "/api/v1/agents",
            true,
            known,
            |a| &a.id,
            self.options.read_parallelism,
            Some(&*self.options.observer),
        )
        .await
    }

    /// `GET /agents/{id}`: one agent, for one whose numbers the list left out.
    async fn agent(&self, id: &str) -> Result<wire::Agent, ApiError> {
        let call = format!("GET /api/v1/agents/{id}");
        let url = format!("{}/api/v1/agents/{}", self.base, path_segment(id));
        let (agent, _): (wire::Agent, _) = self.send(call.clone(), self.http.get(url)).await?;
        if agent.id != id {
            return Err(ApiError::Decode {
                call,
                reason: format!("it describes agent {:?}, not {id:?}", agent.id),
            });
        }
        Ok(agent)
    }

    /// `GET /phone-numbers`: not documented as paginated, but a `meta` is followed if one
    /// appears.
    async fn phone_numbers(&self) -> Result<Vec<wire::PhoneNumber>, ApiError> {
        self.read_list::<wire::PhoneNumber>(
            "/api/v1/phone-numbers",
            false,
            0,
            |p| &p.id,
            self.options.read_parallelism,
            None,
        )
        .await
    }

    /// The agents holding the callback role (`GET /callback-agents`), following a `meta` if
    /// one appears. Asked only when a plan turns an inbound agent outbound; an answer that
    /// cannot be read is an error, never "nobody holds the role".
    pub async fn callback_agents(&self) -> Result<BTreeSet<AgentId>, ApiError> {
        let agents = self
            .read_list::<wire::Agent>(
                "/api/v1/callback-agents",
                false,
                0,
                |a| &a.id,
                self.options.read_parallelism,
                None,
            )
            .await
            .map_err(|err| err.scrubbed(self.token.expose()))?;
        Ok(agents.into_iter().map(|a| AgentId::new(a.id)).collect())
    }

    /// Reads a list that may be paged. With `sized` (the agents), talkops asks for a page
    /// size ([`ASK_PER_PAGE`], or [`PER_PAGE`] once a server refused that), and asks for the
    /// pages that `known` items surely fill together with page 1; the others follow as soon
    /// as page 1's `meta` says how many there are. At most `concurrency` pages are in flight
    /// (and the rate-limit gate paces them all), so a list of P pages costs about
    /// ceil(P / concurrency) round trips. A page past the last is never asked for, unless
    /// `known` overstates the list (a config declaring agents that do not exist, which
    /// fails its plan anyway); such a page's answer is dropped.
    ///
    /// As each page arrives it is checked: an item seen on an earlier page means the list
    /// changed or repeats (a server that ignores `page` would otherwise cost `last_page`
    /// requests for nothing), and an empty page before the last means items were lost; and
    /// when page 1's `meta.total` is given, the items read must be exactly that many (fewer:
    /// some were missed, and a missed agent could hide a shared name, an inbound owner or a
    /// callback role; more: the count is wrong or the list grew).
    async fn read_list<T: DeserializeOwned>(
        &self,
        path: &str,
        sized: bool,
        known: u64,
        id_of: fn(&T) -> &str,
        concurrency: usize,
        progress: Option<&dyn Observer>,
    ) -> Result<Vec<T>, ApiError> {
        use std::sync::atomic::Ordering;
        loop {
            let per_page = sized.then(|| self.per_page.load(Ordering::Relaxed));
            match self
                .read_pages(path, per_page, known, id_of, concurrency, progress)
                .await
            {
                Err(ApiError::Status { status: 422, .. })
                    if per_page.is_some_and(|asked| asked > PER_PAGE) =>
                {
                    // The server refuses the page size: the documented one, from now on.
                    self.per_page.store(PER_PAGE, Ordering::Relaxed);
                    self.log(|| {
                        format!(
                            "GET {path}: the API refused per_page={} (422); asking for {PER_PAGE} from now on",
                            per_page.unwrap_or_default()
                        )
                    });
                }
                other => return other,
            }
        }
    }

    /// One read of a list with the page size `per_page` (`None`: not asked): see
    /// [`Client::read_list`].
    async fn read_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        per_page: Option<u64>,
        known: u64,
        id_of: fn(&T) -> &str,
        concurrency: usize,
        progress: Option<&dyn Observer>,
    ) -> Result<Vec<T>, ApiError> {
        use futures::stream::FuturesUnordered;
        let page_call = |page: u64| -> (String, String) {
            let query = match (per_page, page) {
                (Some(per_page), page) => format!("?page={page}&per_page={per_page}"),
                (None, 1) => String::new(),
                (None, page) => format!("?page={page}"),
            };
            (
                format!("GET {path}{query}"),
                format!("{}{path}{query}", self.base),
            )
        };
        let fetch = |page: u64| async move {
            let (call, url) = page_call(page);
            let result: Result<(Vec<T>, Option<wire::Meta>), ApiError> =
                self.send(call, self.http.get(url)).await;
            (page, result)
        };
        let concurrency = concurrency.max(1);
        // Pages surely there before anything is known: those `known` items fill even at the
        // page size asked for (a server serving fewer per page only has more pages).
        let sure = match per_page {
            Some(size) if size > 0 => known.div_ceil(size).max(1),
            _ => 1,
        };
        let mut in_flight = FuturesUnordered::new();
        let mut next = 1u64;
        // Until page 1 has said how many pages there are: `None`.
        let mut last_page: Option<u64> = None;
        let mut total = None;
        let mut pages: Option<Pages<T>> = None;
        // Pages that arrived before page 1, judged once it has.
        let mut early: Vec<(u64, Result<Vec<T>, ApiError>)> = Vec::new();
        let outcome = async {
            loop {
                let limit = last_page.unwrap_or(sure);
                while in_flight.len() < concurrency && next <= limit {
                    in_flight.push(fetch(next));
                    next += 1;
                }
                let Some((page, result)) = in_flight.next().await else {
                    break;
                };
                if let Some(progress) = progress {
                    if page > 1 {
                        progress.tick();
                    }
                }
                if last_page.is_some_and(|last| page > last) {
                    // Asked for on the config's word before page 1 said there were fewer:
                    // nothing is there to take, whatever the answer was.
                    continue;
                }
                if page != 1 {
                    match pages.as_mut() {
                        Some(pages) => take(pages, &page_call, page, result?.0)?,
                        // A failure is moot if page 1 shows that the page does not exist.
                        None => early.push((page, result.map(|(list, _)| list))),
                    }
                    continue;
                }
                let (list, meta) = result?;
                let last = meta.as_ref().map_or(1, wire::Meta::pages);
                if last > MAX_PAGES {
                    return Err(ApiError::Decode {
                        call: format!("GET {path}"),
                        reason: format!(
                            "meta says {last} pages, more than talkops will follow ({MAX_PAGES})"
                        ),
                    });
                }
                last_page = Some(last);
                total = meta.as_ref().and_then(|m| m.total);
                if let Some(progress) = progress {
                    progress.start("reading agents (pages)", last);
                    progress.tick();
                }
                let mut fresh = Pages {
                    last_page: last,
                    id_of,
                    seen: HashMap::new(),
                    items: Vec::new(),
                };
                take(&mut fresh, &page_call, 1, list)?;
                for (page, result) in early.drain(..) {
                    if page <= last {
                        take(&mut fresh, &page_call, page, result?)?;
                    }
                }
                pages = Some(fresh);
            }
            Ok(())
        }
        .await;
        if let Some(progress) = progress {
            progress.finish();
        }
        outcome?;
        let pages = pages.ok_or_else(|| ApiError::Decode {
            call: format!("GET {path}"),
            reason: "page 1 never arrived".into(),
        })?;
        pages.finish(total).map_err(|reason| ApiError::Decode {
            call: format!("GET {path}"),
            reason,
        })
    }

    /// `PUT /agents/{id}/calling` with the direction and the complete list of numbers.
    ///
    /// An answer that does not show the agent's direction and numbers is verified with one
    /// `GET /agents/{id}`; if that read does not show them either, whether the change applied
    /// is unknown, and that is an error, never a success.
    pub async fn put_calling(
        &self,
        agent: &AgentId,
        direction: Direction,
        phone_ids: &BTreeSet<PhoneId>,
    ) -> Result<PutOutcome, ApiError> {
        self.put(agent, direction, phone_ids)
            .await
            .map_err(|err| err.scrubbed(self.token.expose()))
    }

    async fn put(
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
        let (status, text) = self.send_raw(&call, self.http.put(url).json(&body)).await?;
        // A 2xx whose body cannot be read (empty, not JSON, wrong-typed `data`) was accepted
        // but shows nothing, like `success: true` without `data`: both are read back.
        let data = match serde_json::from_str::<Envelope<wire::CallingResponse>>(&text) {
            Ok(envelope) => match envelope.into_parts() {
                Ok((data, _)) => Some(data),
                Err(EnvelopeProblem::NoData) => None,
                Err(problem) => return Err(self.problem(call, status, problem)),
            },
            Err(_) => None,
        };
        if let Some(wire::CallingResponse {
            direction: Some(direction),
            phone_numbers: Some(phone_numbers),
            current_status,
        }) = data
        {
            return Ok(put_outcome(&direction, &phone_numbers, current_status));
        }
        self.log(|| {
            format!("{call}: the answer does not show the agent's direction and numbers; reading it back")
        });
        let read = self
            .agent(agent.as_str())
            .await
            .map_err(|err| ApiError::Decode {
                call: call.clone(),
                reason: format!(
                    "the server accepted the change without showing the agent's settings, and reading them back failed ({err}); whether it applied is unknown: run plan"
                ),
            })?;
        match (&read.direction, &read.phone_numbers) {
            (Some(direction), Some(phone_numbers)) => {
                Ok(put_outcome(direction, phone_numbers, read.current_status))
            }
            _ => Err(ApiError::Decode {
                call,
                reason: "the server accepted the change without showing the agent's direction and numbers, and reading the agent back did not show them either; whether it applied is unknown: run plan".into(),
            }),
        }
    }

    /// Sends a request, retrying what the retry policy allows, and returns the `data` and
    /// `meta` of an answer that says `success: true`.
    async fn send<T: DeserializeOwned>(
        &self,
        call: String,
        request: reqwest::RequestBuilder,
    ) -> Result<(T, Option<wire::Meta>), ApiError> {
        let (status, envelope) = self.send_envelope::<T>(&call, request).await?;
        envelope
            .into_parts()
            .map_err(|problem| self.problem(call, status, problem))
    }

    /// Sends a request, retrying what the retry policy allows, and parses the envelope of a
    /// 2xx answer (not yet judged).
    async fn send_envelope<T: DeserializeOwned>(
        &self,
        call: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Envelope<T>), ApiError> {
        let (status, body) = self.send_raw(call, request).await?;
        let envelope = serde_json::from_str(&body).map_err(|err| ApiError::Decode {
            call: call.to_owned(),
            reason: scrub(&err.to_string(), self.token.expose()),
        })?;
        Ok((status, envelope))
    }

    /// The error for an envelope that cannot be used.
    fn problem(&self, call: String, status: u16, problem: EnvelopeProblem) -> ApiError {
        match problem {
            EnvelopeProblem::Refused(message) => ApiError::Refused {
                call,
                status,
                message: scrub(
                    message.as_deref().unwrap_or("(the server gave no message)"),
                    self.token.expose(),
                ),
            },
            EnvelopeProblem::NoSuccess(reason) => ApiError::Decode { call, reason },
            EnvelopeProblem::NoData => ApiError::Decode {
                call,
                reason: "no `data` in the answer (missing or null)".into(),
            },
        }
    }

    /// Sends a request, retrying what the retry policy allows; the status and body of a
    /// success.
    async fn send_raw(
        &self,
        call: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, String), ApiError> {
        let call = call.to_owned();
        let policy = self.options.retry;
        let mut waited = Duration::ZERO;
        let mut retry = 0;
        loop {
            // Held until this attempt is over, answered or not (or abandoned): the gate
            // counts the requests in flight.
            let _in_flight = self.wait_for_gate(&call, &mut waited).await?;
            let Some(attempt) = request.try_clone() else {
                return Err(ApiError::Decode {
                    call,
                    reason: "the request cannot be repeated".into(),
                });
            };
            let started = Instant::now();
            let outcome = self.attempt(&call, attempt).await;
            let wait = match &outcome {
                Attempt::Done(..) => None,
                Attempt::Retryable { error, retry_after } => {
                    let wait = retry_after.unwrap_or_else(|| policy.backoff(retry + 1));
                    if let ApiError::Status { status: 429, .. } = error {
                        // Everyone waits, not only this request: the limit is shared. Never
                        // longer than this request may wait at all.
                        let budget = policy.max_wait.saturating_sub(waited);
                        if let Some(until) = Instant::now().checked_add(wait.min(budget)) {
                            self.gate.pause(until);
                        }
                    }
                    Some(wait)
                }
                Attempt::Final(_) => None,
            };
            let error = match outcome {
                Attempt::Done(status, body) => {
                    self.log(|| format!("{call}: ok ({} ms)", started.elapsed().as_millis()));
                    return Ok((status, body));
                }
                Attempt::Final(error) => return Err(error),
                Attempt::Retryable { error, .. } => error,
            };
            let Some(wait) = wait else {
                return Err(error);
            };
            if waited.saturating_add(wait) > policy.max_wait {
                let why = format!(
                    "the next try would wait {:.0}s, past --max-retry-wait ({:.0}s)",
                    wait.as_secs_f64(),
                    policy.max_wait.as_secs_f64()
                );
                return Err(error.gave_up(retry + 1, Some(why)));
            }
            if retry >= policy.max_retries {
                return Err(error.gave_up(retry + 1, None));
            }
            retry += 1;
            waited = waited.saturating_add(wait);
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

    /// Waits for the rate-limit gate (its waits are pacing, not retries). Pacing and
    /// rate-limit pauses count against --max-retry-wait too, so that a huge Retry-After or
    /// X-RateLimit-Reset cannot stall a pipeline unbounded.
    async fn wait_for_gate(
        &self,
        call: &str,
        waited: &mut Duration,
    ) -> Result<InFlight<'_>, ApiError> {
        let policy = self.options.retry;
        while let Some(wait) = self.gate.reserve(Instant::now()) {
            if waited.saturating_add(wait) > policy.max_wait {
                return Err(ApiError::Status {
                    call: call.to_owned(),
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
            *waited = waited.saturating_add(wait);
            tokio::time::sleep(wait).await;
        }
        Ok(InFlight(&self.gate))
    }

    /// One attempt: the body of a success, or an error and whether it may be retried.
    async fn attempt(&self, call: &str, request: reqwest::RequestBuilder) -> Attempt {
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                if let Some(reason) = super::tls::certificate_problem(&err) {
                    return Attempt::Final(ApiError::Transport {
                        call: call.to_owned(),
                        reason,
                    });
                }
                return Attempt::Retryable {
                    error: ApiError::transport(call.to_owned(), &err),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        self.gate
            .observe(response.headers(), Instant::now(), SystemTime::now());
        let retry_after = retry::retry_after(response.headers(), SystemTime::now());
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                .map(|text| clip(&scrub(&text, self.token.expose()), 300))
                .unwrap_or_else(|| "(no Location header)".into());
            return Attempt::Final(ApiError::Redirect {
                call: call.to_owned(),
                status: status.as_u16(),
                location,
            });
        }
        let body = match read_body(&mut response).await {
            Ok(body) => body,
            Err(BodyError::Transport(err)) => {
                return Attempt::Retryable {
                    error: ApiError::transport(call.to_owned(), &err),
                    retry_after: None,
                }
            }
            Err(BodyError::TooLarge(size)) => {
                return Attempt::Final(ApiError::Decode {
                    call: call.to_owned(),
                    reason: format!(
                        "the answer is {size}, larger than talkops reads ({} MiB); a page of 100 agents is about 100 KB: check --api-url",
                        MAX_BODY_BYTES >> 20
                    ),
                })
            }
        };
        if status.is_success() {
            return match String::from_utf8(body) {
                Ok(text) => Attempt::Done(status.as_u16(), text),
                Err(_) => Attempt::Final(ApiError::Decode {
                    call: call.to_owned(),
                    reason: "the answer is not UTF-8 text".into(),
                }),
            };
        }
        let text = String::from_utf8_lossy(&body);
        let error = ApiError::from_response(call.to_owned(), status.as_u16(), &text, &self.token);
        if status.as_u16() == 429 || status.is_server_error() {
            Attempt::Retryable { error, retry_after }
        } else {
            Attempt::Final(error)
        }
    }

    /// What this client reports its progress to; `apply` reports its PUTs there too.
    pub fn observer(&self) -> &dyn Observer {
        &*self.options.observer
    }

    /// With `-v`, one line to the observer: the token scrubbed, control characters made
    /// visible. The message is built only when it will be shown.
    fn log(&self, message: impl FnOnce() -> String) {
        if self.options.verbose {
            let label = match &self.options.label {
                Some(label) => format!(" [{label}]"),
                None => String::new(),
            };
            self.options.observer.log(&format!(
                "talkops{label}: {}",
                crate::printable::visible(&scrub(&message(), self.token.expose()))
            ));
        }
    }
}

/// Takes page `page` into `pages`, naming the page's request in an error.
fn take<T>(
    pages: &mut Pages<T>,
    page_call: &dyn Fn(u64) -> (String, String),
    page: u64,
    list: Vec<T>,
) -> Result<(), ApiError> {
    pages.take(page, list).map_err(|reason| ApiError::Decode {
        call: page_call(page).0,
        reason,
    })
}

/// A request the gate let through, until its attempt is over.
struct InFlight<'a>(&'a Gate);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.finished();
    }
}

/// The items of a paged list as its pages arrive, in order, with the checks that stop a read
/// of a list that changed or repeats.
struct Pages<T> {
    last_page: u64,
    id_of: fn(&T) -> &str,
    /// Each id seen, and the page it was on.
    seen: HashMap<String, u64>,
    items: Vec<T>,
}

impl<T> Pages<T> {
    /// Takes page `page`: an empty page before the last, or an id seen before, is an error.
    fn take(&mut self, page: u64, list: Vec<T>) -> Result<(), String> {
        let last_page = self.last_page;
        if list.is_empty() && page < last_page {
            return Err(format!(
                "page {page} of {last_page} is empty; the list changed while it was read: try again"
            ));
        }
        for item in list {
            let id = (self.id_of)(&item).to_owned();
            if let Some(earlier) = self.seen.insert(id.clone(), page) {
                let where_ = if earlier == page {
                    format!("twice on page {page}")
                } else {
                    format!("on page {earlier} and again on page {page}")
                };
                return Err(format!(
                    "id {id:?} appears {where_}: the list changed or repeated while it was read; try again"
                ));
            }
            self.items.push(item);
        }
        Ok(())
    }

    /// The items, if there are exactly as many as page 1's `meta.total` (when it gave one).
    fn finish(self, total: Option<u64>) -> Result<Vec<T>, String> {
        if let Some(total) = total {
            let read = self.items.len() as u64;
            if read != total {
                return Err(format!(
                    "the server counts {total} items but paging returned {read}; the list may have changed while it was read: run again"
                ));
            }
        }
        Ok(self.items)
    }
}

/// What a PUT's answer (or the read that verifies it) says the agent now is. A direction
/// talkops does not know is kept as text: apply reports it as applied differently, never as
/// "unverified".
fn put_outcome(
    direction: &str,
    phone_numbers: &[wire::AgentPhoneNumber],
    status: Option<String>,
) -> PutOutcome {
    let parsed = Direction::parse(direction);
    PutOutcome {
        direction: parsed,
        direction_text: parsed.is_none().then(|| clip(direction, 40)),
        phone_ids: Some(phone_numbers.iter().map(|p| PhoneId::new(&p.id)).collect()),
        status,
    }
}

/// Why a body could not be read.
enum BodyError {
    Transport(reqwest::Error),
    /// Larger than [`MAX_BODY_BYTES`]: how large, as far as known.
    TooLarge(String),
}

/// Reads a response body, refusing one larger than [`MAX_BODY_BYTES`] (by its
/// `Content-Length` before reading, and by counting while reading, since a server may send
/// none or lie).
async fn read_body(response: &mut reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if let Some(length) = response.content_length() {
        if length > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge(format!("{length} bytes")));
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len().saturating_add(chunk.len()) as u64 > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge(format!(
                "more than {MAX_BODY_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// At most `max` characters of `text`, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Whether a base URL's host is loopback (`localhost`, 127.0.0.0/8, `::1`).
fn is_loopback(base_url: &str) -> bool {
    reqwest::Url::parse(base_url).is_ok_and(|url| super::is_loopback(&url))
}

/// The outcome of one attempt.
enum Attempt {
    /// A 2xx: its status and body.
    Done(u16, String),
    /// Retryable (5xx, 429, transport), after `retry_after` when the server said.
    Retryable {
        error: ApiError,
        retry_after: Option<Duration>,
    },
    /// Not retryable (any other 4xx, a server certificate that is not trusted).
    Final(ApiError),
}

/// How the client behaves: timeouts, retries, logging, and whom it reports to.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Log requests and retries (`-v`), through the observer.
    pub verbose: bool,
    /// Where progress and the log go: [`Stderr`] unless the caller gives another (the
    /// commands give a progress line on a terminal).
    pub observer: Arc<dyn Observer>,
    /// How many list pages may be in flight at once (`--read-parallelism`).
    pub read_parallelism: usize,
    /// Names the environment in log lines (`talkops [staging]: ...`) when several are read
    /// at once (project mode).
    pub label: Option<String>,
}

/// What the client tells as it works: how far a long read (or `apply`'s PUTs) has got, and,
/// with `-v`, one log line per request and retry. The client knows nothing of terminals: the
/// caller decides where this goes. Implementations must not panic (stderr may be closed).
pub trait Observer: std::fmt::Debug + Send + Sync {
    /// Starts counting `total` units of `what` (e.g. "reading agents (pages)").
    fn start(&self, what: &str, total: u64);
    /// One more unit done.
    fn tick(&self);
    /// The count is over.
    fn finish(&self);
    /// One log line, without its line end; already scrubbed of the token.
    fn log(&self, line: &str);
}

/// The plain observer: no progress, the log straight to stderr.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stderr;

impl Observer for Stderr {
    fn start(&self, _what: &str, _total: u64) {}
    fn tick(&self) {}
    fn finish(&self) {}
    fn log(&self, line: &str) {
        crate::stdout::eprint(&format!("{line}\n"));
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            verbose: false,
            observer: Arc::new(Stderr),
            read_parallelism: READ_PARALLELISM,
            label: None,
        }
    }
}

/// Percent-encodes an opaque id for use as one path segment: everything but RFC 3986's
/// unreserved characters, so a `/`, `?`, `#` or `%` in an id cannot change the path.
fn path_segment(id: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    /// Everything but ALPHA / DIGIT / "-" / "." / "_" / "~".
    const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(id, NOT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::path_segment;

    #[test]
    fn ids_are_encoded_as_one_path_segment() {
        assert_eq!(path_segment("agent_123-abc"), "agent_123-abc");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(path_segment("a?b#c%d"), "a%3Fb%23c%25d");
        assert_eq!(path_segment("agent.ü~"), "agent.%C3%BC~");
    }
}
