//! Matroska input for the file pipeline: the streaming demuxer over any reader, read in order
//! (or, for faststart's first pass, index-only over a seekable file).

use std::io::{Read, Seek};

use super::mkv::{demux_reader, index_reader, MkvEvent, MkvReader};
use super::{Packet, RemuxError, Track};

/// A Matroska file being demuxed.
pub struct MkvInput<R> {
    reader: MkvReader<R>,
}

impl<R> std::fmt::Debug for MkvInput<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MkvInput")
    }
}

impl<R: Read> MkvInput<R> {
    /// Open and read up to the Tracks element.
    pub fn open(file: R) -> Result<(MkvInput<R>, Vec<Track>), RemuxError> {
        Self::start(demux_reader(file))
    }

    fn start(mut reader: MkvReader<R>) -> Result<(MkvInput<R>, Vec<Track>), RemuxError> {
        loop {
            match reader.next() {
                Some(Ok(MkvEvent::Tracks(tracks))) => return Ok((MkvInput { reader }, tracks)),
                Some(Ok(MkvEvent::Packet(_))) => {}
                Some(Ok(MkvEvent::End)) | None => {
                    return Err(RemuxError::Malformed {
                        at: 0,
                        what: "Matroska without Tracks".into(),
                    })
                }
                Some(Err(e)) => return Err(e),
            }
        }
    }

    /// The next packet, `None` at the end of the file.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, RemuxError> {
        loop {
            match self.reader.next() {
                Some(Ok(MkvEvent::Packet(p))) => return Ok(Some(p)),
                Some(Ok(MkvEvent::Tracks(_))) => {}
                Some(Ok(MkvEvent::End)) | None => return Ok(None),
                Some(Err(e)) => return Err(e),
            }
        }
    }
}

impl<R: Read + Seek> MkvInput<R> {
    /// Open a seekable input leaving payloads of at least `min` bytes unread where it can
    /// (see [`index_reader`]): its packets may have `omitted` payloads.
    pub fn open_index(file: R, min: usize) -> Result<(MkvInput<R>, Vec<Track>), RemuxError> {
        Self::start(index_reader(file, min)?)
    }
}
