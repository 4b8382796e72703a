//! [`MkvDemuxer`]: the parser driven by reads from a `std::io::Read` (and, reading
//! index-only, by seeks over what it skips).

use std::io::{Read, Seek, SeekFrom};

use super::parser::{MkvEvent, MkvParser};
use crate::{Demuxer, Packet, RemuxError, Track};

/// Size of the reads the demuxer makes.
const READ_CHUNK: usize = 64 * 1024;
/// Size of the first read after an index-only demuxer seeks: the next block header is usually
/// close (a few small audio blocks sit between two video frames). Reads double from there
/// back up to [`READ_CHUNK`] while nothing is skipped.
const READ_AFTER_SEEK: usize = 4 * 1024;

/// A Matroska/WebM input read from `R`: open reads up to the Tracks element, then
/// [`Demuxer::next_packet`] reads on as packets are asked for.
pub struct MkvDemuxer<R> {
    reader: R,
    parser: MkvParser,
    tracks: Vec<Track>,
    chunk: Vec<u8>,
    /// Bytes asked for by the next read (at most `chunk.len()`).
    read_size: usize,
    /// Moves the reader forward; `None` for streams.
    seek: Option<fn(&mut R, u64) -> std::io::Result<()>>,
    /// Reader position and input length, kept when `seek` is set: a seek never passes the
    /// end, so a payload cut short is still reported as truncation.
    pos: u64,
    len: u64,
    /// The parser has returned [`MkvEvent::End`].
    ended: bool,
}

impl<R> std::fmt::Debug for MkvDemuxer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MkvDemuxer")
            .field("tracks", &self.tracks)
            .field("position", &self.parser.position())
            .finish()
    }
}

impl<R: Read> MkvDemuxer<R> {
    /// Open a stream, read in order (pipes work), every payload read.
    pub fn open(reader: R) -> Result<MkvDemuxer<R>, RemuxError> {
        Self::start(reader, MkvParser::new(), None, 0)
    }

    fn start(
        reader: R,
        parser: MkvParser,
        seek: Option<fn(&mut R, u64) -> std::io::Result<()>>,
        len: u64,
    ) -> Result<MkvDemuxer<R>, RemuxError> {
        let mut d = MkvDemuxer {
            reader,
            parser,
            tracks: Vec::new(),
            chunk: vec![0; READ_CHUNK],
            read_size: READ_CHUNK,
            seek,
            pos: 0,
            len,
            ended: false,
        };
        loop {
            match d.next_event()? {
                Some(MkvEvent::Tracks(tracks)) => {
                    d.tracks = tracks;
                    return Ok(d);
                }
                Some(MkvEvent::Packet(_)) => {}
                Some(MkvEvent::End) | None => {
                    return Err(RemuxError::Malformed {
                        at: 0,
                        what: "Matroska without Tracks".into(),
                    })
                }
            }
        }
    }

    /// The next event of the parser, reading (or seeking) as it asks; `None` after
    /// [`MkvEvent::End`].
    fn next_event(&mut self) -> Result<Option<MkvEvent>, RemuxError> {
        if self.ended {
            return Ok(None);
        }
        loop {
            if let Some(ev) = self.parser.poll()? {
                self.ended = ev == MkvEvent::End;
                return Ok(Some(ev));
            }
            if let Some(seek) = self.seek {
                let n = self
                    .parser
                    .skip_ahead()
                    .min(self.len.saturating_sub(self.pos));
                if n > 0 {
                    seek(&mut self.reader, n)?;
                    self.pos += n;
                    self.parser.skipped(n);
                    self.read_size = READ_AFTER_SEEK;
                    continue;
                }
            }
            match self.reader.read(&mut self.chunk[..self.read_size]) {
                Ok(0) => self.parser.finish(),
                Ok(n) => {
                    self.pos += n as u64;
                    self.read_size = (self.read_size * 2).min(self.chunk.len());
                    self.parser.push(&self.chunk[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The parser, e.g. for [`MkvParser::cues`] or [`MkvParser::duration`].
    pub fn parser(&self) -> &MkvParser {
        &self.parser
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }
}

impl<R: Read + Seek> MkvDemuxer<R> {
    /// Open a seekable input from its start, leaving payloads of at least `min` bytes unread
    /// where it can ([`MkvParser::index_only`]): they are seeked over, so a file of large
    /// video frames is read only around its block headers. Its packets may have `omitted`
    /// payloads.
    pub fn index_only(mut reader: R, min: usize) -> Result<MkvDemuxer<R>, RemuxError> {
        let len = reader.seek(SeekFrom::End(0))?;
        reader.seek(SeekFrom::Start(0))?;
        Self::start(
            reader,
            MkvParser::index_only(min),
            Some(seek_forward::<R>),
            len,
        )
    }
}

fn seek_forward<R: Seek>(reader: &mut R, n: u64) -> std::io::Result<()> {
    let n = i64::try_from(n).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    reader.seek(SeekFrom::Current(n)).map(|_| ())
}

impl<R: Read> Demuxer for MkvDemuxer<R> {
    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<Packet>, RemuxError> {
        loop {
            match self.next_event()? {
                Some(MkvEvent::Packet(p)) => return Ok(Some(p)),
                Some(MkvEvent::Tracks(_)) => {}
                Some(MkvEvent::End) | None => return Ok(None),
            }
        }
    }
}
