//! How the client survives a rate-limited, occasionally failing API: which failures are
//! retried, how long to wait, and the shared gate that paces requests by the server's
//! rate-limit headers.
//!
//! Retried: 429 (after `Retry-After`, in seconds or as an HTTP date), 5xx, connection errors
//! and timeouts, with exponential backoff and jitter, capped in attempts and in total wait.
//! Every other 4xx is final. GETs and the calling PUT are idempotent, so a retry is safe.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderMap;

/// Limits of the retry loop, from the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// The most time spent waiting between attempts of one request, all waits together.
    pub max_wait: Duration,
    /// The first backoff; each retry doubles it, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 6,
            max_wait: Duration::from_secs(120),
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry number `retry` (1-based): exponential, with "equal jitter" (half
    /// fixed, half random) so that concurrent requests do not retry in lockstep.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(16);
        let full = self
            .base_backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// The longest wait talkops will take from a server's word (`Retry-After`,
/// `X-RateLimit-Reset`). Longer values are cut to this; any wait past `--max-retry-wait`
/// fails the request anyway, so the cut only keeps the arithmetic on instants in range.
pub const LONGEST_SERVER_WAIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// Parses `Retry-After`: delta-seconds, or an HTTP date (then the time until it, or zero).
/// Any value, however large, gives a wait of at most [`LONGEST_SERVER_WAIT`]; one that is
/// neither form, or a date `httpdate` cannot read (before 1970, after 9999, a wrong
/// weekday), is ignored: the backoff applies.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: seconds, however many (too many for a u64 is "very long").
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(LONGEST_SERVER_WAIT));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(time_until(at, now))
}

/// The time from `now` until `at`: zero if that has passed, at most [`LONGEST_SERVER_WAIT`].
fn time_until(at: SystemTime, now: SystemTime) -> Duration {
    at.duration_since(now)
        .unwrap_or(Duration::ZERO)
        .min(LONGEST_SERVER_WAIT)
}

/// The time from `now` until `at` seconds after the Unix epoch: zero if that has passed, at
/// most [`LONGEST_SERVER_WAIT`].
fn seconds_until(at: u64, now: SystemTime) -> Duration {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Duration::from_secs(at)
        .saturating_sub(now)
        .min(LONGEST_SERVER_WAIT)
}

/// How long a request waits, when the window is spent and its end unknown, for the answers
/// in flight to say when it ends.
const AWAIT_ANSWERS: Duration = Duration::from_millis(20);

/// Paces requests across all concurrent callers by what the server says is left of its
/// rate limit (`X-RateLimit-Remaining`, `X-RateLimit-Reset`) and by `Retry-After` on a 429,
/// so that talkops waits before the limit instead of hitting it, and a 429 pauses every
/// request rather than only the one that got it.
#[derive(Debug, Default)]
pub struct Gate {
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    /// Requests the server still allows in this window, less those sent since it said so.
    remaining: Option<u64>,
    /// The window's size (`X-RateLimit-Limit`), once a response has said it: a new window
    /// starts with this much, less the requests still in flight.
    limit: Option<u64>,
    /// Requests granted by [`Gate::reserve`] whose answer has not been taken in yet (see
    /// [`Gate::finished`]). A response's `X-RateLimit-Remaining` cannot count the requests
    /// the server has not seen yet: those are taken off what it says is left, so that a
    /// burst of concurrent requests never overruns the window.
    in_flight: u64,
    /// When the current window ends.
    reset_at: Option<Instant>,
    /// No request may start before this (after a 429's `Retry-After`).
    paused_until: Option<Instant>,
}

impl Gate {
    /// How long the caller must wait before sending; `None` means send now (and the
    /// request has been counted against the window).
    pub fn reserve(&self, now: Instant) -> Option<Duration> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = state.paused_until {
            if until > now {
                return Some(until - now);
            }
            state.paused_until = None;
        }
        if let Some(reset_at) = state.reset_at {
            if reset_at <= now {
                // A new window: its size, when known, less what is still in flight (those
                // may land in it); otherwise unknown until a response says.
                state.remaining = state
                    .limit
                    .map(|limit| limit.saturating_sub(state.in_flight));
                state.reset_at = None;
            }
        }
        match (state.remaining, state.reset_at) {
            (Some(0), Some(reset_at)) => Some(reset_at - now),
            // Spent, with the window's end unknown: the answers in flight will say it.
            (Some(0), None) if state.in_flight > 0 => Some(AWAIT_ANSWERS),
            (Some(left), _) => {
                state.remaining = Some(left.saturating_sub(1));
                state.in_flight = state.in_flight.saturating_add(1);
                None
            }
            (None, _) => {
                state.in_flight = state.in_flight.saturating_add(1);
                None
            }
        }
    }

    /// A request granted by [`Gate::reserve`] is over (answered, failed or abandoned).
    pub fn finished(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.in_flight = state.in_flight.saturating_sub(1);
    }

    /// Learns from a response's rate-limit headers.
    pub fn observe(&self, headers: &HeaderMap, now: Instant, wall: SystemTime) {
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let (Some(remaining), Some(reset)) =
            (number("x-ratelimit-remaining"), number("x-ratelimit-reset"))
        else {
            return;
        };
        let limit = number("x-ratelimit-limit");
        // Reset is documented nowhere: small values are seconds from now, large ones a Unix
        // time (as GitHub and others send it). Either way at most LONGEST_SERVER_WAIT.
        let until = if reset > 1_000_000_000 {
            seconds_until(reset, wall)
        } else {
            Duration::from_secs(reset).min(LONGEST_SERVER_WAIT)
        };
        // A little slack so that a request sent "at" the reset is in the new window.
        let Some(reset_at) = now.checked_add(until.saturating_add(Duration::from_millis(100)))
        else {
            return;
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let tolerance = Duration::from_millis(900);
        if let Some(known) = state.reset_at {
            if reset_at.checked_add(tolerance).is_some_and(|r| r < known) {
                // A late answer from an earlier window: it says nothing about this one.
                return;
            }
        }
        let same_window = state
            .reset_at
            .is_some_and(|known| known.checked_add(tolerance).is_none_or(|k| reset_at <= k));
        if limit.is_some() {
            state.limit = limit;
        }
        // The other requests in flight may not have reached the server when it counted:
        // they will take from what it says is left.
        let others = state.in_flight.saturating_sub(1);
        let remaining = remaining.saturating_sub(others);
        state.remaining = Some(match (same_window, state.remaining) {
            // Responses arrive out of order; within one window the lowest count is the truth.
            (true, Some(known)) => known.min(remaining),
            _ => remaining,
        });
        if !same_window || state.reset_at.is_none() {
            state.reset_at = Some(reset_at);
        }
    }

    /// Pauses every request until `until` (after a 429).
    pub fn pause(&self, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.paused_until.is_none_or(|known| known < until) {
            state.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:40 GMT")]),
                now
            ),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:00 GMT")]),
                now
            ),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn http_dates_in_every_form_and_across_leap_years() {
        let epoch = SystemTime::UNIX_EPOCH;
        let wait =
            |value: &str, now: SystemTime| retry_after(&headers(&[("retry-after", value)]), now);
        // 2028-02-29T12:00:00Z, ten seconds before it.
        let now = epoch + Duration::from_secs(1_835_438_390);
        for form in [
            "Tue, 29 Feb 2028 12:00:00 GMT",
            "Tuesday, 29-Feb-28 12:00:00 GMT",
            "Tue Feb 29 12:00:00 2028",
            " Tue, 29 Feb 2028 12:00:00 GMT ",
        ] {
            assert_eq!(wait(form, now), Some(Duration::from_secs(10)), "{form:?}");
        }
        assert_eq!(
            wait("Thu, 01 Jan 1970 00:00:00 GMT", epoch),
            Some(Duration::ZERO)
        );
        assert_eq!(
            wait("Fri, 31 Dec 9999 23:59:59 GMT", epoch),
            Some(LONGEST_SERVER_WAIT),
            "the last date httpdate reads"
        );
    }

    #[test]
    fn http_dates_httpdate_cannot_read_are_ignored_not_saturated() {
        let now = SystemTime::now();
        for value in [
            "Tue, 29 Feb 2028 12:00:00 UTC",
            "Tue, 29 Foo 2028 12:00:00 GMT",
            "Wed, 29 Feb 2028 12:00:00 GMT",
            "Mon, 01 Jan 1900 00:00:00 GMT",
            "Sat, 01 Jan 10000 00:00:00 GMT",
            "Sun, 01 Jan 300000000000 00:00:00 GMT",
            "Sun, 01 Jan 18446744073709551615 23:59:60 GMT",
            "Sun, 01 Jan -5 00:00:00 GMT",
            "Tue, 29 Feb 2028 12:00:60 GMT",
        ] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", value)]), now),
                None,
                "{value:?}"
            );
        }
    }

    #[test]
    fn absurd_server_waits_are_capped_not_panics() {
        let now = SystemTime::now();
        for value in ["18446744073709551615", "99999999999999999999999999"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", value)]), now),
                Some(LONGEST_SERVER_WAIT),
                "{value}"
            );
        }
        for value in ["-1", "1.5", "", "NaN", "0x10"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", value)]), now),
                None,
                "{value:?}"
            );
        }
        // A clock far from today: a date long past is now, none overflows.
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 100);
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")]),
                far
            ),
            Some(Duration::ZERO)
        );
        let gate = Gate::default();
        let instant = Instant::now();
        for reset in ["18446744073709551615", "4000000000", "999999999"] {
            gate.observe(
                &headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)]),
                instant,
                now,
            );
            let wait = gate.reserve(instant).unwrap_or_default();
            assert!(
                wait <= LONGEST_SERVER_WAIT + Duration::from_secs(1),
                "{reset}: {wait:?}"
            );
        }
    }

    #[test]
    fn backoff_grows_and_stays_within_its_bounds() {
        let policy = RetryPolicy::default();
        for retry in 1..12 {
            let full = policy
                .base_backoff
                .saturating_mul(1 << (retry - 1))
                .min(policy.max_backoff);
            let wait = policy.backoff(retry);
            assert!(
                wait >= full / 2 && wait <= full,
                "retry {retry}: {wait:?} of {full:?}"
            );
        }
    }

    #[test]
    fn the_gate_waits_when_the_window_is_spent_and_not_before() {
        let gate = Gate::default();
        let now = Instant::now();
        let wall = SystemTime::now();
        assert_eq!(gate.reserve(now), None, "nothing known: go");
        gate.observe(
            &headers(&[("x-ratelimit-remaining", "2"), ("x-ratelimit-reset", "10")]),
            now,
            wall,
        );
        assert_eq!(gate.reserve(now), None);
        assert_eq!(gate.reserve(now), None);
        let wait = gate.reserve(now).expect("the window is spent");
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_millis(10_100));
        // After the reset, requests flow again.
        assert_eq!(gate.reserve(now + Duration::from_secs(11)), None);
    }

    #[test]
    fn a_late_answer_from_an_earlier_window_is_ignored() {
        let gate = Gate::default();
        let now = Instant::now();
        let wall = SystemTime::now();
        gate.observe(
            &headers(&[("x-ratelimit-remaining", "98"), ("x-ratelimit-reset", "60")]),
            now,
            wall,
        );
        gate.observe(
            &headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1")]),
            now,
            wall,
        );
        assert_eq!(gate.reserve(now), None, "98 are left in the current window");
    }

    #[test]
    fn requests_in_flight_are_taken_off_what_the_server_says_is_left() {
        let gate = Gate::default();
        let now = Instant::now();
        let wall = SystemTime::now();
        // Eight requests go out before anything is known.
        for _ in 0..8 {
            assert_eq!(gate.reserve(now), None);
        }
        // The first answer says 5 are left of 10: the 7 others in flight may not have been
        // counted yet, so none may start until more is known.
        gate.observe(
            &headers(&[
                ("x-ratelimit-limit", "10"),
                ("x-ratelimit-remaining", "5"),
                ("x-ratelimit-reset", "2"),
            ]),
            now,
            wall,
        );
        gate.finished();
        assert!(gate.reserve(now).is_some(), "the window may be spent");
        // The next window starts with its size less what is still in flight (7).
        let later = now + Duration::from_secs(3);
        for _ in 0..3 {
            assert_eq!(gate.reserve(later), None);
        }
        assert!(gate.reserve(later).is_some(), "10 - 7 in flight = 3");
        for _ in 0..10 {
            gate.finished();
        }
    }

    #[test]
    fn a_pause_holds_every_request_until_it_ends() {
        let gate = Gate::default();
        let now = Instant::now();
        gate.pause(now + Duration::from_secs(2));
        assert_eq!(gate.reserve(now), Some(Duration::from_secs(2)));
        assert_eq!(gate.reserve(now + Duration::from_secs(2)), None);
    }
}
