//! The push-driven Matroska parser: the state machine behind every Matroska reader.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use super::block;
use super::codec;
use super::cues::{self, CuePoint};
use super::ebml::{self, Children, Header, HeaderError};
use super::encoding::{Decoder, SCOPE_FRAMES};
use super::ids;
use super::limits;
use super::time::TimeBase;
use super::tracks::{self, TrackEntry};
use crate::{Extent, Packet, RemuxError, Track};

/// What the parser found; see [`MkvParser::poll`].
#[derive(Debug, Clone, PartialEq)]
pub enum MkvEvent {
    /// The tracks of the file, once, before any packet.
    Tracks(Vec<Track>),
    /// One frame (laced blocks give one packet per frame).
    Packet(Packet),
    /// The input is complete. Returned once; later polls return `Ok(None)`.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the EBML header.
    Header,
    /// Inside the body (before, in or between Segment children).
    Body,
    /// Done; `End` is returned next.
    Ended,
    /// `End` has been returned.
    Closed,
}

/// An open master element the parser streams through (Segment or Cluster).
#[derive(Debug, Clone, Copy)]
struct Open {
    id: u32,
    /// Input offset where it ends; `None` for unknown size.
    end: Option<u64>,
}

/// What the parser keeps per track to turn blocks into packets.
#[derive(Debug, Clone)]
struct TrackState {
    number: u64,
    /// `None` when frames cannot be decoded (encryption, bzlib, lzo): its blocks are skipped.
    decoder: Option<Decoder>,
    default_duration_ns: Option<u64>,
    /// Opus: laced frames without DefaultDuration are spaced by their TOC durations.
    opus: bool,
    /// SeekPreRoll in ticks.
    seek_pre_roll: u64,
    /// CodecDelay in ticks, subtracted from every timestamp of the track.
    codec_delay: i64,
    /// Index-only reading may leave this track's unlaced payloads unread: frames are stored
    /// as is (no ContentEncoding) and are not text (whose MP4 size depends on the bytes).
    sizes_only: bool,
    /// A packet of this track was emitted (the first one always carries its bytes: the MP4
    /// sample entry may be derived from it).
    seen: bool,
}

/// Whether a step made progress or needs more input.
enum Step {
    Continue,
    NeedMore,
}

/// Streaming, sans-IO Matroska/WebM parser: push bytes in order, poll events out. It never
/// seeks (a caller may, over bytes it reports skipped, see [`MkvParser::skip_ahead`]) and
/// holds at most one block (or one metadata element: EBML header, Info, Tracks, Cues) beyond
/// what the caller has pushed but it has not parsed yet.
///
/// ```
/// use tgmux_remux::mkv::{MkvParser, MkvEvent};
/// let mut d = MkvParser::new();
/// d.push(&[0x1A, 0x45]); // the first bytes of an EBML header
/// assert!(matches!(d.poll(), Ok(None))); // needs more bytes
/// d.finish();
/// assert!(d.poll().is_err()); // input ended inside the header: truncated
/// ```
#[derive(Debug)]
pub struct MkvParser {
    /// Unparsed input; `buf[0]` is at input offset `buf_at`.
    buf: BytesMut,
    buf_at: u64,
    /// Bytes of an element being skipped that have not arrived yet.
    skip: u64,
    finished: bool,
    stage: Stage,
    failed: Option<RemuxError>,
    open: Vec<Open>,
    segment_seen: bool,
    segment_data_at: u64,
    /// Where the Segment ends; `None` for unknown size.
    segment_end: Option<u64>,
    /// (element id, input offset) from the SeekHead.
    seeks: Vec<(u32, u64)>,
    /// Input offset of the first Cluster, once seen.
    first_cluster: Option<u64>,
    /// Input offset where the last Cluster closed so far ended.
    clusters_end: u64,
    /// Reading one range of Clusters ([`MkvParser::for_range`]): the input may end where the
    /// Segment goes on, between two Clusters.
    range: bool,
    timebase: TimeBase,
    info_seen: bool,
    duration_units: Option<f64>,
    entries: Option<Vec<TrackEntry>>,
    tracks: Vec<TrackState>,
    tracks_sent: bool,
    cluster_at: u64,
    cluster_timestamp: Option<u64>,
    queue: VecDeque<MkvEvent>,
    cues: Vec<CuePoint>,
    /// See [`MkvParser::index_only`]: payloads of at least this many bytes may be omitted.
    omit_from: Option<usize>,
    /// The BlockGroup being read child by child (index-only reading only).
    group: Option<Group>,
}

/// A BlockGroup read child by child, so that its Block's frames can be skipped: what its
/// children said so far. Its packets are emitted when it closes.
#[derive(Debug)]
struct Group {
    /// Input offset of the BlockGroup.
    at: u64,
    block: Option<block::Block>,
    /// The Block's frames' extents when they were left unread, else empty.
    extents: Vec<Extent>,
    duration: Option<u64>,
    has_reference: bool,
}

impl Default for MkvParser {
    fn default() -> Self {
        Self::new()
    }
}

impl MkvParser {
    /// A parser waiting for the first byte of a Matroska or WebM file.
    pub fn new() -> Self {
        MkvParser {
            buf: BytesMut::new(),
            buf_at: 0,
            skip: 0,
            finished: false,
            stage: Stage::Header,
            failed: None,
            open: Vec::new(),
            segment_seen: false,
            segment_data_at: 0,
            segment_end: None,
            seeks: Vec::new(),
            first_cluster: None,
            clusters_end: 0,
            range: false,
            timebase: TimeBase::new(1_000_000),
            info_seen: false,
            duration_units: None,
            entries: None,
            tracks: Vec::new(),
            tracks_sent: false,
            cluster_at: 0,
            cluster_timestamp: None,
            queue: VecDeque::new(),
            cues: Vec::new(),
            omit_from: None,
            group: None,
        }
    }

    /// A parser that leaves payloads unread where it can: the frames of a SimpleBlock or of
    /// a BlockGroup's Block (of at least `min` bytes; laced too, but not laced Opus) of a
    /// track stored as is and not text, after that track's first packet. Each of its packets
    /// has empty `data` and names the frame's input extent in `omitted`; the parser skips
    /// the frames like an unknown element, so a seekable caller can jump over them (see
    /// [`skip_ahead`](Self::skip_ahead)). Every other block is read as usual. Packets are
    /// those of a full read otherwise (times, flags, sizes).
    pub fn index_only(min: usize) -> Self {
        MkvParser {
            omit_from: Some(min),
            ..Self::new()
        }
    }

    /// Bytes the parser will drop unread next, none of them pushed yet (an unknown element
    /// or an omitted payload). When `poll` has returned `Ok(None)`, a caller reading a
    /// seekable input may seek forward by up to this many bytes and report it with
    /// [`skipped`](Self::skipped) instead of pushing them.
    pub fn skip_ahead(&self) -> u64 {
        if self.buf.is_empty() {
            self.skip
        } else {
            0
        }
    }

    /// The caller moved its input forward by `n` bytes without pushing them; `n` is at most
    /// [`skip_ahead`](Self::skip_ahead) (larger values are clamped to it).
    pub fn skipped(&mut self, n: u64) {
        let n = n.min(self.skip_ahead());
        self.skip -= n;
        self.buf_at += n;
    }

    /// Appends the next bytes of the input. Call [`poll`](Self::poll) until it returns
    /// `Ok(None)` before pushing more, so the buffer stays small.
    pub fn push(&mut self, mut data: &[u8]) {
        // Bytes of a skipped element are dropped without being buffered.
        if self.skip > 0 && self.buf.is_empty() {
            let n = usize::try_from(self.skip)
                .unwrap_or(usize::MAX)
                .min(data.len());
            self.skip -= n as u64;
            self.buf_at += n as u64;
            data = &data[n..];
        }
        self.buf.extend_from_slice(data);
    }

    /// Marks the end of the input: afterwards `poll` returns `End` or `Truncated` instead of
    /// asking for more bytes.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// Total input bytes consumed (parsed or skipped) so far.
    pub fn position(&self) -> u64 {
        self.buf_at
    }

    /// Bytes pushed but not yet consumed: at most one element (a block, or Info/Tracks/Cues)
    /// plus whatever the caller pushed beyond it.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Ticks per second of every track's times (see the `mkv` module docs).
    pub fn timescale(&self) -> u32 {
        self.timebase.timescale
    }

    /// Segment duration in track ticks, from Info, if the file states it.
    pub fn duration(&self) -> Option<f64> {
        self.duration_units
            .map(|d| d * self.timebase.per_unit as f64)
    }

    /// A track's SeekPreRoll in ticks (how much to decode before a seek target, e.g. 80 ms
    /// for Opus), 0 when unknown or before the Tracks event. The shared model has no field
    /// for it, so it is offered here.
    pub fn seek_pre_roll(&self, track: u64) -> u64 {
        self.tracks
            .iter()
            .find(|t| t.number == track)
            .map_or(0, |t| t.seek_pre_roll)
    }

    /// The seek index from Cues read so far (usually complete only at the end, since muxers
    /// write Cues after the Clusters).
    pub fn cues(&self) -> &[CuePoint] {
        &self.cues
    }

    /// Where the SeekHead says the element `id` is (an input offset), if it says.
    pub(crate) fn seek_position(&self, id: u32) -> Option<u64> {
        self.seeks.iter().find(|s| s.0 == id).map(|s| s.1)
    }

    /// Input offset of the first Cluster, once it has been reached.
    pub(crate) fn first_cluster(&self) -> Option<u64> {
        self.first_cluster
    }

    /// Input offset where the last Cluster closed so far ended.
    pub(crate) fn clusters_end(&self) -> u64 {
        self.clusters_end
    }

    /// Where the Segment ends, `None` for unknown size.
    pub(crate) fn segment_end(&self) -> Option<u64> {
        self.segment_end
    }

    /// The cue points of a Cues element of this file (`body` at input offset `body_at`),
    /// read elsewhere; malformed entries end the list.
    pub(crate) fn parse_cues(&self, body: &[u8], body_at: u64) -> Vec<CuePoint> {
        let mut found = Vec::new();
        let _ = cues::parse_cues(
            body,
            body_at,
            self.segment_data_at,
            self.timebase,
            &mut found,
        );
        found
    }

    /// A parser for one range of this file's Clusters, knowing its tracks (it sends no
    /// Tracks event): the bytes pushed start at `offset`, where a Cluster starts, and may end
    /// where any Cluster ends (the end of input is then [`MkvEvent::End`], not truncation).
    /// Needs the Tracks event to have been returned.
    pub(crate) fn for_range(&self, offset: u64) -> MkvParser {
        let mut p = MkvParser::new();
        p.buf_at = offset;
        p.stage = Stage::Body;
        p.open = vec![Open {
            id: ids::SEGMENT,
            end: self.segment_end,
        }];
        p.segment_seen = true;
        p.segment_data_at = self.segment_data_at;
        p.segment_end = self.segment_end;
        p.range = true;
        p.timebase = self.timebase;
        p.info_seen = true;
        p.duration_units = self.duration_units;
        p.entries = self.entries.clone();
        p.tracks = self.tracks.clone();
        for t in &mut p.tracks {
            t.seen = false;
        }
        p.tracks_sent = true;
        p.cluster_at = offset;
        p
    }

    /// The next event: `Ok(None)` means "push more bytes (or call finish)". After an error
    /// every later call returns an equivalent error.
    #[must_use = "poll until it returns Ok(None)"]
    pub fn poll(&mut self) -> Result<Option<MkvEvent>, RemuxError> {
        if let Some(e) = &self.failed {
            return Err(replay(e));
        }
        match self.run() {
            Ok(ev) => Ok(ev),
            Err(e) => {
                self.failed = Some(replay(&e));
                Err(e)
            }
        }
    }

    fn run(&mut self) -> Result<Option<MkvEvent>, RemuxError> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Ok(Some(ev));
            }
            let step = match self.stage {
                Stage::Ended => {
                    self.stage = Stage::Closed;
                    return Ok(Some(MkvEvent::End));
                }
                Stage::Closed => return Ok(None),
                _ if self.skip > 0 => self.skip_bytes(),
                Stage::Header => self.step_header()?,
                Stage::Body => self.step_body()?,
            };
            if let Step::NeedMore = step {
                if !self.finished {
                    return Ok(None);
                }
                self.at_end_of_input()?;
            }
        }
    }

    /// Called when more bytes are needed but the input has ended.
    fn at_end_of_input(&mut self) -> Result<(), RemuxError> {
        let end = self.buf_at.saturating_add(self.buf.len() as u64);
        if self.stage == Stage::Header {
            return Err(if end == 0 {
                RemuxError::UnknownFormat
            } else {
                RemuxError::Truncated { at: end }
            });
        }
        let pos = self.buf_at;
        // A range of Clusters ends where the Segment goes on.
        let sized_open = self
            .open
            .iter()
            .filter(|o| !(self.range && o.id == ids::SEGMENT))
            .any(|o| o.end.is_some_and(|e| e > pos));
        if self.skip > 0 || !self.buf.is_empty() || sized_open || !self.segment_seen {
            return Err(RemuxError::Truncated { at: end });
        }
        self.end_segment()
    }

    fn skip_bytes(&mut self) -> Step {
        let n = usize::try_from(self.skip)
            .unwrap_or(usize::MAX)
            .min(self.buf.len());
        self.buf.advance(n);
        self.buf_at += n as u64;
        self.skip -= n as u64;
        if self.skip > 0 {
            Step::NeedMore
        } else {
            Step::Continue
        }
    }

    fn header(&self) -> Result<Option<Header>, RemuxError> {
        match ebml::read_header(&self.buf) {
            Ok(h) => Ok(Some(h)),
            Err(HeaderError::NeedMore) => Ok(None),
            Err(HeaderError::Invalid(what)) => Err(ebml::malformed(self.buf_at, what)),
        }
    }

    /// Takes a whole element (header and body) off the buffer once it is all there; returns
    /// the body and its input offset.
    fn take_element(
        &mut self,
        h: Header,
        max: u64,
        what: &str,
    ) -> Result<Option<(Bytes, u64)>, RemuxError> {
        let at = self.buf_at;
        let Some(size) = h.size else {
            return Err(ebml::malformed(at, &format!("{what} with unknown size")));
        };
        if size > max {
            return Err(RemuxError::TooLarge {
                at,
                what: format!("{what} of {size} bytes (limit {max})"),
            });
        }
        let total = h.len as u64 + size; // size <= max, no overflow
        if (self.buf.len() as u64) < total {
            return Ok(None);
        }
        let element = self.buf.split_to(total as usize).freeze();
        self.buf_at += total;
        Ok(Some((element.slice(h.len..), at + h.len as u64)))
    }

    fn step_header(&mut self) -> Result<Step, RemuxError> {
        const MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];
        let n = self.buf.len().min(4);
        if self.buf[..n] != MAGIC[..n] {
            return Err(RemuxError::UnknownFormat);
        }
        let Some(h) = self.header()? else {
            return Ok(Step::NeedMore);
        };
        let Some((body, body_at)) = self.take_element(h, limits::MAX_EBML_HEADER, "EBML header")?
        else {
            return Ok(Step::NeedMore);
        };
        let mut doc_type = String::from("matroska");
        for c in Children::new(&body, body_at) {
            let c = c?;
            if c.id == ids::DOC_TYPE {
                doc_type = ebml::string(c.body);
            }
        }
        if doc_type != "matroska" && doc_type != "webm" {
            return Err(RemuxError::UnknownFormat);
        }
        self.stage = Stage::Body;
        Ok(Step::Continue)
    }

    fn step_body(&mut self) -> Result<Step, RemuxError> {
        let pos = self.buf_at;
        // Close every open element that ends here (and the unknown-size ones inside it).
        if let Some(i) = self.open.iter().position(|o| o.end == Some(pos)) {
            self.close_from(i)?;
            return Ok(Step::Continue);
        }
        let Some(h) = self.header()? else {
            return Ok(Step::NeedMore);
        };
        let parent = self.open.last().copied();
        // An unknown-size Cluster ends where a Segment-level element (or a new file) starts;
        // an unknown-size Segment ends where a new EBML header starts.
        if let Some(p) = parent {
            if p.end.is_none() {
                let ends_cluster =
                    p.id == ids::CLUSTER && (ids::is_segment_child(h.id) || h.id == ids::EBML);
                let ends_segment = p.id == ids::SEGMENT && h.id == ids::EBML;
                if ends_cluster || ends_segment {
                    let i = self.open.len() - 1;
                    self.close_from(i)?;
                    return Ok(Step::Continue);
                }
            }
        }
        // The element must fit in the innermost ancestor of known size.
        if let Some(limit) = self.open.iter().rev().find_map(|o| o.end) {
            let fits = match h.size {
                Some(size) => pos
                    .checked_add(h.len as u64)
                    .and_then(|v| v.checked_add(size))
                    .is_some_and(|end| end <= limit),
                None => pos + (h.len as u64) <= limit,
            };
            if !fits {
                return Err(ebml::malformed(
                    pos,
                    &format!("element 0x{:X} overruns its parent", h.id),
                ));
            }
        }
        match parent.map(|p| p.id) {
            None => self.top_level(h),
            Some(ids::SEGMENT) => self.segment_child(h),
            Some(ids::BLOCK_GROUP) => self.group_child(h),
            Some(_) => self.cluster_child(h),
        }
    }

    /// Starts skipping the element whose header is at the front of the buffer.
    fn skip_element(&mut self, h: Header, what: &str) -> Result<Step, RemuxError> {
        let Some(size) = h.size else {
            return Err(ebml::malformed(
                self.buf_at,
                &format!("{what} 0x{:X} with unknown size", h.id),
            ));
        };
        self.buf.advance(h.len);
        self.buf_at += h.len as u64;
        self.skip = size;
        Ok(Step::Continue)
    }

    fn enter(&mut self, h: Header) {
        let pos = self.buf_at;
        self.buf.advance(h.len);
        self.buf_at += h.len as u64;
        let end = h
            .size
            .map(|s| pos.saturating_add(h.len as u64).saturating_add(s));
        self.open.push(Open { id: h.id, end });
    }

    fn top_level(&mut self, h: Header) -> Result<Step, RemuxError> {
        match h.id {
            ids::SEGMENT => {
                let pos = self.buf_at;
                if h.size.is_some_and(|s| {
                    pos.checked_add(h.len as u64)
                        .and_then(|v| v.checked_add(s))
                        .is_none()
                }) {
                    return Err(ebml::malformed(pos, "Segment size overflows"));
                }
                self.segment_seen = true;
                self.segment_data_at = pos + h.len as u64;
                self.segment_end = h.size.map(|s| self.segment_data_at + s);
                self.enter(h);
                Ok(Step::Continue)
            }
            ids::VOID | ids::CRC32 | ids::EBML => self.skip_element(h, "top-level element"),
            other => Err(ebml::malformed(
                self.buf_at,
                &format!("expected a Segment, found element 0x{other:X}"),
            )),
        }
    }

    fn segment_child(&mut self, h: Header) -> Result<Step, RemuxError> {
        match h.id {
            ids::CLUSTER => {
                self.send_tracks()?;
                self.first_cluster.get_or_insert(self.buf_at);
                self.cluster_at = self.buf_at;
                self.cluster_timestamp = None;
                self.enter(h);
                Ok(Step::Continue)
            }
            ids::INFO => {
                let Some((body, at)) = self.take_element(h, limits::MAX_INFO, "Info")? else {
                    return Ok(Step::NeedMore);
                };
                self.parse_info(&body, at)?;
                Ok(Step::Continue)
            }
            ids::TRACKS => {
                let Some((body, at)) =
                    self.take_element(h, limits::MAX_TRACKS_ELEMENT, "Tracks")?
                else {
                    return Ok(Step::NeedMore);
                };
                if self.entries.is_none() {
                    self.entries = Some(tracks::parse_tracks(&body, at)?);
                    if self.info_seen {
                        self.send_tracks()?;
                    }
                }
                Ok(Step::Continue)
            }
            ids::SEEK_HEAD if h.size.is_some_and(|s| s <= limits::MAX_SEEK_HEAD) => {
                let Some((body, at)) = self.take_element(h, limits::MAX_SEEK_HEAD, "SeekHead")?
                else {
                    return Ok(Step::NeedMore);
                };
                // The index is a hint: a malformed SeekHead is ignored, not fatal.
                let _ = cues::parse_seek_head(&body, at, self.segment_data_at, &mut self.seeks);
                Ok(Step::Continue)
            }
            ids::CUES if h.size.is_some_and(|s| s <= limits::MAX_CUES) => {
                let Some((body, at)) = self.take_element(h, limits::MAX_CUES, "Cues")? else {
                    return Ok(Step::NeedMore);
                };
                let mut found = Vec::new();
                // The index is a hint: a malformed Cues element is ignored, not fatal.
                if cues::parse_cues(&body, at, self.segment_data_at, self.timebase, &mut found)
                    .is_ok()
                {
                    let room = limits::MAX_CUE_POINTS.saturating_sub(self.cues.len());
                    self.cues.extend(found.into_iter().take(room));
                }
                Ok(Step::Continue)
            }
            ids::SEGMENT | ids::EBML => Err(ebml::malformed(
                self.buf_at,
                "a Segment or EBML header inside a Segment",
            )),
            _ => self.skip_element(h, "Segment child"),
        }
    }

    fn cluster_child(&mut self, h: Header) -> Result<Step, RemuxError> {
        match h.id {
            ids::TIMESTAMP => {
                let Some((body, at)) =
                    self.take_element(h, limits::MAX_INT, "Cluster Timestamp")?
                else {
                    return Ok(Step::NeedMore);
                };
                self.cluster_timestamp = Some(ebml::uint(&body, at)?);
                Ok(Step::Continue)
            }
            ids::SIMPLE_BLOCK => {
                let at = self.buf_at;
                if let Some(min) = self.omit_from {
                    if let Some(step) = self.omit_payload(h, min)? {
                        return Ok(step);
                    }
                }
                let Some((body, body_at)) =
                    self.take_element(h, limits::MAX_BLOCK, "SimpleBlock")?
                else {
                    return Ok(Step::NeedMore);
                };
                let b = block::parse(&body, body_at)?;
                let keyframe = b.keyframe_flag;
                self.emit_block(b, None, keyframe, at, &[])?;
                Ok(Step::Continue)
            }
            ids::BLOCK_GROUP
                if self.omit_from.is_some_and(|min| {
                    h.size
                        .is_some_and(|s| s <= limits::MAX_BLOCK && s >= min as u64)
                }) =>
            {
                // Index-only: read it child by child (see `group_child`).
                self.group = Some(Group {
                    at: self.buf_at,
                    block: None,
                    extents: Vec::new(),
                    duration: None,
                    has_reference: false,
                });
                self.enter(h);
                Ok(Step::Continue)
            }
            ids::BLOCK_GROUP => {
                let at = self.buf_at;
                let Some((body, body_at)) =
                    self.take_element(h, limits::MAX_BLOCK, "BlockGroup")?
                else {
                    return Ok(Step::NeedMore);
                };
                let mut block = None;
                let mut duration = None;
                let mut has_reference = false;
                for c in Children::new(&body, body_at) {
                    let c = c?;
                    match c.id {
                        ids::BLOCK => {
                            // Offsets of c.body inside body, to slice the shared buffer.
                            let start = (c.body_at - body_at) as usize;
                            let slice = body.slice(start..start + c.body.len());
                            block = Some(block::parse(&slice, c.body_at)?);
                        }
                        ids::BLOCK_DURATION => duration = Some(ebml::uint(c.body, c.at)?),
                        ids::REFERENCE_BLOCK => has_reference = true,
                        _ => {}
                    }
                }
                let Some(b) = block else {
                    return Err(ebml::malformed(at, "BlockGroup without a Block"));
                };
                self.emit_block(b, duration, !has_reference, at, &[])?;
                Ok(Step::Continue)
            }
            ids::CLUSTER | ids::SEGMENT | ids::EBML => Err(ebml::malformed(
                self.buf_at,
                &format!("element 0x{:X} inside a Cluster", h.id),
            )),
            _ => self.skip_element(h, "Cluster child"),
        }
    }

    /// A child of a BlockGroup read index-only: the Block's frames are skipped where
    /// [`omit_payload`](Self::omit_payload) allows, the rest is read as the full path reads it.
    fn group_child(&mut self, h: Header) -> Result<Step, RemuxError> {
        match h.id {
            ids::BLOCK => {
                let min = self.omit_from.unwrap_or(usize::MAX);
                if let Some((step, omitted)) = self.omit_frames(h, min)? {
                    if let (Some(g), Some((b, extents))) = (&mut self.group, omitted) {
                        (g.block, g.extents) = (Some(b), extents);
                    }
                    return Ok(step);
                }
                let Some((body, body_at)) = self.take_element(h, limits::MAX_BLOCK, "Block")?
                else {
                    return Ok(Step::NeedMore);
                };
                let b = block::parse(&body, body_at)?;
                if let Some(g) = &mut self.group {
                    (g.block, g.extents) = (Some(b), Vec::new());
                }
                Ok(Step::Continue)
            }
            ids::BLOCK_DURATION => {
                let Some((body, at)) = self.take_element(h, limits::MAX_INT, "BlockDuration")?
                else {
                    return Ok(Step::NeedMore);
                };
                let d = ebml::uint(&body, at)?;
                if let Some(g) = &mut self.group {
                    g.duration = Some(d);
                }
                Ok(Step::Continue)
            }
            ids::REFERENCE_BLOCK => {
                if let Some(g) = &mut self.group {
                    g.has_reference = true;
                }
                self.skip_element(h, "ReferenceBlock")
            }
            _ => self.skip_element(h, "BlockGroup child"),
        }
    }

    /// Emits the packets of the BlockGroup read child by child that ends here.
    fn close_group(&mut self) -> Result<(), RemuxError> {
        let Some(g) = self.group.take() else {
            return Ok(());
        };
        let Some(b) = g.block else {
            return Err(ebml::malformed(g.at, "BlockGroup without a Block"));
        };
        self.emit_block(b, g.duration, !g.has_reference, g.at, &g.extents)
    }

    /// Index-only reading of the SimpleBlock whose header `h` is at the front of the buffer:
    /// emits its packets from the block's head alone where [`omit_frames`](Self::omit_frames)
    /// allows. `None`: read it in full instead.
    fn omit_payload(&mut self, h: Header, min: usize) -> Result<Option<Step>, RemuxError> {
        let at = self.buf_at;
        Ok(match self.omit_frames(h, min)? {
            Some((step, Some((b, extents)))) => {
                let keyframe = b.keyframe_flag;
                self.emit_block(b, None, keyframe, at, &extents)?;
                Some(step)
            }
            Some((step, None)) => Some(step),
            None => None,
        })
    }

    /// The head of the (Simple)Block whose header `h` is at the front of the buffer, when its
    /// frames may be left unread: the block (with empty frames) and each frame's input
    /// extent; the parser then skips the frames. `None`: read the block in full instead
    /// (stored encoded, text, laced Opus (its frame durations come from the frames), a
    /// track's first block, or anything unusual, which the full path then reports).
    /// `Some((NeedMore, None))`: the head has not arrived yet.
    #[allow(clippy::type_complexity)]
    fn omit_frames(
        &mut self,
        h: Header,
        min: usize,
    ) -> Result<Option<(Step, Option<(block::Block, Vec<Extent>)>)>, RemuxError> {
        let at = self.buf_at;
        let Some(size) = h
            .size
            .filter(|&s| s <= limits::MAX_BLOCK && s >= min as u64)
        else {
            return Ok(None);
        };
        let size = size as usize; // <= MAX_BLOCK
        let avail = (self.buf.len() - h.len).min(size);
        let head = match block::parse_head(&self.buf[h.len..h.len + avail], size, at + h.len as u64)
        {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(Some((Step::NeedMore, None))),
            Err(_) => return Ok(None),
        };
        let omittable = self
            .tracks
            .iter()
            .find(|t| t.number == head.track)
            .is_some_and(|t| {
                t.sizes_only && t.seen && t.decoder.is_some() && !(t.opus && head.lacing != 0)
            });
        if !omittable {
            return Ok(None);
        }
        let consumed = h.len + head.len;
        let mut offset = at + consumed as u64;
        let extents: Vec<Extent> = head
            .sizes
            .iter()
            .map(|&len| {
                let e = Extent { offset, len };
                offset += len as u64;
                e
            })
            .collect();
        let b = block::Block {
            track: head.track,
            rel_timestamp: head.rel_timestamp,
            keyframe_flag: head.keyframe_flag,
            frames: vec![Bytes::new(); extents.len()],
        };
        self.buf.advance(consumed);
        self.buf_at += consumed as u64;
        self.skip = (size - head.len) as u64;
        Ok(Some((Step::Continue, Some((b, extents)))))
    }

    /// Closes `open[i..]`; closing the Segment ends the stream (later data is ignored).
    fn close_from(&mut self, i: usize) -> Result<(), RemuxError> {
        if self.open[i..].iter().any(|o| o.id == ids::BLOCK_GROUP) {
            self.close_group()?;
        }
        let closes_segment = self.open[i..].iter().any(|o| o.id == ids::SEGMENT);
        if self.open[i..].iter().any(|o| o.id == ids::CLUSTER) {
            self.clusters_end = self.buf_at;
        }
        let only_group = self.open[i..].iter().all(|o| o.id == ids::BLOCK_GROUP);
        self.open.truncate(i);
        if !only_group {
            self.cluster_timestamp = None;
        }
        if closes_segment {
            self.end_segment()?;
        }
        Ok(())
    }

    fn end_segment(&mut self) -> Result<(), RemuxError> {
        if self.entries.is_none() {
            return Err(ebml::malformed(
                self.buf_at,
                "no Tracks element in the Segment",
            ));
        }
        self.send_tracks()?;
        if self.open.iter().any(|o| o.id == ids::CLUSTER) {
            self.clusters_end = self.buf_at;
        }
        self.open.clear();
        self.stage = Stage::Ended;
        Ok(())
    }

    fn parse_info(&mut self, body: &[u8], at: u64) -> Result<(), RemuxError> {
        if self.tracks_sent {
            return Ok(()); // Times are already fixed; a late Info cannot change them.
        }
        let mut scale = 1_000_000;
        for c in Children::new(body, at) {
            let c = c?;
            match c.id {
                ids::TIMESTAMP_SCALE => scale = ebml::uint(c.body, c.at)?,
                ids::DURATION => self.duration_units = Some(ebml::float(c.body, c.at)?),
                _ => {}
            }
        }
        if scale == 0 {
            return Err(ebml::malformed(at, "TimestampScale is 0"));
        }
        self.timebase = TimeBase::new(scale);
        self.info_seen = true;
        if self.entries.is_some() {
            self.send_tracks()?;
        }
        Ok(())
    }

    /// Queues the Tracks event (once). Fails if the Tracks element has not been seen.
    fn send_tracks(&mut self) -> Result<(), RemuxError> {
        if self.tracks_sent {
            return Ok(());
        }
        let Some(entries) = &self.entries else {
            return Err(ebml::malformed(
                self.buf_at,
                "Cluster before the Tracks element",
            ));
        };
        let mut model = Vec::with_capacity(entries.len());
        for e in entries {
            let Some(track) = codec::to_track(e, self.timebase) else {
                continue;
            };
            let decoder = Decoder::new(&e.encodings, SCOPE_FRAMES).ok();
            let stored_as_is = decoder.as_ref().is_some_and(Decoder::is_identity);
            self.tracks.push(TrackState {
                number: e.number,
                decoder,
                default_duration_ns: e.default_duration_ns,
                codec_delay: i64::try_from(track.codec_delay).unwrap_or(i64::MAX),
                opus: track.codec == crate::Codec::Opus,
                seek_pre_roll: self.timebase.ns_to_ticks(e.seek_pre_roll_ns),
                sizes_only: stored_as_is && !matches!(track.codec, crate::Codec::Text(_)),
                seen: false,
            });
            model.push(track);
        }
        self.tracks_sent = true;
        self.queue.push_back(MkvEvent::Tracks(model));
        Ok(())
    }

    /// Turns a block into packets, one per laced frame. `omitted`: for a block read
    /// index-only, each frame's input extent (its frames are then empty); else empty.
    fn emit_block(
        &mut self,
        b: block::Block,
        block_duration: Option<u64>,
        keyframe: bool,
        at: u64,
        omitted: &[Extent],
    ) -> Result<(), RemuxError> {
        let Some(ti) = self.tracks.iter().position(|t| t.number == b.track) else {
            return Ok(()); // A block for a track not in Tracks: ignored, as players do.
        };
        let track = &self.tracks[ti];
        let Some(decoder) = &track.decoder else {
            return Ok(());
        };
        let Some(cluster_ts) = self.cluster_timestamp else {
            return Err(ebml::malformed(at, "block before the Cluster Timestamp"));
        };
        let overflow = || ebml::malformed(at, "block timestamp overflows");
        let base = i64::try_from(cluster_ts)
            .ok()
            .and_then(|c| c.checked_add(i64::from(b.rel_timestamp)))
            .ok_or_else(overflow)?;
        // Start of each frame of a lace relative to the block, in Matroska units (n + 1
        // entries, the last one the end of the lace), or `None` when unknown.
        let offsets = lace_offsets(track, &b.frames, block_duration, self.timebase);
        let offset =
            |i: u64| -> Option<i64> { offsets.as_ref().and_then(|o| o.get(i as usize).copied()) };
        for (i, frame) in b.frames.into_iter().enumerate() {
            let omitted = omitted.get(i).copied();
            let i = i as u64;
            let start = offset(i).unwrap_or(0);
            let units = base.checked_add(start).ok_or_else(overflow)?;
            let pts = self
                .timebase
                .ticks(units)
                .and_then(|t| t.checked_sub(track.codec_delay))
                .ok_or_else(overflow)?;
            let duration = match (offset(i), offset(i + 1)) {
                (Some(a), Some(b)) => u64::try_from(b - a)
                    .ok()
                    .and_then(|d| d.checked_mul(self.timebase.per_unit)),
                _ => None,
            };
            let data = if decoder.is_identity() || omitted.is_some() {
                frame
            } else {
                decoder.decode(frame, at)?
            };
            if data.len() + omitted.map_or(0, |e| e.len) > limits::MAX_FRAME {
                return Err(RemuxError::TooLarge {
                    at,
                    what: "frame".into(),
                });
            }
            self.queue.push_back(MkvEvent::Packet(Packet {
                track: b.track,
                pts,
                dts: None,
                duration,
                keyframe,
                data,
                omitted,
                input_offset: self.cluster_at,
            }));
        }
        self.tracks[ti].seen = true;
        Ok(())
    }
}

/// Where each frame of a block starts, relative to the block, in Matroska units (one entry per
/// frame plus the end). The span of the lace is the BlockDuration, else DefaultDuration times
/// the frame count (rounded down to units, ffmpeg's rule), and is split evenly; an Opus lace
/// without either is spaced by each frame's duration from its TOC byte. Without any of these
/// (or for a single frame without BlockDuration) the answer is `None`.
fn lace_offsets(
    track: &TrackState,
    frames: &[Bytes],
    block_duration: Option<u64>,
    tb: TimeBase,
) -> Option<Vec<i64>> {
    let n = frames.len() as u64;
    let span = match block_duration {
        Some(d) => Some(d),
        None if n > 1 => track
            .default_duration_ns
            .and_then(|dd| dd.checked_mul(n))
            .map(|total| tb.ns_to_units_floor(total)),
        None => None,
    };
    if let Some(s) = span {
        return (0..=n)
            .map(|i| i64::try_from(u128::from(s) * u128::from(i) / u128::from(n)).ok())
            .collect();
    }
    if track.opus && n > 1 {
        let mut out = Vec::with_capacity(frames.len() + 1);
        let mut ns: u64 = 0;
        out.push(0);
        for f in frames {
            ns = ns.checked_add(opus_duration_ns(f)?)?;
            out.push(i64::try_from(tb.ns_to_units_floor(ns)).ok()?);
        }
        return Some(out);
    }
    None
}

/// Duration of an Opus packet from its TOC byte (RFC 6716, section 3.1), in nanoseconds.
fn opus_duration_ns(packet: &[u8]) -> Option<u64> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    // Frame length in units of 2.5 ms.
    let quarter_ms: u64 = match config {
        0..=11 => [4, 8, 16, 24][usize::from(config % 4)],
        12..=15 => [4, 8][usize::from(config % 2)],
        _ => [1, 2, 4, 8][usize::from(config % 4)],
    };
    let frames: u64 = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u64::from(*packet.get(1)? & 0x3F),
    };
    Some(quarter_ms * frames * 2_500_000)
}

/// An equivalent error, for repeating a failure on later polls.
fn replay(e: &RemuxError) -> RemuxError {
    match e {
        RemuxError::UnknownFormat => RemuxError::UnknownFormat,
        RemuxError::Malformed { at, what } => RemuxError::Malformed {
            at: *at,
            what: what.clone(),
        },
        RemuxError::Truncated { at } => RemuxError::Truncated { at: *at },
        RemuxError::TooLarge { at, what } => RemuxError::TooLarge {
            at: *at,
            what: what.clone(),
        },
        RemuxError::Unsupported(s) => RemuxError::Unsupported(s.clone()),
        // The parser makes no other errors.
        other => RemuxError::Unsupported(other.to_string()),
    }
}
