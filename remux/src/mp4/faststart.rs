//! Faststart output (moov before mdat) in two passes over the packets.
//!
//! Pass 1 ([`FaststartPlan`]) sees every packet, keeps only the sample tables (sizes, times,
//! chunk layout) and drops the payloads; `finish` then knows the exact moov size and every
//! chunk offset. It needs no payload bytes (beyond a track's first packet and text), so the
//! pipeline demuxes index-only for it (`Packet::omitted`), reading little more than the
//! block headers. Pass 2 ([`FaststartWriter`]) receives the same packets in the same order and
//! writes their bytes sequentially after ftyp+moov; a payload left unread is written by a
//! callback (the pipeline copies it from the input file inside the kernel). The output is
//! written once, front to back. Memory: the sample tables (about 24 bytes per sample) plus one
//! packet.

use std::io::Write;

use super::buf::BoxBuf;
use super::edts::Edit;
use super::stbl::{Chunk, SampleTable, SampleTime};
use super::stsd::EntryOptions;
use super::text::TextConv;
use super::timing::{TimedSample, WithoutData};
use super::tkhd::TrackHeader;
use super::track::{dropped, time_lt, OutTrack};
use super::trak::{self, Table, TrakParams};
use super::{ftyp, mvhd};
use crate::{Codec, Extent, Packet, RemuxError, Track, TrackKind};

/// A chunk ends after this many bytes...
const CHUNK_BYTES: u64 = 1 << 20;
/// ...or this many seconds (denominator: a chunk spans at most 1/2 s).
const CHUNK_PER_SECOND: i64 = 2;

/// Pass 1: the layout of the output.
#[derive(Debug)]
pub struct FaststartPlan {
    tracks: Vec<OutTrack>,
    tables: Vec<SampleTable>,
    opts: EntryOptions,
    warnings: Vec<String>,
    payload: u64,
    last: Option<usize>,
    chunk_bytes: u64,
    chunk_start: i64,
    scratch: Vec<Packet>,
    timed: Vec<TimedSample>,
}

/// The result of pass 1: what to write before the packets, and which tracks to skip.
#[derive(Debug)]
pub struct FaststartHeader {
    /// ftyp + moov + mdat header.
    pub bytes: Vec<u8>,
    /// Bytes of packet data pass 2 must write.
    pub payload: u64,
    /// Per input track index: dropped.
    pub(crate) dropped: Vec<bool>,
    /// The codec of each track (pass 2 needs it for text conversion).
    pub(crate) codecs: Vec<Codec>,
    /// One-line warnings about dropped tracks.
    pub warnings: Vec<String>,
}

impl FaststartPlan {
    /// Plan an MP4 holding `tracks` (output track_IDs follow their order).
    pub fn new(tracks: Vec<Track>, opts: EntryOptions) -> FaststartPlan {
        let tables = tracks.iter().map(|_| SampleTable::default()).collect();
        let tracks = tracks
            .into_iter()
            .enumerate()
            .map(|(i, t)| OutTrack::new(t, i as u32 + 1))
            .collect();
        FaststartPlan {
            tracks,
            tables,
            opts,
            warnings: Vec::new(),
            payload: 0,
            last: None,
            chunk_bytes: 0,
            chunk_start: 0,
            scratch: Vec::new(),
            timed: Vec::new(),
        }
    }

    /// Record one packet of track `idx` (index into the `tracks` given to `new`).
    pub fn add(&mut self, idx: usize, packet: Packet) -> Result<(), RemuxError> {
        let Some(t) = self.tracks.get_mut(idx) else {
            return Err(RemuxError::Malformed {
                at: packet.input_offset,
                what: "packet of unknown track".into(),
            });
        };
        if t.dropped {
            return Ok(());
        }
        if let Err(why) = t.ensure_entry(&packet.data, self.opts) {
            t.dropped = true;
            self.warnings.push(t.drop_warning(&why));
            return Ok(());
        }
        let mut samples = std::mem::take(&mut self.scratch);
        t.text.convert(packet, &mut samples);
        for s in samples.drain(..) {
            let size = u32::try_from(s.size()).map_err(|_| RemuxError::TooLarge {
                at: s.input_offset,
                what: "packet over 4 GiB".into(),
            })?;
            let ts = i64::from(self.tracks[idx].track.timescale.max(1));
            let table = &mut self.tables[idx];
            let new_chunk = self.last != Some(idx)
                || self.chunk_bytes + u64::from(size) > CHUNK_BYTES
                || (s.pts - self.chunk_start).saturating_mul(CHUNK_PER_SECOND) > ts
                || table.chunks.is_empty();
            if new_chunk {
                table.chunks.push(Chunk {
                    offset: self.payload,
                    count: 0,
                });
                self.chunk_bytes = 0;
                self.chunk_start = s.pts;
                self.last = Some(idx);
            }
            if let Some(c) = table.chunks.last_mut() {
                c.count += 1;
            }
            table.sizes.push(size);
            self.chunk_bytes += u64::from(size);
            self.payload += u64::from(size);
            let mut timed = std::mem::take(&mut self.timed);
            let t = &mut self.tracks[idx];
            t.samples += 1;
            t.timing.push(s.without_data(), &mut timed);
            record(&mut self.tables[idx], &mut timed);
            self.timed = timed;
        }
        self.scratch = samples;
        Ok(())
    }

    /// All packets seen: compute ftyp + moov + mdat header.
    pub fn finish(mut self) -> Result<FaststartHeader, RemuxError> {
        let mut timed = Vec::new();
        for (t, table) in self.tracks.iter_mut().zip(self.tables.iter_mut()) {
            t.timing.finish(&mut timed);
            record(table, &mut timed);
        }
        for t in self.tracks.iter_mut() {
            if !t.dropped && t.samples == 0 {
                t.dropped = true;
                let w = t.drop_warning("no packets");
                self.warnings.push(w);
            }
        }
        let live: Vec<usize> = (0..self.tracks.len())
            .filter(|&i| !self.tracks[i].dropped)
            .collect();
        if !live
            .iter()
            .any(|&i| self.tracks[i].track.kind != TrackKind::Subtitle)
        {
            return Err(RemuxError::NoTracks {
                dropped: dropped(&self.tracks),
            });
        }
        let mut ftyp_box = BoxBuf::new();
        let brands: Vec<[u8; 4]> = live
            .iter()
            .filter_map(|&i| match self.tracks[i].track.codec {
                Codec::H264 => Some(*b"avc1"),
                Codec::Av1 => Some(*b"av01"),
                _ => None,
            })
            .collect();
        ftyp::write(&mut ftyp_box, false, &brands);
        let mdat_header: u64 = if self.payload + 8 > u64::from(u32::MAX) {
            16
        } else {
            8
        };

        // Presentation starts: P (track ticks) of the earliest presented sample.
        let starts: Vec<(i64, u32)> = live
            .iter()
            .map(|&i| {
                let t = &self.tracks[i];
                let min_pts = self.tables[i]
                    .times
                    .iter()
                    .map(|s| s.pts)
                    .min()
                    .unwrap_or(0);
                (
                    min_pts.saturating_add(t.edit_delay()),
                    t.track.timescale.max(1),
                )
            })
            .collect();
        let origin = *starts
            .iter()
            .min_by(|a, b| {
                if time_lt(a.0, a.1, b.0, b.1) {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                }
            })
            .unwrap_or(&(0, 1));
        let offset_num = |p: (i64, u32)| {
            i128::from(p.0) * i128::from(origin.1) - i128::from(origin.0) * i128::from(p.1)
        };
        let movie_ts: u32 = {
            let exact = starts
                .iter()
                .all(|&p| (offset_num(p) * 1000) % (i128::from(p.1) * i128::from(origin.1)) == 0);
            if exact {
                1000
            } else {
                starts.iter().map(|p| p.1).max().unwrap_or(1000)
            }
        };

        let mut co64 = false;
        let mut base = 0u64;
        for _ in 0..3 {
            let moov = self.moov(&live, &starts, origin, movie_ts, base, co64);
            base = ftyp_box.len() as u64 + moov.len() as u64 + mdat_header;
            let max = live
                .iter()
                .map(|&i| self.tables[i].max_chunk_offset())
                .max()
                .unwrap_or(0);
            let need64 = base + max > u64::from(u32::MAX);
            if need64 == co64
                && self
                    .moov(&live, &starts, origin, movie_ts, base, co64)
                    .len()
                    == moov.len()
            {
                let mut bytes = ftyp_box.bytes.clone();
                bytes.extend_from_slice(&self.moov(&live, &starts, origin, movie_ts, base, co64));
                if mdat_header == 16 {
                    bytes.extend_from_slice(&1u32.to_be_bytes());
                    bytes.extend_from_slice(b"mdat");
                    bytes.extend_from_slice(&(self.payload + 16).to_be_bytes());
                } else {
                    bytes.extend_from_slice(&((self.payload + 8) as u32).to_be_bytes());
                    bytes.extend_from_slice(b"mdat");
                }
                return Ok(FaststartHeader {
                    bytes,
                    payload: self.payload,
                    dropped: self.tracks.iter().map(|t| t.dropped).collect(),
                    codecs: self.tracks.iter().map(|t| t.track.codec.clone()).collect(),
                    warnings: self.warnings,
                });
            }
            co64 = need64;
        }
        Err(RemuxError::Unsupported(
            "could not settle the moov layout".into(),
        ))
    }

    fn moov(
        &self,
        live: &[usize],
        starts: &[(i64, u32)],
        origin: (i64, u32),
        movie_ts: u32,
        base: u64,
        co64: bool,
    ) -> Vec<u8> {
        let mut b = BoxBuf::new();
        let moov = b.begin(b"moov");
        let mut traks = BoxBuf::new();
        let mut movie_duration = 0u64;
        for (n, &i) in live.iter().enumerate() {
            let t = &self.tracks[i];
            let table = &self.tables[i];
            let ts = t.track.timescale.max(1);
            let p = starts[n];
            // Empty edit: how much later than the earliest track this one starts.
            let empty_num =
                i128::from(p.0) * i128::from(origin.1) - i128::from(origin.0) * i128::from(ts);
            let empty = (empty_num * i128::from(movie_ts) / (i128::from(ts) * i128::from(origin.1)))
                .max(0) as u64;
            let shift = table.ctts_shift();
            let dts0 = table.times.first().map_or(0, |s| s.dts);
            let media_time = (p.0 - dts0 + shift).max(0);
            let end = table
                .times
                .iter()
                .map(|s| s.pts.saturating_add(i64::from(s.duration)))
                .max()
                .unwrap_or(p.0);
            let presented = (end - p.0).max(0);
            let seg = super::track::rescale(presented, ts, movie_ts).max(0) as u64;
            let mut edits = Vec::new();
            if empty > 0 {
                edits.push(Edit {
                    segment_duration: empty,
                    media_time: -1,
                });
            }
            edits.push(Edit {
                segment_duration: seg,
                media_time,
            });
            let duration = empty + seg;
            movie_duration = movie_duration.max(duration);
            let header = TrackHeader {
                id: t.out_id,
                duration,
                alternate_group: match t.track.kind {
                    TrackKind::Video => 0,
                    TrackKind::Audio => 1,
                    TrackKind::Subtitle => 2,
                },
                audio: t.track.kind == TrackKind::Audio,
                width: if t.track.kind == TrackKind::Audio {
                    0
                } else {
                    t.track.width
                },
                height: if t.track.kind == TrackKind::Audio {
                    0
                } else {
                    t.track.height
                },
            };
            trak::write(
                &mut traks,
                &TrakParams {
                    header,
                    edits: &edits,
                    track: &t.track,
                    media_duration: table.media_duration(),
                    entry: t.entry.as_deref().unwrap_or(&[]),
                    table: Table::Full { table, base, co64 },
                },
            );
        }
        let next_id = self.tracks.len() as u32 + 1;
        mvhd::write(&mut b, movie_ts, movie_duration, next_id);
        b.put(&traks.bytes);
        b.end(moov);
        b.bytes
    }
}

fn record(table: &mut SampleTable, timed: &mut Vec<TimedSample>) {
    for s in timed.drain(..) {
        table.times.push(SampleTime {
            dts: s.dts,
            pts: s.pts,
            duration: s.duration.min(u64::from(u32::MAX)) as u32,
            keyframe: s.keyframe,
        });
    }
}

/// Pass 2: writes the packet bytes after the header, in pass 1's order.
#[derive(Debug)]
pub struct FaststartWriter<W: Write> {
    out: W,
    text: Vec<TextConv>,
    dropped: Vec<bool>,
    expected: u64,
    written: u64,
    scratch: Vec<Packet>,
}

impl<W: Write> FaststartWriter<W> {
    /// Write the header now; then feed packets with [`FaststartWriter::write`].
    pub fn new(mut out: W, header: &FaststartHeader) -> Result<Self, RemuxError> {
        out.write_all(&header.bytes)?;
        Ok(FaststartWriter {
            out,
            text: header.codecs.iter().map(TextConv::new).collect(),
            dropped: header.dropped.clone(),
            expected: header.payload,
            written: 0,
            scratch: Vec::new(),
        })
    }

    /// Write one packet of track `idx` (same order as pass 1). Its payload must have been read
    /// (see [`FaststartWriter::write_from`]).
    pub fn write(&mut self, idx: usize, packet: Packet) -> Result<(), RemuxError> {
        self.write_from(idx, packet, &mut |_, _| {
            Err(RemuxError::Unsupported(
                "a packet read index-only cannot be written".into(),
            ))
        })
    }

    /// Write one packet of track `idx` (same order as pass 1); a payload the demuxer left
    /// unread (`Packet::omitted`) is written by `copy`, given the output and the payload's
    /// input extent.
    pub fn write_from(
        &mut self,
        idx: usize,
        packet: Packet,
        copy: &mut dyn FnMut(&mut W, Extent) -> Result<(), RemuxError>,
    ) -> Result<(), RemuxError> {
        if self.dropped.get(idx).copied().unwrap_or(true) {
            return Ok(());
        }
        let mut samples = std::mem::take(&mut self.scratch);
        self.text[idx].convert(packet, &mut samples);
        for s in samples.drain(..) {
            self.written += s.size() as u64;
            if self.written > self.expected {
                return Err(RemuxError::Unsupported(
                    "input changed between the two passes".into(),
                ));
            }
            match s.omitted {
                Some(extent) => copy(&mut self.out, extent)?,
                None => self.out.write_all(&s.data)?,
            }
        }
        self.scratch = samples;
        Ok(())
    }

    /// Check that everything planned was written and flush; returns the writer.
    pub fn finish(mut self) -> Result<W, RemuxError> {
        if self.written != self.expected {
            return Err(RemuxError::Unsupported(
                "input changed between the two passes".into(),
            ));
        }
        self.out.flush()?;
        Ok(self.out)
    }
}
