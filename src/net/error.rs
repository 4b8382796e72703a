//! The client I/O layer's error type.

use std::fmt;
use std::sync::Arc;

use super::session_file::SessionFileError;
use crate::mtproto::auth::AuthError;
use crate::mtproto::session::{RpcError, SessionError};
use crate::mtproto::transport::TransportError;
use crate::tl::DecodeError;

/// Why a connection could not be made or an RPC got no usable answer.
///
/// `Clone`, because when a connection dies every request still waiting on it gets the same
/// reason.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum InvokeError {
    /// Connecting, reading or writing the socket failed.
    Io(Arc<std::io::Error>),
    /// The byte stream broke the transport's framing.
    Transport(TransportError),
    /// The server sent a transport error frame (`-404` auth key not found, `-429` flood,
    /// `-444` invalid DC).
    TransportCode(i32),
    /// The auth-key exchange failed.
    Auth(AuthError),
    /// The session refused a packet in a way that ends the connection (another key).
    Session(SessionError),
    /// The server answered with an rpc_error (`FLOOD_WAIT_X` and friends are parsed).
    Rpc(RpcError),
    /// The answer is not the TL type the request returns.
    Decode(DecodeError),
    /// The session gave up on the request (resent too often).
    Dropped,
    /// No answer within the timeout.
    Timeout,
    /// The connection is closed (by the server, or because every handle was dropped).
    Closed,
    /// The server asked for a longer wait (`FLOOD_WAIT_X`, `FLOOD_PREMIUM_WAIT_X`) than the
    /// pool waits on its own, or asked again after the pool's retries.
    FloodWait {
        /// Seconds the server asked for.
        seconds: u32,
        /// The server's message, e.g. `FLOOD_WAIT_120`.
        message: String,
    },
    /// The session's authorization is gone or never was (`AUTH_KEY_UNREGISTERED`,
    /// `SESSION_REVOKED`).
    NotLoggedIn(RpcError),
    /// The session file could not be read or written.
    SessionFile(Arc<SessionFileError>),
    /// The DC config has no address for this DC.
    UnknownDc(i32),
    /// A call needing the login went to a DC whose authorized key was answered with -404:
    /// the key is kept (the frame may be forged, see [`super::saved_key`]) and the run's
    /// temporary key is not logged in.
    KeyRefused {
        /// The DC.
        dc: i32,
    },
    /// What the server sent first is no MTProto transport frame but text (an HTTP server, a
    /// captive portal, ...).
    NotMtproto {
        /// Where we connected, `host:port`.
        addr: String,
        /// The answer's first word, e.g. `HTTP`.
        answer: String,
    },
}

impl InvokeError {
    /// Whether the error is a timeout (connect, or waiting for an answer).
    pub fn is_timeout(&self) -> bool {
        match self {
            InvokeError::Timeout => true,
            InvokeError::Io(e) => e.kind() == std::io::ErrorKind::TimedOut,
            _ => false,
        }
    }

    /// The seconds to wait for `FLOOD_WAIT_X`, `FLOOD_PREMIUM_WAIT_X` and `SLOWMODE_WAIT_X`.
    pub fn flood_wait_seconds(&self) -> Option<u32> {
        match self {
            InvokeError::Rpc(e) => e.kind.wait_seconds(),
            InvokeError::FloodWait { seconds, .. } => Some(*seconds),
            _ => None,
        }
    }

    /// Whether the session must log in (again) before this call can work.
    pub fn is_not_logged_in(&self) -> bool {
        match self {
            InvokeError::NotLoggedIn(_) => true,
            InvokeError::Rpc(e) => e.kind.is_unauthorized(),
            _ => false,
        }
    }

    /// The DC X of a `*_MIGRATE_X` answer (`FILE_MIGRATE_X`: the file lives on DC X).
    pub fn migrate_dc(&self) -> Option<i32> {
        self.rpc().and_then(|e| e.kind.migrate_dc())
    }

    /// Whether the server asked us to wait before repeating.
    pub fn is_flood_wait(&self) -> bool {
        self.flood_wait_seconds().is_some()
    }

    /// Whether the server does not know our auth key (transport error -404): make a new one.
    pub fn is_auth_key_unknown(&self) -> bool {
        matches!(self, InvokeError::TransportCode(-404))
    }

    /// The rpc_error, if that is what this is.
    pub fn rpc(&self) -> Option<&RpcError> {
        match self {
            InvokeError::Rpc(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvokeError::Io(e) => write!(f, "{e}"),
            InvokeError::Transport(e) => write!(f, "transport: {e}"),
            InvokeError::TransportCode(-404) => {
                f.write_str("the server does not know our auth key (transport error -404)")
            }
            InvokeError::TransportCode(-429) => {
                f.write_str("too many connections or requests (transport error -429)")
            }
            InvokeError::TransportCode(-444) => f.write_str("invalid DC (transport error -444)"),
            InvokeError::TransportCode(c) => write!(f, "transport error {c}"),
            InvokeError::Auth(e) => write!(f, "auth-key exchange: {e}"),
            InvokeError::Session(e) => write!(f, "session: {e}"),
            InvokeError::Rpc(e) => write!(f, "rpc_error {} {}", e.code, e.message),
            InvokeError::Decode(e) => write!(f, "answer does not decode: {e}"),
            InvokeError::Dropped => f.write_str("request dropped after too many resends"),
            InvokeError::Timeout => f.write_str("timed out waiting for an answer"),
            InvokeError::Closed => f.write_str("connection closed by the server"),
            InvokeError::FloodWait { seconds, message } => write!(
                f,
                "the server asks to wait {seconds} s before repeating ({message})"
            ),
            InvokeError::NotLoggedIn(e) => {
                write!(
                    f,
                    "not logged in: run `tgmux login` (server said {})",
                    e.message
                )
            }
            InvokeError::SessionFile(e) => write!(f, "{e}"),
            InvokeError::UnknownDc(dc) => write!(f, "DC {dc} has no known address"),
            InvokeError::KeyRefused { dc } => write!(
                f,
                "DC {dc} answered -404 (auth key not found, an unauthenticated frame) to the \
                 session's logged-in key: the key was kept, and this run's temporary key is not \
                 logged in"
            ),
            InvokeError::NotMtproto { addr, answer } => write!(
                f,
                "the server at {addr} does not speak MTProto (it answered {answer})"
            ),
        }
    }
}

impl std::error::Error for InvokeError {}

impl From<std::io::Error> for InvokeError {
    /// A reset or broken pipe is the server closing the connection, like a clean EOF.
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
        match e.kind() {
            BrokenPipe | ConnectionAborted | ConnectionReset | UnexpectedEof => InvokeError::Closed,
            _ => InvokeError::Io(Arc::new(e)),
        }
    }
}

impl From<SessionFileError> for InvokeError {
    fn from(e: SessionFileError) -> Self {
        InvokeError::SessionFile(Arc::new(e))
    }
}

impl From<TransportError> for InvokeError {
    fn from(e: TransportError) -> Self {
        InvokeError::Transport(e)
    }
}

impl From<AuthError> for InvokeError {
    fn from(e: AuthError) -> Self {
        InvokeError::Auth(e)
    }
}

impl From<DecodeError> for InvokeError {
    fn from(e: DecodeError) -> Self {
        InvokeError::Decode(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions() {
        let flood = InvokeError::Rpc(RpcError::new(420, "FLOOD_WAIT_17"));
        assert_eq!(flood.flood_wait_seconds(), Some(17));
        assert!(flood.is_flood_wait() && !flood.is_timeout());
        assert_eq!(flood.to_string(), "rpc_error 420 FLOOD_WAIT_17");
        assert!(!InvokeError::Rpc(RpcError::new(400, "LIMIT_INVALID")).is_flood_wait());
        assert!(InvokeError::Timeout.is_timeout());
        assert!(InvokeError::from(std::io::Error::from(std::io::ErrorKind::TimedOut)).is_timeout());
        assert!(InvokeError::TransportCode(-404).is_auth_key_unknown());
        assert!(!InvokeError::TransportCode(-429).is_auth_key_unknown());
        let too_long = InvokeError::FloodWait {
            seconds: 120,
            message: "FLOOD_WAIT_120".into(),
        };
        assert_eq!(too_long.flood_wait_seconds(), Some(120));
        let gone = InvokeError::NotLoggedIn(RpcError::new(401, "AUTH_KEY_UNREGISTERED"));
        assert!(gone.is_not_logged_in());
        assert!(gone
            .to_string()
            .starts_with("not logged in: run `tgmux login`"));
        assert!(InvokeError::Rpc(RpcError::new(401, "SESSION_REVOKED")).is_not_logged_in());
        assert_eq!(
            InvokeError::Rpc(RpcError::new(303, "FILE_MIGRATE_3")).migrate_dc(),
            Some(3)
        );
        for e in [
            InvokeError::Closed,
            InvokeError::TransportCode(-444),
            InvokeError::TransportCode(-1),
        ] {
            assert!(!e.to_string().contains('\n'));
        }
    }
}
