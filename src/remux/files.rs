//! File helpers of the pipeline: positional reads for the index-only Matroska reader, and
//! file-to-file copies of payloads for faststart's second pass. Both exist to save system
//! calls: the reader jumps over thousands of payloads, and the copies keep payload bytes in
//! the kernel.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

use rustix::io::Errno;

/// A file read with positional reads (`pread`): seeking only moves a counter, so a reader
/// that skips a payload pays no system call for it.
#[derive(Debug)]
pub struct PosFile {
    file: File,
    pos: u64,
    len: u64,
}

impl PosFile {
    /// Read `file` from its start; `len` is its length now.
    pub fn new(file: File) -> std::io::Result<PosFile> {
        let len = file.metadata()?.len();
        Ok(PosFile { file, pos: 0, len })
    }
}

impl Read for PosFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for PosFile {
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

/// Appends `len` bytes of `src` from `offset` to `out` (after flushing it), copied inside the
/// kernel by `copy_file_range` with an explicit input offset: one system call per payload,
/// no seek. Where the kernel cannot copy between these two files (another filesystem, an old
/// kernel) it falls back to `std::io::copy`. Returns the bytes copied, fewer than `len` only
/// if `src` ends first.
pub fn copy_range(
    src: &File,
    offset: u64,
    len: u64,
    out: &mut std::io::BufWriter<File>,
) -> std::io::Result<u64> {
    out.flush()?;
    let mut off = offset;
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(usize::MAX);
        match rustix::fs::copy_file_range(src, Some(&mut off), out.get_ref(), None, want) {
            Ok(0) => break,
            Ok(n) => left -= n as u64,
            Err(Errno::INTR) => {}
            Err(Errno::XDEV | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::PERM) => {
                return Ok(len - left + copy_fallback(src, off, left, out)?);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(len - left)
}

/// [`copy_range`] without `copy_file_range`.
fn copy_fallback(
    src: &File,
    offset: u64,
    len: u64,
    out: &mut std::io::BufWriter<File>,
) -> std::io::Result<u64> {
    let mut src = src;
    src.seek(SeekFrom::Start(offset))?;
    std::io::copy(&mut src.take(len), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_ranges_with_and_without_the_kernel() {
        let dir = std::env::temp_dir();
        let id = std::process::id();
        let (a, b) = (
            dir.join(format!("tgmux-copy-in-{id}")),
            dir.join(format!("tgmux-copy-out-{id}")),
        );
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&a, &data).unwrap();
        let src = File::open(&a).unwrap();
        let mut out = std::io::BufWriter::new(File::create(&b).unwrap());
        out.write_all(b"head").unwrap();
        assert_eq!(copy_range(&src, 5, 100_000, &mut out).unwrap(), 100_000);
        out.write_all(b"mid").unwrap();
        assert_eq!(copy_fallback(&src, 7, 10, &mut out).unwrap(), 10);
        // Past the end: only what is there.
        assert_eq!(copy_range(&src, 199_990, 100, &mut out).unwrap(), 10);
        out.flush().unwrap();
        let mut want = b"head".to_vec();
        want.extend_from_slice(&data[5..100_005]);
        want.extend_from_slice(b"mid");
        want.extend_from_slice(&data[7..17]);
        want.extend_from_slice(&data[199_990..]);
        assert!(std::fs::read(&b).unwrap() == want);
        std::fs::remove_file(&a).unwrap();
        std::fs::remove_file(&b).unwrap();
    }

    #[test]
    fn reads_and_seeks_like_a_file() {
        let path = std::env::temp_dir().join(format!("tgmux-posfile-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let mut f = PosFile::new(File::open(&path).unwrap()).unwrap();
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
