//! `talkops plan`: what it shows, what it reads, and that it never writes.

use crate::harness::{standard_seed, Test, MATCHING};
use talkover_sim::{Canned, SeedAgent};

/// A config with one change of every kind against the standard seed.
const CHANGES: &str = r#"agents:
  # gains n-300, loses n-101
  - name: Support
    direction: inbound
    phone_numbers: ["+14155550100", "+14155550300"]
  # turns inbound, keeps its number (the callback agent turns outbound below)
  - name: Sales
    direction: inbound
    phone_numbers: ["+14155550200"]
  - name: Callback
    direction: outbound
    phone_numbers: ["+14155550200"]
  # numbers not managed: direction only
  - name: Night
    direction: outbound
  # explicitly no numbers, already none: unchanged
  - id: a-6
    direction: outbound
    phone_numbers: []
"#;

#[test]
fn plan_shows_every_change_and_writes_nothing() {
    let out = Test::new()
        .file("agents/all.yaml", CHANGES)
        .args(&["plan", "agents"])
        .run();
    out.wrote_nothing();
    insta::assert_snapshot!("plan_with_changes", out.stdout);
}

#[test]
fn detailed_exitcode_is_2_with_changes_and_0_without() {
    Test::new()
        .file("agents.yaml", CHANGES)
        .args(&["plan", "--detailed-exitcode", "agents.yaml"])
        .expect_code(2)
        .run()
        .wrote_nothing();
    let out = Test::new()
        .file("agents.yaml", MATCHING)
        .args(&["plan", "--detailed-exitcode", "agents.yaml"])
        .run();
    out.wrote_nothing();
    insta::assert_snapshot!("plan_without_changes", out.stdout);
}

#[test]
fn plan_reads_each_page_once_and_the_numbers_once_never_one_get_per_agent() {
    let out = Test::new()
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .run();
    let mut requests: Vec<String> = out
        .journal
        .iter()
        .map(|e| {
            format!(
                "{} {}?{}",
                e.method,
                e.path,
                e.query.clone().unwrap_or_default()
            )
        })
        .collect();
    requests.sort();
    assert_eq!(
        requests,
        [
            "GET /api/v1/agents?page=1&per_page=1000",
            "GET /api/v1/phone-numbers?"
        ]
    );
}

#[test]
fn pagination_is_followed_when_the_server_caps_pages_below_100() {
    // 7 agents at 2 per page: 4 pages. The config names an agent on the last page.
    let out = Test::new()
        .page_size_cap(2)
        .file(
            "agents.yaml",
            "agents:\n  - id: a-7\n    direction: inbound\n",
        )
        .args(&["plan", "agents.yaml"])
        .run();
    out.wrote_nothing();
    let pages = agent_pages(&out);
    assert_eq!(
        pages,
        [
            "page=1&per_page=1000",
            "page=2&per_page=1000",
            "page=3&per_page=1000",
            "page=4&per_page=1000"
        ]
    );
    assert!(
        out.stdout.contains("~ agent \"Twin\" (id a-7)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Plan: 1 to change, 0 unchanged, 6 not managed."),
        "{}",
        out.stdout
    );
}

#[test]
fn a_reordered_list_or_ids_instead_of_numbers_is_not_a_change() {
    let out = Test::new()
        .file(
            "agents.yaml",
            r#"agents:
  - name: Support
    direction: inbound
    phone_numbers: ["n-101", "+14155550100"]
  - name: Sales
    direction: outbound
    phone_numbers: [n-200]
"#,
        )
        .args(&["plan", "--detailed-exitcode", "agents.yaml"])
        .run();
    out.wrote_nothing();
    assert!(
        out.stdout
            .contains("Plan: 0 to change, 2 unchanged, 5 not managed."),
        "{}",
        out.stdout
    );
}

#[test]
fn a_directory_is_read_recursively_in_sorted_order_ignoring_other_files() {
    let out = Test::new()
        .file(
            "cfg/b/night.yml",
            "agents:\n  - name: Night\n    direction: outbound\n",
        )
        .file(
            "cfg/a.yaml",
            "agents:\n  - name: Support\n    direction: outbound\n",
        )
        .file("cfg/README.md", "not a config")
        .file("cfg/.hidden/x.yaml", "not: a config")
        .args(&["plan", "cfg"])
        .run();
    let support = out
        .stdout
        .find("cfg/a.yaml:2")
        .expect("Support is declared in cfg/a.yaml");
    let night = out
        .stdout
        .find("cfg/b/night.yml:2")
        .expect("Night is declared in cfg/b/night.yml");
    // Changes are listed by agent name, whatever the file order.
    assert!(night < support, "{}", out.stdout);
}

#[test]
fn no_color_codes_when_stdout_is_not_a_terminal() {
    let out = Test::new()
        .file("agents.yaml", CHANGES)
        .args(&["plan", "agents.yaml"])
        .run();
    assert!(!out.stdout.contains('\x1b'), "{}", out.stdout);
}

/// The API documents no maximum page size: talkops asks for 1,000 and, when the server
/// refuses that (422), for the documented 100, for the rest of the run; the plan is the same.
#[test]
fn a_refused_page_size_falls_back_to_100_for_the_rest_of_the_run() {
    let refusal = r#"{"success": false, "message": "The per page may not be greater than 100."}"#;
    let out = Test::new()
        .page_size_cap(2)
        .sim(move |c| {
            c.canned =
                vec![Canned::new("GET", "/api/v1/agents", 422, refusal)
                    .query("page=1&per_page=1000")]
        })
        .file("agents.yaml", MATCHING)
        .args(&["plan", "-v", "--detailed-exitcode", "agents.yaml"])
        .run();
    let pages = agent_pages(&out);
    // The refused page 1, then the four pages of 2 (the cap) at per_page=100, each once.
    assert_eq!(
        pages,
        [
            "page=1&per_page=100",
            "page=1&per_page=1000",
            "page=2&per_page=100",
            "page=3&per_page=100",
            "page=4&per_page=100"
        ]
    );
    out.stderr_has(&["the API refused per_page=1000 (422); asking for 100 from now on"]);
}

/// Every declared agent must exist, so the pages they fill are asked for together with the
/// first, not after it: with 2,000 agents declared and 1,000 asked per page, pages 1 and 2
/// and the number list are in flight at once. The simulator holds every request until three
/// have arrived: a client that waited for page 1 first would never get an answer.
#[test]
fn the_pages_the_config_fills_are_asked_for_with_the_first() {
    let mut seed = standard_seed();
    let mut config = String::from(MATCHING);
    for i in 0..1_996 {
        seed.agents.push(SeedAgent {
            id: format!("x-{i:04}"),
            name: format!("Extra {i:04}"),
            label: None,
            direction: "outbound".into(),
            current_status: "published".into(),
            phone_number_ids: Vec::new(),
            callback: false,
        });
        config.push_str(&format!(
            "  - id: x-{i:04}\n    direction: outbound\n    phone_numbers: []\n"
        ));
    }
    let out = Test::new()
        .seed(seed)
        .page_size_cap(1_000)
        .sim(|c| c.barrier = Some(3))
        .file("agents.yaml", &config)
        .args(&[
            "plan",
            "--detailed-exitcode",
            "--request-timeout",
            "60",
            "agents.yaml",
        ])
        .run();
    let pages = agent_pages(&out);
    assert_eq!(
        config.matches("direction:").count(),
        2_000,
        "the config declares 2,000 agents"
    );
    // 2,003 agents at 1,000 a page: three pages, each asked for once, none past the last.
    assert_eq!(
        pages,
        [
            "page=1&per_page=1000",
            "page=2&per_page=1000",
            "page=3&per_page=1000"
        ]
    );
}

/// A config that declares agents that do not exist makes talkops ask for a page that is not
/// there (the only case it does): that page's answer is dropped, and the plan fails naming
/// the agents, not the paging.
#[test]
fn a_page_asked_for_on_a_config_that_overstates_the_agents_is_dropped() {
    let mut config = String::from(MATCHING);
    for i in 0..997 {
        config.push_str(&format!(
            "  - id: ghost-{i:04}\n    direction: outbound\n    phone_numbers: []\n"
        ));
    }
    let out = Test::new()
        .file("agents.yaml", &config)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.wrote_nothing();
    out.stderr_has(&[
        "agent id ghost-0000: no agent with this id",
        "[unknown-agent]",
    ]);
    assert!(!out.stderr.contains("page 2"), "{}", out.stderr);
    let pages = agent_pages(&out);
    // 1,001 declared at 1,000 a page: page 2 was asked for with page 1, once.
    assert_eq!(pages, ["page=1&per_page=1000", "page=2&per_page=1000"]);
}

/// The queries of the agent-list requests a run made, sorted.
fn agent_pages(out: &crate::harness::Output) -> Vec<String> {
    let mut pages: Vec<String> = out
        .journal
        .iter()
        .filter(|e| e.path == "/api/v1/agents")
        .filter_map(|e| e.query.clone())
        .collect();
    pages.sort();
    pages
}
