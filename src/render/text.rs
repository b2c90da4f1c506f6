//! The text rendering of a plan (a line diff of each changed agent, via `similar`) and of an
//! apply report.

use std::fmt::Write;

use anstyle::AnsiColor;
use similar::{ChangeTag, TextDiff};

use crate::apply::{ApplyReport, Outcome};
use crate::model::agent_label;
use crate::model::{Direction, PhoneId};
use crate::plan::StepKind;
use crate::plan::{Change, Plan};

/// Whether to emit ANSI colours; decided once, where the command starts (see
/// `settings::style_for`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// `text` in `paint` and then reset, when colour is on; `text` as is otherwise, so the
    /// uncoloured output carries no escape at all.
    fn paint(self, paint: anstyle::Style, text: &str) -> String {
        if self.color {
            format!("{paint}{text}{paint:#}")
        } else {
            text.to_owned()
        }
    }
    fn red(self, text: &str) -> String {
        self.paint(AnsiColor::Red.on_default(), text)
    }
    fn green(self, text: &str) -> String {
        self.paint(AnsiColor::Green.on_default(), text)
    }
    pub(super) fn yellow(self, text: &str) -> String {
        self.paint(AnsiColor::Yellow.on_default(), text)
    }
    fn bold(self, text: &str) -> String {
        self.paint(anstyle::Style::new().bold(), text)
    }
}

/// The line above each environment's plan or report in project mode.
pub fn render_environment_heading(name: &str, api_url: &str, style: Style) -> String {
    style.bold(&format!(
        "== {} ({}) ==",
        super::visible(name),
        super::visible(api_url)
    )) + "\n"
}

/// The closing line of a project's plan: how many agents change in how many environments,
/// and each environment's count.
pub fn render_project_summary(environments: &[(&str, &Plan)]) -> String {
    let changing = environments.iter().filter(|(_, p)| p.has_changes()).count();
    let to_change: usize = environments.iter().map(|(_, p)| p.changes.len()).sum();
    let each = environments
        .iter()
        .map(|(name, plan)| {
            if plan.has_changes() {
                format!("{}: {} to change", super::visible(name), plan.changes.len())
            } else {
                format!("{}: no changes", super::visible(name))
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "All environments: {to_change} to change in {changing} of {} environment{} ({each}).\n",
        environments.len(),
        if environments.len() == 1 { "" } else { "s" }
    )
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
        if plan.order_matters() {
            render_order(&mut out, plan);
            out.push('\n');
        }
    } else {
        out.push_str("No changes: every declared agent already matches the config.\n\n");
    }
    if !plan.routing_changes.is_empty() {
        render_routing(&mut out, plan, style);
        out.push('\n');
    }
    for warning in &plan.warnings {
        let _ = writeln!(
            out,
            "{} {} (apply needs {})",
            style.yellow("Warning:"),
            super::visible(&warning.message),
            warning.needs.flag()
        );
    }
    if !plan.warnings.is_empty() {
        out.push('\n');
    }
    let untargeted = if plan.untargeted > 0 {
        format!(", {} not targeted", plan.untargeted)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!(
            "Plan: {} to change, {} unchanged, {} not managed{untargeted}.",
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
        "{} {}",
        style.yellow("~"),
        super::visible(&format!(
            "agent {}  {}",
            agent_label(&change.name, &change.id),
            change.source
        ))
    );
    let before = settings_text(change.before.direction, &change.before.phone_ids, plan);
    let after = settings_text(Some(change.after.direction), &change.after.phone_ids, plan);
    let diff = TextDiff::from_lines(&before, &after);
    for line in diff.iter_all_changes() {
        let text = super::visible(line.value().trim_end_matches('\n'));
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

/// One line per number whose callers reach someone else: who answers it and who dials from
/// it, before → after, only for the side that changes.
fn render_routing(out: &mut String, plan: &Plan, style: Style) {
    let _ = writeln!(
        out,
        "Routing changes (who answers each number, who dials from it):"
    );
    let width = plan
        .routing_changes
        .iter()
        .map(|c| c.shown.chars().count())
        .max()
        .unwrap_or(0);
    for change in &plan.routing_changes {
        let mut parts = Vec::new();
        if change.inbound_before != change.inbound_after {
            let after = if change.inbound_after.is_empty() {
                style.red("nobody (off the air)")
            } else {
                style.green(&agents(&change.inbound_after))
            };
            parts.push(format!(
                "answered by: {} → {after}",
                agents(&change.inbound_before)
            ));
        }
        if change.outbound_before != change.outbound_after {
            parts.push(format!(
                "dialed from by: {} → {}",
                agents(&change.outbound_before),
                agents(&change.outbound_after)
            ));
        }
        let number = super::visible(&change.shown);
        let pad = width.saturating_sub(change.shown.chars().count());
        let _ = writeln!(out, "  {number}{}  {}", " ".repeat(pad), parts.join("   "));
    }
}

/// Agents as a routing line shows them; `(none)` for none.
fn agents(list: &[crate::plan::RoutedAgent]) -> String {
    if list.is_empty() {
        return "(none)".to_owned();
    }
    list.iter()
        .map(|a| super::visible(&a.shown))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The steps that depend on each other, numbered: a number moving between inbound agents
/// is released before it is claimed.
fn render_order(out: &mut String, plan: &Plan) {
    let _ = writeln!(
        out,
        "Apply order (numbers move between inbound agents: each is released before it is claimed):"
    );
    for line in render_order_lines(plan) {
        let _ = writeln!(out, "  {line}");
    }
}

/// The lines of the apply order, each starting with its number (`1. ...`).
pub(crate) fn render_order_lines(plan: &Plan) -> Vec<String> {
    let shown: Vec<usize> = (0..plan.steps.len())
        .filter(|&i| {
            let step = &plan.steps[i];
            step.kind == StepKind::Release
                || !step.releases_for_others.is_empty()
                || (!step.claims.is_empty() && !step.after.is_empty())
        })
        .collect();
    let number_of = |step: usize| shown.iter().position(|&s| s == step).map(|p| p + 1);
    let list = |phones: &[PhoneId]| {
        phones
            .iter()
            .map(|p| plan.label(p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = Vec::new();
    for (position, &index) in shown.iter().enumerate() {
        let step = &plan.steps[index];
        let change = &plan.changes[step.change];
        let who = format!("agent {}", agent_label(&change.name, &change.id));
        let mut line = match step.kind {
            StepKind::Release => format!(
                "release {} from {who} first (an extra PUT that breaks a cycle)",
                list(&step.releases_for_others)
            ),
            StepKind::Final => {
                let mut parts = Vec::new();
                if !step.releases_for_others.is_empty() {
                    parts.push(format!("releases {}", list(&step.releases_for_others)));
                }
                if !step.claims.is_empty() {
                    parts.push(format!("claims {}", list(&step.claims)));
                }
                format!("{who} {}", parts.join(" and "))
            }
        };
        let after: Vec<String> = step
            .after
            .iter()
            .filter_map(|&d| number_of(d))
            .map(|n| n.to_string())
            .collect();
        if !after.is_empty() {
            let _ = write!(line, " (after {})", after.join(", "));
        }
        lines.push(format!("{}. {}", position + 1, super::visible(&line)));
    }
    let others = plan.steps.len() - shown.len();
    if others > 0 {
        lines.push(if others == 1 {
            "The other change depends on nothing and runs in any order.".to_owned()
        } else {
            format!("The other {others} changes depend on nothing and run in any order.")
        });
    }
    lines
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
        let who = super::visible(&format!("agent {}", agent_label(&result.name, &result.id)));
        let line = match &result.outcome {
            Outcome::Changed { notes } => {
                let mut line = format!("{} {who}", style.green("changed"));
                for note in notes {
                    let _ = write!(line, "\n    note: {}", super::visible(note));
                }
                line
            }
            Outcome::Failed { reason, .. } => {
                format!("{} {who}: {}", style.red("failed "), super::visible(reason))
            }
            Outcome::Skipped { reason } => format!(
                "{} {who}: {}",
                style.yellow("skipped"),
                super::visible(reason)
            ),
        };
        let _ = writeln!(out, "{line}");
    }
    if report.interrupted {
        // Only claim that the PUTs under way were finished when none was abandoned.
        let text = match report.abandoned {
            0 => "Interrupted: no new PUT was started after the interrupt (those already under way, retries included, were finished); the list above says what was and was not done.".to_owned(),
            n => format!(
                "Interrupted twice: no new PUT was started after the first interrupt, and the second abandoned the {} still under way, which may or may not have been applied; the list above says what was and was not done.",
                if n == 1 { "PUT".to_owned() } else { format!("{n} PUTs") }
            ),
        };
        let _ = writeln!(out, "\n{}", style.yellow(&text));
    }
    let verdict = if report.interrupted {
        "Apply interrupted"
    } else if report.succeeded() {
        "Apply complete"
    } else {
        "Apply finished with failures"
    };
    let _ = writeln!(
        out,
        "\n{}",
        style.bold(&format!(
            "{verdict}: {} changed, {} failed, {} skipped, {} unchanged, {} not managed ({} PUTs).",
            report.changed(),
            report.failed(),
            report.skipped(),
            report.unchanged,
            report.unmanaged,
            report.puts
        ))
    );
    if report.routing_changes > 0 {
        let n = report.routing_changes;
        let numbers = if n == 1 {
            "1 number".to_owned()
        } else {
            format!("{n} numbers")
        };
        let line = if report.succeeded() && !report.interrupted {
            format!("Routing: {numbers} now reach someone else (see the routing changes above).")
        } else {
            format!("Routing: the plan changes the routing of {numbers}; not everything was applied, so run plan to see where each stands.")
        };
        let _ = writeln!(out, "{line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Style;

    /// The escapes are the SGR codes talkops wrote by hand before anstyle: a terminal
    /// theme, or a test that looks for them, sees the same colours.
    #[test]
    fn colours_are_the_plain_sgr_codes_and_nothing_without_colour() {
        let on = Style { color: true };
        assert_eq!(on.red("x"), "\x1b[31mx\x1b[0m");
        assert_eq!(on.green("x"), "\x1b[32mx\x1b[0m");
        assert_eq!(on.yellow("x"), "\x1b[33mx\x1b[0m");
        assert_eq!(on.bold("x"), "\x1b[1mx\x1b[0m");
        let off = Style { color: false };
        for painted in [off.red("x"), off.green("x"), off.yellow("x"), off.bold("x")] {
            assert_eq!(painted, "x");
        }
    }
}
