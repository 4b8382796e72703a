//! Matroska text subtitles (SubRip `S_TEXT/UTF8`, SSA/ASS, WebVTT) as a WebVTT file.
//!
//! [`WebVttWriter`] is sans-IO (a track, then its packets in order, then the text);
//! [`extract`] reads one track of a file through a [`Source`], index-only: audio and video
//! payloads are jumped over, so little more than the subtitles and the block headers is read.
//!
//! Cues: start = the packet's presentation time, end = start + its duration (BlockDuration);
//! a packet without one ends where the next cue starts, the last one [`LAST_CUE_SECONDS`]
//! later. Text: SubRip keeps `<i>`, `<b>`, `<u>` and drops other tags (`<font>`) and `{...}`
//! overrides; ASS keeps `\i`, `\b`, `\u` overrides as those tags and drops the rest (`\N` is a
//! line break, `\h` a space); both escape `&`, `<` and `>`. WebVTT packets are cue text
//! already and are kept as they are (cue settings and identifiers, which Matroska keeps in
//! BlockAdditions, are not). Blank lines, which would end a cue, are dropped, and `-->` in
//! text is escaped; an event with no text left gives no cue.

use crate::mkv::MkvDemuxer;
use crate::subtitle::{ass_event_text, ass_pieces, tag_pieces, Piece};
use crate::{Codec, Demuxer, Packet, RemuxError, Source, SourceReader, TextFormat, Track};

/// How long the last cue lasts when its packet has no duration.
pub const LAST_CUE_SECONDS: f64 = 2.0;

/// One subtitle track to WebVTT text.
#[derive(Debug)]
pub struct WebVttWriter {
    format: TextFormat,
    timescale: u32,
    out: String,
    /// The last cue, kept until its end is known: (start, end, text) in ticks.
    pending: Option<(i64, Option<i64>, String)>,
}

impl WebVttWriter {
    /// A writer for `track`, which must be SubRip, SSA/ASS or WebVTT.
    pub fn new(track: &Track) -> Result<WebVttWriter, RemuxError> {
        let format = match track.codec {
            Codec::Text(f @ (TextFormat::Srt | TextFormat::Ass | TextFormat::WebVtt)) => f,
            _ => {
                return Err(RemuxError::Unsupported(format!(
                    "track {} is not a SubRip, SSA/ASS or WebVTT subtitle track",
                    track.id
                )))
            }
        };
        // A WebVTT track's CodecPrivate is the file's header (WEBVTT line, STYLE blocks...).
        let private = String::from_utf8_lossy(&track.codec_private);
        let mut out = match format {
            TextFormat::WebVtt if private.starts_with("WEBVTT") => {
                private.replace("\r\n", "\n").trim_end().to_string()
            }
            _ => String::from("WEBVTT"),
        };
        out.push_str("\n\n");
        Ok(WebVttWriter {
            format,
            timescale: track.timescale.max(1),
            out,
            pending: None,
        })
    }

    /// The next packet of the track (in file order).
    pub fn push(&mut self, packet: &Packet) {
        let start = packet.pts;
        self.flush(Some(start));
        let text = cue_text(self.format, &packet.data);
        if text.is_empty() {
            return;
        }
        let end = packet
            .duration
            .map(|d| start.saturating_add(i64::try_from(d).unwrap_or(i64::MAX)));
        self.pending = Some((start, end, text));
    }

    /// The WebVTT file.
    pub fn finish(mut self) -> String {
        self.flush(None);
        self.out
    }

    /// Writes the pending cue; `next` is where the next one starts.
    fn flush(&mut self, next: Option<i64>) {
        let Some((start, end, text)) = self.pending.take() else {
            return;
        };
        let last = (LAST_CUE_SECONDS * f64::from(self.timescale)) as i64;
        let end = end.or(next).unwrap_or(start.saturating_add(last));
        let (start, end) = (self.timestamp(start), self.timestamp(end.max(start)));
        self.out.push_str(&format!("{start} --> {end}\n{text}\n\n"));
    }

    /// `ticks` as `HH:MM:SS.mmm` (rounded to the millisecond; negative times are 0).
    fn timestamp(&self, ticks: i64) -> String {
        let ms = (i128::from(ticks.max(0)) * 1000 + i128::from(self.timescale / 2))
            / i128::from(self.timescale);
        let ms = u64::try_from(ms).unwrap_or(u64::MAX);
        let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
        format!("{h:02}:{m:02}:{s:02}.{:03}", ms % 1000)
    }
}

/// WebVTT cue text for one event.
fn cue_text(format: TextFormat, data: &[u8]) -> String {
    let raw = String::from_utf8_lossy(data);
    let mut text = String::with_capacity(raw.len());
    match format {
        TextFormat::WebVtt => text.push_str(&raw),
        TextFormat::Srt => tag_pieces(&raw, |p| match p {
            Piece::Char(c) => escape(c, &mut text),
            Piece::Markup(tag) => {
                let tag = tag.trim().to_ascii_lowercase();
                if matches!(tag.as_str(), "i" | "b" | "u" | "/i" | "/b" | "/u") {
                    text.push_str(&format!("<{tag}>"));
                }
            }
        }),
        TextFormat::Ass | TextFormat::Tx3g => {
            let mut open: Vec<char> = Vec::new();
            ass_pieces(ass_event_text(&raw), |p| match p {
                Piece::Char(c) => escape(c, &mut text),
                Piece::Markup(block) => ass_styles(block, &mut open, &mut text),
            });
            for tag in open.iter().rev() {
                text.push_str(&format!("</{tag}>"));
            }
        }
    }
    let text = text.replace("\r\n", "\n").replace("-->", "--&gt;");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n")
}

/// The `\i`, `\b` and `\u` overrides of an ASS override block as WebVTT tags; `open` holds the
/// tags open so far.
fn ass_styles(block: &str, open: &mut Vec<char>, text: &mut String) {
    for tag in block.split('\\').skip(1) {
        let mut chars = tag.chars();
        let (Some(name @ ('i' | 'b' | 'u')), rest) = (chars.next(), chars.as_str()) else {
            continue;
        };
        // `\b` also takes font weights (`\b700`): anything but 0 is bold.
        let on = match rest.trim() {
            "0" => false,
            r if !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()) => true,
            _ => continue,
        };
        if on && !open.contains(&name) {
            open.push(name);
            text.push_str(&format!("<{name}>"));
        } else if !on {
            if let Some(i) = open.iter().position(|&t| t == name) {
                // Close what was opened after it too, then reopen those.
                let after: Vec<char> = open.drain(i..).skip(1).collect();
                for t in after.iter().rev() {
                    text.push_str(&format!("</{t}>"));
                }
                text.push_str(&format!("</{name}>"));
                for t in after {
                    text.push_str(&format!("<{t}>"));
                    open.push(t);
                }
            }
        }
    }
}

fn escape(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    }
}

/// Track `track_id` of the Matroska file `src` as WebVTT (see [`WebVttWriter`]).
pub fn extract<S: Source>(src: S, track_id: u64) -> Result<String, RemuxError> {
    let mut head = [0u8; 4];
    if src.len() < 4 || src.read_at(0, &mut head).is_err() || head != [0x1a, 0x45, 0xdf, 0xa3] {
        return Err(RemuxError::Unsupported(
            "subtitles are extracted from Matroska/WebM files".into(),
        ));
    }
    // Index-only: audio and video payloads are jumped over; text is always read.
    let mut d = MkvDemuxer::index_only(SourceReader::new(src), 0)?;
    let Some(track) = d.tracks().iter().find(|t| t.id == track_id) else {
        return Err(RemuxError::Unsupported(format!(
            "no track {track_id} in the file"
        )));
    };
    let mut w = WebVttWriter::new(track)?;
    while let Some(p) = d.next_packet()? {
        if p.track == track_id {
            w.push(&p);
        }
    }
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(format: TextFormat, text: &str) -> String {
        cue_text(format, text.as_bytes())
    }

    #[test]
    fn srt_keeps_basic_styles_and_escapes() {
        assert_eq!(
            cue(
                TextFormat::Srt,
                "<I>a</I> & <font color=\"red\">b</font> < c\r\n\r\nd -->"
            ),
            "<i>a</i> &amp; b &lt; c\nd --&gt;"
        );
    }

    #[test]
    fn ass_overrides_become_tags() {
        let ev = "1,0,Default,,0,0,0,,{\\i1\\pos(1,2)}it{\\b700}bold{\\i0} plain\\Nnext";
        assert_eq!(
            cue(TextFormat::Ass, ev),
            "<i>it<b>bold</b></i><b> plain\nnext</b>"
        );
    }

    #[test]
    fn cues_are_timed_and_the_last_one_ends() {
        let mut t = Track::new(
            3,
            crate::TrackKind::Subtitle,
            Codec::Text(TextFormat::Srt),
            1000,
        );
        t.codec_private.clear();
        let mut w = WebVttWriter::new(&t).unwrap();
        let packet = |pts: i64, duration: Option<u64>, text: &str| Packet {
            track: 3,
            pts,
            dts: None,
            duration,
            keyframe: true,
            data: bytes::Bytes::copy_from_slice(text.as_bytes()),
            omitted: None,
            input_offset: 0,
        };
        w.push(&packet(200, Some(600), "Hello"));
        w.push(&packet(3_723_004, None, "World"));
        w.push(&packet(3_725_000, None, "  "));
        w.push(&packet(3_726_000, None, "Bye"));
        assert_eq!(
            w.finish(),
            "WEBVTT\n\n00:00:00.200 --> 00:00:00.800\nHello\n\n\
             01:02:03.004 --> 01:02:05.000\nWorld\n\n\
             01:02:06.000 --> 01:02:08.000\nBye\n\n"
        );
    }
}
