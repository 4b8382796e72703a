//! Two peers in memory on a virtual clock (after quinn's `tests/util.rs` `Pair`): our client
//! machines and our server machines exchange packets without a socket; time only moves when
//! the test says so, and a fault hook sees every packet in flight.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use tgmux::crypto::{RsaPrivateKey, RsaPublicKey, Side};
use tgmux::mtproto::auth::client::{self, ClientConfig, DhGenOutcome};
use tgmux::mtproto::auth::server::{self, ServerConfig, ServerOutcome};
use tgmux::mtproto::auth::{plain, Finished};
use tgmux::mtproto::session::{
    wire, ClientSession, ClientSessionConfig, Event, SaltSchedule, ServerSession,
    ServerSessionConfig, SessionError,
};

/// The virtual clock starts here (UNIX seconds).
pub const T0: u64 = 1_700_000_000;

/// A server RSA key shared by every test of the process (generated once, seeded).
pub fn server_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        RsaPrivateKey::generate(2048, &mut StdRng::seed_from_u64(2048)).expect("keygen")
    })
}

/// Runs a full auth-key exchange between our client and server machines, in plain envelopes.
pub fn handshake(
    seed: u64,
    now: u64,
    dc: Option<i32>,
    temp: Option<i32>,
) -> (Finished, server::ServerFinished) {
    let mut crng = StdRng::seed_from_u64(seed);
    let mut srng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let public: RsaPublicKey = server_key().public_key().clone();
    let config = ServerConfig {
        keys: vec![server_key().clone()],
    };
    let srv = server::start(Arc::new(config));
    let (req, c) = client::start(
        ClientConfig {
            keys: vec![public],
            dc,
            temp_expires_in: temp,
        },
        &mut crng,
    );
    let wire = plain::encode(((now as i64) << 32) | 4, &req);
    let (res, srv) = srv
        .handle(plain::decode(&wire).unwrap().body, &mut srng)
        .unwrap();
    let (req, c) = c.handle(&res, &mut crng).unwrap();
    let (res, srv) = srv.handle(&req, now as i64, &mut srng).unwrap();
    let (req, c) = c.handle(&res, now as i64, &mut crng).unwrap();
    let (res, outcome) = srv.handle(&req, |_| false).unwrap();
    let ServerOutcome::Done(server_done) = outcome else {
        panic!("server retried")
    };
    let DhGenOutcome::Done(client_done) = c.handle(&res, &mut crng).unwrap() else {
        panic!("client retried")
    };
    (client_done, server_done)
}

/// Which way a packet travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// What the fault hook does with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Deliver it.
    Deliver,
    /// Lose it.
    Drop,
    /// Deliver it twice (a replay).
    Duplicate,
}

/// What the server's RPC handler answers.
pub enum Answer {
    /// rpc_result with these bytes (gzip allowed).
    Ok(Bytes),
    /// rpc_error.
    Err(i32, &'static str),
}

type Hook = Box<dyn FnMut(Dir, &mut Vec<u8>) -> Fate>;
type Handler = Box<dyn FnMut(&[u8]) -> Answer>;

/// Client and server sessions over an in-memory link.
pub struct Pair {
    /// The true (server) time, as a duration since the epoch.
    pub now: Duration,
    /// Client clock − true time, seconds (a skewed client clock).
    pub client_skew: i64,
    pub client: ClientSession,
    pub server: ServerSession,
    /// What a new server session starts from (the client may start a new session).
    server_config: ServerSessionConfig,
    server_seed: u64,
    pub hook: Hook,
    pub handler: Handler,
    /// Events the client produced, in order.
    pub client_events: Vec<Event>,
    /// Packets refused by each side (errors from handle_input).
    pub client_refused: usize,
    pub server_refused: usize,
    /// Number of packets that crossed each way.
    pub sent_to_server: usize,
    pub sent_to_client: usize,
    pub requests_seen_by_server: usize,
    to_server: VecDeque<Vec<u8>>,
    to_client: VecDeque<Vec<u8>>,
}

/// The default handler: answers a request with its own bytes, reversed word-wise.
pub fn echo(body: &[u8]) -> Answer {
    Answer::Ok(Bytes::copy_from_slice(body))
}

impl Pair {
    /// A pair that did a real handshake at T0 and shares the resulting key.
    pub fn new(seed: u64) -> Pair {
        let (c, s) = handshake(seed, T0, Some(2), None);
        assert_eq!(c.auth_key, s.auth_key);
        assert_eq!(c.server_salt, s.server_salt);
        let salts = SaltSchedule::new(3600, seed);
        let client = ClientSession::new(
            ClientSessionConfig {
                auth_key: c.auth_key.clone(),
                session_id: StdRng::seed_from_u64(seed + 1).next_u64() as i64,
                server_salt: salts.at(T0 as i64).salt,
                time_offset: c.time_offset,
            },
            Box::new(StdRng::seed_from_u64(seed + 2)),
        );
        let server_config = ServerSessionConfig {
            auth_key: s.auth_key,
            salts,
        };
        let server = ServerSession::new(
            server_config.clone(),
            Box::new(StdRng::seed_from_u64(seed + 3)),
        );
        Pair {
            now: Duration::from_secs(T0),
            client_skew: 0,
            client,
            server,
            server_config,
            server_seed: seed + 3,
            hook: Box::new(|_, _| Fate::Deliver),
            handler: Box::new(echo),
            client_events: Vec::new(),
            client_refused: 0,
            server_refused: 0,
            sent_to_server: 0,
            sent_to_client: 0,
            requests_seen_by_server: 0,
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
        }
    }

    /// The client's clock.
    pub fn client_now(&self) -> Duration {
        let secs = self.now.as_secs() as i64 + self.client_skew;
        Duration::new(secs as u64, self.now.subsec_nanos())
    }

    fn route(&mut self, dir: Dir, mut packet: Vec<u8>) {
        let fate = (self.hook)(dir, &mut packet);
        let queue = match dir {
            Dir::ToServer => &mut self.to_server,
            Dir::ToClient => &mut self.to_client,
        };
        match fate {
            Fate::Deliver => queue.push_back(packet),
            Fate::Drop => {}
            Fate::Duplicate => {
                queue.push_back(packet.clone());
                queue.push_back(packet);
            }
        }
    }

    /// Exchanges packets until neither side has anything to say (bounded).
    pub fn drive(&mut self) {
        let mut buf = Vec::new();
        for _ in 0..10_000 {
            let mut progress = false;
            let cnow = self.client_now();
            while self.client.poll_transmit(cnow, &mut buf) {
                self.sent_to_server += 1;
                let p = std::mem::take(&mut buf);
                self.route(Dir::ToServer, p);
                progress = true;
            }
            while let Some(p) = self.to_server.pop_front() {
                if self.server_input(p).is_err() {
                    self.server_refused += 1;
                }
                progress = true;
            }
            while let Some(ev) = self.server.poll_event() {
                if let Event::Request { msg_id, body } = ev {
                    self.requests_seen_by_server += 1;
                    match (self.handler)(&body) {
                        Answer::Ok(result) => self.server.respond(msg_id, result, true),
                        Answer::Err(code, message) => {
                            self.server.respond_error(msg_id, code, message)
                        }
                    }
                }
            }
            while self.server.poll_transmit(self.now, &mut buf) {
                self.sent_to_client += 1;
                let p = std::mem::take(&mut buf);
                self.route(Dir::ToClient, p);
                progress = true;
            }
            while let Some(p) = self.to_client.pop_front() {
                if self
                    .client
                    .handle_input(BytesMut::from(&p[..]), self.client_now())
                    .is_err()
                {
                    self.client_refused += 1;
                }
                progress = true;
            }
            while let Some(ev) = self.client.poll_event() {
                self.client_events.push(ev);
            }
            if !progress {
                return;
            }
        }
        panic!("pair did not settle");
    }

    /// One packet into the server, which (like local-dc) serves a new session from scratch
    /// when the client starts one.
    fn server_input(&mut self, packet: Vec<u8>) -> Result<(), SessionError> {
        let key = &self.server_config.auth_key;
        let d = wire::decrypt(key, Side::Client, BytesMut::from(&packet[..]))?;
        if self
            .server
            .session_id()
            .is_some_and(|id| id != d.session_id)
        {
            self.server_seed += 1;
            self.server = ServerSession::new(
                self.server_config.clone(),
                Box::new(StdRng::seed_from_u64(self.server_seed)),
            );
        }
        self.server.handle_decrypted(d, self.now)
    }

    /// Moves the virtual clock and fires due timers on both sides, then drives.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        if self
            .client
            .poll_timeout()
            .is_some_and(|t| t <= self.client_now())
        {
            self.client.handle_timeout(self.client_now());
        }
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            self.server.handle_timeout(self.now);
        }
        self.drive();
    }

    /// The RpcResult / RpcError events of the client so far, removed from the list.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.client_events)
    }
}
