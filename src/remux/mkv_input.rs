//! Matroska input for the file pipeline: the streaming demuxer over any reader, read in order.

use std::io::Read;

use super::mkv::{demux_reader, MkvEvent, MkvReader};
use super::{Packet, RemuxError, Track};

/// A Matroska file being demuxed.
pub struct MkvInput {
    reader: MkvReader<Box<dyn Read>>,
}

impl std::fmt::Debug for MkvInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MkvInput")
    }
}

impl MkvInput {
    /// Open and read up to the Tracks element.
    pub fn open(file: Box<dyn Read>) -> Result<(MkvInput, Vec<Track>), RemuxError> {
        let mut reader = demux_reader(file);
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
