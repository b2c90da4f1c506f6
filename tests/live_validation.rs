//! Validation against the live environment: every problem reported, nothing written.

use talkover_sim::SeedPhoneNumber;

use crate::harness::{standard_seed, Test};

/// Runs `apply --auto-approve` on `config` plus a valid entry; asserts exit 1, no write, every
/// fragment in stderr, and that the line holding the first ends with `[code]`.
#[track_caller]
fn rejected(code: &str, config: &str, fragments: &[&str]) {
    let fine = "  - name: Night\n    direction: outbound\n";
    let out = Test::new()
        .file("agents.yaml", &format!("{config}{fine}"))
        .args(&["apply", "--auto-approve", "agents.yaml"])
        .expect_code(1)
        .run();
    out.wrote_nothing()
        .stderr_has(fragments)
        .stderr_has(&["nothing was changed"]);
    let line = out
        .stderr
        .lines()
        .find(|line| line.contains(fragments[0]))
        .unwrap_or_else(|| panic!("stderr lacks {:?}:\n{}", fragments[0], out.stderr));
    assert!(
        line.ends_with(&format!(" [{code}]")),
        "{line:?} does not end with [{code}]"
    );
}

#[test]
fn unknown_agent_name() {
    rejected(
        "unknown-agent",
        "agents:\n  - name: Nobody\n    direction: inbound\n",
        &["agents.yaml:2: agent \"Nobody\": no agent with this name in the environment"],
    );
}

#[test]
fn unknown_agent_id() {
    rejected(
        "unknown-agent",
        "agents:\n  - id: a-404\n    direction: inbound\n",
        &["agents.yaml:2: agent id a-404: no agent with this id in the environment"],
    );
}

#[test]
fn a_name_shared_by_several_agents_asks_for_an_id() {
    rejected(
        "ambiguous-name",
        "agents:\n  - name: Twin\n    direction: inbound\n",
        &["agents.yaml:2: agent \"Twin\": 2 agents in the environment have this name (ids a-6, a-7): use `id:` to say which"],
    );
}

#[test]
fn a_number_not_in_the_environment() {
    rejected(
        "unknown-number",
        "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155559999\"]\n",
        &["agents.yaml:2: agent \"Support\": number +14155559999 is not one of the environment's phone numbers"],
    );
}

#[test]
fn a_phone_id_not_in_the_environment() {
    rejected(
        "unknown-number",
        "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [n-999]\n",
        &["agents.yaml:2: agent \"Support\": phone number id \"n-999\" is not one of the environment's phone numbers"],
    );
}

#[test]
fn a_number_written_as_id_and_as_e164_in_one_agent() {
    rejected(
        "duplicate-number",
        "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550100\", n-100]\n",
        &["phone number id \"n-100\" and number +14155550100 are the same phone number"],
    );
}

#[test]
fn one_agent_declared_by_name_and_by_id() {
    rejected(
        "duplicate-agent",
        "agents:\n  - name: Support\n    direction: inbound\n  - id: a-1\n    direction: inbound\n",
        &["agents.yaml:4: agent id a-1: is agent \"Support\" (id a-1), which agent \"Support\" at agents.yaml:2 declares too"],
    );
}

#[test]
fn an_inbound_claim_on_a_number_an_unmanaged_inbound_agent_answers() {
    // n-500 belongs to Legacy IVR (inbound), which the config does not declare.
    rejected(
        "inbound-conflict",
        "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550500\"]\n",
        &["agents.yaml:2: agent \"Support\": number +14155550500 would also be answered by inbound agent \"Legacy IVR\" (id a-5) (not managed by this config)"],
    );
}

#[test]
fn two_inbound_agents_via_id_and_number_spellings() {
    rejected(
        "inbound-conflict",
        "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [n-300]\n  - name: Callback\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n",
        &["number +14155550300 would also be answered by inbound agent"],
    );
}

#[test]
fn every_live_problem_is_reported_together() {
    rejected(
        "unknown-agent",
        "agents:\n  - name: Nobody\n    direction: inbound\n  - id: a-404\n    direction: inbound\n",
        &["agent \"Nobody\"", "the configuration has 2 problems", "agent id a-404"],
    );
}

#[test]
fn a_number_the_environment_lists_twice_asks_for_its_id() {
    let mut seed = standard_seed();
    seed.phone_numbers.push(SeedPhoneNumber {
        id: "n-300b".into(),
        number: "+14155550300".into(),
        country_code: None,
        formatted_number: None,
        r#type: None,
    });
    let out = Test::new()
        .seed(seed)
        .file(
            "agents.yaml",
            "agents:\n  - name: Support\n    direction: inbound\n    phone_numbers: [\"+14155550300\"]\n",
        )
        .args(&["plan", "agents.yaml"])
        .expect_code(1)
        .run();
    out.wrote_nothing().stderr_has(&[
        "agents.yaml:2: agent \"Support\": number +14155550300 appears more than once in the environment's phone numbers: use its phone number id [ambiguous-number]",
    ]);
}
