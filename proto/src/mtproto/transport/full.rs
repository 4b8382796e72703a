//! Full framing: a 4-byte little-endian length of the whole frame (itself, the seq no, the
//! payload and the CRC), a 4-byte sequence number counting frames in this direction from 0,
//! the payload, and the CRC32 (IEEE) of everything before it.
//!
//! A bare negative length (no seq no, no CRC) is read as a transport error too, as some
//! servers and grammers do.

use bytes::BytesMut;

use super::{check_max, classify, le_u32, take_payload, Frame, TransportError};

const NAME: &str = "full";

/// Length, seq no and CRC around each payload.
const OVERHEAD: usize = 12;

/// Sequence numbers of one full-transport connection, one per direction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct SeqNos {
    /// Seq no of the next frame we send.
    pub(super) send: u32,
    /// Seq no the next received frame must carry.
    pub(super) recv: u32,
}

/// Appends the frame for `payload` to `out` and advances the send seq no.
pub(super) fn encode(
    seq: &mut SeqNos,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), TransportError> {
    check_max(payload.len())?;
    if payload.is_empty() || payload.len() % 4 != 0 {
        return Err(TransportError::BadLength {
            transport: NAME,
            len: payload.len() as u64,
            rule: "payload must be a non-empty multiple of 4",
        });
    }
    let total = payload.len() + OVERHEAD;
    out.reserve(total);
    let start = out.len();
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&seq.send.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    seq.send = seq.send.wrapping_add(1);
    Ok(())
}

/// Takes the next frame off the front of `buf`, or `Ok(None)` if it is not complete yet;
/// checks and advances the receive seq no.
pub(super) fn decode(
    seq: &mut SeqNos,
    buf: &mut BytesMut,
) -> Result<Option<Frame>, TransportError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let raw = le_u32(buf, 0);
    if (raw as i32) < 0 {
        let _ = buf.split_to(4);
        return Ok(Some(Frame::TransportError(raw as i32)));
    }
    let total = raw as usize;
    if total < OVERHEAD + 4 || total % 4 != 0 {
        return Err(TransportError::BadLength {
            transport: NAME,
            len: total as u64,
            rule: "frame length must be a multiple of 4 and at least 16",
        });
    }
    check_max(total - OVERHEAD)?;
    if buf.len() < total {
        return Ok(None);
    }
    let got_seq = le_u32(buf, 4);
    if got_seq != seq.recv {
        return Err(TransportError::BadSeqNo {
            expected: seq.recv,
            got: got_seq,
        });
    }
    let expected = crc32fast::hash(&buf[..total - 4]);
    let got = le_u32(buf, total - 4);
    if expected != got {
        return Err(TransportError::BadCrc { expected, got });
    }
    seq.recv = seq.recv.wrapping_add(1);
    Ok(Some(classify(take_payload(buf, 8, total - OVERHEAD, 4), 4)))
}
