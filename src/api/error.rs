//! What can go wrong talking to the API, typed so that callers can tell a refusal from a
//! transport failure, and the server's reason kept verbatim for the user.

use super::wire::ErrorBody;

/// A failed API call. Messages never contain the token: server text is scrubbed of it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: the token is missing, wrong or regenerated.
    #[error("{call}: the API rejected the token in {variable} (401: {message}); check that it is the current token of this environment")]
    Unauthenticated {
        call: String,
        message: String,
        /// The variable the token came from.
        variable: String,
    },
    /// 403 or 404: the resource is not manageable with this token.
    #[error("{call}: {status} {message}")]
    NotFound {
        call: String,
        status: u16,
        message: String,
    },
    /// Any other non-success status, with the server's reason.
    #[error("{call}: {status} {message}")]
    Status {
        call: String,
        status: u16,
        message: String,
        code: Option<String>,
    },
    /// The request did not complete (connection refused, reset, timed out, ...).
    #[error("{call}: {reason}")]
    Transport {
        call: String,
        /// The cause chain, joined, each distinct message once.
        reason: String,
    },
    /// The server answered 2xx with something talkops cannot read.
    #[error("{call}: unexpected response: {reason}")]
    Decode { call: String, reason: String },
    /// The server answered 2xx but said `success: false`: its message, verbatim.
    #[error("{call}: the API answered {status} but with success: false: {message}")]
    Refused {
        call: String,
        status: u16,
        message: String,
    },
    /// A redirect: talkops never follows one (the token would go wherever it points).
    #[error("{call}: the API answered {status}, redirecting to {location}; talkops does not follow redirects: set --api-url / TALKOVER_API_URL to the address that answers")]
    Redirect {
        call: String,
        status: u16,
        location: String,
    },
}

impl ApiError {
    /// The same error, saying how many attempts were made before giving up.
    pub(crate) fn gave_up(self, attempts: u32, why: Option<String>) -> ApiError {
        let why = why.map(|why| format!(": {why}")).unwrap_or_default();
        let note = if attempts == 1 {
            format!(" (gave up after 1 attempt{why})")
        } else {
            format!(" (gave up after {attempts} attempts{why})")
        };
        match self {
            ApiError::Status {
                call,
                status,
                message,
                code,
            } => ApiError::Status {
                call,
                status,
                message: message + &note,
                code,
            },
            ApiError::Transport { call, reason } => ApiError::Transport {
                call,
                reason: reason + &note,
            },
            other => other,
        }
    }

    /// Whether the request this error ends may still have been applied: it did not complete
    /// (transport), the server failed (5xx) after perhaps committing it, or a 2xx answer
    /// could not be read. A refusal (4xx, `success: false`) or a redirect was not applied.
    pub fn may_have_applied(&self) -> bool {
        match self {
            ApiError::Transport { .. } | ApiError::Decode { .. } => true,
            ApiError::Status { status, .. } => *status >= 500,
            ApiError::Unauthenticated { .. }
            | ApiError::NotFound { .. }
            | ApiError::Refused { .. }
            | ApiError::Redirect { .. } => false,
        }
    }

    /// The same error with the token removed from every text it carries: messages and
    /// reasons can hold values a server sent (ids, directions, its own messages), and a
    /// server that echoes the token must not get it printed.
    pub(crate) fn scrubbed(self, token: &str) -> ApiError {
        let clean = |text: String| scrub(&text, token);
        match self {
            ApiError::Unauthenticated {
                call,
                message,
                variable,
            } => ApiError::Unauthenticated {
                call: clean(call),
                message: clean(message),
                variable,
            },
            ApiError::NotFound {
                call,
                status,
                message,
            } => ApiError::NotFound {
                call: clean(call),
                status,
                message: clean(message),
            },
            ApiError::Status {
                call,
                status,
                message,
                code,
            } => ApiError::Status {
                call: clean(call),
                status,
                message: clean(message),
                code: code.map(clean),
            },
            ApiError::Transport { call, reason } => ApiError::Transport {
                call: clean(call),
                reason: clean(reason),
            },
            ApiError::Decode { call, reason } => ApiError::Decode {
                call: clean(call),
                reason: clean(reason),
            },
            ApiError::Refused {
                call,
                status,
                message,
            } => ApiError::Refused {
                call: clean(call),
                status,
                message: clean(message),
            },
            ApiError::Redirect {
                call,
                status,
                location,
            } => ApiError::Redirect {
                call: clean(call),
                status,
                location: clean(location),
            },
        }
    }

    /// A transport failure, described by its whole cause chain on one line. reqwest repeats
    /// messages down the chain ("error sending request: error sending request: ..."), and
    /// the URL is left out: `call` names the request and the caller names the host.
    pub(crate) fn transport(call: String, err: &reqwest::Error) -> ApiError {
        let mut parts: Vec<String> = Vec::new();
        let mut cause: Option<&dyn std::error::Error> = Some(err);
        while let Some(current) = cause {
            let text = current.to_string();
            let text = match text.find(" for url (") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            if parts.last() != Some(&text) {
                parts.push(text);
            }
            cause = current.source();
        }
        ApiError::Transport {
            call,
            reason: parts.join(": "),
        }
    }

    /// Builds the error for a non-success response, reading the server's message from any of
    /// the documented body shapes and keeping non-JSON text as it is.
    pub(crate) fn from_response(
        call: String,
        status: u16,
        body: &str,
        token: &super::Token,
    ) -> ApiError {
        let (message, code) = server_reason(body);
        let message = scrub(&message, token.expose());
        match status {
            401 => ApiError::Unauthenticated {
                call,
                message,
                variable: token.variable().to_owned(),
            },
            403 | 404 => ApiError::NotFound {
                call,
                status,
                message,
            },
            _ => ApiError::Status {
                call,
                status,
                message,
                code,
            },
        }
    }
}

/// The server's reason: `message` (top level or under `error`), then `code`, then every
/// field error, joined; the raw text when the body is not JSON.
fn server_reason(body: &str) -> (String, Option<String>) {
    let Ok(parsed) = serde_json::from_str::<ErrorBody>(body) else {
        let raw = body.trim();
        let raw: String = raw.chars().take(500).collect();
        let raw = if raw.is_empty() {
            "(empty body)".to_owned()
        } else {
            raw
        };
        return (raw, None);
    };
    let nested = parsed.error.unwrap_or_default();
    let code = parsed.code.or(nested.code);
    let mut parts = Vec::new();
    if let Some(message) = parsed.message.or(nested.message) {
        parts.push(message);
    }
    if let Some(code) = &code {
        parts.push(format!("[{code}]"));
    }
    for (field, messages) in parsed.errors.iter().flatten() {
        let text = match messages {
            serde_json::Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map_or_else(|| item.to_string(), str::to_owned)
                })
                .collect::<Vec<_>>()
                .join("; "),
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        parts.push(format!("{field}: {text}"));
    }
    if let Some(details) = nested.details.filter(|d| !d.is_null()) {
        parts.push(format!("details: {details}"));
    }
    if parts.is_empty() {
        parts.push(body.trim().chars().take(500).collect());
    }
    (parts.join(" "), code)
}

/// Removes the token from server-provided text, should a server ever echo it.
pub(crate) fn scrub(text: &str, token: &str) -> String {
    if token.is_empty() {
        text.to_owned()
    } else {
        text.replace(token, "[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_error_shape_yields_its_reason() {
        assert_eq!(
            server_reason(r#"{"success": false, "message": "Agent not found"}"#).0,
            "Agent not found"
        );
        assert_eq!(
            server_reason(
                r#"{"success": false, "message": "Invalid.", "code": "INVALID_AGENT_DIRECTION", "errors": {"direction": ["The selected direction is invalid."]}}"#
            ),
            (
                "Invalid. [INVALID_AGENT_DIRECTION] direction: The selected direction is invalid."
                    .to_owned(),
                Some("INVALID_AGENT_DIRECTION".to_owned())
            )
        );
        assert_eq!(
            server_reason(r#"{"success": false, "error": {"code": "DID_IN_USE", "message": "Number in use", "details": null}}"#).0,
            "Number in use [DID_IN_USE]"
        );
        assert_eq!(
            server_reason("<html>Bad gateway</html>").0,
            "<html>Bad gateway</html>"
        );
        assert_eq!(server_reason("").0, "(empty body)");
    }

    #[test]
    fn a_token_echoed_by_the_server_is_scrubbed() {
        let error = ApiError::from_response(
            "GET /api/v1/agents".into(),
            401,
            r#"{"message": "bad token talq_secret"}"#,
            &super::super::Token::from_variable("TOKEN_STAGING", "talq_secret"),
        );
        let text = error.to_string();
        assert!(!text.contains("talq_secret"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        // The message names the variable the token came from.
        assert!(text.contains("the token in TOKEN_STAGING"), "{text}");
    }
}
