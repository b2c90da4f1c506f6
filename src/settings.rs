//! The settings the rest of talkops runs with, once the command line and the environment
//! are resolved (in `commands`): where the API is, the token, and how to print. Nothing here
//! knows the clap types.

use crate::api::{ClientOptions, Token};
use crate::render::Style;

/// The environment variable that holds the API token.
pub const TOKEN_VAR: &str = "TALKOVER_TOKEN";

/// What a command that talks to the API needs.
#[derive(Debug)]
pub struct Settings {
    /// Base URL without a trailing slash.
    pub api_url: String,
    pub token: Token,
    pub client: ClientOptions,
}

impl Settings {
    /// Reads the token from `TALKOVER_TOKEN` and checks the URL.
    pub fn resolve(api_url: &str, client: ClientOptions) -> Result<Settings, SettingsError> {
        Settings::from_variable(TOKEN_VAR, api_url, client)
    }

    /// Reads the token from the variable `var` (a project environment's `token_env`) and
    /// checks the URL.
    pub fn from_variable(
        var: &str,
        api_url: &str,
        client: ClientOptions,
    ) -> Result<Settings, SettingsError> {
        let token = match std::env::var(var) {
            Ok(token) if !token.trim().is_empty() => Token::from_variable(var, token.trim()),
            Ok(_) => return Err(SettingsError::TokenEmpty(var.to_owned())),
            Err(std::env::VarError::NotPresent) => {
                return Err(SettingsError::TokenNotSet(var.to_owned()))
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(SettingsError::TokenNotUnicode(var.to_owned()))
            }
        };
        // The URL is echoed in messages (errors, saved plans); should the token have been put
        // there by mistake (the two variables swapped), it must not be echoed with it.
        if api_url.contains(token.expose()) {
            return Err(SettingsError::TokenInUrl(var.to_owned()));
        }
        let api_url = check_api_url(api_url)?;
        Ok(Settings {
            api_url,
            token,
            client,
        })
    }
}

/// Whether the variable `var` holds a usable token (set, UTF-8, and not blank). Never
/// returns the value.
pub fn token_is_set(var: &str) -> bool {
    std::env::var(var).is_ok_and(|value| !value.trim().is_empty())
}

/// Whether `text` (a URL about to be shown) contains the token in `var`.
pub fn shows_token(text: &str, var: &str) -> bool {
    std::env::var(var).is_ok_and(|token| {
        let token = token.trim();
        !token.is_empty() && text.contains(token)
    })
}

/// What is wrong with the token or the API URL. No message shows the token, or any part of
/// the URL that may hold a secret. The token variants name the variable read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{0} is not set: set it to the API token of the Talkover environment to manage")]
    TokenNotSet(String),
    #[error("{0} is empty: set it to the API token of the Talkover environment to manage")]
    TokenEmpty(String),
    #[error("{0} is not valid UTF-8")]
    TokenNotUnicode(String),
    #[error("the API URL contains the token (not shown): give the base URL there and the token in {0} only")]
    TokenInUrl(String),
    /// The text is not shown: an unparsable URL cannot be told apart from its secrets.
    #[error("{URL_WHAT} is not a valid URL ({0}); it is not shown here, as it may hold a secret")]
    InvalidUrl(String),
    #[error("{URL_WHAT} must not contain a user name or password (not shown); the token goes in {TOKEN_VAR}")]
    Credentials,
    #[error("{URL_WHAT} must not contain a query string (`?...`, not shown); give the base URL, e.g. https://app.talkover.ai, and the token in {TOKEN_VAR}")]
    Query,
    #[error("{URL_WHAT} must not contain a fragment (`#...`, not shown); give the base URL, e.g. https://app.talkover.ai")]
    Fragment,
    /// Only the host is shown: a path may hold a secret too.
    #[error("refusing to send the token over plain http to host {0:?}: use https (plain http is allowed only for localhost)")]
    PlainHttp(String),
    #[error("{URL_WHAT} has scheme {0:?}: use https")]
    Scheme(String),
}

/// How messages name the API URL setting.
const URL_WHAT: &str = "--api-url / TALKOVER_API_URL";

/// Accepts `https://` anywhere and plain `http://` only on loopback, where the token cannot
/// leave the machine (the simulator, the demo, tests). A URL with a user name, password,
/// query or fragment is refused without being echoed: those are where secrets get pasted.
pub fn check_api_url(text: &str) -> Result<String, SettingsError> {
    let url =
        reqwest::Url::parse(text).map_err(|err| SettingsError::InvalidUrl(err.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SettingsError::Credentials);
    }
    if url.query().is_some() {
        return Err(SettingsError::Query);
    }
    if url.fragment().is_some() {
        return Err(SettingsError::Fragment);
    }
    let loopback = crate::api::is_loopback(&url);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(SettingsError::PlainHttp(
                url.host_str().unwrap_or("").to_owned(),
            ))
        }
        other => return Err(SettingsError::Scheme(other.to_owned())),
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// How plans and reports are printed: the format, and the style with colour already
/// decided (`auto` is resolved once, where the command starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output {
    pub format: OutputFormat,
    pub style: Style,
}

/// The output format of plans and reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Markdown,
    Json,
}

/// The style for `--color`: `Some(true)` always, `Some(false)` never, `None` auto, decided by
/// `anstream` as clap decides for its own help: colour when stdout is a terminal whose `TERM`
/// is set and not `dumb`; never when `NO_COLOR` is set (https://no-color.org) or `CLICOLOR=0`;
/// always when `CLICOLOR_FORCE` is set, terminal or not (https://bixense.com/clicolors).
/// Those variables weigh on `auto` only: an explicit `--color always` or `never` is a request.
pub fn style_for(color: Option<bool>) -> Style {
    let color = match color {
        Some(color) => color,
        None => {
            let choice = anstream::AutoStream::choice(&std::io::stdout());
            !matches!(choice, anstream::ColorChoice::Never)
        }
    };
    Style { color }
}

#[cfg(test)]
mod tests {
    use super::check_api_url;

    #[test]
    fn plain_http_only_on_loopback() {
        assert_eq!(
            check_api_url("https://app.talkover.ai/").unwrap(),
            "https://app.talkover.ai"
        );
        assert!(check_api_url("http://127.0.0.1:8080").is_ok());
        assert!(check_api_url("http://localhost:1").is_ok());
        assert!(check_api_url("http://[::1]:1").is_ok());
        assert!(check_api_url("http://app.talkover.ai").is_err());
        assert!(check_api_url("ftp://x").is_err());
        assert!(check_api_url("not a url").is_err());
        assert!(check_api_url("https://user:pw@app.talkover.ai").is_err());
    }

    #[test]
    fn secrets_in_the_url_are_refused_and_never_echoed() {
        for (url, secret) in [
            ("https://user:hunter2@app.talkover.ai:99999", "hunter2"),
            ("https://user:hunter2@app.talkover.ai", "hunter2"),
            ("https://hunter2@app.talkover.ai", "hunter2"),
            ("https://app.talkover.ai/?token=hunter2", "hunter2"),
            ("https://app.talkover.ai/#hunter2", "hunter2"),
            ("not a url hunter2", "hunter2"),
        ] {
            let err = match check_api_url(url) {
                Ok(ok) => panic!("{url} accepted as {ok}"),
                Err(err) => format!("{err:#}"),
            };
            assert!(!err.contains(secret), "{url}: {err}");
        }
    }
}
