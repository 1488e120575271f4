//! Text is text (DESIGN.md section 7): the one rule for what characters any input may carry,
//! whatever field, form or body it arrives in. PostgreSQL refuses a NUL in text, and no other
//! control character belongs in a name, a search or an id either; line breaks and tabs belong
//! only in the fields that are written over several lines. A line is bounded too.

/// Whether a field's text may run over several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// One line: no control character at all.
    One,
    /// Several lines: TAB, LF and CR, and no other control character.
    Many,
}

/// Whether `c` may not appear in a field of this kind: the C0 controls, DEL and the C1
/// controls (`char::is_control`), less the line breaks and tab a multi-line field keeps.
pub fn forbidden(c: char, lines: Lines) -> bool {
    c.is_control() && !(lines == Lines::Many && matches!(c, '\t' | '\n' | '\r'))
}

/// The most any one-line field holds, in bytes: far more than any name, email, id, search or
/// password keyward keeps (each refuses more, with its own message, below this), so that no
/// value of any size reaches a handler that would only ignore it or pass it on.
pub const MAX_LINE_BYTES: usize = 8 * 1024;

/// Whether `text` is text for a field of this kind: no forbidden character, and a line no
/// longer than `MAX_LINE_BYTES` (a multi-line field is bounded by the body it comes in).
pub fn is_text(text: &str, lines: Lines) -> bool {
    (lines == Lines::Many || text.len() <= MAX_LINE_BYTES) && !text.chars().any(|c| forbidden(c, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_refuses_every_control_character_and_a_multi_line_field_keeps_breaks_and_tabs() {
        for bad in ["\u{0}", "a\u{1}", "\u{1b}[31m", "\u{7f}", "\u{85}", "\u{9f}"] {
            assert!(!is_text(bad, Lines::One), "{bad:?}");
            assert!(!is_text(bad, Lines::Many), "{bad:?}");
        }
        for breaks in ["a\tb", "a\nb", "a\r\nb"] {
            assert!(!is_text(breaks, Lines::One), "{breaks:?}");
            assert!(is_text(breaks, Lines::Many), "{breaks:?}");
        }
        for good in ["", "Acme 株式会社", "ümlaut – dash", "\u{a0}", "\u{200b}"] {
            assert!(is_text(good, Lines::One), "{good:?}");
        }
        assert!(is_text(&"x".repeat(MAX_LINE_BYTES), Lines::One));
        assert!(!is_text(&"x".repeat(MAX_LINE_BYTES + 1), Lines::One), "over-long");
        assert!(!is_text(&"語".repeat(3_000), Lines::One), "counted in bytes");
        assert!(is_text(&"x\n".repeat(MAX_LINE_BYTES), Lines::Many));
    }
}
