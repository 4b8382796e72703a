//! The session layer's error type.

use std::fmt;

use super::window::WindowError;
use crate::crypto::CryptoError;
use crate::tl::DecodeError;

/// Why an incoming packet was refused or an outgoing one could not be built. A refused
/// packet leaves the session usable: the driver logs it and carries on, except where
/// [`SessionError::is_fatal`] says the connection should be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// Decryption failed: wrong auth_key_id, forged msg_key, bad length or padding.
    Crypto(CryptoError),
    /// The message belongs to another session.
    WrongSession {
        /// The session_id in the message.
        got: i64,
        /// Ours.
        expected: i64,
    },
    /// The msg_id was refused by the receive window.
    Window(WindowError),
    /// A TL object inside the message could not be decoded.
    Decode(DecodeError),
    /// A container is malformed (nested, inner msg_id not below the container's...).
    BadContainer(&'static str),
    /// A body is larger than the session accepts, or not a multiple of 4.
    BodyTooLarge {
        /// Its length.
        len: usize,
    },
    /// The gzip_packed of one packet inflate beyond the session's budget
    /// ([`MAX_INFLATED`](super::MAX_INFLATED)).
    InflateBudget {
        /// The budget, in bytes.
        limit: usize,
    },
}

impl SessionError {
    /// Whether the connection should be closed (the peer uses another key).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            SessionError::Crypto(CryptoError::AuthKeyIdMismatch { .. })
        )
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Crypto(e) => write!(f, "encrypted message: {e}"),
            SessionError::WrongSession { got, expected } => {
                write!(f, "message for session {got:#x}, expected {expected:#x}")
            }
            SessionError::Window(e) => write!(f, "msg_id refused: {e:?}"),
            SessionError::Decode(e) => write!(f, "message body: {e}"),
            SessionError::BadContainer(why) => write!(f, "msg_container: {why}"),
            SessionError::InflateBudget { limit } => {
                write!(f, "gzip_packed of one packet inflate beyond {limit} bytes")
            }
            SessionError::BodyTooLarge { len } => {
                write!(
                    f,
                    "message body of {len} bytes is too large or not a multiple of 4"
                )
            }
        }
    }
}

impl std::error::Error for SessionError {}

impl From<CryptoError> for SessionError {
    fn from(e: CryptoError) -> Self {
        SessionError::Crypto(e)
    }
}

impl From<DecodeError> for SessionError {
    fn from(e: DecodeError) -> Self {
        SessionError::Decode(e)
    }
}

impl From<WindowError> for SessionError {
    fn from(e: WindowError) -> Self {
        SessionError::Window(e)
    }
}
