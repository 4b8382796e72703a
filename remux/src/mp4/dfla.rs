//! `dfLa`: FLAC specific box holding the STREAMINFO metadata block.

use super::buf::BoxBuf;

/// The STREAMINFO block (4-byte header + 34 bytes) from FLAC codec private data, with or
/// without the "fLaC" marker.
pub(crate) fn streaminfo(private: &[u8]) -> Option<&[u8]> {
    let blocks = private.strip_prefix(b"fLaC").unwrap_or(private);
    let header = blocks.get(..4)?;
    if header[0] & 0x7f != 0 {
        return None;
    }
    let len = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
    if len < 34 {
        return None;
    }
    blocks.get(..4 + len)
}

/// Sample rate, channels and bits per sample from a STREAMINFO block (with its header).
pub(crate) fn streaminfo_format(block: &[u8]) -> Option<(u32, u16, u16)> {
    let b = block.get(4..38)?;
    let rate = (u32::from(b[10]) << 12) | (u32::from(b[11]) << 4) | (u32::from(b[12]) >> 4);
    let channels = u16::from((b[12] >> 1) & 0x7) + 1;
    let bits = ((u16::from(b[12] & 1) << 4) | u16::from(b[13] >> 4)) + 1;
    Some((rate, channels, bits))
}

/// Write `dfLa` with STREAMINFO marked as the last metadata block.
pub(crate) fn write(b: &mut BoxBuf, private: &[u8]) -> Option<()> {
    let block = streaminfo(private)?;
    let open = b.begin_full(b"dfLa", 0, 0);
    b.u8(0x80);
    b.put(&block[1..]);
    b.end(open);
    Some(())
}
