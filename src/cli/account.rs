//! The logged-in account as the global flags name it (`--config`, `--dc-config`, `--session`,
//! `--transport`, `--proxy`): its connection pool, a resolver over it and the metadata cache
//! in the session's data directory. `download` and `serve` both start here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ping::{transport_name, PLACEHOLDER_API_ID};
use super::{CliError, Globals};
use crate::config::ClientConfig;
use crate::download::Rpc;
use crate::net::{Pool, PoolConfig};
use crate::resolve::{FileCache, MetadataCache, Resolver, StoreCache};
use crate::store::Store;

/// What a command that reads Telegram media works with.
pub(crate) struct Account {
    /// Every DC's connections (save it at the end: salts and keys learned on the way).
    pub pool: Pool,
    /// The pool as the downloader and resolver call it.
    pub rpc: Arc<dyn Rpc>,
    /// Links resolved before, kept in `<data dir>/metadata-cache.json`.
    pub cache: Arc<FileCache>,
    /// Shared state (`--store`): resolved links over `cache`, flood deadlines for the pool.
    pub store: Store,
    /// Links to media, through the store and `cache`.
    pub resolver: Resolver,
    /// The session file's directory (the cache, the record of downloads).
    pub data_dir: PathBuf,
}

/// Opens the account's pool with `connections` file connections per DC; fails with advice
/// when there is no session or it is not logged in.
pub(crate) fn open(g: &Globals, connections: usize) -> Result<Account, CliError> {
    let err = |e: &dyn std::fmt::Display| CliError::new(e.to_string());
    let cfg = ClientConfig::from_globals(g).map_err(|e| err(&e))?;
    let api_id = cfg.api.as_ref().map_or(PLACEHOLDER_API_ID, |a| a.api_id);
    let mut pc = PoolConfig::new(cfg.network.clone(), api_id);
    pc.transport = transport_name(g.transport).to_string();
    pc.session_path = Some(cfg.session_path.clone());
    pc.flood_wait_threshold = cfg.flood_wait_threshold_secs;
    pc.proxy = cfg.proxy.clone();
    pc.connections_per_dc = connections.max(1);
    let data_dir = cfg
        .session_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if !cfg.session_path.exists() {
        return Err(CliError::new(format!(
            "not logged in: no session file at {} (run `tgmux login`)",
            cfg.session_path.display()
        )));
    }
    let store = open_store(g.store.as_deref(), &data_dir)?;
    pc.store = Some(store.clone());
    let pool = Pool::open(pc).map_err(|e| super::ping::invoke_error(&e))?;
    if pool.logged_in().is_none() {
        return Err(CliError::new("not logged in: run `tgmux login`"));
    }
    Account::with_store(pool, data_dir, store)
}

/// Opens the `--store` value (default: `store` in `data_dir`). Redis gets a runtime thread of
/// its own, so its connection outlives the runtimes the commands start and stop.
pub(crate) fn open_store(spec: Option<&str>, data_dir: &Path) -> Result<Store, CliError> {
    let fail = |e: &dyn std::fmt::Display| CliError::new(e.to_string());
    let Some(spec) = spec else {
        return Store::open_file(&data_dir.join("store")).map_err(|e| fail(&e));
    };
    if !spec.contains("://") {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| fail(&e))?;
        return runtime.block_on(Store::open(spec)).map_err(|e| fail(&e));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let spec = spec.to_string();
    std::thread::Builder::new()
        .name("tgmux-store".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                let opened = Store::open(&spec).await.map_err(|e| e.to_string());
                let ok = opened.is_ok();
                let _ = tx.send(opened);
                if ok {
                    // The connection task lives on this runtime until the process ends.
                    std::future::pending::<()>().await;
                }
            });
        })
        .map_err(|e| fail(&e))?;
    match rx.recv() {
        Ok(opened) => opened.map_err(|e| fail(&e)),
        Err(_) => Err(CliError::new("--store: the store thread ended")),
    }
}

impl Account {
    /// The resolver and cache over a pool that is already open and logged in, with the cache
    /// in `data_dir`.
    pub(crate) fn over(pool: Pool, data_dir: PathBuf) -> Result<Account, CliError> {
        Account::with_store(pool, data_dir, Store::memory())
    }

    /// [`Account::over`] with resolved links also in `store`.
    pub(crate) fn with_store(
        pool: Pool,
        data_dir: PathBuf,
        store: Store,
    ) -> Result<Account, CliError> {
        let rpc: Arc<dyn Rpc> = Arc::new(pool.clone());
        let ttl = crate::resolve::cache::DEFAULT_TTL;
        let cache = Arc::new(FileCache::open(&data_dir.join("metadata-cache.json"), ttl));
        let inner: Arc<dyn MetadataCache> = cache.clone();
        let layered = Arc::new(StoreCache::new(store.clone(), inner, ttl));
        let resolver =
            Resolver::new(rpc.clone(), layered).map_err(|e| CliError::new(e.to_string()))?;
        Ok(Account {
            pool,
            rpc,
            cache,
            store,
            resolver,
            data_dir,
        })
    }
}
