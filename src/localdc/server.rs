//! The tokio driver: one listener per DC, one task per connection, Ctrl-C to stop.
//!
//! DC i listens on PORT + i − 1 (with PORT 0, each on a free port); with `--cdn` the CDN DC on
//! PORT + N. Each connection task reads into a fixed 64 KiB buffer, feeds
//! the sans-IO [`Connection`] and writes what it produced (after `delay=MS` if set). A
//! semaphore caps concurrent connections ([`MAX_CONNECTIONS`]); the per-connection memory is the
//! read buffer plus what the codec holds of one incomplete frame.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::conn::{Connection, Flow, Shared};
use super::error::LocalDcError;

/// Most connections served at once (more wait in the accept queue).
pub(super) const MAX_CONNECTIONS: usize = 4096;
const READ_BUF: usize = 64 * 1024;

/// A running set of DC listeners.
pub(super) struct Servers {
    /// (DC id, bound listener).
    pub listeners: Vec<(i32, TcpListener)>,
    /// What all connections share.
    pub shared: Arc<Shared>,
    /// Log one line per connection and per RPC error.
    pub verbose: bool,
}

/// Binds DC i on `first.port() + i - 1` for i in 1..=n; port 0 gives every DC a free port of
/// its own.
pub(crate) async fn bind(
    first: SocketAddr,
    n: u8,
) -> Result<Vec<(i32, TcpListener)>, LocalDcError> {
    let mut out = Vec::new();
    for i in 1..=i32::from(n) {
        let port = match first.port() {
            0 => 0,
            base => u16::try_from(i32::from(base) + i - 1).map_err(|_| {
                LocalDcError::Other(format!("DC {i} would need a port above 65535"))
            })?,
        };
        let addr = SocketAddr::new(first.ip(), port);
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| LocalDcError::Other(format!("cannot listen on {addr} for DC {i}: {e}")))?;
        out.push((i, l));
    }
    Ok(out)
}

/// Binds DC `id`'s media-only address on `addr` (port 0: any free port).
pub(super) async fn bind_media(
    addr: SocketAddr,
    id: i32,
) -> Result<(i32, TcpListener), LocalDcError> {
    let l = TcpListener::bind(addr).await.map_err(|e| {
        LocalDcError::Other(format!(
            "cannot listen on {addr} for DC {id}'s media address: {e}"
        ))
    })?;
    Ok((id, l))
}

/// Binds the CDN DC `id` on `addr`.
pub(super) async fn bind_cdn(
    addr: SocketAddr,
    id: i32,
) -> Result<(i32, TcpListener), LocalDcError> {
    let l = TcpListener::bind(addr).await.map_err(|e| {
        LocalDcError::Other(format!("cannot listen on {addr} for the CDN DC {id}: {e}"))
    })?;
    Ok((id, l))
}

impl Servers {
    /// Serves until `shutdown` resolves, then closes every connection.
    pub(super) async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut tasks = JoinSet::new();
        for (dc, listener) in self.listeners {
            let shared = self.shared.clone();
            let limit = limit.clone();
            tasks.spawn(accept_loop(dc, listener, shared, limit, self.verbose));
        }
        shutdown.await;
        tasks.shutdown().await;
    }
}

async fn accept_loop(
    dc: i32,
    listener: TcpListener,
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
    verbose: bool,
) {
    let counter = AtomicU64::new(0);
    let mut conns = JoinSet::new();
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                if verbose {
                    eprintln!("local-dc: DC {dc}: accept failed: {e}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        let shared = shared.clone();
        conns.spawn(async move {
            serve_connection(stream, peer, dc, n, shared, verbose).await;
            drop(permit);
        });
        // Reap finished tasks so the set does not grow with the connection count.
        while conns.try_join_next().is_some() {}
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    dc: i32,
    n: u64,
    shared: Arc<Shared>,
    verbose: bool,
) {
    let _ = stream.set_nodelay(true);
    let delay = Duration::from_millis(shared.world.faults.delay_ms);
    let mut conn = Connection::new(shared, dc, n);
    let mut rng = StdRng::from_entropy();
    let mut buf = vec![0u8; READ_BUF];
    let mut out = Vec::new();
    let reason = loop {
        // Sleep until the earliest session timer (acks, ping_delay_disconnect), or read.
        let deadline = conn.poll_timeout().map(|t| {
            let now = super::conn::unix(SystemTime::now());
            tokio::time::Instant::now() + t.saturating_sub(now)
        });
        out.clear();
        let flow = tokio::select! {
            r = stream.read(&mut buf) => match r {
                Ok(0) => break "closed by client".to_string(),
                Ok(k) => conn.on_bytes(&buf[..k], SystemTime::now(), &mut rng, &mut out),
                Err(e) => break format!("read error: {e}"),
            },
            _ = sleep_until(deadline) => conn.on_timeout(SystemTime::now(), &mut rng, &mut out),
        };
        if verbose {
            for e in conn.errors.drain(..) {
                let name = crate::tl::name_for_id(e.request).unwrap_or("?");
                eprintln!(
                    "local-dc: DC {dc}: connection {n}: {name} -> {} {}",
                    e.error.code, e.error.message
                );
            }
        } else {
            conn.errors.clear();
        }
        if !out.is_empty() {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if let Err(e) = stream.write_all(&out).await {
                break format!("write error: {e}");
            }
        }
        match flow {
            Ok(Flow::Continue) => {}
            Ok(Flow::Close) => break "closed by server".to_string(),
            Err(e) => break format!("error: {e}"),
        }
    };
    if verbose {
        eprintln!(
            "local-dc: DC {dc}: connection {n} from {peer} ({}) ended: {reason}",
            conn.transport_name()
        );
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
