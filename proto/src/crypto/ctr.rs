//! AES-256-CTR with a big-endian 128-bit counter: the obfuscated2 transport and CDN file parts.

use aes::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use aes::Aes256;

type Inner = ::ctr::Ctr128BE<Aes256>;

/// A streaming AES-256-CTR keystream. The 16-byte IV is the initial counter block, incremented
/// as one big-endian 128-bit integer (wrapping) per 16 bytes of stream. Calls to
/// [`AesCtr256::apply`] continue where the previous one stopped, at any byte granularity.
#[derive(Clone)]
pub struct AesCtr256 {
    inner: Inner,
}

impl AesCtr256 {
    /// A keystream starting at counter block `iv`.
    pub fn new(key: &[u8; 32], iv: &[u8; 16]) -> Self {
        Self {
            inner: Inner::new(key.into(), iv.into()),
        }
    }

    /// XORs the next `data.len()` keystream bytes into `data` (encrypts or decrypts).
    pub fn apply(&mut self, data: &mut [u8]) {
        self.inner.apply_keystream(data);
    }

    /// Skips to byte `pos` of the stream (counted from `iv`). Positions are u64: a stream of
    /// 2^64 bytes is far beyond any Telegram file.
    pub fn seek(&mut self, pos: u64) {
        self.inner.seek(pos);
    }

    /// The CDN IV for a part at byte `offset` of a file (core.telegram.org/cdn): the file's
    /// `encryption_iv` with its last 4 bytes replaced by `offset / 16`, big-endian.
    /// Offsets beyond 2^36 wrap (files are limited to far less).
    pub fn cdn_iv(encryption_iv: &[u8; 16], offset: u64) -> [u8; 16] {
        let mut iv = *encryption_iv;
        iv[12..].copy_from_slice(&((offset / 16) as u32).to_be_bytes());
        iv
    }
}

impl std::fmt::Debug for AesCtr256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesCtr256 { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    #[test]
    fn nist_sp800_38a_f5_5_ctr_aes256_encrypt() {
        // NIST SP 800-38A, F.5.5 CTR-AES256.Encrypt.
        let key = hex!("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        let iv = hex!("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        let mut data = hex!(
            "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
            "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710"
        );
        let expected = hex!(
            "601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5"
            "2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6"
        );
        // Stream in odd pieces to exercise the buffering across calls.
        let mut ctr = AesCtr256::new(&key, &iv);
        let (a, rest) = data.split_at_mut(5);
        let (b, c) = rest.split_at_mut(30);
        ctr.apply(a);
        ctr.apply(b);
        ctr.apply(c);
        assert_eq!(data, expected);
    }

    #[test]
    fn counter_wraps_big_endian() {
        let key = [9u8; 32];
        let iv = [0xffu8; 16];
        let mut two = [0u8; 32];
        AesCtr256::new(&key, &iv).apply(&mut two);
        let mut second = [0u8; 16];
        AesCtr256::new(&key, &[0u8; 16]).apply(&mut second);
        assert_eq!(two[16..], second);
    }

    #[test]
    fn seek_and_cdn_iv() {
        let key = [3u8; 32];
        let iv = [5u8; 16];
        let mut whole = vec![0u8; 4096];
        AesCtr256::new(&key, &iv).apply(&mut whole);
        let mut tail = vec![0u8; 100];
        let mut c = AesCtr256::new(&key, &iv);
        c.seek(1000);
        c.apply(&mut tail);
        assert_eq!(tail, whole[1000..1100]);
        let cdn = AesCtr256::cdn_iv(&[0xaa; 16], 0x12340);
        assert_eq!(cdn[..12], [0xaa; 12]);
        assert_eq!(cdn[12..], 0x1234u32.to_be_bytes());
    }
}
