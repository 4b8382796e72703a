//! `tx3g` (3GPP timed text / mov_text) sample entries and samples converted from SRT, ASS and
//! WebVTT: a sample is a 16-bit length and UTF-8 text; styling is dropped to plain text.

use super::buf::BoxBuf;
use crate::subtitle::{ass_event_text, ass_pieces, tag_pieces, Piece};
use crate::TextFormat;

/// Write a default `tx3g` sample entry (bottom-centred white text, one font "Serif").
pub(crate) fn write_entry(b: &mut BoxBuf) {
    let open = b.begin(b"tx3g");
    b.zeros(6);
    b.u16(1); // data_reference_index
    b.u32(0); // displayFlags
    b.u8(1); // horizontal-justification: centre
    b.u8(0xff); // vertical-justification: bottom
    b.put(&[0, 0, 0, 0]); // background rgba
    b.put(&[0; 8]); // BoxRecord
                    // StyleRecord: startChar, endChar, font-ID, face-style-flags, font-size, rgba.
    b.u16(0);
    b.u16(0);
    b.u16(1);
    b.u8(0);
    b.u8(18);
    b.put(&[0xff, 0xff, 0xff, 0xff]);
    let ftab = b.begin(b"ftab");
    b.u16(1);
    b.u16(1);
    b.u8(5);
    b.put(b"Serif");
    b.end(ftab);
    b.end(open);
}

/// The plain text of one subtitle event: markup (ASS overrides, SRT/WebVTT tags) dropped.
pub(crate) fn plain_text(format: TextFormat, data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let mut plain = String::with_capacity(text.len());
    let mut keep = |p| {
        if let Piece::Char(c) = p {
            plain.push(c);
        }
    };
    match format {
        TextFormat::Ass => ass_pieces(ass_event_text(&text), &mut keep),
        TextFormat::Srt | TextFormat::WebVtt => tag_pieces(&text, &mut keep),
        TextFormat::Tx3g => plain.push_str(&text),
    }
    plain
        .replace("\r\n", "\n")
        .trim_end_matches(['\n', '\r', ' '])
        .to_string()
}

/// A tx3g sample: 16-bit length then UTF-8 text (truncated at 65535 bytes on a char boundary).
pub(crate) fn sample(text: &str) -> Vec<u8> {
    let mut end = text.len().min(0xffff);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = Vec::with_capacity(2 + end);
    out.extend_from_slice(&(end as u16).to_be_bytes());
    out.extend_from_slice(&text.as_bytes()[..end]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ass_event_to_plain() {
        let ev = b"3,0,Default,,0,0,0,,{\\b1}Hello{\\b0}, world\\Nline two";
        assert_eq!(plain_text(TextFormat::Ass, ev), "Hello, world\nline two");
    }

    #[test]
    fn srt_tags_removed() {
        assert_eq!(
            plain_text(TextFormat::Srt, b"<i>Hi</i> there\r\n"),
            "Hi there"
        );
        assert_eq!(sample("Hi"), vec![0, 2, b'H', b'i']);
    }
}
