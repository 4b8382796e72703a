//! AES-256 in IGE mode (Infinite Garble Extension), in place.
//!
//! With `c_0 = iv[0..16]` and `p_0 = iv[16..32]`:
//! encryption is `c_i = E(p_i ^ c_{i-1}) ^ p_{i-1}`, decryption `p_i = D(c_i ^ p_{i-1}) ^ c_{i-1}`.
//! Both directions are inherently serial (each block cipher call needs the previous output), so
//! the speed floor is a chain of single-block AES calls; the loop below adds only two XORs per
//! block on 128-bit words. The key schedule is expanded once per call.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;

use super::CryptoError;

fn check_len(data: &[u8]) -> Result<(), CryptoError> {
    if data.len() % 16 == 0 {
        Ok(())
    } else {
        Err(CryptoError::BadLength {
            what: "AES-IGE data",
            got: data.len(),
            expected: "a multiple of 16",
        })
    }
}

fn word(bytes: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(bytes);
    u128::from_ne_bytes(b)
}

/// Encrypts `data` in place with AES-256-IGE.
///
/// `data.len()` must be a multiple of 16, else [`CryptoError::BadLength`] and `data` is untouched.
pub fn aes_ige_encrypt(data: &mut [u8], key: &[u8; 32], iv: &[u8; 32]) -> Result<(), CryptoError> {
    check_len(data)?;
    let cipher = Aes256::new(GenericArray::from_slice(key));
    ige_encrypt_with(&cipher, data, iv);
    Ok(())
}

/// Decrypts `data` in place with AES-256-IGE.
///
/// `data.len()` must be a multiple of 16, else [`CryptoError::BadLength`] and `data` is untouched.
pub fn aes_ige_decrypt(data: &mut [u8], key: &[u8; 32], iv: &[u8; 32]) -> Result<(), CryptoError> {
    check_len(data)?;
    let cipher = Aes256::new(GenericArray::from_slice(key));
    ige_decrypt_with(&cipher, data, iv);
    Ok(())
}

/// IGE encryption with an expanded key; `data.len() % 16 == 0` is the caller's promise
/// (a trailing partial block would be left as it is).
fn ige_encrypt_with(cipher: &Aes256, data: &mut [u8], iv: &[u8; 32]) {
    let mut prev_c = word(&iv[..16]);
    let mut prev_p = word(&iv[16..]);
    let mut block = GenericArray::from([0u8; 16]);
    for chunk in data.chunks_exact_mut(16) {
        let p = word(chunk);
        block.copy_from_slice(&(p ^ prev_c).to_ne_bytes());
        cipher.encrypt_block(&mut block);
        let c = word(&block) ^ prev_p;
        chunk.copy_from_slice(&c.to_ne_bytes());
        prev_c = c;
        prev_p = p;
    }
}

/// IGE decryption with an expanded key; see [`ige_encrypt_with`].
fn ige_decrypt_with(cipher: &Aes256, data: &mut [u8], iv: &[u8; 32]) {
    let mut prev_c = word(&iv[..16]);
    let mut prev_p = word(&iv[16..]);
    let mut block = GenericArray::from([0u8; 16]);
    for chunk in data.chunks_exact_mut(16) {
        let c = word(chunk);
        block.copy_from_slice(&(c ^ prev_p).to_ne_bytes());
        cipher.decrypt_block(&mut block);
        let p = word(&block) ^ prev_c;
        chunk.copy_from_slice(&p.to_ne_bytes());
        prev_c = c;
        prev_p = p;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_partial_blocks_untouched() {
        let mut data = [7u8; 17];
        let err = aes_ige_encrypt(&mut data, &[0; 32], &[0; 32]).unwrap_err();
        assert!(matches!(err, CryptoError::BadLength { got: 17, .. }));
        assert_eq!(data, [7u8; 17]);
        assert!(aes_ige_decrypt(&mut data, &[0; 32], &[0; 32]).is_err());
        assert_eq!(data, [7u8; 17]);
    }

    #[test]
    fn empty_is_fine_and_roundtrip() {
        let mut empty: [u8; 0] = [];
        aes_ige_encrypt(&mut empty, &[1; 32], &[2; 32]).unwrap();
        let orig: Vec<u8> = (0..160u8).collect();
        let mut data = orig.clone();
        aes_ige_encrypt(&mut data, &[1; 32], &[2; 32]).unwrap();
        assert_ne!(data, orig);
        aes_ige_decrypt(&mut data, &[1; 32], &[2; 32]).unwrap();
        assert_eq!(data, orig);
    }
}
