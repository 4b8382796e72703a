//! Matroska input for the file pipeline (placeholder until the streaming demuxer lands).

use std::fs::File;

use super::{Packet, RemuxError, Track};

/// A Matroska file being demuxed.
#[derive(Debug)]
pub struct MkvInput {
    _file: File,
}

impl MkvInput {
    /// Open and read up to the Tracks element.
    pub fn open(_file: File) -> Result<(MkvInput, Vec<Track>), RemuxError> {
        Err(RemuxError::Unsupported(
            "Matroska input (demuxer not merged yet)".into(),
        ))
    }

    /// The next packet.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, RemuxError> {
        Ok(None)
    }
}
