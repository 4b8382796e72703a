//! Text subtitle events to tx3g samples, with empty samples filling the gaps between events
//! (an MP4 text sample lasts until the next one starts).

use bytes::Bytes;

use super::tx3g;
use crate::{Codec, Packet, TextFormat};

/// Per-track converter; a no-op for audio and video.
#[derive(Debug)]
pub(crate) struct TextConv {
    format: Option<TextFormat>,
    prev_end: Option<i64>,
}

impl TextConv {
    /// A converter for a track of codec `codec`.
    pub(crate) fn new(codec: &Codec) -> TextConv {
        let format = match codec {
            Codec::Text(TextFormat::Tx3g) => None,
            Codec::Text(f) => Some(*f),
            _ => None,
        };
        TextConv {
            format,
            prev_end: None,
        }
    }

    /// The samples to write for `packet` (an empty gap sample may come first).
    pub(crate) fn convert(&mut self, packet: Packet, out: &mut Vec<Packet>) {
        let Some(format) = self.format else {
            out.push(packet);
            return;
        };
        if let Some(end) = self.prev_end {
            if packet.pts > end {
                out.push(Packet {
                    pts: end,
                    dts: Some(end),
                    duration: Some((packet.pts - end) as u64),
                    keyframe: true,
                    data: Bytes::from_static(&[0, 0]),
                    ..packet.clone()
                });
            }
        }
        self.prev_end = packet.duration.map(|d| packet.pts.saturating_add(d as i64));
        let text = tx3g::plain_text(format, &packet.data);
        out.push(Packet {
            dts: Some(packet.pts),
            keyframe: true,
            data: Bytes::from(tx3g::sample(&text)),
            ..packet
        });
    }
}
