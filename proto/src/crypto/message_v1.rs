//! MTProto 1.0 message encryption, still required for one message: the `encrypted_message` of
//! `auth.bindTempAuthKey` (perfect forward secrecy), encrypted with the permanent key
//! (core.telegram.org/method/auth.bindTempAuthKey, core.telegram.org/mtproto_v1).
//!
//! Differences from 2.0: `msg_key` is bytes 4..20 of SHA1 of the plaintext *without* padding,
//! padding is 0..=15 bytes, and the AES key and IV come from four SHA1s:
//! ```text
//! a = SHA1(msg_key | k[x..x+32])          b = SHA1(k[32+x..48+x] | msg_key | k[48+x..64+x])
//! c = SHA1(k[64+x..96+x] | msg_key)       d = SHA1(msg_key | k[96+x..128+x])
//! key = a[0..8] | b[8..20] | c[4..16]     iv = a[8..20] | b[0..8] | c[16..20] | d[0..8]
//! ```

use rand::RngCore;

use super::hash::{ct_eq, sha1, sha1_parts};
use super::ige::{aes_ige_decrypt, aes_ige_encrypt};
use super::message::{AuthKey, Side, PACKET_HEADER_LEN, PLAINTEXT_HEADER_LEN};
use super::CryptoError;

/// The MTProto 1.0 AES key and IV for `msg_key` (x = 0 client → server, 8 server → client).
pub fn derive_aes_key_iv_v1(
    auth_key: &[u8; 256],
    msg_key: &[u8; 16],
    side: Side,
) -> ([u8; 32], [u8; 32]) {
    let x = side.x();
    let a = sha1_parts(&[msg_key, &auth_key[x..x + 32]]);
    let b = sha1_parts(&[
        &auth_key[32 + x..48 + x],
        msg_key,
        &auth_key[48 + x..64 + x],
    ]);
    let c = sha1_parts(&[&auth_key[64 + x..96 + x], msg_key]);
    let d = sha1_parts(&[msg_key, &auth_key[96 + x..128 + x]]);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&a[..8]);
    key[8..20].copy_from_slice(&b[8..20]);
    key[20..].copy_from_slice(&c[4..16]);
    let mut iv = [0u8; 32];
    iv[..12].copy_from_slice(&a[8..20]);
    iv[12..20].copy_from_slice(&b[..8]);
    iv[20..24].copy_from_slice(&c[16..20]);
    iv[24..].copy_from_slice(&d[..8]);
    (key, iv)
}

fn msg_key_v1(plaintext: &[u8]) -> [u8; 16] {
    let h = sha1(plaintext);
    let mut k = [0u8; 16];
    k.copy_from_slice(&h[4..]);
    k
}

/// Encrypts an (unpadded) MTProto plaintext sent by `side` with the 1.0 scheme, appending
/// 0..=15 random padding bytes from `rng`: returns `auth_key_id | msg_key | ciphertext`.
pub fn encrypt_message_v1<R: RngCore + ?Sized>(
    auth_key: &AuthKey,
    side: Side,
    plaintext: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    let msg_key = msg_key_v1(plaintext);
    let (key, iv) = derive_aes_key_iv_v1(auth_key.as_bytes(), &msg_key, side);
    let mut out = Vec::with_capacity(PACKET_HEADER_LEN + plaintext.len() + 15);
    out.extend_from_slice(&auth_key.id_bytes());
    out.extend_from_slice(&msg_key);
    out.extend_from_slice(plaintext);
    let pad = (16 - plaintext.len() % 16) % 16;
    let start = out.len();
    out.resize(start + pad, 0);
    rng.fill_bytes(&mut out[start..]);
    // The length is a multiple of 16 by construction, so this cannot fail.
    let _ = aes_ige_encrypt(&mut out[PACKET_HEADER_LEN..], &key, &iv);
    out
}

/// Decrypts a 1.0 packet sent by `side`: checks the auth_key_id, the inner length (the
/// message must end within the last 16 bytes) and the msg_key (constant-time). Returns the
/// plaintext without its padding.
pub fn decrypt_message_v1(
    auth_key: &AuthKey,
    side: Side,
    packet: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let len = packet.len();
    if len < PACKET_HEADER_LEN + PLAINTEXT_HEADER_LEN || (len - PACKET_HEADER_LEN) % 16 != 0 {
        return Err(CryptoError::BadLength {
            what: "MTProto 1.0 packet",
            got: len,
            expected: "24 + a multiple of 16, at least 56",
        });
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&packet[..8]);
    let got = u64::from_le_bytes(id);
    if got != auth_key.id() {
        return Err(CryptoError::AuthKeyIdMismatch {
            got,
            expected: auth_key.id(),
        });
    }
    let mut msg_key = [0u8; 16];
    msg_key.copy_from_slice(&packet[8..24]);
    let (key, iv) = derive_aes_key_iv_v1(auth_key.as_bytes(), &msg_key, side);
    let mut plain = packet[PACKET_HEADER_LEN..].to_vec();
    aes_ige_decrypt(&mut plain, &key, &iv)?;
    let mut l = [0u8; 4];
    l.copy_from_slice(&plain[28..32]);
    let body_len = u32::from_le_bytes(l) as usize;
    let end = PLAINTEXT_HEADER_LEN.checked_add(body_len);
    match end {
        Some(end) if end <= plain.len() && plain.len() - end < 16 && body_len % 4 == 0 => {
            plain.truncate(end)
        }
        _ => return Err(CryptoError::MsgKeyMismatch),
    }
    if !ct_eq(&msg_key_v1(&plain), &msg_key) {
        return Err(CryptoError::MsgKeyMismatch);
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn kdf_vector() {
        // auth_key = 0..256, msg_key = 0..16; expected values from an independent Python
        // (hashlib) evaluation of the formula on core.telegram.org/mtproto_v1.
        let auth_key: [u8; 256] = std::array::from_fn(|i| i as u8);
        let msg_key: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(
            derive_aes_key_iv_v1(&auth_key, &msg_key, Side::Client),
            (
                hex!("17d7295ca9213d1ab656acdb1ad48b2ea7f3a8f7095098d5508b900bbd5fccfc"),
                hex!("2d7d16a65a84108e9805656caa474501cc580aa2edc33abfd0bfad785464d1c6"),
            )
        );
        assert_eq!(
            derive_aes_key_iv_v1(&auth_key, &msg_key, Side::Server),
            (
                hex!("bb17b07eb91110647098b069bd1a9b6fe5c4bcc3c31f8e67e831d07a61085f68"),
                hex!("5197fc1e25b41fe36f18b5a3a8b2b36cb2cb061f1f157b3514fe42e74fb58359"),
            )
        );
    }

    #[test]
    fn roundtrip_and_forgeries() {
        let mut rng = StdRng::seed_from_u64(12);
        let mut raw = [0u8; 256];
        rng.fill_bytes(&mut raw);
        let key = AuthKey::from_bytes(raw);
        // A bind_auth_key_inner-sized message: header + 40 bytes of body.
        for body_len in [0usize, 4, 40, 100] {
            let mut plain = vec![0u8; 32 + body_len];
            rng.fill_bytes(&mut plain);
            plain[28..32].copy_from_slice(&(body_len as u32).to_le_bytes());
            let packet = encrypt_message_v1(&key, Side::Client, &plain, &mut rng);
            assert_eq!((packet.len() - 24) % 16, 0);
            assert_eq!(
                decrypt_message_v1(&key, Side::Client, &packet).unwrap(),
                plain
            );
            assert!(decrypt_message_v1(&key, Side::Server, &packet).is_err());
            let mut forged = packet.clone();
            let last = forged.len() - 1;
            forged[last] ^= 1;
            assert!(decrypt_message_v1(&key, Side::Client, &forged).is_err());
            forged = packet.clone();
            forged[0] ^= 1;
            assert!(matches!(
                decrypt_message_v1(&key, Side::Client, &forged),
                Err(CryptoError::AuthKeyIdMismatch { .. })
            ));
            assert!(decrypt_message_v1(&key, Side::Client, &packet[..packet.len() - 16]).is_err());
        }
        assert!(decrypt_message_v1(&key, Side::Client, &[0u8; 40]).is_err());
    }
}
