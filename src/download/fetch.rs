//! The tokio driver of the [`Window`]: one task per request on a `JoinSet` (dropping the
//! download aborts them all: cancel by drop), answers fed back in whatever order they come,
//! released bytes handed to a [`PartSink`] in order.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;

use super::cdn::{CdnFile, Check, HashBook};
use super::plan::{plan, PartSpec, BLOCK};
use super::rpc::{invoke, Route, Rpc};
use super::window::{Action, PartError, Request, Window, WindowConfig, DEFAULT_STALL_MIN};
use crate::mtproto::session::RpcErrorKind;
use crate::net::InvokeError;
use crate::resolve::{refetch, Media};
use crate::tl::{enums, functions};

/// How one download runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Parts in flight or buffered at most (W); memory is bounded by W MiB plus the sink's.
    pub window: usize,
    /// Connections to the file's DC (C).
    pub connections: usize,
    /// Shortest time a part may go unanswered before it is asked again elsewhere.
    pub stall_min: Duration,
    /// Longest flood wait accepted.
    pub max_flood_wait: Duration,
    /// `--limit-rate`: every part's bytes are taken from this shared budget before it is asked.
    pub limit_rate: Option<Arc<crate::scale::rate::BandwidthLimiter>>,
}

/// Default W: see docs/download.md for the measurement.
pub const DEFAULT_WINDOW: usize = 8;

/// Default C.
pub const DEFAULT_CONNECTIONS: usize = 4;

impl Default for Options {
    fn default() -> Self {
        Options {
            window: DEFAULT_WINDOW,
            connections: DEFAULT_CONNECTIONS,
            stall_min: DEFAULT_STALL_MIN,
            max_flood_wait: Duration::from_secs(60),
            limit_rate: None,
        }
    }
}

/// What a download did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Bytes delivered to the sink.
    pub bytes: u64,
    /// Requests sent (parts asked, retries and hedges included).
    pub requests: u64,
    /// Requests that failed or were asked again.
    pub retries: u64,
    /// File reference refreshes.
    pub refreshes: u32,
    /// Connections replaced for silence.
    pub replaced: u32,
    /// The most answer bytes held at once waiting for earlier parts.
    pub peak_buffered: u64,
    /// The longest a part took to answer.
    pub slowest_answer: Duration,
    /// Whether the parts came from a CDN.
    pub cdn: bool,
    /// The file reference in use at the end (fresher than the one given, after refreshes).
    pub file_reference: Vec<u8>,
}

/// Why a download stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum DownloadError {
    /// The window gave up (the reason says why).
    Failed(String),
    /// The sink could not take the bytes.
    Sink(io::Error),
    /// The server asked to wait `wait`, longer than [`Options::max_flood_wait`] (`limit`).
    FloodWait {
        /// What FLOOD_WAIT_X asked.
        wait: Duration,
        /// The longest wait the download accepted.
        limit: Duration,
    },
}

impl std::fmt::Display for DownloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownloadError::Failed(why) => f.write_str(why),
            DownloadError::Sink(e) => write!(f, "writing: {e}"),
            DownloadError::FloodWait { wait, limit } => write!(
                f,
                "the server asks to wait {} s, longer than the {} s accepted",
                wait.as_secs(),
                limit.as_secs()
            ),
        }
    }
}

impl std::error::Error for DownloadError {}

/// Where released bytes go, in file order.
pub trait PartSink: Send {
    /// Takes the next `bytes` of the range (file offset `offset`).
    fn put(
        &mut self,
        offset: u64,
        bytes: Bytes,
    ) -> impl std::future::Future<Output = io::Result<()>> + Send;
}

/// A [`PartSink`] over any async writer.
pub struct Writer<'a, W>(pub &'a mut W);

impl<W: AsyncWrite + Unpin + Send> PartSink for Writer<'_, W> {
    async fn put(&mut self, _offset: u64, bytes: Bytes) -> io::Result<()> {
        self.0.write_all(&bytes).await
    }
}

/// The whole file into `sink`.
pub async fn download<W: AsyncWrite + Unpin + Send>(
    rpc: Arc<dyn Rpc>,
    media: &Media,
    sink: &mut W,
    opts: &Options,
) -> Result<Report, DownloadError> {
    let parts = plan(media.size, 0, media.size.saturating_sub(1));
    let r = fetch(rpc, media, parts, &mut Writer(sink), opts).await?;
    sink.flush().await.map_err(DownloadError::Sink)?;
    Ok(r)
}

/// Bytes `start..=end_inclusive` into `sink` (only the parts covering them are asked for;
/// `end_inclusive` is clamped to the file's last byte).
pub async fn download_range<W: AsyncWrite + Unpin + Send>(
    rpc: Arc<dyn Rpc>,
    media: &Media,
    start: u64,
    end_inclusive: u64,
    sink: &mut W,
    opts: &Options,
) -> Result<Report, DownloadError> {
    let parts = plan(media.size, start, end_inclusive);
    let r = fetch(rpc, media, parts, &mut Writer(sink), opts).await?;
    sink.flush().await.map_err(DownloadError::Sink)?;
    Ok(r)
}

/// What the request tasks share.
struct Shared {
    rpc: Arc<dyn Rpc>,
    media: Mutex<Media>,
    cdn: Mutex<Option<Arc<CdnFile>>>,
    hashes: Mutex<HashBook>,
    /// CDN request tokens already re-uploaded.
    reuploads: Mutex<std::collections::HashSet<Vec<u8>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a task reports.
enum Outcome {
    Part(u64, Result<Bytes, PartError>),
    Refreshed(Result<Media, String>),
    Replaced(usize),
}

/// Downloads `parts` of `media` into `sink` (the core of [`download`] and [`download_range`]).
pub async fn fetch<S: PartSink>(
    rpc: Arc<dyn Rpc>,
    media: &Media,
    parts: Vec<PartSpec>,
    sink: &mut S,
    opts: &Options,
) -> Result<Report, DownloadError> {
    let cfg = WindowConfig {
        window: opts.window.max(1),
        connections: opts.connections.max(1),
        stall_min: opts.stall_min,
        max_flood_wait: opts.max_flood_wait,
        ..WindowConfig::default()
    };
    let mut at = parts.first().map_or(0, |p| p.offset + u64::from(p.skip));
    let mut window = Window::new(cfg, parts, media.size, media.dc_id, Instant::now());
    let shared = Arc::new(Shared {
        rpc,
        media: Mutex::new(media.clone()),
        cdn: Mutex::new(None),
        hashes: Mutex::new(HashBook::default()),
        reuploads: Mutex::new(std::collections::HashSet::new()),
    });
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    let mut report = Report::default();
    loop {
        while let Some(action) = window.poll_action() {
            match action {
                Action::Send(req) => {
                    report.requests += 1;
                    let s = shared.clone();
                    let limit = opts.limit_rate.clone();
                    tasks.spawn(async move {
                        if let Some(l) = limit {
                            l.acquire(req.part.limit as usize).await;
                        }
                        Outcome::Part(req.id, fetch_part(&s, req).await)
                    });
                }
                Action::Release(bytes) => {
                    let len = bytes.len() as u64;
                    sink.put(at, bytes).await.map_err(DownloadError::Sink)?;
                    at += len;
                    report.bytes += len;
                }
                Action::RefreshReference => {
                    report.refreshes += 1;
                    let s = shared.clone();
                    tasks.spawn(async move {
                        let origin = lock(&s.media).origin;
                        let r = refetch(&*s.rpc, &origin).await.map_err(|e| e.to_string());
                        Outcome::Refreshed(r)
                    });
                }
                Action::Replace { conn } => {
                    report.replaced += 1;
                    let s = shared.clone();
                    let route = route_for(&s, window.dc(), conn);
                    tasks.spawn(async move {
                        // A failed replacement leaves the closed connection to be reopened
                        // by the next request on it.
                        let _ = s.rpc.replace(route).await;
                        Outcome::Replaced(conn)
                    });
                }
                Action::Done => {
                    report.slowest_answer = window.slowest_answer();
                    report.cdn = lock(&shared.cdn).is_some();
                    report.file_reference = lock(&shared.media).file_reference.clone();
                    return Ok(report);
                }
                Action::Failed(why) => return Err(DownloadError::Failed(why)),
                Action::FloodWait(wait) => {
                    return Err(DownloadError::FloodWait {
                        wait,
                        limit: opts.max_flood_wait,
                    })
                }
            }
        }
        report.peak_buffered = report.peak_buffered.max(window.buffered_bytes());
        let deadline = window.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            done = tasks.join_next() => {
                let now = Instant::now();
                match done {
                    Some(Ok(Outcome::Part(id, Ok(bytes)))) => window.handle_answer(id, bytes, now),
                    Some(Ok(Outcome::Part(id, Err(e)))) => {
                        report.retries += 1;
                        window.handle_error(id, e, now)
                    }
                    Some(Ok(Outcome::Refreshed(Ok(fresh)))) => {
                        let mut m = lock(&shared.media);
                        if fresh.key() != m.key() {
                            drop(m);
                            window.refresh_failed("the message now holds another file".into());
                        } else {
                            m.file_reference = fresh.file_reference;
                            drop(m);
                            window.reference_refreshed(now);
                        }
                    }
                    Some(Ok(Outcome::Refreshed(Err(why)))) => {
                        window.refresh_failed(format!("refreshing the file reference: {why}"))
                    }
                    Some(Ok(Outcome::Replaced(conn))) => window.replaced(conn, now),
                    Some(Err(e)) => return Err(DownloadError::Failed(format!("a request task failed: {e}"))),
                    None => {
                        // Nothing in flight and nothing due: only a timer can move things.
                        match deadline {
                            Some(d) => {
                                tokio::time::sleep_until(d).await;
                                window.handle_timeout(Instant::now());
                            }
                            None => return Err(DownloadError::Failed("the download stalled with nothing to do".into())),
                        }
                    }
                }
            }
            () = sleep_until(deadline) => window.handle_timeout(Instant::now()),
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The route connection `conn` means now: the CDN's when redirected, else the file DC's.
fn route_for(s: &Shared, dc: i32, conn: usize) -> Route {
    match &*lock(&s.cdn) {
        Some(c) => Route::Cdn { dc: c.dc, conn },
        None => Route::File { dc, conn },
    }
}

/// What an error means for the part.
fn classify(e: InvokeError) -> PartError {
    if let Some(secs) = e.flood_wait_seconds() {
        return PartError::Flood(Duration::from_secs(u64::from(secs)));
    }
    if e.is_not_logged_in() {
        return PartError::Fatal("not logged in: run `tgmux login`".into());
    }
    match &e {
        InvokeError::Rpc(r) => match &r.kind {
            RpcErrorKind::FileMigrate { dc } => PartError::Migrate(*dc),
            _ if r.message == "FILE_REFERENCE_EXPIRED" => PartError::ReferenceExpired,
            _ if r.code >= 500 || r.code == -503 => PartError::Retry,
            _ => PartError::Fatal(format!("the server refused the file: {}", r.message)),
        },
        InvokeError::Decode(d) => PartError::Corrupt(format!("answer does not decode: {d}")),
        InvokeError::UnknownDc(dc) => PartError::Fatal(format!("DC {dc} has no known address")),
        InvokeError::SessionFile(f) => PartError::Fatal(f.to_string()),
        _ => PartError::Retry,
    }
}

/// One request: `upload.getFile` (or, once redirected, `upload.getCdnFile`).
async fn fetch_part(s: &Shared, req: Request) -> Result<Bytes, PartError> {
    let cdn = lock(&s.cdn).clone();
    if let Some(cdn) = cdn {
        return cdn_part(s, &cdn, req).await;
    }
    let location = lock(&s.media).input_location();
    let r = functions::upload::GetFile {
        precise: req.part.precise,
        cdn_supported: s.rpc.cdn_supported(),
        location,
        offset: req.part.offset as i64,
        limit: req.part.limit as i32,
    };
    let route = Route::File {
        dc: req.dc,
        conn: req.conn,
    };
    match invoke(&*s.rpc, route, &r).await.map_err(classify)? {
        enums::upload::File::File(f) => Ok(f.bytes),
        enums::upload::File::FileCdnRedirect(r) => {
            let Some(file) = CdnFile::new(
                r.dc_id,
                req.dc,
                &r.file_token,
                &r.encryption_key,
                &r.encryption_iv,
            ) else {
                return Err(PartError::Fatal(
                    "the CDN redirect has a bad key or IV".into(),
                ));
            };
            lock(&s.hashes).add(&r.file_hashes);
            lock(&s.cdn).get_or_insert_with(|| Arc::new(file));
            Err(PartError::Redirected)
        }
    }
}

/// A part from the CDN: the whole 1 MiB block asked (CDNs take no `precise` parts), decrypted,
/// every 128 KiB piece checked against its SHA-256, then cut to the part.
async fn cdn_part(s: &Shared, cdn: &CdnFile, req: Request) -> Result<Bytes, PartError> {
    let block = req.part.offset / BLOCK * BLOCK;
    let r = functions::upload::GetCdnFile {
        file_token: cdn.token.clone().into(),
        offset: block as i64,
        limit: BLOCK as i32,
    };
    let route = Route::Cdn {
        dc: cdn.dc,
        conn: req.conn,
    };
    let bytes = match invoke(&*s.rpc, route, &r).await {
        Ok(enums::upload::CdnFile::CdnFile(f)) => f.bytes,
        Ok(enums::upload::CdnFile::CdnFileReuploadNeeded(n)) => {
            // Parts in flight together get the same request token: re-upload once.
            if !lock(&s.reuploads).insert(n.request_token.to_vec()) {
                return Err(PartError::Redirected);
            }
            let hashes = invoke(
                &*s.rpc,
                Route::Dc(cdn.home_dc),
                &functions::upload::ReuploadCdnFile {
                    file_token: cdn.token.clone().into(),
                    request_token: n.request_token,
                },
            )
            .await;
            match hashes {
                Ok(h) => lock(&s.hashes).add(&h),
                // Another part's re-upload came first.
                Err(e)
                    if e.rpc()
                        .is_some_and(|r| r.message == "REQUEST_TOKEN_INVALID") =>
                {
                    return Err(PartError::Retry)
                }
                Err(e) => return Err(classify(e)),
            }
            return Err(PartError::Redirected);
        }
        Err(e) if e.rpc().is_some_and(|r| r.message == "FILE_TOKEN_INVALID") => {
            // The token expired: back to the DC for a new redirect.
            *lock(&s.cdn) = None;
            return Err(PartError::Retry);
        }
        Err(e) => return Err(classify(e)),
    };
    let mut data = bytes.try_into_mut().unwrap_or_else(|b| b.as_ref().into());
    cdn.decrypt(block, &mut data);
    loop {
        let check = lock(&s.hashes).check(block, &data);
        match check {
            Check::Good => break,
            Check::Bad(at) => {
                return Err(PartError::Corrupt(format!(
                    "the CDN piece at offset {at} fails its SHA-256"
                )))
            }
            Check::Missing(at) => {
                let hashes = invoke(
                    &*s.rpc,
                    Route::Dc(cdn.home_dc),
                    &functions::upload::GetCdnFileHashes {
                        file_token: cdn.token.clone().into(),
                        offset: at as i64,
                    },
                )
                .await
                .map_err(classify)?;
                if hashes.is_empty() {
                    return Err(PartError::Corrupt(format!(
                        "no hash for the CDN piece at {at}"
                    )));
                }
                lock(&s.hashes).add(&hashes);
            }
        }
    }
    let data = data.freeze();
    let from = (req.part.offset - block) as usize;
    let to = (from + req.part.limit as usize).min(data.len());
    Ok(data.slice(from.min(to)..to))
}
