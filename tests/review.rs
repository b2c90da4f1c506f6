//! The review workflow: markdown and JSON plans, saved plans applied exactly (or refused
//! after drift), export round trips, the schema, --target, and no token in any file.

use serde_json::Value;
use talkover_sim::{Seed, SeedAgent, SeedPhoneNumber};

use crate::harness::{many_changes, standard_seed, Test, MATCHING, TOKEN};

/// Changes with a move between inbound agents (ordered steps) and a guard warning (Night's
/// +14155550400 goes off the air).
const REVIEWED: &str = r#"agents:
  - name: Callback
    direction: inbound
    phone_numbers: ["+14155550200", "+14155550101"]
  - name: Support
    direction: inbound
    phone_numbers: ["+14155550100"]
  - name: Night
    direction: inbound
    phone_numbers: []
"#;

#[test]
fn markdown_plan_has_summary_warnings_table_order_and_details() {
    let out = Test::new()
        .file("agents.yaml", REVIEWED)
        .args(&["plan", "--format", "markdown", "agents.yaml"])
        .run();
    out.wrote_nothing();
    assert!(!out.stdout.contains('\x1b'));
    insta::assert_snapshot!("markdown_plan", out.stdout);
}

/// The JSON document with its one moving part (the time it was made) fixed.
fn stable(mut document: Value) -> Value {
    document["created_at"] = Value::from("[created_at]");
    document["talkops_version"] = Value::from("[version]");
    document["api_url"] = Value::from("[api_url]");
    document
}

#[test]
fn json_plan_is_a_versioned_document_with_every_part() {
    let out = Test::new()
        .file("agents.yaml", REVIEWED)
        .args(&["plan", "--format", "json", "agents.yaml"])
        .run();
    let document: Value = serde_json::from_str(&out.stdout).expect("the JSON plan parses");
    assert_eq!(document["format_version"], 1);
    assert_eq!(document["summary"]["to_change"], 3);
    assert_eq!(document["changes"][0]["agent_name"], "Callback");
    assert_eq!(
        document["changes"][0]["numbers_added"],
        serde_json::json!([{"id": "n-101", "number": "+14155550101"}])
    );
    // Night's step is independent; Callback's claim waits for Support's release.
    assert_eq!(document["steps"][1]["agent_id"], "a-1");
    assert_eq!(document["steps"][2]["agent_id"], "a-3");
    assert_eq!(document["steps"][2]["after"], serde_json::json!([1]));
    assert_eq!(document["warnings"][0]["needs"], "allow-unrouted");
    insta::assert_snapshot!(
        "json_plan",
        serde_json::to_string_pretty(&stable(document)).expect("json")
    );
}

#[test]
fn markdown_is_truncated_past_the_size_limit_and_says_so() {
    // 600 agents each gaining a number: far more than 65,000 characters of detail.
    let (seed, config) = many_changes(600);
    let out = Test::new()
        .seed(seed)
        .file("agents.yaml", &config)
        .args(&["plan", "--format", "markdown", "agents.yaml"])
        .run();
    assert!(
        out.stdout.chars().count() <= 65_000,
        "{} chars",
        out.stdout.chars().count()
    );
    assert!(
        out.stdout.contains("truncated"),
        "says it was truncated: {}",
        &out.stdout[out.stdout.len() - 400..]
    );
    assert!(out
        .stdout
        .starts_with("**talkops plan:** 600 to change · 0 unchanged · 0 not managed"));
}

#[test]
fn a_saved_plan_is_applied_exactly_with_no_prompt() {
    let scenario = Test::new().file("agents.yaml", REVIEWED).start();
    scenario
        .run(&[
            "plan",
            "--allow-unrouted",
            "--out",
            "plan.json",
            "agents.yaml",
        ])
        .wrote_nothing();
    let saved = std::fs::read_to_string(scenario.dir().join("plan.json")).expect("plan saved");
    assert!(!saved.contains(TOKEN), "no token in the saved plan");
    let document: Value = serde_json::from_str(&saved).expect("JSON");
    // stdin is not a terminal and there is no --auto-approve: a saved plan needs neither.
    let out = scenario.run(&["apply", "--plan", "plan.json"]);
    let expected: Vec<String> = document["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            format!(
                "/api/v1/agents/{}/calling",
                s["agent_id"].as_str().expect("id")
            )
        })
        .collect();
    let mut sent: Vec<String> = out.put_paths().iter().map(|p| (*p).to_owned()).collect();
    let mut wanted = expected.clone();
    sent.sort();
    wanted.sort();
    assert_eq!(sent, wanted, "exactly the saved steps");
    for step in document["steps"].as_array().expect("steps") {
        let put = out.put_to(step["agent_id"].as_str().expect("id"));
        assert_eq!(
            put.body.as_ref().expect("body")["phone_number_ids"],
            step["phone_number_ids"]
        );
    }
    scenario.run(&["plan", "--detailed-exitcode", "agents.yaml"]);
}

#[test]
fn a_saved_plan_records_and_accepts_guard_flags_at_either_step() {
    let scenario = Test::new().file("agents.yaml", REVIEWED).start();
    scenario.run(&["plan", "--out", "plan.json", "agents.yaml"]);
    scenario
        .run_expect(1, &["apply", "--plan", "plan.json"])
        .wrote_nothing()
        .stderr_has(&["refusing to apply", "--allow-unrouted"]);
    scenario.run(&["apply", "--plan", "plan.json", "--allow-unrouted"]);
}

#[test]
fn a_saved_plan_is_refused_when_an_agent_it_changes_drifted() {
    let scenario = Test::new()
        .file("agents.yaml", REVIEWED)
        .file("other.yaml", "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\", \"+14155550101\", \"+14155550300\"]\n")
        .start();
    scenario.run(&[
        "plan",
        "--allow-unrouted",
        "--out",
        "plan.json",
        "agents.yaml",
    ]);
    // Someone changes Support (which the plan touches) after the review.
    scenario.run(&["apply", "--auto-approve", "other.yaml"]);
    let out = scenario.run_expect(1, &["apply", "--plan", "plan.json"]);
    out.wrote_nothing().stderr_has(&[
        "refusing to apply plan.json: the environment changed since the plan was made",
        "agent \"Support\" (id a-1): gained +14155550300",
        "Nothing was changed",
    ]);
}

#[test]
fn drift_in_agents_the_plan_does_not_touch_does_not_block_it() {
    let scenario = Test::new()
        .file("agents.yaml", REVIEWED)
        .file("other.yaml", "agents:\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\", \"+14155550301\"]\n")
        .start();
    scenario.run(&[
        "plan",
        "--allow-unrouted",
        "--out",
        "plan.json",
        "agents.yaml",
    ]);
    scenario.run(&["apply", "--auto-approve", "other.yaml"]);
    scenario.run(&["apply", "--plan", "plan.json"]);
}

#[test]
fn a_saved_plan_from_another_api_or_format_version_is_refused() {
    let scenario = Test::new().file("agents.yaml", REVIEWED).start();
    scenario.run(&["plan", "--out", "plan.json", "agents.yaml"]);
    let path = scenario.dir().join("plan.json");
    let saved = std::fs::read_to_string(&path).expect("saved");
    let mut document: Value = serde_json::from_str(&saved).expect("JSON");

    document["api_url"] = Value::from("https://app.talkover.ai");
    std::fs::write(scenario.dir().join("other-api.json"), document.to_string()).expect("write");
    scenario
        .run_expect(1, &["apply", "--plan", "other-api.json"])
        .wrote_nothing()
        .stderr_has(&[
            "other-api.json was made against https://app.talkover.ai, not http://127.0.0.1:",
        ]);

    let mut document: Value = serde_json::from_str(&saved).expect("JSON");
    document["format_version"] = Value::from(99);
    std::fs::write(scenario.dir().join("future.json"), document.to_string()).expect("write");
    scenario
        .run_expect(1, &["apply", "--plan", "future.json"])
        .wrote_nothing()
        .stderr_has(&[
            "future.json is a plan in format version 99",
            "reads version 1",
        ]);

    std::fs::write(scenario.dir().join("junk.json"), "{\"hello\": 1}").expect("write");
    scenario
        .run_expect(1, &["apply", "--plan", "junk.json"])
        .stderr_has(&["junk.json is not a saved talkops plan"]);
}

#[test]
fn export_round_trips_to_a_plan_with_no_changes() {
    let scenario = Test::new().start();
    scenario.run(&["export", "--out", "exported.yaml"]);
    let text = std::fs::read_to_string(scenario.dir().join("exported.yaml")).expect("exported");
    assert!(!text.contains(TOKEN));
    assert!(
        text.starts_with("# talkops config exported from http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("  - id: \"a-6\"  # \"Twin\""), "{text}");
    let out = scenario.run(&["plan", "--detailed-exitcode", "exported.yaml"]);
    assert!(
        out.stdout
            .contains("Plan: 0 to change, 7 unchanged, 0 not managed."),
        "{}",
        out.stdout
    );
    // Without --out, the config goes to stdout.
    let stdout = scenario.run(&["export"]);
    assert!(
        stdout.stdout.contains("agents:\n  - name: \"Callback\""),
        "{}",
        stdout.stdout
    );
}

#[test]
fn target_limits_plan_and_apply_to_the_named_agents() {
    let config = "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\", \"+14155550101\", \"+14155550300\"]\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\", \"+14155550301\"]\n";
    let scenario = Test::new().file("agents.yaml", config).start();
    let plan = scenario.run(&["plan", "--target", "Sales", "agents.yaml"]);
    assert!(plan.stdout.contains("~ agent \"Sales\""), "{}", plan.stdout);
    assert!(
        !plan.stdout.contains("~ agent \"Support\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to change, 0 unchanged, 5 not managed, 1 not targeted."),
        "{}",
        plan.stdout
    );
    let apply = scenario.run(&["apply", "--auto-approve", "--target", "a-2", "agents.yaml"]);
    assert_eq!(apply.put_paths(), ["/api/v1/agents/a-2/calling"]);
    scenario
        .run_expect(1, &["plan", "--target", "Nobody", "agents.yaml"])
        .stderr_has(&["--target Nobody matches no agent declared in the config"]);
}

#[test]
fn apply_reports_in_markdown_and_json() {
    let config = "agents:\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\", \"+14155550301\"]\n";
    let json = Test::new()
        .file("agents.yaml", config)
        .args(&["apply", "--auto-approve", "--format", "json", "agents.yaml"])
        .run();
    let report: Value = serde_json::from_str(&json.stdout).expect("the report is JSON alone");
    assert_eq!(report["summary"]["changed"], 1);
    assert_eq!(report["results"][0]["result"], "changed");
    assert!(
        json.stderr.contains("~ agent \"Sales\""),
        "the plan goes to stderr"
    );
    let markdown = Test::new()
        .file("agents.yaml", config)
        .args(&[
            "apply",
            "--auto-approve",
            "--format",
            "markdown",
            "agents.yaml",
        ])
        .run();
    assert!(
        markdown
            .stdout
            .starts_with("**talkops apply:** 1 changed · 0 failed · 0 skipped"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn color_always_and_never_override_the_terminal_check() {
    let config = "agents:\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\", \"+14155550301\"]\n";
    let always = Test::new()
        .file("agents.yaml", config)
        .args(&["plan", "--color", "always", "agents.yaml"])
        .run();
    assert!(always.stdout.contains("\x1b[32m"), "{}", always.stdout);
    let never = Test::new()
        .file("agents.yaml", config)
        .args(&["plan", "--color", "never", "agents.yaml"])
        .terminal("")
        .run();
    assert!(
        !never.stdout.contains("\x1b[3") && !never.stdout.contains("\x1b[1m"),
        "{:?}",
        never.stdout
    );
}

#[test]
fn the_schema_command_prints_the_committed_schema() {
    let out = Test::new().token(None).args(&["schema"]).run();
    let committed = include_str!("../schema/talkops.schema.json");
    assert_eq!(out.stdout, committed);
    let first = include_str!("../examples/agents.yaml")
        .lines()
        .next()
        .unwrap_or_default();
    assert_eq!(
        first,
        "# yaml-language-server: $schema=../schema/talkops.schema.json"
    );
}

/// The schema and the parser must agree on what is valid, so that an editor's squiggles and
/// `talkops validate` never disagree.
#[test]
fn the_schema_and_the_parser_agree() {
    let schema: Value = serde_json::from_str(include_str!("../schema/talkops.schema.json"))
        .expect("schema is JSON");
    let validator = jsonschema::draft7::new(&schema).expect("a valid draft-07 schema");
    let cases: &[(&str, bool)] = &[
        (include_str!("../examples/agents.yaml"), true),
        (MATCHING, true),
        ("agents: []\n", true),
        ("agents:\n  - id: x\n    direction: outbound\n    phone_numbers: [\"+14155550100\", pn-1]\n", true),
        ("agents:\n  - name: A\n    direction: inbound\n    phone_number: []\n", false),
        ("agents:\n  - name: A\n", false),
        ("agents:\n  - name: A\n    direction: both\n", false),
        ("agents:\n  - name: A\n    id: b\n    direction: inbound\n", false),
        ("agents:\n  - direction: inbound\n", false),
        ("agents:\n  - name: A\n    direction: inbound\n    phone_numbers: [\"+1 415\"]\n", false),
        ("agents:\n  - name: A\n    direction: inbound\n    phone_numbers: [\"+1\"]\n", false),
        ("agents:\n  - name: A\n    direction: inbound\n    phone_numbers: [\"+14155550100\", \"+14155550100\"]\n", false),
        ("agents:\n  - name: A\n    direction: inbound\n    phone_numbers: [14155550100]\n", false),
        ("agents:\n  - name: \"\"\n    direction: inbound\n", false),
        ("agents: {}\n", false),
        ("agent: []\n", false),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    assert_schema_and_parser_agree(&validator, cases, dir.path(), &["validate"]);
}

/// For each `(text, valid)` case: the schema accepts the text exactly when `valid`, and so
/// does `talkops ARGS FILE` (the file written into `dir`).
#[track_caller]
fn assert_schema_and_parser_agree<T: AsRef<str>>(
    validator: &jsonschema::Validator,
    cases: &[(T, bool)],
    dir: &std::path::Path,
    args: &[&str],
) {
    for (index, (text, valid)) in cases.iter().enumerate() {
        let text = text.as_ref();
        let yaml: serde_yaml::Value = serde_yaml::from_str(text).expect("YAML");
        let json: Value = serde_json::to_value(&yaml).expect("as JSON");
        assert_eq!(
            validator.is_valid(&json),
            *valid,
            "schema on case {index}:\n{text}"
        );
        let path = dir.join(format!("case{index}.yaml"));
        std::fs::write(&path, text).expect("write");
        let mut all = args.to_vec();
        all.push(path.to_str().expect("utf-8 path"));
        let out = Test::new()
            .token(None)
            .args(&all)
            // Valid and invalid cases alike: the table says which.
            .any_code()
            .run();
        assert_eq!(
            out.code == 0,
            *valid,
            "parser on case {index}:\n{text}\n{}",
            out.stderr
        );
    }
}

/// The project file's schema: printed by `talkops schema project`, pointed at by the example's
/// modeline, and agreeing with the parser on what is valid.
#[test]
fn the_project_schema_and_the_parser_agree() {
    let committed = include_str!("../schema/talkops-project.schema.json");
    let out = Test::new().token(None).args(&["schema", "project"]).run();
    assert_eq!(out.stdout, committed);
    let schema: Value = serde_json::from_str(committed).expect("schema is JSON");
    let validator = jsonschema::draft7::new(&schema).expect("a valid draft-07 schema");
    let env = |extra: &str| {
        format!("environments:\n  staging:\n    paths: [agents/staging]\n    token_env: TOKEN_STAGING\n{extra}")
    };
    let cases: Vec<(String, bool)> = vec![
        (include_str!("../examples/talkops.yaml").to_owned(), true),
        (env(""), true),
        (env("    api_url: https://app.talkover.ai\n    max_change_percent: 0\n    change_guard_min_agents: 0\n"), true),
        (env("    max_change_percent: 101\n"), false),
        (env("    change_guard_min_agents: -1\n"), false),
        (env("    token: x\n"), false),
        (env("    api_url: ftp://x\n"), false),
        ("environments:\n  staging:\n    paths: []\n    token_env: T\n".to_owned(), false),
        ("environments:\n  staging:\n    token_env: T\n".to_owned(), false),
        ("environments:\n  staging:\n    paths: [a]\n".to_owned(), false),
        ("environments:\n  staging:\n    paths: [a]\n    token_env: 9T\n".to_owned(), false),
        ("environments:\n  \"stag ing\":\n    paths: [a]\n    token_env: T\n".to_owned(), false),
        ("environments: {}\n".to_owned(), false),
        ("environment: {}\n".to_owned(), false),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["agents/staging", "agents/production", "agents/shared", "a"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        std::fs::write(dir.path().join(sub).join("a.yaml"), "agents: []\n").expect("write");
    }
    assert_schema_and_parser_agree(&validator, &cases, dir.path(), &["validate", "--project"]);
}

#[test]
fn no_token_in_any_file_talkops_writes() {
    let scenario = Test::new().file("agents.yaml", MATCHING).start();
    scenario.run(&["plan", "--out", "plan.json", "agents.yaml"]);
    scenario.run(&["export", "--out", "export.yaml"]);
    for file in ["plan.json", "export.yaml"] {
        let text = std::fs::read_to_string(scenario.dir().join(file)).expect("written");
        assert!(!text.contains(TOKEN), "{file}");
        assert!(!text.contains("talq_"), "{file}");
    }
    let _ = standard_seed();
}

/// The CI recipes are valid YAML and use only flags that talkops has.
/// Every CI recipe, by name, and the example project file they are written for.
const CI_RECIPES: [(&str, &str); 6] = [
    (
        "github/talkops-plan.yml",
        include_str!("../examples/ci/github/talkops-plan.yml"),
    ),
    (
        "github/talkops-apply.yml",
        include_str!("../examples/ci/github/talkops-apply.yml"),
    ),
    (
        "github/talkops-drift.yml",
        include_str!("../examples/ci/github/talkops-drift.yml"),
    ),
    (
        "github/talkops-fleet-plan.yml",
        include_str!("../examples/ci/github/talkops-fleet-plan.yml"),
    ),
    (
        "github/install-talkops/action.yml",
        include_str!("../examples/ci/github/install-talkops/action.yml"),
    ),
    (
        "gitlab/.gitlab-ci.yml",
        include_str!("../examples/ci/gitlab/.gitlab-ci.yml"),
    ),
];
const EXAMPLE_PROJECT: &str = include_str!("../examples/talkops.yaml");

/// The talkops command lines of the recipes (comments included: they tell readers what to
/// run), as (recipe, subcommand, the words after it, the line).
fn recipe_commands() -> Vec<(&'static str, &'static str, Vec<&'static str>, &'static str)> {
    let mut commands = Vec::new();
    for (name, recipe) in CI_RECIPES {
        let _: serde_yaml::Value = serde_yaml::from_str(recipe).expect("valid YAML");
        for line in recipe.lines() {
            let Some(at) = line.find("talkops ") else {
                continue;
            };
            let mut words = line[at + "talkops ".len()..].split_whitespace();
            let Some(command) = words.next() else {
                continue;
            };
            if ![
                "validate",
                "plan",
                "apply",
                "export",
                "routes",
                "environments",
            ]
            .contains(&command)
            {
                continue;
            }
            commands.push((name, command, words.collect(), line));
        }
    }
    commands
}

#[test]
fn the_ci_recipes_use_real_flags() {
    let mut checked = 0;
    for (name, command, words, line) in recipe_commands() {
        let help = Test::new().token(None).args(&[command, "--help"]).run();
        // A flag can end a shell command (`--detailed-exitcode; code=$?`).
        let flags = words.iter().map(|word| word.trim_end_matches(';'));
        for flag in flags.filter(|word| word.starts_with("--")) {
            assert!(
                help.stdout.contains(flag),
                "{name}: talkops {command} has no {flag}: {line}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "the recipes were read ({checked} flags)");
}

/// The recipes run in project mode: no talkops command names config paths (they would
/// switch talkops back to one environment and TALKOVER_TOKEN), and every environment of the
/// example project file has its token secret wired into the plan, apply and drift recipes,
/// under the project file's token_env, while the single-environment TALKOVER_TOKEN is gone.
#[test]
fn the_ci_recipes_run_in_project_mode() {
    let project: serde_yaml::Value = serde_yaml::from_str(EXAMPLE_PROJECT).expect("valid YAML");
    assert!(
        EXAMPLE_PROJECT
            .starts_with("# yaml-language-server: $schema=../schema/talkops-project.schema.json\n"),
        "the example project file starts with its editor modeline"
    );
    let environments = project["environments"].as_mapping().expect("environments");
    let names: Vec<&str> = environments
        .keys()
        .map(|name| name.as_str().expect("name"))
        .collect();
    assert_eq!(names, ["staging", "production"], "staging is applied first");

    let mut commands = 0;
    for (name, command, words, line) in recipe_commands() {
        assert!(
            !words
                .iter()
                .any(|word| word.starts_with("agents") || word.ends_with(".yaml")),
            "{name}: talkops {command} is given config paths, not project mode: {line}"
        );
        commands += 1;
    }
    assert!(
        commands >= 12,
        "the recipes were read ({commands} commands)"
    );

    let recipe = |wanted: &str| {
        CI_RECIPES
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, text)| *text)
            .expect("recipe")
    };
    for (name, recipe) in CI_RECIPES {
        assert!(
            !recipe.contains("TALKOVER_TOKEN:") && !recipe.contains("secrets.TALKOVER_TOKEN }}"),
            "{name} still passes the single-environment TALKOVER_TOKEN"
        );
    }
    for (environment, settings) in environments {
        let token_env = settings["token_env"].as_str().expect("token_env");
        let wired = format!("{token_env}: ${{{{ secrets.{token_env} }}}}");
        for wanted in ["github/talkops-plan.yml", "github/talkops-apply.yml"] {
            assert!(
                recipe(wanted).contains(&wired),
                "{wanted} gives talkops no {token_env} for {environment:?}"
            );
        }
        let drift = format!(
            "- environment: {}\n            token_env: {token_env}\n",
            environment.as_str().expect("name")
        );
        assert!(
            recipe("github/talkops-drift.yml").contains(&drift),
            "the drift matrix has no job for {environment:?}"
        );
        assert!(
            recipe("gitlab/.gitlab-ci.yml").contains(token_env),
            "the GitLab recipe does not name {token_env}"
        );
    }
}

#[test]
fn a_progress_line_shows_on_a_terminal_and_not_with_quiet() {
    let config = "agents:\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\", \"+14155550301\"]\n";
    let shown = Test::new()
        .page_size_cap(2)
        .file("agents.yaml", config)
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .terminal("")
        .run();
    assert!(
        shown.stdout.contains("reading agents (pages) [") && shown.stdout.contains("4/4"),
        "{:?}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("applying (PUTs) ["),
        "{:?}",
        shown.stdout
    );
    let quiet = Test::new()
        .page_size_cap(2)
        .file("agents.yaml", config)
        .args(&["apply", "--auto-approve", "--quiet", "agents.yaml"])
        .terminal("")
        .run();
    assert!(
        !quiet.stdout.contains("reading agents"),
        "{:?}",
        quiet.stdout
    );
}

#[test]
fn an_edited_saved_plan_is_refused() {
    let scenario = Test::new().file("agents.yaml", REVIEWED).start();
    scenario.run(&[
        "plan",
        "--allow-unrouted",
        "--out",
        "plan.json",
        "agents.yaml",
    ]);
    let path = scenario.dir().join("plan.json");
    let mut document: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("saved")).expect("JSON");
    // Slip in an extra PUT that nobody reviewed.
    let mut extra = document["steps"][0].clone();
    extra["kind"] = Value::from("release");
    extra["direction"] = Value::from("outbound");
    document["steps"]
        .as_array_mut()
        .expect("steps")
        .insert(0, extra);
    std::fs::write(scenario.dir().join("edited.json"), document.to_string()).expect("write");
    scenario
        .run_expect(1, &["apply", "--plan", "edited.json"])
        .wrote_nothing()
        .stderr_has(&["edited.json is not a valid saved talkops plan: its steps are not the ones its changes call for"]);
}

#[test]
fn drift_names_direction_changes_and_lost_numbers() {
    let scenario = Test::new()
        .file("agents.yaml", REVIEWED)
        .file("other.yaml", "agents:\n  - name: Support\n    direction: outbound\n    phone_numbers: [\"+14155550101\"]\n")
        .start();
    scenario.run(&[
        "plan",
        "--allow-unrouted",
        "--out",
        "plan.json",
        "agents.yaml",
    ]);
    scenario.run(&["apply", "--auto-approve", "--allow-unrouted", "other.yaml"]);
    scenario
        .run_expect(1, &["apply", "--plan", "plan.json"])
        .wrote_nothing()
        .stderr_has(&[
            "agent \"Support\" (id a-1): direction was inbound, is now outbound; lost +14155550100",
        ]);
}

#[test]
fn a_saved_plan_is_refused_when_an_outside_agent_now_answers_a_number_it_claims() {
    // The plan gives +14155550300 (free when planned) to Support; then Twin (a-6, not in the
    // plan) starts answering it inbound.
    let scenario = Test::new()
        .file("agents.yaml", "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\", \"+14155550101\", \"+14155550300\"]\n")
        .file("other.yaml", "agents:\n  - id: a-6\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n")
        .start();
    scenario.run(&["plan", "--out", "plan.json", "agents.yaml"]);
    scenario.run(&["apply", "--auto-approve", "other.yaml"]);
    scenario
        .run_expect(1, &["apply", "--plan", "plan.json"])
        .wrote_nothing()
        .stderr_has(&["agent \"Support\" (id a-1): would answer +14155550300, which inbound agent \"Twin\" (id a-6) now answers"]);
}

#[test]
fn target_refuses_a_claim_whose_release_is_not_targeted() {
    // Support gives +14155550101 to Callback; targeting only Callback would leave the number
    // with two inbound agents.
    let config = "agents:\n  - name: Callback\n    direction: inbound\n    phone_numbers: [\"+14155550200\", \"+14155550101\"]\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\"]\n";
    Test::new()
        .file("agents.yaml", config)
        .args(&[
            "apply",
            "--auto-approve",
            "--target",
            "Callback",
            "agents.yaml",
        ])
        .expect_code(1)
        .run()
        .wrote_nothing()
        .stderr_has(&[
            "with --target, the agents not targeted keep their live settings",
            "number +14155550101 would also be answered by inbound agent \"Support\"",
        ]);
}

#[test]
fn markdown_stays_under_the_limit_with_many_warnings() {
    // One published inbound agent losing 900 numbers: 901 warnings.
    let mut seed = Seed::default();
    let ids: Vec<String> = (0..900).map(|i| format!("n{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        seed.phone_numbers.push(SeedPhoneNumber {
            id: id.clone(),
            number: format!("+1415{i:07}"),
            country_code: None,
            formatted_number: None,
            r#type: None,
        });
    }
    seed.agents.push(SeedAgent {
        id: "big".into(),
        name: "Switchboard".into(),
        label: None,
        direction: "inbound".into(),
        current_status: "published".into(),
        phone_number_ids: ids,
        callback: false,
    });
    let out = Test::new()
        .seed(seed)
        .file(
            "agents.yaml",
            "agents:\n  - id: big\n    direction: inbound\n    phone_numbers: []\n",
        )
        .args(&["plan", "--format", "markdown", "agents.yaml"])
        .run();
    assert!(
        out.stdout.chars().count() <= 65_000,
        "{} chars",
        out.stdout.chars().count()
    );
    assert!(out
        .stdout
        .contains("more warnings; run `talkops plan` to see them all"));
    assert!(
        out.stdout.contains("| Switchboard (`big`) |"),
        "the table still shows the agent"
    );
}

#[test]
fn export_round_trips_even_when_two_inbound_agents_already_share_a_number() {
    let mut seed = standard_seed();
    for agent in &mut seed.agents {
        if agent.id == "a-4" {
            agent.phone_number_ids.push("n-100".into()); // Support answers n-100 too
        }
    }
    let scenario = Test::new().seed(seed).start();
    scenario.run(&["export", "--out", "exported.yaml"]);
    let text = std::fs::read_to_string(scenario.dir().join("exported.yaml")).expect("exported");
    assert!(text.contains("# phone_numbers left out (not managed): +14155550100 also answered by another inbound agent (or one whose direction is unknown)"), "{text}");
    scenario.run(&["plan", "--detailed-exitcode", "exported.yaml"]);
}
