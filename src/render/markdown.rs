//! The Markdown rendering of a plan, for a pull-request comment, and of an apply report.
//!
//! A summary line first, warnings prominent, a table of changed agents, the apply order where
//! it matters, and the full text plan folded in `<details>`. GitHub refuses comments over
//! 65,536 characters, so the output is kept under [`MAX_CHARS`] by truncating the detail and
//! saying so.

use std::fmt::Write;

use super::text::{render_order_lines, render_plan, Style};
use crate::apply::{ApplyReport, Outcome};
use crate::model::PhoneId;
use crate::plan::Plan;
use crate::printable::is_invisible;

/// The most characters a Markdown plan may have.
pub const MAX_CHARS: usize = 65_000;
/// Kept free for the closing lines and truncation notes.
const RESERVE: usize = 600;

/// The plan as Markdown, never longer than [`MAX_CHARS`].
pub fn render_plan_markdown(plan: &Plan) -> String {
    render_plan_markdown_within(plan, MAX_CHARS, "talkops plan")
}

/// The plan as Markdown, never longer than `max` characters (a project's comment shares
/// [`MAX_CHARS`] among its environments). Notes about what was left out say to run `rerun`.
fn render_plan_markdown_within(plan: &Plan, max: usize, rerun: &str) -> String {
    let mut out = String::new();
    let untargeted = if plan.untargeted > 0 {
        format!(" · {} not targeted", plan.untargeted)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "**talkops plan:** {} to change · {} unchanged · {} not managed{untargeted}\n",
        plan.changes.len(),
        plan.unchanged,
        plan.unmanaged
    );
    push_routing(&mut out, plan, max, rerun);
    push_warnings(&mut out, plan, max, rerun);
    if !plan.has_changes() {
        out.push_str("No changes: every declared agent already matches the config.\n");
        return out;
    }
    let budget = max.saturating_sub(RESERVE);
    if !push_table(&mut out, plan, budget, rerun) {
        return out;
    }
    if plan.order_matters() {
        push_order(&mut out, plan, budget, rerun);
    }
    push_details(&mut out, plan, budget, rerun);
    out
}

/// The routing changes as a table, first after the summary: what reviewers read first. At
/// most a third of the room; the rest is named in a note.
fn push_routing(out: &mut String, plan: &Plan, max: usize, rerun: &str) {
    if plan.routing_changes.is_empty() {
        return;
    }
    out.push_str("**Routing changes** (who answers each number, who dials from it):\n\n");
    out.push_str(
        "| Number | Answered by (before → after) | Dials out (before → after) |\n|---|---|---|\n",
    );
    let side = |before: &[crate::plan::RoutedAgent], after: &[crate::plan::RoutedAgent]| {
        if before == after {
            return "(unchanged)".to_owned();
        }
        let names = |list: &[crate::plan::RoutedAgent]| {
            if list.is_empty() {
                "nobody".to_owned()
            } else {
                list.iter()
                    .map(|a| escape(&clip(&a.shown, MAX_CELL)))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        format!("{} → **{}**", names(before), names(after))
    };
    let mut shown = 0;
    for change in &plan.routing_changes {
        let row = format!(
            "| {} | {} | {} |\n",
            escape(&clip(&change.shown, MAX_CELL)),
            side(&change.inbound_before, &change.inbound_after),
            side(&change.outbound_before, &change.outbound_after),
        );
        if out.len() + row.len() > max / 3 {
            break;
        }
        out.push_str(&row);
        shown += 1;
    }
    if shown < plan.routing_changes.len() {
        let _ = writeln!(
            out,
            "\n*… and {} more numbers change routing; run `{rerun}` to see them all.*",
            plan.routing_changes.len() - shown
        );
    }
    out.push('\n');
}

/// The warnings in a `[!WARNING]` block. They come first and matter most, but they get at
/// most half the room.
fn push_warnings(out: &mut String, plan: &Plan, max: usize, rerun: &str) {
    if plan.warnings.is_empty() {
        return;
    }
    out.push_str("> [!WARNING]\n");
    let mut shown = 0;
    for warning in &plan.warnings {
        let line = format!(
            "> - {} (apply needs `{}`)\n",
            escape(&clip(&warning.message, MAX_CELL)),
            warning.needs.flag()
        );
        if out.len() + line.len() > max / 2 {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    if shown < plan.warnings.len() {
        let _ = writeln!(
            out,
            "> - … and {} more warnings; run `{rerun}` to see them all",
            plan.warnings.len() - shown
        );
    }
    out.push('\n');
}

/// The table of changed agents; false when it had to be truncated (then nothing follows).
fn push_table(out: &mut String, plan: &Plan, budget: usize, rerun: &str) -> bool {
    out.push_str("| Agent | Direction | Numbers added | Numbers removed |\n|---|---|---|---|\n");
    let mut shown = 0;
    for change in &plan.changes {
        let direction = match (change.before.direction, change.direction_changes()) {
            (Some(before), true) => format!("{before} → **{}**", change.after.direction),
            (None, _) => format!("(unknown) → **{}**", change.after.direction),
            (_, false) => change.after.direction.to_string(),
        };
        let row = format!(
            "| {} ({}) | {direction} | {} | {} |\n",
            escape(&clip(&change.name, MAX_CELL)),
            code(change.id.as_str()),
            clip(&list(plan, change.added()), MAX_CELL),
            clip(&list(plan, change.removed()), MAX_CELL),
        );
        if out.len() + row.len() > budget {
            break;
        }
        out.push_str(&row);
        shown += 1;
    }
    if shown < plan.changes.len() {
        let _ = writeln!(
            out,
            "\n*Table truncated: {shown} of {} changed agents shown, to stay within the comment size limit. Run `{rerun}` for the full plan.*",
            plan.changes.len()
        );
        return false;
    }
    out.push('\n');
    true
}

/// The apply order, or a note that it was left out for room.
fn push_order(out: &mut String, plan: &Plan, budget: usize, rerun: &str) {
    let mut order = String::from("**Apply order** (numbers move between inbound agents: each is released before it is claimed):\n\n");
    for line in render_order_lines(plan) {
        // Numbered steps are a Markdown list already; the closing note is not a step.
        let bullet = if line.starts_with(char::is_numeric) {
            ""
        } else {
            "\n"
        };
        let _ = writeln!(order, "{bullet}{}", escape(&line));
    }
    order.push('\n');
    if out.len() + order.len() > budget {
        let _ = write!(out, "*Apply order left out to stay within the comment size limit. Run `{rerun}` to see it.*\n\n");
    } else {
        out.push_str(&order);
    }
}

/// The full text plan folded in `<details>`, cut at a line boundary to fit.
fn push_details(out: &mut String, plan: &Plan, budget: usize, rerun: &str) {
    // The text plan escapes names, but not everything it shows (ids, for one) comes through
    // `{:?}`; and a backtick run in it must not close the block.
    let detail = escape_block(&render_plan(plan, Style { color: false }));
    let fence = fence(&detail);
    let open = format!("<details><summary>Full plan</summary>\n\n{fence}\n");
    let close = format!("{fence}\n\n</details>\n");
    let room = budget.saturating_sub(out.len() + open.len() + close.len());
    out.push_str(&open);
    if detail.len() <= room {
        out.push_str(&detail);
    } else {
        // Cut at a line boundary, never inside a character.
        let mut cut = 0;
        for line in detail.split_inclusive('\n') {
            if cut + line.len() > room {
                break;
            }
            cut += line.len();
        }
        out.push_str(&detail[..cut]);
        let _ = writeln!(
            out,
            "… truncated: the full plan is {} characters; run `{rerun}` to see all of it.",
            detail.len()
        );
    }
    out.push_str(&close);
}

/// One environment of a project, for the project's Markdown comment.
pub struct EnvironmentPlan<'a> {
    pub name: &'a str,
    pub api_url: &'a str,
    pub plan: &'a Plan,
}

/// The heading of one environment's section in a project's Markdown (plan, report, routes).
pub fn render_environment_heading_markdown(name: &str, api_url: &str) -> String {
    format!("### {} ({})\n\n", escape(name), code(api_url))
}

/// The least room an environment's section is given; below it, the sections are left out
/// and the summary lines stand alone.
const MIN_SECTION: usize = 1_500;

/// A project's plan as one Markdown comment, never longer than [`MAX_CHARS`]: a summary
/// line, one line per environment, then a section per environment (folded when it has no
/// changes). The environments with changes share the room the rest leaves.
pub fn render_project_markdown(environments: &[EnvironmentPlan<'_>]) -> String {
    let changing = environments.iter().filter(|e| e.plan.has_changes()).count();
    let to_change: usize = environments.iter().map(|e| e.plan.changes.len()).sum();
    let mut out = format!(
        "**talkops plan** for {} environment{}: {}\n\n",
        environments.len(),
        if environments.len() == 1 { "" } else { "s" },
        if changing == 0 {
            "no changes".to_owned()
        } else {
            format!("{to_change} to change in {changing}")
        }
    );
    for (listed, env) in environments.iter().enumerate() {
        let plan = env.plan;
        if out.len() > MAX_CHARS / 3 {
            let _ = writeln!(
                out,
                "- … and {} more environments; run `talkops plan` to see them all",
                environments.len() - listed
            );
            break;
        }
        let warnings = if plan.warnings.is_empty() {
            String::new()
        } else {
            format!(" · ⚠️ {} warnings", plan.warnings.len())
        };
        let _ = writeln!(
            out,
            "- **{}** ({}): {} · {} unchanged · {} not managed{warnings}",
            escape(env.name),
            code(env.api_url),
            if plan.has_changes() {
                format!("{} to change", plan.changes.len())
            } else {
                "no changes".to_owned()
            },
            plan.unchanged,
            plan.unmanaged
        );
    }
    out.push('\n');
    let mut sections = Vec::new();
    for env in environments.iter().filter(|e| !e.plan.has_changes()) {
        sections.push((
            env.name,
            format!(
                "<details><summary><b>{}</b>: no changes</summary>\n\n{}\n</details>\n\n",
                escape(env.name),
                render_plan_markdown_within(
                    env.plan,
                    MAX_CHARS,
                    &format!("talkops plan --env {}", env.name)
                )
            ),
        ));
    }
    let folded: usize = sections.iter().map(|(_, s)| s.len()).sum();
    let room = MAX_CHARS.saturating_sub(RESERVE + out.len() + folded);
    let each = room.checked_div(changing).unwrap_or(0);
    if changing > 0 && each < MIN_SECTION {
        let _ = writeln!(
            out,
            "*The environments' plans are left out to stay within the comment size limit. Run `talkops plan --env NAME` to see one.*"
        );
        return out;
    }
    // In project-file order: the changing environments' sections, then the folded ones.
    for env in environments.iter().filter(|e| e.plan.has_changes()) {
        let heading = render_environment_heading_markdown(env.name, env.api_url);
        let body = render_plan_markdown_within(
            env.plan,
            each.saturating_sub(heading.len()),
            &format!("talkops plan --env {}", env.name),
        );
        out.push_str(&heading);
        out.push_str(&body);
        out.push('\n');
    }
    for (_, section) in sections {
        if out.len() + section.len() > MAX_CHARS.saturating_sub(RESERVE) {
            out.push_str(
                "*Environments without changes left out to stay within the comment size limit.*\n",
            );
            break;
        }
        out.push_str(&section);
    }
    out
}

/// The apply report as Markdown.
pub fn render_report_markdown(report: &ApplyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "**talkops apply:** {} changed · {} failed · {} skipped · {} unchanged · {} not managed{}\n",
        report.changed(),
        report.failed(),
        report.skipped(),
        report.unchanged,
        report.unmanaged,
        if report.interrupted { " · **interrupted**" } else { "" }
    );
    if report.results.is_empty() {
        return out;
    }
    out.push_str("| Agent | Result | Detail |\n|---|---|---|\n");
    for result in &report.results {
        let (word, detail) = match &result.outcome {
            Outcome::Changed { notes } => ("changed", notes.join("; ")),
            Outcome::Failed { reason, .. } => ("**failed**", reason.clone()),
            Outcome::Skipped { reason } => ("skipped", reason.clone()),
        };
        let row = format!(
            "| {} ({}) | {word} | {} |\n",
            escape(&clip(&result.name, MAX_CELL)),
            code(result.id.as_str()),
            escape(&clip(&detail, MAX_CELL))
        );
        if out.len() + row.len() > MAX_CHARS - RESERVE {
            out.push_str("\n*Truncated to stay within the comment size limit.*\n");
            break;
        }
        out.push_str(&row);
    }
    out
}

fn list<'a>(plan: &'a Plan, ids: impl Iterator<Item = &'a PhoneId>) -> String {
    let mut labels: Vec<&str> = ids.map(|id| plan.label(id)).collect();
    labels.sort_unstable();
    labels
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The most characters of one name, number list or message in a table cell or warning.
const MAX_CELL: usize = 300;

/// `text`, cut to `max` characters with an ellipsis.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

/// An id as a code span: backslashes show literally there, so only what would end the span
/// or the table cell is replaced, and invisible characters are shown as escapes.
fn code(text: &str) -> String {
    let mut out = String::from("`");
    for c in clip(text, MAX_CELL).chars() {
        match c {
            '`' => out.push('\''),
            '|' => out.push_str("\\|"),
            c if is_invisible(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('`');
    out
}

/// Escapes what would break a table cell, start Markdown/HTML markup, mention a user (`@`)
/// or form an HTML entity (`&`), and shows control and format characters as `\u{..}`.
/// Line breaks become spaces: multi-line server messages stay readable in one cell.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '@' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if is_invisible(c) => {
                // The backslash escaped, so that Markdown shows it.
                out.push('\\');
                push_escaped(&mut out, c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for a fenced code block: every character shows literally there, so only control and
/// format characters are made visible; line breaks stay.
fn escape_block(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push(c),
            c if is_invisible(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// A fence that no run of backticks in `text` can close: one longer than the longest run.
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.saturating_add(1).max(3))
}

/// Pushes `c` as `\u{..}`, the form the text output uses.
fn push_escaped(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

#[cfg(test)]
mod tests {
    use super::{
        clip, code, escape, escape_block, fence, render_project_markdown, EnvironmentPlan, Plan,
        MAX_CHARS,
    };
    use crate::printable::is_invisible;

    #[test]
    fn a_project_of_thousands_of_environments_stays_within_one_comment() {
        let plan = Plan {
            unchanged: 3,
            ..Plan::default()
        };
        let names: Vec<String> = (0..3_000).map(|i| format!("environment-{i:04}")).collect();
        let url = format!("https://app.talkover.ai/{}", "x".repeat(2_000));
        let environments: Vec<EnvironmentPlan<'_>> = names
            .iter()
            .map(|name| EnvironmentPlan {
                name,
                api_url: &url,
                plan: &plan,
            })
            .collect();
        let out = render_project_markdown(&environments);
        assert!(out.len() <= MAX_CHARS, "{} characters", out.len());
        assert!(out.starts_with("**talkops plan** for 3000 environments: no changes"));
        assert!(out.contains("more environments; run `talkops plan` to see them all"));
    }

    #[test]
    fn table_breaking_characters_are_escaped() {
        assert_eq!(escape("a|b <script>"), "a\\|b \\<script\\>");
        assert_eq!(escape("x\ny"), "x y");
        assert_eq!(escape("@octocat &amp;"), "\\@octocat \\&amp;");
        assert_eq!(code("agent_1|`x`"), "`agent_1\\|'x'`");
        assert_eq!(clip("abcdef", 3), "abc…");
    }

    #[test]
    fn control_and_bidi_characters_are_shown_escaped() {
        // In text the backslash itself is Markdown-escaped, so that it renders.
        assert_eq!(escape("a\u{1b}[31mb"), "a\\\\u{1b}\\[31mb");
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\\\u{202e}txt.exe");
        // In a code span and a code block backslashes show as they are.
        assert_eq!(code("id\u{202e}\u{2066}x"), "`id\\u{202e}\\u{2066}x`");
        assert_eq!(code("a\nb"), "`a\\u{a}b`");
        assert_eq!(
            escape_block("~ agent \u{1b}\u{7f}\u{9b}\n  + x\u{2069}\n"),
            "~ agent \\u{1b}\\u{7f}\\u{9b}\n  + x\\u{2069}\n"
        );
    }

    #[test]
    fn every_invisible_character_named_in_the_issue_is_caught() {
        for c in [
            '\u{0}',
            '\u{1b}',
            '\u{7f}',
            '\u{85}',
            '\u{9b}',
            '\u{ad}',
            '\u{61c}',
            '\u{200b}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{202e}',
            '\u{2060}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{feff}',
            '\u{e0001}',
        ] {
            assert!(is_invisible(c), "{c:?}");
        }
        // As in the text output, a combining accent is escaped; a precomposed one is a letter.
        assert_eq!(escape_block("e\u{301}"), "e\\u{301}");
        // Letters of any script and emoji are shown as they are.
        for text in [
            "Señor",
            "Sales–EMEA",
            "ventes été",
            "Служба",
            "דוד",
            "عربى",
            "客服",
            "📞",
        ] {
            assert_eq!(escape(text), text);
            assert_eq!(escape_block(text), text);
        }
    }

    #[test]
    fn the_code_block_fence_outgrows_any_backtick_run() {
        assert_eq!(fence("plain"), "```");
        assert_eq!(fence("a ```` b ``"), "`````");
    }
}
