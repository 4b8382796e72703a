//! `upload.getFile` part rules (core.telegram.org/api/files) and positional reads.
//!
//! - Without `precise`: offset % 4096 == 0, limit % 4096 == 0 and 1048576 % limit == 0.
//! - With `precise`: offset % 1024 == 0, limit % 1024 == 0 and limit <= 1048576.
//! - Always: the part stays inside one 1 MiB block, offset / 2^20 == (offset + limit − 1) / 2^20.
//!
//! A bad offset is `OFFSET_INVALID`, a bad limit (or a part crossing a block) `LIMIT_INVALID`.
//! A part starting at or past the end of the file is empty; one reaching past it is short.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use bytes::{Bytes, BytesMut};

use super::error::ApiError;

/// One MiB: the block size parts may not cross, and the largest part.
pub(super) const BLOCK: i64 = 1 << 20;

/// A validated part: where to read and at most how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Part {
    /// Byte offset in the file.
    pub offset: u64,
    /// Requested length (1..=1 MiB).
    pub limit: u32,
}

impl Part {
    /// The number of bytes this part holds in a file of `size` bytes (short at EOF).
    pub(super) fn len_in(&self, size: u64) -> usize {
        size.saturating_sub(self.offset).min(u64::from(self.limit)) as usize
    }
}

/// Checks `offset`/`limit`/`precise` of an `upload.getFile` (or `upload.getCdnFile`) request.
pub(super) fn check_part(offset: i64, limit: i32, precise: bool) -> Result<Part, ApiError> {
    if offset < 0 {
        return Err(ApiError::offset_invalid());
    }
    let limit64 = i64::from(limit);
    if limit <= 0 || limit64 > BLOCK {
        return Err(ApiError::limit_invalid());
    }
    if precise {
        if offset % 1024 != 0 {
            return Err(ApiError::offset_invalid());
        }
        if limit64 % 1024 != 0 {
            return Err(ApiError::limit_invalid());
        }
    } else {
        if offset % 4096 != 0 {
            return Err(ApiError::offset_invalid());
        }
        if limit64 % 4096 != 0 || BLOCK % limit64 != 0 {
            return Err(ApiError::limit_invalid());
        }
    }
    // offset >= 0 and limit <= 2^20, so offset + limit - 1 cannot overflow unless offset is
    // within 2^20 of i64::MAX; checked_add keeps that case an error instead of a wrap.
    let last = offset
        .checked_add(limit64 - 1)
        .ok_or_else(ApiError::offset_invalid)?;
    if offset / BLOCK != last / BLOCK {
        return Err(ApiError::limit_invalid());
    }
    Ok(Part {
        offset: offset as u64,
        limit: limit as u32,
    })
}

/// Reads `part` of `file` (of `size` bytes) with positional reads (no seek, so one open file
/// can serve parallel requests; data comes from the page cache). Short at EOF.
pub(super) fn read_part(file: &File, size: u64, part: Part) -> io::Result<Bytes> {
    let n = part.len_in(size);
    let mut buf = BytesMut::zeroed(n);
    read_exact_at(file, &mut buf, part.offset)?;
    Ok(buf.freeze())
}

/// Fills `buf` from `offset`; a file that shrank underneath us is an `UnexpectedEof` error.
pub(super) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match file.read_at(buf, offset) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shrank while serving it",
                ))
            }
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(r: Result<Part, ApiError>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(e) => e.message,
        }
    }

    #[test]
    fn rules_without_precise() {
        assert_eq!(
            check_part(0, 1 << 20, false),
            Ok(Part {
                offset: 0,
                limit: 1 << 20
            })
        );
        assert_eq!(msg(check_part(1 << 20, 1 << 20, false)), "ok");
        assert_eq!(msg(check_part(4096, 4096, false)), "ok");
        assert_eq!(msg(check_part(131072 * 3, 131072, false)), "ok");
        assert_eq!(msg(check_part(1024, 4096, false)), "OFFSET_INVALID");
        assert_eq!(msg(check_part(-4096, 4096, false)), "OFFSET_INVALID");
        assert_eq!(msg(check_part(0, 1024, false)), "LIMIT_INVALID");
        assert_eq!(msg(check_part(0, 12288, false)), "LIMIT_INVALID"); // 3 × 4 KiB does not divide 1 MiB
        assert_eq!(msg(check_part(0, 0, false)), "LIMIT_INVALID");
        assert_eq!(msg(check_part(0, -4096, false)), "LIMIT_INVALID");
        assert_eq!(msg(check_part(0, 2 << 20, false)), "LIMIT_INVALID");
        // Crossing a 1 MiB boundary.
        assert_eq!(msg(check_part(4096, 1 << 20, false)), "LIMIT_INVALID");
        assert_eq!(
            msg(check_part((1 << 20) - 4096, 8192, false)),
            "LIMIT_INVALID"
        );
        assert_eq!(msg(check_part(i64::MAX - 4095, 4096, false)), "ok"); // past any file: an empty answer
        assert_eq!(
            msg(check_part(i64::MAX - 4095, 8192, false)),
            "OFFSET_INVALID"
        );
    }

    #[test]
    fn rules_with_precise() {
        assert_eq!(msg(check_part(1024, 1024, true)), "ok");
        assert_eq!(msg(check_part(3072, 5120, true)), "ok"); // 5 KiB does not divide 1 MiB: fine when precise
        assert_eq!(msg(check_part(0, 1 << 20, true)), "ok");
        assert_eq!(msg(check_part(512, 1024, true)), "OFFSET_INVALID");
        assert_eq!(msg(check_part(0, 1000, true)), "LIMIT_INVALID");
        assert_eq!(msg(check_part(0, (1 << 20) + 1024, true)), "LIMIT_INVALID");
        assert_eq!(
            msg(check_part((1 << 20) - 1024, 2048, true)),
            "LIMIT_INVALID"
        );
    }

    #[test]
    fn reads_are_short_at_eof() {
        let path = std::env::temp_dir().join(format!("tgmux-getfile-{}", std::process::id()));
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let f = File::open(&path).unwrap();
        let size = data.len() as u64;
        let p = check_part(4096, 4096, false).unwrap();
        assert_eq!(&read_part(&f, size, p).unwrap()[..], &data[4096..8192]);
        let p = check_part(8192, 4096, false).unwrap();
        assert_eq!(&read_part(&f, size, p).unwrap()[..], &data[8192..]);
        let p = check_part(12288, 4096, false).unwrap();
        assert!(read_part(&f, size, p).unwrap().is_empty());
        // The file shrank below the size we knew: an error, not garbage.
        assert!(read_part(&f, 20_000, check_part(8192, 8192, false).unwrap()).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
