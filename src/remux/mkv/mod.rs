//! Streaming Matroska/WebM demuxer: reads any byte stream in order, never seeks.
//!
//! Sans-IO: [`MkvDemuxer::push`] input bytes as they arrive, [`MkvDemuxer::poll`] events out
//! ([`MkvEvent::Tracks`] once, then [`MkvEvent::Packet`]s, then [`MkvEvent::End`]);
//! `Ok(None)` means "need more bytes". [`MkvDemuxer::finish`] marks the end of input.
//! [`demux_reader`] wraps it around any `std::io::Read` for the CLI.
//!
//! What it reads:
//! - the EBML header (DocType `matroska` or `webm`), variable-length ids and sizes;
//! - Segment and Cluster of unknown size (live files): an unknown-size Cluster ends where a
//!   Segment-level element starts, an unknown-size Segment at the end of input;
//! - Info (TimestampScale, Duration), Tracks (see [`codec`] for the mapping to the model),
//!   Cues (kept as a seek index, [`MkvDemuxer::cues`]); SeekHead, Tags, Chapters,
//!   Attachments, Void, CRC-32 and unknown elements are skipped without being buffered;
//! - SimpleBlock and BlockGroup (Block, BlockDuration, ReferenceBlock: a BlockGroup without
//!   ReferenceBlock is a keyframe), Xiph/EBML/fixed lacing, ContentEncoding zlib and header
//!   stripping.
//!
//! Times: see [`time`] (one exact timescale per file, 1000 ticks/s for the default
//! TimestampScale). Packets carry `pts` only (`dts: None`). A track's CodecDelay (Opus
//! pre-skip), rounded to ticks and also given as `Track::codec_delay`, is subtracted from its
//! packets' times, as ffmpeg does: the first Opus packet has pts `-codec_delay`, and the
//! decoded sample at time 0 is the first one to present. Laced frames get
//! `block time + floor(span * i / n)` where `span` is the BlockDuration, else
//! `floor(DefaultDuration * n / TimestampScale)`; without either, every frame of the lace
//! has the block's timestamp and no duration. A packet's `duration` is the BlockDuration
//! (or its share of the lace), else `None`; `Track::default_duration` carries
//! DefaultDuration rounded to ticks. `Packet::input_offset` is the offset of the Cluster
//! holding the block, a point a new demuxer can resume from given the Tracks.
//!
//! Memory: the demuxer buffers one element at a time (a block up to
//! [`limits::MAX_BLOCK`], or Info/Tracks/Cues), never a whole Cluster. Bad input gives
//! `UnknownFormat` (not EBML/Matroska), `Malformed`, `TooLarge` (beyond [`limits`]) or
//! `Truncated` (input ended inside an element), never a panic.

mod block;
pub mod codec;
mod cues;
mod demuxer;
mod ebml;
mod encoding;
mod ids;
pub mod limits;
pub mod time;
mod tracks;

use std::io::Read;

pub use cues::CuePoint;
pub use demuxer::{MkvDemuxer, MkvEvent};

use super::RemuxError;

/// Size of the reads [`demux_reader`] makes.
const READ_CHUNK: usize = 64 * 1024;

/// Demuxes a `Read` stream: an iterator of events ending after [`MkvEvent::End`] or the
/// first error.
pub fn demux_reader<R: Read>(reader: R) -> MkvReader<R> {
    MkvReader {
        reader,
        demuxer: MkvDemuxer::new(),
        chunk: vec![0; READ_CHUNK],
        done: false,
    }
}

/// The iterator [`demux_reader`] returns.
pub struct MkvReader<R> {
    reader: R,
    demuxer: MkvDemuxer,
    chunk: Vec<u8>,
    done: bool,
}

impl<R> MkvReader<R> {
    /// The demuxer, e.g. for [`MkvDemuxer::cues`] after the end.
    pub fn demuxer(&self) -> &MkvDemuxer {
        &self.demuxer
    }
}

impl<R: Read> Iterator for MkvReader<R> {
    type Item = Result<MkvEvent, RemuxError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            match self.demuxer.poll() {
                Ok(Some(ev)) => {
                    if ev == MkvEvent::End {
                        self.done = true;
                    }
                    return Some(Ok(ev));
                }
                Ok(None) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
            match self.reader.read(&mut self.chunk) {
                Ok(0) => self.demuxer.finish(),
                Ok(n) => self.demuxer.push(&self.chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(RemuxError::Io(e)));
                }
            }
        }
    }
}
