//! The text rendering of a plan (a line diff of each changed agent, via `similar`) and of an
//! apply report.

use std::fmt::Write;

use similar::{ChangeTag, TextDiff};

use crate::apply::{ApplyReport, Outcome};
use crate::plan::{Change, Plan};
use crate::state::{Direction, PhoneId};

/// Whether to emit ANSI colours (only on a terminal, never with `NO_COLOR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
    fn green(self, text: &str) -> String {
        self.paint("32", text)
    }
    fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }
    fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// The whole plan: each change, then the summary line.
pub fn render_plan(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    if plan.has_changes() {
        let n = plan.changes.len();
        let _ = writeln!(
            out,
            "talkops will change {n} agent{}:\n",
            if n == 1 { "" } else { "s" }
        );
        for change in &plan.changes {
            render_change(&mut out, plan, change, style);
            out.push('\n');
        }
    } else {
        out.push_str("No changes: every declared agent already matches the config.\n\n");
    }
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!(
            "Plan: {} to change, {} unchanged, {} not managed.",
            plan.changes.len(),
            plan.unchanged,
            plan.unmanaged
        ))
    );
    out
}

fn render_change(out: &mut String, plan: &Plan, change: &Change, style: Style) {
    let _ = writeln!(
        out,
        "{} agent {:?} (id {})  {}",
        style.yellow("~"),
        change.name,
        change.id,
        change.source
    );
    let before = settings_text(change.before.direction, &change.before.phone_ids, plan);
    let after = settings_text(Some(change.after.direction), &change.after.phone_ids, plan);
    let diff = TextDiff::from_lines(&before, &after);
    for line in diff.iter_all_changes() {
        let text = line.value().trim_end_matches('\n');
        let rendered = match line.tag() {
            ChangeTag::Delete => style.red(&format!("    - {text}")),
            ChangeTag::Insert => style.green(&format!("    + {text}")),
            ChangeTag::Equal => format!("      {text}"),
        };
        let _ = writeln!(out, "{rendered}");
    }
    if !change.numbers_managed {
        let _ = writeln!(
            out,
            "      (phone_numbers not in the config: the current numbers are kept)"
        );
    }
}

/// One line for the direction, then one per number in number order: the text `similar`
/// diffs, so that a moved number reads as one `-` and one `+` line.
fn settings_text(
    direction: Option<Direction>,
    phone_ids: &std::collections::BTreeSet<PhoneId>,
    plan: &Plan,
) -> String {
    let mut text = format!(
        "direction: {}\n",
        direction.map_or("(unknown)", Direction::as_str)
    );
    let mut numbers: Vec<&str> = phone_ids.iter().map(|id| plan.label(id)).collect();
    numbers.sort_unstable();
    if numbers.is_empty() {
        text.push_str("numbers: none\n");
    }
    for number in numbers {
        let _ = writeln!(text, "number: {number}");
    }
    text
}

/// What apply did, agent by agent, then the totals.
pub fn render_report(report: &ApplyReport, style: Style) -> String {
    let mut out = String::new();
    for result in &report.results {
        let who = format!("agent {:?} (id {})", result.name, result.id);
        let line = match &result.outcome {
            Outcome::Changed { notes } => {
                let mut line = format!("{} {who}", style.green("changed"));
                for note in notes {
                    let _ = write!(line, "\n    note: {note}");
                }
                line
            }
            Outcome::Failed { reason } => format!("{} {who}: {reason}", style.red("failed ")),
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "\n{}",
        style.bold(&format!(
            "Apply {}: {} changed, {} failed, {} unchanged, {} not managed.",
            if report.failed() == 0 {
                "complete"
            } else {
                "finished with failures"
            },
            report.changed(),
            report.failed(),
            report.unchanged,
            report.unmanaged
        ))
    );
    out
}
