//! Project mode (`talkops.yaml`): two simulators at once, each a Talkover environment with
//! its own token, so that every test can tell which environment talkops talked to, with which
//! token, and that nothing crossed between them.
//!
//! [`Fleet`] is this module's harness: it starts a staging and a production simulator (each
//! accepting only its own token), writes a project file naming their URLs and the agents
//! files, and runs the binary in that directory with each environment's token variable set
//! (or not, per run). Every run asserts its exit code and that neither token appears in its
//! output, and returns each simulator's requests of that run.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use talkover_sim::{JournalEntry, Seed, SeedAgent, SeedPhoneNumber, SimConfig, SimHandle};
use tempfile::TempDir;

use crate::harness::{shell_line, standard_seed, Child, MATCHING};

/// The token only the staging simulator accepts.
const STAGING_TOKEN: &str = "talq_STAGING_SECRET_4e8a1c0d7b";
/// The token only the production simulator accepts.
const PRODUCTION_TOKEN: &str = "talq_PRODUCTION_SECRET_9d2f6b3a5e";

const STAGING_VAR: &str = "TALKOVER_TOKEN_STAGING";
const PRODUCTION_VAR: &str = "TALKOVER_TOKEN_PRODUCTION";

/// The project file every fleet starts from; `{staging}` and `{production}` become the
/// simulators' URLs. Staging first: the order apply goes in.
const PROJECT: &str = "environments:
  staging:
    paths: [agents/staging]
    token_env: TALKOVER_TOKEN_STAGING
    api_url: {staging}
  production:
    paths: [agents/production, agents/shared]
    token_env: TALKOVER_TOKEN_PRODUCTION
    api_url: {production}
";

/// A valid agents file that manages no agent: production's `agents/shared` by default.
const EMPTY: &str = "agents: []\n";

/// Night's entry in [`MATCHING`] (its last).
const NIGHT: &str = r#"  - name: Night
    direction: inbound
    phone_numbers: ["+14155550400"]
"#;

/// [`MATCHING`] with Night (a-4) gaining +14155550300: one PUT, to a-4.
fn night_gains_300() -> String {
    MATCHING.replace(
        r#"phone_numbers: ["+14155550400"]"#,
        r#"phone_numbers: ["+14155550400", "+14155550300"]"#,
    )
}

/// [`MATCHING`] with Support (a-1) gaining +14155550301: one PUT, to a-1.
fn support_gains_301() -> String {
    MATCHING.replace(
        r#"phone_numbers: ["+14155550100", "+14155550101"]"#,
        r#"phone_numbers: ["+14155550100", "+14155550101", "+14155550301"]"#,
    )
}

/// A change to one simulator's configuration before it starts.
type Tweak = Box<dyn FnOnce(&mut SimConfig)>;

/// Builds a [`Fleet`]: by default both simulators hold [`standard_seed`], both environments'
/// agents files match it (no changes), and both token variables are set.
struct FleetBuilder {
    seeds: [Seed; 2],
    tweaks: [Vec<Tweak>; 2],
    project: String,
    files: Vec<(String, String)>,
}

/// Which environment (simulator) a builder call or an assertion is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Env {
    Staging,
    Production,
}

impl Env {
    fn index(self) -> usize {
        match self {
            Env::Staging => 0,
            Env::Production => 1,
        }
    }
}

impl FleetBuilder {
    /// The agents file of staging (`agents/staging/agents.yaml`).
    fn staging(self, text: &str) -> FleetBuilder {
        self.file("agents/staging/agents.yaml", text)
    }

    /// The agents file of production (`agents/production/agents.yaml`).
    fn production(self, text: &str) -> FleetBuilder {
        self.file("agents/production/agents.yaml", text)
    }

    /// Writes (or replaces) a file, relative to the project's directory.
    fn file(mut self, path: &str, text: &str) -> FleetBuilder {
        self.files.retain(|(p, _)| p != path);
        self.files.push((path.to_owned(), text.to_owned()));
        self
    }

    /// The project file's text instead of [`PROJECT`] (same placeholders).
    fn project(mut self, text: &str) -> FleetBuilder {
        self.project = text.to_owned();
        self
    }

    fn seed(mut self, env: Env, seed: Seed) -> FleetBuilder {
        self.seeds[env.index()] = seed;
        self
    }

    /// Adjusts one simulator's configuration (a fault knob) before it starts.
    fn sim(mut self, env: Env, tweak: impl FnOnce(&mut SimConfig) + 'static) -> FleetBuilder {
        self.tweaks[env.index()].push(Box::new(tweak));
        self
    }

    fn start(self) -> Fleet {
        let [staging_seed, production_seed] = self.seeds;
        let [staging_tweaks, production_tweaks] = self.tweaks;
        let spawn = |token: &str, seed: Seed, tweaks: Vec<Tweak>| {
            let mut config = SimConfig::new(token, seed);
            for tweak in tweaks {
                tweak(&mut config);
            }
            talkover_sim::spawn(config, 0).expect("the simulator starts")
        };
        let staging = spawn(STAGING_TOKEN, staging_seed, staging_tweaks);
        let production = spawn(PRODUCTION_TOKEN, production_seed, production_tweaks);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let project = self
            .project
            .replace("{staging}", &staging.url())
            .replace("{production}", &production.url());
        write(&dir.path().join("talkops.yaml"), &project);
        for (path, text) in &self.files {
            write(&dir.path().join(path), text);
        }
        Fleet {
            sims: [staging, production],
            dir,
        }
    }
}

/// Two running simulators and a project directory; talkops can be run there any number of
/// times.
struct Fleet {
    sims: [SimHandle; 2],
    dir: TempDir,
}

/// What one run produced.
struct Out {
    stdout: String,
    stderr: String,
    /// The requests each simulator received during this run: `[staging, production]`.
    journals: [Vec<JournalEntry>; 2],
}

impl Fleet {
    fn new() -> FleetBuilder {
        FleetBuilder {
            seeds: [standard_seed(), standard_seed()],
            tweaks: [Vec::new(), Vec::new()],
            project: PROJECT.to_owned(),
            files: vec![
                ("agents/staging/agents.yaml".to_owned(), MATCHING.to_owned()),
                (
                    "agents/production/agents.yaml".to_owned(),
                    MATCHING.to_owned(),
                ),
                ("agents/shared/shared.yaml".to_owned(), EMPTY.to_owned()),
            ],
        }
    }

    fn sim(&self, env: Env) -> &SimHandle {
        &self.sims[env.index()]
    }

    fn url(&self, env: Env) -> String {
        self.sim(env).url()
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Rewrites a file of the project directory between runs.
    fn write(&self, path: &str, text: &str) {
        write(&self.dir().join(path), text);
    }

    /// Runs talkops with both token variables set and asserts exit `code`.
    #[track_caller]
    fn run(&self, code: i32, args: &[&str]) -> Out {
        self.run_env(code, args, &[])
    }

    /// Runs talkops with both token variables set, then `vars` applied on top (`None`
    /// removes the variable), and asserts exit `code`.
    #[track_caller]
    fn run_env(&self, code: i32, args: &[&str], vars: &[(&str, Option<&str>)]) -> Out {
        let mut command = Command::new(env!("CARGO_BIN_EXE_talkops"));
        command.args(args);
        self.execute(code, args, command, vars, None)
    }

    /// Runs talkops on a pseudo-terminal (util-linux `script`) with `input` typed, and
    /// asserts exit `code`. stdout then holds stdout and stderr together.
    #[track_caller]
    fn run_terminal(&self, code: i32, args: &[&str], input: &str) -> Out {
        let mut command = Command::new("script");
        command.args(["-qec", &shell_line(args), "/dev/null"]);
        self.execute(code, args, command, &[], Some(input))
    }

    #[track_caller]
    fn execute(
        &self,
        code: i32,
        args: &[&str],
        mut command: Command,
        vars: &[(&str, Option<&str>)],
        input: Option<&str>,
    ) -> Out {
        let before = self.sims.each_ref().map(|sim| sim.journal().len());
        command
            .current_dir(self.dir())
            .env(STAGING_VAR, STAGING_TOKEN)
            .env(PRODUCTION_VAR, PRODUCTION_TOKEN)
            .env_remove("TALKOVER_TOKEN")
            .env_remove("TALKOVER_API_URL")
            .env_remove("TALKOPS_PROJECT")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CI")
            .env("TERM", "xterm")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        for (key, value) in vars {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let mut child = Child::spawn(command);
        if let (Some(input), Some(mut stdin)) = (input, child.take_stdin()) {
            let input = input.as_bytes().to_vec();
            // A thread, so that a talkops that never reads cannot block the test past the
            // harness' timeout.
            std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        let output = child.wait("talkops");
        let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
        let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
        for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            for token in [STAGING_TOKEN, PRODUCTION_TOKEN] {
                assert!(
                    !text.contains(token),
                    "a token leaked into {stream}:\n{text}"
                );
            }
        }
        let actual = output.status.code().unwrap_or(-1);
        assert_eq!(
            actual, code,
            "talkops {args:?} exited {actual}, expected {code}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
        let journals = [0, 1].map(|i| self.sims[i].journal().split_off(before[i]));
        Out {
            stdout,
            stderr,
            journals,
        }
    }
}

impl Out {
    fn journal(&self, env: Env) -> &[JournalEntry] {
        &self.journals[env.index()]
    }

    /// The paths of the PUTs one simulator received, sorted.
    fn puts(&self, env: Env) -> Vec<&str> {
        let mut paths: Vec<&str> = self
            .journal(env)
            .iter()
            .filter(|e| e.is_write())
            .map(|e| e.path.as_str())
            .collect();
        paths.sort_unstable();
        paths
    }

    /// Asserts that neither simulator received any request.
    #[track_caller]
    fn requested_nothing(&self) -> &Out {
        for env in [Env::Staging, Env::Production] {
            assert!(
                self.journal(env).is_empty(),
                "{env:?} received requests: {:#?}\n--- stderr\n{}",
                self.journal(env),
                self.stderr
            );
        }
        self
    }

    /// Asserts that neither simulator received a write.
    #[track_caller]
    fn wrote_nothing(&self) -> &Out {
        for env in [Env::Staging, Env::Production] {
            assert_eq!(self.puts(env), Vec::<&str>::new(), "{env:?} was written to");
        }
        self
    }

    #[track_caller]
    fn stderr_has(&self, fragments: &[&str]) -> &Out {
        for fragment in fragments {
            assert!(
                self.stderr.contains(fragment),
                "stderr lacks {fragment:?}:\n{}",
                self.stderr
            );
        }
        self
    }

    #[track_caller]
    fn stdout_has(&self, fragments: &[&str]) -> &Out {
        for fragment in fragments {
            assert!(
                self.stdout.contains(fragment),
                "stdout lacks {fragment:?}:\n{}",
                self.stdout
            );
        }
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout))
    }
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create a directory");
    }
    std::fs::write(path, text).expect("write a file");
}

/// The number ids an agent of one simulator holds now, sorted.
#[track_caller]
fn numbers(fleet: &Fleet, env: Env, agent: &str) -> Vec<String> {
    let mut ids = fleet
        .sim(env)
        .agents()
        .into_iter()
        .find(|a| a.id == agent)
        .unwrap_or_else(|| panic!("no agent {agent} in {env:?}"))
        .phone_number_ids;
    ids.sort_unstable();
    ids
}

/// The position of `needle` in `haystack`, which must hold it.
#[track_caller]
fn position(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("lacks {needle:?}:\n{haystack}"))
}

// ---------------------------------------------------------------------------------------
// plan

#[test]
fn plan_reads_each_environment_with_its_own_token_and_shows_both_in_project_file_order() {
    let fleet = Fleet::new().staging(&night_gains_300()).start();
    let out = fleet.run(0, &["plan"]);
    for env in [Env::Staging, Env::Production] {
        // Read, each with its own token (the other's is refused with 401), never written.
        assert!(!out.journal(env).is_empty(), "{env:?} was not read");
        for entry in out.journal(env) {
            assert_eq!(entry.method, "GET", "{env:?}: {entry:?}");
            assert_eq!(entry.status, 200, "{env:?}: {entry:?}");
        }
    }
    let staging = format!("== staging ({}) ==", fleet.url(Env::Staging));
    let production = format!("== production ({}) ==", fleet.url(Env::Production));
    let all = "All environments: 1 to change in 1 of 2 environments (staging: 1 to change, production: no changes).";
    assert!(position(&out.stdout, &staging) < position(&out.stdout, &production));
    assert!(position(&out.stdout, &production) < position(&out.stdout, all));
    // Staging's change is under staging's heading, not production's.
    let night = position(&out.stdout, "+14155550300");
    assert!(position(&out.stdout, &staging) < night && night < position(&out.stdout, &production));
}

#[test]
fn detailed_exitcode_is_2_when_one_environment_changes_and_0_when_none_does() {
    let fleet = Fleet::new().production(&support_gains_301()).start();
    fleet
        .run(2, &["plan", "--detailed-exitcode"])
        .wrote_nothing();
    fleet.write("agents/production/agents.yaml", MATCHING);
    fleet
        .run(0, &["plan", "--detailed-exitcode"])
        .wrote_nothing()
        .stdout_has(&[
            "All environments: 0 to change in 0 of 2 environments (staging: no changes, production: no changes).",
        ]);
}

#[test]
fn swapped_tokens_are_refused_by_each_simulator_and_nothing_is_written() {
    let fleet = Fleet::new()
        .staging(&night_gains_300())
        .production(&support_gains_301())
        .start();
    let swapped = [
        (STAGING_VAR, Some(PRODUCTION_TOKEN)),
        (PRODUCTION_VAR, Some(STAGING_TOKEN)),
    ];
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        let out = fleet.run_env(1, args, &swapped);
        out.wrote_nothing();
        for env in [Env::Staging, Env::Production] {
            assert!(
                out.journal(env).iter().any(|e| e.status == 401),
                "{env:?} did not refuse the other environment's token: {:?}",
                out.journal(env)
            );
        }
        out.stderr_has(&["environment \"staging\"", "environment \"production\""]);
        assert!(out.stderr.contains("401"), "{}", out.stderr);
    }
    // Only one swapped: that one is refused and named, and nothing is written anywhere.
    let out = fleet.run_env(
        1,
        &["apply", "--auto-approve"],
        &[(PRODUCTION_VAR, Some(STAGING_TOKEN))],
    );
    out.wrote_nothing().stderr_has(&["environment \"production\""]);
    assert!(
        !out.stderr.contains("environment \"staging\""),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------
// apply

#[test]
fn apply_converges_both_environments_each_with_its_own_puts() {
    // Production's Night lives in its second path (agents/shared), and gains a number there.
    let fleet = Fleet::new()
        .staging(&night_gains_300())
        .production(&support_gains_301().replace(NIGHT, ""))
        .file(
            "agents/shared/shared.yaml",
            &format!("agents:\n{}", NIGHT.replace(r#""]"#, r#"", "+14155550300"]"#)),
        )
        .start();
    let out = fleet.run(0, &["apply", "--auto-approve"]);
    assert_eq!(out.puts(Env::Staging), ["/api/v1/agents/a-4/calling"]);
    assert_eq!(
        out.puts(Env::Production),
        ["/api/v1/agents/a-1/calling", "/api/v1/agents/a-4/calling"]
    );
    for env in [Env::Staging, Env::Production] {
        assert!(out
            .journal(env)
            .iter()
            .all(|e| e.status == 200), "{env:?}: {:?}", out.journal(env));
    }
    assert_eq!(numbers(&fleet, Env::Staging, "a-4"), ["n-300", "n-400"]);
    assert_eq!(numbers(&fleet, Env::Production, "a-4"), ["n-300", "n-400"]);
    assert_eq!(
        numbers(&fleet, Env::Production, "a-1"),
        ["n-100", "n-101", "n-301"]
    );
    assert_eq!(numbers(&fleet, Env::Staging, "a-1"), ["n-100", "n-101"]);
    fleet
        .run(0, &["plan", "--detailed-exitcode"])
        .wrote_nothing();
}
