//! What every demuxer offers, and which one a file needs.
//!
//! [`Demuxer`] is the one interface of the Matroska ([`crate::mkv::MkvDemuxer`]) and MP4/MOV
//! ([`crate::mp4::demux::Mp4Demuxer`]) demuxers: the tracks, known once it is open, then the
//! packets in file order. [`detect`] picks the format from a file's first bytes.

use crate::{Packet, RemuxError, Track};

/// An open input: its tracks, then its packets.
pub trait Demuxer {
    /// The tracks of the input, as the container describes them (tracks MP4 output cannot
    /// carry are listed too, as [`crate::Codec::Unsupported`]).
    fn tracks(&self) -> &[Track];

    /// The next packet, `None` at the end of the input.
    fn next_packet(&mut self) -> Result<Option<Packet>, RemuxError>;
}

/// Container formats we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// EBML magic 1A 45 DF A3.
    Matroska,
    /// An ISO BMFF / QuickTime box first (ftyp, moov, mdat, wide, free, skip).
    Mp4,
}

/// Detect the format from the first bytes (at least 8 for MP4).
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        return Some(Format::Matroska);
    }
    match head.get(4..8) {
        Some(b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free" | b"skip") => Some(Format::Mp4),
        _ => None,
    }
}
