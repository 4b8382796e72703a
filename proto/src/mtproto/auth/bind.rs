//! `auth.bindTempAuthKey` (core.telegram.org/method/auth.bindTempAuthKey): binding a temporary
//! key to the permanent one for perfect forward secrecy.
//!
//! The `bind_auth_key_inner` message is encrypted with the *permanent* key in the MTProto v1
//! manner: `random:int128 | msg_id | seqno = 0 | msg_len = 40 | bind_auth_key_inner`, msg_key =
//! the low 128 bits of SHA1 of that string, padding to 16 bytes, AES-256-IGE with the v1 key
//! derivation (x = 0). The msg_id is the one of the request carrying it, sent under the
//! temporary key.

use rand::RngCore;

use super::AuthError;
use crate::crypto::{self, AuthKey};
use crate::tl::{types, Bytes, Deserializable, Reader, Serializable};

/// `auth.bindTempAuthKey#cdd42a05 perm_auth_key_id:long nonce:long expires_at:int
/// encrypted_message:bytes = Bool`, written by hand until the API schema is in `tl/api.tl`.
struct BindTempAuthKey {
    perm_auth_key_id: i64,
    nonce: i64,
    expires_at: i32,
    encrypted_message: Bytes,
}

/// The constructor id of `auth.bindTempAuthKey`.
pub const BIND_TEMP_AUTH_KEY_ID: u32 = 0xcdd42a05;

impl BindTempAuthKey {
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(28 + self.encrypted_message.len());
        out.extend_from_slice(&BIND_TEMP_AUTH_KEY_ID.to_le_bytes());
        out.extend_from_slice(&self.perm_auth_key_id.to_le_bytes());
        out.extend_from_slice(&self.nonce.to_le_bytes());
        out.extend_from_slice(&self.expires_at.to_le_bytes());
        crate::tl::write_tl_bytes(&self.encrypted_message, &mut out);
        out
    }

    fn from_bytes(body: &[u8]) -> Result<Self, crate::tl::DecodeError> {
        let mut r = Reader::new(Bytes::copy_from_slice(body));
        r.expect_id(BIND_TEMP_AUTH_KEY_ID, "auth.bindTempAuthKey")?;
        let v = BindTempAuthKey {
            perm_auth_key_id: r.read_i64()?,
            nonce: r.read_i64()?,
            expires_at: r.read_i32()?,
            encrypted_message: r.read_tl_bytes()?,
        };
        r.finish()?;
        Ok(v)
    }
}

/// The MTProto v1 AES key and IV for `msg_key` (client → server, x = 0).
fn v1_key_iv(auth_key: &[u8; 256], msg_key: &[u8; 16]) -> ([u8; 32], [u8; 32]) {
    let x = 0;
    let a = crypto::sha1_parts(&[msg_key, &auth_key[x..x + 32]]);
    let b = crypto::sha1_parts(&[
        &auth_key[32 + x..48 + x],
        msg_key,
        &auth_key[48 + x..64 + x],
    ]);
    let c = crypto::sha1_parts(&[&auth_key[64 + x..96 + x], msg_key]);
    let d = crypto::sha1_parts(&[msg_key, &auth_key[96 + x..128 + x]]);
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

/// The serialized `auth.bindTempAuthKey` request binding `temp` to `perm`, to be sent under
/// the temporary key in session `temp_session_id` as the message `msg_id`. Draws the nonce
/// (8 bytes), the 16 random bytes replacing salt and session, and the padding from `rng`.
pub fn bind_temp_auth_key_request(
    perm: &AuthKey,
    temp: &AuthKey,
    temp_session_id: i64,
    msg_id: i64,
    expires_at: i32,
    rng: &mut (impl RngCore + ?Sized),
) -> Result<Vec<u8>, AuthError> {
    let nonce = rng.next_u64() as i64;
    let inner = types::BindAuthKeyInner {
        nonce,
        temp_auth_key_id: temp.id() as i64,
        perm_auth_key_id: perm.id() as i64,
        temp_session_id,
        expires_at,
    }
    .to_bytes();
    let mut plain = vec![0u8; 16];
    rng.fill_bytes(&mut plain);
    plain.extend_from_slice(&msg_id.to_le_bytes());
    plain.extend_from_slice(&0i32.to_le_bytes());
    plain.extend_from_slice(&(inner.len() as i32).to_le_bytes());
    plain.extend_from_slice(&inner);
    let sha = crypto::sha1(&plain);
    let mut msg_key = [0u8; 16];
    msg_key.copy_from_slice(&sha[4..20]);
    let pad = (16 - plain.len() % 16) % 16;
    let start = plain.len();
    plain.resize(start + pad, 0);
    rng.fill_bytes(&mut plain[start..]);
    let (key, iv) = v1_key_iv(perm.as_bytes(), &msg_key);
    crypto::aes_ige_encrypt(&mut plain, &key, &iv)?;
    let mut encrypted = Vec::with_capacity(24 + plain.len());
    encrypted.extend_from_slice(&perm.id_bytes());
    encrypted.extend_from_slice(&msg_key);
    encrypted.extend_from_slice(&plain);
    Ok(BindTempAuthKey {
        perm_auth_key_id: perm.id() as i64,
        nonce,
        expires_at,
        encrypted_message: Bytes::from(encrypted),
    }
    .to_bytes())
}

/// What a verified binding says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The permanent key id the temporary key is now bound to.
    pub perm_auth_key_id: i64,
    /// When the temporary key expires (UNIX time).
    pub expires_at: i32,
}

/// Server side: verifies an `auth.bindTempAuthKey` request body received under the temporary
/// key `temp_auth_key_id` in session `temp_session_id` as message `msg_id`. `perm_key` looks up
/// a permanent key by id. Every field of the inner message must agree with the request and
/// with the envelope it arrived in.
pub fn verify_bind_temp_auth_key(
    body: &[u8],
    temp_auth_key_id: u64,
    temp_session_id: i64,
    msg_id: i64,
    perm_key: impl FnOnce(u64) -> Option<AuthKey>,
) -> Result<Binding, AuthError> {
    let req = BindTempAuthKey::from_bytes(body)?;
    let perm =
        perm_key(req.perm_auth_key_id as u64).ok_or(AuthError::Bind("unknown permanent key"))?;
    let enc = &req.encrypted_message;
    if enc.len() < 24 + 64 || (enc.len() - 24) % 16 != 0 || enc.len() > 24 + 128 {
        return Err(AuthError::Bind("encrypted_message has a bad length"));
    }
    if enc[..8] != perm.id_bytes() {
        return Err(AuthError::Bind(
            "encrypted_message is not under the permanent key",
        ));
    }
    let msg_key: [u8; 16] = enc[8..24].try_into().expect("16 bytes");
    let (key, iv) = v1_key_iv(perm.as_bytes(), &msg_key);
    let mut plain = enc[24..].to_vec();
    crypto::aes_ige_decrypt(&mut plain, &key, &iv)?;
    let len = i32::from_le_bytes(plain[28..32].try_into().expect("4 bytes"));
    if len != 40 {
        return Err(AuthError::Bind("msg_len is not 40"));
    }
    let end = 32 + 40;
    if plain.len() < end || plain.len() - end >= 16 {
        return Err(AuthError::Bind("bad padding"));
    }
    let sha = crypto::sha1(&plain[..end]);
    if !crypto::ct_eq(&sha[4..20], &msg_key) {
        return Err(AuthError::Bind("msg_key mismatch"));
    }
    if i64::from_le_bytes(plain[16..24].try_into().expect("8 bytes")) != msg_id {
        return Err(AuthError::Bind("msg_id differs from the request's"));
    }
    if i32::from_le_bytes(plain[24..28].try_into().expect("4 bytes")) != 0 {
        return Err(AuthError::Bind("seqno is not 0"));
    }
    let mut r = Reader::new(Bytes::copy_from_slice(&plain[32..end]));
    let inner = types::BindAuthKeyInner::deserialize(&mut r)?;
    r.finish()?;
    if inner.nonce != req.nonce {
        return Err(AuthError::Bind("nonce differs"));
    }
    if inner.expires_at != req.expires_at {
        return Err(AuthError::Bind("expires_at differs"));
    }
    if inner.perm_auth_key_id != req.perm_auth_key_id {
        return Err(AuthError::Bind("perm_auth_key_id differs"));
    }
    if inner.temp_auth_key_id != temp_auth_key_id as i64 {
        return Err(AuthError::Bind(
            "temp_auth_key_id is not the key the request came under",
        ));
    }
    if inner.temp_session_id != temp_session_id {
        return Err(AuthError::Bind(
            "temp_session_id is not the request's session",
        ));
    }
    Ok(Binding {
        perm_auth_key_id: req.perm_auth_key_id,
        expires_at: req.expires_at,
    })
}
