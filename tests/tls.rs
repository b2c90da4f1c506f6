//! TLS certificates (issue 8, case 13): a certificate the client does not trust is final (no
//! retry) and says how to trust a private CA; and the way the hint gives really works.
//!
//! The server here is a small loopback HTTPS server on a std thread (rustls, the version
//! reqwest already builds), presenting `fixtures/tls/server.pem` for 127.0.0.1 and localhost,
//! signed by the private CA `fixtures/tls/ca.pem` (see `fixtures/tls/generate.sh`). It answers
//! just enough of the API for a `plan` to succeed, so that the test of `SSL_CERT_FILE` shows a
//! whole run, not only a handshake.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::harness::{Test, TOKEN};

/// One agent, matched by [`CONFIG`]: the plan against [`TlsServer`] has no changes.
const AGENTS: &str = r#"{"success": true, "data": [{"id": "a-1", "name": "Support", "direction": "inbound", "current_status": "published", "phone_numbers": [{"id": "n-100", "number": "+14155550100"}]}], "meta": {"current_page": 1, "per_page": 100, "total": 1, "last_page": 1}}"#;
const PHONE_NUMBERS: &str =
    r#"{"success": true, "data": [{"id": "n-100", "number": "+14155550100"}]}"#;
const CONFIG: &str =
    "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\"]\n";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// A loopback HTTPS server that counts connections (each one is one TLS handshake attempt:
/// a connection whose handshake failed is never reused) and records each request's head.
struct TlsServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl TlsServer {
    fn start() -> TlsServer {
        let certs = CertificateDer::pem_file_iter(fixture("server.pem"))
            .expect("the server certificate fixture")
            .collect::<Result<Vec<_>, _>>()
            .expect("a PEM certificate");
        let key = PrivateKeyDer::from_pem_file(fixture("server.key")).expect("the key fixture");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("a valid certificate and key");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("a local address").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (count, log) = (Arc::clone(&connections), Arc::clone(&requests));
        // Detached: it lives as long as the test process, like the simulator's threads.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                // Counted on accept, before the handshake starts, so the count is complete
                // by the time talkops can have seen the certificate.
                count.fetch_add(1, Ordering::SeqCst);
                let (config, log) = (Arc::clone(&config), Arc::clone(&log));
                std::thread::spawn(move || serve(config, stream, &log));
            }
        });
        TlsServer {
            port,
            connections,
            requests,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("the request log").clone()
    }
}

/// Serves one connection: one request, one answer, then close (`Connection: close`, so that
/// every request is visible as a connection). A failed handshake just ends it.
fn serve(config: Arc<rustls::ServerConfig>, tcp: TcpStream, log: &Mutex<Vec<String>>) {
    // Only so that a stuck client cannot pin this thread forever; no test waits for it.
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let mut head = Vec::new();
    let mut buffer = [0; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    log.lock().expect("the request log").push(head);
    let (status, body) = if path.starts_with("/api/v1/agents?") {
        ("200 OK", AGENTS)
    } else if path == "/api/v1/phone-numbers" {
        ("200 OK", PHONE_NUMBERS)
    } else {
        (
            "404 Not Found",
            r#"{"success": false, "message": "Not found"}"#,
        )
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tls.write_all(response.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

#[test]
fn an_untrusted_certificate_is_final_and_says_how_to_add_a_ca() {
    let server = TlsServer::start();
    let out = Test::new()
        .api_url(&server.url())
        .file("agents.yaml", CONFIG)
        .args(&["plan", "-v", "agents.yaml"])
        .expect_code(1)
        .run();
    out.stderr_has(&[
        "the server's TLS certificate was not trusted",
        "not signed by a certificate authority that talkops trusts",
        "SSL_CERT_FILE",
        "update-ca-certificates",
    ]);
    // `plan` reads the agents and the phone numbers concurrently: one attempt each at most,
    // and the second may not have started when the first failed. Retried, it would be 7 each.
    let connections = server.connections();
    assert!(
        (1..=2).contains(&connections),
        "{connections} TLS handshakes: a certificate error was retried\n{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("retry"),
        "a certificate error was retried:\n{}",
        out.stderr
    );
    assert!(
        server.requests().is_empty(),
        "a request arrived although every handshake failed"
    );
}

/// The hint is true: `SSL_CERT_FILE` naming the private CA is what makes the same run work.
/// (It replaces the system store for talkops' process, which a plan against a loopback server
/// does not mind.)
#[test]
fn following_the_hint_ssl_cert_file_makes_a_private_ca_trusted() {
    let server = TlsServer::start();
    let run = |test: Test, code: i32| {
        test.api_url(&server.url())
            .file("agents.yaml", CONFIG)
            .args(&["plan", "agents.yaml"])
            .expect_code(code)
            .run()
    };
    let refused = run(Test::new(), 1);
    refused.stderr_has(&["not trusted", "set SSL_CERT_FILE to a PEM file"]);
    assert!(server.requests().is_empty(), "{:#?}", server.requests());

    let ca = fixture("ca.pem");
    // SSL_CERT_DIR emptied, so that the file alone decides (the CI image may set both).
    let out = run(
        Test::new()
            .env("SSL_CERT_FILE", &ca.to_string_lossy())
            .env("SSL_CERT_DIR", ""),
        0,
    );
    assert!(out.stdout.contains("No changes"), "{}", out.stdout);
    // The requests reached this server over TLS, carrying the token.
    let requests = server.requests();
    let bearer = format!("bearer {}", TOKEN.to_lowercase());
    for path in ["GET /api/v1/agents?", "GET /api/v1/phone-numbers "] {
        assert!(
            requests
                .iter()
                .any(|r| r.starts_with(path) && r.to_lowercase().contains(&bearer)),
            "no {path} with the token: {requests:#?}"
        );
    }
}

/// Following the hint with a wrong path must not end in reqwest's bare "builder error".
#[test]
fn an_ssl_cert_file_without_certificates_is_named() {
    let server = TlsServer::start();
    for file in ["no-such-file.pem", "agents.yaml"] {
        let out = Test::new()
            .api_url(&server.url())
            .env("SSL_CERT_FILE", file)
            .env("SSL_CERT_DIR", "")
            .file("agents.yaml", CONFIG)
            .args(&["plan", "agents.yaml"])
            .expect_code(1)
            .run();
        out.stderr_has(&[
            &format!(
                "cannot set up TLS: no CA certificate could be loaded from SSL_CERT_FILE={file}"
            ),
            "must name a readable file of PEM certificates",
        ]);
    }
    assert_eq!(server.connections(), 0);
}
