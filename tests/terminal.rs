//! Terminal output: when the plan is coloured (`--color`, `NO_COLOR`, `CLICOLOR`,
//! `CLICOLOR_FORCE`, `TERM`), and the progress line living beside the `-v` log.

use crate::harness::Test;

/// One outbound agent gaining a number: a plan with an added line (green when coloured).
const CONFIG: &str = "agents:\n  - name: Sales\n    direction: outbound\n    phone_numbers: [\"+14155550200\", \"+14155550301\"]\n";

/// Whether `text` holds any of the colours or the bold the text plan uses.
fn coloured(text: &str) -> bool {
    text.contains("\x1b[3") || text.contains("\x1b[1m")
}

/// `text` without its ANSI control sequences (`ESC [ ... final byte`), cut into the pieces a
/// terminal would show from the start of a line: split at `\r` as well as `\n`, since a
/// progress line is redrawn after a carriage return.
fn screen_pieces(text: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
        .split(['\r', '\n'])
        .filter(|piece| !piece.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn clicolor_force_colours_a_piped_plan_unless_no_color_or_color_never() {
    let forced = Test::new()
        .file("agents.yaml", CONFIG)
        .env("CLICOLOR_FORCE", "1")
        .args(&["plan", "agents.yaml"])
        .run();
    assert!(
        forced.stdout.contains("\x1b[32m    + number: +14155550301"),
        "{:?}",
        forced.stdout
    );
    let never = Test::new()
        .file("agents.yaml", CONFIG)
        .env("CLICOLOR_FORCE", "1")
        .args(&["plan", "--color", "never", "agents.yaml"])
        .run();
    assert!(!coloured(&never.stdout), "{:?}", never.stdout);
    let no_color = Test::new()
        .file("agents.yaml", CONFIG)
        .env("CLICOLOR_FORCE", "1")
        .no_color()
        .args(&["plan", "agents.yaml"])
        .run();
    assert!(!coloured(&no_color.stdout), "{:?}", no_color.stdout);
}

#[test]
fn a_dumb_terminal_or_clicolor_0_gets_no_colour_unless_asked() {
    for (key, value) in [("TERM", "dumb"), ("CLICOLOR", "0")] {
        let auto = Test::new()
            .file("agents.yaml", CONFIG)
            .env(key, value)
            .args(&["plan", "agents.yaml"])
            .terminal("")
            .run();
        assert!(
            auto.stdout.contains("+ number: +14155550301") && !coloured(&auto.stdout),
            "{key}={value}: {:?}",
            auto.stdout
        );
        let always = Test::new()
            .file("agents.yaml", CONFIG)
            .env(key, value)
            .args(&["plan", "--color", "always", "agents.yaml"])
            .terminal("")
            .run();
        assert!(
            always.stdout.contains("\x1b[32m    + number: +14155550301"),
            "{key}={value}: {:?}",
            always.stdout
        );
    }
}

#[test]
fn verbose_log_lines_print_above_the_progress_line_not_over_it() {
    // Two agents a page: the agent list takes several pages, and the later pages are
    // logged while the progress line is on the screen.
    let out = Test::new()
        .page_size_cap(2)
        .file("agents.yaml", CONFIG)
        .args(&["plan", "-v", "agents.yaml"])
        .terminal("")
        .run();
    let pieces = screen_pieces(&out.stdout);
    assert!(
        pieces
            .iter()
            .any(|p| p.starts_with("reading agents (pages) [")),
        "the progress line was shown: {:?}",
        out.stdout
    );
    let logged: Vec<&String> = pieces
        .iter()
        .filter(|p| p.contains("GET /api/v1/agents?page="))
        .collect();
    assert!(
        logged.iter().any(|p| p.contains("page=4")),
        "every page is logged: {:?}",
        out.stdout
    );
    for piece in logged {
        assert!(
            piece.starts_with("talkops: GET /api/v1/agents?page=") && piece.contains(": ok ("),
            "a log line starts its own line and is whole: {piece:?} in {:?}",
            out.stdout
        );
    }
}
