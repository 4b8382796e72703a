//! Intermediate and padded intermediate framing: a 4-byte little-endian length, then the
//! payload. Plain intermediate lengths are multiples of 4; the padded variant appends 0..15
//! random bytes to each payload (counted in the length), so any non-zero length is valid.
//!
//! The top bit of the length is a quick-ack request when a client sends it; a server's
//! quick ack is 4 bytes, little-endian, top bit set, where a length would be.

use bytes::BytesMut;

use super::{check_max, classify, le_u32, take_payload, Frame, Kind, Role, TransportError};

/// Appends the frame for `payload` to `out`, followed (padded only) by `padding`, at most
/// 15 random bytes.
pub(super) fn encode(
    padded: bool,
    payload: &[u8],
    padding: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), TransportError> {
    check_max(payload.len())?;
    if payload.is_empty() {
        return Err(bad_length(padded, 0, "empty payload"));
    }
    if !padded && payload.len() % 4 != 0 {
        return Err(bad_length(padded, payload.len(), "not a multiple of 4"));
    }
    let padding = if padded {
        &padding[..padding.len().min(15)]
    } else {
        &[]
    };
    let total = payload.len() + padding.len();
    out.reserve(4 + total);
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(padding);
    Ok(())
}

/// Takes the next frame off the front of `buf`, or `Ok(None)` if it is not complete yet.
pub(super) fn decode(
    padded: bool,
    role: Role,
    buf: &mut BytesMut,
) -> Result<Option<Frame>, TransportError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let raw = le_u32(buf, 0);
    if raw & 0x8000_0000 != 0 && role == Role::Client {
        let _ = buf.split_to(4);
        return Ok(Some(Frame::QuickAck(raw)));
    }
    // Server side: the top bit only asks for a quick ack, which we do not send.
    let len = (raw & 0x7fff_ffff) as usize;
    if len == 0 {
        return Err(bad_length(padded, 0, "zero-length frame"));
    }
    check_max(len)?;
    if !padded && len % 4 != 0 {
        return Err(bad_length(padded, len, "not a multiple of 4"));
    }
    if buf.len() < 4 + len {
        return Ok(None);
    }
    let kind = if padded {
        Kind::PaddedIntermediate
    } else {
        Kind::Intermediate
    };
    Ok(Some(classify(
        take_payload(buf, 4, len, 0),
        kind.max_error_len(),
    )))
}

fn bad_length(padded: bool, len: usize, rule: &'static str) -> TransportError {
    TransportError::BadLength {
        transport: if padded {
            "padded intermediate"
        } else {
            "intermediate"
        },
        len: len as u64,
        rule,
    }
}
