//! The request-level fault knobs: latency, slow requests, injected 503s and 429s, and
//! a fixed-window rate limiter with its headers.
//!
//! This module decides, for the n-th `/api/v1` request, how long to hold it and whether
//! to answer it with a fault instead of routing it. It is synchronous and takes the
//! time as an argument, so its decisions are tested without a clock; `routes::gate`
//! does the sleeping and renders the decision. It knows nothing about agents.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::lock::lock;

/// The `Retry-After` value sent with the 429s of [`crate::SimConfig::rate_limit_every`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: N`, a delay in seconds.
    Seconds(u64),
    /// `Retry-After: Sun, 06 Nov 1994 08:49:37 GMT`, an HTTP date (IMF-fixdate) this many
    /// seconds from now, by the real clock. HTTP dates have whole-second resolution and
    /// the fraction is dropped, so the date lies between N-1 and N seconds ahead: 0 names
    /// the current second, i.e. a moment already past.
    HttpDate(u64),
}

impl Default for RetryAfter {
    /// `Seconds(1)`: short enough for tests that let a client honour it.
    fn default() -> Self {
        RetryAfter::Seconds(1)
    }
}

impl RetryAfter {
    /// The header value, with `now` as the base of a date.
    fn header_value(self, now: SystemTime) -> String {
        match self {
            RetryAfter::Seconds(seconds) => seconds.to_string(),
            RetryAfter::HttpDate(seconds) => {
                // A clock before 1970 is not worth an error path: call it 1970.
                let unix = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
                // `httpdate` panics on a time before 1970 or after year 9999, which an
                // IMF-fixdate's four-digit year cannot write: clamp to its last second.
                let date = unix.saturating_add(seconds).min(LAST_HTTP_DATE);
                httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(date))
            }
        }
    }
}

/// `Fri, 31 Dec 9999 23:59:59 GMT` as Unix time, the last second an HTTP date can name.
const LAST_HTTP_DATE: u64 = 253_402_300_799;

/// A fixed-window rate limit: at most `limit` `/api/v1` requests per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window; with 0 every request is refused.
    pub limit: u64,
    /// The window's length. A window starts at the first request after the previous one
    /// ended (or at the very first request), not on a wall-clock boundary.
    pub window: Duration,
}

/// The request-level knobs of a [`crate::SimConfig`], plus the limiter's running state.
#[derive(Debug)]
pub(crate) struct RequestFaults {
    pub latency: Duration,
    pub slow_requests: BTreeSet<u64>,
    pub slow_delay: Duration,
    pub fail_requests: BTreeSet<u64>,
    pub rate_limit_every: Option<u64>,
    pub retry_after: RetryAfter,
    pub limiter: Option<Mutex<FixedWindow>>,
}

/// How the gate answers one `/api/v1` request, once its delay has passed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// A fault to answer with instead of routing the request.
    pub fault: Option<Fault>,
    /// The rate-limit headers to send, when a [`RateLimit`] is configured.
    pub window: Option<WindowState>,
}

/// An injected failure.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// 503, from `fail_requests`.
    Unavailable,
    /// 429 with this `Retry-After` value, from `rate_limit_every` or the rate limit.
    TooManyRequests { retry_after: String },
}

/// The rate-limit window as this request left it, for the `X-RateLimit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WindowState {
    pub limit: u64,
    /// Requests left in this window after counting this one.
    pub remaining: u64,
    /// Whole seconds until the window resets, rounded up, at least 1.
    pub reset_seconds: u64,
    /// Whether this request was over the limit.
    pub exceeded: bool,
}

impl RequestFaults {
    /// How long the `arrival`-th `/api/v1` request (1-based) is held before it is
    /// answered: the latency, plus the slow delay if it is one of the slow requests.
    pub fn delay(&self, arrival: u64) -> Duration {
        if self.slow_requests.contains(&arrival) {
            self.latency.saturating_add(self.slow_delay)
        } else {
            self.latency
        }
    }

    /// Decides how the `arrival`-th `/api/v1` request is answered, at `now` (monotonic,
    /// for the window) and `wall` (for a `Retry-After` date).
    ///
    /// Every request is counted against the rate-limit window, including those answered
    /// with an earlier fault, so that each response's `X-RateLimit-Remaining` counts it:
    /// a real limiter in front of a service counts what reaches the service. Which fault
    /// wins is fixed: `fail_requests`, then `rate_limit_every`, then the window.
    pub fn verdict(&self, arrival: u64, now: Instant, wall: SystemTime) -> Verdict {
        let window = self.limiter.as_ref().map(|limiter| lock(limiter).hit(now));
        let every_nth = self
            .rate_limit_every
            .is_some_and(|every| every > 0 && arrival % every == 0);
        let fault = if self.fail_requests.contains(&arrival) {
            Some(Fault::Unavailable)
        } else if every_nth {
            Some(Fault::TooManyRequests {
                retry_after: self.retry_after.header_value(wall),
            })
        } else {
            window
                .filter(|window| window.exceeded)
                .map(|window| Fault::TooManyRequests {
                    retry_after: window.reset_seconds.to_string(),
                })
        };
        Verdict { fault, window }
    }
}

/// The running state of a [`RateLimit`].
#[derive(Debug)]
pub(crate) struct FixedWindow {
    limit: RateLimit,
    /// When the current window started and how many requests it has counted.
    current: Option<(Instant, u64)>,
}

impl FixedWindow {
    pub fn new(limit: RateLimit) -> FixedWindow {
        FixedWindow {
            limit,
            current: None,
        }
    }

    /// Counts one request at `now`, starting a new window if the current one has ended.
    fn hit(&mut self, now: Instant) -> WindowState {
        let window = self.limit.window;
        let (started, count) = match self.current {
            Some((started, count)) if now.saturating_duration_since(started) < window => {
                (started, count + 1)
            }
            _ => (now, 1),
        };
        self.current = Some((started, count));
        let left = window.saturating_sub(now.saturating_duration_since(started));
        WindowState {
            limit: self.limit.limit,
            remaining: self.limit.limit.saturating_sub(count),
            reset_seconds: seconds_rounded_up(left).max(1),
            exceeded: count > self.limit.limit,
        }
    }
}

fn seconds_rounded_up(duration: Duration) -> u64 {
    let nanos = duration.as_nanos().div_ceil(1_000_000_000);
    u64::try_from(nanos).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_faults() -> RequestFaults {
        RequestFaults {
            latency: Duration::ZERO,
            slow_requests: BTreeSet::new(),
            slow_delay: Duration::ZERO,
            fail_requests: BTreeSet::new(),
            rate_limit_every: None,
            retry_after: RetryAfter::default(),
            limiter: None,
        }
    }

    #[test]
    fn slow_requests_add_to_the_latency() {
        let faults = RequestFaults {
            latency: Duration::from_millis(100),
            slow_requests: [2].into(),
            slow_delay: Duration::from_secs(3),
            ..no_faults()
        };
        assert_eq!(faults.delay(1), Duration::from_millis(100));
        assert_eq!(faults.delay(2), Duration::from_millis(3100));
        assert_eq!(faults.delay(3), Duration::from_millis(100));
    }

    #[test]
    fn fail_requests_win_over_every_nth_429() {
        let faults = RequestFaults {
            fail_requests: [2, 3].into(),
            rate_limit_every: Some(2),
            retry_after: RetryAfter::Seconds(7),
            ..no_faults()
        };
        let (now, wall) = (Instant::now(), SystemTime::now());
        let faults_of: Vec<Option<Fault>> = (1..=4)
            .map(|n| faults.verdict(n, now, wall).fault)
            .collect();
        let too_many = || {
            Some(Fault::TooManyRequests {
                retry_after: "7".into(),
            })
        };
        assert_eq!(
            faults_of,
            [
                None,
                Some(Fault::Unavailable),
                Some(Fault::Unavailable),
                too_many()
            ]
        );
        let off = RequestFaults {
            rate_limit_every: Some(0),
            ..no_faults()
        };
        assert_eq!(off.verdict(1, now, wall).fault, None);
    }

    #[test]
    fn retry_after_renders_seconds_or_a_date_ahead() {
        let wall = UNIX_EPOCH + Duration::from_millis(784_111_777_900);
        assert_eq!(RetryAfter::default().header_value(wall), "1");
        assert_eq!(
            RetryAfter::HttpDate(0).header_value(wall),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            RetryAfter::HttpDate(90).header_value(wall),
            "Sun, 06 Nov 1994 08:51:07 GMT"
        );
        // Across a leap day and a year end, where a calendar is most often wrong.
        let leap = UNIX_EPOCH + Duration::from_secs(951_868_799);
        assert_eq!(
            RetryAfter::HttpDate(0).header_value(leap),
            "Tue, 29 Feb 2000 23:59:59 GMT"
        );
        assert_eq!(
            RetryAfter::HttpDate(1).header_value(UNIX_EPOCH + Duration::from_secs(1_767_225_599)),
            "Thu, 01 Jan 2026 00:00:00 GMT"
        );
        // A clock before 1970 counts from 1970; a date past year 9999 stops there,
        // where `httpdate` would panic.
        let before_1970 = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(
            RetryAfter::HttpDate(0).header_value(before_1970),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            RetryAfter::HttpDate(u64::MAX).header_value(wall),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    #[test]
    fn the_window_counts_refuses_and_resets() {
        let mut window = FixedWindow::new(RateLimit {
            limit: 2,
            window: Duration::from_secs(10),
        });
        let start = Instant::now();
        let at = |millis: u64| start + Duration::from_millis(millis);
        let state = |remaining, reset_seconds, exceeded| WindowState {
            limit: 2,
            remaining,
            reset_seconds,
            exceeded,
        };
        assert_eq!(window.hit(at(0)), state(1, 10, false));
        assert_eq!(window.hit(at(1)), state(0, 10, false), "9.999 s round up");
        assert_eq!(window.hit(at(9_000)), state(0, 1, true));
        assert_eq!(window.hit(at(9_999)), state(0, 1, true), "at least 1");
        // The next window starts at the first request after the last one ended.
        assert_eq!(window.hit(at(12_500)), state(1, 10, false));
        assert_eq!(window.hit(at(21_000)), state(0, 2, false));
        assert_eq!(window.hit(at(22_500)), state(1, 10, false));
    }

    #[test]
    fn a_window_refusal_retries_after_its_reset() {
        let faults = RequestFaults {
            limiter: Some(Mutex::new(FixedWindow::new(RateLimit {
                limit: 1,
                window: Duration::from_secs(60),
            }))),
            fail_requests: [3].into(),
            ..no_faults()
        };
        let start = Instant::now();
        let wall = SystemTime::now();
        let first = faults.verdict(1, start, wall);
        assert_eq!(first.fault, None);
        assert_eq!(first.window.map(|w| w.remaining), Some(0));
        let second = faults.verdict(2, start + Duration::from_millis(30_500), wall);
        assert_eq!(
            second.fault,
            Some(Fault::TooManyRequests {
                retry_after: "30".into()
            })
        );
        // A 503 takes precedence but the request still counts.
        let third = faults.verdict(3, start + Duration::from_secs(31), wall);
        assert_eq!(third.fault, Some(Fault::Unavailable));
        assert!(third.window.is_some_and(|w| w.exceeded));
    }
}
