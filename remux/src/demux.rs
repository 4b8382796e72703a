//! What every demuxer offers, what it reads from, and which one a file needs.
//!
//! [`Demuxer`] is the one interface of the Matroska ([`crate::mkv::MkvDemuxer`]) and MP4/MOV
//! ([`crate::mp4::demux::Mp4Demuxer`]) demuxers: the tracks, known once it is open, then the
//! packets in file order. [`Source`] is the "read bytes at an offset" input of everything
//! that reads a file by parts (the MP4 demuxer, [`crate::info`], [`crate::segments`]);
//! [`SourceReader`] reads one as a stream. [`detect`] picks the format from a file's first
//! bytes.

use std::io::{Read, Seek, SeekFrom};

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

/// Random-access bytes: a file, a buffer, or a range reader over the network (which may block
/// in [`Source::read_at`] until the bytes are there).
pub trait Source {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Fills all of `buf` from `offset`, or fails (`UnexpectedEof` when the source ends
    /// before).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;

    /// True when the source is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<S: Source + ?Sized> Source for &S {
    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        (**self).read_at(offset, buf)
    }
}

impl Source for std::fs::File {
    fn len(&self) -> u64 {
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
}

impl Source for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let bytes = usize::try_from(offset)
            .ok()
            .and_then(|start| self.get(start..start.checked_add(buf.len())?))
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

impl Source for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.as_slice().read_at(offset, buf)
    }
}

/// A [`Source`] read as a stream (`Read + Seek`): every read is one positional read, and a
/// seek only moves a counter, so a reader that skips a payload pays nothing for it. Its length
/// is the source's when it was made.
#[derive(Debug)]
pub struct SourceReader<S> {
    source: S,
    pos: u64,
    len: u64,
}

impl<S: Source> SourceReader<S> {
    /// Reads `source` from its start.
    pub fn new(source: S) -> SourceReader<S> {
        let len = source.len();
        SourceReader {
            source,
            pos: 0,
            len,
        }
    }
}

impl<S: Source> Read for SourceReader<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        self.source.read_at(self.pos, &mut buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<S: Source> Seek for SourceReader<S> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_seeks_like_a_file() {
        let path = std::env::temp_dir().join(format!("tgmux-source-reader-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let mut f = SourceReader::new(std::fs::File::open(&path).unwrap());
        let mut b = [0u8; 3];
        f.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"012");
        assert_eq!(f.seek(SeekFrom::Current(4)).unwrap(), 7);
        assert_eq!(f.read(&mut b).unwrap(), 3);
        assert_eq!(&b, b"789");
        assert_eq!(f.read(&mut b).unwrap(), 0);
        assert_eq!(f.seek(SeekFrom::End(-2)).unwrap(), 8);
        assert!(f.seek(SeekFrom::Current(-9)).is_err());
        assert_eq!(f.seek(SeekFrom::Start(20)).unwrap(), 20);
        assert_eq!(f.read(&mut b).unwrap(), 0);
        std::fs::remove_file(&path).unwrap();
    }
}
