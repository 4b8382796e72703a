//! EBML primitives: variable-length ids and sizes, element headers, and readers for the value
//! types (unsigned/signed integers, floats, strings) of elements already held in memory.

use super::limits;
use crate::RemuxError;

/// An element header: id (with marker bits), body size (`None` = unknown size), header length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) id: u32,
    pub(crate) size: Option<u64>,
    pub(crate) len: usize,
}

/// Why a header could not be read from a byte slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// The slice ends before the header does.
    NeedMore,
    /// The bytes cannot start an element header.
    Invalid(&'static str),
}

/// Length in bytes of a vint from its first byte (1..=8), or `None` for 0x00.
fn vint_len(first: u8) -> Option<usize> {
    if first == 0 {
        None
    } else {
        Some(first.leading_zeros() as usize + 1)
    }
}

/// Reads an element id: 1..=4 bytes, marker bits kept.
pub(crate) fn read_id(buf: &[u8]) -> Result<(u32, usize), HeaderError> {
    let first = *buf.first().ok_or(HeaderError::NeedMore)?;
    let len = vint_len(first).ok_or(HeaderError::Invalid("element id starts with 0x00"))?;
    if len > limits::MAX_ID_LEN {
        return Err(HeaderError::Invalid("element id longer than 4 bytes"));
    }
    let bytes = buf.get(..len).ok_or(HeaderError::NeedMore)?;
    let id = bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    Ok((id, len))
}

/// Reads a vint as used for sizes and track numbers: marker bit stripped. Returns the value,
/// its length, and whether all value bits are ones (the "unknown size" marker).
pub(crate) fn read_vint(buf: &[u8]) -> Result<(u64, usize, bool), HeaderError> {
    let first = *buf.first().ok_or(HeaderError::NeedMore)?;
    let len = vint_len(first).ok_or(HeaderError::Invalid(
        "variable-size integer starts with 0x00",
    ))?;
    if len > limits::MAX_SIZE_LEN {
        return Err(HeaderError::Invalid(
            "variable-size integer longer than 8 bytes",
        ));
    }
    let bytes = buf.get(..len).ok_or(HeaderError::NeedMore)?;
    let mask: u64 = if len == 8 { 0 } else { 0xFF >> len };
    let mut value = u64::from(first) & mask;
    for &b in &bytes[1..] {
        value = (value << 8) | u64::from(b);
    }
    let all_ones = value == (1u64 << (7 * len)) - 1;
    Ok((value, len, all_ones))
}

/// Reads a whole element header (id then size).
pub(crate) fn read_header(buf: &[u8]) -> Result<Header, HeaderError> {
    let (id, id_len) = read_id(buf)?;
    let (size, size_len, unknown) = read_vint(&buf[id_len..])?;
    Ok(Header {
        id,
        size: if unknown { None } else { Some(size) },
        len: id_len + size_len,
    })
}

/// Big-endian unsigned integer of 0..=8 bytes.
pub(crate) fn uint(body: &[u8], at: u64) -> Result<u64, RemuxError> {
    if body.len() > 8 {
        return Err(malformed(
            at,
            "unsigned integer element longer than 8 bytes",
        ));
    }
    Ok(body.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// IEEE float of 0, 4 or 8 bytes.
pub(crate) fn float(body: &[u8], at: u64) -> Result<f64, RemuxError> {
    match body.len() {
        0 => Ok(0.0),
        4 => Ok(f64::from(f32::from_be_bytes([
            body[0], body[1], body[2], body[3],
        ]))),
        8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(body);
            Ok(f64::from_be_bytes(b))
        }
        _ => Err(malformed(at, "float element not 0, 4 or 8 bytes long")),
    }
}

/// A string element: trailing NULs dropped, invalid UTF-8 replaced, length capped.
pub(crate) fn string(body: &[u8]) -> String {
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    let body = &body[..end.min(limits::MAX_TEXT)];
    String::from_utf8_lossy(body).into_owned()
}

/// A `Malformed` error.
pub(crate) fn malformed(at: u64, what: &str) -> RemuxError {
    RemuxError::Malformed {
        at,
        what: what.to_string(),
    }
}

/// One child of an element held in memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Child<'a> {
    pub(crate) id: u32,
    /// Input offset of the child's header.
    pub(crate) at: u64,
    /// Input offset of the child's body.
    pub(crate) body_at: u64,
    pub(crate) body: &'a [u8],
}

/// Iterates over the children of a master element whose body is fully in memory. A child
/// that overruns its parent, or has unknown size, is an error (only Segment and Cluster may
/// have unknown sizes, and those are never buffered).
pub(crate) struct Children<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Children<'a> {
    /// Children of `body`, which starts at input offset `body_at`.
    pub(crate) fn new(body: &'a [u8], body_at: u64) -> Self {
        Children {
            data: body,
            pos: 0,
            base: body_at,
        }
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Child<'a>, RemuxError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.data.len() {
            return None;
        }
        let at = self.base.saturating_add(self.pos as u64);
        let rest = &self.data[self.pos..];
        let result = match read_header(rest) {
            Ok(h) => match h.size {
                None => Err(malformed(at, "unknown-size element inside a sized parent")),
                Some(size) => {
                    let end = (h.len as u64).checked_add(size);
                    match end {
                        Some(end) if end <= rest.len() as u64 => {
                            let end = end as usize;
                            self.pos += end;
                            Ok(Child {
                                id: h.id,
                                at,
                                body_at: at + h.len as u64,
                                body: &rest[h.len..end],
                            })
                        }
                        _ => Err(malformed(at, "child element overruns its parent")),
                    }
                }
            },
            Err(HeaderError::NeedMore) => Err(malformed(at, "element header overruns its parent")),
            Err(HeaderError::Invalid(what)) => Err(malformed(at, what)),
        };
        if result.is_err() {
            // Stop after the first error.
            self.pos = self.data.len();
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints() {
        assert_eq!(read_vint(&[0x81]).unwrap(), (1, 1, false));
        assert_eq!(read_vint(&[0x40, 0x02]).unwrap(), (2, 2, false));
        assert_eq!(read_vint(&[0xFF]).unwrap(), (127, 1, true));
        assert_eq!(
            read_vint(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).unwrap(),
            ((1u64 << 56) - 1, 8, true)
        );
        assert_eq!(read_vint(&[0x01, 0, 0]), Err(HeaderError::NeedMore));
        assert!(matches!(read_vint(&[0x00]), Err(HeaderError::Invalid(_))));
    }

    #[test]
    fn ids_and_headers() {
        let h = read_header(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F]).unwrap();
        assert_eq!(
            h,
            Header {
                id: 0x1A45_DFA3,
                size: Some(31),
                len: 5
            }
        );
        let h = read_header(&[
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ])
        .unwrap();
        assert_eq!(h.size, None);
        assert!(matches!(
            read_id(&[0x08, 0, 0, 0, 0]),
            Err(HeaderError::Invalid(_))
        ));
    }

    #[test]
    fn values() {
        assert_eq!(uint(&[], 0).unwrap(), 0);
        assert!(uint(&[0; 9], 0).is_err());
        assert_eq!(float(&0.5f32.to_be_bytes(), 0).unwrap(), 0.5);
        assert_eq!(float(&48000.0f64.to_be_bytes(), 0).unwrap(), 48000.0);
        assert!(float(&[1, 2, 3], 0).is_err());
        assert_eq!(string(b"eng\0\0"), "eng");
    }
}
