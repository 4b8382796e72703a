//! `stsd`: the sample description, one sample entry per track built from the track's codec,
//! its codec private data and (for AC-3, E-AC-3 and VP9 without private data) the first frame.

use super::buf::BoxBuf;
use super::{dac3, dfla, dops, esds, tx3g, vpcc};
use crate::{Codec, TextFormat, Track};

/// Choices the caller makes about sample entries.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryOptions {
    /// Write HEVC as `hev1` instead of `hvc1`.
    pub hev1: bool,
}

fn visual(
    b: &mut BoxBuf,
    fourcc: &[u8; 4],
    track: &Track,
    config: &[u8; 4],
    body: &[u8],
    full: bool,
) {
    let open = b.begin(fourcc);
    b.zeros(6);
    b.u16(1);
    b.zeros(16);
    b.u16(track.width.min(0xffff) as u16);
    b.u16(track.height.min(0xffff) as u16);
    b.u32(0x0048_0000);
    b.u32(0x0048_0000);
    b.u32(0);
    b.u16(1);
    b.zeros(32);
    b.u16(0x0018);
    b.u16(0xffff);
    let cfg = if full {
        b.begin_full(config, 1, 0)
    } else {
        b.begin(config)
    };
    b.put(body);
    b.end(cfg);
    b.end(open);
}

fn audio_header(b: &mut BoxBuf, channels: u16, sample_rate: u32) {
    b.zeros(6);
    b.u16(1);
    b.zeros(8);
    b.u16(channels.max(1));
    b.u16(16);
    b.u32(0);
    b.u32(if sample_rate > 0xffff {
        0
    } else {
        sample_rate << 16
    });
}

/// The sample entry alone (checked before any output is written).
pub(crate) fn write_entry(
    b: &mut BoxBuf,
    track: &Track,
    out_id: u32,
    first: &[u8],
    opts: EntryOptions,
) -> Result<(), String> {
    let cp = &track.codec_private;
    let need_private = |what: &str| -> Result<(), String> {
        if cp.is_empty() {
            Err(format!("{what} without codec private data"))
        } else {
            Ok(())
        }
    };
    match &track.codec {
        Codec::H264 => {
            need_private("H.264")?;
            visual(b, b"avc1", track, b"avcC", cp, false);
        }
        Codec::Hevc => {
            need_private("HEVC")?;
            let fourcc = if opts.hev1 { b"hev1" } else { b"hvc1" };
            visual(b, fourcc, track, b"hvcC", cp, false);
        }
        Codec::Av1 => {
            need_private("AV1")?;
            visual(b, b"av01", track, b"av1C", cp, false);
        }
        Codec::Vp9 => {
            let record = if cp.len() >= 8 {
                cp.clone()
            } else {
                vpcc::from_bitstream(first, track.width, track.height)
                    .ok_or("VP9 first frame is not a key frame with a colour config")?
            };
            visual(b, b"vp09", track, b"vpcC", &record, true);
        }
        Codec::Aac | Codec::Mp3 => {
            let open = b.begin(b"mp4a");
            audio_header(b, track.channels, track.sample_rate);
            let oti = if track.codec == Codec::Aac {
                0x40
            } else {
                0x6b
            };
            if track.codec == Codec::Aac {
                need_private("AAC")?;
            }
            esds::write(b, out_id, oti, if oti == 0x40 { cp } else { &[] }, 0, 0);
            b.end(open);
        }
        Codec::Opus => {
            let open = b.begin(b"Opus");
            let channels = cp.get(9).map_or(track.channels, |c| u16::from(*c));
            audio_header(b, channels, 48000);
            dops::write(b, cp).ok_or("Opus without a valid OpusHead")?;
            b.end(open);
        }
        Codec::Flac => {
            let block = dfla::streaminfo(cp).ok_or("FLAC without STREAMINFO")?;
            let (rate, channels, _) =
                dfla::streaminfo_format(block).ok_or("FLAC STREAMINFO too short")?;
            let open = b.begin(b"fLaC");
            audio_header(b, channels, rate);
            dfla::write(b, cp).ok_or("FLAC without STREAMINFO")?;
            b.end(open);
        }
        Codec::Ac3 => {
            let info = dac3::parse_ac3(first).ok_or("AC-3 first frame has no valid sync header")?;
            let rate = [48000, 44100, 32000][info.fscod as usize];
            let open = b.begin(b"ac-3");
            audio_header(b, dac3::channels(info.acmod, info.lfeon), rate);
            dac3::write_dac3(b, first);
            b.end(open);
        }
        Codec::Eac3 => {
            let info =
                dac3::parse_eac3(first).ok_or("E-AC-3 first frame has no valid sync header")?;
            let open = b.begin(b"ec-3");
            audio_header(b, dac3::channels(info.acmod, info.lfeon), info.sample_rate);
            dac3::write_dec3(b, first);
            b.end(open);
        }
        Codec::Text(TextFormat::Tx3g) if cp.len() > 8 => {
            // The input's own tx3g entry body.
            let open = b.begin(b"tx3g");
            b.put(cp);
            b.end(open);
        }
        Codec::Text(_) => tx3g::write_entry(b),
        Codec::Unsupported(name) => return Err(format!("MP4 cannot carry {name}")),
    }
    Ok(())
}

/// The handler type and name of a track's `hdlr`.
pub(crate) fn handler(track: &Track) -> (&'static [u8; 4], &'static str) {
    match track.kind {
        crate::TrackKind::Video => (b"vide", "VideoHandler"),
        crate::TrackKind::Audio => (b"soun", "SoundHandler"),
        crate::TrackKind::Subtitle => (b"sbtl", "SubtitleHandler"),
    }
}
