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
use talkover_sim::{JournalEntry, Seed, SeedPhoneNumber, SimConfig, SimHandle};
use tempfile::TempDir;

use crate::harness::{assert_has, many_changes, shell_line, standard_seed, Child, MATCHING};

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
    fn builder() -> FleetBuilder {
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
        command: Command,
        vars: &[(&str, Option<&str>)],
        input: Option<&str>,
    ) -> Out {
        let before = self.sims.each_ref().map(|sim| sim.journal().len());
        let mut child = self.spawn_with(command, vars, input.is_some());
        if let (Some(input), Some(mut stdin)) = (input, child.take_stdin()) {
            let input = input.as_bytes().to_vec();
            // A thread, so that a talkops that never reads cannot block the test past the
            // harness' timeout.
            std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        self.finish(code, args, child, before)
    }

    /// Starts talkops with both token variables set, without waiting for it: for the tests
    /// that signal it mid-run. Returns it and where each journal stood.
    fn spawn(&self, args: &[&str]) -> (Child, [usize; 2]) {
        let before = self.sims.each_ref().map(|sim| sim.journal().len());
        let mut command = Command::new(env!("CARGO_BIN_EXE_talkops"));
        command.args(args);
        (self.spawn_with(command, &[], false), before)
    }

    fn spawn_with(
        &self,
        mut command: Command,
        vars: &[(&str, Option<&str>)],
        stdin: bool,
    ) -> Child {
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
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() });
        for (key, value) in vars {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        Child::spawn(command)
    }

    /// Waits for a run to end; asserts its exit `code` and that no token leaked.
    #[track_caller]
    fn finish(&self, code: i32, args: &[&str], child: Child, before: [usize; 2]) -> Out {
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
        assert_has("stderr", &self.stderr, fragments);
        self
    }

    #[track_caller]
    fn stdout_has(&self, fragments: &[&str]) -> &Out {
        assert_has("stdout", &self.stdout, fragments);
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
    let fleet = Fleet::builder().staging(&night_gains_300()).start();
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
    let fleet = Fleet::builder().production(&support_gains_301()).start();
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
    let fleet = Fleet::builder()
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
    out.wrote_nothing()
        .stderr_has(&["environment \"production\""]);
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
    let fleet = Fleet::builder()
        .staging(&night_gains_300())
        .production(&support_gains_301().replace(NIGHT, ""))
        .file(
            "agents/shared/shared.yaml",
            &format!(
                "agents:\n{}",
                NIGHT.replace(r#""]"#, r#"", "+14155550300"]"#)
            ),
        )
        .start();
    let out = fleet.run(0, &["apply", "--auto-approve"]);
    assert_eq!(out.puts(Env::Staging), ["/api/v1/agents/a-4/calling"]);
    assert_eq!(
        out.puts(Env::Production),
        ["/api/v1/agents/a-1/calling", "/api/v1/agents/a-4/calling"]
    );
    for env in [Env::Staging, Env::Production] {
        assert!(
            out.journal(env).iter().all(|e| e.status == 200),
            "{env:?}: {:?}",
            out.journal(env)
        );
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

// ---------------------------------------------------------------------------------------
// saved plans

/// A fleet whose two environments both change: staging's Night (a-4) gains +14155550300,
/// production's Support (a-1) gains +14155550301.
fn both_changing() -> Fleet {
    Fleet::builder()
        .staging(&night_gains_300())
        .production(&support_gains_301())
        .start()
}

#[test]
fn a_saved_project_plan_holds_every_environment_sorted_by_name_and_applies_both() {
    let fleet = both_changing();
    fleet
        .run(0, &["plan", "--out", "plan.json"])
        .wrote_nothing();
    let saved = std::fs::read_to_string(fleet.dir().join("plan.json")).expect("plan saved");
    for token in [STAGING_TOKEN, PRODUCTION_TOKEN] {
        assert!(!saved.contains(token), "a token in the saved plan");
    }
    let document: Value = serde_json::from_str(&saved).expect("the saved plan is JSON");
    assert_eq!(document["format_version"], 1);
    let environments = document["environments"]
        .as_array()
        .expect("an environments array");
    let names: Vec<&str> = environments
        .iter()
        .map(|e| e["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["production", "staging"], "sorted by name");
    assert_eq!(
        environments[0]["plan"]["api_url"],
        fleet.url(Env::Production).as_str()
    );
    assert_eq!(
        environments[1]["plan"]["api_url"],
        fleet.url(Env::Staging).as_str()
    );
    assert_eq!(environments[0]["plan"]["changes"][0]["agent_id"], "a-1");
    assert_eq!(environments[1]["plan"]["changes"][0]["agent_id"], "a-4");
    // `plan --format json` prints the same document.
    let printed = fleet.run(0, &["plan", "--format", "json"]).json();
    let printed_names: Vec<&str> = printed["environments"]
        .as_array()
        .expect("an environments array")
        .iter()
        .map(|e| e["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(printed_names, ["production", "staging"]);

    // A saved plan needs no --auto-approve (as in one environment).
    let out = fleet.run(0, &["apply", "--plan", "plan.json"]);
    assert_eq!(out.puts(Env::Staging), ["/api/v1/agents/a-4/calling"]);
    assert_eq!(out.puts(Env::Production), ["/api/v1/agents/a-1/calling"]);
    fleet
        .run(0, &["plan", "--detailed-exitcode"])
        .wrote_nothing();
}

#[test]
fn a_saved_project_plan_applies_only_the_environments_env_selects() {
    let fleet = both_changing();
    fleet.run(0, &["plan", "--out", "plan.json"]);
    let out = fleet.run_env(
        0,
        &["apply", "--plan", "plan.json", "--env", "staging"],
        &[(PRODUCTION_VAR, None)],
    );
    assert!(out.journal(Env::Production).is_empty());
    assert_eq!(out.puts(Env::Staging), ["/api/v1/agents/a-4/calling"]);
    // A plan saved for staging only cannot apply production.
    fleet.run(0, &["plan", "--env", "staging", "--out", "staging.json"]);
    fleet
        .run(
            1,
            &["apply", "--plan", "staging.json", "--env", "production"],
        )
        .requested_nothing()
        .stderr_has(&["holds no plan for environment \"production\""]);
}

#[test]
fn every_environment_of_a_saved_plan_is_checked_before_the_first_put_anywhere() {
    let fleet = both_changing();
    fleet.run(0, &["plan", "--out", "plan.json"]);
    // Production's token is refused: staging, though ready, is not applied.
    fleet
        .run_env(
            1,
            &["apply", "--plan", "plan.json"],
            &[(PRODUCTION_VAR, Some(STAGING_TOKEN))],
        )
        .wrote_nothing()
        .stderr_has(&["environment \"production\""]);
    // Production's token variable is unset: nothing is requested at all.
    fleet
        .run_env(
            1,
            &["apply", "--plan", "plan.json"],
            &[(PRODUCTION_VAR, None)],
        )
        .requested_nothing()
        .stderr_has(&[PRODUCTION_VAR]);
    // Production's URL in the project file is no longer the one the plan was made for.
    let moved = std::fs::read_to_string(fleet.dir().join("talkops.yaml"))
        .expect("the project file")
        .replace(&fleet.url(Env::Production), "http://127.0.0.1:9");
    fleet.write("talkops.yaml", &moved);
    fleet
        .run(1, &["apply", "--plan", "plan.json"])
        .wrote_nothing()
        .stderr_has(&["environment \"production\"", "was made against"]);
    // Production is renamed in the project file: the saved plan's "production" is unknown.
    let renamed = PROJECT
        .replace("production:", "prod:")
        .replace("{staging}", &fleet.url(Env::Staging))
        .replace("{production}", &fleet.url(Env::Production));
    fleet.write("talkops.yaml", &renamed);
    fleet
        .run(1, &["apply", "--plan", "plan.json"])
        .requested_nothing()
        .stderr_has(&["\"production\"", "staging, prod"]);
    assert_eq!(numbers(&fleet, Env::Staging, "a-4"), ["n-400"]);
    assert_eq!(numbers(&fleet, Env::Production, "a-1"), ["n-100", "n-101"]);
}

#[test]
fn drift_in_production_refuses_the_whole_saved_plan_and_staging_is_not_touched() {
    let fleet = both_changing();
    fleet.run(0, &["plan", "--out", "plan.json"]);
    // Someone changes Support in production behind talkops' back; staging does not drift.
    assert!(fleet
        .sim(Env::Production)
        .set_calling("a-1", "inbound", &["n-100"]));
    let out = fleet.run(1, &["apply", "--plan", "plan.json"]);
    out.wrote_nothing().stderr_has(&[
        "environment \"production\"",
        "changed since the plan was made",
    ]);
    assert!(
        !out.stderr.contains("environment \"staging\""),
        "staging did not drift:\n{}",
        out.stderr
    );
    assert_eq!(numbers(&fleet, Env::Staging, "a-4"), ["n-400"]);
    assert_eq!(numbers(&fleet, Env::Production, "a-1"), ["n-100"]);
}

#[test]
fn a_saved_project_plan_whose_config_changed_since_in_one_environment_is_refused() {
    let fleet = both_changing();
    fleet.run(0, &["plan", "--out", "plan.json"]);
    // Staging's config now asks for more than the saved plan holds.
    fleet.write(
        "agents/staging/agents.yaml",
        &night_gains_300().replace(
            r#"phone_numbers: ["+14155550100", "+14155550101"]"#,
            r#"phone_numbers: ["+14155550100"]"#,
        ),
    );
    let out = fleet.run(1, &["apply", "--plan", "plan.json"]);
    out.wrote_nothing()
        .stderr_has(&["environment \"staging\"", "not the plan of the config"]);
    assert_eq!(numbers(&fleet, Env::Production, "a-1"), ["n-100", "n-101"]);
}

#[test]
fn a_saved_plan_of_one_kind_is_refused_by_the_other_mode_writing_nothing() {
    let fleet = both_changing();
    // A single-environment plan, made with a PATH, TALKOVER_TOKEN and TALKOVER_API_URL.
    let single_env = [
        ("TALKOVER_TOKEN", Some(STAGING_TOKEN)),
        ("TALKOVER_API_URL", Some(&*fleet.url(Env::Staging))),
    ];
    fleet.run_env(
        0,
        &["plan", "--out", "single.json", "agents/staging"],
        &single_env,
    );
    let single: Value = serde_json::from_str(
        &std::fs::read_to_string(fleet.dir().join("single.json")).expect("saved"),
    )
    .expect("JSON");
    assert!(single.get("environments").is_none(), "{single}");
    fleet
        .run_env(1, &["apply", "--plan", "single.json"], &single_env)
        .wrote_nothing()
        .stderr_has(&["single.json is the plan of one environment"]);

    // A project plan given with PATH arguments (single mode).
    fleet.run(0, &["plan", "--out", "project.json"]);
    fleet
        .run_env(
            1,
            &["apply", "--plan", "project.json", "agents/staging"],
            &single_env,
        )
        .wrote_nothing()
        .stderr_has(&["project.json is a project plan"]);
    assert_eq!(numbers(&fleet, Env::Staging, "a-4"), ["n-400"]);
}

// ---------------------------------------------------------------------------------------
// --env

#[test]
fn env_limits_plan_apply_export_and_routes_to_the_named_environment() {
    let fleet = both_changing();
    // Production's token variable is not even set: it is not needed.
    let no_production = [(PRODUCTION_VAR, None)];

    let out = fleet.run_env(
        2,
        &["plan", "--env", "staging", "--detailed-exitcode"],
        &no_production,
    );
    assert!(out.journal(Env::Production).is_empty());
    assert!(!out.journal(Env::Staging).is_empty());
    out.wrote_nothing()
        .stdout_has(&[&format!("== staging ({}) ==", fleet.url(Env::Staging))]);
    assert!(!out.stdout.contains("== production"), "{}", out.stdout);

    let out = fleet.run_env(
        0,
        &["apply", "--env", "staging", "--auto-approve"],
        &no_production,
    );
    assert!(out.journal(Env::Production).is_empty());
    assert_eq!(out.puts(Env::Staging), ["/api/v1/agents/a-4/calling"]);

    let out = fleet.run_env(0, &["export", "--env", "staging"], &no_production);
    assert!(out.journal(Env::Production).is_empty());
    assert!(!out.journal(Env::Staging).is_empty());
    out.stdout_has(&["+14155550300"]);

    for format in ["text", "json", "csv", "markdown"] {
        let out = fleet.run_env(
            0,
            &["routes", "--env", "staging", "--format", format],
            &no_production,
        );
        assert!(
            out.journal(Env::Production).is_empty(),
            "routes --format {format}"
        );
        assert!(!out.journal(Env::Staging).is_empty());
        out.wrote_nothing();
        // Staging's Night now answers +14155550300.
        out.stdout_has(&["+14155550300", "staging"]);
        assert!(!out.stdout.contains("production"), "{}", out.stdout);
    }

    // Production, still unapplied, plans its change.
    let out = fleet.run(2, &["plan", "--env", "production", "--detailed-exitcode"]);
    assert!(out.journal(Env::Staging).is_empty());
    out.stdout_has(&["+14155550301"]);
}

#[test]
fn routes_and_export_without_env_cover_the_project_as_documented() {
    let fleet = both_changing();
    let out = fleet.run(0, &["routes", "--format", "json"]);
    let document = out.json();
    let environments = document["environments"].as_array().expect("environments");
    let names: Vec<&str> = environments
        .iter()
        .map(|e| e["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["staging", "production"], "project-file order");
    assert_eq!(environments[0]["api_url"], fleet.url(Env::Staging).as_str());
    for env in [Env::Staging, Env::Production] {
        assert!(!out.journal(env).is_empty(), "{env:?} was not read");
    }
    let csv = fleet.run(0, &["routes", "--format", "csv"]);
    let header = csv.stdout.lines().next().expect("a header");
    assert!(header.starts_with("environment,"), "{header}");
    assert!(csv
        .stdout
        .lines()
        .skip(1)
        .any(|l| l.starts_with("staging,")));
    assert!(csv
        .stdout
        .lines()
        .skip(1)
        .any(|l| l.starts_with("production,")));

    // Export writes one environment: with two, it needs --env.
    fleet
        .run(1, &["export"])
        .requested_nothing()
        .stderr_has(&["--env", "staging", "production"]);
}

#[test]
fn env_misuse_is_an_error_before_any_request() {
    let fleet = both_changing();
    let out = fleet.run(1, &["plan", "--env", "x"]);
    out.requested_nothing()
        .stderr_has(&["unknown environment \"x\"", "staging, production"]);
    for args in [
        &["apply", "--env", "x", "--auto-approve"][..],
        &["export", "--env", "x"],
        &["routes", "--env", "x"],
        &["validate", "--env", "x"],
    ] {
        fleet
            .run(1, args)
            .requested_nothing()
            .stderr_has(&["unknown environment \"x\"", "staging, production"]);
    }
    // --env and PATH arguments.
    for args in [
        &["plan", "--env", "staging", "agents/staging"][..],
        &[
            "apply",
            "--env",
            "staging",
            "--auto-approve",
            "agents/staging",
        ],
        &["validate", "--env", "staging", "agents/staging"],
    ] {
        fleet
            .run_env(1, args, &[("TALKOVER_TOKEN", Some(STAGING_TOKEN))])
            .requested_nothing()
            .stderr_has(&["--env"]);
    }
    // --api-url: in project mode, URLs come only from the project file.
    for args in [
        &["plan", "--api-url", &*fleet.url(Env::Staging)][..],
        &[
            "apply",
            "--auto-approve",
            "--api-url",
            &*fleet.url(Env::Staging),
        ],
    ] {
        fleet
            .run(1, args)
            .requested_nothing()
            .stderr_has(&["--api-url"]);
    }
    // --target names agents of one environment.
    fleet
        .run(1, &["plan", "--target", "Night"])
        .requested_nothing()
        .stderr_has(&["--target", "--env"]);
    // ...and with one selected, it works.
    let out = fleet.run(0, &["plan", "--env", "staging", "--target", "Night"]);
    assert!(out.journal(Env::Production).is_empty());
}

#[test]
fn tokens_and_url_of_single_mode_are_ignored_in_project_mode() {
    // TALKOVER_TOKEN (production's token) and TALKOVER_API_URL (production's URL) would send
    // staging's plan to production if project mode read them.
    let fleet = both_changing();
    let out = fleet.run_env(
        0,
        &["apply", "--env", "staging", "--auto-approve"],
        &[
            ("TALKOVER_TOKEN", Some(PRODUCTION_TOKEN)),
            ("TALKOVER_API_URL", Some(&*fleet.url(Env::Production))),
            (PRODUCTION_VAR, None),
        ],
    );
    assert!(out.journal(Env::Production).is_empty());
    assert_eq!(out.puts(Env::Staging), ["/api/v1/agents/a-4/calling"]);
}

// ---------------------------------------------------------------------------------------
// everything is checked before the first request

#[test]
fn a_missing_or_empty_token_variable_stops_every_environment_before_any_request() {
    let fleet = both_changing();
    for value in [None, Some("")] {
        for args in [&["plan"][..], &["apply", "--auto-approve"], &["routes"]] {
            fleet
                .run_env(1, args, &[(PRODUCTION_VAR, value)])
                .requested_nothing()
                .stderr_has(&[PRODUCTION_VAR, "production"]);
        }
    }
}

#[test]
fn a_missing_token_and_a_bad_file_are_reported_together_before_any_request() {
    let fleet = Fleet::builder()
        .staging(&night_gains_300())
        .production(&MATCHING.replace("direction: outbound", "direction: sideways"))
        .start();
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        let out = fleet.run_env(1, args, &[(STAGING_VAR, None)]);
        out.requested_nothing().stderr_has(&[
            STAGING_VAR,
            "sideways",
            "environment \"production\"",
            "environment \"staging\"",
        ]);
    }
    // The bad file alone stops staging too.
    fleet
        .run(1, &["apply", "--auto-approve"])
        .requested_nothing()
        .stderr_has(&["sideways", "agents/production"]);
}

#[test]
fn one_talkover_environment_listed_twice_is_refused_before_any_request() {
    // Two names, one URL (spelt with and without a trailing slash), and their variables
    // hold the same token.
    let fleet = Fleet::builder()
        .project(
            "environments:
  staging:
    paths: [agents/staging]
    token_env: TALKOVER_TOKEN_STAGING
    api_url: {staging}
  production:
    paths: [agents/production]
    token_env: TALKOVER_TOKEN_PRODUCTION
    api_url: {staging}/
",
        )
        .staging(&night_gains_300())
        .start();
    let same = [(PRODUCTION_VAR, Some(STAGING_TOKEN))];
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        fleet
            .run_env(1, args, &same)
            .requested_nothing()
            .stderr_has(&["staging", "production", STAGING_VAR, PRODUCTION_VAR]);
    }
    // Different tokens at one URL are two accounts: allowed (production's is refused there).
    fleet.run(1, &["plan"]).wrote_nothing();
}

// ---------------------------------------------------------------------------------------
// an apply that fails in its first environment

#[test]
fn a_failure_in_staging_stops_before_production_is_touched() {
    let fleet = Fleet::builder()
        .staging(&night_gains_300())
        .production(&support_gains_301())
        .sim(Env::Staging, |config| {
            config
                .refused_agents
                .insert("a-4".to_owned(), "Night is locked".to_owned());
        })
        .start();
    let out = fleet.run(1, &["apply", "--auto-approve"]);
    assert_eq!(out.puts(Env::Staging), ["/api/v1/agents/a-4/calling"]);
    assert_eq!(out.puts(Env::Production), Vec::<&str>::new());
    assert!(
        out.journal(Env::Production)
            .iter()
            .all(|e| e.method == "GET"),
        "{:?}",
        out.journal(Env::Production)
    );
    let production = position(
        &out.stdout,
        &format!("== production ({}) ==", fleet.url(Env::Production)),
    );
    assert!(
        out.stdout[production..].contains("Not applied"),
        "{}",
        out.stdout
    );
    out.stdout_has(&["not applied: production", "failed: staging"]);
    assert_eq!(numbers(&fleet, Env::Production, "a-1"), ["n-100", "n-101"]);

    let out = fleet.run(1, &["apply", "--auto-approve", "--format", "json"]);
    assert_eq!(out.puts(Env::Production), Vec::<&str>::new());
    let report = out.json();
    let environments = report["environments"].as_array().expect("environments");
    assert_eq!(environments.len(), 2);
    assert_eq!(environments[0]["name"], "staging");
    assert_eq!(environments[0]["outcome"], "failed");
    assert!(environments[0]["report"].is_object(), "{report}");
    assert_eq!(environments[1]["name"], "production");
    assert_eq!(environments[1]["outcome"], "not_applied");
    assert!(environments[1]["report"].is_null(), "{report}");
}

// ---------------------------------------------------------------------------------------
// markdown

#[test]
fn markdown_is_one_comment_with_a_line_per_environment_and_the_unchanged_one_folded() {
    let fleet = Fleet::builder().staging(&night_gains_300()).start();
    let out = fleet.run(0, &["plan", "--format", "markdown"]);
    out.wrote_nothing();
    let md = &out.stdout;
    assert!(md.starts_with("**talkops plan**"), "{md}");
    assert_eq!(
        md.matches("**talkops plan**").count(),
        1,
        "one comment:\n{md}"
    );
    let staging_line = position(md, "- **staging**");
    let production_line = position(md, "- **production**");
    assert!(staging_line < production_line, "project-file order:\n{md}");
    // Production has no changes: folded; staging's change is shown, not folded.
    let folded = position(md, "<details><summary><b>production</b>: no changes");
    assert!(production_line < folded);
    assert!(
        !md.contains("<details><summary><b>staging</b>"),
        "staging has changes and is not folded:\n{md}"
    );
    md.find("+14155550300").expect("staging's change is shown");
    assert!(!md.contains('\x1b'));
}

#[test]
fn markdown_of_two_large_environments_stays_within_one_comment() {
    let (seed, config) = many_changes(1500);
    let fleet = Fleet::builder()
        .seed(Env::Staging, seed.clone())
        .seed(Env::Production, seed)
        .staging(&config)
        .production(&config)
        .start();
    let out = fleet.run(2, &["plan", "--format", "markdown", "--detailed-exitcode"]);
    let chars = out.stdout.chars().count();
    assert!(chars <= 65_000, "{chars} characters");
    assert!(
        out.stdout.starts_with("**talkops plan**"),
        "{}",
        &out.stdout[..200]
    );
    // Both environments are summarised even when their details are cut.
    out.stdout_has(&["- **staging**", "- **production**", "1500 to change"]);
}

// ---------------------------------------------------------------------------------------
// environments and validate

#[test]
fn environments_lists_each_environment_and_whether_its_token_is_set_never_its_value() {
    let fleet = Fleet::builder().start();
    let out = fleet.run_env(0, &["environments"], &[(PRODUCTION_VAR, None)]);
    out.requested_nothing();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "a header and two environments:\n{}",
        out.stdout
    );
    for (line, (name, var, set)) in lines[1..].iter().zip([
        ("staging", STAGING_VAR, "yes"),
        ("production", PRODUCTION_VAR, "no"),
    ]) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], name, "{line}");
        assert!(words.contains(&var) && words.contains(&set), "{line}");
    }
    lines[2]
        .find(&fleet.url(Env::Production))
        .expect("production's URL");
    lines[2]
        .find("agents/production, agents/shared")
        .expect("production's paths as written");

    let out = fleet.run_env(
        0,
        &["environments", "--format", "json"],
        &[(STAGING_VAR, Some(""))],
    );
    out.requested_nothing();
    let listing = out.json();
    assert_eq!(listing["project"], "talkops.yaml");
    assert_eq!(
        listing["environments"],
        serde_json::json!([
            {
                "name": "staging",
                "paths": ["agents/staging"],
                "token_env": STAGING_VAR,
                "api_url": fleet.url(Env::Staging),
                // Empty is not set.
                "token_set": false,
            },
            {
                "name": "production",
                "paths": ["agents/production", "agents/shared"],
                "token_env": PRODUCTION_VAR,
                "api_url": fleet.url(Env::Production),
                "token_set": true,
            },
        ])
    );
}

#[test]
fn validate_checks_every_environment_offline_without_tokens() {
    let fleet = Fleet::builder().staging(&night_gains_300()).start();
    let out = fleet.run_env(
        0,
        &["validate"],
        &[(STAGING_VAR, None), (PRODUCTION_VAR, None)],
    );
    out.requested_nothing();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "ok: staging: 4 agents in 1 file, no problems found",
            "ok: production: 4 agents in 2 files, no problems found",
        ]
    );
    let out = fleet.run_env(
        0,
        &["validate", "--env", "production"],
        &[(PRODUCTION_VAR, None)],
    );
    assert_eq!(
        out.stdout,
        "ok: production: 4 agents in 2 files, no problems found\n"
    );
}

#[test]
fn validate_reports_each_problem_with_its_environment() {
    let fleet = Fleet::builder()
        .staging(&MATCHING.replace("direction: outbound", "direction: up"))
        .production(&MATCHING.replace("direction: outbound", "direction: sideways"))
        .start();
    let out = fleet.run_env(
        1,
        &["validate"],
        &[(STAGING_VAR, None), (PRODUCTION_VAR, None)],
    );
    out.requested_nothing().stderr_has(&[
        "agents/staging/agents.yaml:5",
        "agents/production/agents.yaml:5",
    ]);

    let out = fleet.run_env(1, &["validate", "--format", "json"], &[(STAGING_VAR, None)]);
    let document = out.json();
    let problems = document["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 2, "{document:#}");
    let environments: Vec<&Value> = problems.iter().map(|p| &p["environment"]).collect();
    assert!(
        environments.contains(&&Value::from("staging")),
        "{document:#}"
    );
    assert!(
        environments.contains(&&Value::from("production")),
        "{document:#}"
    );
    for problem in problems {
        let env = problem["environment"].as_str().expect("an environment");
        assert!(
            problem
                .to_string()
                .contains(&format!("agents/{env}/agents.yaml")),
            "a problem of {env} names another environment's file: {problem}"
        );
    }
}

#[test]
fn a_project_file_with_an_unknown_key_is_reported_with_its_line() {
    let fleet = Fleet::builder()
        .project(
            "environments:
  staging:
    paths: [agents/staging]
    token_env: TALKOVER_TOKEN_STAGING
    api_url: {staging}
  production:
    paths: [agents/production]
    token_env: TALKOVER_TOKEN_PRODUCTION
    api_url: {production}
    max_change_pecrent: 10
",
        )
        .start();
    for args in [
        &["validate"][..],
        &["plan"],
        &["apply", "--auto-approve"],
        &["environments"],
    ] {
        fleet.run(1, args).requested_nothing().stderr_has(&[
            "talkops.yaml:6: environment \"production\"",
            "max_change_pecrent",
        ]);
    }
    let out = fleet.run(1, &["validate", "--format", "json"]);
    let document = out.json();
    let problems = document["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{document:#}");
    assert!(problems[0]["environment"].is_null(), "{document:#}");
    assert!(
        problems[0].to_string().contains("max_change_pecrent"),
        "{document:#}"
    );
}

// ---------------------------------------------------------------------------------------
// finding the project file; the walk skips it

#[test]
fn a_directory_walk_never_reads_the_project_file_as_agents() {
    // A project whose only environment reads its own directory, which holds the project
    // file itself and a `talkops.yml` that is not an agents file either.
    let fleet = Fleet::builder().start();
    fleet.write(
        "stage/talkops.yaml",
        &format!(
            "environments:\n  staging:\n    paths: [\".\"]\n    token_env: {STAGING_VAR}\n    api_url: {}\n",
            fleet.url(Env::Staging)
        ),
    );
    fleet.write("stage/talkops.yml", "not: [an agents file\n");
    fleet.write("stage/agents.yaml", &night_gains_300());
    let out = fleet.run(0, &["validate", "--project", "stage/talkops.yaml"]);
    assert_eq!(
        out.stdout,
        "ok: staging: 4 agents in 1 file, no problems found\n"
    );
    // TALKOPS_PROJECT finds it too, and the plan reads the agents only.
    let out = fleet.run_env(
        2,
        &["plan", "--detailed-exitcode"],
        &[("TALKOPS_PROJECT", Some("stage/talkops.yaml"))],
    );
    assert!(out.journal(Env::Production).is_empty());
    out.wrote_nothing()
        .stdout_has(&["All environments: 1 to change in 1 of 1 environment"]);
    // A named project file that does not exist is an error, not a fallback.
    fleet
        .run(1, &["plan", "--project", "missing.yaml"])
        .requested_nothing()
        .stderr_has(&["missing.yaml"]);
}

// ---------------------------------------------------------------------------------------
// snapshot

#[test]
fn project_plan_text_snapshot() {
    let fleet = Fleet::builder().staging(&night_gains_300()).start();
    let out = fleet.run(2, &["plan", "--detailed-exitcode"]);
    let text = out
        .stdout
        .replace(&fleet.url(Env::Staging), "[staging-url]")
        .replace(&fleet.url(Env::Production), "[production-url]");
    insta::assert_snapshot!("project_plan", text);
}

// ---------------------------------------------------------------------------------------
// the prompt

#[test]
fn apply_asks_once_on_a_terminal_naming_both_environments_then_applies_both() {
    let fleet = both_changing();
    let out = fleet.run_terminal(0, &["apply"], "yes\n");
    let prompt = format!(
        "Apply these changes to staging ({}) and production ({})?",
        fleet.url(Env::Staging),
        fleet.url(Env::Production)
    );
    assert_eq!(
        out.stdout.matches("Apply these changes").count(),
        1,
        "{}",
        out.stdout
    );
    out.stdout_has(&[&prompt, "All environments: applied: staging, production."]);
    assert_eq!(out.puts(Env::Staging), ["/api/v1/agents/a-4/calling"]);
    assert_eq!(out.puts(Env::Production), ["/api/v1/agents/a-1/calling"]);
    fleet
        .run(0, &["plan", "--detailed-exitcode"])
        .wrote_nothing();
}

#[test]
fn apply_answered_no_or_without_a_terminal_writes_nothing() {
    let fleet = both_changing();
    fleet.run_terminal(1, &["apply"], "no\n").wrote_nothing();
    fleet
        .run(1, &["apply"])
        .wrote_nothing()
        .stderr_has(&["--auto-approve"]);
}

// ---------------------------------------------------------------------------------------
// guards, per environment

#[test]
fn each_environment_has_its_own_guard_and_a_flag_overrides_every_one() {
    // Production's guard trips on one change in four; staging's defaults (30 %, from 10
    // agents) do not. A refusal anywhere refuses everywhere, before any PUT.
    let fleet = Fleet::builder()
        .project(
            "environments:
  staging:
    paths: [agents/staging]
    token_env: TALKOVER_TOKEN_STAGING
    api_url: {staging}
  production:
    paths: [agents/production]
    token_env: TALKOVER_TOKEN_PRODUCTION
    api_url: {production}
    max_change_percent: 10
    change_guard_min_agents: 1
",
        )
        .staging(&night_gains_300())
        .production(&support_gains_301())
        .start();
    let out = fleet.run(1, &["apply", "--auto-approve"]);
    out.wrote_nothing()
        .stderr_has(&["environment \"production\"", "guard"]);
    assert!(
        !out.stderr.contains("environment \"staging\""),
        "staging's guard does not trip:\n{}",
        out.stderr
    );
    // Staging alone passes its own guard.
    let out = fleet.run(0, &["apply", "--auto-approve", "--env", "staging"]);
    assert_eq!(out.puts(Env::Staging), ["/api/v1/agents/a-4/calling"]);
    // The command line's threshold overrides the project file's.
    let out = fleet.run(
        0,
        &["apply", "--auto-approve", "--max-change-percent", "50"],
    );
    assert_eq!(out.puts(Env::Production), ["/api/v1/agents/a-1/calling"]);
    assert_eq!(out.puts(Env::Staging), Vec::<&str>::new());
}

// ---------------------------------------------------------------------------------------
// more of the surface

#[test]
fn routes_number_must_be_in_one_environment_at_least() {
    // +14155550301 is free in staging and, after production's apply, answered there.
    let fleet = Fleet::builder().production(&support_gains_301()).start();
    fleet.run(0, &["apply", "--auto-approve", "--env", "production"]);
    let out = fleet.run(
        0,
        &["routes", "--format", "csv", "--number", "+14155550301"],
    );
    let rows: Vec<&str> = out.stdout.lines().skip(1).collect();
    assert!(
        rows.iter()
            .any(|r| r.starts_with("production,+14155550301,n-301,") && r.contains("a-1")),
        "{}",
        out.stdout
    );
    fleet
        .run(1, &["routes", "--number", "+19995550000"])
        .wrote_nothing()
        .stderr_has(&["+19995550000"]);
}

#[test]
fn export_out_writes_the_one_environment_named() {
    let fleet = Fleet::builder().start();
    assert!(fleet
        .sim(Env::Production)
        .set_calling("a-4", "inbound", &["n-400", "n-301"]));
    let out = fleet.run(
        0,
        &["export", "--env", "production", "--out", "production.yaml"],
    );
    assert!(out.journal(Env::Staging).is_empty());
    let exported = std::fs::read_to_string(fleet.dir().join("production.yaml")).expect("exported");
    assert!(exported.contains("+14155550301"), "{exported}");
    assert!(exported.contains(&fleet.url(Env::Production)), "{exported}");
}

/// A fleet whose directory has no project file.
fn without_project_file() -> Fleet {
    let fleet = Fleet::builder().start();
    std::fs::remove_file(fleet.dir().join("talkops.yaml")).expect("remove the project file");
    fleet
}

#[test]
fn without_a_project_file_env_is_an_error() {
    let fleet = without_project_file();
    for args in [
        &["plan", "--env", "staging"][..],
        &["apply", "--auto-approve", "--env", "staging"],
        &["validate", "--env", "staging"],
        &["export", "--env", "staging"],
        &["routes", "--env", "staging"],
    ] {
        fleet
            .run_env(1, args, &[("TALKOVER_TOKEN", Some(STAGING_TOKEN))])
            .requested_nothing()
            .stderr_has(&["--env"]);
    }
    fleet
        .run(1, &["environments"])
        .requested_nothing()
        .stderr_has(&["talkops.yaml"]);
}

#[test]
fn with_neither_a_path_nor_a_project_file_the_error_suggests_a_project_file() {
    let fleet = without_project_file();
    for args in [&["validate"][..], &["plan"], &["apply", "--auto-approve"]] {
        fleet
            .run_env(1, args, &[("TALKOVER_TOKEN", Some(STAGING_TOKEN))])
            .requested_nothing()
            .stderr_has(&["talkops.yaml"]);
    }
}

/// BUG: a 401 in project mode says "the API rejected the token in TALKOVER_TOKEN", a
/// variable project mode never reads; it must name the environment's own variable.
#[test]
fn a_refused_token_names_the_environments_own_variable() {
    let fleet = Fleet::builder().start();
    let out = fleet.run_env(1, &["plan"], &[(PRODUCTION_VAR, Some(STAGING_TOKEN))]);
    out.wrote_nothing()
        .stderr_has(&["environment \"production\"", PRODUCTION_VAR]);
    assert!(
        !out.stderr.contains("TALKOVER_TOKEN "),
        "names TALKOVER_TOKEN, which project mode does not read:\n{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------
// demo

#[test]
fn demo_ignores_a_project_file_and_its_environments() {
    // `talkops demo` runs its own simulator: a project file in the directory changes
    // nothing, and neither environment hears from it (tests/demo.rs covers the demo itself).
    let fleet = both_changing();
    let out = fleet.run_env(0, &["demo"], &[(STAGING_VAR, None), (PRODUCTION_VAR, None)]);
    out.requested_nothing().stdout_has(&[
        "Apply complete: 4 changed, 0 failed, 0 skipped, 1 unchanged, 2 not managed (4 PUTs).",
    ]);
}

/// SIGTERM while the first environment applies (CI cancelling the job): its PUTs in flight
/// finish, no new one starts, and the next environment gets no PUT at all; the report says
/// so, and the run fails.
#[test]
fn an_interrupt_during_the_first_environment_leaves_the_next_untouched() {
    let fleet = Fleet::builder()
        .staging(&night_gains_300())
        .production(&support_gains_301())
        // Slow enough that the signal lands while staging's PUT is in flight.
        .sim(Env::Staging, |config| {
            config.latency = std::time::Duration::from_millis(1500)
        })
        .start();
    let args = ["apply", "--auto-approve"];
    let (mut child, before) = fleet.spawn(&args);
    // Printed once the signal handlers are in place, just before staging's first PUT.
    child.wait_for_stderr("Applying environment staging");
    child.signal("TERM");
    let out = fleet.finish(1, &args, child, before);
    assert_eq!(
        out.puts(Env::Production),
        Vec::<&str>::new(),
        "production must get no PUT after an interrupt in staging"
    );
    assert!(
        out.journal(Env::Production)
            .iter()
            .all(|e| e.method == "GET"),
        "{:?}",
        out.journal(Env::Production)
    );
    assert!(
        out.stdout
            .contains("Not applied: the apply was interrupted during environment staging"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("not applied: production"),
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------------------
// the review's hostile cases

/// The project file is data a pull request can change, and it decides where each token goes:
/// a host other than Talkover's or loopback is refused unless allowed outside the file.
#[test]
fn a_token_is_never_sent_to_a_host_the_project_file_alone_names() {
    let fleet = Fleet::builder()
        .project(
            "environments:
  staging:
    paths: [agents/staging]
    token_env: TALKOVER_TOKEN_STAGING
    api_url: {staging}
  production:
    paths: [agents/production]
    token_env: TALKOVER_TOKEN_PRODUCTION
    api_url: https://collector.example/talkover
",
        )
        .start();
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["routes"],
        &["export", "--env", "production"],
    ] {
        fleet
            .run(1, args)
            .requested_nothing()
            .stderr_has(&[
                "environment \"production\": api_url's host \"collector.example\" is not app.talkover.ai",
                "--allow-api-host collector.example",
                "TALKOPS_ALLOW_API_HOSTS=collector.example",
            ]);
    }
    // --env staging alone never looks at production's URL.
    fleet.run(0, &["plan", "--env", "staging"]);
    // In single mode the URL comes from the command line, which needs no allowing.
    fleet
        .run(
            1,
            &["plan", "--allow-api-host", "x.example", "agents/staging"],
        )
        .requested_nothing()
        .stderr_has(&["--allow-api-host allows a host for the environments of a project file"]);
}

#[test]
fn a_directory_or_an_empty_variable_is_not_a_project_file() {
    let fleet = Fleet::builder().start();
    fleet.write("elsewhere/a.yaml", "environments: {}\n");
    fleet
        .run(1, &["--project", "elsewhere", "environments"])
        .stderr_has(&["elsewhere: is a directory: the project file is one YAML file"]);
    // CI sets unset variables to "": that is no project file named, and the default applies.
    let out = fleet.run_env(0, &["environments"], &[("TALKOPS_PROJECT", Some(""))]);
    assert!(out.stdout.contains("staging"), "{}", out.stdout);
    fleet.run_env(
        0,
        &["validate", "agents/staging"],
        &[("TALKOPS_PROJECT", Some(""))],
    );
}

#[test]
fn a_hand_made_project_plan_without_environments_is_refused() {
    let fleet = Fleet::builder().start();
    fleet.write(
        "empty.json",
        r#"{"format_version": 1, "talkops_version": "0", "environments": []}"#,
    );
    fleet
        .run(1, &["apply", "--plan", "empty.json"])
        .requested_nothing()
        .stderr_has(&["empty.json holds no environment"]);
    fleet.write("other.json", r#"{"format_version": 1}"#);
    fleet
        .run(1, &["apply", "--plan", "other.json"])
        .requested_nothing()
        .stderr_has(&["other.json is not a valid saved talkops project plan"]);
}

#[test]
fn plan_and_export_never_overwrite_the_project_file() {
    let fleet = Fleet::builder().start();
    let before = std::fs::read_to_string(fleet.dir().join("talkops.yaml")).expect("project");
    fleet
        .run(1, &["plan", "--out", "talkops.yaml"])
        .requested_nothing()
        .stderr_has(&["--out talkops.yaml is the project file: refusing to overwrite it"]);
    fleet
        .run(
            1,
            &["export", "--env", "staging", "--out", "./talkops.yaml"],
        )
        .requested_nothing();
    let after = std::fs::read_to_string(fleet.dir().join("talkops.yaml")).expect("project");
    assert_eq!(before, after);
}

#[test]
fn environments_never_shows_a_token_pasted_into_a_url() {
    let fleet = Fleet::builder()
        .project(
            "environments:
  staging:
    paths: [agents/staging]
    token_env: TALKOVER_TOKEN_STAGING
    api_url: {staging}/talq_STAGING_SECRET_4e8a1c0d7b
",
        )
        .start();
    // The harness asserts that no token appears in the output.
    let out = fleet.run(0, &["environments"]);
    assert!(
        out.stdout.contains("(not shown: it contains the token)"),
        "{}",
        out.stdout
    );
    let out = fleet.run(0, &["environments", "--format", "json"]);
    assert!(
        out.stdout.contains("(not shown: it contains the token)"),
        "{}",
        out.stdout
    );
    fleet
        .run(1, &["plan"])
        .requested_nothing()
        .stderr_has(&["the API URL contains the token (not shown): give the base URL there and the token in TALKOVER_TOKEN_STAGING only"]);
}

#[test]
fn routes_says_when_a_number_is_not_in_an_environment() {
    // Production alone has +14155550999.
    let mut seed = standard_seed();
    seed.phone_numbers.push(SeedPhoneNumber {
        id: "pn-only-production".to_owned(),
        number: "+14155550999".to_owned(),
        country_code: None,
        formatted_number: None,
        r#type: None,
    });
    let fleet = Fleet::builder().seed(Env::Production, seed).start();
    let out = fleet.run(0, &["routes", "--number", "+14155550999"]);
    let (staging, production) = out
        .stdout
        .split_once("== production")
        .expect("both headings");
    assert!(
        staging.contains("None of the --number values is a phone number of this environment."),
        "{}",
        out.stdout
    );
    assert!(production.contains("+14155550999"), "{}", out.stdout);
}

/// Environments are read at once: each `-v` line says which one it is about.
#[test]
fn verbose_lines_name_their_environment() {
    let fleet = Fleet::builder().start();
    let out = fleet.run(0, &["plan", "-v"]);
    for env in ["staging", "production"] {
        assert!(
            out.stderr
                .contains(&format!("talkops [{env}]: GET /api/v1/agents?page=1")),
            "{}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("talkops: GET"), "{}", out.stderr);
}
