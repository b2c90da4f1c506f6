//! Answers the API docs allow, or real servers and networks give, that once made talkops
//! write wrongly, succeed wrongly, read forever or panic: each is a canned answer from the
//! simulator (hand-written, hostile) or an environment the run is given, and each must fail
//! closed: a clear error naming the agent or call, and nothing written.

use std::net::TcpListener;

use serde_json::{json, Value};
use talkover_sim::Canned;

use crate::harness::{standard_seed, Output, Test, MATCHING};

/// The standard seed's agents as the API lists them, with each one's numbers.
fn listed_agents() -> Vec<Value> {
    let seed = standard_seed();
    seed.agents
        .iter()
        .map(|agent| {
            let numbers: Vec<Value> = agent
                .phone_number_ids
                .iter()
                .map(|id| {
                    let number = seed
                        .phone_numbers
                        .iter()
                        .find(|n| &n.id == id)
                        .map(|n| n.number.clone());
                    json!({"id": id, "number": number})
                })
                .collect();
            json!({
                "id": agent.id,
                "name": agent.name,
                "direction": agent.direction,
                "current_status": agent.current_status,
                "phone_numbers": numbers,
            })
        })
        .collect()
}

/// One page of `GET /api/v1/agents`.
fn page(agents: &[Value], current: u64, last: u64, total: Option<u64>) -> String {
    json!({
        "success": true,
        "data": agents,
        "meta": {"current_page": current, "per_page": 100, "last_page": last, "total": total},
    })
    .to_string()
}

/// The standard agents, with `change` applied to agent `id`.
fn agents_with(id: &str, change: impl Fn(&mut serde_json::Map<String, Value>)) -> Vec<Value> {
    let mut agents = listed_agents();
    for agent in &mut agents {
        if agent["id"] == id {
            if let Some(fields) = agent.as_object_mut() {
                change(fields);
            }
        }
    }
    agents
}

/// The agent list answered with these agents on one page.
fn list(agents: &[Value]) -> Canned {
    let total = agents.len() as u64;
    Canned::new(
        "GET",
        "/api/v1/agents",
        200,
        page(agents, 1, 1, Some(total)),
    )
}

fn no_panic(out: &Output) {
    assert_ne!(out.code, 101, "talkops panicked:\n{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

/// Legacy IVR (a-5, inbound on n-500) turns outbound; its numbers are not managed.
const IVR_OUTBOUND: &str = "agents:\n  - name: Legacy IVR\n    direction: outbound\n";

// Case 1: an agent listed without `phone_numbers` holds unknown numbers, never none.

#[test]
fn numbers_missing_from_the_list_are_read_from_the_agent_not_wiped() {
    for missing in [None, Some(Value::Null)] {
        let agents = agents_with("a-5", |a| {
            match &missing {
                None => a.remove("phone_numbers"),
                Some(null) => a.insert("phone_numbers".into(), null.clone()),
            };
        });
        let out = Test::new()
            .sim(move |c| c.canned = vec![list(&agents)])
            .file("agents.yaml", IVR_OUTBOUND)
            .args(&["apply", "--auto-approve", "--allow-unrouted", "agents.yaml"])
            .run();
        let reads: Vec<&str> = out
            .journal
            .iter()
            .filter(|e| e.method == "GET")
            .map(|e| e.path.as_str())
            .collect();
        assert!(reads.contains(&"/api/v1/agents/a-5"), "{reads:?}");
        let put = out.put_to("a-5");
        assert_eq!(
            put.body,
            Some(json!({"direction": "outbound", "phone_number_ids": ["n-500"]})),
            "the numbers the agent holds are sent back, not []"
        );
        assert_eq!(out.agent("a-5").phone_number_ids, ["n-500"]);
    }
}

#[test]
fn numbers_unknown_even_when_read_alone_refuse_the_agent() {
    let agents = agents_with("a-5", |a| {
        a.remove("phone_numbers");
    });
    let alone = json!({"success": true, "data": {"id": "a-5", "name": "Legacy IVR", "direction": "inbound", "phone_numbers": null}}).to_string();
    let out = Test::new()
        .sim(move |c| {
            c.canned = vec![
                list(&agents),
                Canned::new("GET", "/api/v1/agents/a-5", 200, alone),
            ]
        })
        .file("agents.yaml", IVR_OUTBOUND)
        .args(&["apply", "--auto-approve", "--allow-unrouted", "agents.yaml"])
        .expect_code(1)
        .run();
    out.wrote_nothing().stderr_has(&[
        "agent \"Legacy IVR\" (id a-5)",
        "the API did not give the phone numbers",
        "cannot plan this agent",
    ]);
}

#[test]
fn an_unmanaged_agent_that_may_answer_with_unknown_numbers_blocks_the_plan() {
    let agents = agents_with("a-5", |a| {
        a.remove("phone_numbers");
    });
    let alone = json!({"success": true, "data": {"id": "a-5", "name": "Legacy IVR", "direction": "inbound"}}).to_string();
    let config = "agents:\n  - name: Night\n    direction: inbound\n    phone_numbers: [\"+14155550400\", \"+14155550500\"]\n";
    let out = Test::new()
        .sim(move |c| {
            c.canned = vec![
                list(&agents),
                Canned::new("GET", "/api/v1/agents/a-5", 200, alone),
            ]
        })
        .file("agents.yaml", config)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    out.wrote_nothing().stderr_has(&[
        "the environment: agent \"Legacy IVR\" (id a-5) (direction inbound, not managed by this config)",
        "cannot tell which numbers it answers",
    ]);
}

// Case 2: the callback-role guard refuses when it cannot be judged.

#[test]
fn a_callback_list_that_cannot_be_read_refuses_the_apply() {
    for (body, expected) in [
        (
            r#"{"success": false, "message": "Callback service unavailable"}"#,
            "success: false: Callback service unavailable",
        ),
        (r#"{"success": true, "data": null}"#, "no `data`"),
        (r#"{"success": true}"#, "no `data`"),
        (r#"{"data": []}"#, "no `success` field"),
    ] {
        let out = Test::new()
            .sim(move |c| c.canned = vec![Canned::new("GET", "/api/v1/callback-agents", 200, body)])
            .file(
                "agents.yaml",
                "agents:\n  - name: Callback\n    direction: outbound\n",
            )
            .args(&["apply", "--auto-approve", "--allow-unrouted", "agents.yaml"])
            .expect_code(1)
            .run();
        out.wrote_nothing()
            .stderr_has(&["cannot read the callback agents", expected]);
        assert_eq!(out.agent("a-3").direction, "inbound");
    }
}

// Case 3: every envelope is checked.

#[test]
fn export_of_a_refused_or_empty_answer_fails_and_writes_no_file() {
    for (body, expected) in [
        (
            r#"{"success": false, "message": "Account suspended"}"#,
            "the API answered 200 but with success: false: Account suspended",
        ),
        (r#"{"success": true, "data": null}"#, "no `data`"),
        (r#"{"success": true, "data": {}}"#, "unexpected response"),
    ] {
        let scenario = Test::new()
            .sim(move |c| c.canned = vec![Canned::new("GET", "/api/v1/agents", 200, body)])
            .start();
        let out = scenario.run_expect(1, &["export", "--out", "exported.yaml"]);
        out.stderr_has(&[expected]);
        assert!(
            !scenario.dir().join("exported.yaml").exists(),
            "no config was written"
        );
        let out = scenario.run_expect(1, &["export"]);
        assert!(!out.stdout.contains("agents:"), "{}", out.stdout);
    }
}

#[test]
fn a_put_answered_success_false_fails_with_the_servers_message() {
    let out = Test::new()
        .sim(|c| {
            c.canned = vec![Canned::new(
                "PUT",
                "/api/v1/agents/a-4/calling",
                200,
                r#"{"success": false, "message": "Agent is locked by a running campaign"}"#,
            )]
        })
        .file(
            "agents.yaml",
            "agents:\n  - name: Night\n    direction: inbound\n    phone_numbers: [\"+14155550400\", \"+14155550300\"]\n",
        )
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    assert!(
        out.stdout
            .contains("success: false: Agent is locked by a running campaign"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("0 changed, 1 failed"), "{}", out.stdout);
}

const NIGHT_GAINS_300: &str = "agents:\n  - name: Night\n    direction: inbound\n    phone_numbers: [\"+14155550400\", \"+14155550300\"]\n";

#[test]
fn a_put_answered_without_data_is_verified_by_reading_the_agent() {
    for body in [
        r#"{"success": true, "data": {}}"#,
        r#"{"success": true}"#,
        r#"{"success": true, "data": {"id": "a-4", "name": "Night"}}"#,
    ] {
        // Not applied: the read-back shows the old settings, so the agent failed.
        let out = Test::new()
            .sim(move |c| {
                c.canned = vec![Canned::new("PUT", "/api/v1/agents/a-4/calling", 200, body)]
            })
            .file("agents.yaml", NIGHT_GAINS_300)
            .args(&["apply", "--auto-approve", "agents.yaml"])
            .expect_code(1)
            .run();
        assert!(
            out.journal
                .iter()
                .any(|e| e.method == "GET" && e.path == "/api/v1/agents/a-4"),
            "read back"
        );
        assert!(
            out.stdout.contains("0 changed, 1 failed")
                && out
                    .stdout
                    .contains("the server accepted the change but reports"),
            "{body}: {}",
            out.stdout
        );
        // Applied: the read-back shows the desired settings, so it changed.
        let out = Test::new()
            .sim(move |c| {
                c.canned =
                    vec![Canned::new("PUT", "/api/v1/agents/a-4/calling", 200, body).route_first()]
            })
            .file("agents.yaml", NIGHT_GAINS_300)
            .args(&["apply", "--auto-approve", "agents.yaml"])
            .run();
        assert!(out.stdout.contains("1 changed, 0 failed"), "{}", out.stdout);
    }
}

#[test]
fn a_put_whose_read_back_shows_no_settings_is_unknown_not_changed() {
    let out = Test::new()
        .sim(|c| {
            c.canned = vec![
                Canned::new(
                    "PUT",
                    "/api/v1/agents/a-4/calling",
                    200,
                    r#"{"success": true, "data": {}}"#,
                )
                .route_first(),
                Canned::new(
                    "GET",
                    "/api/v1/agents/a-4",
                    200,
                    r#"{"success": true, "data": {"id": "a-4", "name": "Night"}}"#,
                ),
            ]
        })
        .file("agents.yaml", NIGHT_GAINS_300)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    assert!(
        out.stdout.contains("whether it applied is unknown"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_put_reporting_a_direction_talkops_does_not_know_failed() {
    let out = Test::new()
        .sim(|c| {
            c.canned = vec![Canned::new(
                "PUT",
                "/api/v1/agents/a-4/calling",
                200,
                r#"{"success": true, "data": {"id": "a-4", "direction": "both", "phone_numbers": [{"id": "n-300"}, {"id": "n-400"}]}}"#,
            )]
        })
        .file("agents.yaml", NIGHT_GAINS_300)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    assert!(
        out.stdout.contains("reports direction \"both\""),
        "{}",
        out.stdout
    );
}

// Case 4: nothing a server sends may panic talkops.

#[test]
fn absurd_waits_from_the_server_fail_the_request_not_the_process() {
    for value in ["18446744073709551615", "99999999999999999999999999999"] {
        let canned = Canned::new(
            "GET",
            "/api/v1/agents",
            429,
            r#"{"success": false, "message": "Too Many Requests"}"#,
        )
        .header("Retry-After", value)
        .times(1);
        let out = Test::new()
            .sim(move |c| c.canned = vec![canned])
            .file("agents.yaml", MATCHING)
            .args(&["plan", "agents.yaml"])
            .expect_code(1)
            .run();
        no_panic(&out);
        out.stderr_has(&[
            "429 Too Many Requests (gave up after 1 attempt: the next try would wait 604800s, past --max-retry-wait (120s))",
        ]);
    }
    // A date no HTTP date can be (httpdate reads years 1970 to 9999) is no wait at all: the
    // header is ignored, the backoff applies, and the retry goes through.
    let canned = Canned::new(
        "GET",
        "/api/v1/agents",
        429,
        r#"{"success": false, "message": "Too Many Requests"}"#,
    )
    .header("Retry-After", "Sun, 01 Jan 300000000000 00:00:00 GMT")
    .times(1);
    let out = Test::new()
        .sim(move |c| c.canned = vec![canned])
        .file("agents.yaml", MATCHING)
        .args(&["plan", "-v", "agents.yaml"])
        .run();
    no_panic(&out);
    out.stderr_has(&["429 Too Many Requests; retry 1 of 6 in 0."]);
    // A window that resets at the end of time: the PUT after the reads would wait for it.
    let canned = Canned::new(
        "GET",
        "/api/v1/agents",
        200,
        page(&listed_agents(), 1, 1, Some(7)),
    )
    .header("X-RateLimit-Remaining", "0")
    .header("X-RateLimit-Reset", "18446744073709551615");
    let out = Test::new()
        .sim(move |c| c.canned = vec![canned])
        .file("agents.yaml", NIGHT_GAINS_300)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    no_panic(&out);
    out.wrote_nothing();
    assert!(
        out.stdout.contains("past --max-retry-wait") && out.stdout.contains("0 changed, 1 failed"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_absurd_retry_after_mid_apply_fails_that_agent_and_reports() {
    let refused_once = |value: &'static str| {
        move |c: &mut talkover_sim::SimConfig| {
            c.canned = vec![Canned::new(
                "PUT",
                "/api/v1/agents/a-4/calling",
                429,
                r#"{"success": false, "message": "Too Many Requests"}"#,
            )
            .header("Retry-After", value)
            .times(1)]
        }
    };
    // Seconds past any wait talkops takes: that agent fails, the run reports it.
    let out = Test::new()
        .sim(refused_once("18446744073709551615"))
        .file("agents.yaml", NIGHT_GAINS_300)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    no_panic(&out);
    assert!(out.stdout.contains("0 changed, 1 failed"), "{}", out.stdout);
    // A date httpdate cannot read is ignored: the PUT is retried after the backoff (well
    // under a second) and the change lands.
    let out = Test::new()
        .sim(refused_once("Sun, 01 Jan 300000000000 00:00:00 GMT"))
        .file("agents.yaml", NIGHT_GAINS_300)
        .args(&["apply", "--auto-approve", "-v", "agents.yaml"])
        .run();
    no_panic(&out);
    out.stderr_has(&["429 Too Many Requests; retry 1 of 6 in 0."]);
    assert_eq!(out.put_paths(), ["/api/v1/agents/a-4/calling"; 2]);
    assert!(out.stdout.contains("1 changed, 0 failed"), "{}", out.stdout);
}

#[test]
fn hostile_values_in_every_header_and_numeric_field_never_panic() {
    let hostile = [
        "18446744073709551615",
        "18446744073709551616",
        "-1",
        "0",
        "1e309",
        "NaN",
        "",
        "Sun, 01 Jan 300000000000 23:59:60 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "é☎",
    ];
    // Each header the client reads, on the answers where it reads it.
    let headers: [(&str, &[u16]); 6] = [
        ("Retry-After", &[200, 429, 503]),
        ("X-RateLimit-Remaining", &[200, 429]),
        ("X-RateLimit-Reset", &[200, 429]),
        ("X-RateLimit-Limit", &[200, 429]),
        ("Content-Type", &[200]),
        ("Location", &[302, 200]),
    ];
    let mut canned = Vec::new();
    for (header, statuses) in headers {
        for value in hostile {
            for &status in statuses {
                let body = if status == 200 {
                    page(&listed_agents(), 1, 1, Some(7))
                } else {
                    r#"{"success": false, "message": "no"}"#.to_owned()
                };
                canned
                    .push(Canned::new("GET", "/api/v1/agents", status, body).header(header, value));
            }
        }
    }
    let numbers = [
        json!(u64::MAX),
        json!(-1),
        json!(1e300),
        json!("7"),
        json!(null),
        json!(0),
        json!(18_446_744_073_709_551_616_f64),
        json!([1]),
    ];
    for field in ["current_page", "per_page", "last_page", "total"] {
        for value in &numbers {
            let mut body: Value =
                serde_json::from_str(&page(&listed_agents(), 1, 1, Some(7))).expect("json");
            body["meta"][field] = value.clone();
            canned.push(Canned::new("GET", "/api/v1/agents", 200, body.to_string()));
        }
    }
    for value in &numbers {
        let agents = agents_with("a-1", |a| {
            a.insert("id".into(), value.clone());
        });
        canned.push(list(&agents));
        let agents = agents_with("a-1", |a| {
            a.insert("phone_numbers".into(), json!([{"id": value.clone()}]));
        });
        canned.push(list(&agents));
    }
    // Each case runs talkops once against that one answer; no retries, so that a hostile
    // wait is judged (and refused) without being taken.
    for answer in canned {
        let shown = format!(
            "{} {:?} {}",
            answer.status,
            answer.headers,
            answer.body.len()
        );
        let entry = answer.times(1);
        let out = Test::new()
            .sim(move |c| c.canned = vec![entry])
            .file("agents.yaml", MATCHING)
            .args(&[
                "plan",
                "--max-retries",
                "0",
                "--max-retry-wait",
                "0.5",
                "--request-timeout",
                "5",
                "agents.yaml",
            ])
            // Some of these answers are refused and others tolerated: only a panic
            // is wrong here.
            .any_code()
            .run();
        assert_ne!(out.code, 101, "{shown}: panicked\n{}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{shown}: {}", out.stderr);
    }
}

// Case 6: an unknown direction may answer.

#[test]
fn an_unknown_direction_counts_as_answering_its_numbers() {
    let both = agents_with("a-5", |a| {
        a.insert("direction".into(), json!("both"));
    });
    // Claiming its number inbound would give it two inbound agents: refused.
    let claim = "agents:\n  - name: Night\n    direction: inbound\n    phone_numbers: [\"+14155550400\", \"+14155550500\"]\n";
    let agents = both.clone();
    let out = Test::new()
        .sim(move |c| c.canned = vec![list(&agents)])
        .file("agents.yaml", claim)
        .args(&[
            "apply",
            "--auto-approve",
            "--force",
            "--allow-unrouted",
            "agents.yaml",
        ])
        .expect_code(1)
        .run();
    out.wrote_nothing().stderr_has(&[
        "number +14155550500 would also be answered by inbound agent \"Legacy IVR\" (id a-5) (not managed by this config; its direction is \"both\" (not inbound or outbound), so it may answer it)",
    ]);

    // Turning it outbound may take its number off the air, and the plan says its direction
    // is not understood; apply needs both flags.
    let agents = both.clone();
    let scenario = Test::new()
        .sim(move |c| c.canned = vec![list(&agents)])
        .file("agents.yaml", IVR_OUTBOUND)
        .start();
    let out = scenario.run(&["plan", "agents.yaml"]);
    assert!(
        out.stdout
            .contains("number +14155550500 may go off the air")
            && out
                .stdout
                .contains("has direction \"both\" (not inbound or outbound) today"),
        "{}",
        out.stdout
    );
    let out = scenario.run_expect(
        1,
        &["apply", "--auto-approve", "--allow-unrouted", "agents.yaml"],
    );
    out.wrote_nothing().stderr_has(&["--force"]);
    let out = scenario.run_expect(1, &["apply", "--auto-approve", "--force", "agents.yaml"]);
    out.wrote_nothing().stderr_has(&["--allow-unrouted"]);
}

// Case 10: no proxy for a loopback API URL.

#[test]
fn a_loopback_api_is_never_reached_through_a_proxy() {
    let proxy = TcpListener::bind("127.0.0.1:0").expect("a proxy port");
    proxy.set_nonblocking(true).expect("non-blocking");
    let address = format!("http://{}", proxy.local_addr().expect("address"));
    let out = Test::new()
        .env("HTTP_PROXY", &address)
        .env("http_proxy", &address)
        .env("ALL_PROXY", &address)
        .env("all_proxy", &address)
        .env("NO_PROXY", "")
        .file("agents.yaml", MATCHING)
        .args(&[
            "plan",
            "--request-timeout",
            "5",
            "--max-retries",
            "0",
            "agents.yaml",
        ])
        .run();
    assert!(!out.journal.is_empty(), "the simulator was asked directly");
    assert!(
        matches!(proxy.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing connected to the proxy"
    );
}

// Case 11: secrets in the URL are refused, not echoed.

#[test]
fn credentials_queries_and_fragments_in_the_api_url_are_refused_unechoed() {
    for url in [
        "https://user:s3cr3t-pw@app.talkover.ai:99999",
        "https://user:s3cr3t-pw@app.talkover.ai",
        "https://app.talkover.ai/?api_key=s3cr3t-pw",
        "https://app.talkover.ai/#s3cr3t-pw",
    ] {
        let out = Test::new()
            .api_url(url)
            .file("agents.yaml", MATCHING)
            .args(&["plan", "agents.yaml"])
            .expect_code(1)
            .run();
        out.wrote_nothing();
        assert!(out.journal.is_empty());
        assert!(
            !out.stderr.contains("s3cr3t-pw") && !out.stdout.contains("s3cr3t-pw"),
            "{url}: {}",
            out.stderr
        );
    }
}

// Case 12: redirects are reported, not followed.

#[test]
fn a_redirect_is_reported_with_its_location_and_not_followed() {
    let out = Test::new()
        .sim(|c| {
            c.canned = vec![Canned::new("GET", "/api/v1/agents", 301, "")
                .header("Location", "http://talkover.invalid/api/v1/agents")]
        })
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&[
        "the API answered 301, redirecting to http://talkover.invalid/api/v1/agents",
        "does not follow redirects",
    ]);
    assert!(!out.stderr.contains("rejected the token"), "{}", out.stderr);
    let agent_reads = out
        .journal
        .iter()
        .filter(|e| e.path == "/api/v1/agents")
        .count();
    assert_eq!(agent_reads, 1, "not retried, not followed");
}

// Case 14: pages that repeat, or contradict each other, end the read at once.

#[test]
fn pages_that_repeat_forever_end_the_read_at_the_second_page() {
    let body = page(&listed_agents(), 1, 99_999, None);
    let out = Test::new()
        .sim(move |c| c.canned = vec![Canned::new("GET", "/api/v1/agents", 200, body)])
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&[
        "appears on page 1 and again on page ",
        "the list changed or repeated while it was read; try again",
    ]);
    let pages = out
        .journal
        .iter()
        .filter(|e| e.path == "/api/v1/agents")
        .count();
    // Page 1, then at most one --read-parallelism (16) of concurrent page reads.
    assert!(pages <= 17, "{pages} pages read");
}

/// A plan of the standard environment served `cap` agents a page, with page 2 replaced by
/// `second`, which must make the plan fail.
fn plan_with_second_page(cap: usize, second: Value) -> Output {
    let second = second.to_string();
    Test::new()
        .page_size_cap(cap)
        .sim(move |c| {
            c.canned = vec![Canned::new("GET", "/api/v1/agents", 200, second).query("page=2")]
        })
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run()
}

#[test]
fn an_agent_on_two_pages_with_different_settings_is_an_error() {
    let mut twin = listed_agents()[0].clone();
    twin["direction"] = json!("outbound");
    let out = plan_with_second_page(
        4,
        json!({"success": true, "data": [twin], "meta": {"current_page": 2, "per_page": 4, "last_page": 2, "total": 7}}),
    );
    out.stderr_has(&["id \"a-1\" appears on page 1 and again on page 2"]);
}

#[test]
fn an_empty_page_before_the_last_is_an_error() {
    let out = plan_with_second_page(
        2,
        json!({"success": true, "data": [], "meta": {"current_page": 2, "per_page": 2, "last_page": 4, "total": 7}}),
    );
    out.stderr_has(&["page 2 of 4 is empty; the list changed while it was read"]);
}

// Case 15: a body larger than any real answer is refused, not read into memory.

#[test]
fn an_enormous_answer_is_refused() {
    let huge = format!(
        r#"{{"success": true, "data": [], "padding": "{}"}}"#,
        "x".repeat(65 << 20)
    );
    let out = Test::new()
        .sim(move |c| c.canned = vec![Canned::new("GET", "/api/v1/phone-numbers", 200, huge)])
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&["larger than talkops reads (64 MiB)"]);
}

// Case 16, the text side: control characters from the server reach no terminal raw.

#[test]
fn control_characters_in_server_messages_are_shown_escaped() {
    let out = Test::new()
        .sim(|c| {
            c.canned = vec![Canned::new(
                "PUT",
                "/api/v1/agents/a-4/calling",
                422,
                "{\"success\": false, \"message\": \"locked\\u001b[2K\\u202eby evil\"}",
            )]
        })
        .file("agents.yaml", NIGHT_GAINS_300)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    assert!(
        out.stdout.contains("locked\\u{1b}[2K\\u{202e}by evil"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{202e}'));
    let out = Test::new()
        .sim(|c| {
            c.canned = vec![Canned::new(
                "GET",
                "/api/v1/agents",
                200,
                "{\"success\": false, \"message\": \"down\\u001b]0;pwned\\u0007\"}",
            )]
        })
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&["down\\u{1b}]0;pwned\\u{7}"]);
    assert!(!out.stderr.contains('\u{1b}'));
}

#[test]
fn a_callback_list_shorter_than_its_total_refuses_the_apply() {
    let body = r#"{"success": true, "data": [], "meta": {"current_page": 1, "per_page": 20, "last_page": 1, "total": 50}}"#;
    let out = Test::new()
        .sim(move |c| c.canned = vec![Canned::new("GET", "/api/v1/callback-agents", 200, body)])
        .file(
            "agents.yaml",
            "agents:\n  - name: Callback\n    direction: outbound\n",
        )
        .args(&["apply", "--auto-approve", "--allow-unrouted", "agents.yaml"])
        .expect_code(1)
        .run();
    out.wrote_nothing().stderr_has(&[
        "cannot read the callback agents",
        "the server counts 50 items but paging returned 0",
    ]);
}

#[test]
fn export_leaves_out_numbers_the_api_did_not_give() {
    let agents = agents_with("a-2", |a| {
        a.remove("phone_numbers");
    });
    let alone = json!({"success": true, "data": {"id": "a-2", "name": "Sales", "direction": "outbound", "phone_numbers": null}}).to_string();
    let out = Test::new()
        .sim(move |c| {
            c.canned = vec![
                list(&agents),
                Canned::new("GET", "/api/v1/agents/a-2", 200, alone),
            ]
        })
        .args(&["export"])
        .run();
    assert!(
        out.stdout.contains("  - name: \"Sales\"\n    direction: outbound\n    # phone_numbers left out (not managed): the API did not give this agent's numbers\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_put_answered_with_an_unreadable_body_is_read_back() {
    for body in ["", "OK", r#"{"success": true, "data": "done"}"#] {
        let out = Test::new()
            .sim(move |c| {
                c.canned =
                    vec![Canned::new("PUT", "/api/v1/agents/a-4/calling", 200, body).route_first()]
            })
            .file("agents.yaml", NIGHT_GAINS_300)
            .args(&["apply", "--auto-approve", "agents.yaml"])
            .run();
        assert!(
            out.stdout.contains("1 changed, 0 failed"),
            "{body:?}: {}",
            out.stdout
        );
        assert!(
            out.journal
                .iter()
                .any(|e| e.method == "GET" && e.path == "/api/v1/agents/a-4"),
            "read back"
        );
    }
}

#[test]
fn a_server_echoing_the_token_in_a_value_gets_it_scrubbed() {
    // The duplicate id is the token itself: the message names the id, never the token.
    let mut twin = listed_agents()[0].clone();
    twin["id"] = json!(crate::harness::TOKEN);
    let agents = vec![twin.clone(), twin];
    let out = Test::new()
        .sim(move |c| c.canned = vec![list(&agents)])
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    // The harness fails the test if the token is printed.
    out.stderr_has(&["id \"[redacted]\" appears twice on page 1"]);
}

#[test]
fn a_refused_put_was_not_applied_and_one_applied_differently_says_so() {
    for (status, body, applied) in [
        (422, r#"{"success": false, "message": "Locked"}"#, "no"),
        (
            200,
            r#"{"success": true, "data": {"id": "a-4", "direction": "outbound", "phone_numbers": []}}"#,
            "differently",
        ),
        (503, r#"{"success": false, "message": "down"}"#, "maybe"),
        (
            200,
            r#"{"success": true, "data": {"id": "a-4", "direction": "both", "phone_numbers": [{"id": "n-300"}, {"id": "n-400"}]}}"#,
            "differently",
        ),
    ] {
        let out = Test::new()
            .sim(move |c| {
                c.canned = vec![Canned::new(
                    "PUT",
                    "/api/v1/agents/a-4/calling",
                    status,
                    body,
                )]
            })
            .file("agents.yaml", NIGHT_GAINS_300)
            .args(&[
                "apply",
                "--auto-approve",
                "--max-retries",
                "0",
                "--format",
                "json",
                "agents.yaml",
            ])
            .expect_code(1)
            .run();
        let report: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
        assert_eq!(
            report["results"][0]["applied"], applied,
            "{status}: {report:#}"
        );
    }
}
