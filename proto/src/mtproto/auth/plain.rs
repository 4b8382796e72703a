//! The plain (unencrypted) message envelope used during the auth-key exchange
//! (core.telegram.org/mtproto/description#unencrypted-message):
//!
//! ```text
//! auth_key_id:long (= 0) | message_id:long | message_data_length:int | message_data
//! ```

use super::AuthError;

/// Length of the envelope header.
pub const PLAIN_HEADER_LEN: usize = 20;

/// Largest plain body accepted (the biggest handshake message is well under 1 KiB).
pub const MAX_PLAIN_BODY: usize = 4096;

/// A decoded plain message: its msg_id and a view of its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainMessage<'a> {
    /// The message id.
    pub msg_id: i64,
    /// The TL body.
    pub body: &'a [u8],
}

/// Whether a packet starts with a zero auth_key_id (a plain message), so a server can tell the
/// handshake from encrypted traffic. Packets shorter than 8 bytes are not plain.
pub fn is_plain(packet: &[u8]) -> bool {
    packet.len() >= 8 && packet[..8] == [0; 8]
}

/// Wraps `body` in a plain envelope with `msg_id`.
pub fn encode(msg_id: i64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PLAIN_HEADER_LEN + body.len());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&msg_id.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Decodes a plain envelope, checking auth_key_id = 0, a non-zero msg_id, and that the
/// declared length is a multiple of 4, at most [`MAX_PLAIN_BODY`], and exactly what follows.
pub fn decode(packet: &[u8]) -> Result<PlainMessage<'_>, AuthError> {
    if packet.len() < PLAIN_HEADER_LEN {
        return Err(AuthError::PlainEnvelope("shorter than the 20-byte header"));
    }
    if !is_plain(packet) {
        return Err(AuthError::PlainEnvelope("auth_key_id is not 0"));
    }
    let msg_id = i64::from_le_bytes(packet[8..16].try_into().expect("8 bytes"));
    if msg_id == 0 {
        return Err(AuthError::PlainEnvelope("msg_id is 0"));
    }
    let len = u32::from_le_bytes(packet[16..20].try_into().expect("4 bytes")) as usize;
    if len > MAX_PLAIN_BODY || len % 4 != 0 {
        return Err(AuthError::PlainEnvelope(
            "length not a multiple of 4 or too large",
        ));
    }
    let body = &packet[PLAIN_HEADER_LEN..];
    if body.len() != len {
        return Err(AuthError::PlainEnvelope("length does not match the packet"));
    }
    Ok(PlainMessage { msg_id, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_checks() {
        let body = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let p = encode(0x65ab_c0fc_000d_f764, &body);
        assert_eq!(
            decode(&p).unwrap(),
            PlainMessage {
                msg_id: 0x65ab_c0fc_000d_f764,
                body: &body
            }
        );
        assert!(is_plain(&p));
        assert!(decode(&p[..19]).is_err());
        assert!(decode(&p[..p.len() - 4]).is_err());
        let mut bad = p.clone();
        bad[0] = 1;
        assert!(decode(&bad).is_err());
        let mut bad = p.clone();
        bad[16] = 7;
        assert!(decode(&bad).is_err());
        let zero_id = encode(0, &body);
        assert!(decode(&zero_id).is_err());
    }
}
