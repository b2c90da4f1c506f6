//! Number moves between inbound agents against a server that enforces a single inbound owner
//! per number: no PUT is ever refused, and a swap costs exactly one extra PUT.

use crate::harness::{standard_seed, Test};

/// Support gives +14155550101 to Callback, which sorts first by name and so would go first.
const MOVE: &str = r#"agents:
  - name: Callback
    direction: inbound
    phone_numbers: ["+14155550200", "+14155550101"]
  - name: Support
    direction: inbound
    phone_numbers: ["+14155550100"]
"#;

/// Support and Night swap +14155550101 and +14155550400.
const SWAP: &str = r#"agents:
  - name: Support
    direction: inbound
    phone_numbers: ["+14155550100", "+14155550400"]
  - name: Night
    direction: inbound
    phone_numbers: ["+14155550101"]
"#;

fn strict() -> Test {
    Test::new().sim(|c| c.enforce_single_inbound_owner = true)
}

#[test]
fn a_move_releases_before_it_claims_with_no_extra_put() {
    let out = strict()
        .file("agents.yaml", MOVE)
        .args(&[
            "apply",
            "--auto-approve",
            "--parallelism",
            "8",
            "agents.yaml",
        ])
        .run();
    assert_eq!(
        out.put_paths(),
        ["/api/v1/agents/a-1/calling", "/api/v1/agents/a-3/calling"]
    );
    assert!(
        out.puts().iter().all(|e| e.status == 200),
        "{:#?}",
        out.puts()
    );
    assert_eq!(out.agent("a-3").phone_number_ids, ["n-101", "n-200"]);
}

#[test]
fn the_plan_shows_the_order_where_it_matters() {
    let out = Test::new()
        .file("agents.yaml", MOVE)
        .args(&["plan", "agents.yaml"])
        .run();
    insta::assert_snapshot!("plan_with_a_move", out.stdout);
}

#[test]
fn a_swap_costs_exactly_one_extra_put_and_no_refusal() {
    let scenario = strict().file("agents.yaml", SWAP).start();
    let plan = scenario.run(&["plan", "agents.yaml"]);
    insta::assert_snapshot!("plan_with_a_swap", plan.stdout);
    let out = scenario.run(&["apply", "--auto-approve", "agents.yaml"]);
    assert_eq!(
        out.puts().len(),
        3,
        "two changes plus one release: {:#?}",
        out.puts()
    );
    assert!(
        out.puts().iter().all(|e| e.status == 200),
        "{:#?}",
        out.puts()
    );
    assert_eq!(out.agent("a-1").phone_number_ids, ["n-100", "n-400"]);
    assert_eq!(out.agent("a-4").phone_number_ids, ["n-101"]);
    scenario.run(&["plan", "--detailed-exitcode", "agents.yaml"]);
}

#[test]
fn without_ordering_the_strict_server_would_refuse_the_claim() {
    // The simulator really enforces the rule: claiming first is refused.
    let out = strict()
        .file("agents.yaml", "agents:\n  - name: Callback\n    direction: inbound\n    phone_numbers: [\"+14155550200\", \"+14155550101\"]\n")
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    // The config is valid only if Support gives the number up, so resolve rejects it first.
    out.wrote_nothing()
        .stderr_has(&["would also be answered by inbound agent \"Support\""]);
}

#[test]
fn an_agent_whose_release_failed_is_skipped_then_a_rerun_converges() {
    let first = strict()
        .refuse("a-1", "Agent is locked by a running campaign")
        .file("agents.yaml", MOVE)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    assert_eq!(
        first.put_paths(),
        ["/api/v1/agents/a-1/calling"],
        "Callback was not attempted"
    );
    assert!(
        first.stdout.contains("failed  agent \"Support\" (id a-1): PUT /api/v1/agents/a-1/calling: 422 Agent is locked by a running campaign"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("skipped agent \"Callback\" (id a-3): not attempted: it needs +14155550101 released by agent \"Support\" (id a-1), whose change did not succeed"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("Apply finished with failures: 0 changed, 1 failed, 1 skipped"),
        "{}",
        first.stdout
    );

    // The cause is fixed (the lock is gone): the same config converges from where it stopped.
    let mut seed = standard_seed();
    for agent in &mut seed.agents {
        let end = first.agent(&agent.id);
        agent.direction = end.direction.clone();
        agent.phone_number_ids = end.phone_number_ids.clone();
    }
    let second = strict()
        .seed(seed)
        .file("agents.yaml", MOVE)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .run();
    assert_eq!(
        second.put_paths(),
        ["/api/v1/agents/a-1/calling", "/api/v1/agents/a-3/calling"]
    );
}

#[test]
fn independent_changes_all_land_when_one_fails() {
    let out = strict()
        .refuse("a-4", "Agent is locked")
        .file(
            "agents.yaml",
            "agents:\n  - name: Support\n    direction: outbound\n  - name: Night\n    direction: outbound\n  - id: a-6\n    direction: inbound\n    phone_numbers: []\n",
        )
        .args(&["apply", "--auto-approve", "--allow-unrouted", "agents.yaml"])
        .expect_code(1)
        .run();
    assert_eq!(out.agent("a-1").direction, "outbound");
    assert_eq!(out.agent("a-6").direction, "inbound");
    assert_eq!(out.agent("a-4").direction, "inbound");
    assert!(
        out.stdout.contains("2 changed, 1 failed, 0 skipped"),
        "{}",
        out.stdout
    );
}

#[test]
fn ctrl_c_stops_new_puts_and_lets_the_one_in_flight_finish() {
    let scenario = Test::new()
        .sim(|c| c.latency = std::time::Duration::from_millis(1500))
        .file(
            "agents.yaml",
            "agents:\n  - name: Support\n    direction: outbound\n  - name: Night\n    direction: outbound\n  - id: a-6\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n",
        )
        .start();
    let running = scenario.spawn(&[
        "apply",
        "--auto-approve",
        "--allow-unrouted",
        "--parallelism",
        "1",
        "agents.yaml",
    ]);
    // Wait (bounded) until the first PUT has completed: the second is then in flight.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !scenario.journal().iter().any(|e| e.method == "PUT") {
        assert!(std::time::Instant::now() < deadline, "no PUT arrived");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &running.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = scenario.finish(1, running);
    // The second PUT is normally in flight when the signal lands and is finished; on a very
    // loaded machine the signal can land just before it starts. Either way the third is never
    // started, and the report matches what reached the server.
    let puts = out.puts().len();
    assert!(
        puts == 1 || puts == 2,
        "no new PUT after the interrupt: {:#?}",
        out.puts()
    );
    assert!(out.stdout.contains("Interrupted"), "{}", out.stdout);
    assert!(
        out.stdout.contains("not attempted: apply was interrupted"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "Apply interrupted: {puts} changed, 0 failed, {} skipped",
            3 - puts
        )),
        "{}",
        out.stdout
    );
}
