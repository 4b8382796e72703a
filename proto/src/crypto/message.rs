//! MTProto 2.0: the auth key, msg_key and AES key/IV derivation, and message encryption in both
//! directions (core.telegram.org/mtproto/description).
//!
//! An encrypted packet is `auth_key_id (8) | msg_key (16) | AES-256-IGE(plaintext)`, where
//! `plaintext = salt (8) | session_id (8) | msg_id (8) | seq_no (4) | length (4) | body | padding`
//! and padding is 12..=1024 random bytes making the total a multiple of 16.
//!
//! Who checks what on receive:
//! - [`decrypt_message_in_place`]: packet length, auth_key_id and msg_key (constant-time).
//! - [`decrypt_message`]: the above plus the inner `length` field and the padding bounds, so
//!   that `plaintext[32..32 + length]` is the body. Salt, session_id, msg_id and seq_no are
//!   the session layer's job.

use rand::RngCore;

use super::hash::{ct_eq, sha1, sha1_parts, sha256_parts};
use super::ige::{aes_ige_decrypt, aes_ige_encrypt};
use super::CryptoError;

/// Bytes before the encrypted part: auth_key_id and msg_key.
pub const PACKET_HEADER_LEN: usize = 24;
/// Bytes of the plaintext header: salt, session_id, msg_id, seq_no, length.
pub const PLAINTEXT_HEADER_LEN: usize = 32;
/// Padding bounds of MTProto 2.0.
pub const MIN_PADDING: usize = 12;
/// See [`MIN_PADDING`].
pub const MAX_PADDING: usize = 1024;

/// Which party sent a message. The key derivation differs by direction:
/// `x = 0` for client → server, `x = 8` for server → client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client sent (or sends) the message.
    Client,
    /// The server sent (or sends) the message.
    Server,
}

impl Side {
    /// The `x` offset into the auth key for messages sent by this side.
    pub fn x(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 8,
        }
    }
}

/// A 2048-bit authorization key with its derived id and auxiliary hash.
#[derive(Clone)]
pub struct AuthKey {
    data: [u8; 256],
    id: u64,
    aux_hash: [u8; 8],
}

impl AuthKey {
    /// Wraps 256 key bytes (big-endian `g^ab mod p`, as produced by the DH exchange).
    pub fn from_bytes(data: [u8; 256]) -> Self {
        let h = sha1(&data);
        let mut id = [0u8; 8];
        id.copy_from_slice(&h[12..20]);
        let mut aux_hash = [0u8; 8];
        aux_hash.copy_from_slice(&h[..8]);
        Self {
            data,
            id: u64::from_le_bytes(id),
            aux_hash,
        }
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 256] {
        &self.data
    }

    /// auth_key_id: the low 64 bits of SHA1(auth_key) (its bytes 12..20, read little-endian).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// auth_key_id as it appears on the wire (8 little-endian bytes).
    pub fn id_bytes(&self) -> [u8; 8] {
        self.id.to_le_bytes()
    }

    /// auth_key_aux_hash: the high 64 bits of SHA1(auth_key) (its bytes 0..8).
    pub fn aux_hash(&self) -> [u8; 8] {
        self.aux_hash
    }

    /// `new_nonce_hash1/2/3` of dh_gen_ok/retry/fail: the low 128 bits of
    /// SHA1(new_nonce | number | auth_key_aux_hash), with `number` 1, 2 or 3.
    pub fn new_nonce_hash(&self, new_nonce: &[u8; 32], number: u8) -> [u8; 16] {
        let h = sha1_parts(&[new_nonce, &[number], &self.aux_hash]);
        let mut out = [0u8; 16];
        out.copy_from_slice(&h[4..]);
        out
    }
}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthKey {{ id: {:#018x} }}", self.id)
    }
}

impl PartialEq for AuthKey {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.data, &other.data)
    }
}

impl Eq for AuthKey {}

/// msg_key = bytes 8..24 of SHA256(auth_key[88+x .. 120+x] | plaintext_with_padding).
pub fn calc_msg_key(auth_key: &AuthKey, plaintext: &[u8], side: Side) -> [u8; 16] {
    let x = side.x();
    let large = sha256_parts(&[&auth_key.data[88 + x..120 + x], plaintext]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&large[8..24]);
    out
}

/// The AES-256-IGE key and IV of a message from `msg_key`:
/// `a = SHA256(msg_key | auth_key[x..x+36])`, `b = SHA256(auth_key[40+x..76+x] | msg_key)`,
/// `key = a[0..8] | b[8..24] | a[24..32]`, `iv = b[0..8] | a[8..24] | b[24..32]`.
pub fn derive_aes_key_iv(
    auth_key: &[u8; 256],
    msg_key: &[u8; 16],
    side: Side,
) -> ([u8; 32], [u8; 32]) {
    let x = side.x();
    let a = sha256_parts(&[msg_key, &auth_key[x..x + 36]]);
    let b = sha256_parts(&[&auth_key[40 + x..76 + x], msg_key]);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&a[..8]);
    key[8..24].copy_from_slice(&b[8..24]);
    key[24..].copy_from_slice(&a[24..]);
    let mut iv = [0u8; 32];
    iv[..8].copy_from_slice(&b[..8]);
    iv[8..24].copy_from_slice(&a[8..24]);
    iv[24..].copy_from_slice(&b[24..]);
    (key, iv)
}

/// The padding length [`pad_message`] adds to a plaintext of `len` bytes: the smallest
/// amount ≥ 12 that makes the total a multiple of 16 (so 12..=27).
pub fn padding_len(len: usize) -> usize {
    MIN_PADDING + (16 - (len + MIN_PADDING) % 16) % 16
}

/// Appends [`padding_len`] random bytes to `plaintext`.
pub fn pad_message<R: RngCore + ?Sized>(plaintext: &mut Vec<u8>, rng: &mut R) {
    let start = plaintext.len();
    plaintext.resize(start + padding_len(start), 0);
    rng.fill_bytes(&mut plaintext[start..]);
}

/// Encrypts a padded plaintext sent by `side`: returns `auth_key_id | msg_key | ciphertext`.
///
/// `plaintext_with_padding.len()` must be a multiple of 16 (use [`pad_message`]); the content
/// is not inspected, so the caller is responsible for the 12..=1024 padding rule.
pub fn encrypt_message(
    auth_key: &AuthKey,
    side: Side,
    plaintext_with_padding: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(PACKET_HEADER_LEN + plaintext_with_padding.len());
    out.resize(PACKET_HEADER_LEN, 0);
    out.extend_from_slice(plaintext_with_padding);
    encrypt_message_in_place(auth_key, side, &mut out)?;
    Ok(out)
}

/// Encrypts in place a packet laid out as 24 bytes of room, then the padded plaintext sent by
/// `side`: the room receives `auth_key_id | msg_key` and the plaintext becomes ciphertext. This
/// is [`encrypt_message`] without a copy of the payload, for callers that build the plaintext
/// straight into their send buffer.
pub fn encrypt_message_in_place(
    auth_key: &AuthKey,
    side: Side,
    packet: &mut [u8],
) -> Result<(), CryptoError> {
    let len = packet.len().saturating_sub(PACKET_HEADER_LEN);
    if len % 16 != 0 || len == 0 {
        return Err(CryptoError::BadLength {
            what: "MTProto plaintext with padding",
            got: len,
            expected: "a non-zero multiple of 16",
        });
    }
    let (header, plaintext) = packet.split_at_mut(PACKET_HEADER_LEN);
    let msg_key = calc_msg_key(auth_key, plaintext, side);
    let (key, iv) = derive_aes_key_iv(&auth_key.data, &msg_key, side);
    header[..8].copy_from_slice(&auth_key.id_bytes());
    header[8..].copy_from_slice(&msg_key);
    aes_ige_encrypt(plaintext, &key, &iv)
}

/// Decrypts, in place, a packet sent by `side` (so a client passes [`Side::Server`]), checking
/// the packet length, the auth_key_id and the msg_key (constant-time). Returns the decrypted
/// plaintext (header, body and padding) as a sub-slice of `packet`. The inner length and
/// padding are not checked: see [`decrypt_message`] / [`check_plaintext_layout`].
///
/// On an error after decryption started (msg_key mismatch) the packet bytes are garbage.
pub fn decrypt_message_in_place<'a>(
    auth_key: &AuthKey,
    side: Side,
    packet: &'a mut [u8],
) -> Result<&'a mut [u8], CryptoError> {
    let len = packet.len();
    if len < PACKET_HEADER_LEN + 16 || (len - PACKET_HEADER_LEN) % 16 != 0 {
        return Err(CryptoError::BadLength {
            what: "MTProto encrypted packet",
            got: len,
            expected: "24 + a non-zero multiple of 16",
        });
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&packet[..8]);
    let got = u64::from_le_bytes(id);
    if got != auth_key.id {
        return Err(CryptoError::AuthKeyIdMismatch {
            got,
            expected: auth_key.id,
        });
    }
    let mut msg_key = [0u8; 16];
    msg_key.copy_from_slice(&packet[8..24]);
    let (key, iv) = derive_aes_key_iv(&auth_key.data, &msg_key, side);
    let body = &mut packet[PACKET_HEADER_LEN..];
    aes_ige_decrypt(body, &key, &iv)?;
    if !ct_eq(&calc_msg_key(auth_key, body, side), &msg_key) {
        return Err(CryptoError::MsgKeyMismatch);
    }
    Ok(body)
}

/// Checks the inner layout of a decrypted MTProto 2.0 plaintext: the `length` field at bytes
/// 28..32 is a multiple of 4 and leaves 12..=1024 bytes of padding. Returns `length`.
pub fn check_plaintext_layout(plaintext: &[u8]) -> Result<usize, CryptoError> {
    let total = plaintext.len();
    if total < PLAINTEXT_HEADER_LEN + MIN_PADDING {
        return Err(CryptoError::BadLength {
            what: "MTProto plaintext",
            got: total,
            expected: "at least 44 (header and padding)",
        });
    }
    let mut l = [0u8; 4];
    l.copy_from_slice(&plaintext[28..32]);
    let body_len = u32::from_le_bytes(l) as usize;
    let room = total - PLAINTEXT_HEADER_LEN;
    let padding = room.checked_sub(body_len);
    match padding {
        Some(p) if body_len % 4 == 0 && (MIN_PADDING..=MAX_PADDING).contains(&p) => Ok(body_len),
        _ => Err(CryptoError::BadLength {
            what: "MTProto message_data_length",
            got: body_len,
            expected: "a multiple of 4 leaving 12..=1024 bytes of padding",
        }),
    }
}

/// Decrypts a packet sent by `side` into a new buffer, with every check of
/// [`decrypt_message_in_place`] and [`check_plaintext_layout`]. Returns the whole plaintext
/// (header, body, padding): the body is `plaintext[32..32 + length]`.
pub fn decrypt_message(
    auth_key: &AuthKey,
    side: Side,
    packet: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut buf = packet.to_vec();
    let plain_len = {
        let plain = decrypt_message_in_place(auth_key, side, &mut buf)?;
        check_plaintext_layout(plain)?;
        plain.len()
    };
    buf.drain(..buf.len() - plain_len);
    Ok(buf)
}

/// The temporary AES key and IV of the auth-key exchange (server_DH_inner_data and
/// client_DH_inner_data): `key = SHA1(new_nonce | server_nonce) | SHA1(server_nonce | new_nonce)[0..12]`,
/// `iv = SHA1(server_nonce | new_nonce)[12..20] | SHA1(new_nonce | new_nonce) | new_nonce[0..4]`.
pub fn nonce_aes_key_iv(server_nonce: &[u8; 16], new_nonce: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let h1 = sha1_parts(&[new_nonce, server_nonce]);
    let h2 = sha1_parts(&[server_nonce, new_nonce]);
    let h3 = sha1_parts(&[new_nonce, new_nonce]);
    let mut key = [0u8; 32];
    key[..20].copy_from_slice(&h1);
    key[20..].copy_from_slice(&h2[..12]);
    let mut iv = [0u8; 32];
    iv[..8].copy_from_slice(&h2[12..]);
    iv[8..28].copy_from_slice(&h3);
    iv[28..].copy_from_slice(&new_nonce[..4]);
    (key, iv)
}

/// The first server salt after an auth-key exchange:
/// `substr(new_nonce, 0, 8) XOR substr(server_nonce, 0, 8)`, read as a little-endian `long`.
pub fn initial_server_salt(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> i64 {
    let mut salt = [0u8; 8];
    for (i, s) in salt.iter_mut().enumerate() {
        *s = new_nonce[i] ^ server_nonce[i];
    }
    i64::from_le_bytes(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_salt_is_xor_of_nonce_prefixes() {
        let mut new_nonce = [0u8; 32];
        new_nonce[..8].copy_from_slice(&[0x84, 0x5f, 0xad, 0x32, 0xd1, 0x0a, 0x4c, 0x79]);
        let mut server_nonce = [0u8; 16];
        server_nonce[..8].copy_from_slice(&[0xd6, 0x70, 0x1f, 0xcd, 0x21, 0x2c, 0xeb, 0x87]);
        let salt = initial_server_salt(&new_nonce, &server_nonce);
        assert_eq!(
            salt.to_le_bytes(),
            [0x52, 0x2f, 0xb2, 0xff, 0xf0, 0x26, 0xa7, 0xfe]
        );
    }

    #[test]
    fn padding_rule() {
        for len in 0..200 {
            let p = padding_len(len);
            assert!((MIN_PADDING..=27).contains(&p));
            assert_eq!((len + p) % 16, 0);
        }
    }

    #[test]
    fn layout_checks() {
        let mut plain = vec![0u8; 32 + 8 + 24];
        plain[28..32].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(check_plaintext_layout(&plain), Ok(8));
        plain[28..32].copy_from_slice(&9u32.to_le_bytes()); // not a multiple of 4
        assert!(check_plaintext_layout(&plain).is_err());
        plain[28..32].copy_from_slice(&24u32.to_le_bytes()); // padding 8 < 12
        assert!(check_plaintext_layout(&plain).is_err());
        plain[28..32].copy_from_slice(&u32::MAX.to_le_bytes()); // beyond the buffer
        assert!(check_plaintext_layout(&plain).is_err());
        let mut big = vec![0u8; 32 + 4 + 1036];
        big[28..32].copy_from_slice(&4u32.to_le_bytes()); // padding 1036 > 1024
        assert!(check_plaintext_layout(&big).is_err());
        assert!(check_plaintext_layout(&[0u8; 40]).is_err());
    }
}
