//! A guard run before the YAML parser: how deeply flow collections (`[` and `{`) nest.
//!
//! The parser's time grows with the square of the flow nesting depth: `agents: ` followed by
//! 100,000 `[` takes it half a minute to reject. This scan is linear and stops at the first
//! collection past [`MAX_FLOW_DEPTH`]. Deep *block* nesting needs no guard: indentation makes
//! it cost quadratic bytes, and the parser's own recursion limit rejects it in milliseconds.
//!
//! The scan follows just enough of YAML's lexical rules to leave brackets alone where they
//! are text: in quoted scalars, comments, block scalars (`|`, `>`) and plain scalars. Where it
//! is unsure it counts, because a bracket counted by mistake costs only a false alarm in a file
//! that is already absurd, while one missed could let the slow input through.

/// The deepest flow nesting accepted. A talkops config needs two (`phone_numbers: [..]`
/// inside `agents: [{..}]`); the limit is far above any real file and far below a slow one.
pub const MAX_FLOW_DEPTH: usize = 64;

/// Where the first collection nested past [`MAX_FLOW_DEPTH`] opens: 1-based line and column
/// (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
    pub column: usize,
}

/// Scans `text` and returns where flow nesting first goes past [`MAX_FLOW_DEPTH`], if it does.
pub fn check_flow_depth(text: &str) -> Result<(), TooDeep> {
    let mut scan = Scan::default();
    // One buffer for every line's characters: a 50,000-agent file has 150,000 lines.
    let mut chars = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        // The YAML parser also breaks lines at a lone CR, NEL, LS and PS: a scan that did
        // not would read what follows one as part of a comment and miss its brackets. (A
        // CRLF line gives an empty piece, which changes nothing.) Line numbers count `\n`.
        for piece in line.split(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
            chars.clear();
            chars.extend(piece.chars());
            scan.line(&chars, index.saturating_add(1))?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    Single,
    Double,
}

#[derive(Default)]
struct Scan {
    /// Open flow collections.
    depth: usize,
    /// Inside a quoted scalar, which may span lines.
    quote: Option<Quote>,
    /// Inside a block scalar (`|`, `>`).
    block_scalar: Option<BlockScalar>,
}

/// A block scalar's extent. Its content is the following lines indented more than its parent,
/// at the indentation of its first non-blank line, and blank lines.
#[derive(Clone, Copy)]
struct BlockScalar {
    /// The column where the header line's node starts, past any `- ` sequence entries (at
    /// least the parent's indentation, so content is never assumed where YAML has none).
    parent: usize,
    /// The indentation of the first content line, once seen.
    content: Option<usize>,
}

impl Scan {
    fn line(&mut self, chars: &[char], number: usize) -> Result<(), TooDeep> {
        if self.inside_block_scalar(chars) {
            return Ok(());
        }

        // Whether a node may start here: the places where `[`, `{`, a quote, `|` or `>` are
        // indicators rather than text of a plain scalar.
        let mut node_start = true;
        // The previous character closed a quoted scalar or a flow collection: in flow
        // context a `:` straight after it is the value indicator (`{"a":"b"}`).
        let mut after_json_node = false;
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            let next = chars.get(i.saturating_add(1)).copied();
            if let Some(quote) = self.quote {
                match (quote, c) {
                    (Quote::Double, '\\') => i = i.saturating_add(1),
                    (Quote::Single, '\'') if next == Some('\'') => i = i.saturating_add(1),
                    (Quote::Double, '"') | (Quote::Single, '\'') => {
                        self.quote = None;
                        node_start = false;
                        after_json_node = true;
                        i = i.saturating_add(1);
                        continue;
                    }
                    _ => {}
                }
                i = i.saturating_add(1);
                continue;
            }
            let flow = self.depth > 0;
            let prev_blank = i == 0 || chars.get(i.wrapping_sub(1)).is_some_and(|p| is_blank(*p));
            let next_ends = next.is_none_or(|n| is_blank(n) || (flow && is_flow_indicator(n)));
            let json_node = after_json_node;
            after_json_node = false;
            match c {
                ' ' | '\t' | '\r' | '\u{feff}' => {}
                '#' if prev_blank => return Ok(()),
                '[' | '{' if node_start || flow => {
                    self.depth = self.depth.saturating_add(1);
                    if self.depth > MAX_FLOW_DEPTH {
                        return Err(TooDeep {
                            line: number,
                            column: i.saturating_add(1),
                        });
                    }
                    node_start = true;
                }
                ']' | '}' if flow => {
                    self.depth = self.depth.saturating_sub(1);
                    node_start = false;
                    after_json_node = true;
                }
                ',' if flow => node_start = true,
                '\'' if node_start => self.quote = Some(Quote::Single),
                '"' if node_start => self.quote = Some(Quote::Double),
                '|' | '>' if node_start && !flow => {
                    self.block_scalar = Some(BlockScalar {
                        parent: node_column(chars),
                        content: None,
                    });
                    return Ok(());
                }
                // `- `, `? `, `: ` (and in flow `:` after a quoted key) start a node.
                '-' | '?' | ':' if next_ends || (c == ':' && flow && json_node) => {
                    node_start = true;
                }
                // An anchor or a tag comes before its node: skip it, the node may follow.
                '&' | '!' if node_start => i = end_of_property(chars, i, flow),
                _ => node_start = false,
            }
            i = i.saturating_add(1);
        }
        Ok(())
    }
}

impl Scan {
    /// Whether the line is content of the block scalar being read (ending it when the line
    /// is indented no deeper than its content).
    fn inside_block_scalar(&mut self, chars: &[char]) -> bool {
        let Some(block) = &mut self.block_scalar else {
            return false;
        };
        if chars.iter().all(|c| c.is_whitespace()) {
            return true;
        }
        let indent = chars.iter().take_while(|c| **c == ' ').count();
        match block.content {
            None if indent > block.parent => {
                block.content = Some(indent);
                true
            }
            Some(content) if indent >= content => true,
            _ => {
                self.block_scalar = None;
                false
            }
        }
    }
}

/// The index of the last character of the anchor or tag starting at `i`.
fn end_of_property(chars: &[char], mut i: usize, flow: bool) -> usize {
    while chars
        .get(i.saturating_add(1))
        .is_some_and(|n| !(is_blank(*n) || (flow && is_flow_indicator(*n))))
    {
        i = i.saturating_add(1);
    }
    i
}

/// The column of a line's first node, past its indentation and any `- ` entry indicators.
fn node_column(chars: &[char]) -> usize {
    let mut column = 0;
    while let Some(&c) = chars.get(column) {
        let entry = c == '-'
            && chars
                .get(column.saturating_add(1))
                .is_none_or(|n| is_blank(*n));
        if !(is_blank(c) || entry) {
            break;
        }
        column = column.saturating_add(1);
    }
    column
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r')
}

fn is_flow_indicator(c: char) -> bool {
    matches!(c, '[' | ']' | '{' | '}' | ',')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_error(text: &str) -> Option<(usize, usize)> {
        check_flow_depth(text).err().map(|at| (at.line, at.column))
    }

    #[test]
    fn pathological_nesting_is_caught_at_the_first_bracket_past_the_limit() {
        let text = format!("# hostile\nagents: {}", "[".repeat(100_000));
        assert_eq!(depth_error(&text), Some((2, 9 + MAX_FLOW_DEPTH)));
        let text = format!("agents:\n  - {}", "{a: ".repeat(1000));
        assert_eq!(depth_error(&text), Some((2, 5 + 4 * MAX_FLOW_DEPTH)));
        // Anchors and tags do not hide the collection they precede.
        let text = format!("agents: &a !!seq {}", "[".repeat(100));
        assert!(depth_error(&text).is_some());
    }

    #[test]
    fn every_line_break_the_parser_knows_ends_a_comment() {
        for brk in ["\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}"] {
            let text = format!("# x{brk}agents: {}", "[".repeat(100_000));
            assert!(depth_error(&text).is_some(), "{brk:?}");
        }
    }

    #[test]
    fn nesting_at_the_limit_passes() {
        let text = format!(
            "agents: {}{}",
            "[".repeat(MAX_FLOW_DEPTH),
            "]".repeat(MAX_FLOW_DEPTH)
        );
        assert_eq!(depth_error(&text), None);
        // Closed collections do not add up.
        let text = format!("agents: [{}]", "[[]],".repeat(1000));
        assert_eq!(depth_error(&text), None);
    }

    #[test]
    fn brackets_in_text_are_not_nesting() {
        let many = "[".repeat(200);
        for text in [
            format!("agents:\n  - name: \"{many}\"\n    direction: inbound\n"),
            format!("agents:\n  - name: '{many} it''s'\n    direction: inbound\n"),
            format!("agents: [{{name: \"a\\\"{many}\", direction: inbound}}]\n"),
            format!("# {many}\nagents: [] # {many}\n"),
            format!("agents:\n  - name: a{many}\n    direction: inbound\n"),
            format!("agents:\n  - name: don't {many}\n    direction: inbound\n"),
            format!("agents:\n  - name: |\n      {many}\n\n      {many}\n    direction: inbound\n"),
            format!("agents:\n  - name: \"multi\n      line {many}\"\n    direction: inbound\n"),
            format!("agents:\n  - name: >-\n     {many}\n      {many}\n     {many}\n    direction: inbound\n"),
            format!("agents: [{{\"name\":\"{many}\", direction: inbound}}]\n"),
        ] {
            assert_eq!(depth_error(&text), None, "{text}");
            // And the parser agrees that they are text: each file is valid YAML.
            let parsed: Result<serde_yaml::Value, _> = serde_yaml::from_str(&text);
            assert!(parsed.is_ok(), "{text}: {parsed:?}");
        }
    }

    #[test]
    fn a_quote_inside_a_plain_scalar_does_not_hide_what_follows() {
        // `a'b` is a plain scalar: the quote opens nothing, and the brackets after it count.
        let text = format!("agents: [a'b, {}", "[".repeat(100));
        assert!(depth_error(&text).is_some());
        let text = format!("x: a 'b\nagents: {}", "[".repeat(100));
        assert!(depth_error(&text).is_some());
        // A block scalar ends where its indentation does.
        let text = format!(
            "agents:\n  - name: |\n      text\n    direction: {}",
            "[".repeat(100)
        );
        assert!(depth_error(&text).is_some());
    }
}
