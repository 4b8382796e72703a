//! File references: opaque bytes a client must send back with `upload.getFile`.
//!
//! Ours encode the epoch they were issued in: 13 bytes = version (1) ‖ epoch (u32 big-endian) ‖
//! the first 8 bytes of SHA-256("tgmux fileref" ‖ document id (i64 LE) ‖ epoch (u32 BE)).
//! Without `expire-refs` the epoch is always 0, so references never change. With
//! `expire-refs=SECS` the epoch is `now / SECS`: a reference from an older epoch gets
//! `FILE_REFERENCE_EXPIRED` (the client refetches the message and retries), and anything that
//! is not a reference we issued for this document gets `FILE_REFERENCE_INVALID`.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::error::ApiError;

const VERSION: u8 = 1;
/// Length of a reference.
pub(super) const LEN: usize = 13;

/// Issues and checks file references; `period` is the `expire-refs` setting in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileRefs {
    /// Seconds per epoch; `None` = references never expire.
    pub period: Option<u32>,
}

fn tag(document_id: i64, epoch: u32) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(b"tgmux fileref");
    h.update(document_id.to_le_bytes());
    h.update(epoch.to_be_bytes());
    let d = h.finalize();
    let mut t = [0u8; 8];
    t.copy_from_slice(&d[..8]);
    t
}

impl FileRefs {
    /// The epoch at `now` (unix seconds).
    pub fn epoch(&self, now: u64) -> u32 {
        match self.period {
            Some(p) if p > 0 => (now / u64::from(p)).min(u64::from(u32::MAX)) as u32,
            _ => 0,
        }
    }

    /// The current reference for a document.
    pub fn issue(&self, document_id: i64, now: u64) -> Bytes {
        let epoch = self.epoch(now);
        let mut r = Vec::with_capacity(LEN);
        r.push(VERSION);
        r.extend_from_slice(&epoch.to_be_bytes());
        r.extend_from_slice(&tag(document_id, epoch));
        Bytes::from(r)
    }

    /// Checks a reference a client sent for a document.
    pub fn check(&self, document_id: i64, reference: &[u8], now: u64) -> Result<(), ApiError> {
        let invalid = || ApiError::bad_request("FILE_REFERENCE_INVALID");
        if reference.len() != LEN || reference[0] != VERSION {
            return Err(invalid());
        }
        let epoch = u32::from_be_bytes([reference[1], reference[2], reference[3], reference[4]]);
        if reference[5..] != tag(document_id, epoch) {
            return Err(invalid());
        }
        let current = self.epoch(now);
        if epoch == current {
            Ok(())
        } else if epoch < current {
            Err(ApiError::bad_request("FILE_REFERENCE_EXPIRED"))
        } else {
            Err(invalid())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_expire_without_period() {
        let refs = FileRefs::default();
        let r = refs.issue(42, 1000);
        assert_eq!(r, refs.issue(42, 9_999_999));
        assert_eq!(refs.check(42, &r, 5_000_000), Ok(()));
        assert_eq!(
            refs.check(43, &r, 1000).unwrap_err().message,
            "FILE_REFERENCE_INVALID"
        );
    }

    #[test]
    fn expire_after_period() {
        let refs = FileRefs { period: Some(10) };
        let r = refs.issue(42, 1005);
        assert_eq!(refs.check(42, &r, 1009), Ok(()));
        assert_eq!(
            refs.check(42, &r, 1010).unwrap_err().message,
            "FILE_REFERENCE_EXPIRED"
        );
        let fresh = refs.issue(42, 1010);
        assert_ne!(fresh, r);
        assert_eq!(refs.check(42, &fresh, 1019), Ok(()));
        // A reference from the future, or forged bytes, are invalid.
        assert_eq!(
            refs.check(42, &fresh, 1000).unwrap_err().message,
            "FILE_REFERENCE_INVALID"
        );
        let mut forged = fresh.to_vec();
        forged[12] ^= 1;
        assert_eq!(
            refs.check(42, &forged, 1015).unwrap_err().message,
            "FILE_REFERENCE_INVALID"
        );
        assert_eq!(
            refs.check(42, b"", 1015).unwrap_err().message,
            "FILE_REFERENCE_INVALID"
        );
        let mut later_epoch = fresh.to_vec();
        later_epoch[4] = later_epoch[4].wrapping_sub(1); // epoch 100 -> 99 without a new tag
        assert_eq!(
            refs.check(42, &later_epoch, 1015).unwrap_err().message,
            "FILE_REFERENCE_INVALID"
        );
    }
}
