//! Inputs from files and the terminal that must fail closed (issue 8, cases 5, 15 and 16):
//! configs through pipes and devices, pathological nesting, and control characters in names.

use std::fs::OpenOptions;
use std::io::Write;
use std::process::Command;

use crate::harness::{standard_seed, Test};

/// Night turned outbound: one change against the standard environment.
const ONE_CHANGE: &str = "agents:\n  - name: Night\n    direction: outbound\n";

/// Case 5: `-` is stdin, read and named `(stdin)`.
#[test]
fn config_through_dash_is_read_from_stdin() {
    let out = Test::new()
        .stdin(ONE_CHANGE)
        .args(&["plan", "--detailed-exitcode", "-"])
        .expect_code(2)
        .run();
    out.wrote_nothing();
    assert!(
        out.stdout.contains("agent \"Night\" (id a-4)  (stdin):2"),
        "{}",
        out.stdout
    );
}

/// Case 5: `/dev/stdin` is not a regular file, and is read all the same.
#[test]
fn config_through_dev_stdin_is_read() {
    let out = Test::new()
        .stdin(ONE_CHANGE)
        .args(&["plan", "--detailed-exitcode", "/dev/stdin"])
        .expect_code(2)
        .run();
    out.wrote_nothing();
    assert!(
        out.stdout
            .contains("agent \"Night\" (id a-4)  /dev/stdin:2"),
        "{}",
        out.stdout
    );
}

/// Case 5: an empty pipe is an empty config, an error like an empty file, never "no changes".
#[test]
fn an_empty_pipe_is_an_error_not_no_changes() {
    Test::new()
        .stdin("")
        .args(&["plan", "--detailed-exitcode", "-"])
        .expect_code(1)
        .run()
        .stderr_has(&["(stdin): the file is empty"]);
    Test::new()
        .stdin("")
        .args(&["apply", "--auto-approve", "/dev/stdin"])
        .expect_code(1)
        .run()
        .wrote_nothing()
        .stderr_has(&["/dev/stdin: the file is empty", "nothing was changed"]);
}

/// Case 5: stdin can be read once; a second `-` would read nothing and is refused.
#[test]
fn dash_twice_is_an_error() {
    Test::new()
        .stdin(ONE_CHANGE)
        .token(None)
        .args(&["validate", "-", "-"])
        .expect_code(1)
        .run()
        .stderr_has(&["`-` (stdin) is named more than once"]);
}

/// Case 5: a FIFO (as `<(...)` gives) is read, and the drift check reports the change.
#[test]
fn config_through_a_fifo_is_read() {
    let scenario = Test::new().start();
    let fifo = scenario.dir().join("agents.fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    let writer = {
        let fifo = fifo.clone();
        // Opening a FIFO for writing waits for a reader: talkops.
        std::thread::spawn(move || {
            let mut pipe = OpenOptions::new()
                .write(true)
                .open(&fifo)
                .expect("open the FIFO for writing");
            pipe.write_all(ONE_CHANGE.as_bytes())
                .expect("write the config");
        })
    };
    let out = scenario.run_expect(2, &["plan", "--detailed-exitcode", "agents.fifo"]);
    // Should talkops not have opened the FIFO, this read end releases the writer (opening
    // read-write never waits on Linux); otherwise it is a no-op.
    drop(
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&fifo)
            .expect("open the FIFO"),
    );
    writer.join().expect("the writer finishes");
    out.wrote_nothing();
    assert!(out.stdout.contains("agents.fifo:2"), "{}", out.stdout);
}

/// Case 5 and 15: a character device named on the command line is read, up to the size cap.
#[test]
fn a_device_is_read_and_an_endless_one_is_capped() {
    Test::new()
        .token(None)
        .args(&["validate", "/dev/zero"])
        .expect_code(1)
        .run()
        .stderr_has(&["/dev/zero: is larger than 16 MiB"]);
}

/// Case 5: inside a directory only regular `*.yaml`/`*.yml` files count: a dangling symlink
/// with another name is ignored. A dangling `*.yaml` is a config file gone missing: an error.
#[cfg(unix)]
#[test]
fn dangling_symlinks_in_a_directory() {
    use std::os::unix::fs::symlink;

    let scenario = Test::new().file("agents/night.yaml", ONE_CHANGE).start();
    let agents = scenario.dir().join("agents");
    symlink(agents.join("gone"), agents.join("README.md")).expect("symlink");
    let out = scenario.run_expect(2, &["plan", "--detailed-exitcode", "agents"]);
    out.wrote_nothing();
    assert!(out.stderr.is_empty(), "{}", out.stderr);

    symlink(agents.join("gone"), agents.join("sales.yaml")).expect("symlink");
    scenario
        .run_expect(1, &["plan", "--detailed-exitcode", "agents"])
        .wrote_nothing()
        .stderr_has(&["agents/sales.yaml: cannot read: "]);
}

/// Case 15: 100,000 `[` are refused before the parser, naming the file, line and column.
#[test]
fn pathological_nesting_is_refused_naming_the_place() {
    let hostile = format!("# nested\nagents: {}\n", "[".repeat(100_000));
    let out = Test::new()
        .file("agents.yaml", &hostile)
        .args(&["plan", "--detailed-exitcode", "agents.yaml"])
        .expect_code(1)
        .run();
    out.wrote_nothing().stderr_has(&[
        "agents.yaml:2:73: `[` and `{` nest more than 64 levels deep here",
        "nothing was changed",
    ]);
    // Refused offline: the API was not read.
    assert!(out.journal.is_empty(), "{:#?}", out.journal);
}

/// Case 15: brackets in quoted strings and comments are text, not nesting. (A guard against
/// false alarms of the nesting check: it passed before the check existed, by design.)
#[test]
fn brackets_in_strings_and_comments_still_validate() {
    let many = "[{".repeat(100);
    let config = format!(
        "# {many}\nagents:\n  - name: \"Night {many}\"  # {many}\n    direction: outbound\n  - name: 'Day {many} it''s'\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n"
    );
    Test::new()
        .file("agents.yaml", &config)
        .token(None)
        .args(&["validate", "agents.yaml"])
        .run();
}

/// Case 16: ESC and a right-to-left override in an agent's name reach a PR comment escaped,
/// visible, never raw.
#[test]
fn control_characters_in_names_are_escaped_in_markdown() {
    let mut seed = standard_seed();
    seed.agents[3].name = "Ni\u{1b}[2Jght\u{202e}tuo".into();
    let config = "agents:\n  - id: a-4\n    direction: outbound\n";
    let out = Test::new()
        .seed(seed)
        .file("agents.yaml", config)
        .args(&["plan", "--format", "markdown", "agents.yaml"])
        .run();
    out.wrote_nothing();
    for raw in ['\u{1b}', '\u{202e}'] {
        assert!(!out.stdout.contains(raw), "raw {raw:?} in:\n{}", out.stdout);
    }
    // In the table (Markdown-escaped backslash) and in the full plan (a code block).
    assert!(
        out.stdout
            .contains("| Ni\\\\u{1b}\\[2Jght\\\\u{202e}tuo (`a-4`) |"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("agent \"Ni\\u{1b}[2Jght\\u{202e}tuo\" (id a-4)"),
        "{}",
        out.stdout
    );
}
