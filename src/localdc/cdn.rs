//! `--cdn`: a CDN DC in front of the regular ones (core.telegram.org/cdn).
//!
//! - An `upload.getFile` with `cdn_supported` for a document larger than [`CDN_MIN_SIZE`], at
//!   the document's home DC, is answered with `upload.fileCdnRedirect` to the CDN DC
//!   ([`CDN_DC_ID`]). Clients that do not set `cdn_supported` (Telethon 1.44) get the bytes as
//!   before, as on Telegram.
//! - The CDN DC has its own RSA key (announced by `help.getCdnConfig`), its own auth keys, knows
//!   no users and serves only `upload.getCdnFile`: other methods get 400 `CDN_METHOD_INVALID`.
//!   Parts follow the `upload.getFile` rules without `precise` and are AES-256-CTR encrypted
//!   with the document's key, the IV being the document's IV with its last 4 bytes replaced by
//!   offset / 16 (big-endian).
//! - File tokens, keys and IVs are derived from the document's name ([`super::ids`]), so two
//!   runs over the same media agree.
//! - `reupload=P`: a `getCdnFile` of a document not yet re-uploaded answers
//!   `upload.cdnFileReuploadNeeded` with probability P; from then on the document is missing
//!   from the CDN (every `getCdnFile` of it answers the same request token) until the client
//!   calls `upload.reuploadCdnFile` with that token on the home DC, which answers the hashes of
//!   the block that failed. A re-uploaded document stays on the CDN for the life of the process.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

use crate::crypto::ctr::AesCtr256;

use super::ids;
use super::media::{Document, Library};

/// DC id of the CDN DC: 200 + 1, the first CDN of the process. Telegram numbers its CDN DCs
/// above 200 (201, 203...), apart from the regular DCs (1..=5 there, 1..=16 here).
pub(super) const CDN_DC_ID: i32 = 201;

/// Documents strictly larger than this (1 MiB) are redirected to the CDN.
pub(super) const CDN_MIN_SIZE: u64 = 1 << 20;

/// Length of a `cdnFileReuploadNeeded` request token.
const REQUEST_TOKEN_LEN: usize = 16;
/// Most pending reupload requests kept (the oldest are forgotten past this).
const MAX_PENDING: usize = 10_000;

/// The CDN DC as the process knows it: its id, public key and which documents it holds.
#[derive(Debug)]
pub(super) struct Cdn {
    /// The CDN DC id ([`CDN_DC_ID`] when started by `tgmux local-dc --cdn`).
    pub dc_id: i32,
    /// The CDN DC's RSA public key, PKCS#1 PEM (for `help.getCdnConfig`).
    pub public_key_pem: String,
    state: Mutex<CdnState>,
}

#[derive(Debug, Default)]
struct CdnState {
    /// Documents re-uploaded (never to be asked for again).
    reuploaded: HashSet<i64>,
    /// Documents missing from the CDN: (request token, offset of the part that failed).
    pending: HashMap<i64, (Bytes, u64)>,
}

/// What the CDN does with one `getCdnFile` of a document, after the reupload roll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Presence {
    /// The document is on the CDN: serve it.
    Present,
    /// Missing: answer `cdnFileReuploadNeeded` with this request token.
    Missing(Bytes),
}

impl Cdn {
    /// A CDN DC `dc_id` with this public key, holding every large document.
    pub(super) fn new(dc_id: i32, public_key_pem: String) -> Self {
        Cdn {
            dc_id,
            public_key_pem,
            state: Mutex::new(CdnState::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, CdnState> {
        // Each method does one insert or remove: a poisoned lock holds consistent data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether document `d` is served through the CDN.
    pub(super) fn holds(d: &Document) -> bool {
        d.size > CDN_MIN_SIZE
    }

    /// The document a token names, if the token is the one derived for a CDN document.
    pub(super) fn document<'l>(library: &'l Library, token: &[u8]) -> Option<&'l Document> {
        let id = ids::cdn_token_document_id(token)?;
        let d = library.document(id)?;
        let expected = ids::cdn_file_token(d.id, &d.channel, &d.name);
        (Self::holds(d) && expected[..] == *token).then_some(d)
    }

    /// Whether `d` is on the CDN for a request at `offset`: `roll` is called (once) only for a
    /// document neither re-uploaded nor already missing, and when it says so the document goes
    /// missing under a new request token from `new_token`.
    pub(super) fn presence(
        &self,
        d: &Document,
        offset: u64,
        roll: impl FnOnce() -> bool,
        new_token: impl FnOnce(&mut [u8]),
    ) -> Presence {
        let mut s = self.state();
        if s.reuploaded.contains(&d.id) {
            return Presence::Present;
        }
        if let Some((token, _)) = s.pending.get(&d.id) {
            return Presence::Missing(token.clone());
        }
        if !roll() {
            return Presence::Present;
        }
        let mut token = vec![0u8; REQUEST_TOKEN_LEN];
        new_token(&mut token);
        let token = Bytes::from(token);
        if s.pending.len() >= MAX_PENDING {
            s.pending.clear();
        }
        s.pending.insert(d.id, (token.clone(), offset));
        Presence::Missing(token)
    }

    /// Re-uploads `d` if `request_token` is its pending one: the offset of the part that
    /// failed, or `None` for a wrong or already used token.
    pub(super) fn reupload(&self, d: &Document, request_token: &[u8]) -> Option<u64> {
        let mut s = self.state();
        let offset = match s.pending.get(&d.id) {
            Some((token, offset)) if token[..] == *request_token => *offset,
            _ => return None,
        };
        s.pending.remove(&d.id);
        s.reuploaded.insert(d.id);
        Some(offset)
    }
}

/// The AES-256-CTR key and IV of document `d`.
pub(super) fn secrets(d: &Document) -> ([u8; 32], [u8; 16]) {
    (
        ids::cdn_key(&d.channel, &d.name),
        ids::cdn_iv(&d.channel, &d.name),
    )
}

/// Encrypts (in place) the bytes of `d` starting at `offset` (a multiple of 16) as the CDN
/// stores them.
pub(super) fn encrypt_part(d: &Document, offset: u64, data: &mut [u8]) {
    let (key, iv) = secrets(d);
    AesCtr256::new(&key, &AesCtr256::cdn_iv(&iv, offset)).apply(data);
}
