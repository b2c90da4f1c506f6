//! Offline validation: each rule has a test showing its message and its code, and that
//! plan/apply with an invalid config writes nothing even when other entries are fine; and
//! `validate --format json`.

use serde_json::{json, Value};

use crate::harness::Test;

/// Asserts that the line of stderr holding `fragment` ends with the code, `[code]`.
#[track_caller]
fn line_has_code(stderr: &str, fragment: &str, code: &str) {
    let line = stderr
        .lines()
        .find(|line| line.contains(fragment))
        .unwrap_or_else(|| panic!("stderr lacks {fragment:?}:\n{stderr}"));
    assert!(
        line.ends_with(&format!(" [{code}]")),
        "{line:?} does not end with [{code}]"
    );
}

/// Runs `apply --auto-approve` on `files`; asserts exit 1, no write, every fragment in
/// stderr, and `code` on the line of the first. A valid entry that needs a change sits beside
/// the invalid ones, so "nothing written" means something. Then `validate`, as text and as
/// JSON, must report the same.
#[track_caller]
fn rejected(code: &str, files: &[(&str, &str)], fragments: &[&str]) -> String {
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
    line_has_code(&out.stderr, fragments[0], code);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    // The offline rules are checked before anything is read from the API.
    assert!(out.journal.is_empty(), "{:#?}", out.journal);

    // validate, offline, reports the same.
    let mut test = Test::new();
    for (path, text) in files {
        test = test.file(path, text);
    }
    let scenario = test.token(None).start();
    let out = scenario.run_expect(1, &["validate", "agents"]);
    out.stderr_has(fragments);
    line_has_code(&out.stderr, fragments[0], code);

    let json = scenario.run_expect(1, &["validate", "--format", "json", "agents"]);
    let problems = problems(&json.stdout);
    assert!(
        problems.iter().any(|p| p["code"] == code),
        "no problem with code {code}: {problems:#?}"
    );
    out.stderr
}

/// The `problems` list of `validate --format json`'s stdout.
#[track_caller]
fn problems(stdout: &str) -> Vec<Value> {
    let document: Value = serde_json::from_str(stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{stdout}"));
    document["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems list: {document:#}"))
        .clone()
}

#[test]
fn yaml_syntax_error_names_the_file_and_line() {
    rejected(
        "invalid-yaml",
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
        "unknown-key",
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
        "missing-key",
        &[("agents/x.yaml", "agents:\n  - name: Support\n")],
        &["agents/x.yaml:2: agent \"Support\": missing `direction:` (inbound or outbound)"],
    );
}

#[test]
fn bad_direction_value() {
    rejected(
        "invalid-direction",
        &[("agents/x.yaml", "agents:\n  - name: Support\n    direction: both\n")],
        &["agents/x.yaml:2: agent \"Support\": direction \"both\" is not one of: inbound, outbound"],
    );
}

#[test]
fn number_not_e164() {
    rejected(
        "invalid-number",
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
        "yaml-number",
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
        "missing-key",
        &[("agents/x.yaml", "agents:\n  - direction: inbound\n")],
        &["agents/x.yaml:2: agent entry #1: has neither `name:` nor `id:`"],
    );
}

#[test]
fn both_name_and_id() {
    rejected(
        "name-and-id",
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
        "duplicate-agent",
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
        "duplicate-number",
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
        "inbound-conflict",
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
        "invalid-direction",
        &[
            (
                "agents/a.yaml",
                "agents:\n  - name: A\n    direction: sideways\n  - direction: inbound\n",
            ),
            ("agents/b.yaml", "agents: {}\n"),
        ],
        &[
            "agents/a.yaml:2: agent \"A\": direction \"sideways\"",
            "the configuration has 3 problems",
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

#[test]
fn each_problem_line_ends_with_its_code() {
    let out = Test::new()
        .file("a.yaml", "agents:\n  - name: Support\n    direction: inbound\n")
        .file(
            "b.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\"]\n    label: x\n",
        )
        .token(None)
        .args(&["validate", "a.yaml", "b.yaml"])
        .expect_code(1)
        .run();
    let lines: Vec<&str> = out.stderr.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "  b.yaml:2: agent \"Support\": unknown key `label` (an entry has name or id, direction, phone_numbers) [unknown-key]",
        ],
        "{}",
        out.stderr
    );
    // With the bad key gone, the duplicate across files is the one problem left.
    let out = Test::new()
        .file(
            "a.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n",
        )
        .file(
            "b.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n",
        )
        .token(None)
        .args(&["validate", "a.yaml", "b.yaml"])
        .expect_code(1)
        .run();
    assert_eq!(
        out.stderr,
        "error: the configuration has 1 problem; nothing was changed\n  b.yaml:2: agent \"Support\": is declared twice, here and at a.yaml:2: declare each agent once [duplicate-agent]\n"
    );
}

#[test]
fn validate_json_on_a_valid_config_is_an_empty_list() {
    let out = Test::new()
        .file(
            "agents.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n",
        )
        .token(None)
        .args(&["validate", "--format", "json", "agents.yaml"])
        .run();
    let document: Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    assert_eq!(document, json!({ "problems": [] }));
    assert_eq!(out.stderr, "");
}

#[test]
fn validate_json_lists_every_problem_with_code_file_and_line() {
    let out = Test::new()
        .file(
            "agents/a.yaml",
            "agents:\n  - name: A\n    direction: sideways\n  - direction: inbound\n    phone_numbers: [\"+1 415\"]\n",
        )
        .file("agents/b.yaml", "agents: {}\nlabels: []\n")
        .file(
            "agents/c.yaml",
            "agents:\n  - name: B\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n  - name: C\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n",
        )
        .file("deep.yaml", &format!("agents: {}\n", "[".repeat(100)))
        .stdin("")
        .token(None)
        .args(&[
            "validate", "--format", "json", "nope.yaml", "-", "-", "agents", "deep.yaml",
        ])
        .expect_code(1)
        .run();
    let mut problems = problems(&out.stdout);
    // The OS's wording of "no such file" is not ours to pin down.
    let unreadable = problems.remove(0);
    assert_eq!(unreadable["code"], "unreadable");
    assert_eq!(unreadable["file"], "nope.yaml");
    assert_eq!(unreadable["line"], Value::Null);
    assert!(
        unreadable["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("cannot read: ")),
        "{unreadable:#}"
    );
    assert_eq!(
        problems,
        [
            json!({"code": "stdin-twice", "file": null, "line": null, "column": null,
                "message": "`-` (stdin) is named more than once: stdin can be read only once"}),
            json!({"code": "empty-file", "file": "(stdin)", "line": null, "column": null,
                "message": "the file is empty: a talkops config is a mapping with an `agents:` list"}),
            json!({"code": "invalid-direction", "file": "agents/a.yaml", "line": 2, "column": null,
                "message": "agent \"A\": direction \"sideways\" is not one of: inbound, outbound"}),
            json!({"code": "missing-key", "file": "agents/a.yaml", "line": 4, "column": null,
                "message": "agent entry #2: has neither `name:` nor `id:`: give exactly one"}),
            json!({"code": "invalid-number", "file": "agents/a.yaml", "line": 4, "column": null,
                "message": "agent entry #2: phone number \"+1 415\" is not E.164 (+ then 2 to 15 digits, no spaces or dashes)"}),
            json!({"code": "unknown-key", "file": "agents/b.yaml", "line": null, "column": null,
                "message": "unknown top-level key `labels`: a talkops config has only `agents:`"}),
            json!({"code": "wrong-type", "file": "agents/b.yaml", "line": null, "column": null,
                "message": "`agents` must be a list of agents, found a mapping"}),
            json!({"code": "too-deep", "file": "deep.yaml", "line": 1, "column": 73,
                "message": "`[` and `{` nest more than 64 levels deep here: a talkops config needs two or three; the file was not parsed"}),
            json!({"code": "inbound-conflict", "file": "agents/c.yaml", "line": 5, "column": null,
                "message": "agent \"C\": number +14155550300 is also answered by inbound agent \"B\" (agents/c.yaml:2): an inbound number must have one inbound agent"}),
        ]
    );
    // Exit 1 as for text; stderr says why, the list itself is on stdout only.
    assert_eq!(
        out.stderr,
        "error: the configuration has 10 problems; they are listed in the JSON on stdout\n"
    );
}

#[test]
fn validate_refuses_the_markdown_format() {
    let out = Test::new()
        .file("agents.yaml", "agents: []\n")
        .token(None)
        .args(&["validate", "--format", "markdown", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&["invalid value 'markdown'", "[possible values: text, json]"]);
}
