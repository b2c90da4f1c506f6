//! `talkops routes`: the routing table live and as a config would leave it, checked against
//! the simulator's own state.

use serde_json::Value;

use crate::harness::{Test, MATCHING};

/// Moves +14155550101 from Support to Callback (a move between inbound agents).
const MOVE: &str = r#"agents:
  - name: Support
    direction: inbound
    phone_numbers: ["+14155550100"]
  - name: Callback
    direction: inbound
    phone_numbers: ["+14155550200", "+14155550101"]
"#;

/// Each row of a JSON table as `number: inbound ids | outbound ids`.
fn rows(json: &str) -> Vec<String> {
    let document: Value = serde_json::from_str(json).expect("a JSON table");
    let ids = |list: &Value| -> String {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["agent_id"].as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    document["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .map(|row| {
            format!(
                "{}: {} | {}",
                row["phone_id"].as_str().unwrap_or(""),
                ids(&row["inbound"]),
                ids(&row["outbound"])
            )
        })
        .collect()
}

#[test]
fn the_live_table_lists_every_number_at_the_request_floor() {
    let out = Test::new().args(&["routes", "--color", "never"]).run();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{}", out.stdout);
    assert!(
        lines[0].starts_with("+14155550100  answered by: \"Support\"")
            && lines[0].contains("dialed from by: (none)"),
        "{}",
        out.stdout
    );
    // Columns are aligned: compare with the padding folded.
    let folded: Vec<String> = lines
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        folded.contains(
            &"+14155550200 answered by: \"Callback\" dialed from by: \"Sales\"".to_owned()
        ),
        "{}",
        out.stdout
    );
    // The numbers no agent uses come last, flagged.
    assert!(
        lines[5].starts_with("+14155550300") && lines[5].ends_with("[idle]"),
        "{}",
        out.stdout
    );
    assert!(
        lines[6].starts_with("+14155550301") && lines[6].ends_with("[idle]"),
        "{}",
        out.stdout
    );
    // The agent pages and the number list: nothing per number.
    assert_eq!(out.journal.len(), 2, "{:#?}", out.journal);
    out.wrote_nothing();
}

#[test]
fn json_agrees_with_the_simulator_for_every_number() {
    let out = Test::new().args(&["routes", "--format", "json"]).run();
    let mut expected: Vec<String> = Vec::new();
    let seed = crate::harness::standard_seed();
    for number in &seed.phone_numbers {
        let holders = |direction: &str| {
            seed.agents
                .iter()
                .filter(|a| a.direction == direction && a.phone_number_ids.contains(&number.id))
                .map(|a| a.id.clone())
                .collect::<Vec<_>>()
                .join(",")
        };
        expected.push(format!(
            "{}: {} | {}",
            number.id,
            holders("inbound"),
            holders("outbound")
        ));
    }
    let mut got = rows(&out.stdout);
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
}

#[test]
fn one_number_answers_who_picks_up() {
    let out = Test::new()
        .args(&["routes", "--color", "never", "--number", "+14155550200"])
        .run();
    assert_eq!(
        out.stdout.trim_end(),
        "+14155550200  answered by: \"Callback\"  dialed from by: \"Sales\""
    );
    let out = Test::new()
        .args(&["routes", "--number", "+19995550000"])
        .expect_code(1)
        .run();
    out.stderr_has(&["--number +19995550000 is not one of the environment's phone numbers"]);
}

#[test]
fn routes_of_a_config_mark_what_changes_and_match_the_state_after_apply() {
    let scenario = Test::new().file("agents.yaml", MOVE).start();
    let planned = scenario.run(&["routes", "--color", "never", "agents.yaml"]);
    assert!(
        planned
            .stdout
            .lines()
            .any(|l| l.starts_with("+14155550101  answered by: \"Callback\"")
                && l.ends_with("[changes]")),
        "{}",
        planned.stdout
    );
    planned.wrote_nothing();
    let planned = scenario.run(&["routes", "--format", "json", "agents.yaml"]);
    scenario.run(&["apply", "--auto-approve", "agents.yaml"]);
    let live = scenario.run(&["routes", "--format", "json"]);
    assert_eq!(rows(&planned.stdout), rows(&live.stdout));
}

#[test]
fn csv_has_a_header_and_one_row_a_number() {
    let out = Test::new()
        .file("agents.yaml", MATCHING)
        .args(&["routes", "--format", "csv"])
        .run();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "number,phone_id,answered_by,dialed_from_by,notes");
    assert_eq!(lines.len(), 8);
    assert!(
        lines.contains(&"+14155550200,n-200,Callback (a-3),Sales (a-2),"),
        "{}",
        out.stdout
    );
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    let subcommands = [
        "validate",
        "plan",
        "apply",
        "export",
        "routes",
        "schema",
        "demo",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Test::new().args(&["completions", shell]).run();
        for subcommand in subcommands {
            assert!(
                out.stdout.contains(subcommand),
                "{shell} lacks {subcommand}"
            );
        }
    }
    let out = Test::new().args(&["man"]).run();
    assert!(
        out.stdout.starts_with(".ie") || out.stdout.contains(".TH talkops"),
        "{}",
        &out.stdout[..200.min(out.stdout.len())]
    );
    for subcommand in subcommands {
        assert!(
            out.stdout.contains(subcommand),
            "the man page lacks {subcommand}"
        );
    }
}

#[test]
fn a_callback_pair_turning_round_beside_an_unmanaged_caller_in_every_format() {
    // Twin (a-6, outbound, not managed) also dials from +14155550200.
    let mut seed = crate::harness::standard_seed();
    if let Some(twin) = seed.agents.iter_mut().find(|a| a.id == "a-6") {
        twin.phone_number_ids = vec!["n-200".into()];
    }
    let config = "agents:\n  - name: Sales\n    direction: inbound\n    phone_numbers: [\"+14155550200\"]\n  - name: Callback\n    direction: outbound\n    phone_numbers: [\"+14155550200\"]\n";
    let scenario = Test::new().seed(seed).file("agents.yaml", config).start();
    let text = scenario.run(&["plan", "--color", "never", "--force", "agents.yaml"]);
    // Twin's name is shared (a-6 and a-7), so it is shown with its id.
    assert!(
        text.stdout.contains("+14155550200  answered by: \"Callback\" → \"Sales\"   dialed from by: \"Sales\", \"Twin\" (id a-6) → \"Callback\", \"Twin\" (id a-6)"),
        "{}",
        text.stdout
    );
    let markdown = scenario.run(&["plan", "--format", "markdown", "agents.yaml"]);
    assert!(
        markdown.stdout.contains("| +14155550200 | \"Callback\" → **\"Sales\"** | \"Sales\", \"Twin\" (id a-6) → **\"Callback\", \"Twin\" (id a-6)** |"),
        "{}",
        markdown.stdout
    );
    let json = scenario.run(&["plan", "--format", "json", "agents.yaml"]);
    let document: Value = serde_json::from_str(&json.stdout).expect("a JSON plan");
    let changes = document["routing_changes"]
        .as_array()
        .expect("routing_changes");
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let ids = |key: &str| -> Vec<&str> {
        changes[0][key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["agent_id"].as_str())
            .collect()
    };
    assert_eq!(changes[0]["number"], "+14155550200");
    assert_eq!(ids("inbound_before"), ["a-3"]);
    assert_eq!(ids("inbound_after"), ["a-2"]);
    assert_eq!(ids("outbound_before"), ["a-2", "a-6"]);
    assert_eq!(ids("outbound_after"), ["a-3", "a-6"]);
}
