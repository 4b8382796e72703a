//! The one error type of the crypto layer.

use std::fmt;

/// Everything that can go wrong in `crate::crypto`. Each variant names what was wrong with
/// the input; none of them carries secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// A buffer had a length the operation cannot take (`what` names the buffer).
    BadLength {
        /// Which buffer.
        what: &'static str,
        /// Its length.
        got: usize,
        /// What was expected, in words ("a multiple of 16", "at most 144"...).
        expected: &'static str,
    },
    /// An encrypted message carries another auth_key_id than ours.
    AuthKeyIdMismatch {
        /// The id in the packet (little-endian u64 as on the wire).
        got: u64,
        /// Our key's id.
        expected: u64,
    },
    /// The msg_key recomputed from the decrypted payload differs from the one received.
    MsgKeyMismatch,
    /// A hash check inside a decrypted RSA payload failed.
    RsaHashMismatch,
    /// An RSA input is not below the modulus, or an RSA output is malformed.
    RsaValueOutOfRange,
    /// A PEM or DER key could not be parsed.
    BadKey(&'static str),
    /// A Diffie–Hellman (or SRP) parameter or value failed a security check; the text names it.
    DhCheck(&'static str),
    /// The SRP proof `M1` does not match (wrong 2FA password).
    SrpMismatch,
    /// The number given to the PQ factoriser is not a product of two primes we can split.
    NotSemiprime(u64),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::BadLength {
                what,
                got,
                expected,
            } => {
                write!(f, "{what}: length {got}, expected {expected}")
            }
            CryptoError::AuthKeyIdMismatch { got, expected } => {
                write!(f, "auth_key_id {got:#018x} is not ours ({expected:#018x})")
            }
            CryptoError::MsgKeyMismatch => {
                write!(f, "msg_key does not match the decrypted payload")
            }
            CryptoError::RsaHashMismatch => write!(f, "hash inside the RSA payload does not match"),
            CryptoError::RsaValueOutOfRange => write!(f, "RSA value out of range"),
            CryptoError::BadKey(why) => write!(f, "bad RSA key: {why}"),
            CryptoError::DhCheck(why) => write!(f, "Diffie-Hellman check failed: {why}"),
            CryptoError::SrpMismatch => write!(f, "SRP check failed (wrong password)"),
            CryptoError::NotSemiprime(n) => write!(f, "cannot factorise pq = {n}"),
        }
    }
}

impl std::error::Error for CryptoError {}
