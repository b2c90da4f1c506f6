//! The Talkover side: an HTTP client for the four calls talkops needs, their wire types, typed
//! errors, and the conversion of what the API returns into the canonical [`LiveState`].
//!
//! This is the only module that talks to the network.
//!
//! [`LiveState`]: crate::model::LiveState

mod client;
mod error;
mod retry;
mod tls;
mod wire;

use std::fmt;

pub use client::{Client, ClientOptions, Observer, PutOutcome, Stderr};
pub use error::ApiError;
pub use retry::RetryPolicy;
pub use tls::SetupError;

/// Whether `url` names this machine (`localhost`, `127.0.0.0/8`, `[::1]`): where plain http
/// is allowed, no proxy is used, and a project environment's token may always go.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The API token. It has no `Display`, its `Debug` is redacted, and it is only ever read to
/// build the `Authorization` header (marked sensitive there).
#[derive(Clone)]
pub struct Token {
    secret: String,
    /// The environment variable it was read from, for messages (a rejected token).
    variable: String,
}

impl Token {
    /// A token read from `TALKOVER_TOKEN`.
    pub fn new(token: impl Into<String>) -> Token {
        Token::from_variable(crate::settings::TOKEN_VAR, token)
    }

    /// A token read from the variable `variable` (a project environment's `token_env`).
    pub fn from_variable(variable: &str, token: impl Into<String>) -> Token {
        Token {
            secret: token.into(),
            variable: variable.to_owned(),
        }
    }

    /// The secret itself: for the Authorization header and for scrubbing server text only.
    pub(crate) fn expose(&self) -> &str {
        &self.secret
    }

    /// The variable the token was read from.
    pub fn variable(&self) -> &str {
        &self.variable
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}
