//! The routing table (`talkops routes`) as text, Markdown, JSON and CSV. Pure.

use std::fmt::Write;

use serde::Serialize;

use super::text::Style;
use crate::plan::RoutedAgent;
use crate::printable::visible;
use crate::routes::Row;

fn names(list: &[RoutedAgent], none: &str) -> String {
    if list.is_empty() {
        return none.to_owned();
    }
    list.iter()
        .map(|a| visible(&a.shown))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Flags worth a second look: ambiguous, unknown direction, idle, and what a plan changes.
fn flags(row: &Row) -> Vec<&'static str> {
    let mut flags = Vec::new();
    if row.changes == Some(true) {
        flags.push("changes");
    }
    if row.ambiguous() {
        flags.push("ambiguous: answered by more than one agent");
    }
    if row.unknown_direction {
        flags.push("an agent's direction is unknown");
    }
    if row.idle() {
        flags.push("idle");
    }
    flags
}

/// One aligned line a number.
pub fn render_routes(rows: &[&Row], style: Style) -> String {
    let width = rows
        .iter()
        .map(|r| r.shown.chars().count())
        .max()
        .unwrap_or(0);
    let answered = rows
        .iter()
        .map(|r| names(&r.inbound, "nobody").chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for row in rows {
        let inbound = names(&row.inbound, "nobody");
        let mut line = format!(
            "{}{}  answered by: {}{}  dialed from by: {}",
            visible(&row.shown),
            " ".repeat(width.saturating_sub(row.shown.chars().count())),
            inbound,
            " ".repeat(answered.saturating_sub(inbound.chars().count())),
            names(&row.outbound, "(none)")
        );
        let flags = flags(row);
        if !flags.is_empty() {
            line.push_str(&style.yellow(&format!("  [{}]", flags.join("; "))));
        }
        let _ = writeln!(out, "{line}");
    }
    if rows.is_empty() {
        out.push_str("No phone numbers.\n");
    }
    out
}

/// A Markdown table.
pub fn render_routes_markdown(rows: &[&Row]) -> String {
    let mut out =
        String::from("| Number | Answered by | Dialed from by | Notes |\n|---|---|---|---|\n");
    let cell = |text: &str| text.replace('|', "\\|");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&visible(&row.shown)),
            cell(&names(&row.inbound, "nobody")),
            cell(&names(&row.outbound, "(none)")),
            flags(row).join("; ")
        );
    }
    out
}

#[derive(Serialize)]
struct RoutesDocument<'a> {
    format_version: u32,
    api_url: &'a str,
    numbers: &'a [&'a Row],
}

/// `{"format_version": 1, "api_url", "numbers": [...]}`.
pub fn render_routes_json(rows: &[&Row], api_url: &str) -> String {
    let document = RoutesDocument {
        format_version: 1,
        api_url,
        numbers: rows,
    };
    serde_json::to_string_pretty(&document)
        .unwrap_or_else(|err| format!("{{\"error\": {:?}}}", err.to_string()))
        + "\n"
}

/// CSV with a header row; agents in one cell are separated by `; `.
pub fn render_routes_csv(rows: &[&Row]) -> String {
    let field = |text: &str| {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    };
    let agents = |list: &[RoutedAgent]| {
        list.iter()
            .map(|a| format!("{} ({})", a.agent_name, a.agent_id))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut out = String::from("number,phone_id,answered_by,dialed_from_by,notes\n");
    for row in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{}",
            field(&visible(row.number.as_deref().unwrap_or(""))),
            field(&visible(row.phone_id.as_str())),
            field(&visible(&agents(&row.inbound))),
            field(&visible(&agents(&row.outbound))),
            field(&flags(row).join("; "))
        );
    }
    out
}
