//! Token hygiene across every command: the harness asserts for each run that the token is in
//! neither stdout nor stderr; these runs cover the paths most likely to leak it.

use talkover_sim::RetryAfter;

use crate::harness::{Test, MATCHING, TOKEN};

#[test]
fn no_command_prints_the_token_even_verbose_and_failing() {
    let config = "agents:\n  - name: Support\n    direction: outbound\n  - name: Nobody\n    direction: inbound\n";
    let storm = |t: Test| {
        t.sim(|c| {
            c.rate_limit_every = Some(2);
            c.retry_after = RetryAfter::Seconds(0);
            c.fail_requests = [1].into();
        })
    };
    let scenario = storm(Test::new())
        .file("bad.yaml", config)
        .file("ok.yaml", MATCHING)
        .start();
    for (code, args) in [
        (0, &["validate", "ok.yaml"][..]),
        (0, &["plan", "-v", "ok.yaml"]),
        (1, &["plan", "-v", "--detailed-exitcode", "bad.yaml"]),
        (1, &["apply", "-v", "--auto-approve", "bad.yaml"]),
        (0, &["apply", "-v", "ok.yaml"]),
        (
            0,
            &[
                "apply",
                "-v",
                "--auto-approve",
                "--force",
                "--allow-unrouted",
                "ok.yaml",
            ],
        ),
        (0, &["demo"]),
        (0, &["--help"]),
        (0, &["plan", "--help"]),
    ] {
        // The harness fails the test if TOKEN appears in the output.
        scenario.run_expect(code, args);
    }
    // A wrong token, verbose, against a failing server.
    let wrong = storm(Test::new())
        .token(Some("talq_wrong_0000"))
        .file("ok.yaml", MATCHING)
        .start();
    let out = wrong.run_expect(1, &["apply", "-v", "--auto-approve", "ok.yaml"]);
    assert!(!out.stderr.contains("talq_wrong_0000"));
    assert!(!TOKEN.is_empty());
}
