//! Small text helpers shared by the parsers that quote their input in errors.

/// `s` with control characters (a newline in pasted text, NULs) written as Rust escapes, so
/// an error that quotes its input stays one line.
pub(crate) fn one_line(s: String) -> String {
    if !s.chars().any(char::is_control) {
        return s;
    }
    s.chars()
        .map(|c| match c.is_control() {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_become_escapes() {
        assert_eq!(super::one_line("a\nb\0c".into()), "a\\nb\\u{0}c");
        assert_eq!(super::one_line("plain `text`".into()), "plain `text`");
    }
}
