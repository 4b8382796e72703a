//! The one error enum of the transport layer.

use std::fmt;

/// Why a transport refused bytes (decoding) or a payload (encoding).
///
/// Every variant except the encoder-side ones means the byte stream can no longer be trusted:
/// the connection must be closed. "Need more bytes" is never an error: decoders answer
/// `Ok(None)` for it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// A frame announced (or an encoder was handed) a payload larger than
    /// [`MAX_FRAME_LEN`](super::MAX_FRAME_LEN).
    FrameTooLarge {
        /// The payload length in bytes.
        len: u64,
    },
    /// A length that this transport forbids: zero, not a multiple of four, or shorter than
    /// the transport's own header and trailer.
    BadLength {
        /// The transport whose rule was broken.
        transport: &'static str,
        /// The length as found (bytes, or the raw field value for the full transport).
        len: u64,
        /// What rule the length broke.
        rule: &'static str,
    },
    /// The full transport's CRC32 trailer does not match the frame.
    BadCrc {
        /// CRC32 computed over the received length, seq no and payload.
        expected: u32,
        /// CRC32 found in the frame.
        got: u32,
    },
    /// The full transport's sequence number is not the next one expected.
    BadSeqNo {
        /// The next sequence number in this direction.
        expected: u32,
        /// The sequence number found in the frame.
        got: u32,
    },
    /// The obfuscated2 init decrypted to a protocol tag that names no transport
    /// (a corrupt init or a wrong MTProxy secret).
    BadObfuscatedTag {
        /// The four decrypted tag bytes (init bytes 56..60).
        got: [u8; 4],
    },
    /// The first bytes of a connection name a transport we do not serve (HTTP, TLS).
    UnsupportedTransport {
        /// The first four bytes of the connection.
        first_bytes: [u8; 4],
    },
    /// The requested combination of options cannot be built (e.g. the full transport
    /// inside obfuscated2, which has no protocol tag for it).
    Unsupported {
        /// What was asked for.
        what: &'static str,
    },
    /// A server codec was asked to encode before the client's first bytes told it which
    /// transport the connection uses.
    NotDetected,
    /// An earlier error closed this codec; it accepts nothing more.
    Closed,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FrameTooLarge { len } => write!(
                f,
                "transport frame of {len} bytes exceeds the {} byte limit",
                super::MAX_FRAME_LEN
            ),
            Self::BadLength {
                transport,
                len,
                rule,
            } => write!(f, "{transport} transport: bad length {len} ({rule})"),
            Self::BadCrc { expected, got } => write!(
                f,
                "full transport: bad CRC32 (computed {expected:#010x}, frame says {got:#010x})"
            ),
            Self::BadSeqNo { expected, got } => write!(
                f,
                "full transport: bad sequence number (expected {expected}, got {got})"
            ),
            Self::BadObfuscatedTag { got } => write!(
                f,
                "obfuscated2: unknown protocol tag {:02x}{:02x}{:02x}{:02x} (corrupt init or wrong secret)",
                got[0], got[1], got[2], got[3]
            ),
            Self::UnsupportedTransport { first_bytes } => write!(
                f,
                "unsupported transport (connection starts with {:02x}{:02x}{:02x}{:02x})",
                first_bytes[0], first_bytes[1], first_bytes[2], first_bytes[3]
            ),
            Self::Unsupported { what } => write!(f, "unsupported transport option: {what}"),
            Self::NotDetected => {
                write!(f, "server transport not yet detected: nothing can be sent")
            }
            Self::Closed => write!(f, "transport closed after an earlier error"),
        }
    }
}

impl std::error::Error for TransportError {}
