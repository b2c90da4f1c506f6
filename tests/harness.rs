//! The one test harness: a builder that starts the simulator with a given environment, writes
//! config files to a temporary directory, runs the `talkops` binary there, and returns its
//! output, exit code and the simulator's journal and end state.
//!
//! Every run also asserts, as `just`'s `tests/test.rs` does, what every test would otherwise
//! have to remember:
//! - its exit code: 0 unless the test states another before running ([`Test::expect_code`],
//!   [`Scenario::run_expect`]); a different code fails the test with stdout and stderr shown;
//! - that it ends within [`RUN_TIMEOUT`]: a hung binary is killed and fails its test, with
//!   its output so far, instead of hanging CI (a bound on hangs, not a speed assertion);
//! - that a successful `apply` converged: the harness runs `plan --detailed-exitcode` with the
//!   same config paths (and `--target`s) against the same simulator and asserts exit 0 and no
//!   writes. A test whose apply legitimately does not converge opts out with a reason
//!   ([`Test::not_convergent`]);
//! - that the token never appears in stdout or stderr.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
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

/// `n` outbound agents with long names and no numbers, and `n` free numbers; the config
/// gives each agent its number: `n` changes, a lot of Markdown.
pub fn many_changes(n: usize) -> (Seed, String) {
    let mut seed = Seed::default();
    let mut config = String::from("agents:\n");
    for i in 0..n {
        seed.phone_numbers.push(SeedPhoneNumber {
            id: format!("n{i}"),
            number: format!("+1415{i:07}"),
            country_code: None,
            formatted_number: None,
            r#type: None,
        });
        seed.agents.push(SeedAgent {
            id: format!("agent-{i:04}"),
            name: format!("Agent with a fairly long descriptive name number {i:04}"),
            label: None,
            direction: "outbound".into(),
            current_status: "published".into(),
            phone_number_ids: Vec::new(),
            callback: false,
        });
        config.push_str(&format!(
            "  - id: agent-{i:04}\n    direction: outbound\n    phone_numbers: [\"+1415{i:07}\"]\n"
        ));
    }
    (seed, config)
}

/// Asserts that `text` (the stream `stream` of a run) contains every one of `fragments`.
#[track_caller]
pub fn assert_has(stream: &str, text: &str, fragments: &[&str]) {
    for fragment in fragments {
        assert!(
            text.contains(fragment),
            "{stream} lacks {fragment:?}:\n{text}"
        );
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

/// How long one run of talkops may take before the harness kills it and fails its test.
/// Generous on purpose (the slowest test, with its retries and 1.5 s latencies, takes a few
/// seconds): it turns a hung binary into a failure instead of a hung CI job, and says nothing
/// about speed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// How often a bounded wait looks at the child again. Short, since every run waits for it
/// once after the child has ended.
const POLL: Duration = Duration::from_millis(5);

/// The exit code a run must end with.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Code(i32),
    /// For the few runs that may end either way; the test reads [`Output::code`] itself.
    Any,
}

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
    expect: Expect,
    not_convergent: Option<&'static str>,
}

/// A started child whose stdout and stderr are copied into buffers as it runs, so that the
/// harness can wait for it with a deadline and still show what it wrote. Public for the
/// tests that run talkops against more than one simulator (`projects`).
pub struct Child {
    child: std::process::Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Child {
    /// Spawns `command` (whose stdout and stderr must be piped) in a process group of its
    /// own, so that a timeout kills what it started too (`script`'s shell and talkops).
    pub fn spawn(mut command: Command) -> Child {
        command.process_group(0);
        let mut child = command.spawn().expect("talkops runs");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            drain(child.stdout.take().expect("piped stdout"), stdout.clone()),
            drain(child.stderr.take().expect("piped stderr"), stderr.clone()),
        ];
        Child {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// Waits for the child to end and its output to be read, at most [`RUN_TIMEOUT`] in all;
    /// past it, kills the child's process group and fails with the output so far.
    #[track_caller]
    pub fn wait(mut self, what: &str) -> std::process::Output {
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("talkops can be waited for") {
                break status;
            }
            if Instant::now() >= deadline {
                self.kill_and_fail(what);
            }
            std::thread::sleep(POLL);
        };
        // The pipes close when the last process holding them ends; a leftover grandchild
        // could keep them open, so this wait is bounded too.
        while !self.readers.iter().all(|r| r.is_finished()) {
            if Instant::now() >= deadline {
                self.kill_and_fail(what);
            }
            std::thread::sleep(POLL);
        }
        for reader in self.readers.drain(..) {
            reader.join().expect("output reader");
        }
        std::process::Output {
            status,
            stdout: take(&self.stdout),
            stderr: take(&self.stderr),
        }
    }

    /// The child's stdin, when the command piped it.
    pub fn take_stdin(&mut self) -> Option<std::process::ChildStdin> {
        self.child.stdin.take()
    }

    /// Sends the signal `name` (e.g. `TERM`) to the child.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits, at most [`RUN_TIMEOUT`], until the child has written `text` to stderr.
    #[track_caller]
    pub fn wait_for_stderr(&mut self, text: &str) {
        let deadline = Instant::now() + RUN_TIMEOUT;
        while !String::from_utf8_lossy(&self.stderr.lock().expect("output buffer")).contains(text) {
            if Instant::now() >= deadline {
                self.kill_and_fail(&format!("waiting for {text:?} on stderr"));
            }
            std::thread::sleep(POLL);
        }
    }

    #[track_caller]
    fn kill_and_fail(&mut self, what: &str) -> ! {
        // The whole group: `script` leaves talkops behind it otherwise.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let shown = |buffer: &Arc<Mutex<Vec<u8>>>| {
            String::from_utf8_lossy(&buffer.lock().expect("output buffer")).into_owned()
        };
        panic!(
            "{what} did not finish within {RUN_TIMEOUT:?} and was killed\n--- stdout so far\n{}\n--- stderr so far\n{}",
            shown(&self.stdout),
            shown(&self.stderr)
        );
    }
}

fn take(buffer: &Arc<Mutex<Vec<u8>>>) -> Vec<u8> {
    std::mem::take(&mut *buffer.lock().expect("output buffer"))
}

/// A run of talkops in progress.
pub struct Running {
    child: Child,
    args: Vec<String>,
    before: usize,
}

impl Running {
    /// The process id, to signal it.
    pub fn pid(&self) -> u32 {
        self.child.child.id()
    }
}

/// A run of talkops whose output the test reads while it runs, and whose stdin stays open
/// (for a prompt): see [`Scenario::spawn_watched`] and [`Scenario::spawn_terminal`].
pub struct Watched {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    args: Vec<String>,
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
        String::from_utf8_lossy(&self.child.stdout.lock().expect("output buffer")).into_owned()
    }

    /// Waits until stdout holds `text`, polling; fails after 60 seconds or if talkops exits
    /// first.
    #[track_caller]
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.stdout_so_far().contains(text) {
            if let Ok(Some(status)) = self.child.child.try_wait() {
                // Its last output may still be in the pipe: wait (bounded) for the readers.
                let readers_done = Instant::now() + Duration::from_secs(10);
                while !self.child.readers.iter().all(|r| r.is_finished())
                    && Instant::now() < readers_done
                {
                    std::thread::sleep(POLL);
                }
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
            .args([format!("-{name}"), self.child.child.id().to_string()])
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
    /// The exit code (-1 if killed by a signal); already asserted unless the run was built
    /// with [`Test::any_code`].
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
            expect: Expect::Code(0),
            not_convergent: None,
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

    /// GuardFlags TALKOVER_API_URL (default: the simulator's URL).
    pub fn api_url(mut self, url: &str) -> Test {
        self.api_url = Some(url.to_owned());
        self
    }

    /// The exit code [`Test::run`] must end with (default 0).
    pub fn expect_code(mut self, code: i32) -> Test {
        self.expect = Expect::Code(code);
        self
    }

    /// Lets [`Test::run`] end with any code, for a test that checks `Output::code` itself
    /// (e.g. "not a panic", or a case table of valid and invalid inputs).
    pub fn any_code(mut self) -> Test {
        self.expect = Expect::Any;
        self
    }

    /// Skips the convergence check after every successful `apply` of this test (its
    /// [`Test::run`], or every run of its [`Scenario`]), because `reason`: for a simulator
    /// whose answers a second plan would not agree with, not to hide a bug.
    pub fn not_convergent(mut self, reason: &'static str) -> Test {
        self.not_convergent = Some(reason);
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
            not_convergent: self.not_convergent,
            saved_plans: Mutex::new(Vec::new()),
        }
    }

    /// Starts a scenario and runs talkops once with the builder's arguments, asserting its
    /// exit code (see [`Test::expect_code`]).
    #[track_caller]
    pub fn run(self) -> Output {
        let args = self.args.clone();
        let terminal = self.terminal.clone();
        let expect = self.expect;
        self.start().run_with(expect, &args, terminal.as_deref())
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
    not_convergent: Option<&'static str>,
    /// The plans saved by `plan --out` runs: (file, its config paths), so that
    /// an `apply --plan FILE` without config paths can still be checked for convergence.
    saved_plans: Mutex<Vec<(String, Vec<String>)>>,
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

    /// Runs talkops with `args` and asserts exit 0; the output's journal holds only this
    /// run's requests.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_expect(0, args)
    }

    /// Runs talkops with `args` and asserts exit `code`. (The code comes first so that it
    /// reads as the expectation, ahead of a long argument list.)
    #[track_caller]
    pub fn run_expect(&self, code: i32, args: &[&str]) -> Output {
        self.run_with(Expect::Code(code), &owned(args), None)
    }

    /// Every request the simulator has seen so far.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.sim.journal()
    }

    /// Starts talkops without waiting for it, for tests that signal it mid-run.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let before = self.sim.journal().len();
        let mut command = Command::new(env!("CARGO_BIN_EXE_talkops"));
        command.args(args);
        self.environment(&mut command);
        command.stdin(Stdio::null());
        Running {
            child: Child::spawn(command),
            args: owned(args),
            before,
        }
    }

    /// Starts talkops with stdout and stderr read as it runs (see [`Watched::wait_for`]).
    pub fn spawn_watched(&self, args: &[&str]) -> Watched {
        let mut command = Command::new(env!("CARGO_BIN_EXE_talkops"));
        command.args(args);
        self.watch(command, args, Stdio::null())
    }

    /// Starts talkops on a pseudo-terminal (util-linux `script`) whose input stays open, so
    /// that the test can wait for a prompt, act, then answer it ([`Watched::type_text`]).
    /// stdout and stderr arrive together in stdout, with `\r\n` line ends.
    pub fn spawn_terminal(&self, args: &[&str]) -> Watched {
        let mut command = Command::new("script");
        command.args(["-qec", &shell_line(args), "/dev/null"]);
        self.watch(command, args, Stdio::piped())
    }

    fn watch(&self, mut command: Command, args: &[&str], stdin: Stdio) -> Watched {
        let before = self.sim.journal().len();
        self.environment(&mut command);
        command.stdin(stdin);
        let mut child = Child::spawn(command);
        Watched {
            stdin: child.child.stdin.take(),
            child,
            args: owned(args),
            before,
        }
    }

    /// Waits for a run started with [`Scenario::spawn_watched`] or
    /// [`Scenario::spawn_terminal`] and asserts that it ended with `code`.
    #[track_caller]
    pub fn finish_watched(&self, code: i32, mut watched: Watched) -> Output {
        drop(watched.stdin.take());
        let output = watched.child.wait("talkops");
        self.output(Expect::Code(code), &watched.args, output, watched.before)
    }

    /// Runs talkops with stdout a pipe whose read end is closed before talkops starts, so
    /// that every write to stdout fails (EPIPE), as under `| head -0`, and asserts that it
    /// ended with `code`. (A shell waits for a go-ahead line on stdin while the test closes
    /// the read end, then execs talkops: the order is certain without `std::io::pipe`, which
    /// is newer than the MSRV.)
    #[track_caller]
    pub fn run_with_closed_stdout(&self, code: i32, args: &[&str]) -> Output {
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
        command.stdin(Stdio::piped()).process_group(0);
        let mut child = command.spawn().expect("talkops runs");
        drop(child.stdout.take());
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![drain(
            child.stderr.take().expect("piped stderr"),
            stderr.clone(),
        )];
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(b"go\n")
            .expect("the shell reads its go-ahead");
        drop(stdin);
        let child = Child {
            child,
            stdout: Arc::new(Mutex::new(Vec::new())),
            stderr,
            readers,
        };
        let output = child.wait("talkops");
        self.output(Expect::Code(code), &owned(args), output, before)
    }

    /// Waits for a run started with [`Scenario::spawn`] and asserts that it ended with
    /// `code`.
    #[track_caller]
    pub fn finish(&self, code: i32, running: Running) -> Output {
        let output = running.child.wait("talkops");
        self.output(Expect::Code(code), &running.args, output, running.before)
    }

    fn environment(&self, command: &mut Command) {
        command
            .current_dir(self.dir.path())
            .env(
                "TALKOVER_API_URL",
                self.api_url.clone().unwrap_or_else(|| self.sim.url()),
            )
            .env_remove("TALKOVER_TOKEN")
            // The colour decision reads these (see `settings::style_for`): fixed here, so
            // that the caller's shell cannot colour a snapshot or uncolour a terminal run.
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            // anstream colours a dumb terminal when `CI` is set (as CI sets it for .ci/run).
            .env_remove("CI")
            .env("TERM", "xterm")
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

    /// Checks what every run must show (the token absent, the exit code expected), then,
    /// after an `apply` that succeeded, that it converged.
    #[track_caller]
    fn output(
        &self,
        expect: Expect,
        args: &[String],
        output: std::process::Output,
        before: usize,
    ) -> Output {
        let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
        let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
        for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains(TOKEN),
                "the token leaked into {stream}:\n{text}"
            );
        }
        let out = Output {
            stdout,
            stderr,
            code: output.status.code().unwrap_or(-1),
            journal: self.sim.journal().split_off(before),
            agents: self.sim.agents(),
        };
        if let Expect::Code(expected) = expect {
            assert_eq!(
                out.code, expected,
                "talkops {args:?} exited {}, expected {expected}\n--- stdout\n{}\n--- stderr\n{}",
                out.code, out.stdout, out.stderr
            );
        }
        let invocation = Invocation::parse(args);
        if let (Some(file), 0) = (&invocation.saved_plan_out, out.code) {
            self.saved_plans
                .lock()
                .expect("saved plans")
                .push((file.clone(), invocation.paths.clone()));
        }
        if invocation.command == "apply"
            && !invocation.help
            && out.code == 0
            && self.not_convergent.is_none()
        {
            self.check_convergence(&invocation, &out);
        }
        out
    }

    /// Plans the config that a successful apply just applied, against the same server: it
    /// must have nothing left to change.
    #[track_caller]
    fn check_convergence(&self, apply: &Invocation, applied: &Output) {
        let mut args = vec!["plan".to_owned(), "--detailed-exitcode".to_owned()];
        args.extend(apply.api.iter().cloned());
        match &apply.saved_plan_in {
            None => args.extend(apply.plan_args()),
            Some(file) => {
                // A saved plan was made for its own `--target`s, which the file records.
                let text = std::fs::read_to_string(self.dir().join(file)).expect("saved plan");
                let saved: serde_json::Value = serde_json::from_str(&text).expect("saved plan");
                for target in saved["targets"].as_array().into_iter().flatten() {
                    let target = target.as_str().expect("a target is a string");
                    args.extend(["--target".to_owned(), target.to_owned()]);
                }
                if apply.paths.is_empty() {
                    args.extend(self.saved_plan_paths(file));
                } else {
                    args.extend(apply.paths.iter().cloned());
                }
            }
        }
        let before = self.sim.journal().len();
        // With the scenario's stdin again, for a config read from `-` or /dev/stdin.
        let output = self.execute(&args, None, "the convergence check after apply");
        let code = output.status.code().unwrap_or(-1);
        let writes: Vec<_> = self
            .sim
            .journal()
            .split_off(before)
            .into_iter()
            .filter(JournalEntry::is_write)
            .collect();
        assert!(
            code == 0 && writes.is_empty(),
            "apply succeeded but did not converge: talkops {args:?} exited {code} (expected 0; \
             writes: {writes:?})\n--- plan stdout\n{}\n--- plan stderr\n{}\n--- apply stdout\n{}\n--- apply stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            applied.stdout,
            applied.stderr
        );
    }

    /// The config paths of the `plan --out` run of this scenario that saved `file`.
    #[track_caller]
    fn saved_plan_paths(&self, file: &str) -> Vec<String> {
        let saved = self.saved_plans.lock().expect("saved plans");
        let Some((_, paths)) = saved.iter().rev().find(|(f, _)| f == file) else {
            panic!(
                "harness: {file} was not saved by a `plan --out` of this scenario, so the \
                 config it came from is unknown: give the apply config paths, or build the \
                 test with `.not_convergent(reason)`"
            );
        };
        paths.clone()
    }

    #[track_caller]
    fn run_with(&self, expect: Expect, args: &[String], terminal: Option<&str>) -> Output {
        let before = self.sim.journal().len();
        let output = self.execute(args, terminal, "talkops");
        self.output(expect, args, output, before)
    }

    /// Runs talkops to its end (at most [`RUN_TIMEOUT`]), on a terminal if `terminal` is
    /// the input to type there, else with the scenario's stdin.
    #[track_caller]
    fn execute(&self, args: &[String], terminal: Option<&str>, what: &str) -> std::process::Output {
        let binary = env!("CARGO_BIN_EXE_talkops");
        let mut command = match terminal {
            None => {
                let mut command = Command::new(binary);
                command.args(args);
                command
            }
            Some(_) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let line = shell_line(&args);
                let mut command = Command::new("script");
                command.args(["-qec", &line, "/dev/null"]);
                command
            }
        };
        self.environment(&mut command);
        let input = terminal
            .map(|t| t.as_bytes().to_vec())
            .or_else(|| self.stdin.clone());
        command.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = Child::spawn(command);
        if let (Some(input), Some(mut stdin)) = (input, child.child.stdin.take()) {
            // A thread, so that a talkops that never reads cannot block the harness past
            // its timeout; talkops may also exit before reading all of it (a broken pipe
            // here is its business).
            std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        child.wait(what)
    }
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// What the harness needs to know of a talkops command line: the command, the config paths
/// and the flags a convergence plan must repeat. It knows every flag of `plan` and `apply`
/// and fails loudly on one it does not, so that a new flag cannot silently skip the check.
#[derive(Debug, Default)]
struct Invocation {
    command: String,
    /// `--api-url` and the retry and timeout flags, with their values.
    api: Vec<String>,
    /// `--target` flags, with their values.
    targets: Vec<String>,
    paths: Vec<String>,
    /// `apply --plan FILE`.
    saved_plan_in: Option<String>,
    /// `plan --out FILE`.
    saved_plan_out: Option<String>,
    /// `--help`: talkops prints its help and does nothing else.
    help: bool,
}

impl Invocation {
    fn parse(args: &[String]) -> Invocation {
        let mut invocation = Invocation::default();
        let Some((command, rest)) = args.split_first() else {
            return invocation;
        };
        invocation.command = command.clone();
        if command != "plan" && command != "apply" {
            return invocation;
        }
        let mut rest = rest.iter();
        let mut positional_only = false;
        while let Some(arg) = rest.next() {
            if positional_only || !arg.starts_with('-') || arg == "-" {
                invocation.paths.push(arg.clone());
                continue;
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            let mut value = || inline.clone().or_else(|| rest.next().cloned());
            match flag {
                "--" => positional_only = true,
                "--api-url" | "--connect-timeout" | "--request-timeout" | "--max-retries"
                | "--max-retry-wait" | "--read-parallelism" | "--allow-api-host" => {
                    if let Some(value) = value() {
                        invocation.api.extend([flag.to_owned(), value]);
                    }
                }
                "--target" => {
                    if let Some(value) = value() {
                        invocation.targets.extend([flag.to_owned(), value]);
                    }
                }
                "--plan" => invocation.saved_plan_in = value(),
                "--out" => invocation.saved_plan_out = value(),
                "--format"
                | "--color"
                | "--parallelism"
                | "--max-change-percent"
                | "--change-guard-min-agents" => {
                    value();
                }
                "--auto-approve"
                | "--force"
                | "--allow-unrouted"
                | "--detailed-exitcode"
                | "--verbose"
                | "-v"
                | "--quiet"
                | "-q" => {}
                "--help" | "-h" => invocation.help = true,
                _ => {
                    // A command line that clap refuses never succeeds; one it accepts must
                    // be understood here.
                    if command == "apply" {
                        panic!("harness: unknown flag {arg:?} in {args:?}: teach Invocation");
                    }
                }
            }
        }
        invocation
    }

    /// The arguments of a plan of the same config: `--target`s, then the paths.
    fn plan_args(&self) -> Vec<String> {
        self.targets.iter().chain(&self.paths).cloned().collect()
    }
}

/// The talkops command line with `args`, quoted for `script -c`.
pub fn shell_line(args: &[&str]) -> String {
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
        assert_has("stderr", &self.stderr, fragments);
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
