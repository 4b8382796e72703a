//! The metadata cache: what links resolved to, keyed by (account, peer, message), with a TTL,
//! behind a trait so a shared store (Redis) can take its place later. [`FileCache`] keeps it
//! in memory and in one JSON file in the session's data directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::media::Media;
use super::resolver::ChannelRef;
use crate::store::Store;

/// The key: whose view, which chat (`username` lower-cased or `c/<id>`), which message (0 for
/// the chat itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// The account's user id (another account may see other access hashes).
    pub account: i64,
    /// The chat.
    pub peer: String,
    /// The message id, 0 for the chat.
    pub msg: i32,
}

impl CacheKey {
    fn text(&self) -> String {
        format!("{}/{}/{}", self.account, self.peer, self.msg)
    }
}

/// A cached answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cached {
    /// The chat's id and access hash.
    Channel(ChannelRef),
    /// The message's media.
    Media(Box<Media>),
    /// The message exists and has no media.
    NoMedia,
}

/// Where resolved metadata is remembered.
pub trait MetadataCache: Send + Sync {
    /// The entry, if present and not expired.
    fn get(&self, key: &CacheKey) -> Option<Cached>;
    /// Stores an entry (for the cache's TTL).
    fn put(&self, key: CacheKey, value: Cached);
}

/// Default time an entry is trusted: file references last longer, and an expired one is
/// refreshed by the downloader anyway.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// Writes of the file are at least this far apart (the last one is made by [`FileCache::flush`]
/// or on drop).
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// Entries kept at most (the oldest-expiring go first).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    /// key text → (expiry, unix seconds; entry)
    entries: HashMap<String, (u64, Cached)>,
}

#[derive(Debug)]
struct State {
    stored: Stored,
    dirty: bool,
    last_save: Option<Instant>,
}

/// A [`MetadataCache`] in memory, persisted as JSON at `path` (or in memory only).
#[derive(Debug)]
pub struct FileCache {
    path: Option<PathBuf>,
    ttl: Duration,
    state: Mutex<State>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl FileCache {
    /// A cache kept in memory only.
    pub fn in_memory(ttl: Duration) -> Self {
        FileCache {
            path: None,
            ttl,
            state: Mutex::new(State {
                stored: Stored::default(),
                dirty: false,
                last_save: None,
            }),
        }
    }

    /// A cache persisted at `path`; a missing or unreadable file starts empty (it is only a
    /// cache), expired entries are dropped.
    pub fn open(path: &Path, ttl: Duration) -> Self {
        let mut stored: Stored = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let now = now_secs();
        stored.entries.retain(|_, (exp, _)| *exp > now);
        FileCache {
            path: Some(path.to_owned()),
            ttl,
            state: Mutex::new(State {
                stored,
                dirty: false,
                last_save: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the file now if anything changed (atomically: a temporary file, then a rename).
    pub fn flush(&self) -> std::io::Result<()> {
        let mut s = self.lock();
        self.save(&mut s)
    }

    fn save(&self, s: &mut State) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !s.dirty {
            return Ok(());
        }
        let text = serde_json::to_vec(&s.stored).map_err(std::io::Error::other)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)?;
        s.dirty = false;
        s.last_save = Some(Instant::now());
        Ok(())
    }
}

impl MetadataCache for FileCache {
    fn get(&self, key: &CacheKey) -> Option<Cached> {
        let s = self.lock();
        let (exp, v) = s.stored.entries.get(&key.text())?;
        (*exp > now_secs()).then(|| v.clone())
    }

    fn put(&self, key: CacheKey, value: Cached) {
        let mut s = self.lock();
        let exp = now_secs() + self.ttl.as_secs();
        if s.stored.entries.len() >= MAX_ENTRIES {
            if let Some(oldest) = s
                .stored
                .entries
                .iter()
                .min_by_key(|(_, (e, _))| *e)
                .map(|(k, _)| k.clone())
            {
                s.stored.entries.remove(&oldest);
            }
        }
        s.stored.entries.insert(key.text(), (exp, value));
        s.dirty = true;
        if s.last_save.is_none_or(|t| t.elapsed() >= SAVE_EVERY) {
            // A cache that cannot be written is only slower next time.
            let _ = self.save(&mut s);
        }
    }
}

/// A [`MetadataCache`] in the shared [`Store`] (Redis or the embedded store file), layered over
/// another cache: reads come from the store's local copy (no round trip) and then from the
/// inner cache; puts go to both. Entries are keyed by the account's user id and
/// `peer/msg`, with the inner cache's TTL.
pub struct StoreCache {
    store: Store,
    inner: Arc<dyn MetadataCache>,
    ttl: Duration,
}

impl StoreCache {
    /// Layers `store` over `inner`; entries live in the store for `ttl`.
    pub fn new(store: Store, inner: Arc<dyn MetadataCache>, ttl: Duration) -> Self {
        StoreCache { store, inner, ttl }
    }

    fn names(key: &CacheKey) -> (String, String) {
        (key.account.to_string(), format!("{}/{}", key.peer, key.msg))
    }
}

impl MetadataCache for StoreCache {
    fn get(&self, key: &CacheKey) -> Option<Cached> {
        let (account, link) = Self::names(key);
        if let Some(bytes) = self.store.resolution(&account, &link) {
            if let Ok(v) = serde_json::from_slice::<Cached>(&bytes) {
                return Some(v);
            }
        }
        self.inner.get(key)
    }

    fn put(&self, key: CacheKey, value: Cached) {
        let (account, link) = Self::names(&key);
        if let Ok(bytes) = serde_json::to_vec(&value) {
            // A value the store refuses (too large) is still kept by the inner cache.
            let _ = self
                .store
                .put_resolution(&account, &link, Bytes::from(bytes), self.ttl);
        }
        self.inner.put(key, value);
    }
}

impl Drop for FileCache {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(msg: i32) -> CacheKey {
        CacheKey {
            account: 7,
            peer: "chan".into(),
            msg,
        }
    }

    #[test]
    fn entries_persist_and_expire() {
        let dir = std::env::temp_dir().join(format!("tgmux-cache-{}", std::process::id()));
        let path = dir.join("cache.json");
        let _ = std::fs::remove_dir_all(&dir);
        let c = FileCache::open(&path, Duration::from_secs(60));
        assert!(c.get(&key(1)).is_none());
        c.put(key(1), Cached::NoMedia);
        c.put(
            key(0),
            Cached::Channel(ChannelRef {
                id: 5,
                access_hash: 6,
                username: Some("chan".into()),
            }),
        );
        drop(c);
        let again = FileCache::open(&path, Duration::from_secs(60));
        assert_eq!(again.get(&key(1)), Some(Cached::NoMedia));
        assert!(matches!(again.get(&key(0)), Some(Cached::Channel(c)) if c.access_hash == 6));
        let other = CacheKey {
            account: 8,
            ..key(1)
        };
        assert!(again.get(&other).is_none(), "keyed by account");
        let expired = FileCache::open(&path, Duration::ZERO);
        expired.put(key(2), Cached::NoMedia);
        assert!(expired.get(&key(2)).is_none());
        std::fs::write(&path, b"not json").unwrap();
        assert!(FileCache::open(&path, DEFAULT_TTL).get(&key(1)).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
