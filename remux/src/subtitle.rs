//! Text subtitle events as Matroska stores them (SubRip, SSA/ASS, WebVTT), walked piece by
//! piece: the text, and the markup around it. tx3g output keeps the text only; WebVTT output
//! keeps italic, bold and underline too.

/// One piece of an event's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// A character of the text (ASS `\N`, `\n` are `'\n'`, `\h` is `' '`).
    Char(char),
    /// The inside of a markup element: an ASS override block `{...}` (e.g. `\i1\b0`), or an
    /// SRT/WebVTT tag `<...>` (e.g. `i`, `/b`, `font color="red"`).
    Markup(&'a str),
}

/// The Text field of a Matroska ASS event: ReadOrder, Layer, Style, Name, MarginL, MarginR,
/// MarginV, Effect, Text (the text itself may hold commas).
pub(crate) fn ass_event_text(event: &str) -> &str {
    event.splitn(9, ',').nth(8).unwrap_or("")
}

/// Walks ASS event text: override blocks `{...}` (nested braces included), `\N`, `\n` and
/// `\h` escapes, and characters.
pub(crate) fn ass_pieces<'a>(text: &'a str, mut piece: impl FnMut(Piece<'a>)) {
    let mut depth = 0u32;
    let mut block = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' => {
                if depth == 0 {
                    block = at + 1;
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    piece(Piece::Markup(&text[block..at]));
                }
            }
            _ if depth > 0 => {}
            '\\' => match chars.peek().map(|&(_, c)| c) {
                Some('N' | 'n') => {
                    chars.next();
                    piece(Piece::Char('\n'));
                }
                Some('h') => {
                    chars.next();
                    piece(Piece::Char(' '));
                }
                _ => piece(Piece::Char('\\')),
            },
            _ => piece(Piece::Char(c)),
        }
    }
}

/// Walks SRT or WebVTT text: tags and characters. A tag is `<` followed by a letter, digit
/// or `/` and closed by `>` on the same line with no `<` between; any other `<` is a
/// character.
pub(crate) fn tag_pieces<'a>(text: &'a str, mut piece: impl FnMut(Piece<'a>)) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '<' && rest[1..].starts_with(|n: char| n.is_alphanumeric() || n == '/') {
            if let Some(end) = rest[1..].find(['<', '>', '\n']).map(|e| e + 1) {
                if rest[end..].starts_with('>') {
                    piece(Piece::Markup(&rest[1..end]));
                    rest = &rest[end + 1..];
                    continue;
                }
            }
        }
        piece(Piece::Char(c));
        rest = &rest[c.len_utf8()..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces as text, markup in brackets.
    fn show(p: Piece, out: &mut String) {
        match p {
            Piece::Char(c) => out.push(c),
            Piece::Markup(m) => out.push_str(&format!("[{m}]")),
        }
    }

    #[test]
    fn ass_overrides_and_escapes() {
        let mut s = String::new();
        ass_pieces("{\\i1}a{x{y}}\\Nb\\hc\\d", |p| show(p, &mut s));
        assert_eq!(s, "[\\i1]a[x{y}]\nb c\\d");
        assert_eq!(ass_event_text("3,0,Default,,0,0,0,,Hi, you"), "Hi, you");
        assert_eq!(ass_event_text("no fields"), "");
    }

    #[test]
    fn tags_and_a_lone_bracket() {
        let mut s = String::new();
        tag_pieces("<i>é</i> 1 < 2 -->", |p| show(p, &mut s));
        assert_eq!(s, "[i]é[/i] 1 < 2 -->");
        let mut s = String::new();
        tag_pieces("a<b\nc>d<00:01.000>", |p| show(p, &mut s));
        assert_eq!(s, "a<b\nc>d[00:01.000]");
    }
}
