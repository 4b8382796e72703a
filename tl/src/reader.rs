//! The bounded reader every TL decoder reads from.

use bytes::Bytes;

use crate::{DecodeError, Deserializable};

/// How deeply constructors may nest inside one decoded object.
///
/// Legitimate layer-227 objects nest a dozen levels or so (a message, its media, a document,
/// its attributes; rich text in an instant view a few more); a hostile peer can nest
/// `jsonArray` or `inputPeerUserFromMessage` thousands deep in a 1 MiB body, and the generated
/// decoders recurse once per level. 64 levels keep the deepest decode within a few hundred KiB
/// of stack (a 2 MiB thread stack is the smallest we run decoders on).
pub const MAX_DEPTH: u32 = 64;

/// A cursor over a [`Bytes`] buffer that never reads past its end.
///
/// Every read checks the remaining length first and returns [`DecodeError::Truncated`] (or
/// [`DecodeError::LengthBeyondInput`] for a declared length) instead of panicking. Byte strings
/// come out as [`Bytes::slice`]s of the buffer: zero-copy. Each constructor decoded counts one
/// level of a depth budget ([`MAX_DEPTH`]); past it decoding stops with [`DecodeError::TooDeep`]
/// instead of overflowing the stack.
#[derive(Debug, Clone)]
pub struct Reader {
    buf: Bytes,
    pos: usize,
    depth: u32,
}

impl Reader {
    /// A reader at the start of `buf`.
    pub fn new(buf: impl Into<Bytes>) -> Self {
        Reader {
            buf: buf.into(),
            pos: 0,
            depth: 0,
        }
    }

    /// Runs `f` one nesting level deeper: [`DecodeError::TooDeep`] when that would pass
    /// [`MAX_DEPTH`]. Every generated `deserialize_bare` goes through here, so every
    /// constructor of the schema is bounded.
    #[inline]
    pub fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(DecodeError::TooDeep { limit: MAX_DEPTH });
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Succeed only if everything was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }

    /// Succeed only if the input is exactly `n` bytes long (used for fixed-size objects).
    pub fn finish_after(&self, n: usize) -> Result<(), DecodeError> {
        match self.buf.len().cmp(&n) {
            std::cmp::Ordering::Less => Err(DecodeError::Truncated),
            std::cmp::Ordering::Equal => Ok(()),
            std::cmp::Ordering::Greater => Err(DecodeError::TrailingBytes),
        }
    }

    /// The next `N` bytes as an array.
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let end = self
            .pos
            .checked_add(N)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DecodeError::Truncated)?;
        let mut a = [0u8; N];
        a.copy_from_slice(&self.buf[self.pos..end]);
        self.pos = end;
        Ok(a)
    }

    /// A little-endian u32 (constructor ids, flags).
    pub fn read_u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.read_array()?))
    }

    /// A little-endian i32.
    pub fn read_i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.read_array()?))
    }

    /// A little-endian i64.
    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.read_array()?))
    }

    /// The next u32 without consuming it.
    pub fn peek_u32(&self) -> Result<u32, DecodeError> {
        self.clone().read_u32()
    }

    /// The next `n` raw bytes, zero-copy.
    pub fn read_bytes(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated);
        }
        let b = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(b)
    }

    /// Everything left, zero-copy.
    pub fn read_rest(&mut self) -> Bytes {
        let b = self.buf.slice(self.pos..);
        self.pos = self.buf.len();
        b
    }

    /// A TL `bytes`/`string` (length prefix, data, padding to 4), zero-copy.
    pub fn read_tl_bytes(&mut self) -> Result<Bytes, DecodeError> {
        let first = self.read_array::<1>()?[0];
        let (head, len) = if first < 254 {
            (1, first as usize)
        } else if first == 254 {
            let l = self.read_array::<3>()?;
            (4, u32::from_le_bytes([l[0], l[1], l[2], 0]) as usize)
        } else {
            return Err(DecodeError::LengthBeyondInput);
        };
        let pad = (4 - (head + len) % 4) % 4;
        if len
            .checked_add(pad)
            .is_none_or(|total| total > self.remaining())
        {
            return Err(DecodeError::LengthBeyondInput);
        }
        let data = self.read_bytes(len)?;
        self.pos += pad;
        Ok(data)
    }

    /// Read a constructor id and check it.
    pub fn expect_id(&mut self, id: u32, expected: &'static str) -> Result<(), DecodeError> {
        let got = self.read_u32()?;
        if got == id {
            Ok(())
        } else {
            Err(DecodeError::UnexpectedConstructor { id: got, expected })
        }
    }

    /// A vector element count: non-negative and no larger than the bytes left.
    pub fn read_len(&mut self) -> Result<usize, DecodeError> {
        let n = self.read_i32()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(DecodeError::LengthBeyondInput),
        }
    }

    /// Read any [`Deserializable`] value.
    pub fn read<T: Deserializable>(&mut self) -> Result<T, DecodeError> {
        T::deserialize(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(vec![1, 0, 0]);
        assert_eq!(r.read_u32(), Err(DecodeError::Truncated));
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.read_bytes(4), Err(DecodeError::Truncated));
        assert_eq!(r.read_bytes(3).unwrap().as_ref(), &[1, 0, 0]);
        assert!(r.finish().is_ok());
    }

    #[test]
    fn tl_bytes_short_and_long_forms() {
        let mut out = Vec::new();
        crate::write_tl_bytes(b"abc", &mut out);
        assert_eq!(out, [3, b'a', b'b', b'c']);
        let long = vec![7u8; 300];
        let mut out2 = Vec::new();
        crate::write_tl_bytes(&long, &mut out2);
        assert_eq!(&out2[..4], &[0xfe, 0x2c, 0x01, 0x00]);
        assert_eq!(out2.len(), 304);
        let mut r = Reader::new(out2);
        assert_eq!(r.read_tl_bytes().unwrap().as_ref(), &long[..]);
        assert!(r.is_empty());
    }

    #[test]
    fn declared_lengths_beyond_the_input_are_rejected() {
        assert_eq!(
            Reader::new(vec![10, 1, 2, 3]).read_tl_bytes(),
            Err(DecodeError::LengthBeyondInput)
        );
        assert_eq!(
            Reader::new(vec![0xfe, 0xff, 0xff, 0xff]).read_tl_bytes(),
            Err(DecodeError::LengthBeyondInput)
        );
        assert_eq!(
            Reader::new(vec![0xff, 0, 0, 0]).read_tl_bytes(),
            Err(DecodeError::LengthBeyondInput)
        );
        assert_eq!(
            Reader::new((-1i32).to_le_bytes().to_vec()).read_len(),
            Err(DecodeError::LengthBeyondInput)
        );
        assert_eq!(
            Reader::new(1000i32.to_le_bytes().to_vec()).read_len(),
            Err(DecodeError::LengthBeyondInput)
        );
    }

    #[test]
    fn nesting_past_the_budget_is_an_error() {
        fn dive(r: &mut Reader, levels: u32) -> Result<u32, DecodeError> {
            if levels == 0 {
                return Ok(r.depth);
            }
            r.nested(|r| dive(r, levels - 1))
        }
        let mut r = Reader::new(Vec::new());
        assert_eq!(dive(&mut r, MAX_DEPTH), Ok(MAX_DEPTH));
        assert_eq!(r.depth, 0, "the level is given back on the way out");
        assert_eq!(
            dive(&mut r, MAX_DEPTH + 1),
            Err(DecodeError::TooDeep { limit: MAX_DEPTH })
        );
        assert_eq!(r.depth, 0, "and on the way out of an error");
    }

    #[test]
    fn read_tl_bytes_is_zero_copy() {
        let mut buf = vec![8u8];
        buf.extend_from_slice(&[9; 8]);
        buf.extend_from_slice(&[0; 3]);
        let whole = Bytes::from(buf);
        let mut r = Reader::new(whole.clone());
        let b = r.read_tl_bytes().unwrap();
        assert_eq!(b.as_ptr(), whole[1..].as_ptr());
    }
}
