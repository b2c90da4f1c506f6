//! The safety guards: plan warns and succeeds, apply refuses (writing nothing) unless given
//! the flag that accepts the warning.

use crate::harness::Test;

#[track_caller]
fn guarded(config: &str, extra: &[&str], warning: &str, flags: &[&str]) {
    let scenario = Test::new().file("agents.yaml", config).start();
    let mut plan_args = vec!["plan"];
    plan_args.extend_from_slice(extra);
    plan_args.push("agents.yaml");
    let plan = scenario.run(&plan_args);
    plan.wrote_nothing();
    assert!(plan.stdout.contains(warning), "{}", plan.stdout);

    let mut apply_args = vec!["apply", "--auto-approve"];
    apply_args.extend_from_slice(extra);
    apply_args.push("agents.yaml");
    let refused = scenario.run_expect(1, &apply_args);
    refused.wrote_nothing().stderr_has(&[
        "refusing to apply",
        flags.join(" and ").as_str(),
        "Nothing was changed",
    ]);

    apply_args.splice(2..2, flags.iter().copied());
    let applied = scenario.run(&apply_args);
    assert!(!applied.puts().is_empty());
}

#[test]
fn a_large_change_needs_force() {
    guarded(
        "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\", \"+14155550101\", \"+14155550300\"]\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\", \"+14155550301\"]\n  - name: Callback\n    direction: inbound\n    phone_numbers: [\"+14155550200\"]\n",
        &["--change-guard-min-agents", "3"],
        "Warning: 2 of 3 managed agents change (66%), more than 30% (apply needs --force)",
        &["--force"],
    );
}

#[test]
fn a_number_going_off_the_air_needs_allow_unrouted() {
    guarded(
        "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\"]\n",
        &[],
        "Warning: number +14155550101 goes off the air: inbound agent \"Support\" (id a-1) answers it today and no inbound agent will after this plan (apply needs --allow-unrouted)",
        &["--allow-unrouted"],
    );
}

#[test]
fn a_published_inbound_agent_left_without_numbers_needs_allow_unrouted() {
    guarded(
        "agents:\n  - id: a-6\n    direction: inbound\n    phone_numbers: []\n",
        &[],
        "Warning: published inbound agent \"Twin\" (id a-6) is left with no numbers: no call can reach it (apply needs --allow-unrouted)",
        &["--allow-unrouted"],
    );
}

#[test]
fn turning_a_callback_agent_outbound_needs_force() {
    // Callback (a-3) holds the callback role; Support takes over its number so that the
    // number stays answered and only the callback guard trips.
    guarded(
        "agents:\n  - name: Callback\n    direction: outbound\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\", \"+14155550101\", \"+14155550200\"]\n",
        &[],
        "Warning: agent \"Callback\" (id a-3) holds the callback role and turns outbound: callbacks are only routed to inbound agents (apply needs --force)",
        &["--force"],
    );
}

#[test]
fn the_callback_role_is_read_only_when_an_inbound_agent_turns_outbound() {
    let out = Test::new()
        .file(
            "agents.yaml",
            "agents:\n  - name: Sales\n    direction: inbound\n    phone_numbers: []\n",
        )
        .args(&["plan", "agents.yaml"])
        .run();
    assert!(
        !out.journal
            .iter()
            .any(|e| e.path == "/api/v1/callback-agents"),
        "{:#?}",
        out.journal
    );
}

#[test]
fn two_guards_need_both_flags() {
    guarded(
        "agents:\n  - name: Callback\n    direction: outbound\n",
        &[],
        "holds the callback role",
        &["--allow-unrouted", "--force"],
    );
}
