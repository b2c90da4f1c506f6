//! The harness's own promises, shown on a server built to break them: a successful apply that
//! did not converge fails its test, and a test can opt out of that check only by saying why.

use serde_json::json;
use talkover_sim::Canned;

use crate::harness::Test;

/// Night gains +14155550300.
const NIGHT_GAINS: &str =
    "agents:\n  - name: Night\n    direction: inbound\n    phone_numbers: [\"+14155550400\", \"+14155550300\"]\n";

/// A simulator whose PUT to Night answers 200 with exactly the desired settings but stores
/// nothing: apply sees a confirmed change and exits 0, yet the next plan still has it to do.
fn forgetful() -> Test {
    let answer = json!({
        "success": true,
        "message": "Agent calling settings updated successfully",
        "data": {
            "id": "a-4",
            "name": "Night",
            "direction": "inbound",
            "current_status": "published",
            "phone_numbers": [
                {"id": "n-300", "number": "+14155550300"},
                {"id": "n-400", "number": "+14155550400"}
            ],
            "updated_at": "2025-01-01T00:00:00Z"
        }
    });
    Test::new()
        .sim(move |c| {
            c.canned = vec![Canned::new(
                "PUT",
                "/api/v1/agents/a-4/calling",
                200,
                answer.to_string(),
            )]
        })
        .file("agents.yaml", NIGHT_GAINS)
        .args(&["apply", "--auto-approve", "agents.yaml"])
}

#[test]
#[should_panic(expected = "apply succeeded but did not converge")]
fn an_apply_that_does_not_converge_fails_its_test() {
    forgetful().run();
}

#[test]
fn a_test_can_opt_out_of_the_convergence_check_with_a_reason() {
    let out = forgetful()
        .not_convergent("the simulator acknowledges the PUT but stores nothing")
        .run();
    assert_eq!(out.put_paths(), ["/api/v1/agents/a-4/calling"]);
    assert_eq!(
        out.agent("a-4").phone_number_ids,
        ["n-400"],
        "nothing stored"
    );
}

#[test]
#[should_panic(expected = "exited 0, expected 1")]
fn a_run_that_ends_with_another_code_than_stated_fails_its_test() {
    Test::new()
        .token(None)
        .args(&["schema"])
        .expect_code(1)
        .run();
}
