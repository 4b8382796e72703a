//! A growable byte buffer that writes ISO BMFF boxes: `begin` a box, write its body, `end` it
//! and the size is patched in. Boxes nest; sizes are 32-bit (moov and fragments stay small).

/// Big-endian writer for box headers and fields.
#[derive(Debug, Default, Clone)]
pub(crate) struct BoxBuf {
    /// The bytes written so far.
    pub(crate) bytes: Vec<u8>,
}

/// Position of an open box, returned by [`BoxBuf::begin`] and consumed by [`BoxBuf::end`].
#[must_use = "every begun box must be ended"]
#[derive(Debug)]
pub(crate) struct Open(usize);

impl BoxBuf {
    /// An empty buffer.
    pub(crate) fn new() -> BoxBuf {
        BoxBuf { bytes: Vec::new() }
    }

    /// Start a box of type `fourcc` (size patched by [`BoxBuf::end`]).
    pub(crate) fn begin(&mut self, fourcc: &[u8; 4]) -> Open {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(&[0, 0, 0, 0]);
        self.bytes.extend_from_slice(fourcc);
        Open(at)
    }

    /// Start a full box (version and 24-bit flags after the header).
    pub(crate) fn begin_full(&mut self, fourcc: &[u8; 4], version: u8, flags: u32) -> Open {
        let open = self.begin(fourcc);
        self.u32(u32::from(version) << 24 | (flags & 0x00ff_ffff));
        open
    }

    /// Close a box: write its size into its header.
    pub(crate) fn end(&mut self, open: Open) {
        let size = (self.bytes.len() - open.0) as u32;
        self.bytes[open.0..open.0 + 4].copy_from_slice(&size.to_be_bytes());
    }

    /// One byte.
    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    /// Big-endian u16.
    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian u32.
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian i32.
    pub(crate) fn i32(&mut self, v: i32) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian u64.
    pub(crate) fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    /// Raw bytes.
    pub(crate) fn put(&mut self, v: &[u8]) {
        self.bytes.extend_from_slice(v);
    }
    /// `n` zero bytes.
    pub(crate) fn zeros(&mut self, n: usize) {
        self.bytes.resize(self.bytes.len() + n, 0);
    }
    /// The unity transformation matrix of mvhd/tkhd.
    pub(crate) fn unity_matrix(&mut self) {
        for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
            self.u32(v);
        }
    }
    /// Current length.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// A bit reader over a byte slice (MSB first), for codec headers (AC-3, VP9).
#[derive(Debug)]
pub(crate) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    /// Read from the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Bits<'a> {
        Bits { data, pos: 0 }
    }
    /// Read `n` ≤ 32 bits; `None` past the end.
    pub(crate) fn read(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            let bit = (byte >> (7 - (self.pos % 8))) & 1;
            v = (v << 1) | u32::from(bit);
            self.pos += 1;
        }
        Some(v)
    }
    /// Skip `n` bits.
    pub(crate) fn skip(&mut self, n: u32) -> Option<()> {
        self.read(n.min(32))?;
        if n > 32 {
            self.skip(n - 32)?;
        }
        Some(())
    }
}

/// A bit writer (MSB first) for packed fields (dac3, dec3, mdhd language).
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    /// Completed bytes.
    pub(crate) bytes: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    /// Append the low `n` ≤ 32 bits of `v`.
    pub(crate) fn put(&mut self, n: u32, v: u32) {
        self.acc = (self.acc << n) | u64::from(v & ((1u64 << n) - 1) as u32);
        self.n += n;
        while self.n >= 8 {
            self.n -= 8;
            self.bytes.push((self.acc >> self.n) as u8);
        }
    }
    /// Pad with zero bits to a byte boundary and return the bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put(pad, 0);
        }
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sizes_are_patched() {
        let mut b = BoxBuf::new();
        let outer = b.begin(b"moov");
        let inner = b.begin_full(b"mvhd", 1, 0);
        b.u8(7);
        b.end(inner);
        b.end(outer);
        assert_eq!(&b.bytes[0..8], b"\0\0\0\x15moov");
        assert_eq!(&b.bytes[8..16], b"\0\0\0\x0dmvhd");
        assert_eq!(&b.bytes[16..], &[1, 0, 0, 0, 7]);
    }

    #[test]
    fn bits_roundtrip() {
        let mut w = BitWriter::default();
        w.put(2, 3);
        w.put(5, 8);
        w.put(9, 0x155);
        let bytes = w.finish();
        let mut r = Bits::new(&bytes);
        assert_eq!(r.read(2), Some(3));
        assert_eq!(r.read(5), Some(8));
        assert_eq!(r.read(9), Some(0x155));
        assert_eq!(r.read(1), None);
    }
}
