//! One client connection, sans-IO: bytes in, bytes out.
//!
//! Layers: the transport [`Codec`] (framing autodetected) → plain messages go to the server
//! side of the auth-key exchange, encrypted ones to the [`ServerSession`] of their auth key →
//! RPC requests to [`World::handle`]. The tokio driver ([`super::server`]) only moves bytes,
//! sleeps and keeps time.
//!
//! Auth keys live in the process-wide [`KeyStore`] per DC, so a client reconnecting with its
//! key is recognised; an unknown key gets the transport error -404 like on Telegram.
//!
//! The `salt=P` fault is injected here: the packet is decrypted with the session's key (to
//! learn its msg_id and session), answered with `bad_server_salt` carrying the current salt,
//! and not handed to the session, so the client resends it as a new message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::crypto::{AuthKey, Side};
use crate::mtproto::auth::server::{
    self as auth_server, AwaitReqDh, AwaitSetClientDh, ServerOutcome,
};
use crate::mtproto::auth::{plain, AuthError};
use crate::mtproto::session::{
    wire, BadMsgCode, Event, SaltSchedule, ServerSession, ServerSessionConfig, SessionError,
};
use crate::mtproto::transport::{
    self, Codec, Frame, Kind, ProxySecret, ServerConfig, TransportError,
};
use crate::tl::{types, Identifiable, Serializable};

use super::faults::Faults;
use super::handler::{Ctx, Reply, World};

/// Transport error code sent for an unknown auth key.
pub(super) const AUTH_KEY_NOT_FOUND: i32 = -404;
/// Most auth keys remembered per process (oldest forgotten first).
pub(super) const MAX_KEYS: usize = 100_000;
/// Most sessions (auth keys) one connection may use at once.
const MAX_SESSIONS_PER_CONNECTION: usize = 4;

/// Auth keys per (DC, key id), shared by all connections of the process.
#[derive(Debug, Default)]
pub struct KeyStore {
    keys: Mutex<HashMap<(i32, u64), AuthKey>>,
}

impl KeyStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(i32, u64), AuthKey>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key `id` of DC `dc`.
    pub fn get(&self, dc: i32, id: u64) -> Option<AuthKey> {
        self.lock().get(&(dc, id)).cloned()
    }

    /// Whether DC `dc` knows key `id`.
    pub fn contains(&self, dc: i32, id: u64) -> bool {
        self.lock().contains_key(&(dc, id))
    }

    /// Remembers a new key.
    pub fn insert(&self, dc: i32, key: AuthKey) {
        let mut k = self.lock();
        if k.len() >= MAX_KEYS {
            k.clear();
        }
        k.insert((dc, key.id()), key);
    }
}

/// What every connection shares.
pub struct Shared {
    /// The API state.
    pub world: Arc<World>,
    /// RSA keys for the auth-key exchange on the regular DCs.
    pub auth: Arc<auth_server::ServerConfig>,
    /// With `--cdn`: the CDN DC's id and its own RSA key (the only one it accepts).
    pub cdn_auth: Option<(i32, Arc<auth_server::ServerConfig>)>,
    /// Auth keys per DC.
    pub keys: KeyStore,
    /// The server salt schedule.
    pub salts: SaltSchedule,
    /// Fault seed.
    pub seed: u64,
    /// `--proxy-secret`: obfuscated2 connections must use this MTProxy secret, and each one
    /// is served as the DC its init names (every listener acts as an MTProxy for all DCs).
    pub proxy_secret: Option<ProxySecret>,
}

impl Shared {
    /// The RSA keys DC `dc` does auth-key exchanges with.
    pub fn auth_for(&self, dc: i32) -> Arc<auth_server::ServerConfig> {
        match &self.cdn_auth {
            Some((id, auth)) if *id == dc => auth.clone(),
            _ => self.auth.clone(),
        }
    }
}

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
#[non_exhaustive]
pub enum ConnError {
    /// Bad framing.
    Transport(TransportError),
    /// A broken auth-key exchange.
    Auth(AuthError),
    /// A fatal session error.
    Session(SessionError),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Transport(e) => write!(f, "transport: {e:?}"),
            ConnError::Auth(e) => write!(f, "auth-key exchange: {e}"),
            ConnError::Session(e) => write!(f, "session: {e}"),
        }
    }
}

/// Where this connection's auth-key exchange is.
enum Handshake {
    Idle,
    ReqDh(AwaitReqDh),
    SetClientDh(AwaitSetClientDh),
}

/// One RPC error, for the `-v` log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedError {
    /// The TL constructor id of the (unwrapped) request.
    pub request: u32,
    /// The error.
    pub error: super::ApiError,
}

/// One connection's whole protocol state.
pub struct Connection {
    /// The DC this connection reached.
    pub dc_id: i32,
    codec: Codec,
    /// Whether `dc_id` is final (with `--proxy-secret`, the first frame's init may change it).
    routed: bool,
    faults: Faults,
    shared: Arc<Shared>,
    handshake: Handshake,
    sessions: HashMap<u64, ServerSession>,
    layer: Option<i32>,
    last_plain_msg_id: i64,
    packet: Vec<u8>,
    /// RPC errors answered since the driver last took them (for logging).
    pub errors: Vec<LoggedError>,
}

/// Unix time of `now`.
pub(super) fn unix(now: SystemTime) -> Duration {
    now.duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn request_id(body: &[u8]) -> u32 {
    body.get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0)
}

impl Connection {
    /// A new connection to DC `dc_id`, the `conn_no`-th accepted there (for the fault stream).
    pub fn new(shared: Arc<Shared>, dc_id: i32, conn_no: u64) -> Self {
        let faults = Faults::new(shared.world.faults.clone(), shared.seed, dc_id, conn_no);
        Connection {
            dc_id,
            codec: Codec::server(&ServerConfig {
                secret: shared.proxy_secret.clone(),
            }),
            routed: shared.proxy_secret.is_none(),
            faults,
            shared,
            handshake: Handshake::Idle,
            sessions: HashMap::new(),
            layer: None,
            last_plain_msg_id: 0,
            packet: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The transport name once detected (`full`, `obfuscated/intermediate`...).
    pub fn transport_name(&self) -> String {
        match (self.codec.kind(), self.codec.is_obfuscated()) {
            (Some(k), Some(true)) => format!("obfuscated/{}", k.name()),
            (Some(k), _) => k.name().to_string(),
            (None, _) => "undetected".into(),
        }
    }

    /// The auth key ids used on this connection.
    pub fn auth_key_ids(&self) -> Vec<u64> {
        self.sessions.keys().copied().collect()
    }

    /// Feeds bytes from the socket; appends bytes to send to `out`.
    pub fn on_bytes(
        &mut self,
        bytes: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
        out: &mut Vec<u8>,
    ) -> Result<Flow, ConnError> {
        self.codec.push(bytes);
        let now = unix(now);
        while let Some(frame) = self.codec.poll_frame().map_err(ConnError::Transport)? {
            if !self.routed {
                self.routed = true;
                self.route();
            }
            let Frame::Payload(payload) = frame else {
                continue;
            };
            // Padded intermediate frames carry 0..15 random bytes after the packet.
            let payload = if self.codec.kind() == Some(Kind::PaddedIntermediate) {
                transport::strip_padding(payload)
            } else {
                payload
            };
            let flow = if plain::is_plain(&payload) {
                self.on_plain(&payload, now, rng, out)?
            } else {
                self.on_encrypted(payload, now, rng, out)?
            };
            if flow == Flow::Close {
                return Ok(Flow::Close);
            }
        }
        self.transmit(now, rng, out)?;
        Ok(Flow::Continue)
    }

    /// With `--proxy-secret`: serve an obfuscated2 connection as the regular DC its init
    /// names (the sign, negative for media DCs, does not matter here; unknown ids keep the
    /// listener's DC), as an MTProxy would forward it.
    fn route(&mut self) {
        if self.codec.is_obfuscated() != Some(true) {
            return;
        }
        let Some(wire) = self.codec.dc_id() else {
            return;
        };
        let id = i32::from(wire).abs();
        if self.shared.world.dcs.iter().any(|d| d.id == id && !d.cdn) {
            self.dc_id = id;
        }
    }

    /// When [`Connection::on_timeout`] should run next, if ever.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.sessions
            .values()
            .filter_map(ServerSession::poll_timeout)
            .min()
    }

    /// Advances timers (pending acks, ping_delay_disconnect).
    pub fn on_timeout(
        &mut self,
        now: SystemTime,
        rng: &mut dyn RngCore,
        out: &mut Vec<u8>,
    ) -> Result<Flow, ConnError> {
        let now = unix(now);
        let mut closed = false;
        for s in self.sessions.values_mut() {
            s.handle_timeout(now);
            while let Some(ev) = s.poll_event() {
                closed |= matches!(ev, Event::Closed);
            }
        }
        self.transmit(now, rng, out)?;
        Ok(if closed { Flow::Close } else { Flow::Continue })
    }

    fn plain_msg_id(&mut self, now: Duration) -> i64 {
        // Server answers: msg_id ≡ 1 (mod 4), time-based, strictly increasing.
        let t =
            ((now.as_secs() as i64) << 32) | (i64::from(now.subsec_nanos()) << 2 & 0xffff_fffc) | 1;
        let id = t.max(self.last_plain_msg_id + 4);
        self.last_plain_msg_id = id;
        id
    }

    fn on_plain(
        &mut self,
        payload: &[u8],
        now: Duration,
        rng: &mut dyn RngCore,
        out: &mut Vec<u8>,
    ) -> Result<Flow, ConnError> {
        let msg = plain::decode(payload).map_err(ConnError::Auth)?;
        let body = msg.body;
        let is_req_pq = matches!(
            request_id(body),
            crate::tl::functions::ReqPq::CONSTRUCTOR_ID
                | crate::tl::functions::ReqPqMulti::CONSTRUCTOR_ID
        );
        let state = std::mem::replace(&mut self.handshake, Handshake::Idle);
        let answer = match state {
            _ if is_req_pq => {
                let (answer, next) = auth_server::start(self.shared.auth_for(self.dc_id))
                    .handle(body, rng)
                    .map_err(ConnError::Auth)?;
                self.handshake = Handshake::ReqDh(next);
                answer
            }
            Handshake::ReqDh(s) => {
                let (answer, next) = s
                    .handle(body, now.as_secs() as i64, rng)
                    .map_err(ConnError::Auth)?;
                self.handshake = Handshake::SetClientDh(next);
                answer
            }
            Handshake::SetClientDh(s) => {
                let (dc, keys) = (self.dc_id, &self.shared.keys);
                let (answer, outcome) = s
                    .handle(body, |id| keys.contains(dc, id))
                    .map_err(ConnError::Auth)?;
                match outcome {
                    ServerOutcome::Done(fin) => self.shared.keys.insert(self.dc_id, fin.auth_key),
                    ServerOutcome::Retry(s) => self.handshake = Handshake::SetClientDh(s),
                }
                answer
            }
            Handshake::Idle => {
                return Err(ConnError::Auth(AuthError::PlainEnvelope(
                    "unexpected plain message",
                )))
            }
        };
        let msg_id = self.plain_msg_id(now);
        self.codec
            .encode(&plain::encode(msg_id, &answer), rng, out)
            .map_err(ConnError::Transport)?;
        Ok(Flow::Continue)
    }

    fn on_encrypted(
        &mut self,
        packet: BytesMut,
        now: Duration,
        rng: &mut dyn RngCore,
        out: &mut Vec<u8>,
    ) -> Result<Flow, ConnError> {
        let Some(key_id) = wire::auth_key_id_of(&packet) else {
            return Err(ConnError::Transport(TransportError::Closed));
        };
        let Some(key) = self.shared.keys.get(self.dc_id, key_id) else {
            self.codec
                .encode_transport_error(AUTH_KEY_NOT_FOUND, out)
                .map_err(ConnError::Transport)?;
            return Ok(Flow::Close);
        };
        if self.faults.bad_salt() {
            return self.inject_bad_salt(&key, packet, now, rng, out);
        }
        if !self.sessions.contains_key(&key_id)
            && self.sessions.len() >= MAX_SESSIONS_PER_CONNECTION
        {
            return Err(ConnError::Session(SessionError::BadContainer(
                "too many auth keys on one connection",
            )));
        }
        let salts = self.shared.salts.clone();
        let new_session = |rng: &mut dyn RngCore| {
            ServerSession::new(
                ServerSessionConfig {
                    auth_key: key.clone(),
                    salts: salts.clone(),
                },
                Box::new(StdRng::seed_from_u64(rng.next_u64())),
            )
        };
        // Decrypted here, once, to see its session_id before choosing the session.
        let d = match wire::decrypt(&key, Side::Client, packet) {
            Ok(d) => d,
            Err(e) if e.is_fatal() => return Err(ConnError::Session(e)),
            Err(_) => return self.serve_requests(key_id, now, rng), // refused
        };
        let session = self
            .sessions
            .entry(key_id)
            .or_insert_with(|| new_session(rng));
        if session.session_id().is_some_and(|id| id != d.session_id) {
            // The client started a new session on this key: serve it from scratch.
            *session = new_session(rng);
        }
        match session.handle_decrypted(d, now) {
            Ok(()) => {}
            Err(e) if e.is_fatal() => return Err(ConnError::Session(e)),
            Err(_) => {} // refused message; a notification may be queued
        }
        self.serve_requests(key_id, now, rng)
    }

    fn serve_requests(
        &mut self,
        key_id: u64,
        now: Duration,
        rng: &mut dyn RngCore,
    ) -> Result<Flow, ConnError> {
        let world = self.shared.world.clone();
        let Some(session) = self.sessions.get_mut(&key_id) else {
            return Ok(Flow::Continue);
        };
        while let Some(ev) = session.poll_event() {
            match ev {
                Event::Request { msg_id, body } => {
                    let mut ctx = Ctx {
                        dc_id: self.dc_id,
                        auth_key_id: key_id as i64,
                        now: now.as_secs(),
                        faults: &mut self.faults,
                        rng,
                        layer: self.layer,
                        method: request_id(&body),
                    };
                    let reply = world.handle(&mut ctx, body);
                    self.layer = ctx.layer;
                    let request = ctx.method;
                    match reply {
                        Reply::Result(v) => session.respond(msg_id, v.into(), false),
                        Reply::Error(e) => {
                            session.respond_error(msg_id, e.code, &e.message);
                            self.errors.push(LoggedError { request, error: e });
                        }
                        Reply::Drop => return Ok(Flow::Close),
                        Reply::Stall => {}
                    }
                }
                Event::Closed => return Ok(Flow::Close),
                _ => {}
            }
        }
        Ok(Flow::Continue)
    }

    fn inject_bad_salt(
        &mut self,
        key: &AuthKey,
        packet: BytesMut,
        now: Duration,
        rng: &mut dyn RngCore,
        out: &mut Vec<u8>,
    ) -> Result<Flow, ConnError> {
        let d = match wire::decrypt(key, Side::Client, packet) {
            Ok(d) => d,
            Err(e) if e.is_fatal() => return Err(ConnError::Session(e)),
            Err(_) => return Ok(Flow::Continue),
        };
        let salt = self.shared.salts.at(now.as_secs() as i64).salt;
        let body = types::BadServerSalt {
            bad_msg_id: d.msg_id,
            bad_msg_seqno: d.seq_no,
            error_code: BadMsgCode::BadServerSalt.code(),
            new_server_salt: salt,
        }
        .to_bytes();
        // A fresh server msg_id (≡ 1 mod 4) from the clock and random low bits: unique, as
        // clients only reject repeated ids.
        let msg_id =
            ((now.as_secs() as i64) << 32) | (i64::from(rng.next_u32() & 0x3fff_ffff) << 2) | 1;
        let mut pkt = Vec::new();
        wire::encrypt(
            key,
            Side::Server,
            salt,
            d.session_id,
            msg_id,
            0,
            &body,
            rng,
            &mut pkt,
        )
        .map_err(ConnError::Session)?;
        self.codec
            .encode(&pkt, rng, out)
            .map_err(ConnError::Transport)?;
        Ok(Flow::Continue)
    }

    fn transmit(
        &mut self,
        now: Duration,
        rng: &mut dyn RngCore,
        out: &mut Vec<u8>,
    ) -> Result<(), ConnError> {
        for s in self.sessions.values_mut() {
            while s.poll_transmit(now, &mut self.packet) {
                self.codec
                    .encode(&self.packet, rng, out)
                    .map_err(ConnError::Transport)?;
            }
        }
        Ok(())
    }
}
