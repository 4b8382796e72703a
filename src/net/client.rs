//! One MTProto connection, driven by one tokio task that owns the socket.
//!
//! [`connect`] opens the TCP connection, runs the auth-key exchange when no key is given
//! (timed, so callers can report it), starts a [`ClientSession`] and sends the connection's
//! first request, `invokeWithLayer(LAYER, initConnection(.., help.getConfig))`. It returns a
//! [`Client`]: a cheap-to-clone, `Send + Sync` handle whose [`Client::invoke`] may be called
//! from many tasks at once. Requests are pipelined: each goes to the driver task over a
//! channel, the session packs whatever is queued into one container, and answers are matched
//! to callers by the session's [`RequestId`]s.
//!
//! The driver is a `tokio::select!` over three things, each handled synchronously by the
//! sans-IO machines: bytes from the socket (→ [`Codec`] → [`ClientSession::handle_input`]),
//! commands from handles (→ [`ClientSession::request`] / [`ClientSession::ping`]), and the one
//! timer from [`ClientSession::poll_timeout`]. After each, it drains
//! [`ClientSession::poll_transmit`] to the socket and [`ClientSession::poll_event`] to the
//! waiting callers. When the connection ends, every waiting caller gets the reason.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::InvokeError;
use crate::config::Proxy;
use crate::crypto::{AuthKey, RsaPublicKey};
use crate::mtproto::auth::client::{self as auth, DhGenOutcome};
use crate::mtproto::auth::{plain, Finished};
use crate::mtproto::session::{
    ClientSession, ClientSessionConfig, Event, MsgIdGen, MsgIdKind, RequestId, RpcError,
};
use crate::mtproto::transport::{self, Codec, Frame, Kind};
use crate::tl::{enums, functions, Deserializable, RemoteCall, Serializable};

/// Default time allowed for the TCP connect and for each answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time between keep-alive `ping_delay_disconnect`s.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(60);

/// The `disconnect_delay` sent with a keep-alive ping every `keepalive`: a quarter more, in
/// whole seconds (75 s for 60 s), so one late ping does not end the connection.
fn disconnect_delay(keepalive: Duration) -> i32 {
    let secs = (keepalive.as_millis() * 5).div_ceil(4000);
    i32::try_from(secs.max(1)).unwrap_or(i32::MAX)
}

/// Answer senders pile up only when callers time out; they are swept when this many are held.
const SWEEP_AT: usize = 1024;

/// First wait before reopening a dropped connection; doubled for each further attempt.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(100);

/// Bytes read from the socket at a time.
const READ_BUF: usize = 64 * 1024;

/// What `initConnection` tells the server about us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitParams {
    /// Telegram api_id.
    pub api_id: i32,
    /// Device model, e.g. `tgmux`.
    pub device_model: String,
    /// OS name and version.
    pub system_version: String,
    /// Our version.
    pub app_version: String,
    /// The system language code.
    pub system_lang_code: String,
    /// The language pack (empty for none).
    pub lang_pack: String,
    /// The user's language code.
    pub lang_code: String,
}

impl InitParams {
    /// tgmux's own values, with this api_id.
    pub fn new(api_id: i32) -> Self {
        InitParams {
            api_id,
            device_model: "tgmux".into(),
            system_version: std::env::consts::OS.into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
        }
    }

    /// `invokeWithLayer(LAYER, initConnection(self.., query))`.
    pub fn wrap<R: RemoteCall>(
        &self,
        query: R,
    ) -> functions::InvokeWithLayer<functions::InitConnection<R>> {
        functions::InvokeWithLayer {
            layer: crate::tl::LAYER,
            query: functions::InitConnection {
                api_id: self.api_id,
                device_model: self.device_model.clone(),
                system_version: self.system_version.clone(),
                app_version: self.app_version.clone(),
                system_lang_code: self.system_lang_code.clone(),
                lang_pack: self.lang_pack.clone(),
                lang_code: self.lang_code.clone(),
                proxy: None,
                params: None,
                query,
            },
        }
    }
}

/// Everything [`connect`] needs.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The DC id (for the key exchange's `dc` field and the obfuscated2 init).
    pub dc_id: i32,
    /// Whether it is one of Telegram's test DCs (the DC id goes on the wire + 10000).
    pub test: bool,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The transport name: `abridged`, `intermediate`, `padded`, `full` or `obfuscated`.
    pub transport: String,
    /// The server RSA keys trusted for a new auth key.
    pub rsa_keys: Vec<RsaPublicKey>,
    /// A key made earlier with this DC; `None` runs the auth-key exchange.
    pub auth_key: Option<AuthKey>,
    /// The last known server salt with `auth_key` (0 when unknown: the server corrects it).
    pub server_salt: i64,
    /// Server time − local time, seconds, as last known.
    pub time_offset: i32,
    /// The `initConnection` fields.
    pub init: InitParams,
    /// Time allowed for the TCP connect and for each answer.
    pub timeout: Duration,
    /// How many times in a row a dropped connection is reopened (with backoff) before the
    /// callers get the error; 0 (the default) never reconnects.
    pub reconnect_attempts: u32,
    /// Time between `ping_delay_disconnect`s, which keep the connection open through idle
    /// spells and let the server drop it when we vanish (`None`: no keep-alive pings).
    pub keepalive: Option<Duration>,
    /// Seconds added to the local clock before the session sees it: a test hook to play a
    /// client whose clock is wrong (0 for real use).
    pub clock_skew: i64,
    /// A proxy to connect through instead of going to `addr` directly. Through an MTProxy the
    /// connection is obfuscated2 keyed by its secret, with the wire DC id in the init
    /// (whatever `transport` says); through a SOCKS5 or HTTP tunnel it is unchanged.
    pub proxy: Option<Proxy>,
    /// A file connection to a `media_only` address: the obfuscated2 init carries the DC id
    /// negated, as MTProxy expects for media DCs (the key exchange keeps the plain id).
    pub media: bool,
}

impl ConnectOptions {
    /// Options with defaults: intermediate transport, no key, [`DEFAULT_TIMEOUT`].
    pub fn new(dc_id: i32, addr: SocketAddr, rsa_keys: Vec<RsaPublicKey>, api_id: i32) -> Self {
        ConnectOptions {
            dc_id,
            test: false,
            addr,
            transport: "intermediate".into(),
            rsa_keys,
            auth_key: None,
            server_salt: 0,
            time_offset: 0,
            init: InitParams::new(api_id),
            timeout: DEFAULT_TIMEOUT,
            reconnect_attempts: 0,
            keepalive: Some(DEFAULT_KEEPALIVE),
            clock_skew: 0,
            proxy: None,
            media: false,
        }
    }
}

/// A connection that is up: the handle, and what it took to get there.
#[derive(Debug)]
pub struct Connected {
    /// The handle for RPCs.
    pub client: Client,
    /// The auth key in use (new or the one given).
    pub auth_key: AuthKey,
    /// How long the auth-key exchange took; `None` when a key was given.
    pub key_exchange: Option<Duration>,
    /// The answer to the first request, `help.getConfig`.
    pub config: enums::Config,
    /// The transport as it went on the wire, e.g. `intermediate`, `obfuscated/intermediate`.
    pub transport: String,
}

/// The handle to one connection. Clone it freely; the connection closes when the last
/// handle is dropped or the server goes away.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: mpsc::UnboundedSender<Command>,
    timeout: Duration,
    dc_id: i32,
    addr: SocketAddr,
    salt: AtomicI64,
    time_offset: AtomicI32,
    reconnects: AtomicU32,
    closed: Mutex<Option<InvokeError>>,
}

type Reply<T> = oneshot::Sender<Result<T, InvokeError>>;

#[derive(Debug)]
enum Command {
    Call { body: Vec<u8>, reply: Reply<Bytes> },
    Ping { ping_id: i64, reply: Reply<()> },
}

impl Client {
    /// The DC this connection reached.
    pub fn dc_id(&self) -> i32 {
        self.inner.dc_id
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The server salt in use (save it with the key to skip a bad_server_salt next time).
    pub fn server_salt(&self) -> i64 {
        self.inner.salt.load(Ordering::Relaxed)
    }

    /// Server time − local time, seconds.
    pub fn time_offset(&self) -> i32 {
        self.inner.time_offset.load(Ordering::Relaxed)
    }

    /// How many times the connection was reopened after a drop.
    pub fn reconnects(&self) -> u32 {
        self.inner.reconnects.load(Ordering::Relaxed)
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.inner.tx.is_closed()
    }

    /// Calls an RPC function and decodes its answer. Many calls may be in flight at once.
    /// `ping` is not an RPC for this purpose (its pong is no rpc_result): use [`Client::ping`].
    pub async fn invoke<R: RemoteCall>(&self, request: &R) -> Result<R::Return, InvokeError> {
        let body = self.invoke_raw(request.to_bytes()).await?;
        R::Return::from_bytes(body).map_err(InvokeError::Decode)
    }

    /// Calls an already serialized RPC function; returns the result's TL bytes.
    pub async fn invoke_raw(&self, body: Vec<u8>) -> Result<Bytes, InvokeError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Call { body, reply })?;
        self.wait(rx).await
    }

    /// Sends an MTProto `ping` and returns the round-trip time until its `pong`.
    pub async fn ping(&self) -> Result<Duration, InvokeError> {
        let (reply, rx) = oneshot::channel();
        let ping_id = rand::thread_rng().gen::<i64>();
        let start = Instant::now();
        self.send(Command::Ping { ping_id, reply })?;
        self.wait(rx).await?;
        Ok(start.elapsed())
    }

    fn send(&self, command: Command) -> Result<(), InvokeError> {
        self.inner
            .tx
            .send(command)
            .map_err(|_| self.closed_reason())
    }

    async fn wait<T>(
        &self,
        rx: oneshot::Receiver<Result<T, InvokeError>>,
    ) -> Result<T, InvokeError> {
        match tokio::time::timeout(self.inner.timeout, rx).await {
            Err(_) => Err(InvokeError::Timeout),
            Ok(Err(_)) => Err(self.closed_reason()),
            Ok(Ok(r)) => r,
        }
    }

    fn closed_reason(&self) -> InvokeError {
        let closed = self.inner.closed.lock().unwrap_or_else(|p| p.into_inner());
        closed.clone().unwrap_or(InvokeError::Closed)
    }
}

/// Local wall-clock time since the UNIX epoch, moved by `skew` seconds (a test hook), as the
/// sans-IO machines take it.
fn unix_now(skew: i64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    if skew >= 0 {
        now + Duration::from_secs(skew.unsigned_abs())
    } else {
        now.saturating_sub(Duration::from_secs(skew.unsigned_abs()))
    }
}

/// The socket and the transport around it, before and after the driver task takes them.
struct Io {
    stream: TcpStream,
    codec: Codec,
    padded: bool,
    rng: StdRng,
    rbuf: Vec<u8>,
    out: Vec<u8>,
    timeout: Duration,
    skew: i64,
    /// `host:port` we connected to (the proxy's, with one).
    peer: String,
    /// The first bytes the server sent, to recognise an answer that is no MTProto.
    head: Vec<u8>,
    /// Whether a message from the server was understood on this socket.
    answered: bool,
}

/// Bytes kept of what a server sends first.
const HEAD_LEN: usize = 16;

/// The first word of `head` when it reads as text rather than a transport frame: at least 4
/// letters, digits or `-` (`HTTP/1.1 400`, `SSH-2.0-..`).
fn text_answer(head: &[u8]) -> Option<String> {
    let word: Vec<u8> = head
        .iter()
        .copied()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
        .collect();
    (word.len() >= 4).then(|| String::from_utf8_lossy(&word).into_owned())
}

impl Io {
    /// Opens the TCP connection and the transport (nothing is sent yet).
    async fn open(opts: &ConnectOptions) -> Result<(Io, String), InvokeError> {
        let connecting = async {
            match &opts.proxy {
                Some(Proxy::Mt(p)) => TcpStream::connect((p.host.as_str(), p.port)).await,
                Some(Proxy::Tunnel(t)) => super::tunnel::connect(t, opts.addr).await,
                None => TcpStream::connect(opts.addr).await,
            }
        };
        let stream = tokio::time::timeout(opts.timeout, connecting)
            .await
            .map_err(|_| InvokeError::Timeout)??;
        let _ = stream.set_nodelay(true);
        let dc_wire = auth::dc_wire_id(opts.dc_id, opts.test, opts.media);
        let dc_i16 = i16::try_from(dc_wire).map_err(|_| {
            InvokeError::Transport(transport::TransportError::Unsupported {
                what: "a DC id that fits the obfuscated2 init",
            })
        })?;
        let config = match &opts.proxy {
            Some(Proxy::Mt(p)) => {
                transport::ClientConfig::named("obfuscated", dc_i16, Some(p.secret.clone()))?
            }
            Some(Proxy::Tunnel(_)) | None => {
                transport::ClientConfig::named(&opts.transport, dc_i16, None)?
            }
        };
        let mut rng = StdRng::from_entropy();
        let codec = Codec::client(&config, &mut rng)?;
        let transport_name = match &config.obfuscation {
            Some(_) => format!("obfuscated/{}", config.kind.name()),
            None => config.kind.name().to_string(),
        };
        let peer = match &opts.proxy {
            Some(Proxy::Mt(p)) => p.to_string(),
            Some(Proxy::Tunnel(t)) => format!("{} via {t}", opts.addr),
            None => opts.addr.to_string(),
        };
        let io = Io {
            stream,
            codec,
            padded: config.kind == Kind::PaddedIntermediate,
            rng,
            rbuf: vec![0u8; READ_BUF],
            out: Vec::new(),
            timeout: opts.timeout,
            skew: opts.clock_skew,
            peer,
            head: Vec::new(),
            answered: false,
        };
        Ok((io, transport_name))
    }

    fn now(&self) -> Duration {
        unix_now(self.skew)
    }

    /// Hands bytes from the socket to the transport.
    fn push(&mut self, bytes: &[u8]) {
        if self.head.len() < HEAD_LEN {
            let n = (HEAD_LEN - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
        }
        self.codec.push(bytes);
    }

    /// `e`, or [`InvokeError::NotMtproto`] when nothing was understood yet and the server's
    /// first bytes read as text.
    fn classify(&self, e: InvokeError) -> InvokeError {
        if self.answered {
            return e;
        }
        match text_answer(&self.head) {
            Some(answer) => InvokeError::NotMtproto {
                addr: self.peer.clone(),
                answer,
            },
            None => e,
        }
    }

    /// Frames `payload` and writes it.
    async fn send(&mut self, payload: &[u8]) -> Result<(), InvokeError> {
        self.out.clear();
        self.codec.encode(payload, &mut self.rng, &mut self.out)?;
        self.stream.write_all(&self.out).await?;
        Ok(())
    }

    /// The next complete frame's payload, if one is buffered.
    fn next_payload(&mut self) -> Result<Option<BytesMut>, InvokeError> {
        loop {
            let frame = self
                .codec
                .poll_frame()
                .map_err(|e| self.classify(e.into()))?;
            match frame {
                None => return Ok(None),
                Some(Frame::Payload(p)) => {
                    let p = if self.padded {
                        transport::strip_padding(p)
                    } else {
                        p
                    };
                    return Ok(Some(p));
                }
                Some(Frame::TransportError(code)) => return Err(InvokeError::TransportCode(code)),
                Some(Frame::QuickAck(_)) => {}
            }
        }
    }

    /// Reads until one payload arrives, within the timeout.
    async fn recv(&mut self) -> Result<BytesMut, InvokeError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if let Some(p) = self.next_payload()? {
                return Ok(p);
            }
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut self.rbuf))
                .await
                .map_err(|_| InvokeError::Timeout)??;
            if n == 0 {
                return Err(self.classify(InvokeError::Closed));
            }
            let rbuf = std::mem::take(&mut self.rbuf);
            self.push(&rbuf[..n]);
            self.rbuf = rbuf;
        }
    }

    /// One step of the plain-envelope handshake: send `body`, return the answer's body.
    async fn plain_exchange(
        &mut self,
        ids: &mut MsgIdGen,
        body: &[u8],
    ) -> Result<Vec<u8>, InvokeError> {
        let msg_id = ids.next(self.now(), MsgIdKind::Client);
        self.send(&plain::encode(msg_id, body)).await?;
        let answer = self.recv().await?;
        let body = plain::decode(&answer)
            .map_err(|e| self.classify(e.into()))?
            .body
            .to_vec();
        self.answered = true;
        Ok(body)
    }
}

/// Runs the auth-key exchange over `io`.
async fn create_auth_key(io: &mut Io, opts: &ConnectOptions) -> Result<Finished, InvokeError> {
    let mut ids = MsgIdGen::new(0);
    let config = auth::ClientConfig {
        keys: opts.rsa_keys.clone(),
        dc: Some(auth::dc_wire_id(opts.dc_id, opts.test, false)),
        temp_expires_in: None,
    };
    let (request, state) = auth::start(config, &mut io.rng);
    let answer = io.plain_exchange(&mut ids, &request).await?;
    let (request, state) = state.handle(&answer, &mut io.rng)?;
    let answer = io.plain_exchange(&mut ids, &request).await?;
    let now = io.now().as_secs() as i64;
    let (mut request, mut state) = state.handle(&answer, now, &mut io.rng)?;
    loop {
        let answer = io.plain_exchange(&mut ids, &request).await?;
        match state.handle(&answer, &mut io.rng)? {
            DhGenOutcome::Done(finished) => return Ok(finished),
            DhGenOutcome::Retry(r, s) => (request, state) = (r, s),
        }
    }
}

/// Connects to a DC, makes an auth key if none is given, starts the session and sends
/// `invokeWithLayer(initConnection(help.getConfig))`. Every step is bounded by
/// `opts.timeout`.
pub async fn connect(opts: &ConnectOptions) -> Result<Connected, InvokeError> {
    let (client, auth_key, key_exchange, transport) = start(opts).await?;
    let config = client
        .invoke(&opts.init.wrap(functions::help::GetConfig {}))
        .await?;
    Ok(Connected {
        client,
        auth_key,
        key_exchange,
        config,
        transport,
    })
}

/// [`connect`] for a CDN DC, which serves file parts only (no `help.getConfig`): the session
/// starts with no first request, so the caller wraps its requests in `initConnection` itself.
/// Returns the handle and the auth key in use (new when none was given).
pub async fn connect_cdn(opts: &ConnectOptions) -> Result<(Client, AuthKey), InvokeError> {
    let (client, auth_key, _, _) = start(opts).await?;
    Ok((client, auth_key))
}

/// Opens the transport, runs the key exchange if needed and starts the driver task.
async fn start(
    opts: &ConnectOptions,
) -> Result<(Client, AuthKey, Option<Duration>, String), InvokeError> {
    let (mut io, transport_name) = Io::open(opts).await?;

    let (auth_key, server_salt, time_offset, key_exchange) = match &opts.auth_key {
        Some(key) => (key.clone(), opts.server_salt, opts.time_offset, None),
        None => {
            let start = Instant::now();
            let f = create_auth_key(&mut io, opts).await?;
            (
                f.auth_key,
                f.server_salt,
                f.time_offset,
                Some(start.elapsed()),
            )
        }
    };
    let session = ClientSession::new(
        ClientSessionConfig {
            auth_key: auth_key.clone(),
            session_id: io.rng.next_u64() as i64,
            server_salt,
            time_offset,
        },
        Box::new(StdRng::from_rng(&mut io.rng).expect("StdRng seeds from StdRng")),
    );
    let (tx, rx) = mpsc::unbounded_channel();
    let inner = Arc::new(Inner {
        tx,
        timeout: opts.timeout,
        dc_id: opts.dc_id,
        addr: opts.addr,
        salt: AtomicI64::new(server_salt),
        time_offset: AtomicI32::new(time_offset),
        reconnects: AtomicU32::new(0),
        closed: Mutex::new(None),
    });
    tokio::spawn(drive(io, session, rx, inner.clone(), opts.clone()));
    Ok((Client { inner }, auth_key, key_exchange, transport_name))
}

/// What the driver task holds besides the socket.
struct Driver {
    session: ClientSession,
    calls: HashMap<RequestId, Reply<Bytes>>,
    pings: HashMap<i64, Reply<()>>,
    packet: Vec<u8>,
    /// The `initConnection` sent after a reconnect, until it is answered.
    init: Option<RequestId>,
    /// Sweep answer senders whose caller gave up when `calls` reaches this size.
    sweep_at: usize,
}

impl Driver {
    fn command(&mut self, command: Command) {
        match command {
            Command::Call { body, reply } => {
                let id = self.session.request(body);
                self.calls.insert(id, reply);
                if self.calls.len() >= self.sweep_at {
                    // Callers that timed out dropped their receivers: forget them (their
                    // requests may still be answered, to nobody).
                    self.calls.retain(|_, r| !r.is_closed());
                    self.pings.retain(|_, r| !r.is_closed());
                    self.sweep_at = (self.calls.len() * 2).max(SWEEP_AT);
                }
            }
            Command::Ping { ping_id, reply } => {
                self.session.ping(ping_id);
                self.pings.insert(ping_id, reply);
            }
        }
    }

    fn input(&mut self, io: &mut Io) -> Result<(), InvokeError> {
        while let Some(p) = io.next_payload()? {
            match self.session.handle_input(p, io.now()) {
                Ok(()) => io.answered = true,
                Err(e) if e.is_fatal() => return Err(io.classify(InvokeError::Session(e))),
                Err(_) => {} // a refused packet (replay, forgery): the session carries on
            }
        }
        Ok(())
    }

    /// Hands the session's events to the callers; true when an answer (result, error, pong)
    /// came in, i.e. the server is really serving this connection.
    fn events(&mut self) -> bool {
        let mut answered = false;
        while let Some(event) = self.session.poll_event() {
            answered |= matches!(
                event,
                Event::RpcResult { .. } | Event::RpcError { .. } | Event::Pong { .. }
            );
            if let Event::RpcResult { request, .. }
            | Event::RpcError { request, .. }
            | Event::RequestDropped { request } = &event
            {
                if self.init == Some(*request) {
                    self.init = None;
                }
            }
            match event {
                Event::RpcResult { request, body } => {
                    if let Some(reply) = self.calls.remove(&request) {
                        let _ = reply.send(Ok(body));
                    }
                }
                Event::RpcError {
                    request,
                    code,
                    message,
                    ..
                } => {
                    if let Some(reply) = self.calls.remove(&request) {
                        let _ = reply.send(Err(InvokeError::Rpc(RpcError::new(code, message))));
                    }
                }
                Event::RequestDropped { request } => {
                    if let Some(reply) = self.calls.remove(&request) {
                        let _ = reply.send(Err(InvokeError::Dropped));
                    }
                }
                Event::Pong { ping_id } => {
                    if let Some(reply) = self.pings.remove(&ping_id) {
                        let _ = reply.send(Ok(()));
                    }
                }
                // Updates and session resets matter to a logged-in client; ping and
                // downloads need neither.
                _ => {}
            }
        }
        answered
    }

    /// Encodes every packet the session has to send into `io.out`.
    fn transmit(&mut self, io: &mut Io) -> Result<(), InvokeError> {
        let now = io.now();
        while self.session.poll_transmit(now, &mut self.packet) {
            io.codec.encode(&self.packet, &mut io.rng, &mut io.out)?;
        }
        Ok(())
    }

    fn fail_all(&mut self, reason: &InvokeError) {
        for (_, reply) in self.calls.drain() {
            let _ = reply.send(Err(reason.clone()));
        }
        for (_, reply) in self.pings.drain() {
            let _ = reply.send(Err(reason.clone()));
        }
    }
}

/// Sleeps until `deadline`, or forever.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Whether a connection that ended with `e` is worth reopening: the socket went away, the
/// session and the key are still good.
fn is_reconnectable(e: &InvokeError) -> bool {
    matches!(e, InvokeError::Closed | InvokeError::Io(_))
}

/// Reopens the connection for `d`'s session after a drop: up to `opts.reconnect_attempts`
/// tries with doubling backoff. Unanswered messages go back to the session's queue (the
/// callers keep waiting for the same RequestIds), and `initConnection` is sent again first.
async fn reopen(
    d: &mut Driver,
    opts: &ConnectOptions,
    failures: &mut u32,
) -> Result<Io, InvokeError> {
    let mut last = InvokeError::Closed;
    while *failures < opts.reconnect_attempts {
        let backoff = RECONNECT_BACKOFF * 2u32.saturating_pow((*failures).min(6));
        *failures += 1;
        tokio::time::sleep(backoff).await;
        match Io::open(opts).await {
            Ok((io, _)) => {
                d.session.resend_unanswered();
                // Its answer goes to nobody: no reply is registered for this RequestId. One is
                // enough: an unanswered one from an earlier attempt is resent already (more
                // would pile up across drops).
                if d.init.is_none() {
                    let body = opts.init.wrap(functions::help::GetConfig {}).to_bytes();
                    d.init = Some(d.session.request(body));
                }
                return Ok(io);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The connection task: runs until the server closes (and reconnecting is off or gives up),
/// an error, or every handle is gone.
async fn drive(
    mut io: Io,
    session: ClientSession,
    mut rx: mpsc::UnboundedReceiver<Command>,
    inner: Arc<Inner>,
    opts: ConnectOptions,
) {
    let mut d = Driver {
        session,
        calls: HashMap::new(),
        pings: HashMap::new(),
        packet: Vec::new(),
        init: None,
        sweep_at: SWEEP_AT,
    };
    let mut rbuf = std::mem::take(&mut io.rbuf);
    // Drops in a row without an answer in between.
    let mut failures = 0u32;
    let mut last_ping = tokio::time::Instant::now();
    let reason = loop {
        let step = step(&mut d, &mut io, &mut rx, &mut rbuf, &opts, &mut last_ping).await;
        let answered = d.events();
        inner.salt.store(d.session.server_salt(), Ordering::Relaxed);
        inner
            .time_offset
            .store(d.session.time_offset(), Ordering::Relaxed);
        match step {
            // Only an answer proves the new connection works: a server that greets every
            // connection (new_session_created) and then drops it must not keep us
            // reconnecting for ever.
            Ok(_) if answered => failures = 0,
            Ok(_) => {}
            Err(Ended::HandlesGone) => break InvokeError::Closed,
            Err(Ended::Error(e)) if is_reconnectable(&e) && opts.reconnect_attempts > 0 => {
                match reopen(&mut d, &opts, &mut failures).await {
                    Ok(mut new_io) => {
                        // The new connection's buffer replaces the old one: one per connection.
                        rbuf = std::mem::take(&mut new_io.rbuf);
                        io = new_io;
                        inner.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => break e,
                }
            }
            Err(Ended::Error(e)) => break e,
        }
    };
    {
        let mut closed = inner.closed.lock().unwrap_or_else(|p| p.into_inner());
        *closed = Some(reason.clone());
    }
    rx.close();
    while let Ok(c) = rx.try_recv() {
        d.command(c);
    }
    d.fail_all(&reason);
}

/// Why the driver loop stops.
enum Ended {
    /// Every handle is gone: nobody is left to answer.
    HandlesGone,
    /// The connection failed.
    Error(InvokeError),
}

impl From<InvokeError> for Ended {
    fn from(e: InvokeError) -> Self {
        Ended::Error(e)
    }
}

/// One turn of the driver: send what is due, then wait for bytes, a command or a timer.
/// `Ok(true)` when bytes arrived from the server.
async fn step(
    d: &mut Driver,
    io: &mut Io,
    rx: &mut mpsc::UnboundedReceiver<Command>,
    rbuf: &mut [u8],
    opts: &ConnectOptions,
    last_ping: &mut tokio::time::Instant,
) -> Result<bool, Ended> {
    io.out.clear();
    d.transmit(io)?;
    if !io.out.is_empty() {
        io.stream
            .write_all(&io.out)
            .await
            .map_err(InvokeError::from)?;
    }
    let deadline = d
        .session
        .poll_timeout()
        .map(|t| tokio::time::Instant::now() + t.saturating_sub(io.now()));
    let keepalive = opts.keepalive.map(|k| *last_ping + k);
    tokio::select! {
        r = io.stream.read(rbuf) => match r {
            Ok(0) => Err(io.classify(InvokeError::Closed).into()),
            Ok(n) => {
                io.push(&rbuf[..n]);
                d.input(io)?;
                Ok(true)
            }
            Err(e) => Err(InvokeError::from(e).into()),
        },
        command = rx.recv() => match command {
            None => Err(Ended::HandlesGone),
            Some(c) => {
                d.command(c);
                // Take everything queued, so it leaves in as few packets as possible.
                while let Ok(c) = rx.try_recv() {
                    d.command(c);
                }
                Ok(false)
            }
        },
        () = sleep_until(deadline) => {
            d.session.handle_timeout(io.now());
            Ok(false)
        }
        () = sleep_until(keepalive) => {
            // Every period, busy or not: once one was sent, the server expects the next.
            let delay = disconnect_delay(opts.keepalive.unwrap_or(DEFAULT_KEEPALIVE));
            d.session.ping_delay_disconnect(io.rng.gen(), delay);
            *last_ping = tokio::time::Instant::now();
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_answers() {
        assert_eq!(text_answer(b"HTTP/1.1 400 Bad").as_deref(), Some("HTTP"));
        assert_eq!(
            text_answer(b"SSH-2.0-OpenSSH_9").as_deref(),
            Some("SSH-2.0-OpenSSH")
        );
        assert_eq!(text_answer(&[0x54, 0, 0, 0, 1, 2]), None);
        assert_eq!(text_answer(b"abc"), None);
    }

    #[test]
    fn keepalive_disconnect_delays() {
        assert_eq!(disconnect_delay(DEFAULT_KEEPALIVE), 75);
        assert_eq!(disconnect_delay(Duration::from_secs(1)), 2);
        assert_eq!(disconnect_delay(Duration::from_millis(100)), 1);
    }
}
