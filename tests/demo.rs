//! `talkops demo`: the README's first command.

use crate::harness::Test;

#[test]
fn demo_plans_applies_and_converges() {
    let out = Test::new().token(None).args(&["demo"]).run();
    for fragment in [
        "Plan: 4 to change, 1 unchanged, 2 not managed.",
        "Warning: number +14155550199 goes off the air",
        "Apply order (numbers move between inbound agents",
        "Apply complete: 4 changed, 0 failed, 0 skipped, 1 unchanged, 2 not managed (4 PUTs).",
        "Plan: 0 to change, 5 unchanged, 2 not managed.",
        "4 PUTs, one per changed agent",
    ] {
        assert!(
            out.stdout.contains(fragment),
            "lacks {fragment:?}:\n{}",
            out.stdout
        );
    }
}
