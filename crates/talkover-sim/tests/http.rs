//! The simulator over real loopback HTTP: each test spawns its own simulator on a free
//! port and talks to it with a blocking client. No sleeps: `spawn` returns once bound.

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use talkover_sim::{
    spawn, AgentState, Canned, JournalEntry, RateLimit, RetryAfter, Seed, SimConfig, SimHandle,
};

const TOKEN: &str = "talq_test_0123456789";

/// Two numbers, three agents; `a1` holds `p1`, `a2` (outbound) holds `p1` and `p2`.
const SMALL_SEED: &str = r#"{
  "agents": [
    {"id": "a1", "name": "Sales", "label": "Front desk", "direction": "inbound", "phone_number_ids": ["p1"]},
    {"id": "a2", "name": "Callback", "direction": "outbound", "phone_number_ids": ["p1", "p2"]},
    {"id": "a3", "name": "Support", "direction": "inbound", "current_status": "draft"}
  ],
  "phone_numbers": [
    {"id": "p1", "number": "+14155550100"},
    {"id": "p2", "number": "+14155550101", "country_code": "US", "formatted_number": "415.555.0101", "type": "toll_free"},
    {"id": "p3", "number": "+442071838750"}
  ]
}"#;

struct Sim {
    handle: SimHandle,
    client: Client,
}

impl Sim {
    #[track_caller]
    fn start(seed: &str) -> Sim {
        Sim::with_config(SimConfig::new(TOKEN, Seed::from_json(seed).unwrap()))
    }

    #[track_caller]
    fn with_config(config: SimConfig) -> Sim {
        let handle = spawn(config, 0).unwrap();
        // No proxy: the environment may name one, and loopback must be reached directly.
        let client = Client::builder().no_proxy().build().unwrap();
        Sim { handle, client }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.url())
    }

    fn get(&self, path: &str) -> (u16, Value) {
        send(self.client.get(self.url(path)).bearer_auth(TOKEN))
    }

    fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        send(
            self.client
                .put(self.url(path))
                .bearer_auth(TOKEN)
                .json(body),
        )
    }

    fn put_raw(&self, path: &str, content_type: Option<&str>, body: &str) -> (u16, Value) {
        let mut request = self
            .client
            .put(self.url(path))
            .bearer_auth(TOKEN)
            .body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        send(request)
    }
}

#[track_caller]
fn send(request: RequestBuilder) -> (u16, Value) {
    let (status, _, body) = send_for_headers(request);
    (status, body)
}

#[track_caller]
fn send_for_headers(request: RequestBuilder) -> (u16, HeaderMap, Value) {
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("response is not JSON ({err}): {text}"));
    (status, headers, body)
}

/// A header as text, `None` when absent.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|value| value.to_str().unwrap())
}

fn statuses(sim: &Sim) -> Vec<u16> {
    sim.handle
        .journal()
        .iter()
        .map(|entry| entry.status)
        .collect()
}

fn config(seed: &str) -> SimConfig {
    SimConfig::new(TOKEN, Seed::from_json(seed).unwrap())
}

fn agent_ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|agent| agent["id"].as_str().unwrap().to_owned())
        .collect()
}

fn number_ids(agent: &Value) -> Vec<&str> {
    agent["phone_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|number| number["id"].as_str().unwrap())
        .collect()
}

fn seed_with_agents(count: usize) -> String {
    let agents: Vec<Value> = (1..=count)
        .map(|n| json!({"id": format!("agent-{n:02}"), "name": format!("Agent {n}"), "direction": "inbound"}))
        .collect();
    json!({"agents": agents}).to_string()
}

#[test]
fn health_needs_no_token() {
    let sim = Sim::start("{}");
    let (status, body) = send(sim.client.get(sim.url("/health")));
    assert_eq!((status, body), (200, json!({"status": "ok"})));
    assert!(sim.handle.journal().is_empty());
}

#[test]
fn wrong_or_missing_token_is_401_without_echo() {
    let sim = Sim::start(SMALL_SEED);
    let before = sim.handle.agents();
    let unauthenticated = json!({"success": false, "message": "Unauthenticated."});

    let (status, body) = send(sim.client.get(sim.url("/api/v1/agents")));
    assert_eq!((status, &body), (401, &unauthenticated));

    let wrong = "talq_presented_but_wrong";
    let response = sim
        .client
        .get(sim.url("/api/v1/agents/a1"))
        .bearer_auth(wrong)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let headers = format!("{:?}", response.headers());
    let text = response.text().unwrap();
    assert!(
        !text.contains(wrong) && !headers.contains(wrong),
        "{headers} {text}"
    );
    assert!(!text.contains(TOKEN) && !headers.contains(TOKEN));
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        unauthenticated
    );

    // Another scheme carrying the right token is not a bearer token.
    let (status, _) = send(
        sim.client
            .get(sim.url("/api/v1/agents"))
            .header("authorization", format!("Basic {TOKEN}")),
    );
    assert_eq!(status, 401);

    // A write with a wrong token is refused before it is looked at.
    let (status, body) = send(
        sim.client
            .put(sim.url("/api/v1/agents/a1/calling"))
            .bearer_auth(wrong)
            .json(&json!({"direction": "outbound", "phone_number_ids": []})),
    );
    assert_eq!((status, body), (401, unauthenticated));
    assert_eq!(sim.handle.agents(), before);

    // The scheme is case-insensitive; the token is not.
    let (status, _) = send(
        sim.client
            .get(sim.url("/api/v1/agents"))
            .header("authorization", format!("bearer {TOKEN}")),
    );
    assert_eq!(status, 200);

    let statuses: Vec<u16> = sim.handle.journal().iter().map(|e| e.status).collect();
    assert_eq!(statuses, [401, 401, 401, 401, 200]);
    let journal = serde_json::to_string(&sim.handle.journal()).unwrap();
    assert!(!journal.contains(wrong) && !journal.contains(TOKEN));
}

#[test]
fn pagination_clamps_to_the_cap_and_covers_every_agent_once() {
    let seed = Seed::from_json(&seed_with_agents(7)).unwrap();
    let sim = Sim::with_config(SimConfig {
        page_size_cap: 3,
        ..SimConfig::new(TOKEN, seed)
    });

    let mut seen = Vec::new();
    for page in 1..=3 {
        let (status, body) = sim.get(&format!("/api/v1/agents?page={page}&per_page=100"));
        assert_eq!(status, 200);
        assert_eq!(body["success"], json!(true));
        assert_eq!(
            body["meta"],
            json!({"current_page": page, "per_page": 3, "total": 7, "last_page": 3})
        );
        seen.extend(agent_ids(&body));
    }
    let expected: Vec<String> = (1..=7).map(|n| format!("agent-{n:02}")).collect();
    assert_eq!(seen, expected, "every agent once, in seed order");

    let (status, body) = sim.get("/api/v1/agents?page=4&per_page=100");
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!([]));
    assert_eq!(
        body["meta"],
        json!({"current_page": 4, "per_page": 3, "total": 7, "last_page": 3})
    );
}

#[test]
fn per_page_defaults_to_20_and_an_empty_list_has_one_page() {
    let sim = Sim::start(&seed_with_agents(25));
    let (_, body) = sim.get("/api/v1/agents");
    assert_eq!(
        body["meta"],
        json!({"current_page": 1, "per_page": 20, "total": 25, "last_page": 2})
    );
    assert_eq!(agent_ids(&body).len(), 20);
    let (_, body) = sim.get("/api/v1/agents?page=2");
    assert_eq!(agent_ids(&body).len(), 5);

    let empty = Sim::start("{}");
    let (status, body) = empty.get("/api/v1/agents?per_page=100");
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!([]));
    assert_eq!(
        body["meta"],
        json!({"current_page": 1, "per_page": 100, "total": 0, "last_page": 1})
    );
}

#[test]
fn list_filters_by_status_direction_and_search() {
    let sim = Sim::start(SMALL_SEED);
    let ids = |query: &str| {
        let (status, body) = sim.get(&format!("/api/v1/agents?{query}"));
        assert_eq!(status, 200, "{query}: {body}");
        agent_ids(&body)
    };
    assert_eq!(ids("status=draft"), ["a3"]);
    assert_eq!(ids("status=published"), ["a1", "a2"]);
    assert_eq!(ids("direction=outbound"), ["a2"]);
    assert_eq!(ids("direction=inbound&status=published"), ["a1"]);
    assert_eq!(ids("search=SUPP"), ["a3"]);
    assert_eq!(ids("search=front%20DESK"), ["a1"], "label matches too");
    assert_eq!(ids("search=nobody"), Vec::<String>::new());
    assert_eq!(ids("search="), ["a1", "a2", "a3"], "empty means no filter");
}

#[test]
fn bad_pagination_or_filters_are_422() {
    let sim = Sim::start(SMALL_SEED);
    for (query, field) in [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=-1", "page"),
        ("per_page=0", "per_page"),
        ("per_page=ten", "per_page"),
        ("status=archived", "status"),
        ("direction=sideways", "direction"),
    ] {
        let (status, body) = sim.get(&format!("/api/v1/agents?{query}"));
        assert_eq!(status, 422, "{query}");
        assert_eq!(body["success"], json!(false), "{query}");
        assert!(body["message"].is_string(), "{query}");
        let errors = body["errors"].as_object().unwrap();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            [field],
            "{query}: {body}"
        );
        assert!(errors[field][0].is_string());
    }
    let (_, body) = sim.get("/api/v1/agents?page=0");
    assert_eq!(
        body["errors"],
        json!({"page": ["The page field must be at least 1."]})
    );
    let (_, body) = sim.get("/api/v1/agents?page=x&per_page=y");
    assert_eq!(
        body["errors"],
        json!({
            "page": ["The page field must be an integer."],
            "per_page": ["The per page field must be an integer."]
        })
    );
}

#[test]
fn agent_json_has_the_contract_fields() {
    let sim = Sim::start(SMALL_SEED);
    let (status, body) = sim.get("/api/v1/agents/a2");
    assert_eq!(status, 200);
    assert_eq!(body["success"], json!(true));
    let agent = &body["data"];
    assert_eq!(agent["id"], "a2");
    assert_eq!(agent["name"], "Callback");
    assert_eq!(agent["label"], Value::Null);
    assert_eq!(agent["direction"], "outbound");
    assert_eq!(agent["current_status"], "published");
    assert_eq!(agent["voice"], Value::Null);
    assert_eq!(agent["created_at"], "2026-01-01T00:00:00Z");
    assert_eq!(agent["updated_at"], "2026-01-01T00:00:00Z");
    assert_eq!(agent["trainings"], json!([]));
    assert_eq!(agent["actions"], json!([]));
    assert_eq!(
        agent["phone_numbers"],
        json!([
            {"id": "p1", "number": "+14155550100", "country_code": "US",
             "formatted_number": "(415) 555-0100", "international_number": "+1 415-555-0100",
             "current_status": "active"},
            {"id": "p2", "number": "+14155550101", "country_code": "US",
             "formatted_number": "415.555.0101", "international_number": "+1 415-555-0101",
             "current_status": "active"}
        ])
    );
    let (_, body) = sim.get("/api/v1/agents/a1");
    assert_eq!(body["data"]["label"], "Front desk");
}

#[test]
fn unknown_agent_is_404() {
    let sim = Sim::start(SMALL_SEED);
    let not_found = json!({"success": false, "message": "Agent not found"});
    assert_eq!(sim.get("/api/v1/agents/nope"), (404, not_found.clone()));
    // Unknown agent wins over an invalid body, as on the real service.
    assert_eq!(
        sim.put(
            "/api/v1/agents/nope/calling",
            &json!({"direction": "sideways"})
        ),
        (404, not_found.clone())
    );
    assert_eq!(
        sim.put(
            "/api/v1/agents/nope/calling",
            &json!({"direction": "inbound", "phone_number_ids": []})
        ),
        (404, not_found)
    );
}

#[test]
fn phone_numbers_are_listed_whole_and_searchable() {
    let sim = Sim::start(SMALL_SEED);
    let (status, body) = sim.get("/api/v1/phone-numbers");
    assert_eq!(status, 200);
    assert_eq!(body["success"], json!(true));
    assert!(body.get("meta").is_none());
    let numbers = body["data"].as_array().unwrap();
    assert_eq!(numbers.len(), 3);
    assert_eq!(
        numbers[0],
        json!({"id": "p1", "number": "+14155550100", "country_code": "US",
               "formatted_number": "(415) 555-0100", "international_number": "+1 415-555-0100",
               "type": "local", "has_voice": true, "has_sms": true, "current_status": "active",
               "is_sandbox": false, "monthly_price": "1.00", "agents": null})
    );
    assert_eq!(numbers[1]["type"], "toll_free");
    assert_eq!(numbers[2]["country_code"], "GB");

    let (_, body) = sim.get("/api/v1/phone-numbers?search=%2B4420");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["id"], "p3");
    let (_, body) = sim.get("/api/v1/phone-numbers?search=5550101");
    assert_eq!(body["data"][0]["id"], "p2");
    let (_, body) = sim.get("/api/v1/phone-numbers?type=toll_free");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
}

#[test]
fn put_replaces_numbers_and_omitting_them_keeps_them() {
    let sim = Sim::start(SMALL_SEED);

    let (status, body) = sim.put(
        "/api/v1/agents/a1/calling",
        &json!({"direction": "outbound", "phone_number_ids": ["p3", "p2", "p3"]}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], json!(true));
    assert_eq!(
        body["message"],
        "Agent calling settings updated successfully"
    );
    let data = &body["data"];
    assert_eq!(data["id"], "a1");
    assert_eq!(data["name"], "Sales");
    assert_eq!(data["direction"], "outbound");
    assert_eq!(data["current_status"], "published");
    assert_eq!(
        number_ids(data),
        ["p3", "p2"],
        "replaced, deduplicated, in order"
    );
    assert_eq!(data["updated_at"], "2026-01-01T00:00:01Z");

    let (status, body) = sim.put(
        "/api/v1/agents/a1/calling",
        &json!({"direction": "inbound"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(number_ids(&body["data"]), ["p3", "p2"], "kept when omitted");
    assert_eq!(body["data"]["updated_at"], "2026-01-01T00:00:02Z");

    // An empty list releases every number; a draft stays a draft.
    let (status, body) = sim.put(
        "/api/v1/agents/a3/calling",
        &json!({"direction": "outbound", "phone_number_ids": []}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["current_status"], "draft");

    assert_eq!(
        sim.handle.agents(),
        [
            AgentState {
                id: "a1".into(),
                name: "Sales".into(),
                direction: "inbound".into(),
                current_status: "published".into(),
                phone_number_ids: vec!["p3".into(), "p2".into()],
                callback: false,
            },
            AgentState {
                id: "a2".into(),
                name: "Callback".into(),
                direction: "outbound".into(),
                current_status: "published".into(),
                phone_number_ids: vec!["p1".into(), "p2".into()],
                callback: false,
            },
            AgentState {
                id: "a3".into(),
                name: "Support".into(),
                direction: "outbound".into(),
                current_status: "draft".into(),
                phone_number_ids: vec![],
                callback: false,
            },
        ]
    );
    // Reads show the write.
    let (_, body) = sim.get("/api/v1/agents/a1");
    assert_eq!(body["data"]["updated_at"], "2026-01-01T00:00:02Z");
    assert_eq!(body["data"]["created_at"], "2026-01-01T00:00:00Z");
    assert_eq!(number_ids(&body["data"]), ["p3", "p2"]);
}

#[test]
fn invalid_puts_are_422_and_change_nothing() {
    let sim = Sim::start(SMALL_SEED);
    let before = sim.handle.agents();
    let path = "/api/v1/agents/a1/calling";
    let direction_invalid = json!({"direction": ["The selected direction is invalid."]});

    let (status, body) = sim.put(
        path,
        &json!({"direction": "sideways", "phone_number_ids": ["p2"]}),
    );
    assert_eq!(status, 422);
    assert_eq!(body["success"], json!(false));
    assert_eq!(body["code"], "VALIDATION_ERROR");
    assert!(body["message"].is_string());
    assert_eq!(body["errors"], direction_invalid);

    let (status, body) = sim.put(path, &json!({"phone_number_ids": ["p2"]}));
    assert_eq!(
        (status, &body["errors"]),
        (422, &direction_invalid),
        "missing direction"
    );

    let (status, body) = sim.put(path, &json!({"direction": 1}));
    assert_eq!((status, &body["errors"]), (422, &direction_invalid));

    let (status, body) = sim.put(
        path,
        &json!({"direction": "outbound", "phone_number_ids": ["p2", "p-unknown"]}),
    );
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"],
        json!({"phone_number_ids.1": ["The selected phone_number_ids.1 is invalid."]})
    );

    let (status, body) = sim.put(
        path,
        &json!({"direction": "outbound", "phone_number_ids": [7, "p1", null]}),
    );
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"],
        json!({
            "phone_number_ids.0": ["The selected phone_number_ids.0 is invalid."],
            "phone_number_ids.2": ["The selected phone_number_ids.2 is invalid."]
        })
    );

    for not_a_list in [json!("p1"), json!(null), json!({"0": "p1"})] {
        let (status, body) = sim.put(
            path,
            &json!({"direction": "outbound", "phone_number_ids": not_a_list}),
        );
        assert_eq!(status, 422, "{not_a_list}");
        assert!(body["errors"]["phone_number_ids"].is_array(), "{body}");
    }

    let json_type = Some("application/json");
    for (content_type, raw) in [
        (json_type, "{not json"),
        (json_type, r#"["direction", "outbound"]"#),
        (json_type, ""),
        (None, r#"{"direction": "outbound"}"#),
        (Some("text/plain"), r#"{"direction": "outbound"}"#),
    ] {
        let (status, body) = sim.put_raw(path, content_type, raw);
        assert_eq!(status, 422, "{raw}");
        assert_eq!(body["message"], "The given data was invalid.");
        let errors = body["errors"].as_object().unwrap();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["body"], "{raw}: {body}");
    }

    assert_eq!(sim.handle.agents(), before);
    let (_, body) = sim.get("/api/v1/agents/a1");
    assert_eq!(body["data"]["updated_at"], "2026-01-01T00:00:00Z");
    assert!(sim.handle.writes().iter().all(|write| write.status == 422));

    // A JSON content type with parameters is still JSON.
    let (status, _) = sim.put_raw(
        path,
        Some("application/json; charset=utf-8"),
        r#"{"direction": "outbound"}"#,
    );
    assert_eq!(status, 200);
}

#[test]
fn one_number_may_be_held_by_several_agents() {
    let sim = Sim::start(SMALL_SEED);
    let (status, _) = sim.put(
        "/api/v1/agents/a3/calling",
        &json!({"direction": "inbound", "phone_number_ids": ["p1"]}),
    );
    assert_eq!(status, 200);
    let holders: Vec<String> = sim
        .handle
        .agents()
        .into_iter()
        .filter(|agent| agent.phone_number_ids.contains(&"p1".to_owned()))
        .map(|agent| agent.id)
        .collect();
    assert_eq!(holders, ["a1", "a2", "a3"]);
}

#[test]
fn journal_records_method_path_query_body_and_status() {
    let sim = Sim::start(SMALL_SEED);
    sim.get("/api/v1/agents?page=2&per_page=100");
    sim.put(
        "/api/v1/agents/a1/calling",
        &json!({"direction": "outbound", "phone_number_ids": ["p2"]}),
    );
    sim.put_raw(
        "/api/v1/agents/a1/calling",
        Some("application/json"),
        "oops",
    );
    sim.get("/api/v1/agents/missing");
    send(sim.client.get(sim.url("/health")));
    send(sim.client.get(sim.url("/_sim/state")));
    send(sim.client.get(sim.url("/no/such/route")));

    let expected = vec![
        JournalEntry {
            method: "GET".into(),
            path: "/api/v1/agents".into(),
            query: Some("page=2&per_page=100".into()),
            body: None,
            status: 200,
        },
        JournalEntry {
            method: "PUT".into(),
            path: "/api/v1/agents/a1/calling".into(),
            query: None,
            body: Some(json!({"direction": "outbound", "phone_number_ids": ["p2"]})),
            status: 200,
        },
        JournalEntry {
            method: "PUT".into(),
            path: "/api/v1/agents/a1/calling".into(),
            query: None,
            body: Some(Value::String("oops".into())),
            status: 422,
        },
        JournalEntry {
            method: "GET".into(),
            path: "/api/v1/agents/missing".into(),
            query: None,
            body: None,
            status: 404,
        },
        JournalEntry {
            method: "GET".into(),
            path: "/no/such/route".into(),
            query: None,
            body: None,
            status: 404,
        },
    ];
    assert_eq!(sim.handle.journal(), expected);
    assert_eq!(sim.handle.writes(), expected[1..3]);

    // The same, out of process.
    let (status, body) = send(sim.client.get(sim.url("/_sim/journal")));
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_value::<Vec<JournalEntry>>(body).unwrap(),
        expected
    );
    let (_, body) = send(sim.client.get(sim.url("/_sim/state")));
    assert_eq!(
        serde_json::from_value::<Vec<AgentState>>(body).unwrap(),
        sim.handle.agents()
    );
}

#[test]
fn unknown_routes_and_methods_get_json_errors() {
    let sim = Sim::start(SMALL_SEED);
    let not_found = json!({"success": false, "message": "Not found"});
    assert_eq!(sim.get("/api/v1/nothing-here"), (404, not_found.clone()));
    assert_eq!(sim.get("/api/v2/agents"), (404, not_found));
    let (status, body) = send(
        sim.client
            .post(sim.url("/api/v1/agents"))
            .bearer_auth(TOKEN),
    );
    assert_eq!(status, 405);
    assert_eq!(body["success"], json!(false));
    // Unknown /api/v1 paths are still behind the token.
    let (status, _) = send(sim.client.get(sim.url("/api/v1/nothing-here")));
    assert_eq!(status, 401);
}

#[test]
fn timestamps_depend_only_on_the_requests() {
    let run = || {
        let sim = Sim::start(SMALL_SEED);
        for direction in ["outbound", "inbound", "outbound"] {
            sim.put(
                "/api/v1/agents/a2/calling",
                &json!({"direction": direction}),
            );
        }
        let (_, body) = sim.get("/api/v1/agents/a2");
        body["data"]["updated_at"].clone()
    };
    assert_eq!(run(), json!("2026-01-01T00:00:03Z"));
    assert_eq!(run(), run());
}

#[test]
fn spawn_refuses_a_bad_seed_and_a_taken_port() {
    let mut seed = Seed::from_json(SMALL_SEED).unwrap();
    seed.agents[0].phone_number_ids.push("p-missing".into());
    let err = spawn(SimConfig::new(TOKEN, seed), 0).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("p-missing"), "{err}");

    let mut seed = Seed::from_json(SMALL_SEED).unwrap();
    seed.agents[1].callback = true; // a2 is outbound
    let err = spawn(SimConfig::new(TOKEN, seed), 0).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("callback role"), "{err}");

    let sim = Sim::start("{}");
    let taken = spawn(
        SimConfig::new(TOKEN, Seed::default()),
        sim.handle.addr().port(),
    );
    assert_eq!(taken.unwrap_err().kind(), std::io::ErrorKind::AddrInUse);
}

#[test]
fn shutdown_stops_serving() {
    let sim = Sim::start("{}");
    let url = sim.url("/health");
    assert_eq!(send(sim.client.get(&url)).0, 200);
    let Sim { handle, client } = sim;
    handle.shutdown();
    assert!(client.get(&url).send().is_err());
}

#[test]
fn a_refused_agent_gets_422_with_its_message_and_others_are_unaffected() {
    let mut config = SimConfig::new(TOKEN, Seed::from_json(SMALL_SEED).unwrap());
    config
        .refused_agents
        .insert("a1".into(), "Agent is locked by a running campaign".into());
    let sim = Sim::with_config(config);
    let body = json!({"direction": "outbound", "phone_number_ids": []});
    let (status, refused) = sim.put("/api/v1/agents/a1/calling", &body);
    assert_eq!(status, 422);
    assert_eq!(refused["message"], "Agent is locked by a running campaign");
    assert_eq!(refused["success"], false);
    let (status, _) = sim.put("/api/v1/agents/a3/calling", &body);
    assert_eq!(status, 200);
    let agents = sim.handle.agents();
    assert_eq!(agents[0].direction, "inbound", "a1 unchanged");
    assert_eq!(agents[2].direction, "outbound", "a3 changed");
}

#[test]
fn the_merge_knob_adds_numbers_instead_of_replacing_them() {
    let mut config = SimConfig::new(TOKEN, Seed::from_json(SMALL_SEED).unwrap());
    config.merge_numbers_on_put = true;
    let sim = Sim::with_config(config);
    let (status, body) = sim.put(
        "/api/v1/agents/a1/calling",
        &json!({"direction": "inbound", "phone_number_ids": ["p3"]}),
    );
    assert_eq!(status, 200);
    assert_eq!(number_ids(&body["data"]), ["p1", "p3"]);
}

/// A client that gives up after a minute: long past any answer a loaded machine gives,
/// only there so that a simulator that never answers fails the test instead of hanging it.
fn patient_client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

#[test]
fn latency_delays_every_api_request() {
    let sim = Sim::with_config(SimConfig {
        latency: Duration::from_millis(300),
        ..config(SMALL_SEED)
    });
    let started = Instant::now();
    assert_eq!(sim.get("/api/v1/agents").0, 200);
    // Only the lower bound the sleep guarantees: an upper bound would measure the
    // machine's load, not the simulator.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
}

#[test]
fn concurrent_requests_wait_out_their_latency_together() {
    // The barrier answers none of the eight before all eight have arrived, so every
    // answer proves that all eight were in flight at once, each past its latency: a
    // simulator that held requests one after another would answer none, and the
    // clients' timeout would fail the test. Nothing here depends on how long it takes.
    let sim = Sim::with_config(SimConfig {
        latency: Duration::from_millis(300),
        barrier: Some(8),
        ..config(SMALL_SEED)
    });
    let url = sim.url("/api/v1/agents");
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            thread::spawn(move || send(patient_client().get(url).bearer_auth(TOKEN)).0)
        })
        .collect();
    let answered: Vec<u16> = requests.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(answered, [200; 8]);
    assert_eq!(statuses(&sim), [200; 8]);
}

#[test]
fn a_barrier_holds_requests_until_enough_have_arrived() {
    let sim = Sim::with_config(SimConfig {
        barrier: Some(2),
        ..config(SMALL_SEED)
    });
    // A client that waits for its answer before sending more never gets one: #1 is held
    // until #2 arrives, however long that takes, so this timeout always fires.
    let impatient = Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = impatient
        .get(sim.url("/api/v1/agents/a1"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // Paths outside /api/v1 neither count nor wait.
    assert_eq!(send(sim.client.get(sim.url("/health"))).0, 200);
    // #2 reaches the barrier, and #3 finds it already reached.
    let patient = patient_client();
    for path in ["/api/v1/agents/a2", "/api/v1/agents/a3"] {
        assert_eq!(send(patient.get(sim.url(path)).bearer_auth(TOKEN)).0, 200);
    }
}

#[test]
fn a_slow_request_lets_a_client_time_out_and_is_still_answered_in_its_place() {
    let sim = Sim::with_config(SimConfig {
        slow_requests: [2, 3].into(),
        slow_delay: Duration::from_millis(500),
        fail_requests: [4].into(),
        ..config(SMALL_SEED)
    });
    assert_eq!(sim.get("/api/v1/agents/a1").0, 200);

    // #2, a write, outlasts the client's patience.
    let impatient = Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = impatient
        .put(sim.url("/api/v1/agents/a1/calling"))
        .bearer_auth(TOKEN)
        .json(&json!({"direction": "outbound"}))
        .send()
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");

    // #3 is slow too, and a patient client waits it out; by then #2, which started
    // earlier with the same delay, has been answered.
    let started = Instant::now();
    assert_eq!(sim.get("/api/v1/agents/a2").0, 200);
    assert!(started.elapsed() >= Duration::from_millis(500));

    // The timed-out request was counted: this is #4.
    assert_eq!(sim.get("/api/v1/agents/a3").0, 503);

    assert_eq!(statuses(&sim), [200, 200, 200, 503]);
    assert_eq!(
        sim.handle.journal()[1].path,
        "/api/v1/agents/a1/calling",
        "journaled in arrival order"
    );
    assert_eq!(
        sim.handle.agents()[0].direction,
        "outbound",
        "the write was applied though its client gave up"
    );
}

#[test]
fn failed_requests_are_503_change_nothing_and_are_counted_by_api_arrival() {
    let sim = Sim::with_config(SimConfig {
        fail_requests: [2, 3, 4].into(),
        ..config(SMALL_SEED)
    });
    let before = sim.handle.agents();
    let unavailable = json!({"success": false, "message": "Service temporarily unavailable"});
    let put = json!({"direction": "outbound", "phone_number_ids": []});

    assert_eq!(sim.get("/api/v1/agents/a1").0, 200); // #1
                                                     // Paths outside /api/v1 are journaled but neither counted nor faulted.
    send(sim.client.get(sim.url("/health")));
    assert_eq!(send(sim.client.get(sim.url("/no/such/route"))).0, 404);
    assert_eq!(
        sim.put("/api/v1/agents/a1/calling", &put),
        (503, unavailable.clone())
    ); // #2
       // The fault comes before the token check and before routing.
    assert_eq!(
        send(sim.client.get(sim.url("/api/v1/agents"))),
        (503, unavailable.clone())
    ); // #3
    assert_eq!(sim.get("/api/v1/nothing-here"), (503, unavailable)); // #4
    assert_eq!(sim.handle.agents(), before);
    assert_eq!(sim.put("/api/v1/agents/a1/calling", &put).0, 200); // #5

    assert_eq!(statuses(&sim), [200, 404, 503, 503, 503, 200]);
    let failed_put = &sim.handle.writes()[0];
    assert_eq!((failed_put.status, &failed_put.body), (503, &Some(put)));
}

#[test]
fn every_nth_request_is_429_with_retry_after_seconds_and_changes_nothing() {
    let sim = Sim::with_config(SimConfig {
        rate_limit_every: Some(2),
        retry_after: RetryAfter::Seconds(5),
        fail_requests: [4].into(),
        ..config(SMALL_SEED)
    });
    let before = sim.handle.agents();
    let (status, headers, _) =
        send_for_headers(sim.client.get(sim.url("/api/v1/agents")).bearer_auth(TOKEN)); // #1
    assert_eq!((status, header(&headers, "retry-after")), (200, None));
    let (status, headers, body) = send_for_headers(
        sim.client
            .put(sim.url("/api/v1/agents/a1/calling"))
            .bearer_auth(TOKEN)
            .json(&json!({"direction": "outbound"})),
    ); // #2
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({"success": false, "message": "Too Many Requests"})
    );
    assert_eq!(header(&headers, "retry-after"), Some("5"));
    assert_eq!(sim.handle.agents(), before);
    // An unauthenticated request is counted too.
    assert_eq!(send(sim.client.get(sim.url("/api/v1/agents"))).0, 401); // #3
    assert_eq!(sim.get("/api/v1/agents").0, 503, "fail_requests wins"); // #4
    assert_eq!(sim.get("/api/v1/agents").0, 200); // #5
                                                  // The 429 comes before the token check.
    assert_eq!(send(sim.client.get(sim.url("/api/v1/agents"))).0, 429); // #6
    assert_eq!(statuses(&sim), [200, 429, 401, 503, 200, 429]);
}

/// Unix seconds of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`, parsed here
/// independently of the simulator's formatter (Hinnant's `days_from_civil`).
#[track_caller]
fn parse_imf_fixdate(text: &str) -> u64 {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let fields: Vec<&str> = text.split([' ', ':']).collect();
    let [weekday, day, month, year, hour, minute, second, "GMT"] = fields[..] else {
        panic!("not an IMF-fixdate: {text:?}");
    };
    assert!(weekday.ends_with(',') && weekday.len() == 4, "{text:?}");
    assert!(
        [day, hour, minute, second].iter().all(|f| f.len() == 2) && year.len() == 4,
        "{text:?}"
    );
    let number = |field: &str| field.parse::<i64>().unwrap();
    let month = MONTHS.iter().position(|&m| m == month).unwrap() as i64 + 1;
    let (day, year) = (number(day), number(year) - i64::from(month <= 2));
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + number(hour) * 3600 + number(minute) * 60 + number(second);
    let weekdays = ["Thu,", "Fri,", "Sat,", "Sun,", "Mon,", "Tue,", "Wed,"];
    assert_eq!(weekday, weekdays[days.rem_euclid(7) as usize], "{text:?}");
    u64::try_from(seconds).unwrap()
}

#[test]
fn retry_after_can_be_an_http_date_that_many_seconds_ahead() {
    assert_eq!(
        parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
        784_111_777
    );
    let sim = Sim::with_config(SimConfig {
        rate_limit_every: Some(1),
        retry_after: RetryAfter::HttpDate(120),
        ..config(SMALL_SEED)
    });
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let before = now();
    let (status, headers, _) =
        send_for_headers(sim.client.get(sim.url("/api/v1/agents")).bearer_auth(TOKEN));
    let after = now();
    assert_eq!(status, 429);
    let date = parse_imf_fixdate(header(&headers, "retry-after").unwrap());
    assert!(
        (before + 120..=after + 120).contains(&date),
        "{date} not 120 s after {before}..={after}"
    );
}

#[test]
fn the_rate_limit_window_reports_its_state_and_refuses_past_the_limit() {
    let sim = Sim::with_config(SimConfig {
        rate_limit: Some(RateLimit {
            limit: 3,
            window: Duration::from_secs(60),
        }),
        fail_requests: [2].into(),
        ..config(SMALL_SEED)
    });
    let get = |token: &str| {
        send_for_headers(sim.client.get(sim.url("/api/v1/agents")).bearer_auth(token))
    };
    let window = |headers: &HeaderMap| {
        let reset: u64 = header(headers, "x-ratelimit-reset")
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&reset), "{headers:?}");
        (
            header(headers, "x-ratelimit-limit").unwrap().to_owned(),
            header(headers, "x-ratelimit-remaining").unwrap().to_owned(),
        )
    };
    let (status, headers, _) = get(TOKEN);
    assert_eq!(status, 200);
    assert_eq!(window(&headers), ("3".into(), "2".into()));
    assert_eq!(header(&headers, "retry-after"), None);
    // Faulted and unauthenticated requests count and carry the headers too.
    let (status, headers, _) = get(TOKEN);
    assert_eq!((status, window(&headers)), (503, ("3".into(), "1".into())));
    let (status, headers, _) = get("talq_wrong");
    assert_eq!((status, window(&headers)), (401, ("3".into(), "0".into())));

    let (status, headers, body) = get(TOKEN);
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({"success": false, "message": "Too Many Requests"})
    );
    assert_eq!(window(&headers), ("3".into(), "0".into()));
    assert_eq!(
        header(&headers, "retry-after"),
        header(&headers, "x-ratelimit-reset")
    );
    let (status, _, _) = get(TOKEN);
    assert_eq!(status, 429);

    // Outside /api/v1 nothing is limited or labelled.
    let response = sim.client.get(sim.url("/health")).send().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().get("x-ratelimit-limit").is_none());
    assert_eq!(statuses(&sim), [200, 503, 401, 429, 429]);
}

#[test]
fn a_single_inbound_owner_is_enforced_on_claims_only() {
    let sim = Sim::with_config(SimConfig {
        enforce_single_inbound_owner: true,
        ..config(SMALL_SEED)
    });
    let calling =
        |agent: &str, body: Value| sim.put(&format!("/api/v1/agents/{agent}/calling"), &body);
    let before = sim.handle.agents();

    // a3 claims p1, which a1 answers.
    let (status, body) = calling(
        "a3",
        json!({"direction": "inbound", "phone_number_ids": ["p2", "p1"]}),
    );
    assert_eq!(status, 409);
    assert_eq!(
        body,
        json!({"success": false,
               "message": "Phone number +14155550100 is already answered by inbound agent Sales (a1)",
               "code": "DID_IN_USE"})
    );
    assert_eq!(sim.handle.agents(), before, "nothing changed");

    // a2 turning inbound with the numbers it dials from claims them too.
    let (status, body) = calling("a2", json!({"direction": "inbound"}));
    assert_eq!(status, 409);
    assert!(body["message"].as_str().unwrap().contains("(a1)"), "{body}");

    // Outbound holders never conflict: the callback set-up.
    let (status, _) = calling(
        "a3",
        json!({"direction": "inbound", "phone_number_ids": ["p2"]}),
    );
    assert_eq!(status, 200, "p2 is only dialed from");
    let (status, _) = calling(
        "a2",
        json!({"direction": "outbound", "phone_number_ids": ["p1", "p2", "p3"]}),
    );
    assert_eq!(status, 200);

    // Release, then claim.
    assert_eq!(
        calling(
            "a1",
            json!({"direction": "inbound", "phone_number_ids": []})
        )
        .0,
        200
    );
    assert_eq!(
        calling(
            "a3",
            json!({"direction": "inbound", "phone_number_ids": ["p2", "p1"]})
        )
        .0,
        200
    );
    assert_eq!(statuses(&sim), [409, 409, 200, 200, 200, 200]);

    // Numbers an agent already answers stay allowed, even shared with another.
    let shared = Sim::with_config(SimConfig {
        enforce_single_inbound_owner: true,
        ..config(
            r#"{"agents": [
                 {"id": "x", "name": "X", "direction": "inbound", "phone_number_ids": ["p1"]},
                 {"id": "y", "name": "Y", "direction": "inbound", "phone_number_ids": ["p1"]}],
               "phone_numbers": [{"id": "p1", "number": "+14155550100"}, {"id": "p2", "number": "+14155550101"}]}"#,
        )
    });
    let (status, body) = shared.put(
        "/api/v1/agents/y/calling",
        &json!({"direction": "inbound", "phone_number_ids": ["p1", "p2"]}),
    );
    assert_eq!(status, 200, "{body}");
}

/// Three inbound agents, two with the callback role; an outbound one dials from p1.
const CALLBACK_SEED: &str = r#"{
  "agents": [
    {"id": "c1", "name": "Returns", "direction": "inbound", "phone_number_ids": ["p1"], "callback": true},
    {"id": "c2", "name": "Dialer", "direction": "outbound", "phone_number_ids": ["p1"]},
    {"id": "c3", "name": "Night", "direction": "inbound", "current_status": "draft", "callback": true},
    {"id": "c4", "name": "Plain", "direction": "inbound"}
  ],
  "phone_numbers": [{"id": "p1", "number": "+14155550100"}]
}"#;

#[test]
fn callback_agents_are_listed_and_lose_the_role_when_turned_outbound() {
    let sim = Sim::start(CALLBACK_SEED);
    let (status, body) = sim.get("/api/v1/callback-agents");
    assert_eq!(status, 200);
    assert_eq!(body["success"], json!(true));
    assert_eq!(
        agent_ids(&body),
        ["c1", "c3"],
        "inbound holders, in seed order"
    );
    // The same agent JSON as everywhere else.
    let (_, one) = sim.get("/api/v1/agents/c1");
    assert_eq!(body["data"][0], one["data"]);
    let callback: Vec<bool> = sim.handle.agents().iter().map(|a| a.callback).collect();
    assert_eq!(callback, [true, false, true, false]);

    let (status, _) = sim.put(
        "/api/v1/agents/c1/calling",
        &json!({"direction": "outbound", "phone_number_ids": ["p1"]}),
    );
    assert_eq!(status, 200, "turning a callback agent outbound is allowed");
    assert!(!sim.handle.agents()[0].callback);
    let (_, body) = sim.get("/api/v1/callback-agents");
    assert_eq!(agent_ids(&body), ["c3"]);
    // Turning back inbound does not restore the role.
    sim.put(
        "/api/v1/agents/c1/calling",
        &json!({"direction": "inbound"}),
    );
    let (_, body) = sim.get("/api/v1/callback-agents");
    assert_eq!(agent_ids(&body), ["c3"]);

    // Behind the token, and journaled like the rest.
    let (status, _) = send(sim.client.get(sim.url("/api/v1/callback-agents")));
    assert_eq!(status, 401);
    let paths: Vec<(String, u16)> = sim
        .handle
        .journal()
        .into_iter()
        .filter(|e| e.path == "/api/v1/callback-agents")
        .map(|e| (e.method, e.status))
        .collect();
    assert_eq!(
        paths,
        [
            ("GET".into(), 200),
            ("GET".into(), 200),
            ("GET".into(), 200),
            ("GET".into(), 401)
        ]
    );
    let (_, state) = send(sim.client.get(sim.url("/_sim/state")));
    assert_eq!(state[2]["callback"], json!(true));
}

#[test]
fn a_canned_answer_reaches_the_client_byte_for_byte() {
    // Hostile on purpose: success false inside a 200, data null, odd spacing, a bidi
    // override, and headers no client can turn into a duration.
    let body =
        "{\"success\":false ,\"data\": null,\n \"message\": \"caf\u{e9} \u{202e}gnp.exe\"}  ";
    let sim = Sim::with_config(SimConfig {
        rate_limit: Some(RateLimit {
            limit: 5,
            window: Duration::from_secs(60),
        }),
        canned: vec![Canned::new("get", "/api/v1/agents", 200, body)
            .header("X-RateLimit-Reset", "18446744073709551615")
            .header("Retry-After", "Fri, 31 Dec 300000000000 23:59:59 GMT")
            .header("Retry-After", "-1")],
        ..config(SMALL_SEED)
    });
    let response = sim
        .client
        .get(sim.url("/api/v1/agents?page=1&per_page=100"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    assert_eq!(response.bytes().unwrap().as_ref(), body.as_bytes());
    let all = |name: &str| -> Vec<&str> {
        headers
            .get_all(name)
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect()
    };
    assert_eq!(all("content-type"), ["application/json"]);
    assert_eq!(all("x-ratelimit-reset"), ["18446744073709551615"]);
    assert_eq!(
        all("retry-after"),
        ["Fri, 31 Dec 300000000000 23:59:59 GMT", "-1"]
    );
    // The rate-limit knob's other headers are still there.
    assert_eq!(all("x-ratelimit-limit"), ["5"]);
    assert_eq!(all("x-ratelimit-remaining"), ["4"]);
    // Journaled as sent; other paths are not canned.
    assert_eq!(sim.get("/api/v1/agents/a1").0, 200);
    assert_eq!(statuses(&sim), [200, 200]);
    assert_eq!(
        sim.handle.journal()[0].query.as_deref(),
        Some("page=1&per_page=100")
    );
}

#[test]
fn a_canned_redirect_is_not_followed_by_the_sim() {
    let sim = Sim::with_config(SimConfig {
        canned: vec![Canned::new("GET", "/api/v1/phone-numbers", 302, "")
            .header("Location", "http://talkover.invalid/api/v1/phone-numbers")],
        ..config(SMALL_SEED)
    });
    let client = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(sim.url("/api/v1/phone-numbers"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(
        response.headers()["location"],
        "http://talkover.invalid/api/v1/phone-numbers"
    );
    assert_eq!(response.bytes().unwrap().as_ref(), b"");
    assert_eq!(statuses(&sim), [302]);
}

#[test]
fn a_canned_answer_used_up_gives_way_to_normal_routing() {
    let sim = Sim::with_config(SimConfig {
        canned: vec![Canned::new(
            "GET",
            "/api/v1/agents/a1",
            500,
            r#"{"success": false, "message": "boom"}"#,
        )
        .times(1)],
        ..config(SMALL_SEED)
    });
    assert_eq!(
        sim.get("/api/v1/agents/a1"),
        (500, json!({"success": false, "message": "boom"}))
    );
    let (status, body) = sim.get("/api/v1/agents/a1");
    assert_eq!((status, &body["data"]["id"]), (200, &json!("a1")));
    let (status, _) = sim.get("/api/v1/agents/a1");
    assert_eq!(status, 200);
    assert_eq!(statuses(&sim), [500, 200, 200]);
}

#[test]
fn a_canned_put_routed_first_changes_the_state_but_answers_the_canned_body() {
    let canned_body = r#"{"success": true, "data": {}}"#;
    let sim = Sim::with_config(SimConfig {
        canned: vec![
            Canned::new("PUT", "/api/v1/agents/a1/calling", 200, canned_body).route_first(),
            // Never reached: the first entry matches every such PUT.
            Canned::new("PUT", "/api/v1/agents/a1/calling", 500, "{}"),
        ],
        ..config(SMALL_SEED)
    });
    let put = json!({"direction": "outbound", "phone_number_ids": ["p2"]});
    let response = sim
        .client
        .put(sim.url("/api/v1/agents/a1/calling"))
        .bearer_auth(TOKEN)
        .json(&put)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().unwrap(), canned_body);
    let a1 = &sim.handle.agents()[0];
    assert_eq!(
        (a1.direction.as_str(), a1.phone_number_ids.as_slice()),
        ("outbound", ["p2".to_owned()].as_slice())
    );
    let (_, body) = sim.get("/api/v1/agents/a1");
    assert_eq!(body["data"]["updated_at"], json!("2026-01-01T00:00:01Z"));
    assert_eq!(sim.handle.writes()[0].body, Some(put));
    assert_eq!(statuses(&sim), [200, 200]);

    // Without route_first the PUT is not applied.
    let sim = Sim::with_config(SimConfig {
        canned: vec![Canned::new(
            "PUT",
            "/api/v1/agents/a1/calling",
            200,
            canned_body,
        )],
        ..config(SMALL_SEED)
    });
    let before = sim.handle.agents();
    let (status, body) = sim.put(
        "/api/v1/agents/a1/calling",
        &json!({"direction": "outbound"}),
    );
    assert_eq!((status, body), (200, json!({"success": true, "data": {}})));
    assert_eq!(sim.handle.agents(), before);
}

#[test]
fn a_canned_answer_can_pick_one_page_by_its_query() {
    let seed = Seed::from_json(&seed_with_agents(3)).unwrap();
    // Page 2 repeats page 1, as a broken server's might.
    let repeated = json!({
        "success": true,
        "data": [{"id": "agent-01", "name": "Agent 1", "direction": "inbound"}],
        "meta": {"current_page": 2, "per_page": 1, "last_page": 99999}
    });
    let sim = Sim::with_config(SimConfig {
        page_size_cap: 1,
        canned: vec![
            Canned::new("GET", "/api/v1/agents", 200, repeated.to_string()).query("page=2&"),
        ],
        ..SimConfig::new(TOKEN, seed)
    });
    let page = |n: u64| sim.get(&format!("/api/v1/agents?page={n}&per_page=100"));
    let (status, first) = page(1);
    assert_eq!(
        (status, agent_ids(&first)),
        (200, vec!["agent-01".to_owned()])
    );
    assert_eq!(page(2), (200, repeated.clone()));
    assert_eq!(page(2), (200, repeated), "no times: every such request");
    let (_, third) = page(3);
    assert_eq!(agent_ids(&third), ["agent-03"]);
    assert_eq!(third["meta"]["last_page"], json!(3));
    // Query text is matched as sent: "page=2&" is not in "page=20&...".
    let (_, twentieth) = page(20);
    assert_eq!(twentieth["data"], json!([]));
}

#[test]
fn a_canned_answer_is_never_given_without_the_token() {
    let sim = Sim::with_config(SimConfig {
        canned: vec![Canned::new(
            "GET",
            "/api/v1/agents",
            200,
            r#"{"success": true, "data": []}"#,
        )
        .times(1)],
        ..config(SMALL_SEED)
    });
    let (status, body) = send(
        sim.client
            .get(sim.url("/api/v1/agents"))
            .bearer_auth("talq_wrong"),
    );
    assert_eq!(
        (status, body),
        (
            401,
            json!({"success": false, "message": "Unauthenticated."})
        )
    );
    // The refused request did not use the one answer up.
    let (status, body) = sim.get("/api/v1/agents");
    assert_eq!((status, body), (200, json!({"success": true, "data": []})));
    let (_, body) = sim.get("/api/v1/agents");
    assert_eq!(agent_ids(&body), ["a1", "a2", "a3"]);
    assert_eq!(statuses(&sim), [401, 200, 200]);
}

#[test]
fn an_invalid_canned_header_is_refused_at_spawn() {
    let err = spawn(
        SimConfig {
            canned: vec![Canned::new("GET", "/api/v1/agents", 200, "{}").header("X-Bad", "a\nb")],
            ..config(SMALL_SEED)
        },
        0,
    )
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(
        err.to_string(),
        r#"canned answer 0 (GET /api/v1/agents): invalid value "a\nb" of header "X-Bad""#
    );
}

#[test]
fn set_calling_changes_what_the_agent_list_shows_without_a_journal_entry() {
    let sim = Sim::start(SMALL_SEED);
    let (_, before) = sim.get("/api/v1/agents");
    assert_eq!(
        before["data"][2]["updated_at"],
        json!("2026-01-01T00:00:00Z")
    );
    assert!(sim.handle.set_calling("a3", "outbound", &["p3", "p1"]));
    assert!(!sim.handle.set_calling("missing", "inbound", &[]));
    let (_, after) = sim.get("/api/v1/agents");
    let a3 = &after["data"][2];
    assert_eq!(a3["id"], json!("a3"));
    assert_eq!(a3["direction"], json!("outbound"));
    assert_eq!(number_ids(a3), ["p3", "p1"]);
    assert_eq!(a3["updated_at"], json!("2026-01-01T00:00:01Z"));
    assert_eq!(after["data"][0], before["data"][0], "others untouched");
    assert_eq!(
        statuses(&sim),
        [200, 200],
        "only the two GETs are journaled"
    );
    assert!(sim.handle.writes().is_empty());
}
