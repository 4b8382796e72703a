//! Sample entries of MP4/MOV input (`stsd`) to model codecs: avc1/avc3, hvc1/hev1, av01, vp09,
//! mp4a (esds direct or inside QuickTime `wave`), .mp3, Opus, fLaC, ac-3, ec-3, tx3g. QuickTime
//! v1/v2 sound descriptions are read for the real sample rate and channel count.

use super::header::{children, find, Fields};
use crate::mp4::{dops, esds};
use crate::{Codec, RemuxError, TextFormat, Track, TrackKind};

/// Fill `track` (kind already set) from the first sample entry in an `stsd` body.
pub(crate) fn read_stsd(
    stsd: &[u8],
    at: u64,
    track: &mut Track,
    quicktime: bool,
) -> Result<(), RemuxError> {
    let mut f = Fields::new(stsd, at);
    f.u32()?;
    let count = f.u32()?;
    if count == 0 {
        return Err(RemuxError::Malformed {
            at,
            what: "stsd without entries".into(),
        });
    }
    let entry = children(&stsd[8..], at + 8)
        .next()
        .ok_or(RemuxError::Truncated { at })??;
    let fourcc = entry.fourcc;
    let name = String::from_utf8_lossy(&fourcc).trim().to_string();
    match track.kind {
        TrackKind::Video => visual(entry.body, entry.at, &fourcc, &name, track),
        TrackKind::Audio => audio(entry.body, entry.at, &fourcc, &name, track, quicktime),
        TrackKind::Subtitle => {
            if &fourcc == b"tx3g" {
                track.codec = Codec::Text(TextFormat::Tx3g);
                track.codec_private = entry.body.to_vec();
            } else if track.codec == Codec::Unsupported(String::new()) {
                track.codec = Codec::Unsupported(name);
            }
            Ok(())
        }
    }
}

fn visual(
    body: &[u8],
    at: u64,
    fourcc: &[u8; 4],
    name: &str,
    track: &mut Track,
) -> Result<(), RemuxError> {
    let mut f = Fields::new(body, at);
    f.bytes(24)?;
    track.width = u32::from(f.u16()?);
    track.height = u32::from(f.u16()?);
    let kids = body.get(78..).ok_or(RemuxError::Truncated { at })?;
    let kids_at = at + 78;
    let (codec, config): (Codec, &[u8; 4]) = match fourcc {
        b"avc1" | b"avc3" => (Codec::H264, b"avcC"),
        b"hvc1" | b"hev1" => (Codec::Hevc, b"hvcC"),
        b"av01" => (Codec::Av1, b"av1C"),
        b"vp09" => (Codec::Vp9, b"vpcC"),
        _ => {
            track.codec = Codec::Unsupported(name.to_string());
            return Ok(());
        }
    };
    let cfg = find(kids, kids_at, config);
    track.codec_private = match (&codec, cfg) {
        (Codec::Vp9, Some(b)) => b.body.get(4..).unwrap_or(&[]).to_vec(),
        (_, Some(b)) => b.body.to_vec(),
        (_, None) => Vec::new(),
    };
    track.codec = codec;
    Ok(())
}

fn audio(
    body: &[u8],
    at: u64,
    fourcc: &[u8; 4],
    name: &str,
    track: &mut Track,
    quicktime: bool,
) -> Result<(), RemuxError> {
    let mut f = Fields::new(body, at);
    f.bytes(8)?;
    let version = f.u16()?;
    f.bytes(6)?;
    let mut channels = f.u16()?;
    let bits = f.u16()?;
    f.u32()?;
    let mut rate = f.u32()? >> 16;
    let mut kids_from = 28;
    if version == 1 && quicktime {
        kids_from = 44;
    } else if version == 2 {
        let mut v2 = Fields::new(body.get(28..).ok_or(RemuxError::Truncated { at })?, at + 28);
        v2.u32()?;
        let rate_f = f64::from_bits(v2.u64()?);
        channels = v2.u32()?.min(u32::from(u16::MAX)) as u16;
        if rate_f.is_finite() && rate_f > 0.0 && rate_f < 10_000_000.0 {
            rate = rate_f as u32;
        }
        kids_from = 64;
    }
    track.channels = channels;
    track.bits_per_sample = bits;
    track.sample_rate = if rate > 0 { rate } else { track.timescale };
    let kids = body.get(kids_from..).unwrap_or(&[]);
    let kids_at = at + kids_from as u64;
    match fourcc {
        b"mp4a" => {
            // esds directly, or inside QuickTime's `wave` atom.
            let esds_box = find(kids, kids_at, b"esds")
                .or_else(|| find(kids, kids_at, b"wave").and_then(|w| find(w.body, w.at, b"esds")));
            let parsed = esds_box.and_then(|e| esds::parse(e.body.get(4..)?));
            match parsed {
                Some((0x40 | 0x66 | 0x67 | 0x68, asc)) => {
                    track.codec = Codec::Aac;
                    track.codec_private = asc;
                }
                Some((0x69 | 0x6b, _)) => track.codec = Codec::Mp3,
                Some((oti, _)) => track.codec = Codec::Unsupported(format!("mp4a OTI 0x{oti:02x}")),
                None => track.codec = Codec::Unsupported("mp4a without esds".into()),
            }
        }
        b".mp3" => track.codec = Codec::Mp3,
        b"Opus" => match find(kids, kids_at, b"dOps").and_then(|d| dops::to_opus_head(d.body)) {
            Some(head) => {
                track.codec = Codec::Opus;
                track.codec_private = head;
            }
            None => track.codec = Codec::Unsupported("Opus without dOps".into()),
        },
        b"fLaC" => match find(kids, kids_at, b"dfLa") {
            Some(d) if d.body.len() > 4 => {
                track.codec = Codec::Flac;
                let mut cp = b"fLaC".to_vec();
                cp.extend_from_slice(&d.body[4..]);
                track.codec_private = cp;
            }
            _ => track.codec = Codec::Unsupported("fLaC without dfLa".into()),
        },
        b"ac-3" => track.codec = Codec::Ac3,
        b"ec-3" => track.codec = Codec::Eac3,
        _ => track.codec = Codec::Unsupported(name.to_string()),
    }
    Ok(())
}
