//! The simulator over real loopback HTTP: each test spawns its own simulator on a free
//! port and talks to it with a blocking client. No sleeps: `spawn` returns once bound.

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{json, Value};
use talkover_sim::{spawn, AgentState, JournalEntry, Seed, SimConfig, SimHandle};

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
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("response is not JSON ({err}): {text}"));
    (status, body)
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
            },
            AgentState {
                id: "a2".into(),
                name: "Callback".into(),
                direction: "outbound".into(),
                current_status: "published".into(),
                phone_number_ids: vec!["p1".into(), "p2".into()],
            },
            AgentState {
                id: "a3".into(),
                name: "Support".into(),
                direction: "outbound".into(),
                current_status: "draft".into(),
                phone_number_ids: vec![],
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
