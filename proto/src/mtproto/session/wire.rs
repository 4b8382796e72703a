//! The encrypted message layout of MTProto 2.0 (core.telegram.org/mtproto/description):
//!
//! ```text
//! packet    = auth_key_id:long | msg_key:int128 | AES-IGE(plaintext)
//! plaintext = salt:long | session_id:long | msg_id:long | seq_no:int | length:int
//!             | body (length bytes) | padding (12..=1024 random bytes, total ≡ 0 mod 16)
//! ```
//!
//! Decryption is zero-copy: the packet buffer is decrypted in place and the body handed out
//! as a [`Bytes`] view of it.

use bytes::{Bytes, BytesMut};
use rand::RngCore;

use super::SessionError;
use crate::crypto::{self, AuthKey, Side};

/// Length of the plaintext header (salt, session_id, msg_id, seq_no, length).
pub const HEADER_LEN: usize = 32;
/// Offset of the plaintext in a packet (auth_key_id and msg_key before it).
pub const PACKET_PREFIX: usize = 24;
/// Largest body accepted or produced (a little over the 1 MiB file part and its framing).
pub const MAX_BODY: usize = (1 << 20) + 64 * 1024;

/// One decrypted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decrypted {
    /// The server salt the sender used.
    pub salt: i64,
    /// The session id.
    pub session_id: i64,
    /// The message id.
    pub msg_id: i64,
    /// The sequence number.
    pub seq_no: i32,
    /// The body: a view of the decrypted packet buffer.
    pub body: Bytes,
}

/// How much random padding to add to a plaintext of `len` bytes: at least 12, total a
/// multiple of 16, plus 0..=7 random extra blocks (so at most 27 + 112 = 139 ≤ 1024).
fn padding_len(len: usize, rng: &mut (impl RngCore + ?Sized)) -> usize {
    let base = 12 + (16 - (len + 12) % 16) % 16;
    base + 16 * (rng.next_u32() % 8) as usize
}

/// Encrypts one message sent by `side` and appends the packet to `out`.
#[allow(clippy::too_many_arguments)]
pub fn encrypt(
    auth_key: &AuthKey,
    side: Side,
    salt: i64,
    session_id: i64,
    msg_id: i64,
    seq_no: i32,
    body: &[u8],
    rng: &mut (impl RngCore + ?Sized),
    out: &mut Vec<u8>,
) -> Result<(), SessionError> {
    if body.len() > MAX_BODY || body.len() % 4 != 0 {
        return Err(SessionError::BodyTooLarge { len: body.len() });
    }
    // Built straight into `out`: room for auth_key_id and msg_key, then the plaintext,
    // encrypted in place (the body is copied once, here).
    let start = out.len();
    let plain_len = HEADER_LEN + body.len();
    let pad = padding_len(plain_len, rng);
    out.reserve(PACKET_PREFIX + plain_len + pad);
    out.resize(start + PACKET_PREFIX, 0);
    out.extend_from_slice(&salt.to_le_bytes());
    out.extend_from_slice(&session_id.to_le_bytes());
    out.extend_from_slice(&msg_id.to_le_bytes());
    out.extend_from_slice(&seq_no.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    let padding_start = out.len();
    out.resize(padding_start + pad, 0);
    rng.fill_bytes(&mut out[padding_start..]);
    if let Err(e) = crypto::encrypt_message_in_place(auth_key, side, &mut out[start..]) {
        out.truncate(start);
        return Err(e.into());
    }
    Ok(())
}

/// Decrypts a packet sent by `side`, in place, checking the auth_key_id, the msg_key, the
/// length field (multiple of 4, padding 12..=1024) and the body size limit.
pub fn decrypt(
    auth_key: &AuthKey,
    side: Side,
    mut packet: BytesMut,
) -> Result<Decrypted, SessionError> {
    {
        let plain = crypto::decrypt_message_in_place(auth_key, side, &mut packet)?;
        crypto::check_plaintext_layout(plain)?;
    }
    let p = &packet[PACKET_PREFIX..];
    let salt = i64::from_le_bytes(p[0..8].try_into().expect("8 bytes"));
    let session_id = i64::from_le_bytes(p[8..16].try_into().expect("8 bytes"));
    let msg_id = i64::from_le_bytes(p[16..24].try_into().expect("8 bytes"));
    let seq_no = i32::from_le_bytes(p[24..28].try_into().expect("4 bytes"));
    let len = u32::from_le_bytes(p[28..32].try_into().expect("4 bytes")) as usize;
    if len > MAX_BODY {
        return Err(SessionError::BodyTooLarge { len });
    }
    let start = PACKET_PREFIX + HEADER_LEN;
    let body = packet.freeze().slice(start..start + len);
    Ok(Decrypted {
        salt,
        session_id,
        msg_id,
        seq_no,
        body,
    })
}

/// The auth_key_id at the start of a packet, if it has 8 bytes.
pub fn auth_key_id_of(packet: &[u8]) -> Option<u64> {
    packet
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}
