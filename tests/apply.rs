//! `talkops apply`: exactly the agents that differ are written, each with its complete
//! desired settings, and the environment converges.

use serde_json::json;

use crate::harness::{Test, MATCHING};

/// Night gains +14155550301 and Support gains +14155550300; Sales is already as declared.
/// No guard trips and the two PUTs are independent (so they may arrive in either order).
const CHANGES: &str = r#"agents:
  - name: Support
    direction: inbound
    phone_numbers: ["+14155550100", "+14155550101", "+14155550300"]
  - name: Night
    direction: inbound
    phone_numbers: ["+14155550400", "+14155550301"]
  - name: Sales
    direction: outbound
    phone_numbers: ["+14155550200"]
"#;

#[test]
fn apply_puts_exactly_the_agents_that_differ_then_a_second_plan_is_empty() {
    let out = Test::new()
        .file("agents.yaml", CHANGES)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .run();
    assert_eq!(
        out.put_set(),
        ["/api/v1/agents/a-1/calling", "/api/v1/agents/a-4/calling"]
    );
    assert_eq!(
        out.put_to("a-1").body,
        Some(json!({"direction": "inbound", "phone_number_ids": ["n-100", "n-101", "n-300"]}))
    );
    assert_eq!(
        out.agent("a-1").phone_number_ids,
        ["n-100", "n-101", "n-300"]
    );
    assert!(
        out.stdout.contains(
            "Apply complete: 2 changed, 0 failed, 0 skipped, 1 unchanged, 4 not managed (2 PUTs)."
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn after_apply_a_second_plan_against_the_same_server_is_empty() {
    let scenario = Test::new().file("agents.yaml", CHANGES).start();
    scenario.run_expect(2, &["plan", "--detailed-exitcode", "agents.yaml"]);
    scenario.run(&["apply", "--auto-approve", "agents.yaml"]);
    let again = scenario.run(&["plan", "--detailed-exitcode", "agents.yaml"]);
    again.wrote_nothing();
    assert!(
        again
            .stdout
            .contains("Plan: 0 to change, 3 unchanged, 4 not managed."),
        "{}",
        again.stdout
    );
    // And a second apply has nothing to do.
    scenario
        .run(&["apply", "--auto-approve", "agents.yaml"])
        .wrote_nothing();
}

#[test]
fn an_omitted_phone_numbers_sends_and_keeps_the_current_numbers() {
    // Support's numbers go off the air when it turns outbound: intended here.
    let out = Test::new()
        .file(
            "agents.yaml",
            "agents:\n  - name: Support\n    direction: outbound\n",
        )
        .args(&["apply", "--auto-approve", "--allow-unrouted", "agents.yaml"])
        .run();
    assert_eq!(
        out.puts()[0].body,
        Some(json!({"direction": "outbound", "phone_number_ids": ["n-100", "n-101"]}))
    );
    let support = out.agent("a-1");
    assert_eq!(support.direction, "outbound");
    assert_eq!(support.phone_number_ids, ["n-100", "n-101"]);
}

#[test]
fn an_empty_list_removes_every_number() {
    let out = Test::new()
        .file(
            "agents.yaml",
            "agents:\n  - name: Night\n    direction: inbound\n    phone_numbers: []\n",
        )
        .args(&["apply", "--auto-approve", "--allow-unrouted", "agents.yaml"])
        .run();
    assert_eq!(
        out.puts()[0].body,
        Some(json!({"direction": "inbound", "phone_number_ids": []}))
    );
    assert!(out.agent("a-4").phone_number_ids.is_empty());
}

#[test]
fn undeclared_agents_are_never_touched() {
    let out = Test::new()
        .file("agents.yaml", CHANGES)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .run();
    let before = crate::harness::standard_seed();
    for id in ["a-2", "a-3", "a-5", "a-6", "a-7"] {
        let seed = before.agents.iter().find(|a| a.id == id).expect("seeded");
        let end = out.agent(id);
        assert_eq!(
            (&end.direction, &end.phone_number_ids),
            (&seed.direction, &seed.phone_number_ids),
            "{id}"
        );
        assert!(
            !out.put_paths()
                .iter()
                .any(|p| p.contains(&format!("/{id}/"))),
            "{id} was written"
        );
    }
}

#[test]
fn nothing_to_apply_makes_no_put() {
    let out = Test::new()
        .file("agents.yaml", MATCHING)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .run();
    out.wrote_nothing();
    assert!(out.stdout.contains("Nothing to apply."), "{}", out.stdout);
}

#[test]
fn without_a_terminal_apply_refuses_unless_auto_approved() {
    let out = Test::new()
        .file("agents.yaml", CHANGES)
        .args(&["apply", "agents.yaml"])
        .expect_code(1)
        .run();
    out.wrote_nothing()
        .stderr_has(&["refusing to apply without confirmation", "--auto-approve"]);
}

#[test]
fn apply_report_is_snapshot_tested() {
    let out = Test::new()
        .file("agents.yaml", CHANGES)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .run();
    insta::assert_snapshot!("apply_report", out.stdout);
}

#[test]
fn on_a_terminal_apply_asks_and_yes_applies() {
    let out = Test::new()
        .file("agents.yaml", CHANGES)
        .args(&["apply", "agents.yaml"])
        .terminal("yes\n")
        .no_color()
        .run();
    assert!(
        out.stdout.contains("Only 'yes' will be accepted:"),
        "{}",
        out.stdout
    );
    assert_eq!(out.puts().len(), 2);
    assert!(
        !out.stdout.contains("\x1b[3") && !out.stdout.contains("\x1b[1m"),
        "NO_COLOR is honoured:\n{}",
        out.stdout
    );
}

#[test]
fn on_a_terminal_any_answer_but_yes_cancels_and_writes_nothing() {
    let out = Test::new()
        .file("agents.yaml", CHANGES)
        .args(&["apply", "agents.yaml"])
        .terminal("y\n")
        .expect_code(1)
        .run();
    out.wrote_nothing();
    assert!(
        out.stdout.contains("apply cancelled; nothing was changed"),
        "{}",
        out.stdout
    );
}

#[test]
fn on_a_terminal_the_plan_is_coloured() {
    let out = Test::new()
        .file("agents.yaml", CHANGES)
        .args(&["plan", "agents.yaml"])
        .terminal("")
        .run();
    assert!(
        out.stdout.contains("\x1b[32m    + number: +14155550300"),
        "{:?}",
        out.stdout
    );
}

#[test]
fn a_refused_agent_is_reported_with_the_servers_reason_and_the_others_still_land() {
    let out = Test::new()
        .refuse("a-4", "Agent is locked by a running campaign")
        .file("agents.yaml", CHANGES)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    assert_eq!(
        out.put_set(),
        ["/api/v1/agents/a-1/calling", "/api/v1/agents/a-4/calling"]
    );
    assert_eq!(
        out.agent("a-1").phone_number_ids,
        ["n-100", "n-101", "n-300"]
    );
    assert_eq!(out.agent("a-4").phone_number_ids, ["n-400"]);
    insta::assert_snapshot!(
        "apply_with_a_refused_agent",
        out.stdout.split("Plan:").nth(1).unwrap_or_default()
    );
}

#[test]
fn a_response_that_does_not_show_the_desired_settings_is_a_failure() {
    // A server whose PUT merges numbers instead of replacing them: Support keeps n-101, which
    // it was to hand over to Night, so Night's claim is not attempted.
    let out = Test::new()
        .merge_numbers_on_put()
        .file(
            "agents.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\", \"+14155550300\"]\n  - name: Night\n    direction: inbound\n    phone_numbers: [\"+14155550400\", \"+14155550101\"]\n",
        )
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    assert!(
        out.stdout.contains(
            "failed  agent \"Support\" (id a-1): the server accepted the change but reports phone number ids are [n-100, n-101, n-300], not [n-100, n-300]"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("skipped agent \"Night\" (id a-4): not attempted: it needs +14155550101 released by agent \"Support\" (id a-1)"),
        "{}",
        out.stdout
    );
    assert_eq!(out.put_paths(), ["/api/v1/agents/a-1/calling"]);
}
