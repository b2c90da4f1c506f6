//! Text from outside (agent names and ids, numbers, server messages, file paths) made safe
//! to put in front of a person: control and format characters are shown, never sent to a
//! terminal or a PR comment raw. Pure; every layer that prints may use it.

use std::fmt::Write;

/// `text` with every control and format character (ESC, bidi overrides, zero-width
/// characters, ...: what `{:?}` escapes) shown as `\u{..}`, line breaks kept.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\n' && is_invisible(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `c` is a character that the text output (`{:?}`) escapes: control characters (ESC
/// and the rest of C0 and C1, DEL), format characters such as the bidi overrides and
/// isolates (U+202A–U+202E, U+2066–U+2069), marks (U+200E, U+200F, U+061C), zero-width
/// characters, line and paragraph separators, unassigned code points, and combining marks
/// (which `{:?}` escapes too, and which can be stacked to smear a line). In a PR comment they
/// could reorder or hide what a plan says.
pub fn is_invisible(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    // std escapes exactly the characters it cannot print (and combining marks), the same set
    // as `Debug` for `str`: using it keeps the Markdown and the text output in agreement.
    c.escape_debug().len() > 1
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
