//! Abridged framing: the payload length in 4-byte words, as one byte when below 127,
//! else as `7f` followed by the word count in 3 bytes little-endian.
//!
//! The top bit of the first length byte is a quick-ack request when a client sends it; a
//! server answers a quick ack with 4 bytes, big-endian, top bit set, where a length would be.

use bytes::BytesMut;

use super::{check_max, classify, take_payload, Frame, Role, TransportError};

const NAME: &str = "abridged";

/// Appends the frame for `payload` to `out`.
pub(super) fn encode(payload: &[u8], out: &mut Vec<u8>) -> Result<(), TransportError> {
    check_max(payload.len())?;
    if payload.is_empty() || payload.len() % 4 != 0 {
        return Err(bad_length(
            payload.len(),
            "payload must be a non-empty multiple of 4",
        ));
    }
    let words = payload.len() / 4;
    out.reserve(4 + payload.len());
    if words < 0x7f {
        out.push(words as u8);
    } else {
        // words <= MAX_FRAME_LEN / 4 = 2^22, fits in 3 bytes.
        let w = (words as u32).to_le_bytes();
        out.extend_from_slice(&[0x7f, w[0], w[1], w[2]]);
    }
    out.extend_from_slice(payload);
    Ok(())
}

/// Takes the next frame off the front of `buf`, or `Ok(None)` if it is not complete yet.
pub(super) fn decode(role: Role, buf: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first & 0x80 != 0 && role == Role::Client {
        // A server's quick ack: 4 bytes, big-endian, top bit set.
        if buf.len() < 4 {
            return Ok(None);
        }
        let token = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let _ = buf.split_to(4);
        return Ok(Some(Frame::QuickAck(token)));
    }
    // Server side: the top bit only asks for a quick ack, which we do not send.
    let first = first & 0x7f;
    let (header, words) = if first < 0x7f {
        (1, first as usize)
    } else {
        if buf.len() < 4 {
            return Ok(None);
        }
        (4, u32::from_le_bytes([buf[1], buf[2], buf[3], 0]) as usize)
    };
    if words == 0 {
        return Err(bad_length(0, "zero-length frame"));
    }
    let len = words * 4;
    check_max(len)?;
    if buf.len() < header + len {
        return Ok(None);
    }
    Ok(Some(classify(take_payload(buf, header, len, 0), 4)))
}

fn bad_length(len: usize, rule: &'static str) -> TransportError {
    TransportError::BadLength {
        transport: NAME,
        len: len as u64,
        rule,
    }
}
