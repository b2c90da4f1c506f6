//! The simulator in its own process, and what the benchmark reads back from it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde::Deserialize;

use crate::cli::Options;
use crate::workload::AgentState;

/// The token the benchmark's simulator accepts; it guards nothing.
pub const TOKEN: &str = "talq_bench_local";

/// One entry of `GET /_sim/journal`, the field the benchmark counts.
#[derive(Deserialize)]
pub struct Entry {
    pub status: u16,
}

/// A running `talkover-sim`, killed on drop.
pub struct Sim {
    child: Child,
    pub url: String,
    client: reqwest::blocking::Client,
}

impl Sim {
    pub fn start(binary: &Path, seed: &Path, options: &Options) -> Result<Sim, String> {
        let mut command = Command::new(binary);
        command
            .args(["--port", "0", "--seed"])
            .arg(seed)
            .args(["--latency-ms", &options.latency_ms.to_string()])
            .args(["--page-size-cap", &options.page_cap.to_string()])
            .env("TALKOVER_SIM_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(limit) = &options.rate_limit {
            command.args(["--rate-limit", limit]);
        }
        if let Some(every) = options.every_nth_429 {
            // A 429 with Retry-After: 1 on every Nth request: a storm the client must ride out.
            command.args([
                "--rate-limit-every",
                &every.to_string(),
                "--retry-after",
                "1",
            ]);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the simulator: {e}"))?;
        let stdout = child.stdout.take().ok_or("no simulator stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the simulator's URL: {e}"))?;
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://"))
            .ok_or(format!("unexpected simulator output {line:?}"))?
            .to_owned();
        // No proxy: the environment may name one, and loopback must be reached directly.
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Sim { child, url, client })
    }

    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, String> {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .and_then(reqwest::blocking::Response::json)
            .map_err(|e| format!("{path}: {e}"))
    }

    /// `GET /_sim/journal`: every request the simulator has answered, in arrival order.
    pub fn journal(&self) -> Result<Vec<Entry>, String> {
        self.get("/_sim/journal")
    }

    /// `GET /_sim/state`: every agent as it stands.
    pub fn state(&self) -> Result<Vec<AgentState>, String> {
        self.get("/_sim/state")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
