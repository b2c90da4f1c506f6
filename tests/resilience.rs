//! Convergence under real API conditions: 429 storms, 5xx bursts, timeouts, rate-limit
//! headers. Requests are counted from the simulator's journal, never timed.

use std::collections::BTreeSet;
use std::time::Duration;

use talkover_sim::{RateLimit, RetryAfter};

use crate::harness::{Output, Test};

const CHANGES: &str = r#"agents:
  - name: Support
    direction: inbound
    phone_numbers: ["+14155550100", "+14155550300"]
  - name: Sales
    direction: outbound
    phone_numbers: ["+14155550200", "+14155550301"]
  - name: Night
    direction: inbound
    phone_numbers: ["+14155550400", "+14155550101"]
"#;

/// The three agents ended as declared, with one successful PUT each.
#[track_caller]
fn converged(out: &Output) {
    assert_eq!(out.agent("a-1").phone_number_ids, ["n-100", "n-300"]);
    assert_eq!(out.agent("a-2").phone_number_ids, ["n-200", "n-301"]);
    assert_eq!(out.agent("a-4").phone_number_ids, ["n-101", "n-400"]);
    let ok_puts: BTreeSet<&str> = out
        .puts()
        .iter()
        .filter(|e| e.status == 200)
        .map(|e| e.path.as_str())
        .collect();
    assert_eq!(ok_puts.len(), 3, "{:#?}", out.puts());
    assert_eq!(
        out.puts().iter().filter(|e| e.status == 200).count(),
        3,
        "no agent was written twice"
    );
}

fn statuses(out: &Output) -> Vec<u16> {
    out.journal.iter().map(|e| e.status).collect()
}

#[test]
fn converges_through_a_429_storm() {
    // Every other request is refused with Retry-After: 0.
    let out = Test::new()
        .sim(|c| {
            c.rate_limit_every = Some(2);
            c.retry_after = RetryAfter::Seconds(0);
        })
        .file("agents.yaml", CHANGES)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .run();
    converged(&out);
    let refused = statuses(&out).iter().filter(|&&s| s == 429).count();
    assert!(refused >= 3, "the storm happened: {:?}", statuses(&out));
}

#[test]
fn a_retry_after_http_date_is_honoured() {
    let out = Test::new()
        .sim(|c| {
            c.rate_limit_every = Some(3);
            c.retry_after = RetryAfter::HttpDate(0);
        })
        .file("agents.yaml", CHANGES)
        .args(&["apply", "--auto-approve", "-v", "agents.yaml"])
        .run();
    converged(&out);
    assert!(statuses(&out).contains(&429));
    // The date is now (or just past): the retry waits 0 s. Were the date not understood,
    // the backoff (at least 0.125 s) would show instead.
    out.stderr_has(&["429 Too Many Requests; retry 1 of 6 in 0.0s"]);
}

#[test]
fn converges_through_a_5xx_burst_on_reads_and_writes() {
    let out = Test::new()
        .sim(|c| c.fail_requests = [1, 2, 3, 5, 6].into())
        .file("agents.yaml", CHANGES)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .run();
    converged(&out);
    assert_eq!(statuses(&out).iter().filter(|&&s| s == 503).count(), 5);
}

#[test]
fn gives_up_after_the_retry_limit_and_says_so() {
    let out = Test::new()
        .sim(|c| c.fail_requests = (1..=20).collect())
        .file("agents.yaml", CHANGES)
        .args(&["plan", "--max-retries", "2", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&["503 Service temporarily unavailable (gave up after 3 attempts)"]);
    // The two first reads run concurrently; the one that gives up first (after exactly
    // three attempts) ends the run and abandons the other, so only that one is counted.
    let tries = |path: &str| out.journal.iter().filter(|e| e.path == path).count();
    let (pages, numbers) = (tries("/api/v1/agents"), tries("/api/v1/phone-numbers"));
    assert_eq!(pages.max(numbers), 3, "{:#?}", out.journal);
    assert!(pages <= 3 && numbers <= 3, "{:#?}", out.journal);
}

#[test]
fn other_4xx_are_never_retried() {
    let out = Test::new()
        .refuse("a-1", "Agent is locked")
        .file("agents.yaml", CHANGES)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    let to_support = out
        .puts()
        .iter()
        .filter(|e| e.path == "/api/v1/agents/a-1/calling")
        .count();
    assert_eq!(to_support, 1);
}

#[test]
fn a_timed_out_request_is_retried_and_shown_with_verbose() {
    let out = Test::new()
        .sim(|c| {
            c.slow_requests = [1].into();
            c.slow_delay = Duration::from_secs(5);
        })
        .file("agents.yaml", CHANGES)
        .args(&["plan", "-v", "--request-timeout", "0.5", "agents.yaml"])
        .run();
    out.stderr_has(&["timed out", "retry 1 of 6"]);
}

#[test]
fn the_rate_limit_headers_pace_requests_so_none_is_refused() {
    // 4 requests per 3-second window (long enough that the reads and the PUTs surely share
    // one): apply reads 2, then its 3 PUTs need a pause for the next window.
    let out = Test::new()
        .sim(|c| {
            c.rate_limit = Some(RateLimit {
                limit: 4,
                window: Duration::from_secs(3),
            })
        })
        .file("agents.yaml", CHANGES)
        .args(&["apply", "--auto-approve", "-v", "agents.yaml"])
        .run();
    converged(&out);
    assert!(
        !statuses(&out).contains(&429),
        "paced requests are not refused: {:?}",
        statuses(&out)
    );
    out.stderr_has(&["pacing for the rate limit"]);
}

#[test]
fn a_retry_after_longer_than_the_wait_budget_fails_fast_instead_of_stalling() {
    let out = Test::new()
        .sim(|c| {
            c.rate_limit_every = Some(1);
            c.retry_after = RetryAfter::Seconds(3600);
        })
        .file("agents.yaml", CHANGES)
        .args(&["plan", "--max-retry-wait", "1", "agents.yaml"])
        .expect_code(1)
        .run();
    out
        .stderr_has(&["429 Too Many Requests (gave up after 1 attempt: the next try would wait 3600s, past --max-retry-wait (1s))"]);
}

#[test]
fn a_put_that_timed_out_may_have_been_applied_and_the_report_says_so() {
    // Requests 1 and 2 are the reads; the PUT (3) is answered only after the client gave up,
    // and the server still applies it, as a real one would.
    let out = Test::new()
        .sim(|c| {
            c.slow_requests = [3].into();
            c.slow_delay = Duration::from_secs(3);
        })
        .file(
            "agents.yaml",
            "agents:\n  - name: Night\n    direction: inbound\n    phone_numbers: [\"+14155550400\", \"+14155550300\"]\n",
        )
        .args(&[
            "apply",
            "--auto-approve",
            "--request-timeout",
            "0.5",
            "--max-retries",
            "0",
            "--format",
            "json",
            "agents.yaml",
        ])
        .expect_code(1)
        .run();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    let result = &report["results"][0];
    assert_eq!(result["result"], "failed", "{report:#}");
    assert_eq!(result["applied"], "maybe", "{report:#}");
    assert!(
        result["detail"][0].as_str().is_some_and(
            |d| d.contains("the PUT may or may not have been applied: run plan to see")
        ),
        "{report:#}"
    );
}

/// A burst of concurrent PUTs must not overrun what is left of the window: the requests
/// still in flight when an answer says how many are left are taken off it. Against 10
/// requests per 2 s, an apply of 20 changes drew four 429s before they were.
#[test]
fn concurrent_puts_never_overrun_the_window() {
    let (seed, config) = crate::harness::many_changes(20);
    let scenario = Test::new()
        .seed(seed)
        .sim(|c| {
            c.rate_limit = Some(RateLimit {
                limit: 10,
                window: Duration::from_secs(2),
            });
            // So that PUTs are in flight together, as against a real server.
            c.latency = Duration::from_millis(20);
        })
        .file("agents.yaml", &config)
        .start();
    // A plan first, as in CI: the apply starts in a window it has partly used.
    scenario.run_expect(2, &["plan", "--detailed-exitcode", "agents.yaml"]);
    // Every agent changes: the change-size guard is not what this test is about.
    let out = scenario.run(&["apply", "--auto-approve", "--force", "agents.yaml"]);
    assert_eq!(out.puts().len(), 20);
    assert!(
        !statuses(&out).contains(&429),
        "paced requests are not refused: {:?}",
        statuses(&out)
    );
}
