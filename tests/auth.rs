//! The token and the API URL: missing, rejected, unsafe or unreachable, each with a clear
//! error that never echoes the token (the harness checks every run for it).

use crate::harness::{Test, MATCHING};

#[test]
fn a_missing_token_names_the_variable_and_sends_nothing() {
    let out = Test::new()
        .token(None)
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&["TALKOVER_TOKEN is not set"]);
    assert!(out.journal.is_empty());
}

#[test]
fn an_empty_token_is_an_error() {
    let out = Test::new()
        .token(Some(""))
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&["TALKOVER_TOKEN is empty"]);
}

#[test]
fn a_rejected_token_is_a_clear_error_that_does_not_echo_it() {
    let wrong = "talq_WRONG_do_not_print_9f8e7d";
    let out = Test::new()
        .token(Some(wrong))
        .file("agents.yaml", MATCHING)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    out.wrote_nothing()
        .stderr_has(&["the API rejected the token in TALKOVER_TOKEN (401: Unauthenticated.)"]);
    assert!(
        !out.stderr.contains(wrong) && !out.stdout.contains(wrong),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Bearer"), "{}", out.stderr);
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let out = Test::new()
        .api_url("http://app.talkover.example")
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&["refusing to send the token over plain http"]);
}

#[test]
fn an_unreachable_api_says_where_it_tried() {
    // A port that was just free: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = Test::new()
        .api_url(&url)
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&[
        &format!("cannot read the environment at {url}"),
        "GET /api/v1/",
    ]);
}

#[test]
fn the_api_url_flag_wins_over_the_environment_variable() {
    let scenario = Test::new()
        .api_url("http://127.0.0.1:9")
        .file("agents.yaml", MATCHING)
        .start();
    let url = scenario.url();
    let out = scenario.run(&["plan", "--api-url", &url, "agents.yaml"]);
    assert!(!out.journal.is_empty());
}

#[test]
fn a_token_put_in_the_url_variable_by_mistake_is_not_echoed() {
    // The harness asserts that TOKEN appears in no output.
    let out = Test::new()
        .api_url(crate::harness::TOKEN)
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&["contains the token (not shown)"]);
    // The token in the path of an otherwise valid URL is refused the same way.
    let out = Test::new()
        .api_url(&format!(
            "https://app.talkover.ai/{}",
            crate::harness::TOKEN
        ))
        .file("agents.yaml", MATCHING)
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&["contains the token (not shown)"])
        .wrote_nothing();
    assert!(out.journal.is_empty());
}
