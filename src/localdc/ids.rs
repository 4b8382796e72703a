//! Stable identifiers derived from names, so two runs over the same media agree.
//!
//! Every id is read from SHA-256 over a fixed domain string, the kind of object and its name:
//!
//! `h(kind, name) = first 8 bytes, little-endian, of SHA-256("tgmux local-dc\0" ‖ kind ‖ "\0" ‖ name)`
//!
//! | object | kind | name | value |
//! |---|---|---|---|
//! | channel id | `channel` | the directory name (`chan`, `+secret`; `chan.comments` for a discussion group) | 1 000 000 000 + h mod 1 000 000 000 |
//! | channel access hash | `channel-access` | same as channel id | h as i64 |
//! | document (or photo) id | `document` | `<channel dir>/<path inside it>` (`chan/2.mp4`, `chan/5/b.jpg`) | h with the top bit cleared |
//! | document access hash | `document-access` | same as document id | h as i64 |
//! | album grouped_id | `album` | `<channel dir>/<first msg id>` | h with the top bit cleared |
//! | user id | `user` | phone number, or `bot:<digits>` | 1 000 000 000 + h mod 1 000 000 000 |
//! | user access hash | `user-access` | same as user id | h as i64 |
//!
//! The CDN secrets of a document (`--cdn`) use the whole digest
//! `d(kind, name) = SHA-256("tgmux local-dc\0" ‖ kind ‖ "\0" ‖ name)`, name `<username>/<file name>`:
//!
//! | secret | kind | value |
//! |---|---|---|
//! | CDN file token (32 bytes) | `cdn-token` | document id as 8 little-endian bytes ‖ first 24 bytes of d |
//! | AES-256-CTR key (32 bytes) | `cdn-key` | d |
//! | AES-256-CTR IV (16 bytes) | `cdn-iv` | first 16 bytes of d |
//!
//! The token starts with the document id so the CDN finds the document without a table; the
//! rest authenticates it (a token is valid when it equals the one derived for that document).
//!
//! Channel and user ids stay below 10^12 so clients that "mark" ids (-100… for channels) keep
//! them apart.

use sha2::{Digest, Sha256};

/// The whole SHA-256 digest d(kind, name) (see the module docs).
pub fn stable_digest(kind: &str, name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tgmux local-dc\0");
    h.update(kind.as_bytes());
    h.update(b"\0");
    h.update(name.as_bytes());
    h.finalize().into()
}

/// The 64-bit hash of a (kind, name) pair (see the module docs).
pub fn stable_hash(kind: &str, name: &str) -> u64 {
    let digest = stable_digest(kind, name);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

fn peer_id(kind: &str, name: &str) -> i64 {
    1_000_000_000 + (stable_hash(kind, name) % 1_000_000_000) as i64
}

/// Channel id of `@username`.
pub fn channel_id(username: &str) -> i64 {
    peer_id("channel", username)
}

/// Access hash of `@username`.
pub fn channel_access_hash(username: &str) -> i64 {
    stable_hash("channel-access", username) as i64
}

/// Document id of `<username>/<file name>`.
pub fn document_id(username: &str, file_name: &str) -> i64 {
    (stable_hash("document", &format!("{username}/{file_name}")) & (i64::MAX as u64)) as i64
}

/// Document access hash of `<username>/<file name>`.
pub fn document_access_hash(username: &str, file_name: &str) -> i64 {
    stable_hash("document-access", &format!("{username}/{file_name}")) as i64
}

/// The `grouped_id` of the album starting at message `first` of channel directory `channel`.
pub fn album_id(channel: &str, first: i32) -> i64 {
    (stable_hash("album", &format!("{channel}/{first}")) & (i64::MAX as u64)) as i64
}

/// User id for a login name (a phone number, or `bot:<digits>` for a bot token's digits).
pub fn user_id(login: &str) -> i64 {
    peer_id("user", login)
}

/// User access hash for a login name.
pub fn user_access_hash(login: &str) -> i64 {
    stable_hash("user-access", login) as i64
}

/// CDN file token of `<username>/<file name>` (document id `id`).
pub fn cdn_file_token(id: i64, username: &str, file_name: &str) -> [u8; 32] {
    let d = stable_digest("cdn-token", &format!("{username}/{file_name}"));
    let mut t = [0u8; 32];
    t[..8].copy_from_slice(&id.to_le_bytes());
    t[8..].copy_from_slice(&d[..24]);
    t
}

/// The document id a CDN file token claims (its first 8 bytes), if it is 32 bytes long.
pub fn cdn_token_document_id(token: &[u8]) -> Option<i64> {
    if token.len() != 32 {
        return None;
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&token[..8]);
    Some(i64::from_le_bytes(id))
}

/// AES-256-CTR key of `<username>/<file name>` on the CDN.
pub fn cdn_key(username: &str, file_name: &str) -> [u8; 32] {
    stable_digest("cdn-key", &format!("{username}/{file_name}"))
}

/// AES-256-CTR IV of `<username>/<file name>` on the CDN (before the per-part offset).
pub fn cdn_iv(username: &str, file_name: &str) -> [u8; 16] {
    let d = stable_digest("cdn-iv", &format!("{username}/{file_name}"));
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&d[..16]);
    iv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_matches_the_documented_formula() {
        // Independent computation of the documented formula with the sha2 crate in one go.
        let d = Sha256::digest(b"tgmux local-dc\0channel\0chan");
        let h = u64::from_le_bytes(d[..8].try_into().unwrap());
        assert_eq!(
            channel_id("chan"),
            1_000_000_000 + (h % 1_000_000_000) as i64
        );
        assert_ne!(channel_id("chan"), channel_id("chan2"));
        assert!(document_id("chan", "2.mp4") >= 0);
        assert_ne!(document_id("chan", "2.mp4"), document_id("chan", "3.mp4"));
        assert!((1_000_000_000..2_000_000_000).contains(&user_id("9996612222")));
    }

    #[test]
    fn cdn_secrets_match_the_documented_formula() {
        let d = |kind: &str| Sha256::digest(format!("tgmux local-dc\0{kind}\0chan/2.mp4"));
        let id = document_id("chan", "2.mp4");
        let token = cdn_file_token(id, "chan", "2.mp4");
        assert_eq!(token[..8], id.to_le_bytes());
        assert_eq!(token[8..], d("cdn-token")[..24]);
        assert_eq!(cdn_token_document_id(&token), Some(id));
        assert_eq!(cdn_token_document_id(&token[..31]), None);
        assert_eq!(cdn_key("chan", "2.mp4")[..], d("cdn-key")[..]);
        assert_eq!(cdn_iv("chan", "2.mp4")[..], d("cdn-iv")[..16]);
        assert_ne!(cdn_key("chan", "2.mp4"), cdn_key("chan", "3.mp4"));
    }
}
