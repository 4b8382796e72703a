//! Auth-key exchange, client and server, as states taken by value.
//!
//! - [`plain`]: the unencrypted envelope the exchange travels in.
//! - [`client`]: `req_pq_multi` → `req_DH_params` → `set_client_DH_params` → key.
//! - [`server`]: the mirror, accepting what old and new clients send.
//! - [`bind`]: `auth.bindTempAuthKey` for temporary keys (perfect forward secrecy).
//!
//! Steps work on TL bodies; randomness (`rng`) and time (`now`) are arguments.

pub mod bind;
pub mod client;
mod error;
pub mod plain;
pub mod server;

pub use error::AuthError;

use crate::crypto::{self, AuthKey};

/// The result of a finished exchange on the client side.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// The new key.
    pub auth_key: AuthKey,
    /// The first server salt: `new_nonce[0..8] xor server_nonce[0..8]` (as a little-endian long).
    pub server_salt: i64,
    /// Server time − local time, seconds, measured at the DH step.
    pub time_offset: i32,
    /// `Some(expires_in)` when the key is temporary.
    pub temp_expires_in: Option<i32>,
}

/// `new_nonce[0..8] xor server_nonce[0..8]`, read as a little-endian long.
pub fn server_salt(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> i64 {
    let mut s = [0u8; 8];
    for i in 0..8 {
        s[i] = new_nonce[i] ^ server_nonce[i];
    }
    i64::from_le_bytes(s)
}

/// The `new_nonce_hash` of server_DH_params_fail: the low 128 bits of SHA1(new_nonce).
pub fn new_nonce_hash_of_params_fail(new_nonce: &[u8; 32]) -> [u8; 16] {
    let h = crypto::sha1(new_nonce);
    let mut out = [0u8; 16];
    out.copy_from_slice(&h[4..]);
    out
}
