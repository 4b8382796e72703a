//! Fragmented output: an init segment (ftyp, moov with mvex/trex and empty sample tables),
//! then one moof+mdat per fragment. Fragments start at video key frames (every key frame, or
//! the first after `--fragment-duration`); without video, every second of the first audio
//! track. A fragment is also cut when it holds [`MAX_FRAGMENT_BYTES`], which bounds memory.
//!
//! A/V sync: every track's `tfdt` is its true decode time relative to one origin shared by all
//! tracks (the earliest presented sample), and composition offsets are signed (trun v1), so the
//! presentation time of every sample equals its input time minus that origin. Audio codec delay
//! (AAC priming) is an edit list in the init segment.

use super::buf::BoxBuf;
use super::edts::Edit;
use super::stsd::EntryOptions;
use super::timing::TimedSample;
use super::tkhd::TrackHeader;
use super::track::{dropped, rescale, time_lt, OutTrack};
use super::trak::{self, Table, TrakParams};
use super::{ftyp, mvhd};
use bytes::Bytes;

use crate::{Codec, Extent, Packet, RemuxError, Track, TrackKind};

/// Memory bound: a fragment is cut when its payload reaches this size.
pub const MAX_FRAGMENT_BYTES: usize = 16 << 20;

/// Where the fragmented muxer writes: MP4 bytes, and sample payloads. A `Vec<u8>` takes
/// payloads that were read; an output that can copy from the input file may also take
/// payloads a demuxer left unread ([`Packet::omitted`]).
pub trait FragmentOut {
    /// Append MP4 bytes (init segment, moof, mdat header).
    fn put(&mut self, bytes: &[u8]) -> Result<(), RemuxError>;
    /// Append one sample's payload: `data`, or (with `data` empty) the input extent
    /// `omitted`.
    fn put_payload(&mut self, data: &Bytes, omitted: Option<Extent>) -> Result<(), RemuxError>;
}

impl FragmentOut for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), RemuxError> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    fn put_payload(&mut self, data: &Bytes, omitted: Option<Extent>) -> Result<(), RemuxError> {
        if omitted.is_some() {
            return Err(RemuxError::Unsupported(
                "a packet read index-only cannot be written".into(),
            ));
        }
        self.extend_from_slice(data);
        Ok(())
    }
}

/// Options of the fragmented writer.
#[derive(Debug, Clone, Copy, Default)]
pub struct FragmentOptions {
    /// How sample entries are written.
    pub entry: EntryOptions,
    /// Minimum fragment duration in seconds (fragments still start at key frames).
    pub fragment_duration: Option<f64>,
}

/// The streaming fragmented MP4 writer: packets in, bytes out.
#[derive(Debug)]
pub struct FragmentedMuxer {
    tracks: Vec<OutTrack>,
    opts: FragmentOptions,
    pending: Vec<Vec<TimedSample>>,
    pending_bytes: usize,
    sequence: u32,
    init_done: bool,
    /// Per track: ticks subtracted from decode times to get tfdt.
    origin: Vec<i64>,
    /// Per track: ticks subtracted from derived decode times so composition offsets are
    /// positive (the B-frame delay, measured on the first fragment, as ffmpeg writes it).
    dts_shift: Vec<i64>,
    lead: Option<usize>,
    warnings: Vec<String>,
    scratch: Vec<Packet>,
    timed: Vec<TimedSample>,
    /// (presentation seconds, input offset) of each fragment's first lead sample.
    index: Vec<(f64, u64)>,
}

impl FragmentedMuxer {
    /// A writer for `tracks` (output track_IDs follow their order).
    pub fn new(tracks: Vec<Track>, opts: FragmentOptions) -> FragmentedMuxer {
        let lead = tracks
            .iter()
            .position(|t| t.kind == TrackKind::Video)
            .or_else(|| tracks.iter().position(|t| t.kind == TrackKind::Audio));
        let n = tracks.len();
        FragmentedMuxer {
            tracks: tracks
                .into_iter()
                .enumerate()
                .map(|(i, t)| OutTrack::new(t, i as u32 + 1))
                .collect(),
            opts,
            pending: (0..n).map(|_| Vec::new()).collect(),
            pending_bytes: 0,
            sequence: 0,
            init_done: false,
            origin: vec![0; n],
            dts_shift: vec![0; n],
            lead,
            warnings: Vec::new(),
            scratch: Vec::new(),
            timed: Vec::new(),
            index: Vec::new(),
        }
    }

    /// A muxer for a later part of the same input (an HLS segment), once this one has
    /// written its init segment: it writes fragments only, with this one's sample entries,
    /// dropped tracks and time origin, numbered from `sequence + 1`. Decode times and text
    /// gaps are derived afresh from its own packets, as for an input that starts with them.
    pub fn continuation(&self, sequence: u32) -> FragmentedMuxer {
        let tracks: Vec<Track> = self.tracks.iter().map(|t| t.track.clone()).collect();
        let mut next = FragmentedMuxer::new(tracks, self.opts);
        for (t, from) in next.tracks.iter_mut().zip(&self.tracks) {
            t.entry.clone_from(&from.entry);
            t.dropped = from.dropped;
        }
        next.init_done = self.init_done;
        next.origin.clone_from(&self.origin);
        next.dts_shift.clone_from(&self.dts_shift);
        next.sequence = sequence;
        next
    }

    /// Warnings (dropped tracks) collected so far; drained.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Keyframe index so far: (presentation seconds from the output origin, input offset).
    pub fn index(&self) -> &[(f64, u64)] {
        &self.index
    }

    /// Feed one packet of track `idx`; finished fragments are appended to `out`.
    pub fn push<O: FragmentOut + ?Sized>(
        &mut self,
        idx: usize,
        packet: Packet,
        out: &mut O,
    ) -> Result<(), RemuxError> {
        let Some(t) = self.tracks.get_mut(idx) else {
            return Err(RemuxError::Malformed {
                at: packet.input_offset,
                what: "packet of unknown track".into(),
            });
        };
        if t.dropped {
            return Ok(());
        }
        if let Err(why) = t.ensure_entry(&packet.data, self.opts.entry) {
            t.dropped = true;
            let w = t.drop_warning(&why);
            self.warnings.push(w);
            return Ok(());
        }
        let mut samples = std::mem::take(&mut self.scratch);
        let mut timed = std::mem::take(&mut self.timed);
        t.text.convert(packet, &mut samples);
        for s in samples.drain(..) {
            self.tracks[idx].timing.push(s, &mut timed);
        }
        for s in timed.drain(..) {
            self.add_sample(idx, s, out)?;
        }
        self.scratch = samples;
        self.timed = timed;
        Ok(())
    }

    fn add_sample<O: FragmentOut + ?Sized>(
        &mut self,
        idx: usize,
        s: TimedSample,
        out: &mut O,
    ) -> Result<(), RemuxError> {
        if Some(idx) == self.lead && self.ready_to_cut(idx, &s) {
            self.flush(out, false)?;
        }
        self.pending_bytes += s.size();
        self.tracks[idx].samples += 1;
        self.pending[idx].push(s);
        if self.pending_bytes >= MAX_FRAGMENT_BYTES {
            self.flush(out, false)?;
        }
        Ok(())
    }

    fn ready_to_cut(&self, idx: usize, s: &TimedSample) -> bool {
        let video = self.tracks[idx].track.kind == TrackKind::Video;
        if video && !s.keyframe {
            return false;
        }
        let Some(first) = self.pending[idx].first() else {
            return false;
        };
        let ts = f64::from(self.tracks[idx].track.timescale.max(1));
        let elapsed = (s.dts - first.dts) as f64 / ts;
        match self.opts.fragment_duration {
            Some(d) => elapsed >= d,
            None if video => true,
            None => elapsed >= 1.0,
        }
    }

    /// End of input: release held samples and write the last fragment.
    pub fn finish<O: FragmentOut + ?Sized>(&mut self, out: &mut O) -> Result<(), RemuxError> {
        let mut timed = Vec::new();
        for idx in 0..self.tracks.len() {
            self.tracks[idx].timing.finish(&mut timed);
            for s in timed.drain(..) {
                self.add_sample(idx, s, out)?;
            }
        }
        self.flush(out, true)?;
        if !self.init_done {
            return Err(RemuxError::NoTracks {
                dropped: dropped(&self.tracks),
            });
        }
        Ok(())
    }

    fn flush<O: FragmentOut + ?Sized>(
        &mut self,
        out: &mut O,
        last: bool,
    ) -> Result<(), RemuxError> {
        if !self.init_done {
            let waiting = self.tracks.iter().any(|t| !t.dropped && t.entry.is_none());
            if waiting && !last && self.pending_bytes < MAX_FRAGMENT_BYTES {
                return Ok(()); // wait until every track has shown its first sample
            }
            self.write_init(out)?;
        }
        if self.pending.iter().all(|p| p.is_empty()) {
            return Ok(());
        }
        self.write_fragment(out)
    }

    fn write_init<O: FragmentOut + ?Sized>(&mut self, out: &mut O) -> Result<(), RemuxError> {
        for i in 0..self.tracks.len() {
            let t = &mut self.tracks[i];
            if !t.dropped && (t.entry.is_none() || self.pending[i].is_empty()) {
                t.dropped = true;
                let w = t.drop_warning("no packet before the first fragment");
                self.warnings.push(w);
                self.pending_bytes -= self.pending[i].iter().map(|s| s.size()).sum::<usize>();
                self.pending[i].clear();
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
        // Origin: the earliest of every track's first presented time and first decode time
        // (plus edit delay), so that no tfdt is negative.
        let mut origin: Option<(i64, u32)> = None;
        for &i in &live {
            let mut shift = self.pending[i]
                .iter()
                .map(|s| s.dts - s.pts)
                .max()
                .unwrap_or(0)
                .max(0);
            if shift == 0 && self.tracks[i].track.kind == TrackKind::Video {
                // No reordering seen: still give every sample a positive composition offset
                // (one frame), otherwise ffmpeg assumes the SPS reorder delay and moves pts.
                shift = self.pending[i]
                    .first()
                    .map_or(0, |s| s.duration.min(1 << 30) as i64);
            }
            self.dts_shift[i] = shift;
            let t = &self.tracks[i];
            let ts = t.track.timescale.max(1);
            let min_pts = self.pending[i].iter().map(|s| s.pts).min().unwrap_or(0);
            let first_dts = self.pending[i].first().map_or(0, |s| s.dts) - self.dts_shift[i];
            let start = min_pts.min(first_dts).saturating_add(t.edit_delay());
            if origin.is_none_or(|(o, ots)| time_lt(start, ts, o, ots)) {
                origin = Some((start, ts));
            }
        }
        let (o, ots) = origin.unwrap_or((0, 1));
        for &i in &live {
            let t = &self.tracks[i];
            self.origin[i] = rescale(o, ots, t.track.timescale.max(1)) - t.edit_delay();
        }

        let mut b = BoxBuf::new();
        let brands: Vec<[u8; 4]> = live
            .iter()
            .filter_map(|&i| match self.tracks[i].track.codec {
                Codec::H264 => Some(*b"avc1"),
                Codec::Av1 => Some(*b"av01"),
                _ => None,
            })
            .collect();
        ftyp::write(&mut b, true, &brands);
        let moov = b.begin(b"moov");
        mvhd::write(&mut b, 1000, 0, self.tracks.len() as u32 + 1);
        for &i in &live {
            let t = &self.tracks[i];
            let delay = t.edit_delay();
            let edits = if delay > 0 {
                vec![Edit {
                    segment_duration: 0,
                    media_time: delay,
                }]
            } else {
                Vec::new()
            };
            let header = TrackHeader {
                id: t.out_id,
                duration: 0,
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
                &mut b,
                &TrakParams {
                    header,
                    edits: &edits,
                    track: &t.track,
                    media_duration: 0,
                    entry: t.entry.as_deref().unwrap_or(&[]),
                    table: Table::Empty,
                },
            );
        }
        let mvex = b.begin(b"mvex");
        for &i in &live {
            let trex = b.begin_full(b"trex", 0, 0);
            b.u32(self.tracks[i].out_id);
            b.u32(1);
            b.u32(0);
            b.u32(0);
            b.u32(0);
            b.end(trex);
        }
        b.end(mvex);
        b.end(moov);
        out.put(&b.bytes)?;
        self.init_done = true;
        Ok(())
    }

    fn write_fragment<O: FragmentOut + ?Sized>(&mut self, out: &mut O) -> Result<(), RemuxError> {
        self.sequence += 1;
        if let Some(lead) = self.lead {
            if let Some(first) = self.pending[lead].first() {
                let ts = f64::from(self.tracks[lead].track.timescale.max(1));
                self.index.push((
                    (first.pts - self.origin[lead]) as f64 / ts,
                    first.input_offset,
                ));
            }
        }
        let mut b = BoxBuf::new();
        let moof = b.begin(b"moof");
        let mfhd = b.begin_full(b"mfhd", 0, 0);
        b.u32(self.sequence);
        b.end(mfhd);
        let mut offset_slots = Vec::new();
        for (i, samples) in self.pending.iter().enumerate() {
            if samples.is_empty() || self.tracks[i].dropped {
                continue;
            }
            let t = &self.tracks[i];
            let video = t.track.kind == TrackKind::Video;
            let traf = b.begin(b"traf");
            let tfhd = b.begin_full(b"tfhd", 0, 0x02_0000);
            b.u32(t.out_id);
            b.end(tfhd);
            let shift = self.dts_shift[i];
            let tfdt = b.begin_full(b"tfdt", 1, 0);
            b.u64(
                samples[0]
                    .dts
                    .saturating_sub(shift)
                    .saturating_sub(self.origin[i])
                    .max(0) as u64,
            );
            b.end(tfdt);
            // Composition offsets only when some are non-zero (like a faststart file without
            // ctts); ffmpeg otherwise guesses a reorder delay of its own.
            let with_cts = samples.iter().any(|s| s.pts != s.dts - shift);
            let trun = b.begin_full(b"trun", 1, if with_cts { 0x000f01 } else { 0x000701 });
            b.u32(samples.len() as u32);
            offset_slots.push((b.len(), samples.iter().map(|s| s.size()).sum::<usize>()));
            b.u32(0);
            for s in samples {
                b.u32(s.duration.min(u64::from(u32::MAX)) as u32);
                b.u32(s.size() as u32);
                b.u32(if !video || s.keyframe {
                    0x0200_0000
                } else {
                    0x0101_0000
                });
                if with_cts {
                    b.i32(
                        (s.pts - (s.dts - shift)).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
                            as i32,
                    );
                }
            }
            b.end(trun);
            b.end(traf);
        }
        b.end(moof);
        let total: usize = offset_slots.iter().map(|s| s.1).sum();
        let large = total + 8 > u32::MAX as usize;
        let header = if large { 16 } else { 8 };
        let mut data_offset = b.len() + header;
        for (slot, len) in offset_slots {
            b.bytes[slot..slot + 4].copy_from_slice(&(data_offset as u32).to_be_bytes());
            data_offset += len;
        }
        if large {
            b.u32(1);
            b.put(b"mdat");
            b.u64(total as u64 + 16);
        } else {
            b.u32((total + 8) as u32);
            b.put(b"mdat");
        }
        out.put(&b.bytes)?;
        for (i, samples) in self.pending.iter_mut().enumerate() {
            if self.tracks[i].dropped {
                samples.clear();
                continue;
            }
            for s in samples.drain(..) {
                out.put_payload(&s.data, s.omitted)?;
            }
        }
        self.pending_bytes = 0;
        Ok(())
    }
}
