//! Mapping a Matroska TrackEntry to the shared [`Track`] model.
//!
//! CodecPrivate is passed on verbatim (after undoing ContentEncodings with the CodecPrivate
//! scope) for every codec: avcC, hvcC and av1C bodies for H.264/HEVC/AV1, the
//! AudioSpecificConfig for AAC, OpusHead for Opus, and for FLAC the Matroska CodecPrivate
//! *including* its leading `fLaC` marker followed by the metadata blocks. VP9's Matroska
//! CodecPrivate (a feature list, not a vpcC) is not passed on: VP9 tracks have an empty
//! codec_private. Legacy `A_AAC/MPEG{2,4}/<profile>` ids without CodecPrivate get an
//! AudioSpecificConfig built from the profile, sampling frequency and channel count.

use super::encoding::{Decoder, SCOPE_CODEC_PRIVATE};
use super::time::TimeBase;
use super::tracks::TrackEntry;
use crate::{Codec, TextFormat, Track, TrackKind};

/// The model codec for a Matroska CodecID; ids MP4 cannot carry map to `Unsupported(id)`.
pub(crate) fn codec_for(codec_id: &str) -> Codec {
    match codec_id {
        "V_MPEG4/ISO/AVC" => Codec::H264,
        "V_MPEGH/ISO/HEVC" => Codec::Hevc,
        "V_AV1" => Codec::Av1,
        "V_VP9" => Codec::Vp9,
        "A_MPEG/L3" => Codec::Mp3,
        "A_OPUS" => Codec::Opus,
        "A_FLAC" => Codec::Flac,
        "A_AC3" => Codec::Ac3,
        "A_EAC3" => Codec::Eac3,
        "S_TEXT/UTF8" => Codec::Text(TextFormat::Srt),
        "S_TEXT/ASS" | "S_TEXT/SSA" | "S_ASS" | "S_SSA" => Codec::Text(TextFormat::Ass),
        "S_TEXT/WEBVTT" | "D_WEBVTT/SUBTITLES" => Codec::Text(TextFormat::WebVtt),
        id if id == "A_AAC" || id.starts_with("A_AAC/") => Codec::Aac,
        other => Codec::Unsupported(other.to_string()),
    }
}

/// Builds the model track, or `None` for track types the model has no kind for (logo,
/// buttons, control, complex).
pub(crate) fn to_track(e: &TrackEntry, tb: TimeBase) -> Option<Track> {
    let kind = match e.track_type {
        1 => TrackKind::Video,
        2 => TrackKind::Audio,
        0x11 => TrackKind::Subtitle,
        _ => return None,
    };
    let mut codec = codec_for(&e.codec_id);
    let mut private = e.codec_private.clone();
    match Decoder::new(&e.encodings, SCOPE_CODEC_PRIVATE) {
        Ok(d) if !d.is_identity() => match d.decode(private.into(), 0) {
            Ok(p) => private = p.to_vec(),
            Err(_) => {
                private = Vec::new();
                codec =
                    Codec::Unsupported(format!("{} (CodecPrivate does not decode)", e.codec_id));
            }
        },
        Ok(_) => {}
        Err(why) => {
            codec = Codec::Unsupported(format!("{} ({why} CodecPrivate)", e.codec_id));
        }
    }
    if let Err(why) = Decoder::new(&e.encodings, super::encoding::SCOPE_FRAMES) {
        codec = Codec::Unsupported(format!("{} ({why} frames)", e.codec_id));
    }
    match codec {
        Codec::Aac if private.is_empty() => {
            private = synth_aac_config(&e.codec_id, e).unwrap_or_default();
        }
        Codec::Vp9 => private.clear(),
        _ => {}
    }

    let mut t = Track::new(e.number, kind, codec, tb.timescale);
    t.codec_private = private;
    t.default_duration = e.default_duration_ns.map(|ns| tb.ns_to_ticks(ns));
    t.codec_delay = tb.ns_to_ticks(e.codec_delay_ns);
    if kind == TrackKind::Video {
        t.width = u32::try_from(e.pixel_width).unwrap_or(0);
        t.height = u32::try_from(e.pixel_height).unwrap_or(0);
    }
    if kind == TrackKind::Audio {
        t.sample_rate = float_hz(e.sampling_frequency);
        t.channels = u16::try_from(e.channels).unwrap_or(0);
        t.bits_per_sample = u16::try_from(e.bit_depth).unwrap_or(0);
    }
    t.language = language(e);
    t.name = e.name.clone().filter(|n| !n.is_empty());
    Some(t)
}

/// A sampling frequency as whole Hz (0 when not a sane positive number).
fn float_hz(f: f64) -> u32 {
    if f.is_finite() && f >= 1.0 && f <= f64::from(u32::MAX) {
        f.round() as u32
    } else {
        0
    }
}

/// ISO 639-2 language: Language if given (spec default "eng"), else the primary subtag of
/// LanguageBCP47 when it is (or maps to) a three-letter code.
fn language(e: &TrackEntry) -> Option<String> {
    if let Some(l) = &e.language {
        if l.len() == 3 && l.bytes().all(|b| b.is_ascii_lowercase()) {
            return Some(l.clone());
        }
    }
    if let Some(b) = &e.language_bcp47 {
        let primary = b.split('-').next().unwrap_or("").to_ascii_lowercase();
        if primary.len() == 3 && primary.bytes().all(|b| b.is_ascii_lowercase()) {
            return Some(primary);
        }
        const TWO_TO_THREE: &[(&str, &str)] = &[
            ("en", "eng"),
            ("de", "ger"),
            ("fr", "fre"),
            ("es", "spa"),
            ("it", "ita"),
            ("pt", "por"),
            ("ru", "rus"),
            ("uk", "ukr"),
            ("ja", "jpn"),
            ("zh", "chi"),
            ("ko", "kor"),
            ("ar", "ara"),
            ("hi", "hin"),
            ("nl", "dut"),
            ("pl", "pol"),
            ("tr", "tur"),
            ("sv", "swe"),
            ("fa", "per"),
            ("he", "heb"),
            ("id", "ind"),
        ];
        if let Some((_, three)) = TWO_TO_THREE.iter().find(|(two, _)| *two == primary) {
            return Some((*three).to_string());
        }
        if primary == "und" {
            return Some(primary);
        }
    }
    if e.language.is_none() && e.language_bcp47.is_none() {
        return Some("eng".to_string());
    }
    None
}

const AAC_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Writes bits most-significant first.
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, width: u32) {
        for i in (0..width).rev() {
            self.acc = (self.acc << 1) | ((value >> i) & 1);
            self.n += 1;
            if self.n == 8 {
                self.out.push(self.acc as u8);
                self.acc = 0;
                self.n = 0;
            }
        }
    }

    fn rate(&mut self, hz: u32) {
        match AAC_RATES.iter().position(|&r| r == hz) {
            Some(i) => self.put(i as u32, 4),
            None => {
                self.put(0xF, 4);
                self.put(hz, 24);
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put(0, pad);
        }
        self.out
    }
}

/// An AudioSpecificConfig for the legacy AAC CodecIDs (`A_AAC/MPEG4/LC`, `.../MAIN`,
/// `.../SSR`, `.../LTP`, `.../LC/SBR`, `A_AAC/MPEG2/...`) and for a bare `A_AAC` (assumed
/// LC). SBR uses explicit backward-compatible signalling (sync extension 0x2B7).
pub(crate) fn synth_aac_config(codec_id: &str, e: &TrackEntry) -> Option<Vec<u8>> {
    let profile = codec_id.split('/').nth(2).unwrap_or("LC");
    let object_type = match profile {
        "MAIN" => 1,
        "LC" => 2,
        "SSR" => 3,
        "LTP" => 4,
        _ => 2,
    };
    let sbr = codec_id.ends_with("/SBR");
    let rate = float_hz(e.sampling_frequency);
    if rate == 0 || e.channels > 7 {
        return None;
    }
    let mut b = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    b.put(object_type, 5);
    b.rate(rate);
    b.put(e.channels as u32, 4);
    // GASpecificConfig: frameLengthFlag, dependsOnCoreCoder, extensionFlag.
    b.put(0, 3);
    if sbr {
        let out_rate = e
            .output_sampling_frequency
            .map(float_hz)
            .filter(|&r| r != 0)
            .unwrap_or(rate.saturating_mul(2));
        b.put(0x2B7, 11);
        b.put(5, 5);
        b.put(1, 1);
        b.rate(out_rate);
    }
    Some(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, rate: f64, ch: u64) -> TrackEntry {
        // TrackEntry { TrackNumber 1 }
        let mut e = super::super::tracks::parse_tracks(&[0xAE, 0x83, 0xD7, 0x81, 0x01], 0)
            .unwrap()
            .remove(0);
        e.codec_id = id.into();
        e.sampling_frequency = rate;
        e.channels = ch;
        e.track_type = 2;
        e
    }

    #[test]
    fn aac_configs() {
        // AAC-LC 48 kHz stereo: 00010 0011 0010 000 -> 0x11 0x90 (the well-known value).
        assert_eq!(
            synth_aac_config("A_AAC/MPEG4/LC", &entry("", 48000.0, 2)).unwrap(),
            [0x11, 0x90]
        );
        // AAC-LC 44.1 kHz stereo -> 0x12 0x10.
        assert_eq!(
            synth_aac_config("A_AAC/MPEG2/LC", &entry("", 44100.0, 2)).unwrap(),
            [0x12, 0x10]
        );
        // HE-AAC 24 kHz core, 48 kHz output, stereo: LC config + 0x2B7 sync + SBR + index 3.
        let he = synth_aac_config("A_AAC/MPEG4/LC/SBR", &entry("", 24000.0, 2)).unwrap();
        assert_eq!(he, [0x13, 0x10, 0x56, 0xE5, 0x98]);
    }

    #[test]
    fn codec_ids() {
        assert_eq!(codec_for("A_AAC/MPEG4/LC/SBR"), Codec::Aac);
        assert_eq!(codec_for("S_TEXT/ASS"), Codec::Text(TextFormat::Ass));
        assert_eq!(codec_for("A_VORBIS"), Codec::Unsupported("A_VORBIS".into()));
        assert_eq!(codec_for("V_VP8"), Codec::Unsupported("V_VP8".into()));
        let t = to_track(&entry("A_AAC", 48000.0, 2), TimeBase::new(1_000_000)).unwrap();
        assert_eq!(
            (t.codec, t.codec_private, t.sample_rate, t.channels),
            (Codec::Aac, vec![0x11, 0x90], 48000, 2)
        );
    }
}
