//! The two ways a client encrypts `p_q_inner_data` for the server (core.telegram.org/mtproto/auth_key).
//!
//! RSA_PAD (current):
//! ```text
//! data_with_padding = data | random           (192 bytes; data ≤ 144)
//! data_with_hash    = reverse(data_with_padding) | SHA256(temp_key | data_with_padding)
//! aes_encrypted     = AES256-IGE(data_with_hash, temp_key, iv = 0)       (224 bytes)
//! key_aes_encrypted = (temp_key XOR SHA256(aes_encrypted)) | aes_encrypted (256 bytes, < n,
//!                     else a new temp_key is drawn)
//! encrypted_data    = key_aes_encrypted ^ e mod n
//! ```
//! Old: `encrypted_data = (SHA1(data) | data | random)^e mod n` with the inner block 255 bytes.

use rand::RngCore;

use super::super::hash::{ct_eq, sha1, sha256, sha256_parts};
use super::super::ige::{aes_ige_decrypt, aes_ige_encrypt};
use super::super::CryptoError;
use super::{RsaPrivateKey, RsaPublicKey, RSA_BLOCK_LEN};

/// Longest `data` RSA_PAD can carry.
pub const RSA_PAD_MAX_DATA: usize = 144;
/// Length of `data_with_padding` that RSA_PAD decryption returns.
pub const RSA_PAD_DATA_LEN: usize = 192;
/// Longest `data` the old scheme can carry (255 - 20 bytes of SHA1).
pub const RSA_OLD_MAX_DATA: usize = 235;

fn require_2048(key: &RsaPublicKey) -> Result<(), CryptoError> {
    if key.n.bits() == 2048 {
        Ok(())
    } else {
        Err(CryptoError::BadKey(
            "Telegram RSA schemes need a 2048-bit modulus",
        ))
    }
}

/// RSA_PAD-encrypts `data` (≤ 144 bytes) under `key` (2048-bit). `rng` supplies, in this
/// order, the `192 - data.len()` padding bytes, then a 32-byte temp_key (another one for each
/// retry when the block is not below `n`).
pub fn rsa_pad_encrypt<R: RngCore + ?Sized>(
    data: &[u8],
    key: &RsaPublicKey,
    rng: &mut R,
) -> Result<[u8; RSA_BLOCK_LEN], CryptoError> {
    if data.len() > RSA_PAD_MAX_DATA {
        return Err(CryptoError::BadLength {
            what: "RSA_PAD data",
            got: data.len(),
            expected: "at most 144",
        });
    }
    require_2048(key)?;
    let mut data_with_padding = [0u8; RSA_PAD_DATA_LEN];
    data_with_padding[..data.len()].copy_from_slice(data);
    rng.fill_bytes(&mut data_with_padding[data.len()..]);
    loop {
        let mut temp_key = [0u8; 32];
        rng.fill_bytes(&mut temp_key);
        let mut block = [0u8; RSA_BLOCK_LEN];
        {
            let data_with_hash = &mut block[32..];
            for (dst, src) in data_with_hash[..192]
                .iter_mut()
                .zip(data_with_padding.iter().rev())
            {
                *dst = *src;
            }
            data_with_hash[192..].copy_from_slice(&sha256_parts(&[&temp_key, &data_with_padding]));
            aes_ige_encrypt(data_with_hash, &temp_key, &[0u8; 32])?;
        }
        let h = sha256(&block[32..]);
        for i in 0..32 {
            block[i] = temp_key[i] ^ h[i];
        }
        match key.encrypt_raw(&block) {
            Ok(out) => return Ok(out),
            Err(CryptoError::RsaValueOutOfRange) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Old-scheme encryption (what Telethon 1.x sends), for tests of the server side:
/// `(SHA1(data) | data | random padding)^e mod n`, the inner block being 255 bytes.
pub fn rsa_old_encrypt<R: RngCore + ?Sized>(
    data: &[u8],
    key: &RsaPublicKey,
    rng: &mut R,
) -> Result<[u8; RSA_BLOCK_LEN], CryptoError> {
    if data.len() > RSA_OLD_MAX_DATA {
        return Err(CryptoError::BadLength {
            what: "old-scheme RSA data",
            got: data.len(),
            expected: "at most 235",
        });
    }
    require_2048(key)?;
    let mut block = [0u8; RSA_BLOCK_LEN];
    block[1..21].copy_from_slice(&sha1(data));
    block[21..21 + data.len()].copy_from_slice(data);
    rng.fill_bytes(&mut block[21 + data.len()..]);
    key.encrypt_raw(&block)
}

/// A decrypted old-scheme block: a SHA1 and 235 bytes of data followed by padding. Only the
/// TL parser knows where the data ends, so the hash is checked by [`OldRsaPayload::data`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OldRsaPayload {
    hash: [u8; 20],
    data_with_padding: [u8; RSA_OLD_MAX_DATA],
}

impl OldRsaPayload {
    /// The data and padding after the hash (parse the TL object from here).
    pub fn data_with_padding(&self) -> &[u8] {
        &self.data_with_padding
    }

    /// The first `len` bytes, once `SHA1` of them matches the hash in the block.
    pub fn data(&self, len: usize) -> Result<&[u8], CryptoError> {
        let data = self
            .data_with_padding
            .get(..len)
            .ok_or(CryptoError::BadLength {
                what: "old-scheme RSA data",
                got: len,
                expected: "at most 235",
            })?;
        if ct_eq(&sha1(data), &self.hash) {
            Ok(data)
        } else {
            Err(CryptoError::RsaHashMismatch)
        }
    }
}

/// What the server found inside a client's `encrypted_data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RsaPlaintext {
    /// RSA_PAD, fully verified: the 192 bytes of `data_with_padding`.
    Pad(Box<[u8; RSA_PAD_DATA_LEN]>),
    /// The old scheme; its hash is checked once the data length is known.
    Old(Box<OldRsaPayload>),
}

/// Undoes RSA_PAD on a decrypted block, checking the SHA256 inside.
fn unpad(block: &[u8; RSA_BLOCK_LEN]) -> Result<[u8; RSA_PAD_DATA_LEN], CryptoError> {
    let (temp_key_xor, aes_encrypted) = block.split_at(32);
    let h = sha256(aes_encrypted);
    let mut temp_key = [0u8; 32];
    for i in 0..32 {
        temp_key[i] = temp_key_xor[i] ^ h[i];
    }
    let mut data_with_hash = [0u8; 224];
    data_with_hash.copy_from_slice(aes_encrypted);
    aes_ige_decrypt(&mut data_with_hash, &temp_key, &[0u8; 32])?;
    let mut data_with_padding = [0u8; RSA_PAD_DATA_LEN];
    for (dst, src) in data_with_padding
        .iter_mut()
        .zip(data_with_hash[..192].iter().rev())
    {
        *dst = *src;
    }
    let expected = sha256_parts(&[&temp_key, &data_with_padding]);
    if ct_eq(&expected, &data_with_hash[192..]) {
        Ok(data_with_padding)
    } else {
        Err(CryptoError::RsaHashMismatch)
    }
}

fn old_payload(block: &[u8; RSA_BLOCK_LEN]) -> Result<OldRsaPayload, CryptoError> {
    if block[0] != 0 {
        return Err(CryptoError::RsaValueOutOfRange);
    }
    let mut hash = [0u8; 20];
    hash.copy_from_slice(&block[1..21]);
    let mut data_with_padding = [0u8; RSA_OLD_MAX_DATA];
    data_with_padding.copy_from_slice(&block[21..]);
    Ok(OldRsaPayload {
        hash,
        data_with_padding,
    })
}

impl RsaPrivateKey {
    /// Server side of RSA_PAD: decrypts a 256-byte `encrypted_data` and checks it (length,
    /// below `n`, the SHA256 of temp_key and data). Returns `data_with_padding` (192 bytes; the
    /// TL object at its start).
    pub fn rsa_pad_decrypt(&self, encrypted: &[u8]) -> Result<[u8; RSA_PAD_DATA_LEN], CryptoError> {
        require_2048(&self.public)?;
        unpad(&self.decrypt_raw(encrypted)?)
    }

    /// Server side of the old scheme: decrypts and splits the block (its top byte must be 0).
    pub fn rsa_old_decrypt(&self, encrypted: &[u8]) -> Result<OldRsaPayload, CryptoError> {
        require_2048(&self.public)?;
        old_payload(&self.decrypt_raw(encrypted)?)
    }

    /// Decrypts `encrypted_data` of either scheme with one RSA operation: RSA_PAD if its hash
    /// checks, else the old scheme if the block has its shape, else
    /// [`CryptoError::RsaHashMismatch`].
    pub fn decrypt_inner_data(&self, encrypted: &[u8]) -> Result<RsaPlaintext, CryptoError> {
        require_2048(&self.public)?;
        let block = self.decrypt_raw(encrypted)?;
        match unpad(&block) {
            Ok(data) => Ok(RsaPlaintext::Pad(Box::new(data))),
            Err(CryptoError::RsaHashMismatch) => match old_payload(&block) {
                Ok(old) => Ok(RsaPlaintext::Old(Box::new(old))),
                Err(_) => Err(CryptoError::RsaHashMismatch),
            },
            Err(e) => Err(e),
        }
    }
}
