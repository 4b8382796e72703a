//! `dOps`: Opus specific box, from Matroska's OpusHead (little-endian) to big-endian fields.

use super::buf::BoxBuf;

/// Write `dOps` from an OpusHead; `None` when the head is malformed.
pub(crate) fn write(b: &mut BoxBuf, head: &[u8]) -> Option<()> {
    if head.len() < 19 || &head[..8] != b"OpusHead" {
        return None;
    }
    let channels = head[9];
    let pre_skip = u16::from_le_bytes([head[10], head[11]]);
    let rate = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
    let gain = i16::from_le_bytes([head[16], head[17]]);
    let family = head[18];
    let open = b.begin(b"dOps");
    b.u8(0);
    b.u8(channels);
    b.u16(pre_skip);
    b.u32(rate);
    b.u16(gain as u16);
    b.u8(family);
    if family != 0 {
        // StreamCount, CoupledCount, ChannelMapping[channels]
        let table = head.get(19..21 + usize::from(channels))?;
        b.put(table);
    }
    b.end(open);
    Some(())
}

/// Rebuild an OpusHead from a `dOps` body (MP4 input).
pub(crate) fn to_opus_head(body: &[u8]) -> Option<Vec<u8>> {
    if body.len() < 11 {
        return None;
    }
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(body[1]);
    head.extend_from_slice(&u16::from_be_bytes([body[2], body[3]]).to_le_bytes());
    head.extend_from_slice(&u32::from_be_bytes([body[4], body[5], body[6], body[7]]).to_le_bytes());
    head.extend_from_slice(&i16::from_be_bytes([body[8], body[9]]).to_le_bytes());
    head.push(body[10]);
    if body[10] != 0 {
        head.extend_from_slice(body.get(11..13 + usize::from(body[1]))?);
    }
    Some(head)
}

#[cfg(test)]
mod tests {
    #[test]
    fn roundtrip() {
        let head = [
            b"OpusHead".as_slice(),
            &[1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0],
        ]
        .concat();
        let mut b = super::BoxBuf::new();
        super::write(&mut b, &head).unwrap();
        assert_eq!(&b.bytes[8..], &[0, 2, 1, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0]);
        assert_eq!(super::to_opus_head(&b.bytes[8..]).unwrap(), head);
    }
}
