//! Turning plans and apply reports into text for people. Rendering is pure: it returns
//! strings, and the caller decides where they go.

mod markdown;
mod text;

pub use markdown::{render_plan_markdown, render_report_markdown};
pub use text::{render_plan, render_report, Style};

/// `text` with every control and format character (ESC, bidi overrides, zero-width
/// characters, ...: what `{:?}` escapes) shown as `\u{..}`, line breaks kept: for any text
/// from outside (ids, numbers, server messages, paths) put in front of a person.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\n' && markdown::is_invisible(c) {
            use std::fmt::Write;
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn visible_escapes_control_and_bidi_characters_and_keeps_lines() {
        assert_eq!(
            super::visible("a\u{1b}[2Kb\u{202e}c\nd é"),
            "a\\u{1b}[2Kb\\u{202e}c\nd é"
        );
    }
}
