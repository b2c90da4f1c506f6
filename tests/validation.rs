//! Offline validation: each rule has a test showing its message, and that plan/apply with an
//! invalid config writes nothing even when other entries are fine.

use crate::harness::Test;

/// Runs `apply --auto-approve` on `files`; asserts exit 1, no write, and every fragment in
/// stderr. A valid entry that needs a change sits beside the invalid ones, so "nothing
/// written" means something.
#[track_caller]
fn rejected(files: &[(&str, &str)], fragments: &[&str]) -> String {
    let mut test = Test::new().file(
        "agents/0-fine.yaml",
        "agents:\n  - name: Night\n    direction: outbound\n",
    );
    for (path, text) in files {
        test = test.file(path, text);
    }
    let out = test
        .args(&["apply", "--auto-approve", "agents"])
        .expect_code(1)
        .run();
    out.wrote_nothing().stderr_has(fragments);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    // The offline rules are checked before anything is read from the API.
    assert!(out.journal.is_empty(), "{:#?}", out.journal);

    // validate, offline, reports the same.
    let mut test = Test::new();
    for (path, text) in files {
        test = test.file(path, text);
    }
    let out = test
        .token(None)
        .args(&["validate", "agents"])
        .expect_code(1)
        .run();
    out.stderr_has(fragments);
    out.stderr
}

#[test]
fn yaml_syntax_error_names_the_file_and_line() {
    rejected(
        &[(
            "agents/bad.yaml",
            "agents:\n  - name: A\n    direction: inbound\n  - name: B\n    direction: inbound\n   bad: indent\n",
        )],
        &["agents/bad.yaml:6: invalid YAML"],
    );
}

#[test]
fn unknown_key_is_an_error_with_a_suggestion() {
    rejected(
        &[(
            "agents/typo.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n    phone_number: [\"+14155550100\"]\n",
        )],
        &["agents/typo.yaml:2: agent \"Support\": unknown key `phone_number`", "did you mean `phone_numbers`?"],
    );
}

#[test]
fn missing_direction() {
    rejected(
        &[("agents/x.yaml", "agents:\n  - name: Support\n")],
        &["agents/x.yaml:2: agent \"Support\": missing `direction:` (inbound or outbound)"],
    );
}

#[test]
fn bad_direction_value() {
    rejected(
        &[("agents/x.yaml", "agents:\n  - name: Support\n    direction: both\n")],
        &["agents/x.yaml:2: agent \"Support\": direction \"both\" is not one of: inbound, outbound"],
    );
}

#[test]
fn number_not_e164() {
    rejected(
        &[(
            "agents/x.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+1 415 555 0100\"]\n",
        )],
        &["agents/x.yaml:2: agent \"Support\": phone number \"+1 415 555 0100\" is not E.164"],
    );
}

#[test]
fn unquoted_plus_number_is_explained() {
    rejected(
        &[(
            "agents/x.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers:\n      - +14155550100\n",
        )],
        &["agents/x.yaml:2: agent \"Support\": phone number entry 14155550100 is a YAML number, not a string: quote it, \"+14155550100\" for an E.164 number"],
    );
}

#[test]
fn neither_name_nor_id() {
    rejected(
        &[("agents/x.yaml", "agents:\n  - direction: inbound\n")],
        &["agents/x.yaml:2: agent entry #1: has neither `name:` nor `id:`"],
    );
}

#[test]
fn both_name_and_id() {
    rejected(
        &[(
            "agents/x.yaml",
            "agents:\n  - name: Support\n    id: a-1\n    direction: inbound\n",
        )],
        &["agents/x.yaml:2: agent entry #1: has both `name:` and `id:`"],
    );
}

#[test]
fn the_same_agent_declared_in_two_files_names_both_places() {
    rejected(
        &[
            ("agents/a.yaml", "agents:\n  - name: Support\n    direction: inbound\n"),
            ("agents/b.yaml", "agents:\n  - id: a-2\n    direction: outbound\n  - name: Support\n    direction: inbound\n"),
        ],
        &["agents/b.yaml:4: agent \"Support\": is declared twice, here and at agents/a.yaml:2"],
    );
}

#[test]
fn the_same_number_twice_in_one_agent() {
    rejected(
        &[(
            "agents/x.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\", \"+14155550100\"]\n",
        )],
        &["agents/x.yaml:2: agent \"Support\": number +14155550100 is listed twice"],
    );
}

#[test]
fn the_same_number_on_two_inbound_agents_names_both() {
    rejected(
        &[(
            "agents/x.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n  - name: Callback\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n",
        )],
        &["agents/x.yaml:5: agent \"Callback\": number +14155550300 is also answered by inbound agent \"Support\" (agents/x.yaml:2)"],
    );
}

#[test]
fn one_number_on_inbound_and_outbound_or_several_outbound_agents_is_allowed() {
    let out = Test::new()
        .file(
            "agents.yaml",
            "agents:\n  - name: Callback\n    direction: inbound\n    phone_numbers: [\"+14155550200\"]\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\"]\n  - id: a-6\n    direction: outbound\n    phone_numbers: [\"+14155550200\"]\n",
        )
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .run();
    assert_eq!(out.put_paths(), ["/api/v1/agents/a-6/calling"]);
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let stderr = rejected(
        &[
            (
                "agents/a.yaml",
                "agents:\n  - name: A\n    direction: sideways\n  - direction: inbound\n",
            ),
            ("agents/b.yaml", "agents: {}\n"),
        ],
        &[
            "the configuration has 3 problems",
            "agents/a.yaml:2: agent \"A\": direction \"sideways\"",
            "agents/a.yaml:4: agent entry #2: has neither",
            "agents/b.yaml: `agents` must be a list of agents, found a mapping",
        ],
    );
    insta::assert_snapshot!("every_problem_at_once", stderr);
}

#[test]
fn a_missing_path_and_an_empty_directory_are_errors() {
    let out = Test::new()
        .file("empty/notes.txt", "")
        .token(None)
        .args(&["validate", "nope.yaml", "empty"])
        .expect_code(1)
        .run();
    out.stderr_has(&[
        "nope.yaml: cannot read",
        "empty: no *.yaml or *.yml files in this directory",
    ]);
}

#[test]
fn validate_accepts_the_shipped_example() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/agents.yaml");
    let out = Test::new().token(None).args(&["validate", example]).run();
    assert!(
        out.stdout.contains("ok: 5 agents in 1 file"),
        "{}",
        out.stdout
    );
}

#[test]
fn usage_errors_exit_1_not_2() {
    // 2 means "changes present" under --detailed-exitcode; a typo must not look like drift.
    Test::new()
        .args(&["plan", "--detailed-exit-code", "x.yaml"])
        .expect_code(1)
        .run();
}

#[test]
fn an_unreadable_path_does_not_hide_the_other_files_problems() {
    let out = Test::new()
        .file("bad.yaml", "agents:\n  - name: A\n    direction: up\n")
        .token(None)
        .args(&["validate", "nope.yaml", "bad.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&[
        "the configuration has 2 problems",
        "nope.yaml: cannot read",
        "bad.yaml:2: agent \"A\": direction \"up\"",
    ]);
}

#[test]
fn a_symlink_loop_in_a_directory_is_read_once() {
    let scenario = Test::new()
        .file(
            "cfg/sub/a.yaml",
            "agents:\n  - name: Night\n    direction: outbound\n",
        )
        .start();
    let cfg = scenario.dir().join("cfg");
    std::os::unix::fs::symlink(&cfg, cfg.join("sub/loop")).expect("symlink");
    std::os::unix::fs::symlink(".", cfg.join("self")).expect("symlink");
    let out = scenario.run(&["validate", "cfg"]);
    assert!(
        out.stdout.contains("ok: 1 agent in 1 file"),
        "{}",
        out.stdout
    );
}
