//! Access control: a bearer token (`Authorization: Bearer T` or `?token=T`) and signed links
//! (`?exp=<unix>&sig=<hex>`). Pure: the clock is an argument. Fuzzed with the Range parser
//! (`fuzz/fuzz_targets/http_range.rs`).
//!
//! A signed link's `sig` is lowercase hex of HMAC-SHA256(key, `"<path>\n<exp>"`), where `path`
//! is either the exact request path or the document's own path (`/alice/12`, `/c/123/12`):
//! signing the document path shares every route of that document (`.mp4`, the HLS
//! playlist and segments, `/watch/...`), which a player needs since it fetches many URLs.
//! `exp` is the last valid second (Unix time). Every comparison of a secret-derived value is
//! constant-time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::crypto::ct_eq;

type HmacSha256 = Hmac<Sha256>;

/// The credentials the server accepts; both `None` means open access.
#[derive(Clone, Default)]
pub struct Access {
    /// SHA-256 of the bearer token (compared in constant time, whatever the lengths).
    token_hash: Option<[u8; 32]>,
    /// The signed-link key.
    link_key: Option<Vec<u8>>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("token", &self.token_hash.is_some())
            .field("link_key", &self.link_key.is_some())
            .finish()
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No credentials at all (401).
    Missing,
    /// A token that is not ours (401).
    BadToken,
    /// A signature that does not match the path and expiry (403).
    BadSignature,
    /// A well-signed link past its expiry (403).
    Expired,
}

impl Denied {
    /// The short text of the refusal.
    pub fn message(self) -> &'static str {
        match self {
            Denied::Missing => "credentials required",
            Denied::BadToken => "bad token",
            Denied::BadSignature => "bad link signature",
            Denied::Expired => "link expired",
        }
    }
}

/// The credentials one request carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// The `Authorization` header's raw value.
    pub authorization: Option<&'a [u8]>,
    /// `?token=`.
    pub token: Option<&'a str>,
    /// `?exp=` and `?sig=` (both or neither: the query parser insists).
    pub signed: Option<(u64, [u8; 32])>,
}

impl Access {
    /// Access with an optional bearer token and an optional signed-link key.
    pub fn new(token: Option<&str>, link_key: Option<&[u8]>) -> Access {
        Access {
            token_hash: token.map(|t| Sha256::digest(t.as_bytes()).into()),
            link_key: link_key.map(<[u8]>::to_vec),
        }
    }

    /// Whether any credential is required.
    pub fn is_open(&self) -> bool {
        self.token_hash.is_none() && self.link_key.is_none()
    }

    /// Checks a request for `path` (the exact request path) of the document at `doc_path`
    /// (if the route names one) at Unix time `now`. Any one valid credential admits it.
    pub fn check(
        &self,
        creds: &Credentials<'_>,
        path: &str,
        doc_path: Option<&str>,
        now: u64,
    ) -> Result<(), Denied> {
        if self.is_open() {
            return Ok(());
        }
        let bearer = creds.authorization.and_then(bearer_token);
        let tokens = [bearer, creds.token.map(str::as_bytes)];
        let mut denied = Denied::Missing;
        if let Some(want) = &self.token_hash {
            for t in tokens.into_iter().flatten() {
                let got: [u8; 32] = Sha256::digest(t).into();
                if ct_eq(&got, want) {
                    return Ok(());
                }
                denied = Denied::BadToken;
            }
        } else if tokens.iter().any(Option::is_some) {
            denied = Denied::BadToken;
        }
        if let Some((exp, sig)) = creds.signed {
            let Some(key) = &self.link_key else {
                return Err(Denied::BadSignature);
            };
            let good = std::iter::once(path)
                .chain(doc_path)
                .any(|p| verify(key, p, exp, &sig));
            return match (good, now <= exp) {
                (true, true) => Ok(()),
                (true, false) => Err(Denied::Expired),
                (false, _) => Err(Denied::BadSignature),
            };
        }
        Err(denied)
    }

    /// The signature for `path` valid until `exp`, if a link key is set.
    pub fn sign(&self, path: &str, exp: u64) -> Option<[u8; 32]> {
        self.link_key.as_deref().map(|k| sign(k, path, exp))
    }
}

/// HMAC-SHA256(key, `"<path>\n<exp>"`).
pub fn sign(key: &[u8], path: &str, exp: u64) -> [u8; 32] {
    mac(key, path, exp).finalize().into_bytes().into()
}

/// Whether `sig` signs `path` and `exp` under `key` (constant-time).
pub fn verify(key: &[u8], path: &str, exp: u64, sig: &[u8; 32]) -> bool {
    mac(key, path, exp).verify_slice(sig).is_ok()
}

fn mac(key: &[u8], path: &str, exp: u64) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(path.as_bytes());
    m.update(b"\n");
    m.update(exp.to_string().as_bytes());
    m
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at(value.iter().position(|&b| b == b' ')?);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        let mut m = HmacSha256::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tokens() {
        let a = Access::new(Some("s3cret"), None);
        let check = |c: Credentials| a.check(&c, "/alice/1", Some("/alice/1"), 0);
        assert_eq!(check(Credentials::default()), Err(Denied::Missing));
        let auth = |v: &'static [u8]| Credentials {
            authorization: Some(v),
            ..Default::default()
        };
        assert_eq!(check(auth(b"Bearer s3cret")), Ok(()));
        assert_eq!(check(auth(b"bearer   s3cret ")), Ok(()));
        assert_eq!(check(auth(b"Bearer s3cre")), Err(Denied::BadToken));
        assert_eq!(check(auth(b"Basic s3cret")), Err(Denied::Missing));
        assert_eq!(check(auth(b"Bearers3cret")), Err(Denied::Missing));
        let q = |t: &'static str| Credentials {
            token: Some(t),
            ..Default::default()
        };
        assert_eq!(check(q("s3cret")), Ok(()));
        assert_eq!(check(q("S3CRET")), Err(Denied::BadToken));
        // A wrong header and a right query token: admitted.
        assert_eq!(
            check(Credentials {
                authorization: Some(b"Bearer x"),
                token: Some("s3cret"),
                signed: None
            }),
            Ok(())
        );
    }

    #[test]
    fn signed_links() {
        let a = Access::new(None, Some(b"key"));
        let sig = a.sign("/alice/12", 1000).unwrap();
        let check = |path: &str, doc: Option<&str>, exp: u64, sig: [u8; 32], now: u64| {
            let c = Credentials {
                signed: Some((exp, sig)),
                ..Default::default()
            };
            a.check(&c, path, doc, now)
        };
        assert_eq!(
            check("/alice/12", Some("/alice/12"), 1000, sig, 1000),
            Ok(())
        );
        assert_eq!(
            check("/alice/12", Some("/alice/12"), 1000, sig, 1001),
            Err(Denied::Expired)
        );
        // The document's signature covers its other routes.
        assert_eq!(
            check("/alice/12/seg-3.m4s", Some("/alice/12"), 1000, sig, 5),
            Ok(())
        );
        assert_eq!(
            check("/watch/alice/12", Some("/alice/12"), 1000, sig, 5),
            Ok(())
        );
        assert_eq!(
            check("/alice/13", Some("/alice/13"), 1000, sig, 5),
            Err(Denied::BadSignature)
        );
        assert_eq!(
            check("/alice/12", Some("/alice/12"), 1001, sig, 5),
            Err(Denied::BadSignature)
        );
        let mut forged = sig;
        forged[31] ^= 1;
        assert_eq!(
            check("/alice/12", Some("/alice/12"), 1000, forged, 5),
            Err(Denied::BadSignature)
        );
        let other = Access::new(None, Some(b"kez"))
            .sign("/alice/12", 1000)
            .unwrap();
        assert_eq!(
            check("/alice/12", Some("/alice/12"), 1000, other, 5),
            Err(Denied::BadSignature)
        );
        assert_eq!(check("/alice/12", Some("/alice/12"), 1000, sig, 5), Ok(()));
        // Without credentials.
        assert_eq!(
            a.check(&Credentials::default(), "/alice/12", None, 0),
            Err(Denied::Missing)
        );
        // A token where only links are accepted.
        let t = Credentials {
            token: Some("x"),
            ..Default::default()
        };
        assert_eq!(a.check(&t, "/alice/12", None, 0), Err(Denied::BadToken));
        // The message is "<path>\n<exp>".
        assert_eq!(sign(b"key", "/alice/12", 1000), {
            let mut m = HmacSha256::new_from_slice(b"key").unwrap();
            m.update(b"/alice/12\n1000");
            <[u8; 32]>::from(m.finalize().into_bytes())
        });
    }

    #[test]
    fn open_access() {
        assert_eq!(
            Access::default().check(&Credentials::default(), "/x/1", None, 0),
            Ok(())
        );
    }
}
