//! Canned answers: hand-written responses to the `/api/v1` requests that match them, for
//! tests of a client against answers the contract allows but the simulator never gives
//! (`success: false` inside a 200, `data: null`, absurd rate-limit headers, redirects,
//! pages that repeat, huge bodies).
//!
//! This module owns matching a request against [`crate::SimConfig::canned`], counting
//! each entry's uses, and rendering its answer. It checks every entry once, when the
//! state is built, so that answering cannot fail. It does not decide *when* a canned
//! answer is consulted (after the delay, the fault knobs and the token check): see
//! `routes::answer`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

/// A hand-written answer to the `/api/v1` requests that match it, for tests of a client
/// against answers the contract allows but the simulator never gives.
///
/// A request matches when its method equals `method` (case-insensitively), its path
/// (as sent, still percent-encoded) equals `path` exactly, and, when `query_contains` is
/// set, its raw query string contains that text (a request without a query has the
/// empty query). The first entry of [`crate::SimConfig::canned`] that matches and has
/// uses left answers; see [`crate::SimConfig`] for where this happens in a request's life.
///
/// ```
/// use talkover_sim::Canned;
///
/// let hostile = Canned::new("GET", "/api/v1/agents", 200, r#"{"success": false, "message": "nope"}"#)
///     .query("page=2")
///     .header("Retry-After", "18446744073709551615")
///     .times(1);
/// assert_eq!(hostile.times, Some(1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canned {
    /// `"GET"`, `"PUT"`, ...; compared case-insensitively.
    pub method: String,
    /// The exact path, e.g. `"/api/v1/agents"` or `"/api/v1/agents/a-1"`.
    pub path: String,
    /// Matches only when the raw query contains this text; `None` matches any query.
    pub query_contains: Option<String>,
    /// The status sent. Must be a valid HTTP status (100 to 999).
    pub status: u16,
    /// Headers sent as given (`HeaderValue::from_bytes` of the text), in order; several
    /// entries with one name are all sent. A name the simulator would send anyway
    /// (`Content-Type`, the `X-RateLimit-*` headers of [`crate::SimConfig::rate_limit`])
    /// replaces the simulator's value. An invalid name or value is a config error at
    /// [`crate::SharedState::new`].
    pub headers: Vec<(String, String)>,
    /// The body, sent verbatim with `Content-Type: application/json`.
    pub body: String,
    /// Answer this many matching requests, then route them normally; `None`: all of them.
    pub times: Option<u64>,
    /// Route the request first (a PUT is applied and the state changes), then send the
    /// canned answer instead of the real one.
    pub route_first: bool,
}

impl Canned {
    /// An answer to every `method` request on `path`, whatever its query, with this
    /// status and body, no extra headers, not routed.
    pub fn new(method: &str, path: &str, status: u16, body: impl Into<String>) -> Canned {
        Canned {
            method: method.to_owned(),
            path: path.to_owned(),
            query_contains: None,
            status,
            headers: Vec::new(),
            body: body.into(),
            times: None,
            route_first: false,
        }
    }

    /// Matches only requests whose raw query contains `contains` (e.g. `"page=2"`).
    pub fn query(mut self, contains: &str) -> Canned {
        self.query_contains = Some(contains.to_owned());
        self
    }

    /// Adds a header to the answer.
    pub fn header(mut self, name: &str, value: &str) -> Canned {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answers only the first `n` matching requests; later ones go to the next matching
    /// entry, or are routed normally.
    pub fn times(mut self, n: u64) -> Canned {
        self.times = Some(n);
        self
    }

    /// Routes the request before answering (a PUT changes the state), then sends this
    /// answer instead of the real one.
    pub fn route_first(mut self) -> Canned {
        self.route_first = true;
        self
    }

    /// Whether a request matches, uses aside.
    fn matches(&self, method: &str, path: &str, query: Option<&str>) -> bool {
        self.method.eq_ignore_ascii_case(method)
            && self.path == path
            && self
                .query_contains
                .as_ref()
                .is_none_or(|needle| query.unwrap_or_default().contains(needle.as_str()))
    }
}

/// The canned answers of a config, checked and ready to send, with their use counts.
#[derive(Debug)]
pub(crate) struct CannedAnswers(Vec<Prepared>);

/// One checked [`Canned`] entry.
#[derive(Debug)]
pub(crate) struct Prepared {
    canned: Canned,
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The body once, so that each answer clones a reference count rather than the text
    /// (a test may can a body of many megabytes).
    body: Bytes,
    /// Requests answered so far; only counted when `canned.times` is set.
    used: AtomicU64,
}

/// Why a [`Canned`] entry cannot be sent as given; `state` turns it into
/// `SimConfigError::Canned`, so that this module need not know the config's error type.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidCanned {
    /// Its position in the config's list, from 0.
    pub index: usize,
    pub method: String,
    pub path: String,
    pub reason: String,
}

impl CannedAnswers {
    /// Checks every entry's status and headers, naming the first that cannot be sent.
    pub fn new(entries: Vec<Canned>) -> Result<CannedAnswers, InvalidCanned> {
        entries
            .into_iter()
            .enumerate()
            .map(|(index, canned)| Prepared::new(index, canned))
            .collect::<Result<Vec<_>, _>>()
            .map(CannedAnswers)
    }

    /// The first entry that matches the request and has a use left, counting that use.
    ///
    /// Uses are taken with a compare-and-swap, so concurrent requests never answer more
    /// than `times` between them; a request that finds an entry used up moves on to the
    /// next matching entry.
    pub fn take(&self, method: &str, path: &str, query: Option<&str>) -> Option<&Prepared> {
        self.0
            .iter()
            .find(|prepared| prepared.canned.matches(method, path, query) && prepared.take_use())
    }
}

impl Prepared {
    fn new(index: usize, canned: Canned) -> Result<Prepared, InvalidCanned> {
        let invalid = |reason: String| InvalidCanned {
            index,
            method: canned.method.clone(),
            path: canned.path.clone(),
            reason,
        };
        let status = StatusCode::from_u16(canned.status)
            .map_err(|_| invalid(format!("status {} is not an HTTP status", canned.status)))?;
        let headers = canned
            .headers
            .iter()
            .map(|(name, value)| {
                let header_name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| invalid(format!("invalid header name {name:?}")))?;
                let header_value = HeaderValue::from_bytes(value.as_bytes())
                    .map_err(|_| invalid(format!("invalid value {value:?} of header {name:?}")))?;
                Ok((header_name, header_value))
            })
            .collect::<Result<Vec<_>, InvalidCanned>>()?;
        Ok(Prepared {
            status,
            headers,
            body: Bytes::from(canned.body.clone()),
            canned,
            used: AtomicU64::new(0),
        })
    }

    /// Counts one use if any is left.
    fn take_use(&self) -> bool {
        let Some(times) = self.canned.times else {
            return true;
        };
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < times).then(|| used.saturating_add(1))
            })
            .is_ok()
    }

    /// Whether the request is routed before this answer replaces the real one.
    pub fn route_first(&self) -> bool {
        self.canned.route_first
    }

    /// The answer without its canned headers: status, `Content-Type` and body. The gate
    /// adds its own headers, then [`Prepared::apply_headers`].
    pub fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }

    /// Puts the canned headers on a response: each name given replaces whatever the
    /// response had under it, and every value given for it is sent, in order.
    pub fn apply_headers(&self, headers: &mut HeaderMap) {
        for (name, _) in &self.headers {
            headers.remove(name);
        }
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(entries: Vec<Canned>) -> CannedAnswers {
        CannedAnswers::new(entries).unwrap()
    }

    /// The index of the entry that answers, if any.
    fn which(
        answers: &CannedAnswers,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Option<usize> {
        let answer = answers.take(method, path, query)?;
        answers
            .0
            .iter()
            .position(|prepared| std::ptr::eq(prepared, answer))
    }

    #[test]
    fn builders_set_what_they_name() {
        let canned = Canned::new("get", "/api/v1/agents", 200, "{}")
            .query("page=2")
            .header("Retry-After", "5")
            .header("X-A", "b")
            .times(3)
            .route_first();
        assert_eq!(
            canned,
            Canned {
                method: "get".into(),
                path: "/api/v1/agents".into(),
                query_contains: Some("page=2".into()),
                status: 200,
                headers: vec![
                    ("Retry-After".into(), "5".into()),
                    ("X-A".into(), "b".into())
                ],
                body: "{}".into(),
                times: Some(3),
                route_first: true,
            }
        );
        let plain = Canned::new("PUT", "/p", 500, String::from("x"));
        assert_eq!(
            (plain.times, plain.route_first, plain.query_contains),
            (None, false, None)
        );
    }

    #[test]
    fn matching_is_by_method_exact_path_and_query_text() {
        let canned = Canned::new("get", "/api/v1/agents", 200, "{}").query("page=2");
        assert!(canned.matches("GET", "/api/v1/agents", Some("page=2&per_page=100")));
        assert!(canned.matches("Get", "/api/v1/agents", Some("per_page=100&page=2")));
        assert!(!canned.matches("PUT", "/api/v1/agents", Some("page=2")));
        assert!(!canned.matches("GET", "/api/v1/agents/", Some("page=2")));
        assert!(!canned.matches("GET", "/api/v1/agents/a-1", Some("page=2")));
        assert!(!canned.matches("GET", "/api/v1/agents", Some("page=3")));
        assert!(!canned.matches("GET", "/api/v1/agents", None));
        let any_query = Canned::new("GET", "/api/v1/agents", 200, "{}");
        assert!(any_query.matches("GET", "/api/v1/agents", None));
        assert!(any_query.matches("GET", "/api/v1/agents", Some("page=9")));
        // The empty text is in every query, even an absent one.
        assert!(any_query.query("").matches("GET", "/api/v1/agents", None));
    }

    #[test]
    fn the_first_entry_with_uses_left_answers_then_normal_routing() {
        let answers = answers(vec![
            Canned::new("GET", "/api/v1/agents", 500, "first").times(2),
            Canned::new("GET", "/api/v1/agents", 200, "second").times(1),
            Canned::new("GET", "/api/v1/agents/a-1", 200, "forever"),
        ]);
        let agents = |answers: &CannedAnswers| which(answers, "GET", "/api/v1/agents", None);
        assert_eq!(agents(&answers), Some(0));
        assert_eq!(agents(&answers), Some(0));
        assert_eq!(agents(&answers), Some(1));
        assert_eq!(agents(&answers), None, "used up: routed normally");
        assert_eq!(agents(&answers), None);
        for _ in 0..5 {
            assert_eq!(which(&answers, "GET", "/api/v1/agents/a-1", None), Some(2));
        }
        // A request that does not match uses nothing up.
        let answers = self::answers(vec![Canned::new("PUT", "/x", 200, "").times(1)]);
        assert_eq!(which(&answers, "GET", "/x", None), None);
        assert_eq!(which(&answers, "PUT", "/x", None), Some(0));
        assert_eq!(which(&answers, "PUT", "/x", None), None);
        // Zero times never answers.
        let answers = self::answers(vec![Canned::new("GET", "/x", 200, "").times(0)]);
        assert_eq!(which(&answers, "GET", "/x", None), None);
    }

    #[test]
    fn concurrent_requests_share_the_uses_exactly() {
        let answers = answers(vec![Canned::new("GET", "/x", 200, "").times(100)]);
        let taken: usize = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        (0..50)
                            .filter(|_| answers.take("GET", "/x", None).is_some())
                            .count()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().unwrap())
                .sum()
        });
        assert_eq!(taken, 100);
    }

    #[test]
    fn route_first_is_carried_to_the_answer() {
        let answers = answers(vec![
            Canned::new("PUT", "/a", 200, "").route_first(),
            Canned::new("PUT", "/b", 200, ""),
        ]);
        assert!(answers.take("PUT", "/a", None).unwrap().route_first());
        assert!(!answers.take("PUT", "/b", None).unwrap().route_first());
    }

    #[test]
    fn the_answer_has_the_status_body_and_headers_as_given() {
        let answers = answers(vec![Canned::new("GET", "/x", 302, "not json {")
            .header("Location", "http://example.com/api/v1/agents")
            .header("X-RateLimit-Remaining", "-1")
            .header("x-ratelimit-remaining", "18446744073709551616")
            .header("Content-Type", "text/html")]);
        let answer = answers.take("GET", "/x", None).unwrap();
        let mut response = answer.response();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        response
            .headers_mut()
            .insert("x-ratelimit-remaining", HeaderValue::from(5u64));
        response
            .headers_mut()
            .insert("x-ratelimit-limit", HeaderValue::from(10u64));
        answer.apply_headers(response.headers_mut());
        let headers = response.headers();
        let all = |name: &str| -> Vec<&[u8]> {
            headers
                .get_all(name)
                .iter()
                .map(HeaderValue::as_bytes)
                .collect()
        };
        assert_eq!(
            all("location"),
            [b"http://example.com/api/v1/agents".as_slice()]
        );
        assert_eq!(
            all("x-ratelimit-remaining"),
            [b"-1".as_slice(), b"18446744073709551616".as_slice()],
            "the canned values replace the sim's, all of them sent"
        );
        assert_eq!(all("x-ratelimit-limit"), [b"10".as_slice()], "others stay");
        assert_eq!(all("content-type"), [b"text/html".as_slice()]);
        assert_eq!(answer.body, Bytes::from_static(b"not json {"));
    }

    #[test]
    fn invalid_statuses_and_headers_are_config_errors_naming_the_entry() {
        // Shown as `SimConfigError`'s `Display` shows it.
        let error = |canned: Canned| {
            let err =
                CannedAnswers::new(vec![Canned::new("GET", "/ok", 200, ""), canned]).unwrap_err();
            let InvalidCanned {
                index,
                method,
                path,
                reason,
            } = err;
            format!("canned answer {index} ({method} {path}): {reason}")
        };
        assert_eq!(
            error(Canned::new("GET", "/api/v1/agents", 1000, "")),
            "canned answer 1 (GET /api/v1/agents): status 1000 is not an HTTP status"
        );
        assert_eq!(
            error(Canned::new("PUT", "/p", 200, "").header("bad name", "x")),
            r#"canned answer 1 (PUT /p): invalid header name "bad name""#
        );
        assert_eq!(
            error(Canned::new("GET", "/p", 200, "").header("X-Ok", "line\nbreak")),
            r#"canned answer 1 (GET /p): invalid value "line\nbreak" of header "X-Ok""#
        );
        // Bytes past ASCII are valid header bytes (obs-text) and are sent as given.
        assert!(
            CannedAnswers::new(vec![Canned::new("GET", "/p", 200, "").header("X-Date", "é")])
                .is_ok()
        );
    }
}
