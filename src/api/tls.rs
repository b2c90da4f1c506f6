//! Recognising a TLS certificate problem in a failed request, and telling the user what to do
//! about it. A certificate that is not trusted now will not be trusted on a retry: the client
//! makes such an error final instead of retrying it.
//!
//! Which roots talkops trusts is decided by reqwest's `default-tls`, which in reqwest 0.13 is
//! rustls (aws-lc-rs) with rustls-platform-verifier; talkops adds no roots of its own and
//! bundles none (no webpki-roots). On Linux and the BSDs that verifier is webpki over the roots
//! that rustls-native-certs loads once, when the client is built:
//! - if `SSL_CERT_FILE` and/or `SSL_CERT_DIR` is set, only the certificates found there (they
//!   *replace* the system store, they do not add to it);
//! - otherwise the system store that openssl-probe finds (`/etc/ssl/certs/ca-certificates.crt`
//!   and `/etc/ssl/certs` on Debian and Ubuntu, what `update-ca-certificates` maintains).
//!
//! On macOS and Windows the operating system's own verifier and store decide, and the
//! variables are not read. The hint below says what works on the platform talkops was built
//! for. This module only reads errors: it never touches the client's TLS configuration.

use std::error::Error;

/// An error chain longer than this is not walked further (no real chain comes close; the bound
/// only guarantees that the walk ends).
const MAX_CHAIN: usize = 32;

/// The user-facing reason when `err` failed because the server's certificate was not accepted,
/// with what to do about it; `None` for every other failure.
///
/// Detection is by type, not by message: the chain is walked for a `rustls::Error`, which is
/// reachable because talkops depends on the same rustls (0.23) that reqwest is built with.
/// Matching the text of reqwest's or rustls' messages would break silently when a wording
/// changes; the typed match has one failure mode (reqwest moving to another rustls major
/// version, making the downcast miss), and `tests/tls.rs` drives a real handshake to catch it.
pub(crate) fn certificate_problem(err: &reqwest::Error) -> Option<String> {
    describe(find_rustls_error(err)?)
}

/// The error for a client that could not be built: when TLS could not be set up (no root
/// certificate could be loaded, typically because `SSL_CERT_FILE` names a missing or non-PEM
/// file), says where the roots were looked for instead of reqwest's "builder error".
pub(crate) fn build_error(err: reqwest::Error) -> SetupError {
    // rustls-platform-verifier reports an empty root store as `General`, the only error it
    // makes of its own while the client is built.
    let Some(tls) = find_rustls_error(&err) else {
        // The whole cause chain: reqwest's own message is only "builder error".
        let mut chain = vec![err.to_string()];
        let mut cause = std::error::Error::source(&err);
        while let Some(current) = cause {
            chain.push(current.to_string());
            cause = current.source();
        }
        return SetupError::Http(chain.join(": "));
    };
    if !matches!(tls, rustls::Error::General(_)) {
        return SetupError::Tls(tls.to_string());
    }
    match roots_from_environment() {
        Some(roots) => SetupError::NoRoots(format!(
            "no CA certificate could be loaded from {roots} (they replace the system store): SSL_CERT_FILE must name a readable file of PEM certificates, SSL_CERT_DIR directories of them"
        )),
        None => SetupError::NoRoots(
            "no CA certificate was found in the system store (on Debian and Ubuntu, install the ca-certificates package), and neither SSL_CERT_FILE nor SSL_CERT_DIR is set".into(),
        ),
    }
}

/// Why a client for the API cannot be set up (before any request).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The variable the token came from.
    #[error("{0} contains characters that cannot be sent in an HTTP header")]
    TokenNotAHeader(String),
    #[error("cannot set up TLS: {0}")]
    NoRoots(String),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
}

/// `SSL_CERT_FILE=...` and/or `SSL_CERT_DIR=...` as set (and not empty) in the environment,
/// where they decide the roots on this platform; `None` where neither is set or read.
fn roots_from_environment() -> Option<String> {
    if cfg!(any(target_os = "macos", windows)) {
        return None;
    }
    let set: Vec<String> = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .into_iter()
        .filter_map(|name| {
            let value = std::env::var_os(name).filter(|v| !v.is_empty())?;
            Some(format!("{name}={}", value.to_string_lossy()))
        })
        .collect();
    (!set.is_empty()).then(|| set.join(" and "))
}

/// The first `rustls::Error` in the chain that starts at `err`.
///
/// `std::io::Error` needs a look inside: tokio-rustls reports a failed handshake as an
/// `io::Error` wrapping the `rustls::Error`, and `io::Error::source()` returns the *wrapped
/// error's* source, skipping the wrapped error itself, so `source()` alone never reaches it.
fn find_rustls_error<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cause = Some(err);
    for _ in 0..MAX_CHAIN {
        let current = cause?;
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        cause = match current.downcast_ref::<std::io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn Error + 'static)),
                None => io.source(),
            },
            None => current.source(),
        };
    }
    None
}

/// What went wrong with the certificate, in words, and what to do: `None` when the TLS error
/// is not about the server's certificate (a protocol failure, an alert from the server).
fn describe(err: &rustls::Error) -> Option<String> {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(problem) = err else {
        return None;
    };
    let (why, what_to_do): (&str, String) = match problem {
        C::UnknownIssuer => (
            "it is not signed by a certificate authority that talkops trusts",
            add_a_ca(),
        ),
        C::NotValidForName | C::NotValidForNameContext { .. } => (
            "it is not valid for this host name",
            "check the host in --api-url / TALKOVER_API_URL (adding a CA will not help)".into(),
        ),
        C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => (
            "it is expired or not yet valid",
            "check this machine's clock, or ask the server's operator to renew the certificate"
                .into(),
        ),
        C::Revoked => (
            "it has been revoked",
            "ask the server's operator for a new certificate".into(),
        ),
        _ => ("it was rejected", add_a_ca()),
    };
    Some(format!(
        "the server's TLS certificate was not trusted: {why} ({err}); {what_to_do}"
    ))
}

/// How to make talkops trust a private CA, on the platform this binary was built for; where
/// `SSL_CERT_FILE`/`SSL_CERT_DIR` are set, also that they are all talkops trusts.
fn add_a_ca() -> String {
    if cfg!(target_os = "macos") {
        return "if the server uses a private CA, add it to the system keychain as trusted for SSL"
            .to_owned();
    }
    if cfg!(windows) {
        return "if the server uses a private CA, add it to the Windows certificate store (Trusted Root Certification Authorities)".to_owned();
    }
    let how = "if the server uses a private CA, set SSL_CERT_FILE to a PEM file holding it and the public roots (SSL_CERT_FILE replaces the system store, it does not add to it), or add the CA to the system store (update-ca-certificates)";
    match roots_from_environment() {
        Some(roots) => {
            format!("{how}; talkops now trusts only the certificates in {roots}")
        }
        None => how.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError;

    /// An error that wraps another, as reqwest and hyper do.
    #[derive(Debug)]
    struct Wrapper(Box<dyn Error + Send + Sync>);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("error sending request")
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&*self.0)
        }
    }

    fn wrapped(tls: rustls::Error) -> Wrapper {
        Wrapper(Box::new(Wrapper(Box::new(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            tls,
        )))))
    }

    #[test]
    fn a_rustls_error_inside_an_io_error_is_found() {
        let err = wrapped(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        let found = find_rustls_error(&err);
        assert!(
            matches!(
                found,
                Some(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer
                ))
            ),
            "{found:?}"
        );
    }

    #[test]
    fn other_failures_are_not_certificate_problems() {
        let refused = Wrapper(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(find_rustls_error(&refused).is_none());
        let protocol = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert!(find_rustls_error(&wrapped(protocol.clone())).is_some());
        assert_eq!(describe(&protocol), None);
    }

    #[test]
    fn each_reason_says_what_to_do() {
        let text = |problem| {
            describe(&rustls::Error::InvalidCertificate(problem)).expect("a certificate problem")
        };
        let unknown = text(CertificateError::UnknownIssuer);
        assert!(unknown.starts_with("the server's TLS certificate was not trusted: "));
        assert!(unknown.contains("private CA"), "{unknown}");
        let name = text(CertificateError::NotValidForName);
        assert!(name.contains("--api-url"), "{name}");
        assert!(text(CertificateError::Expired).contains("clock"));
        assert!(text(CertificateError::Revoked).contains("revoked"));
    }
}
