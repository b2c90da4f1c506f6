//! `talkops plan`: what it shows, what it reads, and that it never writes.

use crate::harness::{Test, MATCHING};

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
            "GET /api/v1/agents?page=1&per_page=100",
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
    let mut pages: Vec<String> = out
        .journal
        .iter()
        .filter(|e| e.path == "/api/v1/agents")
        .filter_map(|e| e.query.clone())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "page=1&per_page=100",
            "page=2&per_page=100",
            "page=3&per_page=100",
            "page=4&per_page=100"
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
