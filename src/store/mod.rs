//! Shared state for scale-out (`--store`): what several accounts and several `tgmux serve`
//! instances must agree on.
//!
//! - **Flood deadlines** per (account, DC): an account told `FLOOD_WAIT_X` by a DC gets no
//!   request for that DC from any instance before the deadline.
//! - **Resolutions** per (account, link) with a TTL: a link resolved once (document location,
//!   file reference) is not resolved again by anyone until it expires; whoever sees the file
//!   reference expire resolves it again and puts the new value, which every instance then
//!   uses.
//! - **Auth keys** per (account, DC): the first instance to store one wins, the others adopt
//!   it (each still uses its own session id), so instances do not each make keys.
//! - **Request buckets** per account ([`RequestLimiter`]): one token bucket per account, shared
//!   by every instance using that account.
//!
//! [`Store`] is the handle everyone calls. Every read comes from a local copy in memory, so
//! the hot path (one downloaded part: a flood check, a resolution, a token) makes no network
//! round trip. Changes are applied to the local copy at once and handed to a [`Backend`]:
//!
//! - [`FileBackend`] (the default): an append-only log in one local file, replayed at start,
//!   so flood deadlines, resolutions and auth keys survive a restart.
//! - [`RedisBackend`] (`redis://HOST:PORT/DB`): values in Redis, changes published to the
//!   other instances, which apply them to their local copies; atomic Lua scripts where
//!   instances race. Redis lost at run time: the instance goes on from its local copy, warns
//!   once, reconnects in the background and shares again.
//! - [`MemoryBackend`]: nothing kept (tests, or one-off commands).
//!
//! See docs/scale.md for the formats, the Redis keys and the figures.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

pub mod change;
pub mod file;
mod limiter;
pub mod local;
pub mod redis;

pub use change::{AuthKey, Change, AUTH_KEY_LEN};
pub use file::FileBackend;
pub use limiter::{Pacing, RequestLimiter};
pub use redis::RedisBackend;

use local::{Local, Maps};

/// A boxed future, for the few [`Backend`] calls that wait for other instances.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the state goes beyond this process's memory. The [`Store`] keeps the local copy and
/// calls a backend only on change (and for the two questions every instance must agree on).
pub trait Backend: Send + Sync + 'static {
    /// What to call it in messages (`store file PATH`, `--store redis://HOST:PORT/DB`).
    fn describe(&self) -> String;

    /// Persists or shares one change already applied to the local copy. Never blocks on I/O:
    /// the change is queued, and kept for later if the backend is unreachable.
    fn record(&self, change: Change);

    /// Stores `change` (an [`Change::AuthKey`]) unless another instance stored a key for the
    /// same (account, DC) first, and returns the key that is stored. `None`: nothing is shared
    /// (or it is unreachable now), and the caller settles it locally and records it.
    fn insert_auth_key<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Option<Box<AuthKey>>> {
        let _ = change;
        Box::pin(async { None })
    }

    /// Takes up to `want` tokens from `account`'s request bucket shared by every instance:
    /// `Some((granted, retry_after_ms))`, the second saying, when fewer than `want` were
    /// granted, how long until `want` are there again. `None`: buckets are not shared (or
    /// unreachable now); pace locally.
    fn take_tokens<'a>(
        &'a self,
        account: &'a str,
        pacing: Pacing,
        want: u32,
    ) -> BoxFuture<'a, Option<(u32, u64)>> {
        let _ = (account, pacing, want);
        Box::pin(async { None })
    }

    /// Waits until every change recorded so far is durable (file) or sent (Redis, when up).
    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// Whether the state is shared right now.
    fn status(&self) -> Status {
        Status::Local
    }

    /// Counters.
    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }
}

/// Whether a store shares its state right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Kept in this process (and its file): nothing to share with.
    Local,
    /// Shared with the other instances.
    Shared,
    /// The shared side is unreachable: serving from the local copy, reconnecting.
    Degraded,
}

/// What a backend has done (for tests, benches and `tgmux accounts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Redis commands sent for changes, auth keys, buckets and resyncs (not heartbeats).
    pub round_trips: u64,
    /// Heartbeat pings sent (one a second while connected).
    pub heartbeats: u64,
    /// Times the shared side was lost.
    pub outages: u64,
    /// Times it came back.
    pub reconnects: u64,
    /// Changes received from other instances and applied.
    pub received: u64,
}

/// The memory-only backend: nothing persisted, nothing shared.
#[derive(Debug, Default)]
pub struct MemoryBackend;

impl Backend for MemoryBackend {
    fn describe(&self) -> String {
        "the in-memory store".into()
    }

    fn record(&self, _change: Change) {}
}

/// Why a store could not be opened, or a change was refused (one line each).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The store file could not be read, created or locked.
    Io(PathBuf, String),
    /// The store file is damaged.
    Corrupt(PathBuf, String),
    /// Another process has the store file open.
    Locked(PathBuf),
    /// Redis could not be reached or used (`--store` URL with any password hidden).
    Redis(String, String),
    /// The `--store` value is not a path or a `redis://` URL we can use.
    Spec(String),
    /// A change breaks the limits (bad account name, link or value too long).
    Invalid(&'static str),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(p, e) => write!(f, "store file {}: {e}", p.display()),
            StoreError::Corrupt(p, why) => write!(
                f,
                "store file {} is corrupt ({why}); move it away to start afresh \
                 (its flood deadlines and resolutions are then forgotten)",
                p.display()
            ),
            StoreError::Locked(p) => write!(
                f,
                "store file {} is in use by another tgmux process (give each instance its own \
                 file, or share state with --store redis://HOST:PORT/DB)",
                p.display()
            ),
            StoreError::Redis(url, e) => write!(f, "--store {url}: {e}"),
            StoreError::Spec(m) => write!(f, "--store: {m}"),
            StoreError::Invalid(why) => write!(f, "store: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The default store file: `$XDG_DATA_HOME/tgmux/store`, else `~/.local/share/tgmux/store`
/// (beside the default session file).
pub fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from) {
        if dir.is_absolute() {
            return Some(dir.join("tgmux").join("store"));
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    home.is_absolute()
        .then(|| home.join(".local/share/tgmux/store"))
}

/// The handle on the shared state. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    local: Arc<Local>,
    backend: Arc<dyn Backend>,
    limiters: Mutex<HashMap<String, Arc<RequestLimiter>>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend.describe())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store a `--store` value names: `redis://HOST:PORT/DB`, `memory`, or a file
    /// path (created if missing).
    pub async fn open(spec: &str) -> Result<Store, StoreError> {
        if spec == "memory" {
            Ok(Store::memory())
        } else if spec.contains("://") {
            Store::open_redis(spec).await
        } else if spec.is_empty() {
            Err(StoreError::Spec(
                "empty (give a file path or redis://HOST:PORT/DB)".into(),
            ))
        } else {
            Store::open_file(Path::new(spec))
        }
    }

    /// Opens (or creates) an embedded store file.
    pub fn open_file(path: &Path) -> Result<Store, StoreError> {
        let (local, backend) = FileBackend::open(path)?;
        Ok(Store::from_parts(local, Arc::new(backend)))
    }

    /// Connects to Redis (`redis://[:PASSWORD@]HOST:PORT/DB`) and loads the shared state.
    pub async fn open_redis(url: &str) -> Result<Store, StoreError> {
        let (local, backend) = RedisBackend::open(url).await?;
        Ok(Store::from_parts(local, Arc::new(backend)))
    }

    /// A store that keeps nothing beyond this process.
    pub fn memory() -> Store {
        Store::from_parts(
            Arc::new(Local::new(Maps::default())),
            Arc::new(MemoryBackend),
        )
    }

    fn from_parts(local: Arc<Local>, backend: Arc<dyn Backend>) -> Store {
        Store {
            inner: Arc::new(Inner {
                local,
                backend,
                limiters: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// What the store is, for messages.
    pub fn describe(&self) -> String {
        self.inner.backend.describe()
    }

    /// Whether the state is shared right now.
    pub fn status(&self) -> Status {
        self.inner.backend.status()
    }

    /// The backend's counters.
    pub fn stats(&self) -> StoreStats {
        self.inner.backend.stats()
    }

    /// A receiver whose value moves whenever another instance's change arrives.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.local.subscribe()
    }

    /// Waits until every change so far is durable (file) or sent (Redis).
    pub async fn flush(&self) {
        self.inner.backend.flush().await;
    }

    fn change(&self, change: Change) -> Result<(), StoreError> {
        change.check().map_err(StoreError::Invalid)?;
        if self.inner.local.write(|m| m.apply(&change)) {
            self.inner.backend.record(change);
        }
        Ok(())
    }

    /// The flood deadline (Unix ms) of `account` on `dc`, if it has not passed.
    pub fn flood_until(&self, account: &str, dc: i32) -> Option<u64> {
        let now = file::now_ms();
        self.inner.local.read(|m| m.flood_until(account, dc, now))
    }

    /// Records that `dc` told `account` to wait `wait` (`FLOOD_WAIT_X`); returns the deadline
    /// now in force (a later one already known is kept).
    pub fn note_flood(&self, account: &str, dc: i32, wait: Duration) -> Result<u64, StoreError> {
        let until = file::now_ms().saturating_add(wait.as_millis() as u64);
        self.change(Change::Flood {
            account: account.into(),
            dc,
            until,
        })?;
        Ok(self.flood_until(account, dc).unwrap_or(until))
    }

    /// `link`'s resolution for `account`, unless it expired.
    pub fn resolution(&self, account: &str, link: &str) -> Option<Bytes> {
        let now = file::now_ms();
        self.inner.local.read(|m| m.resolution(account, link, now))
    }

    /// Stores `link`'s resolution for `account` for `ttl` (also to replace one whose file
    /// reference expired).
    pub fn put_resolution(
        &self,
        account: &str,
        link: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.change(Change::Resolved {
            account: account.into(),
            link: link.into(),
            expires: file::now_ms().saturating_add(ttl.as_millis() as u64),
            value,
        })
    }

    /// Drops `link`'s resolution for `account` (the media no longer resolves).
    pub fn forget_resolution(&self, account: &str, link: &str) -> Result<(), StoreError> {
        self.change(Change::Forget {
            account: account.into(),
            link: link.into(),
        })
    }

    /// The auth key `account` uses with `dc`, if any instance made one.
    pub fn auth_key(&self, account: &str, dc: i32) -> Option<Box<AuthKey>> {
        self.inner
            .local
            .read(|m| m.auth_key(account, dc).map(|k| Box::new(*k)))
    }

    /// Offers a freshly made auth key for (`account`, `dc`): the first key stored anywhere
    /// wins, and the winner is returned; a caller that lost uses the returned key (and drops
    /// its own). When the shared side is unreachable the key is settled locally and offered
    /// again on reconnect.
    pub async fn offer_auth_key(
        &self,
        account: &str,
        dc: i32,
        key: &AuthKey,
    ) -> Result<Box<AuthKey>, StoreError> {
        if let Some(k) = self.auth_key(account, dc) {
            return Ok(k);
        }
        let change = Change::AuthKey {
            account: account.into(),
            dc,
            key: Box::new(*key),
        };
        change.check().map_err(StoreError::Invalid)?;
        if let Some(winner) = self.inner.backend.insert_auth_key(&change).await {
            let stored = Change::AuthKey {
                account: account.into(),
                dc,
                key: winner.clone(),
            };
            self.inner.local.write(|m| m.apply(&stored));
            return Ok(winner);
        }
        // Settled here: the first local offer wins.
        let recorded = self.inner.local.write(|m| {
            if m.auth_key(account, dc).is_some() {
                false
            } else {
                m.apply(&change)
            }
        });
        if recorded {
            self.inner.backend.record(change);
        }
        Ok(self.auth_key(account, dc).expect("stored above"))
    }

    /// The request limiter of `account` (made on first use with `pacing`; later calls return
    /// the same one whatever pacing they pass).
    pub fn limiter(&self, account: &str, pacing: Pacing) -> Arc<RequestLimiter> {
        let mut map = self
            .inner
            .limiters
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(map.entry(account.to_owned()).or_insert_with(|| {
            Arc::new(RequestLimiter::new(
                account,
                pacing,
                Arc::clone(&self.inner.backend),
            ))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_keeps_state_for_the_process() {
        let s = Store::memory();
        assert_eq!(s.status(), Status::Local);
        let until = s.note_flood("a", 2, Duration::from_secs(30)).unwrap();
        // A shorter wait later does not shorten the deadline.
        assert_eq!(s.note_flood("a", 2, Duration::from_secs(1)).unwrap(), until);
        assert_eq!(s.flood_until("a", 2), Some(until));
        assert_eq!(s.flood_until("a", 4), None);
        s.put_resolution(
            "a",
            "t.me/x/1",
            Bytes::from_static(b"loc"),
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(s.resolution("a", "t.me/x/1").as_deref(), Some(&b"loc"[..]));
        assert_eq!(s.resolution("b", "t.me/x/1"), None);
        s.put_resolution("a", "t.me/x/2", Bytes::new(), Duration::ZERO)
            .unwrap();
        assert_eq!(
            s.resolution("a", "t.me/x/2"),
            None,
            "a zero TTL is expired at once"
        );
        s.forget_resolution("a", "t.me/x/1").unwrap();
        assert_eq!(s.resolution("a", "t.me/x/1"), None);
        // First offer wins, later ones adopt it.
        let first = s.offer_auth_key("a", 2, &[1; AUTH_KEY_LEN]).await.unwrap();
        let second = s.offer_auth_key("a", 2, &[2; AUTH_KEY_LEN]).await.unwrap();
        assert_eq!((first[0], second[0]), (1, 1));
        // Bad names and sizes are refused, not recorded.
        assert_eq!(
            s.note_flood("a:b", 2, Duration::from_secs(1)),
            Err(StoreError::Invalid("bad account name"))
        );
        let huge = Bytes::from(vec![0; change::MAX_VALUE_LEN + 1]);
        assert!(s
            .put_resolution("a", "l", huge, Duration::from_secs(1))
            .is_err());
        assert!(s
            .put_resolution("a", "", Bytes::new(), Duration::from_secs(1))
            .is_err());
    }

    #[test]
    fn errors_are_one_line() {
        for e in [
            StoreError::Corrupt(
                "/x/store".into(),
                "record checksum mismatch at byte 12".into(),
            ),
            StoreError::Locked("/x/store".into()),
            StoreError::Redis("redis://127.0.0.1:1/0".into(), "cannot connect".into()),
            StoreError::Io("/x/store".into(), "permission denied".into()),
        ] {
            let s = e.to_string();
            assert!(
                !s.contains('\n') && (s.contains("/x/store") || s.contains("redis://")),
                "{s}"
            );
        }
    }
}
