//! The one test harness: a builder that starts the simulator with a given environment, writes
//! config files to a temporary directory, runs the `talkops` binary there, and returns its
//! output, exit code and the simulator's journal and end state.
//!
//! Every run also asserts that the token never appears in stdout or stderr.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use talkover_sim::{
    AgentState, JournalEntry, Seed, SeedAgent, SeedPhoneNumber, SimConfig, SimHandle,
};
use tempfile::TempDir;

/// The token the simulator accepts; a distinctive string so that a leak cannot go unseen.
pub const TOKEN: &str = "talq_TEST_SECRET_b7c9e2f4a1d8";

/// The standard environment most tests start from.
///
/// | id  | name        | direction | numbers          | status    |
/// |-----|-------------|-----------|------------------|-----------|
/// | a-1 | Support     | inbound   | n-100, n-101     | published |
/// | a-2 | Sales       | outbound  | n-200            | published |
/// | a-3 | Callback    | inbound   | n-200            | published | (callback role)
/// | a-4 | Night       | inbound   | n-400            | published |
/// | a-5 | Legacy IVR  | inbound   | n-500            | published |
/// | a-6 | Twin        | outbound  |                  | published |
/// | a-7 | Twin        | outbound  |                  | draft     |
///
/// n-300 (+14155550300) and n-301 (+14155550301) are free numbers.
pub fn standard_seed() -> Seed {
    let numbers = [
        ("n-100", "+14155550100"),
        ("n-101", "+14155550101"),
        ("n-200", "+14155550200"),
        ("n-300", "+14155550300"),
        ("n-301", "+14155550301"),
        ("n-400", "+14155550400"),
        ("n-500", "+14155550500"),
    ];
    let agents: [(&str, &str, &str, &[&str], &str); 7] = [
        (
            "a-1",
            "Support",
            "inbound",
            &["n-100", "n-101"],
            "published",
        ),
        ("a-2", "Sales", "outbound", &["n-200"], "published"),
        ("a-3", "Callback", "inbound", &["n-200"], "published"),
        ("a-4", "Night", "inbound", &["n-400"], "published"),
        ("a-5", "Legacy IVR", "inbound", &["n-500"], "published"),
        ("a-6", "Twin", "outbound", &[], "published"),
        ("a-7", "Twin", "outbound", &[], "draft"),
    ];
    Seed {
        phone_numbers: numbers
            .iter()
            .map(|(id, number)| SeedPhoneNumber {
                id: (*id).into(),
                number: (*number).into(),
                country_code: None,
                formatted_number: None,
                r#type: None,
            })
            .collect(),
        agents: agents
            .iter()
            .map(|(id, name, direction, phones, status)| SeedAgent {
                id: (*id).into(),
                name: (*name).into(),
                label: None,
                direction: (*direction).into(),
                current_status: (*status).into(),
                phone_number_ids: phones.iter().map(|p| (*p).to_owned()).collect(),
                callback: *id == "a-3",
            })
            .collect(),
    }
}

/// A config that matches [`standard_seed`] exactly.
pub const MATCHING: &str = r#"agents:
  - name: Support
    direction: inbound
    phone_numbers: ["+14155550100", "+14155550101"]
  - name: Sales
    direction: outbound
    phone_numbers: ["+14155550200"]
  - name: Callback
    direction: inbound
    phone_numbers: ["+14155550200"]
  - name: Night
    direction: inbound
    phone_numbers: ["+14155550400"]
"#;

/// A change to the simulator's configuration, applied before it starts.
type Tweak = Box<dyn FnOnce(&mut SimConfig)>;

/// Builds one run of the binary against a fresh simulator.
pub struct Test {
    seed: Seed,
    page_size_cap: usize,
    files: Vec<(String, String)>,
    args: Vec<String>,
    token: Option<String>,
    api_url: Option<String>,
    terminal: Option<String>,
    no_color: bool,
    refused: Vec<(String, String)>,
    merge_numbers_on_put: bool,
    tweaks: Vec<Tweak>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
}

/// A run of talkops in progress.
pub struct Running {
    child: std::process::Child,
    before: usize,
}

impl Running {
    /// The process id, to signal it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A run of talkops whose output the test reads while it runs, and whose stdin stays open
/// (for a prompt): see [`Scenario::spawn_watched`] and [`Scenario::spawn_terminal`].
pub struct Watched {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    before: usize,
}

/// Copies a stream into a shared buffer until it ends.
fn drain(
    mut stream: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = stream.read(&mut chunk) {
            if n == 0 {
                break;
            }
            into.lock()
                .expect("output buffer")
                .extend_from_slice(&chunk[..n]);
        }
    })
}

impl Watched {
    /// What talkops has written to stdout so far (on a terminal: stdout and stderr).
    pub fn stdout_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().expect("output buffer")).into_owned()
    }

    /// Waits until stdout holds `text`, polling; fails after 60 seconds or if talkops exits
    /// first.
    #[track_caller]
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.stdout_so_far().contains(text) {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Its last output may still be in the pipe.
                std::thread::sleep(Duration::from_millis(50));
                assert!(
                    self.stdout_so_far().contains(text),
                    "talkops ended ({status}) before writing {text:?}:\n{}",
                    self.stdout_so_far()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "talkops did not write {text:?}:\n{}",
                self.stdout_so_far()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal (`"TERM"`, `"HUP"`, `"INT"`) to talkops.
    #[track_caller]
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Types `text` on talkops' stdin (through the terminal for [`Scenario::spawn_terminal`]).
    #[track_caller]
    pub fn type_text(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin
            .write_all(text.as_bytes())
            .expect("talkops reads its stdin");
        stdin.flush().expect("talkops reads its stdin");
    }
}

/// What a run produced.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
    pub journal: Vec<JournalEntry>,
    pub agents: Vec<AgentState>,
}

impl Test {
    pub fn new() -> Test {
        Test {
            seed: standard_seed(),
            page_size_cap: 100,
            files: Vec::new(),
            args: Vec::new(),
            token: Some(TOKEN.to_owned()),
            api_url: None,
            terminal: None,
            no_color: false,
            refused: Vec::new(),
            merge_numbers_on_put: false,
            tweaks: Vec::new(),
            env: Vec::new(),
            stdin: None,
        }
    }

    /// Starts from this environment instead of the standard one.
    pub fn seed(mut self, seed: Seed) -> Test {
        self.seed = seed;
        self
    }

    /// Adjusts the simulator's configuration (its fault knobs) before it starts.
    pub fn sim(mut self, tweak: impl FnOnce(&mut SimConfig) + 'static) -> Test {
        self.tweaks.push(Box::new(tweak));
        self
    }

    /// Makes the simulator's PUT merge numbers instead of replacing them.
    pub fn merge_numbers_on_put(mut self) -> Test {
        self.merge_numbers_on_put = true;
        self
    }

    /// Makes the simulator refuse every PUT to `agent_id` with 422 and `message`.
    pub fn refuse(mut self, agent_id: &str, message: &str) -> Test {
        self.refused.push((agent_id.to_owned(), message.to_owned()));
        self
    }

    /// Runs talkops on a pseudo-terminal (through util-linux `script`) and types `input`.
    /// stdout and stderr then arrive together in `Output::stdout`, with `\r\n` line ends.
    pub fn terminal(mut self, input: &str) -> Test {
        self.terminal = Some(input.to_owned());
        self
    }

    /// Sets NO_COLOR=1 for the run.
    pub fn no_color(mut self) -> Test {
        self.no_color = true;
        self
    }

    pub fn page_size_cap(mut self, cap: usize) -> Test {
        self.page_size_cap = cap;
        self
    }

    /// Writes a config file at `path`, relative to the run's working directory.
    pub fn file(mut self, path: &str, text: &str) -> Test {
        self.files.push((path.to_owned(), text.to_owned()));
        self
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args = args.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    /// The TALKOVER_TOKEN to run with; `None` leaves it unset.
    pub fn token(mut self, token: Option<&str>) -> Test {
        self.token = token.map(str::to_owned);
        self
    }

    /// Sets an environment variable for the run (e.g. `HTTP_PROXY`).
    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Feeds these bytes to talkops' stdin (a pipe) instead of leaving it empty.
    pub fn stdin(mut self, input: &str) -> Test {
        self.stdin = Some(input.as_bytes().to_vec());
        self
    }

    /// Overrides TALKOVER_API_URL (default: the simulator's URL).
    pub fn api_url(mut self, url: &str) -> Test {
        self.api_url = Some(url.to_owned());
        self
    }

    /// Starts the simulator and writes the files, for tests that run talkops more than once
    /// against the same server.
    pub fn start(self) -> Scenario {
        let mut config = SimConfig::new(TOKEN, self.seed);
        config.page_size_cap = self.page_size_cap;
        config.refused_agents = self.refused.into_iter().collect();
        config.merge_numbers_on_put = self.merge_numbers_on_put;
        for tweak in self.tweaks {
            tweak(&mut config);
        }
        let sim = talkover_sim::spawn(config, 0).expect("the simulator starts");
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (path, text) in &self.files {
            write(&dir.path().join(path), text);
        }
        Scenario {
            sim,
            dir,
            token: self.token,
            api_url: self.api_url,
            no_color: self.no_color,
            env: self.env,
            stdin: self.stdin,
        }
    }

    /// Starts a scenario and runs talkops once with the builder's arguments.
    #[track_caller]
    pub fn run(self) -> Output {
        let args = self.args.clone();
        let terminal = self.terminal.clone();
        self.start().run_with(&args, terminal.as_deref())
    }
}

/// A running simulator and a directory of config files; talkops can be run against them
/// any number of times.
pub struct Scenario {
    sim: SimHandle,
    dir: TempDir,
    token: Option<String>,
    api_url: Option<String>,
    no_color: bool,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
}

impl Scenario {
    /// The simulator's base URL.
    pub fn url(&self) -> String {
        self.sim.url()
    }

    /// The directory talkops runs in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs talkops with `args`; the output's journal holds only this run's requests.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        self.run_with(&args, None)
    }

    /// Every request the simulator has seen so far.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.sim.journal()
    }

    /// Starts talkops without waiting for it, for tests that signal it mid-run.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let before = self.sim.journal().len();
        let mut command = Command::new(env!("CARGO_BIN_EXE_talkops"));
        command.args(args).stdin(Stdio::null());
        self.environment(&mut command);
        Running {
            child: command.spawn().expect("talkops runs"),
            before,
        }
    }

    /// Starts talkops with stdout and stderr read as it runs (see [`Watched::wait_for`]).
    pub fn spawn_watched(&self, args: &[&str]) -> Watched {
        let mut command = Command::new(env!("CARGO_BIN_EXE_talkops"));
        command.args(args).stdin(Stdio::null());
        self.watch(command)
    }

    /// Starts talkops on a pseudo-terminal (util-linux `script`) whose input stays open, so
    /// that the test can wait for a prompt, act, then answer it ([`Watched::type_text`]).
    /// stdout and stderr arrive together in stdout, with `\r\n` line ends.
    pub fn spawn_terminal(&self, args: &[&str]) -> Watched {
        let mut command = Command::new("script");
        command
            .args(["-qec", &shell_line(args), "/dev/null"])
            .stdin(Stdio::piped());
        self.watch(command)
    }

    fn watch(&self, mut command: Command) -> Watched {
        let before = self.sim.journal().len();
        self.environment(&mut command);
        let mut child = command.spawn().expect("talkops runs");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            drain(child.stdout.take().expect("piped stdout"), stdout.clone()),
            drain(child.stderr.take().expect("piped stderr"), stderr.clone()),
        ];
        Watched {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            readers,
            before,
        }
    }

    /// Waits for a run started with [`Scenario::spawn_watched`] or
    /// [`Scenario::spawn_terminal`].
    #[track_caller]
    pub fn finish_watched(&self, mut watched: Watched) -> Output {
        drop(watched.stdin.take());
        let status = watched.child.wait().expect("talkops finishes");
        for reader in watched.readers.drain(..) {
            reader.join().expect("output reader");
        }
        let take = |buffer: &Arc<Mutex<Vec<u8>>>| {
            std::mem::take(&mut *buffer.lock().expect("output buffer"))
        };
        let output = std::process::Output {
            status,
            stdout: take(&watched.stdout),
            stderr: take(&watched.stderr),
        };
        self.output(output, watched.before)
    }

    /// Runs talkops with stdout a pipe whose read end is closed before talkops starts, so
    /// that every write to stdout fails (EPIPE), as under `| head -0`. (A shell waits for a
    /// go-ahead line on stdin while the test closes the read end, then execs talkops: the
    /// order is certain without `std::io::pipe`, which is newer than the MSRV.)
    #[track_caller]
    pub fn run_with_closed_stdout(&self, args: &[&str]) -> Output {
        let before = self.sim.journal().len();
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                r#"read -r _ && exec "$0" "$@""#,
                env!("CARGO_BIN_EXE_talkops"),
            ])
            .args(args);
        self.environment(&mut command);
        command.stdin(Stdio::piped());
        let mut child = command.spawn().expect("talkops runs");
        drop(child.stdout.take());
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(b"go\n")
            .expect("the shell reads its go-ahead");
        drop(stdin);
        let output = child.wait_with_output().expect("talkops finishes");
        self.output(output, before)
    }

    /// Waits for a run started with [`Scenario::spawn`].
    #[track_caller]
    pub fn finish(&self, running: Running) -> Output {
        let output = running.child.wait_with_output().expect("talkops finishes");
        self.output(output, running.before)
    }

    fn environment(&self, command: &mut Command) {
        command
            .current_dir(self.dir.path())
            .env(
                "TALKOVER_API_URL",
                self.api_url.clone().unwrap_or_else(|| self.sim.url()),
            )
            .env_remove("TALKOVER_TOKEN")
            .env_remove("NO_COLOR")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(token) = &self.token {
            command.env("TALKOVER_TOKEN", token);
        }
        if self.no_color {
            command.env("NO_COLOR", "1");
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
    }

    #[track_caller]
    fn output(&self, output: std::process::Output, before: usize) -> Output {
        let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
        let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
        for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains(TOKEN),
                "the token leaked into {stream}:\n{text}"
            );
        }
        Output {
            stdout,
            stderr,
            code: output.status.code().unwrap_or(-1),
            journal: self.sim.journal().split_off(before),
            agents: self.sim.agents(),
        }
    }

    #[track_caller]
    fn run_with(&self, args: &[String], terminal: Option<&str>) -> Output {
        let before = self.sim.journal().len();
        let binary = env!("CARGO_BIN_EXE_talkops");
        let mut command = match terminal {
            None => {
                let mut command = Command::new(binary);
                command.args(args).stdin(if self.stdin.is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                });
                command
            }
            Some(_) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let line = shell_line(&args);
                let mut command = Command::new("script");
                command
                    .args(["-qec", &line, "/dev/null"])
                    .stdin(Stdio::piped());
                command
            }
        };
        self.environment(&mut command);
        let mut child = command.spawn().expect("talkops runs");
        let input = terminal
            .map(|t| t.as_bytes().to_vec())
            .or_else(|| self.stdin.clone());
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            // talkops may exit before reading all of it (a broken pipe here is its business).
            let _ = stdin.write_all(&input);
        }
        let output = child.wait_with_output().expect("talkops finishes");
        self.output(output, before)
    }
}

/// The talkops command line with `args`, quoted for `script -c`.
fn shell_line(args: &[&str]) -> String {
    std::iter::once(env!("CARGO_BIN_EXE_talkops"))
        .chain(args.iter().copied())
        .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create config directory");
    }
    std::fs::write(path, text).expect("write config file");
}

impl Output {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Output {
        assert_eq!(
            self.code, expected,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The PUTs the simulator received.
    pub fn puts(&self) -> Vec<&JournalEntry> {
        self.journal.iter().filter(|e| e.method == "PUT").collect()
    }

    /// Paths of the PUTs, sorted: for PUTs that may run concurrently in any order.
    pub fn put_set(&self) -> Vec<&str> {
        let mut paths = self.put_paths();
        paths.sort_unstable();
        paths
    }

    /// The one PUT to an agent.
    #[track_caller]
    pub fn put_to(&self, agent: &str) -> &JournalEntry {
        let path = format!("/api/v1/agents/{agent}/calling");
        let mut found = self
            .journal
            .iter()
            .filter(|e| e.method == "PUT" && e.path == path);
        let entry = found.next().unwrap_or_else(|| panic!("no PUT to {agent}"));
        assert!(found.next().is_none(), "more than one PUT to {agent}");
        entry
    }

    /// Paths of the PUTs, in order.
    pub fn put_paths(&self) -> Vec<&str> {
        self.puts().iter().map(|e| e.path.as_str()).collect()
    }

    /// Asserts that nothing was written.
    #[track_caller]
    pub fn wrote_nothing(&self) -> &Output {
        let writes: Vec<_> = self.journal.iter().filter(|e| e.is_write()).collect();
        assert!(writes.is_empty(), "expected no writes, got {writes:#?}");
        self
    }

    /// Asserts that stderr contains every fragment.
    #[track_caller]
    pub fn stderr_has(&self, fragments: &[&str]) -> &Output {
        for fragment in fragments {
            assert!(
                self.stderr.contains(fragment),
                "stderr lacks {fragment:?}:\n{}",
                self.stderr
            );
        }
        self
    }

    /// The end state of one agent.
    #[track_caller]
    pub fn agent(&self, id: &str) -> &AgentState {
        self.agents
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("no agent {id} in the simulator"))
    }
}
