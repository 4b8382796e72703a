//! One client connection, sans-IO: bytes in, bytes out.
//!
//! Layers: the transport [`Codec`] (autodetected framing) → the MTProto server machine
//! (auth-key exchange on plain messages, the encrypted session on the others) → the API
//! [`World::handle`]. The tokio driver ([`super::server`]) only moves bytes and sleeps.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngCore;

use crate::mtproto::transport::{Codec, Frame, ServerConfig, TransportError};

use super::faults::Faults;
use super::handler::World;

/// Transport error code sent when we cannot serve a message (auth key unknown).
pub const AUTH_KEY_NOT_FOUND: i32 = -404;

/// What the driver should do after feeding bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// Send what is in the output buffer, then close the connection.
    Close,
}

/// Why a connection ended abnormally (logged at `-v`).
#[derive(Debug)]
pub enum ConnError {
    /// Bad framing.
    Transport(TransportError),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Transport(e) => write!(f, "transport: {e:?}"),
        }
    }
}

/// One connection's whole protocol state.
pub struct Connection {
    /// The DC this connection reached.
    pub dc_id: i32,
    codec: Codec,
    #[allow(dead_code)]
    faults: Faults,
    #[allow(dead_code)]
    world: Arc<World>,
}

/// Unix time of `now`.
pub fn unix(now: SystemTime) -> Duration {
    now.duration_since(UNIX_EPOCH).unwrap_or_default()
}

impl Connection {
    /// A new connection to DC `dc_id`, the `conn_no`-th accepted there (for the fault stream).
    pub fn new(world: Arc<World>, dc_id: i32, conn_no: u64, seed: u64) -> Self {
        let faults = Faults::new(world.faults.clone(), seed, dc_id, conn_no);
        Connection {
            dc_id,
            codec: Codec::server(&ServerConfig::default()),
            faults,
            world,
        }
    }

    /// The transport name once detected (`abridged`, `obfuscated/intermediate`...).
    pub fn transport_name(&self) -> String {
        match (self.codec.kind(), self.codec.is_obfuscated()) {
            (Some(k), Some(true)) => format!("obfuscated/{}", k.name()),
            (Some(k), _) => k.name().to_string(),
            (None, _) => "undetected".into(),
        }
    }

    /// Feeds bytes from the socket; appends bytes to send to `out`.
    pub fn on_bytes(
        &mut self,
        bytes: &[u8],
        _now: SystemTime,
        _rng: &mut dyn RngCore,
        out: &mut Vec<u8>,
    ) -> Result<Flow, ConnError> {
        self.codec.push(bytes);
        while let Some(frame) = self.codec.poll_frame().map_err(ConnError::Transport)? {
            match frame {
                Frame::Payload(_payload) => {
                    // The MTProto server machine (auth-key exchange + encrypted session) is
                    // wired here when it lands; until then every message is refused the way a
                    // DC refuses an unknown auth key.
                    self.codec
                        .encode_transport_error(AUTH_KEY_NOT_FOUND, out)
                        .map_err(ConnError::Transport)?;
                    return Ok(Flow::Close);
                }
                Frame::TransportError(_) | Frame::QuickAck(_) => {}
            }
        }
        Ok(Flow::Continue)
    }
}
