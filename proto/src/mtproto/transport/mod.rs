//! MTProto transports, sans-IO, both roles and both directions.
//!
//! A transport wraps each MTProto packet (the "payload") in a frame on a byte stream
//! (core.telegram.org/mtproto/mtproto-transports):
//!
//! | kind | connection starts with | frame |
//! |---|---|---|
//! | abridged | `ef` | length in 4-byte words: 1 byte if < 127, else `7f` + 3 bytes LE; payload |
//! | intermediate | `ee ee ee ee` | 4-byte LE length; payload (length % 4 == 0) |
//! | padded intermediate | `dd dd dd dd` | 4-byte LE length; payload; 0..15 random bytes |
//! | full | nothing | 4-byte LE length of the whole frame; 4-byte seq no; payload; CRC32 |
//! | obfuscated2 | 64-byte init | any of the first three, AES-256-CTR encrypted both ways |
//!
//! [`Codec`] is the one type the connection layer holds. A client picks its transport
//! ([`ClientConfig`]); a server autodetects it from the client's first bytes, so every kind is
//! served on one port ([`ServerConfig`]). Bytes from the socket go in with [`Codec::push`],
//! frames come out of [`Codec::poll_frame`] as [`Frame`]s (payloads as `BytesMut` split off the
//! receive buffer, not copied); [`Codec::encode`] appends a framed payload to an output
//! buffer. Randomness (padding, obfuscated2 init) is an argument, so tests are deterministic.
//!
//! Transport errors (`-404` auth key not found, `-429` flood, `-444` invalid DC) are 4-byte
//! frames holding a negative int32: they come out as [`Frame::TransportError`] and a server
//! sends them with [`Codec::encode_transport_error`].
//!
//! Quick acks: a client may set the top bit of an abridged length byte or an intermediate
//! length to ask for one; a server codec clears that bit and otherwise ignores the request
//! (we never send quick acks). A client codec recognises the server's 4-byte quick-ack
//! answer (top bit set where a length would be) and returns it as [`Frame::QuickAck`].

mod abridged;
mod codec;
mod detect;
mod error;
mod full;
mod intermediate;
mod obfuscated;

use bytes::{Buf, BytesMut};

pub use codec::{ClientConfig, Codec, Obfuscation, ServerConfig};
pub use error::TransportError;
pub use obfuscated::ProxySecret;

/// The largest payload any transport accepts or produces: 16 MiB.
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Which end of the connection a codec sits at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Opens the connection and sends the transport header.
    Client,
    /// Accepts the connection and detects the transport from the client's first bytes.
    Server,
}

/// The framing of a connection (obfuscated2 is a layer around the first three).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// One-byte lengths in 4-byte words; header byte `ef`.
    Abridged,
    /// Four-byte lengths; header `ee ee ee ee`.
    Intermediate,
    /// Four-byte lengths with 0..15 random padding bytes; header `dd dd dd dd`.
    PaddedIntermediate,
    /// Length, sequence number and CRC32 around each payload; no header.
    Full,
}

impl Kind {
    /// A short lowercase name: `abridged`, `intermediate`, `padded`, `full`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Abridged => "abridged",
            Kind::Intermediate => "intermediate",
            Kind::PaddedIntermediate => "padded",
            Kind::Full => "full",
        }
    }

    /// The obfuscated2 protocol tag (init bytes 56..60) naming this framing, if it has one.
    pub fn obfuscated_tag(self) -> Option<[u8; 4]> {
        match self {
            Kind::Abridged => Some([0xef; 4]),
            Kind::Intermediate => Some([0xee; 4]),
            Kind::PaddedIntermediate => Some([0xdd; 4]),
            Kind::Full => None,
        }
    }

    /// The bytes a plain (non-obfuscated) client sends once before its first frame.
    pub fn plain_header(self) -> &'static [u8] {
        match self {
            Kind::Abridged => &[0xef],
            Kind::Intermediate => &[0xee; 4],
            Kind::PaddedIntermediate => &[0xdd; 4],
            Kind::Full => &[],
        }
    }
}

/// One unit received from the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// An MTProto packet. For the padded intermediate transport it still carries the 0..15
    /// random padding bytes: the transport cannot tell them apart, the message layer can
    /// (a plain message has its own length field, an encrypted one is 24 + 16·k bytes).
    /// Its bytes are the receiver's alone (split off the receive buffer, not copied), so the
    /// message layer decrypts them in place.
    Payload(BytesMut),
    /// A transport error frame: a 4-byte payload holding this negative int32
    /// (`-404` auth key not found, `-429` flood, `-444` invalid DC...).
    TransportError(i32),
    /// A server's quick acknowledgement (client role only): the 32-bit token as sent,
    /// top bit set.
    QuickAck(u32),
}

/// Splits the first `header + len + trailer` bytes off `buf` and returns the `len` payload
/// bytes between, sharing the allocation (no copy).
fn take_payload(buf: &mut BytesMut, header: usize, len: usize, trailer: usize) -> BytesMut {
    let mut frame = buf.split_to(header + len + trailer);
    frame.advance(header);
    frame.truncate(len);
    frame
}

/// A payload as a [`Frame`]: a transport error if it is short enough (`max_error_len`, to
/// allow padding) and starts with a negative int32, else a packet.
fn classify(payload: BytesMut, max_error_len: usize) -> Frame {
    match error_code(&payload, max_error_len) {
        Some(code) => Frame::TransportError(code),
        None => Frame::Payload(payload),
    }
}

/// The transport error code a payload of at most `max_error_len` bytes starting with a
/// negative int32 stands for.
fn error_code(payload: &[u8], max_error_len: usize) -> Option<i32> {
    if payload.len() < 4 || payload.len() > max_error_len {
        return None;
    }
    let code = i32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
    (code < 0).then_some(code)
}

impl Kind {
    /// The longest payload a receiver may read as a transport error frame: 4 bytes, or up
    /// to 23 on padded intermediate (4 bytes plus padding; real packets are >= 24 bytes).
    fn max_error_len(self) -> usize {
        match self {
            Kind::PaddedIntermediate => 23,
            _ => 4,
        }
    }
}

/// Checks an outgoing or incoming payload length against [`MAX_FRAME_LEN`].
fn check_max(len: usize) -> Result<(), TransportError> {
    if len > MAX_FRAME_LEN {
        Err(TransportError::FrameTooLarge { len: len as u64 })
    } else {
        Ok(())
    }
}

/// Reads a little-endian u32 at `at` (the caller has checked the length).
fn le_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

/// Removes the 0..15 random bytes a padded-intermediate frame may carry after its MTProto
/// packet, using what the message layer knows: a plain message (auth_key_id 0) is 20 bytes of
/// header plus its declared length, an encrypted one is 24 + 16·k bytes. Anything shorter
/// than that is returned as is (the message layer then refuses it).
pub fn strip_padding(mut payload: BytesMut) -> BytesMut {
    let len = payload.len();
    if len >= 20 && payload[..8] == [0; 8] {
        let declared = le_u32(&payload, 16) as usize;
        if let Some(end) = declared.checked_add(20).filter(|&end| end <= len) {
            payload.truncate(end);
        }
    } else if len >= 40 {
        payload.truncate(24 + (len - 24) / 16 * 16);
    }
    payload
}

#[cfg(test)]
mod strip_tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn strips_only_the_padding() {
        let mut plain = vec![0u8; 20];
        plain[16] = 8;
        plain.extend_from_slice(&[1; 8]);
        let mut padded = plain.clone();
        padded.extend_from_slice(&[9; 7]);
        assert_eq!(
            strip_padding(BytesMut::from(&padded[..])),
            Bytes::from(plain.clone())
        );
        assert_eq!(
            strip_padding(BytesMut::from(&plain.clone()[..])),
            Bytes::from(plain)
        );
        let enc = vec![5u8; 24 + 32];
        let mut padded = enc.clone();
        padded.extend_from_slice(&[3; 15]);
        assert_eq!(
            strip_padding(BytesMut::from(&padded[..])),
            Bytes::from(enc.clone())
        );
        assert_eq!(
            strip_padding(BytesMut::from(&enc.clone()[..])),
            Bytes::from(enc)
        );
        // A plain header announcing more than there is stays as is.
        let mut short = vec![0u8; 24];
        short[16] = 200;
        assert_eq!(
            strip_padding(BytesMut::from(&short.clone()[..])).len(),
            short.len()
        );
    }
}
