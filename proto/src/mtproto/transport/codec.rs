//! [`Codec`]: one connection's transport state, whatever the kind and role.

use bytes::BytesMut;
use ctr::cipher::StreamCipher;
use rand::RngCore;

use super::detect::{detect, Detection};
use super::full::SeqNos;
use super::obfuscated::{client_init, server_accept, Obfuscator, ProxySecret, INIT_LEN};
use super::{abridged, error_code, full, intermediate, Frame, Kind, Role, TransportError};

/// Obfuscated2 options of a client connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obfuscation {
    /// The DC id written into the init (negative for media DCs; test DCs are +10000).
    pub dc_id: i16,
    /// The MTProxy secret, when connecting through a proxy.
    pub secret: Option<ProxySecret>,
}

/// How a client frames its connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The framing.
    pub kind: Kind,
    /// Wrap the framing in obfuscated2 (not possible for [`Kind::Full`]).
    pub obfuscation: Option<Obfuscation>,
}

impl ClientConfig {
    /// The configuration a `--transport` name stands for: `abridged`, `intermediate`,
    /// `padded`, `full`, or `obfuscated` (obfuscated2 around intermediate, or around padded
    /// intermediate when the secret is a `dd` secret). `dc_id` and `secret` are used by
    /// `obfuscated` only.
    pub fn named(
        name: &str,
        dc_id: i16,
        secret: Option<ProxySecret>,
    ) -> Result<Self, TransportError> {
        let plain = |kind| {
            Ok(ClientConfig {
                kind,
                obfuscation: None,
            })
        };
        match name {
            "abridged" => plain(Kind::Abridged),
            "intermediate" => plain(Kind::Intermediate),
            "padded" => plain(Kind::PaddedIntermediate),
            "full" => plain(Kind::Full),
            "obfuscated" => {
                let kind = if secret.as_ref().is_some_and(ProxySecret::padded_only) {
                    Kind::PaddedIntermediate
                } else {
                    Kind::Intermediate
                };
                Ok(ClientConfig {
                    kind,
                    obfuscation: Some(Obfuscation { dc_id, secret }),
                })
            }
            _ => Err(TransportError::Unsupported {
                what:
                    "transport name (expected abridged, intermediate, padded, full or obfuscated)",
            }),
        }
    }
}

/// How a server accepts connections. Every kind is detected on the same port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerConfig {
    /// The MTProxy secret obfuscated2 clients must use; `None` for a plain DC.
    pub secret: Option<ProxySecret>,
}

/// The framing state of a detected connection.
#[derive(Debug)]
enum Framing {
    Abridged,
    Intermediate,
    Padded,
    Full(SeqNos),
}

impl Framing {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Abridged => Framing::Abridged,
            Kind::Intermediate => Framing::Intermediate,
            Kind::PaddedIntermediate => Framing::Padded,
            Kind::Full => Framing::Full(SeqNos::default()),
        }
    }
}

/// A connection whose transport is known.
#[derive(Debug)]
struct Ready {
    kind: Kind,
    framing: Framing,
    /// Boxed: two AES-256 key schedules are large, most connections are not obfuscated.
    obfuscator: Option<Box<Obfuscator>>,
    dc_id: Option<i16>,
    /// Bytes to send before the first frame (client: the transport header or the
    /// obfuscated2 init, the latter already encrypted).
    header: Vec<u8>,
}

#[derive(Debug)]
enum State {
    /// Server side, before the client's first bytes named the transport.
    Detecting(Option<ProxySecret>),
    Ready(Ready),
    /// An error was returned; the connection must be closed.
    Closed,
}

/// One connection's transport, client or server side: bytes in, frames out; payloads in,
/// bytes out.
///
/// Feed every byte received from the socket to [`push`](Self::push), then call
/// [`poll_frame`](Self::poll_frame) until it returns `Ok(None)`. Frame payloads to send with
/// [`encode`](Self::encode). After any error the codec is closed: close the connection.
#[derive(Debug)]
pub struct Codec {
    role: Role,
    state: State,
    /// Received bytes, already decrypted when obfuscated, not yet returned as frames.
    rx: RxBuf,
}

impl Codec {
    /// A client codec. Obfuscated2 draws its 64-byte init from `rng` here; the transport
    /// header goes out in front of the first [`encode`](Self::encode)d frame.
    pub fn client(config: &ClientConfig, rng: &mut dyn RngCore) -> Result<Self, TransportError> {
        let (header, obfuscator, dc_id) = match &config.obfuscation {
            None => (config.kind.plain_header().to_vec(), None, None),
            Some(o) => {
                let (init, obfuscator) = client_init(config.kind, o.dc_id, o.secret.as_ref(), rng)?;
                (init.to_vec(), Some(Box::new(obfuscator)), Some(o.dc_id))
            }
        };
        Ok(Codec {
            role: Role::Client,
            state: State::Ready(Ready {
                kind: config.kind,
                framing: Framing::new(config.kind),
                obfuscator,
                dc_id,
                header,
            }),
            rx: RxBuf::default(),
        })
    }

    /// A server codec: it learns the transport from the client's first bytes.
    pub fn server(config: &ServerConfig) -> Self {
        Codec {
            role: Role::Server,
            state: State::Detecting(config.secret.clone()),
            rx: RxBuf::default(),
        }
    }

    /// Which end this codec is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The framing in use, once known (a server learns it from the first bytes).
    pub fn kind(&self) -> Option<Kind> {
        match &self.state {
            State::Ready(r) => Some(r.kind),
            _ => None,
        }
    }

    /// Whether the connection is obfuscated2, once known.
    pub fn is_obfuscated(&self) -> Option<bool> {
        match &self.state {
            State::Ready(r) => Some(r.obfuscator.is_some()),
            _ => None,
        }
    }

    /// The DC id of the obfuscated2 init (sent by a client, read by a server).
    pub fn dc_id(&self) -> Option<i16> {
        match &self.state {
            State::Ready(r) => r.dc_id,
            _ => None,
        }
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered_len(&self) -> usize {
        self.rx.buf.len()
    }

    /// Takes bytes received from the peer, in chunks of any size. Bytes pushed after an
    /// error are dropped.
    pub fn push(&mut self, bytes: &[u8]) {
        if matches!(self.state, State::Closed) {
            return;
        }
        let start = self.rx.buf.len();
        self.rx.extend(bytes);
        if let State::Ready(Ready {
            obfuscator: Some(o),
            ..
        }) = &mut self.state
        {
            o.rx.apply_keystream(&mut self.rx.buf[start..]);
        }
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed. Call until `Ok(None)`
    /// after each [`push`](Self::push). An error closes the codec.
    #[must_use = "frames and errors must be handled"]
    pub fn poll_frame(&mut self) -> Result<Option<Frame>, TransportError> {
        let result = self.poll_inner();
        if result.is_err() {
            self.state = State::Closed;
            self.rx = RxBuf::default();
        }
        result
    }

    fn poll_inner(&mut self) -> Result<Option<Frame>, TransportError> {
        if let State::Detecting(secret) = &self.state {
            let ready = match detect(&self.rx.buf) {
                Detection::NeedMore => return Ok(None),
                Detection::Unsupported(first_bytes) => {
                    return Err(TransportError::UnsupportedTransport { first_bytes })
                }
                Detection::Plain { kind, header_len } => {
                    let _ = self.rx.buf.split_to(header_len);
                    Ready {
                        kind,
                        framing: Framing::new(kind),
                        obfuscator: None,
                        dc_id: None,
                        header: Vec::new(),
                    }
                }
                Detection::Obfuscated => {
                    let mut init = [0u8; INIT_LEN];
                    init.copy_from_slice(&self.rx.buf[..INIT_LEN]);
                    let (kind, dc_id, mut obfuscator) = server_accept(&init, secret.as_ref())?;
                    let _ = self.rx.buf.split_to(INIT_LEN);
                    obfuscator.rx.apply_keystream(&mut self.rx.buf);
                    Ready {
                        kind,
                        framing: Framing::new(kind),
                        obfuscator: Some(Box::new(obfuscator)),
                        dc_id: Some(dc_id),
                        header: Vec::new(),
                    }
                }
            };
            self.state = State::Ready(ready);
        }
        let ready = match &mut self.state {
            State::Ready(r) => r,
            State::Closed => return Err(TransportError::Closed),
            // Not reached: detection above either finished or returned.
            State::Detecting(_) => return Ok(None),
        };
        let role = self.role;
        let rx = &mut self.rx.buf;
        let frame = match &mut ready.framing {
            Framing::Abridged => abridged::decode(role, rx),
            Framing::Intermediate => intermediate::decode(false, role, rx),
            Framing::Padded => intermediate::decode(true, role, rx),
            Framing::Full(seq) => full::decode(seq, rx),
        };
        if let Ok(Some(Frame::Payload(p))) = &frame {
            self.rx.saw_frame(p.len());
        }
        frame
    }

    /// Appends the frame for `payload` to `out` (preceded, the first time on a client, by
    /// the transport header or obfuscated2 init). `rng` supplies padded-intermediate
    /// padding (0..15 bytes, the count from one `next_u32`) and is not used otherwise.
    /// A payload of the wrong length is refused without changing any state.
    ///
    /// A payload the peer would read as a transport error frame (4 bytes, or up to 23 on
    /// padded intermediate, starting with a negative int32) is refused: no MTProto packet is
    /// that short; send errors with [`encode_transport_error`](Self::encode_transport_error).
    pub fn encode(
        &mut self,
        payload: &[u8],
        rng: &mut dyn RngCore,
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        if let Some(kind) = self.kind() {
            if error_code(payload, kind.max_error_len()).is_some() {
                return Err(TransportError::BadLength {
                    transport: kind.name(),
                    len: payload.len() as u64,
                    rule:
                        "a short payload starting with a negative int32 reads as a transport error",
                });
            }
        }
        let mut padding = [0u8; 15];
        let mut padding_len = 0;
        if self.kind() == Some(Kind::PaddedIntermediate) {
            padding_len = (rng.next_u32() % 16) as usize;
            rng.fill_bytes(&mut padding[..padding_len]);
        }
        self.encode_inner(payload, &padding[..padding_len], out)
    }

    /// Appends a transport error frame (a 4-byte payload holding `code`, e.g. `-404`) to
    /// `out`; no padding is added on padded intermediate. `code` must be negative.
    pub fn encode_transport_error(
        &mut self,
        code: i32,
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        if code >= 0 {
            return Err(TransportError::Unsupported {
                what: "a transport error code must be negative",
            });
        }
        self.encode_inner(&code.to_le_bytes(), &[], out)
    }

    fn encode_inner(
        &mut self,
        payload: &[u8],
        padding: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        let ready = match &mut self.state {
            State::Ready(r) => r,
            State::Detecting(_) => return Err(TransportError::NotDetected),
            State::Closed => return Err(TransportError::Closed),
        };
        let mut frame = Vec::new();
        let target = if ready.header.is_empty() {
            &mut *out
        } else {
            &mut frame
        };
        let start = target.len();
        match &mut ready.framing {
            Framing::Abridged => abridged::encode(payload, target)?,
            Framing::Intermediate => intermediate::encode(false, payload, &[], target)?,
            Framing::Padded => intermediate::encode(true, payload, padding, target)?,
            Framing::Full(seq) => full::encode(seq, payload, target)?,
        }
        if let Some(o) = &mut ready.obfuscator {
            o.tx.apply_keystream(&mut target[start..]);
        }
        if !ready.header.is_empty() {
            out.reserve(ready.header.len() + frame.len());
            out.append(&mut ready.header);
            out.append(&mut frame);
        }
        Ok(())
    }
}

/// Read slack past the largest frame seen: what one socket read may bring of the next frame.
const RX_SLACK: usize = 64 * 1024;

/// Receive buffers kept for reuse per codec: enough for the frames a downloader holds from one
/// connection (a window of 8 parts over 4 connections holds about 2 each).
const RX_SPARES: usize = 2;

/// The receive buffer, and the buffers frames were cut from, for reuse.
///
/// Frames leave as [`BytesMut`]s split off the buffer (no copy), so a frame the receiver still
/// holds keeps its buffer alive. Left to grow by itself, the buffer is allocated afresh for
/// every frame once one is held, in doubling steps (64 KiB ... 2 MiB for a 1 MiB frame); with
/// glibc's dynamic mmap threshold the freed steps stay in the per-thread arenas, which is how
/// a download holding 8 MiB of parts peaked at 49 MiB. Here a buffer is sized once, to the
/// largest frame seen plus one read, and when it runs out the unfinished frame moves to a
/// spare whose frames have all been dropped (the spare is then the sole owner of its memory:
/// [`BytesMut::try_reclaim`]) or, if none is free, to a new buffer. At most [`RX_SPARES`] are
/// kept (the oldest is let go): a connection holds its current buffer, the frames its
/// receiver still holds, and at most that many idle buffers.
#[derive(Debug, Default)]
struct RxBuf {
    buf: BytesMut,
    spares: Vec<BytesMut>,
    /// The largest payload received.
    largest: usize,
}

impl RxBuf {
    fn extend(&mut self, bytes: &[u8]) {
        let len = self.buf.len();
        if self.buf.capacity() - len < bytes.len() {
            self.move_to_larger(len + bytes.len());
        }
        self.buf.extend_from_slice(bytes);
    }

    fn saw_frame(&mut self, payload_len: usize) {
        self.largest = self.largest.max(payload_len);
    }

    /// Moves the unfinished bytes to a buffer of at least `need` bytes with room for the
    /// largest frame: a reclaimed spare when one is free, else a new one.
    fn move_to_larger(&mut self, need: usize) {
        // Doubling while the first large frame arrives, then the largest frame's size.
        let want = need.max(self.largest + RX_SLACK).max(2 * self.buf.len());
        let mut next = match self.spares.iter_mut().position(|s| s.try_reclaim(want)) {
            Some(i) => self.spares.swap_remove(i),
            None => BytesMut::with_capacity(want),
        };
        next.extend_from_slice(&self.buf);
        let mut old = std::mem::replace(&mut self.buf, next);
        old.clear();
        if self.spares.len() == RX_SPARES {
            self.spares.remove(0);
        }
        self.spares.push(old);
    }
}

#[cfg(test)]
mod rx_tests {
    use super::*;

    #[test]
    fn receive_buffers_are_reused_once_their_frames_are_dropped() {
        let mut rx = RxBuf::default();
        let frame = vec![7u8; 1 << 20];
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            for chunk in frame.chunks(64 * 1024) {
                rx.extend(chunk);
            }
            let f = rx.buf.split_to(frame.len());
            assert!(f[..] == frame[..]);
            rx.saw_frame(f.len());
            seen.insert(f.as_ptr() as usize);
            drop(f);
        }
        // After the first frames (the first sized by the reads, then one at the frame's
        // size), every frame lands in a reused buffer: a handful of allocations, not 20.
        assert!(seen.len() <= 4, "{} buffers for 20 frames", seen.len());
        assert!(rx.spares.len() <= RX_SPARES);
    }

    #[test]
    fn held_frames_keep_their_bytes() {
        let mut rx = RxBuf::default();
        let mut held = Vec::new();
        for i in 0..6u8 {
            for _ in 0..4 {
                rx.extend(&[i; 100_000]);
            }
            held.push(rx.buf.split_to(400_000));
            rx.saw_frame(400_000);
        }
        for (i, f) in held.iter().enumerate() {
            assert!(f.iter().all(|&b| b == i as u8), "frame {i}");
        }
    }
}
