//! MP4/MOV input.
//!
//! The index (moov) is read first, wherever it is in the file: the top-level boxes are walked
//! with their headers only (mdat is skipped, not read), so moov after mdat costs one seek.
//! Packets are then read sample by sample with positioned reads, interleaved across tracks by
//! decode time. Input must therefore be seekable: the CLI reads files; a non-seekable MP4 with
//! moov at the end is not accepted (there is no way to know the sample layout before the end
//! without buffering the whole mdat; a caller with such a stream should spool it to a file).

mod entry;
mod header;
mod tables;

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use self::header::{children, find, parse_header, Fields};
pub(crate) use self::tables::SampleRec;
use crate::mp4::track::time_lt;
use crate::{Codec, Demuxer, Extent, Packet, RemuxError, Source, Track, TrackKind};

/// Largest moov we accept (its tables are read into memory).
const MAX_MOOV: u64 = 512 << 20;

/// `source.read_at`, a short source reported as truncation at `offset`.
fn read_at<S: Source>(source: &S, offset: u64, buf: &mut [u8]) -> Result<(), RemuxError> {
    source.read_at(offset, buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => RemuxError::Truncated { at: offset },
        _ => RemuxError::Io(e),
    })
}

struct TrackState {
    /// Shared by the parts of one file (see [`Mp4Demuxer::part`]).
    samples: Arc<[SampleRec]>,
    next: usize,
    /// One past the last sample to give.
    end: usize,
    /// Added to decode and composition times: empty edit minus media_time, track ticks.
    shift: i64,
}

/// Demuxer over a seekable MP4/MOV.
pub struct Mp4Demuxer<S: Source> {
    source: S,
    tracks: Vec<Track>,
    states: Vec<TrackState>,
    /// See [`Mp4Demuxer::omit_payloads`]: (smallest payload, source length).
    omit: Option<(usize, u64)>,
    duration: Option<f64>,
}

impl<S: Source> std::fmt::Debug for Mp4Demuxer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mp4Demuxer")
            .field("tracks", &self.tracks)
            .finish()
    }
}

impl<S: Source> Mp4Demuxer<S> {
    /// Read the index. Tracks MP4 output cannot carry are still listed (as
    /// [`Codec::Unsupported`]) so the caller can name them when dropping them.
    pub fn open(source: S) -> Result<Self, RemuxError> {
        let len = source.len();
        let mut pos = 0u64;
        let mut quicktime = true;
        let mut moov: Option<(Vec<u8>, u64)> = None;
        let mut saw_box = false;
        while pos < len {
            let mut head = [0u8; 16];
            let n = (len - pos).min(16) as usize;
            read_at(&source, pos, &mut head[..n])?;
            let (fourcc, hlen, size) = parse_header(&head[..n], pos)?;
            if !saw_box && !is_top_level(&fourcc) {
                return Err(RemuxError::UnknownFormat);
            }
            saw_box = true;
            let size = size.unwrap_or(len - pos);
            if size < hlen as u64 || pos.checked_add(size).is_none_or(|end| end > len) {
                if &fourcc == b"mdat" || &fourcc == b"free" || &fourcc == b"skip" {
                    // A truncated mdat: the index decides which samples exist.
                    break;
                }
                return Err(RemuxError::Truncated { at: pos });
            }
            match &fourcc {
                b"ftyp" => {
                    let mut brand = [0u8; 4];
                    read_at(&source, pos + hlen as u64, &mut brand)?;
                    quicktime = &brand == b"qt  ";
                }
                b"moov" => {
                    let body_len = size - hlen as u64;
                    if body_len > MAX_MOOV {
                        return Err(RemuxError::TooLarge {
                            at: pos,
                            what: "moov over 512 MiB".into(),
                        });
                    }
                    let mut body = vec![0u8; body_len as usize];
                    read_at(&source, pos + hlen as u64, &mut body)?;
                    moov = Some((body, pos + hlen as u64));
                }
                _ => {}
            }
            pos += size;
        }
        let (moov, moov_at) = moov.ok_or(RemuxError::Malformed {
            at: 0,
            what: "no moov box".into(),
        })?;
        // mvhd: the movie timescale (edit lists count in it) and duration.
        let (movie_ts, movie_duration) = find(&moov, moov_at, b"mvhd")
            .and_then(|m| {
                let mut f = Fields::new(m.body, m.at);
                let v = f.u8().ok()?;
                f.bytes(if v == 1 { 19 } else { 11 }).ok()?;
                let ts = f.u32().ok()?;
                let d = if v == 1 {
                    f.u64().ok()?
                } else {
                    u64::from(f.u32().ok()?)
                };
                Some((ts, d))
            })
            .unwrap_or((1000, 0));
        let movie_ts = movie_ts.max(1);
        let mut tracks = Vec::new();
        let mut states = Vec::new();
        for child in children(&moov, moov_at) {
            let c = child?;
            if &c.fourcc != b"trak" {
                continue;
            }
            let (track, state) = read_trak(c.body, c.at, movie_ts, len, quicktime)?;
            tracks.push(track);
            states.push(state);
        }
        if tracks.is_empty() {
            return Err(RemuxError::Malformed {
                at: moov_at,
                what: "moov without tracks".into(),
            });
        }
        if states.iter().all(|s| s.samples.is_empty()) && find(&moov, moov_at, b"mvex").is_some() {
            return Err(RemuxError::Unsupported("fragmented MP4 input".into()));
        }
        // Unknown (0 or all ones in either width): the latest decode time of any track.
        let duration = if movie_duration == 0 || movie_duration >= u64::from(u32::MAX) {
            let ends = tracks.iter().zip(&states).filter_map(|(t, s)| {
                let last = s.samples.last()?;
                Some(last.dts.saturating_add(s.shift) as f64 / f64::from(t.timescale.max(1)))
            });
            ends.reduce(f64::max)
        } else {
            Some(movie_duration as f64 / f64::from(movie_ts))
        };
        Ok(Mp4Demuxer {
            source,
            tracks,
            states,
            omit: None,
            duration,
        })
    }

    /// The movie's duration in seconds (mvhd; without one, the latest decode time of any
    /// track, which misses the last sample's duration).
    pub fn duration(&self) -> Option<f64> {
        self.duration
    }

    /// Track `i`'s samples (in [`Demuxer::tracks`] order) and the shift added to their
    /// times (edit lists).
    pub(crate) fn samples(&self, i: usize) -> (&[SampleRec], i64) {
        (&self.states[i].samples, self.states[i].shift)
    }

    /// The same tables read from another source, each track `i` giving only its samples
    /// `ranges[i]` (a packet's duration still comes from the sample after it).
    pub(crate) fn part<T: Source>(&self, source: T, ranges: &[Range<usize>]) -> Mp4Demuxer<T> {
        let states = self
            .states
            .iter()
            .zip(ranges)
            .map(|(s, r)| TrackState {
                samples: s.samples.clone(),
                next: r.start,
                end: r.end.min(s.samples.len()),
                shift: s.shift,
            })
            .collect();
        Mp4Demuxer {
            source,
            tracks: self.tracks.clone(),
            states,
            omit: None,
            duration: self.duration,
        }
    }

    /// From now on leave payloads of at least `min` bytes unread where it can, as the
    /// index-only Matroska demuxer does: any sample but a track's first, of a track that is
    /// not text, lying inside the source. Its packet has empty `data` and names the sample's
    /// extent in `omitted`.
    pub fn omit_payloads(&mut self, min: usize) {
        self.omit = Some((min, self.source.len()));
    }
}

impl<S: Source> Demuxer for Mp4Demuxer<S> {
    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// The next packet in decode-time order across tracks, or `None` at the end.
    fn next_packet(&mut self) -> Result<Option<Packet>, RemuxError> {
        let mut best: Option<(usize, i64, u32)> = None;
        for (i, s) in self.states.iter().enumerate() {
            if let Some(rec) = s.samples[..s.end].get(s.next) {
                let ts = self.tracks[i].timescale.max(1);
                let t = rec.dts.saturating_add(s.shift);
                if best.is_none_or(|(_, bt, bts)| time_lt(t, ts, bt, bts)) {
                    best = Some((i, t, ts));
                }
            }
        }
        let Some((i, _, _)) = best else {
            return Ok(None);
        };
        let state = &mut self.states[i];
        let rec = state.samples[state.next];
        let first = state.next == 0;
        state.next += 1;
        let size = rec.size as usize;
        let omitted = self
            .omit
            .filter(|&(min, len)| {
                !first
                    && size >= min
                    && !matches!(self.tracks[i].codec, Codec::Text(_))
                    && rec
                        .offset
                        .checked_add(u64::from(rec.size))
                        .is_some_and(|e| e <= len)
            })
            .map(|_| Extent {
                offset: rec.offset,
                len: size,
            });
        let data = match omitted {
            Some(_) => Bytes::new(),
            None => {
                let mut data = vec![0u8; size];
                read_at(&self.source, rec.offset, &mut data)?;
                Bytes::from(data)
            }
        };
        let dts = rec.dts.saturating_add(state.shift);
        Ok(Some(Packet {
            track: self.tracks[i].id,
            pts: dts.saturating_add(i64::from(rec.cts)),
            dts: Some(dts),
            duration: state
                .samples
                .get(state.next)
                .map(|n| (n.dts - rec.dts).max(0) as u64),
            keyframe: rec.key,
            data,
            omitted,
            input_offset: rec.offset,
        }))
    }
}

fn is_top_level(fourcc: &[u8; 4]) -> bool {
    matches!(
        fourcc,
        b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free" | b"skip" | b"pnot" | b"uuid"
    )
}

fn read_trak(
    trak: &[u8],
    at: u64,
    movie_ts: u32,
    file_len: u64,
    quicktime: bool,
) -> Result<(Track, TrackState), RemuxError> {
    let missing = |what: &str| RemuxError::Malformed {
        at,
        what: format!("trak without {what}"),
    };
    let tkhd = find(trak, at, b"tkhd").ok_or_else(|| missing("tkhd"))?;
    let mut f = Fields::new(tkhd.body, tkhd.at);
    let v = f.u8()?;
    f.bytes(if v == 1 { 19 } else { 11 })?;
    let id = f.u32()?;
    let mdia = find(trak, at, b"mdia").ok_or_else(|| missing("mdia"))?;
    let mdhd = find(mdia.body, mdia.at, b"mdhd").ok_or_else(|| missing("mdhd"))?;
    let mut f = Fields::new(mdhd.body, mdhd.at);
    let v = f.u8()?;
    f.bytes(if v == 1 { 19 } else { 11 })?;
    let timescale = f.u32()?;
    if timescale == 0 {
        return Err(RemuxError::Malformed {
            at: mdhd.at,
            what: "mdhd timescale 0".into(),
        });
    }
    f.bytes(if v == 1 { 8 } else { 4 })?;
    let lang = f.u16()?;
    let language = if lang == 0 || lang == 0x7fff || lang < 0x400 {
        None
    } else {
        let s: String = [(lang >> 10) & 31, (lang >> 5) & 31, lang & 31]
            .iter()
            .map(|c| (*c as u8 + 0x60) as char)
            .collect();
        (s != "und" && s.chars().all(|c| c.is_ascii_lowercase())).then_some(s)
    };
    let hdlr = find(mdia.body, mdia.at, b"hdlr").ok_or_else(|| missing("hdlr"))?;
    let handler: [u8; 4] = hdlr
        .body
        .get(8..12)
        .and_then(|h| h.try_into().ok())
        .unwrap_or(*b"    ");
    let (kind, codec) = match &handler {
        b"vide" => (TrackKind::Video, Codec::Unsupported(String::new())),
        b"soun" => (TrackKind::Audio, Codec::Unsupported(String::new())),
        b"sbtl" | b"text" | b"subt" => (TrackKind::Subtitle, Codec::Unsupported(String::new())),
        other => (
            TrackKind::Subtitle,
            Codec::Unsupported(format!("{} track", String::from_utf8_lossy(other).trim())),
        ),
    };
    let mut track = Track::new(u64::from(id), kind, codec, timescale);
    track.language = language;
    let minf = find(mdia.body, mdia.at, b"minf").ok_or_else(|| missing("minf"))?;
    let stbl = find(minf.body, minf.at, b"stbl").ok_or_else(|| missing("stbl"))?;
    if let Some(stsd) = find(stbl.body, stbl.at, b"stsd") {
        entry::read_stsd(stsd.body, stsd.at, &mut track, quicktime)?;
    }
    if track.codec == Codec::Unsupported(String::new()) {
        track.codec = Codec::Unsupported("unknown sample entry".into());
    }
    let samples = tables::read(stbl.body, stbl.at, file_len)?;

    // Edit list: leading empty edits delay the track; the first real edit's media_time is
    // where presentation starts (B-frame delay, AAC priming).
    let mut empty: i64 = 0;
    let mut media_time: i64 = 0;
    if let Some(elst) = find(trak, at, b"edts").and_then(|e| find(e.body, e.at, b"elst")) {
        let mut f = Fields::new(elst.body, elst.at);
        let v = f.u8()?;
        f.bytes(3)?;
        let n = f.u32()?;
        for _ in 0..n.min(64) {
            let (dur, mt) = if v == 1 {
                (f.u64()?, f.u64()? as i64)
            } else {
                (u64::from(f.u32()?), i64::from(f.u32()? as i32))
            };
            f.u32()?;
            if mt == -1 {
                let d = i128::from(dur) * i128::from(timescale) / i128::from(movie_ts);
                empty = empty.saturating_add(d.min(i128::from(i64::MAX)) as i64);
            } else {
                media_time = mt.max(0);
                break;
            }
        }
    }
    if kind == TrackKind::Audio {
        track.codec_delay = media_time as u64;
    }
    let shift = empty - media_time;
    Ok((
        track,
        TrackState {
            end: samples.len(),
            samples: samples.into(),
            next: 0,
            shift,
        },
    ))
}
