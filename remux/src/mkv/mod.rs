//! Streaming Matroska/WebM demuxer: reads any byte stream in order, never seeks.
//!
//! Sans-IO: [`MkvDemuxer::push`] input bytes as they arrive, [`MkvDemuxer::poll`] events out
//! ([`MkvEvent::Tracks`] once, then [`MkvEvent::Packet`]s, then [`MkvEvent::End`]);
//! `Ok(None)` means "need more bytes". [`MkvDemuxer::finish`] marks the end of input.
//! [`demux_reader`] wraps it around any `std::io::Read` for the CLI.
//!
//! Index-only reading ([`MkvDemuxer::index_only`], [`index_reader`]) is for a caller that
//! needs sizes and times, or copies payloads itself: plain SimpleBlock payloads are not
//! buffered but reported as input extents, and the demuxer tells the caller how far it may
//! jump ahead ([`MkvDemuxer::skip_ahead`]); over a seekable file the reader then seeks
//! instead of reading.
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

use std::io::{Read, Seek, SeekFrom};

pub use cues::CuePoint;
pub use demuxer::{MkvDemuxer, MkvEvent};

use super::RemuxError;

/// Size of the reads [`demux_reader`] makes.
const READ_CHUNK: usize = 64 * 1024;
/// Size of the first read after [`index_reader`] seeks: the next block header is usually
/// close (a few small audio blocks sit between two video frames). Reads double from there
/// back up to [`READ_CHUNK`] while nothing is skipped.
const READ_AFTER_SEEK: usize = 4 * 1024;

/// Demuxes a `Read` stream: an iterator of events ending after [`MkvEvent::End`] or the
/// first error.
pub fn demux_reader<R: Read>(reader: R) -> MkvReader<R> {
    MkvReader {
        reader,
        demuxer: MkvDemuxer::new(),
        chunk: vec![0; READ_CHUNK],
        read_size: READ_CHUNK,
        done: false,
        seek: None,
        pos: 0,
        len: 0,
    }
}

/// Demuxes a seekable input from its start leaving payloads of at least `min` bytes unread
/// where it can ([`MkvDemuxer::index_only`]): they are seeked over, so a file of large video
/// frames is read only around its block headers.
pub fn index_reader<R: Read + Seek>(mut reader: R, min: usize) -> std::io::Result<MkvReader<R>> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    Ok(MkvReader {
        reader,
        demuxer: MkvDemuxer::index_only(min),
        chunk: vec![0; READ_CHUNK],
        read_size: READ_CHUNK,
        done: false,
        seek: Some(seek_forward::<R>),
        pos: 0,
        len,
    })
}

fn seek_forward<R: Seek>(reader: &mut R, n: u64) -> std::io::Result<()> {
    let n = i64::try_from(n).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    reader.seek(SeekFrom::Current(n)).map(|_| ())
}

/// The iterator [`demux_reader`] and [`index_reader`] return.
pub struct MkvReader<R> {
    reader: R,
    demuxer: MkvDemuxer,
    chunk: Vec<u8>,
    /// Bytes asked for by the next read (at most `chunk.len()`).
    read_size: usize,
    done: bool,
    /// Moves the reader forward; `None` for streams.
    seek: Option<fn(&mut R, u64) -> std::io::Result<()>>,
    /// Reader position and input length, kept when `seek` is set: a seek never passes the
    /// end, so a payload cut short is still reported as truncation.
    pos: u64,
    len: u64,
}

impl<R> MkvReader<R> {
    /// The demuxer, e.g. for [`MkvDemuxer::cues`] after the end.
    pub fn demuxer(&self) -> &MkvDemuxer {
        &self.demuxer
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
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
            if let Some(seek) = self.seek {
                let n = self
                    .demuxer
                    .skip_ahead()
                    .min(self.len.saturating_sub(self.pos));
                if n > 0 {
                    if let Err(e) = seek(&mut self.reader, n) {
                        self.done = true;
                        return Some(Err(RemuxError::Io(e)));
                    }
                    self.pos += n;
                    self.demuxer.skipped(n);
                    self.read_size = READ_AFTER_SEEK;
                    continue;
                }
            }
            match self.reader.read(&mut self.chunk[..self.read_size]) {
                Ok(0) => self.demuxer.finish(),
                Ok(n) => {
                    self.pos += n as u64;
                    self.read_size = (self.read_size * 2).min(self.chunk.len());
                    self.demuxer.push(&self.chunk[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(RemuxError::Io(e)));
                }
            }
        }
    }
}
