//! AES-256 in IGE mode (Infinite Garble Extension), in place.
//!
//! With `c_0 = iv[0..16]` and `p_0 = iv[16..32]`:
//! encryption is `c_i = E(p_i ^ c_{i-1}) ^ p_{i-1}`, decryption `p_i = D(c_i ^ p_{i-1}) ^ c_{i-1}`.
//! Both directions are inherently serial (each block cipher call needs the previous output), so
//! the speed floor is a chain of single-block AES calls; the loop below adds only two XORs per
//! block on 128-bit words. The key schedule is expanded once per call.

use aes::cipher::inout::InOut;
use aes::cipher::{
    consts::U16, generic_array::GenericArray, BlockBackend, BlockClosure, BlockDecrypt,
    BlockEncrypt, BlockSizeUser, KeyInit,
};
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

/// IGE over the blocks of `data`, run inside the cipher's backend closure: the aes crate picks
/// AES-NI (or the soft fallback) once and our loop is compiled into that context, instead of
/// paying the CPU-feature dispatch on every block as `decrypt_block` would.
struct Ige<'a> {
    data: &'a mut [u8],
    iv: &'a [u8; 32],
    encrypt: bool,
}

impl BlockSizeUser for Ige<'_> {
    type BlockSize = U16;
}

impl BlockClosure for Ige<'_> {
    #[inline(always)]
    fn call<B: BlockBackend<BlockSize = U16>>(self, backend: &mut B) {
        // Encryption: out = E(in ^ prev_out) ^ prev_in, with prev_out = iv[..16], prev_in = iv[16..].
        // Decryption: out = D(in ^ prev_out) ^ prev_in, with prev_in = iv[..16], prev_out = iv[16..].
        let (mut prev_in, mut prev_out) = if self.encrypt {
            (word(&self.iv[16..]), word(&self.iv[..16]))
        } else {
            (word(&self.iv[..16]), word(&self.iv[16..]))
        };
        let mut block = GenericArray::from([0u8; 16]);
        for chunk in self.data.chunks_exact_mut(16) {
            let input = word(chunk);
            block.copy_from_slice(&(input ^ prev_out).to_ne_bytes());
            backend.proc_block(InOut::from(&mut block));
            let output = word(&block) ^ prev_in;
            chunk.copy_from_slice(&output.to_ne_bytes());
            prev_in = input;
            prev_out = output;
        }
    }
}

/// IGE encryption with an expanded key; `data.len() % 16 == 0` is the caller's promise
/// (a trailing partial block would be left as it is).
fn ige_encrypt_with(cipher: &Aes256, data: &mut [u8], iv: &[u8; 32]) {
    cipher.encrypt_with_backend(Ige {
        data,
        iv,
        encrypt: true,
    });
}

/// IGE decryption with an expanded key; see [`ige_encrypt_with`].
fn ige_decrypt_with(cipher: &Aes256, data: &mut [u8], iv: &[u8; 32]) {
    cipher.decrypt_with_backend(Ige {
        data,
        iv,
        encrypt: false,
    });
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
