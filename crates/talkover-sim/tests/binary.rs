//! The `talkover-sim` binary: its help, its errors, and the one line it announces
//! before serving until SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_talkover-sim");
const EXAMPLE_SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/example.json");

fn sim() -> Command {
    let mut command = Command::new(BIN);
    command.env_remove("TALKOVER_SIM_TOKEN");
    command
}

#[test]
fn help_documents_every_flag() {
    let output = sim().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--port <PORT>",
        "--seed <FILE>",
        "--token <TOKEN>",
        "TALKOVER_SIM_TOKEN",
        "no built-in default token",
        "--page-size-cap <N>",
        "seeds/example.json",
        "--refuse-agent <ID=MESSAGE>",
        "--merge-numbers-on-put",
        "--latency-ms <N>",
        "--slow-requests <N,...>",
        "--slow-ms <N>",
        "--fail-requests <N,...>",
        "--rate-limit-every <N>",
        "--retry-after <SECS>",
        "--retry-after-http-date",
        "--rate-limit <LIMIT/SECONDS>",
        "--enforce-single-inbound-owner",
        "a retry is a new number",
    ] {
        assert!(help.contains(flag), "help lacks {flag:?}:\n{help}");
    }
}

#[test]
fn help_does_not_show_the_token_from_the_environment() {
    let output = sim()
        .env("TALKOVER_SIM_TOKEN", "talq_secret_in_env")
        .arg("--help")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stdout).contains("talq_secret_in_env"));
}

#[test]
fn token_is_required() {
    let output = sim().output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--token <TOKEN>"));
}

#[test]
fn bad_seed_file_exits_1_naming_the_file() {
    let missing = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/does-not-exist.json");
    let output = sim()
        .args(["--token", "t", "--seed", missing])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!("error: {missing}: ")),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());

    // Not a seed: the manifest is not JSON.
    let not_json = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = sim()
        .args(["--token", "t", "--seed", not_json])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!("error: {not_json}: ")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Starts the binary, reads the announced URL, makes a request over a raw socket (no
/// HTTP client needed for one GET), then stops it with SIGTERM and expects a clean exit.
#[cfg(unix)]
#[test]
fn announces_its_url_then_serves_until_sigterm() {
    use std::io::Write;
    use std::net::TcpStream;

    let mut child = sim()
        .env("TALKOVER_SIM_TOKEN", "talq_bin_test")
        .args(["--seed", EXAMPLE_SEED, "--page-size-cap", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .strip_prefix("talkover-sim listening on http://127.0.0.1:")
        .map(|port| format!("127.0.0.1:{}", port.trim_end()));
    let Some(addr) = url else {
        let _ = child.kill();
        panic!("unexpected announcement {line:?}");
    };

    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /api/v1/agents?per_page=50 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer talq_bin_test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#""meta":{"current_page":1,"per_page":2,"total":3,"last_page":2}"#),
        "{response}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "exactly one line on stdout");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stderr, "");
}
