//! The Tracks element: one [`TrackEntry`] per TrackEntry, as the file states it (before any
//! mapping to the shared model, which [`super::codec`] does).

use super::ebml::{self, Children};
use super::ids;
use super::limits;
use crate::RemuxError;

/// One ContentEncoding of a track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentEncoding {
    /// ContentEncodingOrder: encodings are undone from the highest order down.
    pub(crate) order: u64,
    /// ContentEncodingScope bits: 1 = frames, 2 = CodecPrivate.
    pub(crate) scope: u64,
    /// ContentEncodingType: 0 = compression, 1 = encryption.
    pub(crate) kind: u64,
    /// ContentCompAlgo: 0 = zlib, 1 = bzlib, 2 = lzo1x, 3 = header stripping.
    pub(crate) algo: u64,
    /// ContentCompSettings (the stripped header bytes for algo 3).
    pub(crate) settings: Vec<u8>,
}

/// A TrackEntry as read from the file, defaults from the Matroska specification applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TrackEntry {
    pub(crate) number: u64,
    pub(crate) track_type: u64,
    pub(crate) codec_id: String,
    pub(crate) codec_private: Vec<u8>,
    pub(crate) default_duration_ns: Option<u64>,
    pub(crate) codec_delay_ns: u64,
    pub(crate) seek_pre_roll_ns: u64,
    pub(crate) language: Option<String>,
    pub(crate) language_bcp47: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) pixel_width: u64,
    pub(crate) pixel_height: u64,
    pub(crate) sampling_frequency: f64,
    pub(crate) output_sampling_frequency: Option<f64>,
    pub(crate) channels: u64,
    pub(crate) bit_depth: u64,
    pub(crate) encodings: Vec<ContentEncoding>,
}

impl TrackEntry {
    fn new() -> Self {
        TrackEntry {
            number: 0,
            track_type: 0,
            codec_id: String::new(),
            codec_private: Vec::new(),
            default_duration_ns: None,
            codec_delay_ns: 0,
            seek_pre_roll_ns: 0,
            language: None,
            language_bcp47: None,
            name: None,
            pixel_width: 0,
            pixel_height: 0,
            sampling_frequency: 8000.0,
            output_sampling_frequency: None,
            channels: 1,
            bit_depth: 0,
            encodings: Vec::new(),
        }
    }
}

/// Parses the body of a Tracks element.
pub(crate) fn parse_tracks(body: &[u8], body_at: u64) -> Result<Vec<TrackEntry>, RemuxError> {
    let mut out: Vec<TrackEntry> = Vec::new();
    for child in Children::new(body, body_at) {
        let child = child?;
        if child.id != ids::TRACK_ENTRY {
            continue;
        }
        if out.len() >= limits::MAX_TRACKS {
            return Err(RemuxError::TooLarge {
                at: child.at,
                what: format!("more than {} tracks", limits::MAX_TRACKS),
            });
        }
        let entry = parse_entry(child.body, child.body_at)?;
        if entry.number == 0 {
            return Err(ebml::malformed(
                child.at,
                "TrackEntry without a TrackNumber",
            ));
        }
        if out.iter().any(|t| t.number == entry.number) {
            return Err(ebml::malformed(
                child.at,
                "two TrackEntries share a TrackNumber",
            ));
        }
        out.push(entry);
    }
    Ok(out)
}

fn parse_entry(body: &[u8], body_at: u64) -> Result<TrackEntry, RemuxError> {
    let mut t = TrackEntry::new();
    for child in Children::new(body, body_at) {
        let c = child?;
        match c.id {
            ids::TRACK_NUMBER => t.number = ebml::uint(c.body, c.at)?,
            ids::TRACK_TYPE => t.track_type = ebml::uint(c.body, c.at)?,
            ids::CODEC_ID => t.codec_id = ebml::string(c.body),
            ids::CODEC_PRIVATE => {
                if c.body.len() > limits::MAX_CODEC_PRIVATE {
                    return Err(RemuxError::TooLarge {
                        at: c.at,
                        what: "CodecPrivate".into(),
                    });
                }
                t.codec_private = c.body.to_vec();
            }
            ids::DEFAULT_DURATION => {
                let d = ebml::uint(c.body, c.at)?;
                t.default_duration_ns = (d > 0).then_some(d);
            }
            ids::CODEC_DELAY => t.codec_delay_ns = ebml::uint(c.body, c.at)?,
            ids::SEEK_PRE_ROLL => t.seek_pre_roll_ns = ebml::uint(c.body, c.at)?,
            ids::LANGUAGE => t.language = Some(ebml::string(c.body)),
            ids::LANGUAGE_BCP47 => t.language_bcp47 = Some(ebml::string(c.body)),
            ids::NAME => t.name = Some(ebml::string(c.body)),
            ids::VIDEO => {
                for v in Children::new(c.body, c.body_at) {
                    let v = v?;
                    match v.id {
                        ids::PIXEL_WIDTH => t.pixel_width = ebml::uint(v.body, v.at)?,
                        ids::PIXEL_HEIGHT => t.pixel_height = ebml::uint(v.body, v.at)?,
                        _ => {}
                    }
                }
            }
            ids::AUDIO => {
                for a in Children::new(c.body, c.body_at) {
                    let a = a?;
                    match a.id {
                        ids::SAMPLING_FREQUENCY => {
                            t.sampling_frequency = ebml::float(a.body, a.at)?
                        }
                        ids::OUTPUT_SAMPLING_FREQUENCY => {
                            t.output_sampling_frequency = Some(ebml::float(a.body, a.at)?)
                        }
                        ids::CHANNELS => t.channels = ebml::uint(a.body, a.at)?,
                        ids::BIT_DEPTH => t.bit_depth = ebml::uint(a.body, a.at)?,
                        _ => {}
                    }
                }
            }
            ids::CONTENT_ENCODINGS => t.encodings = parse_encodings(c.body, c.body_at)?,
            _ => {}
        }
    }
    Ok(t)
}

fn parse_encodings(body: &[u8], body_at: u64) -> Result<Vec<ContentEncoding>, RemuxError> {
    let mut out = Vec::new();
    for child in Children::new(body, body_at) {
        let c = child?;
        if c.id != ids::CONTENT_ENCODING {
            continue;
        }
        if out.len() >= limits::MAX_CONTENT_ENCODINGS {
            return Err(RemuxError::TooLarge {
                at: c.at,
                what: "too many ContentEncodings".into(),
            });
        }
        let mut e = ContentEncoding {
            order: 0,
            scope: 1,
            kind: 0,
            algo: 0,
            settings: Vec::new(),
        };
        for f in Children::new(c.body, c.body_at) {
            let f = f?;
            match f.id {
                ids::CONTENT_ENCODING_ORDER => e.order = ebml::uint(f.body, f.at)?,
                ids::CONTENT_ENCODING_SCOPE => e.scope = ebml::uint(f.body, f.at)?,
                ids::CONTENT_ENCODING_TYPE => e.kind = ebml::uint(f.body, f.at)?,
                ids::CONTENT_COMPRESSION => {
                    for g in Children::new(f.body, f.body_at) {
                        let g = g?;
                        match g.id {
                            ids::CONTENT_COMP_ALGO => e.algo = ebml::uint(g.body, g.at)?,
                            ids::CONTENT_COMP_SETTINGS => {
                                if g.body.len() > limits::MAX_CODEC_PRIVATE {
                                    return Err(RemuxError::TooLarge {
                                        at: g.at,
                                        what: "ContentCompSettings".into(),
                                    });
                                }
                                e.settings = g.body.to_vec();
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        out.push(e);
    }
    Ok(out)
}
