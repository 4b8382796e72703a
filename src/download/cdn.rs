//! CDN parts (core.telegram.org/cdn): AES-256-CTR decryption with the offset / 16 IV, and the
//! SHA-256 of every 128 KiB piece checked against the hashes the file's DC gives
//! (`upload.fileCdnRedirect.file_hashes`, `upload.getCdnFileHashes`, `upload.reuploadCdnFile`).
//! Pure computation; the driver does the calls.

use std::collections::BTreeMap;

use crate::crypto::ctr::AesCtr256;
use crate::crypto::hash::sha256;
use crate::tl::enums;

/// A CDN redirect: where the encrypted file is and how to decrypt it.
#[derive(Debug, Clone)]
pub struct CdnFile {
    /// The CDN DC.
    pub dc: i32,
    /// The DC that redirected (asked for hashes and re-uploads).
    pub home_dc: i32,
    /// `file_token` for `upload.getCdnFile`.
    pub token: Vec<u8>,
    key: [u8; 32],
    iv: [u8; 16],
}

impl CdnFile {
    /// From a redirect answered by `home_dc`; `None` when the key or IV has the wrong length.
    pub fn new(dc: i32, home_dc: i32, token: &[u8], key: &[u8], iv: &[u8]) -> Option<CdnFile> {
        Some(CdnFile {
            dc,
            home_dc,
            token: token.to_vec(),
            key: key.try_into().ok()?,
            iv: iv.try_into().ok()?,
        })
    }

    /// Decrypts in place the bytes of a part starting at file `offset` (a multiple of 16).
    pub fn decrypt(&self, offset: u64, data: &mut [u8]) {
        AesCtr256::new(&self.key, &AesCtr256::cdn_iv(&self.iv, offset)).apply(data);
    }
}

/// The pieces' hashes known so far, by offset.
#[derive(Debug, Default, Clone)]
pub struct HashBook {
    pieces: BTreeMap<u64, (u64, [u8; 32])>,
}

/// The outcome of checking a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Every piece the part holds matches.
    Good,
    /// No hash is known yet for the piece at this offset: fetch hashes from there.
    Missing(u64),
    /// The piece at this offset does not match its hash.
    Bad(u64),
}

impl HashBook {
    /// Adds `fileHash`es (later ones replace earlier ones for the same offset).
    pub fn add(&mut self, hashes: &[enums::FileHash]) {
        for enums::FileHash::FileHash(h) in hashes {
            let (Ok(offset), Ok(limit), Ok(hash)) = (
                u64::try_from(h.offset),
                u64::try_from(h.limit),
                <[u8; 32]>::try_from(&h.hash[..]),
            ) else {
                continue;
            };
            self.pieces.insert(offset, (limit, hash));
        }
    }

    /// Checks the decrypted `data` of a part at file `offset`: every byte must lie in a piece
    /// whose hash is known and matches.
    pub fn check(&self, offset: u64, data: &[u8]) -> Check {
        let end = offset + data.len() as u64;
        let mut at = offset;
        while at < end {
            let piece = self.pieces.range(..=at).next_back();
            let Some((&start, &(limit, hash))) = piece.filter(|(&s, &(l, _))| s + l > at) else {
                return Check::Missing(at);
            };
            let piece_end = start + limit;
            // Parts are asked on piece boundaries, so a piece reaching outside the part means
            // the part is short (or misplaced): it cannot be right.
            if start < offset
                || piece_end > end
                || sha256(&data[(start - offset) as usize..(piece_end - offset) as usize]) != hash
            {
                return Check::Bad(start);
            }
            at = piece_end;
        }
        Check::Good
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tl::types;

    fn hash(offset: u64, data: &[u8]) -> enums::FileHash {
        enums::FileHash::FileHash(types::FileHash {
            offset: offset as i64,
            limit: data.len() as i32,
            hash: sha256(data).to_vec().into(),
        })
    }

    #[test]
    fn pieces_are_checked_and_gaps_found() {
        let piece = 128 * 1024;
        let data: Vec<u8> = (0..3 * piece + 100).map(|i| (i * 7) as u8).collect();
        let mut book = HashBook::default();
        book.add(&[
            hash(0, &data[..piece]),
            hash(piece as u64, &data[piece..2 * piece]),
        ]);
        assert_eq!(book.check(0, &data[..2 * piece]), Check::Good);
        assert_eq!(book.check(0, &data), Check::Missing(2 * piece as u64));
        book.add(&[
            hash(2 * piece as u64, &data[2 * piece..3 * piece]),
            hash(3 * piece as u64, &data[3 * piece..]),
        ]);
        assert_eq!(book.check(0, &data), Check::Good);
        let mut bad = data.clone();
        bad[piece + 5] ^= 1;
        assert_eq!(book.check(0, &bad), Check::Bad(piece as u64));
        // A part cut short inside a piece does not pass.
        assert_eq!(book.check(0, &data[..piece + 10]), Check::Bad(piece as u64));
    }

    #[test]
    fn decryption_is_the_cdn_ctr_with_offset_iv() {
        // Encrypt with the reference construction (aes + ctr crates, IV's last 4 bytes =
        // offset / 16), decrypt with ours.
        use aes::cipher::{KeyIvInit, StreamCipher};
        let key = [7u8; 32];
        let iv = [9u8; 16];
        let offset = 3u64 << 20;
        let plain: Vec<u8> = (0..5000).map(|i| i as u8).collect();
        let mut counter = iv;
        counter[12..].copy_from_slice(&((offset / 16) as u32).to_be_bytes());
        let mut c = ctr::Ctr128BE::<aes::Aes256>::new(&key.into(), &counter.into());
        let mut data = plain.clone();
        c.apply_keystream(&mut data);
        let f = CdnFile::new(201, 1, b"t", &key, &iv).unwrap();
        f.decrypt(offset, &mut data);
        assert_eq!(data, plain);
        assert!(CdnFile::new(201, 1, b"t", &key[..31], &iv).is_none());
    }
}
