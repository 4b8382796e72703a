//! The auth-key exchange's error type.

use std::fmt;

use crate::crypto::CryptoError;
use crate::tl::DecodeError;

/// Why a step of the auth-key exchange failed. Every malformed, forged or unexpected input
/// ends here; the exchange must then be restarted from the beginning on a new connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// A handshake message could not be decoded.
    Decode(DecodeError),
    /// A cryptographic operation failed (bad lengths, RSA range, hash mismatch...).
    Crypto(CryptoError),
    /// The plain envelope is malformed.
    PlainEnvelope(&'static str),
    /// The `nonce` echoed by the peer is not ours.
    NonceMismatch,
    /// The `server_nonce` is not the one of this exchange.
    ServerNonceMismatch,
    /// `new_nonce_hash` (1, 2 or 3) does not match.
    NewNonceHashMismatch,
    /// The `pq` field is not 8 bytes, or does not factor into two primes.
    BadPq,
    /// The client's `p`/`q` are not the factors of the server's `pq`.
    WrongFactors,
    /// None of the server's key fingerprints belongs to a key we have.
    UnknownFingerprints(Vec<i64>),
    /// The encrypted answer or data is malformed (length, SHA1, padding).
    BadEncryptedPayload(&'static str),
    /// A Diffie–Hellman parameter or value fails the security checks.
    DhCheck(&'static str),
    /// The server answered server_DH_params_fail.
    ServerDhParamsFail,
    /// The server answered dh_gen_fail.
    DhGenFail,
    /// Too many dh_gen_retry answers.
    TooManyRetries,
    /// The client's retry_id is not the expected one.
    BadRetryId,
    /// A `bind_auth_key_inner` check failed.
    Bind(&'static str),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Decode(e) => write!(f, "auth-key exchange: {e}"),
            AuthError::Crypto(e) => write!(f, "auth-key exchange: {e}"),
            AuthError::PlainEnvelope(why) => write!(f, "plain message envelope: {why}"),
            AuthError::NonceMismatch => f.write_str("auth-key exchange: nonce mismatch"),
            AuthError::ServerNonceMismatch => {
                f.write_str("auth-key exchange: server_nonce mismatch")
            }
            AuthError::NewNonceHashMismatch => {
                f.write_str("auth-key exchange: new_nonce_hash mismatch")
            }
            AuthError::BadPq => {
                f.write_str("auth-key exchange: pq is not a product of two primes in 8 bytes")
            }
            AuthError::WrongFactors => {
                f.write_str("auth-key exchange: p and q are not the factors of pq")
            }
            AuthError::UnknownFingerprints(fps) => {
                write!(f, "auth-key exchange: no known RSA key among fingerprints ")?;
                for (i, fp) in fps.iter().enumerate() {
                    write!(f, "{}{:#018x}", if i > 0 { ", " } else { "" }, *fp as u64)?;
                }
                Ok(())
            }
            AuthError::BadEncryptedPayload(why) => {
                write!(f, "auth-key exchange: encrypted payload: {why}")
            }
            AuthError::DhCheck(why) => write!(f, "auth-key exchange: DH check failed: {why}"),
            AuthError::ServerDhParamsFail => {
                f.write_str("auth-key exchange: server answered server_DH_params_fail")
            }
            AuthError::DhGenFail => f.write_str("auth-key exchange: server answered dh_gen_fail"),
            AuthError::TooManyRetries => f.write_str("auth-key exchange: too many dh_gen_retry"),
            AuthError::BadRetryId => f.write_str("auth-key exchange: unexpected retry_id"),
            AuthError::Bind(why) => write!(f, "bindTempAuthKey: {why}"),
        }
    }
}

impl std::error::Error for AuthError {}

impl From<DecodeError> for AuthError {
    fn from(e: DecodeError) -> Self {
        AuthError::Decode(e)
    }
}

impl From<CryptoError> for AuthError {
    fn from(e: CryptoError) -> Self {
        AuthError::Crypto(e)
    }
}
