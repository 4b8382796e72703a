//! HLS-style segments of a file: its key frames, an init segment, and for each span from one
//! key frame to the next the fMP4 fragment(s) of its packets, made from that span's input
//! bytes alone (so a server can fetch them by range from wherever the file is).
//!
//! [`SegmentIndex::open`] reads through a [`Source`]: for Matroska the header, the SeekHead
//! and the Cues (without Cues, every block header: index-only, payloads skipped) plus the
//! first segment's bytes; for MP4/MOV the box headers and moov plus the first segment's
//! bytes. [`SegmentIndex::segment`] is pure: the bytes of [`Segment::range`] in, fMP4 out.
//!
//! Matroska segments are runs of whole Clusters: each starts at a Cluster holding a key frame
//! of the lead track (the first video track, else the first audio track), so the ranges are
//! contiguous and the segments partition the Clusters. A file whose Clusters do not start with
//! their key frame still has every packet in exactly one segment, but such a segment does not
//! start with a key frame. MP4/MOV segments are cut at the lead track's sync samples; every
//! other track's samples go to the segment their decode time falls in, so a range spans the
//! samples' chunks and neighbouring ranges may overlap.
//!
//! Every segment's fragments carry true decode times from the one origin of the init segment
//! (`tfdt`), so segments can be fetched in any order; Matroska's missing decode times are
//! derived per segment from its own packets, which gives the file's for closed GOPs.

use std::ops::Range;

use crate::mkv::{cluster_index, MkvEvent, MkvParser};
use crate::mp4::demux::{Mp4Demuxer, SampleRec};
use crate::mp4::track::time_lt;
use crate::mp4::{FragmentOptions, FragmentedMuxer};
use crate::track_map::{drop_warning, lead_track, map_tracks, output_of, with_dropped, TrackMap};
use crate::{detect, Demuxer, Format, Packet, RemuxError, Source, Track, TrackKind};

/// Fragments of one segment are numbered from `k * SEQUENCE_STRIDE + 1` (mfhd), so numbers
/// grow across segments however many fragments each has (a segment is cut into fragments only
/// past 16 MiB or at a key frame inside it).
const SEQUENCE_STRIDE: u32 = 256;

/// Without video, a segment spans at least this long (the fragmented muxer's rule too).
const AUDIO_SEGMENT_SECONDS: f64 = 1.0;

/// A key frame a segment starts at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyFrame {
    /// Its presentation time in seconds, on the input's time line.
    pub time: f64,
    /// Its byte offset in the input: Matroska, the Cluster holding it; MP4/MOV, the sample.
    pub offset: u64,
}

/// One segment: the packets from one key frame to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Its key frame's presentation time, seconds (the first segment: its first packet's).
    pub start: f64,
    /// Seconds to the next segment's start; the last segment's reaches the file's duration
    /// when the file states one (else 0).
    pub duration: f64,
    /// The input bytes [`SegmentIndex::segment`] needs.
    pub range: Range<u64>,
}

/// Where a [`SegmentIndex`] found its key frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFrameSource {
    /// Matroska Cues (read where the SeekHead points).
    Cues,
    /// A scan of every Matroska block header (the file has no usable Cues).
    Scan,
    /// MP4/MOV sample tables (stss, stco/co64, stsc, stsz).
    SampleTables,
}

/// How segments are read from their bytes.
#[derive(Debug)]
enum Layout {
    /// A parser knowing the tracks, to start one per segment.
    Matroska(Box<MkvParser>),
    /// The sample tables, and per segment each track's range of samples.
    Mp4 {
        tables: Mp4Demuxer<Vec<u8>>,
        parts: Vec<Vec<Range<usize>>>,
    },
}

/// A file's key frames and segments, with what it takes to mux any segment on its own.
#[derive(Debug)]
pub struct SegmentIndex {
    tracks: Vec<Track>,
    map: Vec<TrackMap>,
    dropped: Vec<String>,
    warnings: Vec<String>,
    keyframes: Vec<KeyFrame>,
    segments: Vec<Segment>,
    found: KeyFrameSource,
    init: Vec<u8>,
    /// The muxer that wrote `init`: every segment's muxer continues it.
    muxer: FragmentedMuxer,
    layout: Layout,
}

impl SegmentIndex {
    /// Indexes `src` (Matroska/WebM or MP4/MOV) and makes the init segment (which reads the
    /// first segment's bytes: some sample entries come from a track's first packet).
    pub fn open<S: Source>(src: S, opts: FragmentOptions) -> Result<SegmentIndex, RemuxError> {
        let mut head = [0u8; 16];
        let n = head
            .len()
            .min(usize::try_from(src.len()).unwrap_or(usize::MAX));
        src.read_at(0, &mut head[..n])?;
        let min_gap = opts.fragment_duration.unwrap_or(0.0);
        let (tracks, keyframes, segments, found, layout) = match detect(&head[..n]) {
            Some(Format::Matroska) => matroska(&src, min_gap)?,
            Some(Format::Mp4) => mp4(&src, min_gap)?,
            None => return Err(RemuxError::UnknownFormat),
        };
        let mut out_tracks = Vec::new();
        let mut dropped = Vec::new();
        let map = map_tracks(&tracks, &mut out_tracks, &mut dropped);
        if !out_tracks.iter().any(|t| t.kind != TrackKind::Subtitle) {
            return Err(RemuxError::NoTracks { dropped });
        }
        let mut index = SegmentIndex {
            warnings: dropped.iter().map(|d| drop_warning(d)).collect(),
            // Replaced below by the muxer that writes the init segment.
            muxer: FragmentedMuxer::new(Vec::new(), opts),
            tracks: out_tracks,
            map,
            dropped,
            keyframes,
            segments,
            found,
            init: Vec::new(),
            layout,
        };
        let Some(first) = index.segments.first() else {
            return Err(RemuxError::Malformed {
                at: 0,
                what: "no packets".into(),
            });
        };
        let mut bytes = vec![0u8; range_len(&first.range)?];
        src.read_at(first.range.start, &mut bytes)?;
        let mut out = Vec::new();
        let mut muxer = FragmentedMuxer::new(index.tracks.clone(), opts);
        index.mux(0, &bytes, &mut muxer, &mut out)?;
        index.warnings.extend(muxer.take_warnings());
        index.init = out[..init_len(&out)].to_vec();
        index.muxer = muxer;
        Ok(index)
    }

    /// The output tracks (those MP4 can carry, renumbered from 1 in input order). One the
    /// init segment could not describe (e.g. subtitles with no packet in the first segment)
    /// is listed but dropped: see [`SegmentIndex::warnings`].
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// The key frame each segment starts at (the first: where the first segment's bytes
    /// start), in order.
    pub fn keyframes(&self) -> &[KeyFrame] {
        &self.keyframes
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Where the key frames come from.
    pub fn keyframe_source(&self) -> KeyFrameSource {
        self.found
    }

    /// The init segment (ftyp + moov with mvex), to play every segment after.
    pub fn init_segment(&self) -> &[u8] {
        &self.init
    }

    /// One-line warnings about dropped tracks.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The fMP4 fragment(s) (moof + mdat) of segment `k`, from `bytes`: the input's bytes in
    /// [`Segment::range`].
    pub fn segment(&self, k: usize, bytes: &[u8]) -> Result<Vec<u8>, RemuxError> {
        let sequence = u32::try_from(k)
            .ok()
            .and_then(|k| k.checked_mul(SEQUENCE_STRIDE))
            .ok_or_else(|| RemuxError::Unsupported(format!("segment {k}: too many")))?;
        let mut muxer = self.muxer.continuation(sequence);
        let mut out = Vec::new();
        self.mux(k, bytes, &mut muxer, &mut out)?;
        Ok(out)
    }

    /// Feeds segment `k`'s packets, read from `bytes`, to `muxer` and finishes it.
    fn mux(
        &self,
        k: usize,
        bytes: &[u8],
        muxer: &mut FragmentedMuxer,
        out: &mut Vec<u8>,
    ) -> Result<(), RemuxError> {
        let Some(segment) = self.segments.get(k) else {
            return Err(RemuxError::Unsupported(format!(
                "segment {k} of {}",
                self.segments.len()
            )));
        };
        if bytes.len() as u64 != segment.range.end - segment.range.start {
            return Err(RemuxError::Unsupported(format!(
                "segment {k} is {} bytes, {} given",
                segment.range.end - segment.range.start,
                bytes.len()
            )));
        }
        let mut push = |mut p: Packet, out: &mut Vec<u8>| -> Result<(), RemuxError> {
            if let Some(idx) = output_of(&self.map, p.track) {
                p.track = idx as u64 + 1;
                muxer.push(idx, p, out)?;
            }
            Ok(())
        };
        match &self.layout {
            Layout::Matroska(template) => {
                let mut parser = template.for_range(segment.range.start);
                parser.push(bytes);
                parser.finish();
                while let Some(ev) = parser.poll()? {
                    match ev {
                        MkvEvent::Packet(p) => push(p, out)?,
                        MkvEvent::Tracks(_) => {}
                        MkvEvent::End => break,
                    }
                }
            }
            Layout::Mp4 { tables, parts } => {
                let window = Window {
                    start: segment.range.start,
                    bytes,
                };
                let mut d = tables.part(window, &parts[k]);
                while let Some(p) = d.next_packet()? {
                    push(p, out)?;
                }
            }
        }
        muxer
            .finish(out)
            .map_err(|e| with_dropped(e, &self.dropped))
    }
}

/// What [`SegmentIndex::open`] learns from one format.
type Found = (
    Vec<Track>,
    Vec<KeyFrame>,
    Vec<Segment>,
    KeyFrameSource,
    Layout,
);

fn matroska<S: Source>(src: &S, min_gap: f64) -> Result<Found, RemuxError> {
    let ci = cluster_index(src)?;
    let mut points: Vec<(u64, f64)> = Vec::with_capacity(ci.points.len());
    for p in ci.points {
        if points.last().is_none_or(|last| p.1 - last.1 >= min_gap) {
            points.push(p);
        }
    }
    let keyframes: Vec<KeyFrame> = points
        .iter()
        .map(|&(offset, time)| KeyFrame { time, offset })
        .collect();
    let segments = points
        .iter()
        .enumerate()
        .map(|(k, &(offset, time))| {
            let next = points.get(k + 1);
            Segment {
                start: time,
                duration: segment_duration(time, next.map(|n| n.1), ci.duration),
                range: offset..next.map_or(ci.end.max(offset), |n| n.0),
            }
        })
        .collect();
    let found = if ci.from_cues {
        KeyFrameSource::Cues
    } else {
        KeyFrameSource::Scan
    };
    Ok((
        ci.tracks,
        keyframes,
        segments,
        found,
        Layout::Matroska(Box::new(ci.parser)),
    ))
}

fn mp4<S: Source>(src: &S, min_gap: f64) -> Result<Found, RemuxError> {
    let d = Mp4Demuxer::open(src)?;
    let tracks = d.tracks().to_vec();
    let lead = lead_track(&tracks)
        .and_then(|id| tracks.iter().position(|t| t.id == id))
        .ok_or(RemuxError::NoTracks {
            dropped: Vec::new(),
        })?;
    let time = |i: usize, rec: &SampleRec, shift: i64| -> (i64, u32) {
        (rec.dts.saturating_add(shift), tracks[i].timescale.max(1))
    };
    let seconds = |(t, ts): (i64, u32)| t as f64 / f64::from(ts);
    // The lead's sync samples that start segments, by sample index.
    let (lead_samples, lead_shift) = d.samples(lead);
    let mut cuts: Vec<usize> = Vec::new();
    for (i, rec) in lead_samples.iter().enumerate() {
        let gap = if tracks[lead].kind == TrackKind::Video {
            min_gap
        } else {
            min_gap.max(AUDIO_SEGMENT_SECONDS)
        };
        let t = seconds(time(lead, rec, lead_shift));
        let far = cuts
            .last()
            .is_none_or(|&c| t - seconds(time(lead, &lead_samples[c], lead_shift)) >= gap);
        if (rec.key && far) || cuts.is_empty() {
            cuts.push(i);
        }
    }
    // Segment k holds, of every track, the samples decoded from lead cut k on.
    let bounds: Vec<Vec<usize>> = (0..tracks.len())
        .map(|i| {
            let (samples, shift) = d.samples(i);
            let mut b: Vec<usize> = cuts
                .iter()
                .enumerate()
                .map(|(k, &c)| {
                    if k == 0 {
                        return 0;
                    }
                    let (t, ts) = time(lead, &lead_samples[c], lead_shift);
                    samples.partition_point(|r| {
                        let (u, us) = time(i, r, shift);
                        time_lt(u, us, t, ts)
                    })
                })
                .collect();
            b.push(samples.len());
            b
        })
        .collect();
    let mut keyframes = Vec::with_capacity(cuts.len());
    let mut segments = Vec::with_capacity(cuts.len());
    let mut parts = Vec::with_capacity(cuts.len());
    for (k, &c) in cuts.iter().enumerate() {
        let rec = &lead_samples[c];
        let pts = rec
            .dts
            .saturating_add(lead_shift)
            .saturating_add(i64::from(rec.cts));
        let start = seconds((pts, tracks[lead].timescale.max(1)));
        let next = cuts.get(k + 1).map(|&n| {
            let r = &lead_samples[n];
            let pts = r
                .dts
                .saturating_add(lead_shift)
                .saturating_add(i64::from(r.cts));
            seconds((pts, tracks[lead].timescale.max(1)))
        });
        let part: Vec<Range<usize>> = bounds.iter().map(|b| b[k]..b[k + 1]).collect();
        let extents = part.iter().enumerate().flat_map(|(i, r)| {
            d.samples(i).0[r.clone()]
                .iter()
                .map(|s| (s.offset, s.offset.saturating_add(u64::from(s.size))))
        });
        let range = extents
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
            .map_or(rec.offset..rec.offset, |(a, b)| a..b);
        keyframes.push(KeyFrame {
            time: start,
            offset: rec.offset,
        });
        segments.push(Segment {
            start,
            duration: segment_duration(start, next, d.duration()),
            range,
        });
        parts.push(part);
    }
    let whole: Vec<Range<usize>> = (0..tracks.len()).map(|i| 0..d.samples(i).0.len()).collect();
    let tables = d.part(Vec::new(), &whole);
    Ok((
        tracks,
        keyframes,
        segments,
        KeyFrameSource::SampleTables,
        Layout::Mp4 { tables, parts },
    ))
}

/// Seconds from `start` to the next segment's start, or to the file's end for the last.
fn segment_duration(start: f64, next: Option<f64>, file: Option<f64>) -> f64 {
    match (next, file) {
        (Some(n), _) => (n - start).max(0.0),
        (None, Some(end)) => (end - start).max(0.0),
        (None, None) => 0.0,
    }
}

fn range_len(r: &Range<u64>) -> Result<usize, RemuxError> {
    usize::try_from(r.end - r.start).map_err(|_| RemuxError::TooLarge {
        at: r.start,
        what: "segment".into(),
    })
}

/// The length of the init segment at the start of `out`: its boxes before the first moof.
fn init_len(out: &[u8]) -> usize {
    let mut at = 0;
    while let Some(head) = out.get(at..at + 8) {
        if &head[4..8] == b"moof" {
            break;
        }
        let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if size < 8 {
            break;
        }
        at += size;
    }
    at.min(out.len())
}

/// A segment's bytes as a [`Source`] at their input offsets.
struct Window<'a> {
    start: u64,
    bytes: &'a [u8],
}

impl Source for Window<'_> {
    fn len(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let at = offset
            .checked_sub(self.start)
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        self.bytes.read_at(at, buf)
    }
}
