//! Cryptography for MTProto: AES-IGE/CTR, SHA, RSA, PQ, DH checks, SRP, MTProto 2.0 KDF.
//!
//! Everything here is sans-IO and deterministic: randomness comes in as an argument
//! (`&mut impl RngCore`, or explicit bytes where a published vector needs them), nothing reads a
//! clock or a socket. Errors are one enum, [`CryptoError`]; bad input never panics.
//!
//! | module | what |
//! |---|---|
//! | [`hash`] | SHA-1, SHA-256 (one- and multi-part), CRC32, constant-time compare |
//! | [`ige`] | AES-256-IGE in place, both directions |
//! | [`ctr`] | AES-256-CTR with a big-endian 128-bit counter (obfuscated2, CDN) |
//! | [`message`] | [`AuthKey`], MTProto 2.0 msg_key / AES key derivation, message encryption |
//! | [`message_v1`] | MTProto 1.0 message encryption (only for `auth.bindTempAuthKey`) |
//! | [`rsa`] | PKCS#1 PEM keys, fingerprints, RSA_PAD and the old scheme, key generation |
//! | [`pq`] | Pollard–Brent factorisation of the 64-bit `pq` |
//! | [`dh`] | Diffie–Hellman parameter and value checks, both roles |
//! | [`srp`] | 2FA password check (SRP), client proof and server verification |
//! | [`kdf`] | HMAC-SHA512, PBKDF2-HMAC-SHA512 |
//! | `modpow` | fixed-width Montgomery exponentiation ([`modpow()`]) |

pub mod ctr;
pub mod dh;
mod error;
pub mod hash;
pub mod ige;
pub mod kdf;
pub mod message;
pub mod message_v1;
mod modpow;
pub mod pq;
mod prime;
// rsa/ is being reworked (PKCS#8 keys) by its owner: a few of its helpers are still `pub` in
// private modules; they become `pub(super)` there and this allow goes.
#[allow(unreachable_pub)]
pub mod rsa;
pub mod srp;

pub use ctr::AesCtr256;
pub use dh::DhGroup;
pub use error::CryptoError;
pub use hash::{crc32, ct_eq, sha1, sha1_parts, sha256, sha256_parts};
pub use ige::{aes_ige_decrypt, aes_ige_encrypt};
pub use message::{
    calc_msg_key, check_plaintext_layout, decrypt_message, decrypt_message_in_place,
    derive_aes_key_iv, encrypt_message, encrypt_message_in_place, initial_server_salt,
    nonce_aes_key_iv, pad_message, padding_len, AuthKey, Side,
};
pub use modpow::modpow;
pub use pq::factorize;
pub use prime::{is_probable_prime, random_prime};
pub use rsa::{RsaPlaintext, RsaPrivateKey, RsaPublicKey};
