//! Box headers: 32-bit size, 64-bit size (size 1), size 0 (to the end), and child iteration
//! over a box body held in memory. A child never reads past its parent.

use crate::RemuxError;

/// One box inside a parent held in memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoxRef<'a> {
    /// Four-character type.
    pub(crate) fourcc: [u8; 4],
    /// The body (after the header).
    pub(crate) body: &'a [u8],
    /// File offset of the body (for error messages).
    pub(crate) at: u64,
}

/// Parse a box header from `data` (at least 8 bytes, 16 for size 1): (fourcc, header length,
/// total size or `None` for "to the end").
pub(crate) fn parse_header(
    data: &[u8],
    at: u64,
) -> Result<([u8; 4], usize, Option<u64>), RemuxError> {
    if data.len() < 8 {
        return Err(RemuxError::Truncated { at });
    }
    let size = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let fourcc = [data[4], data[5], data[6], data[7]];
    match size {
        0 => Ok((fourcc, 8, None)),
        1 => {
            let large = data.get(8..16).ok_or(RemuxError::Truncated { at })?;
            let size = u64::from_be_bytes(large.try_into().unwrap_or([0; 8]));
            if size < 16 {
                return Err(RemuxError::Malformed {
                    at,
                    what: "64-bit box size below 16".into(),
                });
            }
            Ok((fourcc, 16, Some(size)))
        }
        2..=7 => Err(RemuxError::Malformed {
            at,
            what: format!("box size {size} below 8"),
        }),
        n => Ok((fourcc, 8, Some(u64::from(n)))),
    }
}

/// The children of a box body held in memory (`at` = file offset of `data`).
pub(crate) fn children(data: &[u8], at: u64) -> Children<'_> {
    Children { data, pos: 0, at }
}

/// Iterator over child boxes; yields an error once and stops on a malformed child.
#[derive(Debug)]
pub(crate) struct Children<'a> {
    data: &'a [u8],
    pos: usize,
    at: u64,
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<BoxRef<'a>, RemuxError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.data[self.pos..];
        if rest.len() < 8 {
            // QuickTime pads some containers with a 4-byte zero terminator.
            return None;
        }
        let at = self.at + self.pos as u64;
        let (fourcc, head, size) = match parse_header(rest, at) {
            Ok(h) => h,
            Err(e) => {
                self.pos = self.data.len();
                return Some(Err(e));
            }
        };
        let size = match size {
            None => rest.len(),
            Some(s) if s <= rest.len() as u64 => s as usize,
            Some(_) => {
                self.pos = self.data.len();
                return Some(Err(RemuxError::Truncated { at }));
            }
        };
        self.pos += size;
        Some(Ok(BoxRef {
            fourcc,
            body: &rest[head..size],
            at: at + head as u64,
        }))
    }
}

/// The first child of type `fourcc`, if any (errors in siblings are skipped).
pub(crate) fn find<'a>(data: &'a [u8], at: u64, fourcc: &[u8; 4]) -> Option<BoxRef<'a>> {
    children(data, at)
        .filter_map(Result::ok)
        .find(|b| &b.fourcc == fourcc)
}

/// A bounds-checked big-endian field reader over a box body.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
    at: u64,
}

impl<'a> Fields<'a> {
    /// Read `data`, whose first byte is at file offset `at`.
    pub(crate) fn new(data: &'a [u8], at: u64) -> Fields<'a> {
        Fields { data, pos: 0, at }
    }
    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], RemuxError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(RemuxError::Truncated {
                at: self.at + self.pos as u64,
            }),
        }
    }
    /// u8.
    pub(crate) fn u8(&mut self) -> Result<u8, RemuxError> {
        Ok(self.bytes(1)?[0])
    }
    /// Big-endian u16.
    pub(crate) fn u16(&mut self) -> Result<u16, RemuxError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    /// Big-endian u32.
    pub(crate) fn u32(&mut self) -> Result<u32, RemuxError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// Big-endian u64.
    pub(crate) fn u64(&mut self) -> Result<u64, RemuxError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
}
