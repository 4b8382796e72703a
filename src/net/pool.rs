//! Connections to every DC of a network behind one handle, with the session file behind them.
//!
//! A [`Pool`] is cheap to clone, `Send + Sync`. It opens connections lazily: `count` per DC
//! ([`PoolConfig::connections_per_dc`], default 1), each a [`Client`] with its own session id,
//! all sharing the DC's one permanent auth key. A key is made the first time a DC is used and
//! written to the session file at once, so no later run repeats the exchange.
//!
//! What the pool does for every call, so callers need not:
//!
//! - **Authorization on other DCs.** When the session is logged in and a call goes to a DC
//!   other than home, the login is moved there once (`auth.exportAuthorization` on home,
//!   `auth.importAuthorization` on the target) and the DC's `authorized` flag is saved.
//! - **Flood waits.** `FLOOD_WAIT_X` / `FLOOD_PREMIUM_WAIT_X` with X up to
//!   [`PoolConfig::flood_wait_threshold`] seconds: sleep X s plus a random jitter, repeat (at
//!   most [`PoolConfig::max_flood_retries`] times); longer waits come back as
//!   [`InvokeError::FloodWait`] carrying X.
//! - **Login migration.** [`Pool::invoke_login`] follows `PHONE_MIGRATE_X`, `USER_MIGRATE_X`
//!   and `NETWORK_MIGRATE_X` by making X the home DC (saved) and asking there.
//! - **Files elsewhere.** `FILE_MIGRATE_X` is an ordinary error with
//!   [`InvokeError::migrate_dc`]; [`Pool::invoke_file`] routes it to DC X.
//! - **Lost authorization.** `AUTH_KEY_UNREGISTERED` / `SESSION_REVOKED` become
//!   [`InvokeError::NotLoggedIn`] ("not logged in: run `tgmux login`"), after one re-import
//!   attempt when the DC was thought authorized.
//! - **DC addresses** come from the `config` every new connection gets (`help.getConfig`):
//!   see [`super::dc_options`] for the choice (file calls from [`Pool::invoke_file`] use a
//!   DC's `media_only` address, on connections of their own, when it has one). A DC the
//!   server announces but the [`Network`] lacks is reachable that way; the network's static
//!   addresses are used until (and where) nothing was learned. Kept in memory only.
//! - **Reconnects** are the connection driver's (see [`ConnectOptions::reconnect_attempts`]).
//! - **A -404 to a saved key** makes a new key; an authorized saved key is kept and the new
//!   one serves the run only (see [`super::saved_key`]); calls that need the login then fail
//!   with [`InvokeError::KeyRefused`] until a login or an import on the new key succeeds.
//! - **Other processes** on the same session file: every save is a read–modify–write under
//!   the file's lock ([`session_file::update`]), so their logins and keys are kept.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;

use super::client::{Client, ConnectOptions, Connected, InitParams, DEFAULT_TIMEOUT};
use super::dc_options::DcOptions;
use super::saved_key::{connect_saved, KeyUse, SavedKey};
use super::session_file::{self, LoggedIn, SessionData, AUTH_KEY_LEN};
use super::InvokeError;
use crate::config::{Network, Proxy, DEFAULT_FLOOD_WAIT_THRESHOLD_SECS};
use crate::crypto::{AuthKey, RsaPublicKey};
use crate::mtproto::session::RpcErrorKind;
use crate::store::Store;
use crate::tl::{enums, functions, Raw, RemoteCall, Serializable};

/// How a [`Pool`] connects and what it tolerates.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// The DCs and their RSA keys.
    pub network: Network,
    /// The api_id for `initConnection`.
    pub api_id: i32,
    /// The transport name (see [`ConnectOptions::transport`]).
    pub transport: String,
    /// Where the session lives; `None` keeps it in memory only.
    pub session_path: Option<PathBuf>,
    /// Connections opened per DC.
    pub connections_per_dc: usize,
    /// Longest FLOOD_WAIT (seconds) waited out automatically.
    pub flood_wait_threshold: u32,
    /// Largest random time added to each flood wait (so many clients do not come back at once).
    pub flood_jitter: Duration,
    /// How many flood waits one call may go through before the error is returned.
    pub max_flood_retries: u32,
    /// Time allowed for connecting and for each answer.
    pub timeout: Duration,
    /// Reconnect attempts in a row per connection.
    pub reconnect_attempts: u32,
    /// Seconds added to the local clock (a test hook; 0 in real use).
    pub clock_skew: i64,
    /// The proxy every connection goes through (see [`ConnectOptions::proxy`]).
    pub proxy: Option<Proxy>,
    /// Where flood deadlines are shared with other instances (`--store`): a deadline one
    /// instance learns holds back every instance's calls to that DC for the account.
    pub store: Option<Store>,
}

/// Default [`PoolConfig::flood_jitter`].
pub const DEFAULT_FLOOD_JITTER: Duration = Duration::from_millis(500);

impl PoolConfig {
    /// Defaults: intermediate transport, one connection per DC, 60 s flood threshold, 500 ms
    /// jitter, 5 flood retries, 5 reconnect attempts, no session file.
    pub fn new(network: Network, api_id: i32) -> Self {
        PoolConfig {
            network,
            api_id,
            transport: "intermediate".into(),
            session_path: None,
            connections_per_dc: 1,
            flood_wait_threshold: DEFAULT_FLOOD_WAIT_THRESHOLD_SECS,
            flood_jitter: DEFAULT_FLOOD_JITTER,
            max_flood_retries: 5,
            timeout: DEFAULT_TIMEOUT,
            reconnect_attempts: 5,
            clock_skew: 0,
            proxy: None,
            store: None,
        }
    }
}

/// What a pool has done so far (for tests, benches and `-v` output).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Auth-key exchanges run (0 when every key came from the session file).
    pub key_exchanges: u32,
    /// Authorizations moved to another DC (export + import pairs).
    pub exports: u32,
    /// Every flood wait slept, jitter included.
    pub flood_waits: Vec<Duration>,
    /// Times the home DC changed because of a `*_MIGRATE_X` during login.
    pub home_changes: u32,
    /// Connections opened.
    pub connections: u32,
    /// Each connection opened: its DC and the address it went to (the proxy's is not shown).
    pub opened: Vec<(i32, SocketAddr)>,
    /// DCs whose authorized saved key was answered with -404 and which work with a temporary
    /// key this run (see [`super::saved_key`]).
    pub temporary_keys: Vec<i32>,
}

/// The handle over every DC's connections. Clone it freely.
#[derive(Clone, Debug)]
pub struct Pool {
    inner: Arc<Shared>,
}

type DcSlot = Arc<tokio::sync::Mutex<Vec<Client>>>;

#[derive(Debug)]
struct Shared {
    config: PoolConfig,
    rsa_keys: Vec<RsaPublicKey>,
    session: Mutex<SessionData>,
    /// Connections per (DC, media).
    dcs: Mutex<HashMap<(i32, bool), DcSlot>>,
    /// The DC addresses of the latest `config` received.
    learned: Mutex<DcOptions>,
    next: AtomicUsize,
    authorizing: tokio::sync::Mutex<()>,
    /// Held from snapshot to rename, so a later save never loses to an older snapshot.
    saving: Mutex<()>,
    /// Keys made this run for DCs whose authorized saved key got -404 (not saved).
    temp_keys: Mutex<HashMap<i32, AuthKey>>,
    /// The key each DC's connections use.
    in_use: Mutex<HashMap<i32, [u8; AUTH_KEY_LEN]>>,
    stats: Mutex<PoolStats>,
    cdn: tokio::sync::Mutex<CdnState>,
}

/// CDN DCs: their RSA keys (from `help.getCdnConfig`, asked once), one auth key per CDN DC
/// (in memory only: the session file keeps the regular DCs) and their connections.
#[derive(Debug, Default)]
struct CdnState {
    keys: Option<HashMap<i32, RsaPublicKey>>,
    auth_keys: HashMap<i32, AuthKey>,
    clients: HashMap<i32, Vec<Client>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pool {
    /// Reads the session file (a missing one is a fresh session; a corrupt one, or one of
    /// another network, is an error) and parses the RSA keys. Connects nothing yet.
    pub fn open(config: PoolConfig) -> Result<Pool, InvokeError> {
        let rsa_keys = config
            .network
            .rsa_keys
            .iter()
            .map(|pem| RsaPublicKey::from_pkcs1_pem(pem))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| InvokeError::Auth(crate::mtproto::auth::AuthError::Crypto(e)))?;
        let network = &config.network;
        let session = match &config.session_path {
            None => SessionData::new(network.name.clone(), network.home),
            Some(path) => match session_file::load(path)? {
                None => SessionData::new(network.name.clone(), network.home),
                Some(s) if s.network != network.name => {
                    return Err(InvokeError::SessionFile(Arc::new(
                        session_file::SessionFileError::OtherNetwork {
                            path: path.clone(),
                            found: s.network,
                            expected: network.name.clone(),
                        },
                    )))
                }
                Some(s) => s,
            },
        };
        Ok(Pool {
            inner: Arc::new(Shared {
                config,
                rsa_keys,
                session: Mutex::new(session),
                dcs: Mutex::new(HashMap::new()),
                learned: Mutex::new(DcOptions::default()),
                next: AtomicUsize::new(0),
                authorizing: tokio::sync::Mutex::new(()),
                saving: Mutex::new(()),
                temp_keys: Mutex::new(HashMap::new()),
                in_use: Mutex::new(HashMap::new()),
                stats: Mutex::new(PoolStats::default()),
                cdn: tokio::sync::Mutex::new(CdnState::default()),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    /// The home DC (where the account lives).
    pub fn home_dc(&self) -> i32 {
        lock(&self.inner.session).home_dc
    }

    /// A copy of the session as it stands (what [`Pool::save`] writes).
    pub fn session(&self) -> SessionData {
        let mut s = lock(&self.inner.session).clone();
        self.refresh(&mut s);
        s
    }

    /// What the pool has done so far.
    pub fn stats(&self) -> PoolStats {
        lock(&self.inner.stats).clone()
    }

    /// Reconnects done by every connection opened so far.
    pub fn reconnects(&self) -> u32 {
        self.slots()
            .iter()
            .filter_map(|s| {
                s.try_lock()
                    .ok()
                    .map(|c| c.iter().map(Client::reconnects).sum::<u32>())
            })
            .sum()
    }

    fn slots(&self) -> Vec<DcSlot> {
        lock(&self.inner.dcs).values().cloned().collect()
    }

    /// Copies the live connections' salts (where `s` holds their key) and clock offset into
    /// `s`.
    fn refresh(&self, s: &mut SessionData) {
        let dcs: Vec<(i32, DcSlot)> = lock(&self.inner.dcs)
            .iter()
            .map(|(k, v)| (k.0, v.clone()))
            .collect();
        let in_use = lock(&self.inner.in_use).clone();
        for (dc, slot) in dcs {
            let Ok(clients) = slot.try_lock() else {
                continue;
            };
            if let Some(c) = clients.iter().find(|c| !c.is_closed()) {
                let state = s.dc_mut(dc);
                if state.auth_key.is_some() && state.auth_key.as_ref() == in_use.get(&dc) {
                    state.server_salt = c.server_salt();
                }
                s.time_offset = c.time_offset();
            }
        }
    }

    /// Writes the session file (no-op without one).
    pub fn save(&self) -> Result<(), InvokeError> {
        self.update(|_| {})
    }

    /// Applies a change to the session: without a file to the one in memory; with one, to
    /// the file as it is now (read–modify–write under its lock, so other processes' changes
    /// stay), which then becomes the session in memory.
    fn update(&self, f: impl FnOnce(&mut SessionData)) -> Result<(), InvokeError> {
        let _saving = lock(&self.inner.saving);
        let Some(path) = &self.inner.config.session_path else {
            f(&mut lock(&self.inner.session));
            return Ok(());
        };
        let base = lock(&self.inner.session).clone();
        let network = base.network.clone();
        let written = session_file::update(
            path,
            &network,
            || base,
            |s| {
                f(s);
                self.refresh(s);
            },
        )?;
        *lock(&self.inner.session) = written;
        Ok(())
    }

    /// Marks `dc` authorized in `s` with the key its connections use: a login or import
    /// answered on it proves the key good, so a temporary key becomes the saved one.
    fn authorize_in_use(&self, dc: i32) -> impl FnOnce(&mut SessionData) {
        let key = lock(&self.inner.in_use).get(&dc).copied();
        lock(&self.inner.temp_keys).remove(&dc);
        move |s: &mut SessionData| {
            let state = s.dc_mut(dc);
            if key.is_some() {
                state.auth_key = key;
            }
            state.authorized = true;
        }
    }

    /// Records a login on the home DC: the user, and home authorized (other DCs forgotten).
    pub fn set_logged_in(&self, user: LoggedIn) -> Result<(), InvokeError> {
        let home = self.home_dc();
        let authorize = self.authorize_in_use(home);
        self.update(|s| {
            s.forget_login();
            s.user = Some(user);
            s.home_dc = home;
            authorize(s);
        })
    }

    /// Who the session is logged in as, if anyone.
    pub fn logged_in(&self) -> Option<LoggedIn> {
        lock(&self.inner.session).user
    }

    /// `auth.logOut` on every DC the login was moved to and on the home DC, then forgets
    /// the login in the session file (also when the server had already forgotten it).
    pub async fn logout(&self) -> Result<(), InvokeError> {
        let (home, others): (i32, Vec<i32>) = {
            let s = lock(&self.inner.session);
            let others = s
                .dcs
                .iter()
                .filter(|d| d.authorized && d.id != s.home_dc)
                .map(|d| d.id)
                .collect();
            (s.home_dc, others)
        };
        // A -404 to home's logged-in key (perhaps forged) leaves a temporary key that carries
        // no login: logging out on it would forget a login the server still has.
        self.client(home).await?;
        if lock(&self.inner.temp_keys).contains_key(&home) {
            return Err(InvokeError::KeyRefused { dc: home });
        }
        for dc in others {
            // Best effort: the home logout below is the one that matters.
            let _ = self.call(dc, &functions::auth::LogOut {}).await;
        }
        let r = self.call(home, &functions::auth::LogOut {}).await;
        match r {
            Ok(_) | Err(InvokeError::NotLoggedIn(_)) => {
                self.update(SessionData::forget_login)?;
                r.map(|_| ())
            }
            Err(e) => Err(e),
        }
    }

    /// A connection to `dc`, opened (and the DC's key made) if needed; round robin over the
    /// DC's connections.
    pub async fn client(&self, dc: i32) -> Result<Client, InvokeError> {
        self.client_for(dc, false).await
    }

    /// The DC addresses learned from `help.getConfig` so far.
    pub fn dc_options(&self) -> DcOptions {
        lock(&self.inner.learned).clone()
    }

    /// Where connections to `dc` go (`media`: file connections): a learned address, else
    /// the network's.
    pub fn address(&self, dc: i32, media: bool) -> Option<SocketAddr> {
        lock(&self.inner.learned)
            .choose(dc, media)
            .or_else(|| self.inner.config.network.addr(dc))
    }

    /// [`Pool::client`] for file calls when `media`: connections of their own to the DC's
    /// `media_only` address, when it has one (else the ordinary connections).
    async fn client_for(&self, dc: i32, media: bool) -> Result<Client, InvokeError> {
        let media = media && lock(&self.inner.learned).has_media(dc);
        let slot = lock(&self.inner.dcs)
            .entry((dc, media))
            .or_default()
            .clone();
        let mut clients = slot.lock().await;
        clients.retain(|c| !c.is_closed());
        while clients.len() < self.inner.config.connections_per_dc.max(1) {
            let c = self.open_connection(dc, media).await?;
            clients.push(c);
        }
        let i = self.inner.next.fetch_add(1, Ordering::Relaxed) % clients.len();
        Ok(clients[i].clone())
    }

    /// The options of a new connection to `dc` at its address, trusting `rsa_keys`.
    fn connect_options(
        &self,
        dc: i32,
        media: bool,
        rsa_keys: Vec<RsaPublicKey>,
    ) -> Result<ConnectOptions, InvokeError> {
        let cfg = &self.inner.config;
        let addr = self.address(dc, media).ok_or(InvokeError::UnknownDc(dc))?;
        let mut opts = ConnectOptions::new(dc, addr, rsa_keys, cfg.api_id);
        opts.test = cfg.network.test;
        opts.transport = cfg.transport.clone();
        opts.timeout = cfg.timeout;
        opts.reconnect_attempts = cfg.reconnect_attempts;
        opts.clock_skew = cfg.clock_skew;
        opts.proxy = cfg.proxy.clone();
        opts.media = media;
        Ok(opts)
    }

    async fn open_connection(&self, dc: i32, media: bool) -> Result<Client, InvokeError> {
        let mut opts = self.connect_options(dc, media, self.inner.rsa_keys.clone())?;
        let (key, salt, authorized, offset) = {
            let s = lock(&self.inner.session);
            let state = s.dc(dc);
            (
                state.and_then(|d| d.auth_key),
                state.map_or(0, |d| d.server_salt),
                state.is_some_and(|d| d.authorized),
                s.time_offset,
            )
        };
        opts.time_offset = offset;
        let saved = match lock(&self.inner.temp_keys).get(&dc) {
            // A temporary key is never saved: a -404 to it makes another one.
            Some(temp) => Some(SavedKey {
                key: temp.clone(),
                server_salt: 0,
                authorized: true,
            }),
            None => key.map(|k| SavedKey {
                key: AuthKey::from_bytes(k),
                server_salt: salt,
                authorized,
            }),
        };
        let (connected, used) = connect_saved(&mut opts, saved.as_ref()).await?;
        let replaced = saved.map(|k| *k.key.as_bytes());
        self.connected(dc, &connected, used, replaced)?;
        Ok(connected.client)
    }

    /// Records a new connection (and a new key) in the stats and the session file.
    fn connected(
        &self,
        dc: i32,
        c: &Connected,
        used: KeyUse,
        replaced: Option<[u8; AUTH_KEY_LEN]>,
    ) -> Result<(), InvokeError> {
        let mut stats = lock(&self.inner.stats);
        stats.connections += 1;
        stats.opened.push((dc, c.client.addr()));
        if c.key_exchange.is_some() {
            stats.key_exchanges += 1;
        }
        if used == KeyUse::Temporary && !stats.temporary_keys.contains(&dc) {
            stats.temporary_keys.push(dc);
        }
        drop(stats);
        let learned = DcOptions::from_config(&c.config);
        if !learned.is_empty() {
            *lock(&self.inner.learned) = learned;
        }
        let key = *c.auth_key.as_bytes();
        if used == KeyUse::Temporary {
            lock(&self.inner.temp_keys).insert(dc, c.auth_key.clone());
        }
        lock(&self.inner.in_use).insert(dc, key);
        let (salt, offset) = (c.client.server_salt(), c.client.time_offset());
        self.update(|s| {
            s.record_connection(dc, &key, used.save_key(), replaced.as_ref(), salt, offset)
        })
    }

    /// Calls `request` on the home DC.
    pub async fn invoke<R: RemoteCall>(&self, request: &R) -> Result<R::Return, InvokeError> {
        self.invoke_on(self.home_dc(), request).await
    }

    /// Calls `request` on DC `dc`, moving the login there first if needed (see the module
    /// docs for what is retried).
    pub async fn invoke_on<R: RemoteCall>(
        &self,
        dc: i32,
        request: &R,
    ) -> Result<R::Return, InvokeError> {
        self.invoke_kind(dc, request, false).await
    }

    /// [`Pool::invoke_on`] on file connections when `media`.
    async fn invoke_kind<R: RemoteCall>(
        &self,
        dc: i32,
        request: &R,
        media: bool,
    ) -> Result<R::Return, InvokeError> {
        let mut reimported = false;
        loop {
            self.ensure_authorized(dc).await?;
            match self.call_kind(dc, request, media).await {
                Err(InvokeError::NotLoggedIn(_))
                    if !reimported && dc != self.home_dc() && self.is_authorized(dc) =>
                {
                    // The import was lost on the server side: move the login again, once.
                    reimported = true;
                    self.update(|s| s.dc_mut(dc).authorized = false)?;
                }
                r => return r,
            }
        }
    }

    /// Calls a file request on `dc`; on `FILE_MIGRATE_X` calls it again on DC X. Returns the
    /// answer and the DC that gave it.
    pub async fn invoke_file<R: RemoteCall>(
        &self,
        dc: i32,
        request: &R,
    ) -> Result<(R::Return, i32), InvokeError> {
        match self.invoke_kind(dc, request, true).await {
            Err(e)
                if matches!(
                    e.rpc().map(|r| &r.kind),
                    Some(RpcErrorKind::FileMigrate { .. })
                ) =>
            {
                let target = e.migrate_dc().unwrap_or(dc);
                Ok((self.invoke_kind(target, request, true).await?, target))
            }
            r => r.map(|v| (v, dc)),
        }
    }

    /// Connection `index` (taken modulo [`PoolConfig::connections_per_dc`]) of `dc`'s file
    /// connections (its `media_only` address when it has one), the login moved there first and
    /// the connection opened, or reopened when it had closed. For callers that spread file
    /// requests over connections themselves: calls on the returned [`Client`] get no flood-wait
    /// policy and no `FILE_MIGRATE_X` routing, every error comes back as it is.
    pub async fn file_connection(&self, dc: i32, index: usize) -> Result<Client, InvokeError> {
        self.ensure_authorized(dc).await?;
        let media = lock(&self.inner.learned).has_media(dc);
        let slot = lock(&self.inner.dcs)
            .entry((dc, media))
            .or_default()
            .clone();
        let mut clients = slot.lock().await;
        let i = index % self.inner.config.connections_per_dc.max(1);
        while clients.len() <= i {
            let c = self.open_connection(dc, media).await?;
            clients.push(c);
        }
        if clients[i].is_closed() {
            clients[i] = self.open_connection(dc, media).await?;
        }
        Ok(clients[i].clone())
    }

    /// Replaces file connection `index` of `dc` (see [`Pool::file_connection`]) with a new one,
    /// e.g. because it went silent; the old one closes when its last handle is dropped.
    pub async fn replace_file_connection(&self, dc: i32, index: usize) -> Result<(), InvokeError> {
        let media = lock(&self.inner.learned).has_media(dc);
        let slot = lock(&self.inner.dcs)
            .entry((dc, media))
            .or_default()
            .clone();
        let mut clients = slot.lock().await;
        let i = index % self.inner.config.connections_per_dc.max(1);
        let fresh = self.open_connection(dc, media).await?;
        if i < clients.len() {
            clients[i] = fresh;
        } else {
            clients.push(fresh);
        }
        Ok(())
    }

    /// Connection `index` (modulo [`PoolConfig::connections_per_dc`]) to CDN DC `dc`: the CDN
    /// keys are asked from the home DC once (`help.getCdnConfig`), the CDN's auth key is made
    /// once per run, and no login is moved there (CDNs know no users).
    async fn cdn_connection(&self, dc: i32, index: usize) -> Result<Client, InvokeError> {
        let mut st = self.inner.cdn.lock().await;
        if st.keys.is_none() {
            let enums::CdnConfig::CdnConfig(c) =
                self.invoke(&functions::help::GetCdnConfig {}).await?;
            let keys = c
                .public_keys
                .iter()
                .filter_map(|enums::CdnPublicKey::CdnPublicKey(k)| {
                    Some((k.dc_id, RsaPublicKey::from_pkcs1_pem(&k.public_key).ok()?))
                })
                .collect();
            st.keys = Some(keys);
        }
        let i = index % self.inner.config.connections_per_dc.max(1);
        if let Some(c) = st.clients.get(&dc).and_then(|v| v.get(i)) {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let key = st
            .keys
            .as_ref()
            .and_then(|k| k.get(&dc))
            .cloned()
            .ok_or(InvokeError::UnknownDc(dc))?;
        let mut opts = self.connect_options(dc, false, vec![key])?;
        opts.auth_key = st.auth_keys.get(&dc).cloned();
        let (client, auth_key) = match super::client::connect_cdn(&opts).await {
            Err(e) if e.is_auth_key_unknown() => {
                opts.auth_key = None;
                super::client::connect_cdn(&opts).await?
            }
            r => r?,
        };
        {
            let mut stats = lock(&self.inner.stats);
            stats.connections += 1;
            stats.opened.push((dc, client.addr()));
        }
        st.auth_keys.insert(dc, auth_key);
        let clients = st.clients.entry(dc).or_default();
        if i < clients.len() {
            clients[i] = client.clone();
        } else {
            clients.push(client.clone());
        }
        Ok(client)
    }

    /// Calls an already serialized request (`upload.getCdnFile`) on connection `index` of CDN
    /// DC `dc`, wrapped in `invokeWithLayer(initConnection(..))`; returns the answer's bytes.
    pub async fn invoke_cdn_raw(
        &self,
        dc: i32,
        index: usize,
        body: Vec<u8>,
    ) -> Result<Bytes, InvokeError> {
        let client = self.cdn_connection(dc, index).await?;
        let wrapped = InitParams::new(self.inner.config.api_id)
            .wrap(Raw(body.into()))
            .to_bytes();
        client.invoke_raw(wrapped).await
    }

    /// Calls a login request on the home DC, following `PHONE_MIGRATE_X`, `USER_MIGRATE_X`
    /// and `NETWORK_MIGRATE_X` (the home DC becomes X and is saved).
    pub async fn invoke_login<R: RemoteCall>(&self, request: &R) -> Result<R::Return, InvokeError> {
        for _ in 0..3 {
            match self.call(self.home_dc(), request).await {
                Err(e) => match e.rpc().map(|r| &r.kind) {
                    Some(
                        RpcErrorKind::PhoneMigrate { dc }
                        | RpcErrorKind::UserMigrate { dc }
                        | RpcErrorKind::NetworkMigrate { dc },
                    ) if *dc != self.home_dc() => {
                        let dc = *dc;
                        if self.address(dc, false).is_none() {
                            return Err(InvokeError::UnknownDc(dc));
                        }
                        self.update(|s| s.home_dc = dc)?;
                        lock(&self.inner.stats).home_changes += 1;
                    }
                    _ => return Err(e),
                },
                ok => return ok,
            }
        }
        Err(InvokeError::Dropped)
    }

    /// Whether `dc`'s connections are logged in: its saved key is authorized and in use.
    fn is_authorized(&self, dc: i32) -> bool {
        let temporary = lock(&self.inner.temp_keys).contains_key(&dc);
        !temporary
            && lock(&self.inner.session)
                .dc(dc)
                .is_some_and(|d| d.authorized)
    }

    /// Moves the login to `dc` if the session is logged in, `dc` is not home and the login
    /// was not moved there before. Concurrent callers export once.
    async fn ensure_authorized(&self, dc: i32) -> Result<(), InvokeError> {
        let needed = |p: &Pool| {
            let (user, home) = {
                let s = lock(&p.inner.session);
                (s.user.is_some(), s.home_dc)
            };
            user && dc != home && !p.is_authorized(dc)
        };
        if !needed(self) {
            return Ok(());
        }
        let _guard = self.inner.authorizing.lock().await;
        if !needed(self) {
            return Ok(());
        }
        let home = self.home_dc();
        let enums::auth::ExportedAuthorization::ExportedAuthorization(exported) = self
            .call(home, &functions::auth::ExportAuthorization { dc_id: dc })
            .await?;
        self.call(
            dc,
            &functions::auth::ImportAuthorization {
                id: exported.id,
                bytes: exported.bytes,
            },
        )
        .await?;
        lock(&self.inner.stats).exports += 1;
        let authorize = self.authorize_in_use(dc);
        self.update(authorize)
    }

    /// One call with the flood-wait policy; lost authorizations become NotLoggedIn.
    async fn call<R: RemoteCall>(&self, dc: i32, request: &R) -> Result<R::Return, InvokeError> {
        self.call_kind(dc, request, false).await
    }

    /// [`Pool::call`] on file connections when `media`.
    async fn call_kind<R: RemoteCall>(
        &self,
        dc: i32,
        request: &R,
        media: bool,
    ) -> Result<R::Return, InvokeError> {
        let cfg = &self.inner.config;
        let mut floods = 0u32;
        let store = cfg.store.as_ref();
        let account = store
            .and_then(|_| self.logged_in())
            .map(|u| u.user_id.to_string());
        loop {
            if let (Some(store), Some(account)) = (store, &account) {
                // A deadline another instance (or an earlier run) learned: read from the
                // store's local copy, no round trip.
                if let Some(until) = store.flood_until(account, dc) {
                    let left = Duration::from_millis(until.saturating_sub(unix_ms()));
                    let seconds = left.as_secs().saturating_add(1).min(u64::from(u32::MAX)) as u32;
                    if seconds > cfg.flood_wait_threshold || floods >= cfg.max_flood_retries {
                        return Err(InvokeError::FloodWait {
                            seconds,
                            message: format!("FLOOD_WAIT_{seconds} (shared deadline)"),
                        });
                    }
                    floods += 1;
                    tokio::time::sleep(left).await;
                    lock(&self.inner.stats).flood_waits.push(left);
                }
            }
            let client = self.client_for(dc, media).await?;
            let e = match client.invoke(request).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(rpc) = e.rpc() else {
                return Err(e);
            };
            if rpc.kind.is_unauthorized() {
                if lock(&self.inner.temp_keys).contains_key(&dc) {
                    return Err(InvokeError::KeyRefused { dc });
                }
                return Err(InvokeError::NotLoggedIn(rpc.clone()));
            }
            let wait = match rpc.kind {
                RpcErrorKind::FloodWait { seconds }
                | RpcErrorKind::FloodPremiumWait { seconds } => seconds,
                _ => return Err(e),
            };
            if let (Some(store), Some(account)) = (store, &account) {
                // The store refuses only malformed names; the wait below still holds here.
                let _ = store.note_flood(account, dc, Duration::from_secs(u64::from(wait)));
            }
            if wait > cfg.flood_wait_threshold || floods >= cfg.max_flood_retries {
                return Err(InvokeError::FloodWait {
                    seconds: wait,
                    message: rpc.message.clone(),
                });
            }
            floods += 1;
            let jitter_ms = cfg.flood_jitter.as_millis().min(u128::from(u32::MAX)) as u64;
            let pause = Duration::from_secs(u64::from(wait))
                + Duration::from_millis(rand::thread_rng().gen_range(0..=jitter_ms));
            tokio::time::sleep(pause).await;
            lock(&self.inner.stats).flood_waits.push(pause);
        }
    }
}

/// Now as Unix milliseconds (the store's deadlines are in it).
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
