//! The operator's side of apply (issue 8): a change made while the prompt is open (case 7),
//! SIGTERM and SIGHUP mid-apply (case 8), a closed stdout (case 9), an agent of unknown
//! direction on a claimed number (case 6), and a saved plan bound to the merged config.

use talkover_sim::SeedAgent;

use crate::harness::{standard_seed, Scenario, Test};

/// Three independent changes; Support and Night going outbound take their numbers off the
/// air, hence `--allow-unrouted`.
const THREE: &str = "agents:\n  - name: Support\n    direction: outbound\n  - name: Night\n    direction: outbound\n  - id: a-6\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n";

/// Every request answered after 1.5 s: with `--parallelism 2`, the first two PUTs are in
/// flight together for that long, and the third waits for one of them.
fn slow_three() -> Scenario {
    Test::new()
        .sim(|c| c.latency = std::time::Duration::from_millis(1500))
        .file("agents.yaml", THREE)
        .start()
}

const APPLY_THREE: &[&str] = &[
    "apply",
    "--auto-approve",
    "--allow-unrouted",
    "--parallelism",
    "2",
    "agents.yaml",
];

/// The blank line after the plan is written once the signal handlers are in place, and
/// before the first PUTs start: from then on, apply handles a signal.
const APPLYING: &str = "not managed.\n\n";

/// Case 8: SIGTERM or SIGHUP while two PUTs are in flight lets them finish, starts no other,
/// prints the report and exits 1 (before: killed with 143/129, no report).
fn a_signal_stops_new_puts_and_reports(signal: &str) {
    let scenario = slow_three();
    let mut running = scenario.spawn_watched(APPLY_THREE);
    running.wait_for(APPLYING);
    running.signal(signal);
    let out = scenario.finish_watched(1, running);
    assert_eq!(
        out.puts().len(),
        2,
        "no new PUT after SIGTERM: {:#?}",
        out.puts()
    );
    assert!(
        out.stdout.contains("Interrupted: no new PUT was started after the interrupt (those already under way, retries included, were finished)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Apply interrupted: 2 changed, 0 failed, 1 skipped"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("not attempted: apply was interrupted"),
        "{}",
        out.stdout
    );
}

#[test]
fn sigterm_stops_new_puts_lets_those_in_flight_finish_and_reports() {
    a_signal_stops_new_puts_and_reports("TERM");
}

#[test]
fn sighup_stops_new_puts_lets_those_in_flight_finish_and_reports() {
    a_signal_stops_new_puts_and_reports("HUP");
}

/// Case 8: a second signal abandons the PUTs in flight, and the closing line says so
/// instead of claiming they were finished.
#[test]
fn a_second_signal_abandons_the_puts_in_flight_and_the_report_says_so() {
    let scenario = slow_three();
    let mut running = scenario.spawn_watched(APPLY_THREE);
    running.wait_for(APPLYING);
    running.signal("INT");
    running.signal("TERM");
    let out = scenario.finish_watched(1, running);
    assert!(
        !out.stdout.contains("were finished"),
        "the closing line must not claim the abandoned PUTs were finished:\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Interrupted twice: no new PUT was started after the first interrupt, and the second abandoned the 2 PUTs still under way, which may or may not have been applied"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Apply interrupted: 0 changed, 2 failed, 1 skipped"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout
            .matches("interrupted while its PUT was in flight")
            .count(),
        2,
        "{}",
        out.stdout
    );
}

/// Case 7: a colleague changes an agent the plan changes while the prompt is open; after
/// `yes`, talkops reads the environment again and refuses, writing nothing (before: it
/// turned Night outbound with only +14155550400, dropping the colleague's +14155550300).
#[test]
fn a_change_made_while_the_prompt_is_open_is_not_overwritten() {
    let scenario = Test::new()
        .file("agents.yaml", "agents:\n  - name: Night\n    direction: outbound\n")
        .file(
            "colleague.yaml",
            "agents:\n  - name: Night\n    direction: inbound\n    phone_numbers: [\"+14155550400\", \"+14155550300\"]\n",
        )
        .no_color()
        .start();
    let mut running = scenario.spawn_terminal(&["apply", "--allow-unrouted", "agents.yaml"]);
    running.wait_for("Only 'yes' will be accepted");
    scenario.run(&["apply", "--auto-approve", "colleague.yaml"]);
    running.type_text("yes\n");
    let out = scenario.finish_watched(1, running);
    assert_eq!(
        out.put_paths(),
        ["/api/v1/agents/a-4/calling"],
        "only the colleague's PUT: {:#?}",
        out.puts()
    );
    assert_eq!(out.agent("a-4").direction, "inbound");
    assert_eq!(out.agent("a-4").phone_number_ids, ["n-300", "n-400"]);
    for fragment in [
        "refusing to apply: the environment changed while the confirmation prompt was open",
        "agent \"Night\" (id a-4): gained +14155550300",
        "Nothing was changed",
    ] {
        assert!(
            out.stdout.contains(fragment),
            "lacks {fragment:?}:\n{}",
            out.stdout
        );
    }
}

/// Case 7, the other side: with no change meanwhile, `yes` applies, after reading the
/// environment once more.
#[test]
fn without_a_change_meanwhile_yes_reads_again_and_applies() {
    let scenario = Test::new()
        .file(
            "agents.yaml",
            "agents:\n  - name: Night\n    direction: outbound\n",
        )
        .start();
    let mut running = scenario.spawn_terminal(&["apply", "--allow-unrouted", "agents.yaml"]);
    running.wait_for("Only 'yes' will be accepted");
    running.type_text("yes\n");
    let out = scenario.finish_watched(0, running);
    let put = out
        .journal
        .iter()
        .position(|e| e.method == "PUT")
        .expect("a PUT");
    let reads = out.journal[..put]
        .iter()
        .filter(|e| e.method == "GET" && e.path == "/api/v1/agents")
        .count();
    assert_eq!(
        reads, 2,
        "the agents are read before the prompt and again after yes: {:#?}",
        out.journal
    );
    assert_eq!(out.put_paths(), ["/api/v1/agents/a-4/calling"]);
    assert_eq!(out.agent("a-4").direction, "outbound");
}

/// Case 9: stdout closed before talkops writes: the PUTs land, the report reaches stderr,
/// exit 1 (before: a panic, exit 101, after the PUTs).
#[test]
fn a_closed_stdout_sends_the_report_to_stderr_and_exits_1() {
    let scenario = Test::new()
        .file(
            "agents.yaml",
            "agents:\n  - id: a-6\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n",
        )
        .start();
    let out = scenario.run_with_closed_stdout(1, &["apply", "--auto-approve", "agents.yaml"]);
    assert_eq!(out.put_paths(), ["/api/v1/agents/a-6/calling"]);
    assert_eq!(out.agent("a-6").phone_number_ids, ["n-300"]);
    out.stderr_has(&[
        "cannot write to stdout",
        "talkops will change 1 agent",
        "changed agent \"Twin\" (id a-6)",
        "Apply complete: 1 changed, 0 failed, 0 skipped",
    ]);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

/// Case 9: no command panics on a closed stdout.
#[test]
fn no_command_panics_on_a_closed_stdout() {
    let scenario = Test::new()
        .file("agents.yaml", crate::harness::MATCHING)
        .start();
    for args in [
        &["plan", "agents.yaml"][..],
        &["plan", "--format", "json", "agents.yaml"],
        &["apply", "--auto-approve", "agents.yaml"],
        &["validate", "agents.yaml"],
        &["export"],
        &["schema"],
    ] {
        let out = scenario.run_with_closed_stdout(1, args);
        assert!(
            !out.stderr.contains("panicked"),
            "{args:?}:\n{}",
            out.stderr
        );
        out.stderr_has(&["error: cannot write to stdout"]);
    }
}

/// Case 6: an agent outside a saved plan whose direction talkops does not know now holds
/// a number the plan claims inbound: it may answer it, so apply refuses (before: applied,
/// leaving the number with two possible answerers).
#[test]
fn an_agent_of_unknown_direction_on_a_claimed_number_refuses_a_saved_plan() {
    let dual = |numbers: &[&str]| SeedAgent {
        id: "a-8".into(),
        name: "Dual".into(),
        label: None,
        direction: "both".into(),
        current_status: "published".into(),
        phone_number_ids: numbers.iter().map(|n| (*n).to_owned()).collect(),
        callback: false,
    };
    let config =
        "agents:\n  - id: a-6\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n";
    let mut seed = standard_seed();
    seed.agents.push(dual(&[]));
    let then = Test::new().seed(seed).file("agents.yaml", config).start();
    then.run(&["plan", "--out", "plan.json", "agents.yaml"]);
    // Since then, Dual has come to hold +14155550300. The simulator's PUT cannot set an
    // unknown direction, so "now" is a second simulator in that state, and the saved plan
    // is pointed at it (the URL is the only thing that differs).
    let mut seed = standard_seed();
    seed.agents.push(dual(&["n-300"]));
    let now = Test::new().seed(seed).start();
    let saved = std::fs::read_to_string(then.dir().join("plan.json")).expect("saved plan");
    let moved = saved.replace(&then.url(), &now.url());
    assert_ne!(saved, moved);
    std::fs::write(now.dir().join("plan.json"), moved).expect("write the plan");
    let out = now.run_expect(1, &["apply", "--plan", "plan.json"]);
    out.wrote_nothing().stderr_has(&[
        "the environment changed since the plan was made",
        "agent \"Twin\" (id a-6): would answer +14155550300, which agent \"Dual\" (id a-8), whose direction is unknown, may answer",
    ]);
}

const CONFIG_A: &str =
    "agents:\n  - id: a-6\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n";
const CONFIG_B: &str =
    "agents:\n  - id: a-6\n    direction: inbound\n    phone_numbers: [\"+14155550301\"]\n";

/// Should: a plan saved from config A is refused with config B, naming the difference,
/// and writes nothing; with config A it applies.
#[test]
fn a_saved_plan_applies_only_with_the_config_it_was_made_from() {
    let scenario = Test::new()
        .file("a/agents.yaml", CONFIG_A)
        .file("b/agents.yaml", CONFIG_B)
        .start();
    scenario.run(&["plan", "--out", "plan.json", "a/"]);
    let refused = scenario.run_expect(1, &["apply", "--plan", "plan.json", "b/"]);
    refused.wrote_nothing().stderr_has(&[
        "refusing to apply plan.json: it is not the plan of the config given",
        "agent \"Twin\" (id a-6): the saved plan makes it inbound with +14155550300; the config makes it inbound with +14155550301",
        "Nothing was changed",
    ]);
    let applied = scenario.run(&["apply", "--plan", "plan.json", "a/"]);
    assert_eq!(applied.put_paths(), ["/api/v1/agents/a-6/calling"]);
    assert_eq!(applied.agent("a-6").phone_number_ids, ["n-300"]);
}

/// Should: the `--target` list is recorded in the saved plan, and the config is planned
/// for those agents only; an agent the config changes beyond them is a difference
/// otherwise.
#[test]
fn a_saved_plan_is_checked_for_the_targets_it_was_made_with() {
    let config = "agents:\n  - id: a-6\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\", \"+14155550301\"]\n";
    let scenario = Test::new().file("agents.yaml", config).start();
    scenario.run(&[
        "plan",
        "--target",
        "a-6",
        "--out",
        "targeted.json",
        "agents.yaml",
    ]);
    let text = std::fs::read_to_string(scenario.dir().join("targeted.json")).expect("saved");
    assert!(text.contains("\"targets\": [\n    \"a-6\"\n  ]"), "{text}");

    // Checked against the whole config, the targeted plan is its plan for a-6 alone: the
    // change to Sales, not targeted, is not counted as a difference.
    let out = scenario.run(&["apply", "--plan", "targeted.json", "agents.yaml"]);
    assert_eq!(out.put_paths(), ["/api/v1/agents/a-6/calling"]);
}

/// Should: with config paths, the change-size guard judges by the counts the config gives
/// today, not by those written in the file (an edited `summary` cannot hide a large change).
#[test]
fn a_saved_plans_counts_come_from_the_config_when_one_is_given() {
    let config = "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\", \"+14155550101\", \"+14155550300\"]\n  - name: Night\n    direction: inbound\n    phone_numbers: [\"+14155550400\", \"+14155550301\"]\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\"]\n";
    let scenario = Test::new().file("agents.yaml", config).start();
    let guard = [
        "--change-guard-min-agents",
        "3",
        "--max-change-percent",
        "50",
    ];
    let mut plan_args = vec!["plan", "--out", "plan.json"];
    plan_args.extend(guard);
    plan_args.push("agents.yaml");
    scenario.run(&plan_args);
    // 2 of 3 change (67%); the edited file claims 1,000 unchanged agents (0.2%).
    let path = scenario.dir().join("plan.json");
    let text = std::fs::read_to_string(&path).expect("saved");
    let edited = text.replace("\"unchanged\": 1,", "\"unchanged\": 1000,");
    assert_ne!(text, edited, "the summary was edited");
    std::fs::write(&path, edited).expect("write");
    let mut apply_args = vec!["apply", "--plan", "plan.json"];
    apply_args.extend(guard);
    apply_args.push("agents.yaml");
    let out = scenario.run_expect(1, &apply_args);
    out.wrote_nothing()
        .stderr_has(&["refusing to apply", "--force"]);
    assert!(
        out.stdout
            .contains("2 of 3 managed agents change (66%), more than 50%")
            || out
                .stderr
                .contains("2 of 3 managed agents change (66%), more than 50%"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
}
