//! The embedded backend: one local file, an append-only log of [`Change`]s.
//!
//! ```text
//! header   "TGMUXSTO" (8 bytes), version u32 LE = 1
//! record   length u32 LE, !length u32 LE, change bytes (see `change.rs`),
//!          check: SHA-256(change)[..8]
//! record   ...
//! ```
//!
//! Opening replays the log into the local copy (later records win, flood deadlines only move
//! later, expired entries are dropped). Each change is appended by a writer thread and
//! fsynced (several queued changes share one fsync), so a change survives a crash once
//! [`FileBackend::flush`]'s future is done, and usually a few milliseconds after it was made.
//! When dead records (superseded or expired) outnumber the live ones by more than
//! [`COMPACT_SLACK`], the file is rewritten with the live state only: a temporary file in the
//! same directory, fsync, rename, like the session file.
//!
//! A crash can leave the last record half written: a record whose 8 length bytes are cut, or
//! that runs past the end of the file, or whose check fails and which ends exactly at the end,
//! is cut off with a warning. The length is stored twice (the second time inverted) so that a
//! damaged length in the middle is not mistaken for a record running past the end.
//! Any other damage is [`StoreError::Corrupt`], naming the file and the byte offset; the store
//! never starts over silently, because that would forget flood deadlines.
//!
//! The file is created with mode 0600 (it holds auth keys) and locked while open: a second
//! process opening it gets [`StoreError::Locked`] instead of two logs interleaving. The lock
//! is a Linux abstract Unix socket named after a hash of the file's canonical path: binding
//! it fails while another process holds it, and the kernel releases it when the process
//! dies, so a crash never leaves a stale lock (std's `File::try_lock` needs Rust 1.89, past
//! our rust-version). Its scope is the network namespace: containers sharing one file
//! through a volume must share a namespace too, or use Redis.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::change::{Change, MAX_LINK_LEN, MAX_VALUE_LEN};
use super::local::{Local, Maps};
use super::{Backend, BoxFuture, StoreError};

const MAGIC: &[u8; 8] = b"TGMUXSTO";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 12;
/// The largest change record (a resolution at the limits, with room for the names).
const MAX_RECORD: usize = 1 + 2 + 32 + 2 + MAX_LINK_LEN + 8 + 4 + MAX_VALUE_LEN;
/// A store file larger than this is refused rather than read into memory.
pub const MAX_FILE_LEN: u64 = 256 << 20;
/// Dead records tolerated beyond twice the live ones before the file is compacted.
pub const COMPACT_SLACK: u64 = 1024;

/// What a log's bytes hold.
#[derive(Debug, Default)]
pub struct Replay {
    /// The state after every record.
    pub maps: Maps,
    /// Records read.
    pub records: u64,
    /// Bytes up to the end of the last whole record.
    pub good_len: u64,
    /// Whether a half-written last record was found (and is to be cut off).
    pub torn: bool,
}

/// Replays a store file's bytes (the fuzz target's entry point). `Err` is the reason and the
/// byte offset where the damage is.
pub fn replay(bytes: &[u8]) -> Result<Replay, (&'static str, usize)> {
    let mut out = Replay::default();
    if bytes.is_empty() {
        return Ok(out);
    }
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err(("not a tgmux store file", 0));
    }
    if bytes[8..12] != VERSION.to_le_bytes() {
        return Err(("unsupported version", 8));
    }
    let mut at = HEADER_LEN;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let Some(head) = rest.get(..8) else {
            out.torn = true;
            break;
        };
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes"));
        if u32::from_le_bytes(head[4..].try_into().expect("4 bytes")) != !len {
            return Err(("record length damaged", at));
        }
        let len = len as usize;
        if len > MAX_RECORD {
            return Err(("record length out of range", at));
        }
        let end = 8 + len + 8;
        if end > rest.len() {
            out.torn = true;
            break;
        }
        let body = &rest[8..8 + len];
        if Sha256::digest(body)[..8] != rest[8 + len..end] {
            if end == rest.len() {
                out.torn = true;
                break;
            }
            return Err(("record checksum mismatch", at));
        }
        let change = Change::decode(body).map_err(|r| (r, at))?;
        out.maps.apply(&change);
        out.records += 1;
        at += end;
    }
    out.good_len = if out.torn {
        at as u64
    } else {
        bytes.len() as u64
    };
    Ok(out)
}

fn record(change: &Change, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    change.encode_into(out);
    let len = (out.len() - start - 8) as u32;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&(!len).to_le_bytes());
    let check = Sha256::digest(&out[start + 8..]);
    out.extend_from_slice(&check[..8]);
}

fn header() -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(&VERSION.to_le_bytes());
    h
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

enum Msg {
    Change(Change),
    Flush(oneshot::Sender<()>),
}

/// The embedded backend: the writer thread's queue.
#[derive(Debug)]
pub struct FileBackend {
    path: PathBuf,
    queue: Mutex<Option<mpsc::Sender<Msg>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Held while open (released after the writer stopped: fields drop after `drop`).
    _lock: UnixListener,
}

impl FileBackend {
    /// Opens (or creates) the store file at `path`, replays it and starts the writer.
    pub fn open(path: &Path) -> Result<(Arc<Local>, FileBackend), StoreError> {
        let io = |e: std::io::Error| StoreError::Io(path.to_owned(), e.to_string());
        let dir = parent(path);
        if !dir.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(io)?;
        }
        let (mut file, lock) = open_locked(path)?;
        let meta = file.metadata().map_err(io)?;
        if meta.len() > MAX_FILE_LEN {
            return Err(StoreError::Corrupt(
                path.to_owned(),
                format!("larger than {MAX_FILE_LEN} bytes"),
            ));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut bytes).map_err(io)?;
        let replayed = replay(&bytes).map_err(|(reason, at)| {
            StoreError::Corrupt(path.to_owned(), format!("{reason} at byte {at}"))
        })?;
        if replayed.torn {
            eprintln!(
                "tgmux: warning: store file {}: cut off a half-written last record (at byte {})",
                path.display(),
                replayed.good_len
            );
            file.set_len(replayed.good_len).map_err(io)?;
        }
        let local = Arc::new(Local::new(replayed.maps));
        let mut writer = Writer {
            path: path.to_owned(),
            file,
            records: replayed.records,
            live: 0,
            local: Arc::clone(&local),
        };
        if bytes.is_empty() {
            writer.file.write_all(&header()).map_err(io)?;
            writer.file.sync_all().map_err(io)?;
        }
        writer.compact_if_due().map_err(io)?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tgmux-store".into())
            .spawn(move || writer.run(rx))
            .map_err(io)?;
        Ok((
            local,
            FileBackend {
                path: path.to_owned(),
                queue: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
                _lock: lock,
            },
        ))
    }

    fn send(&self, msg: Msg) {
        if let Some(q) = &*self.queue.lock().unwrap_or_else(|e| e.into_inner()) {
            // The writer only stops after a write error, which it has reported.
            let _ = q.send(msg);
        }
    }
}

impl Drop for FileBackend {
    /// Writes out what is queued before the store goes away.
    fn drop(&mut self) {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Backend for FileBackend {
    fn describe(&self) -> String {
        format!("store file {}", self.path.display())
    }

    fn record(&self, change: Change) {
        self.send(Msg::Change(change));
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Flush(tx));
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Opens `path` for reading and appending (mode 0600 when created) and takes its lock.
fn open_locked(path: &Path) -> Result<(File, UnixListener), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e: std::io::Error| StoreError::Io(path.to_owned(), e.to_string());
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    let lock = lock(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => StoreError::Locked(path.to_owned()),
        _ => io(e),
    })?;
    Ok((file, lock))
}

/// Binds the abstract socket that stands for `path`'s lock (`AddrInUse`: someone has it).
fn lock(path: &Path) -> std::io::Result<UnixListener> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    let canonical = std::fs::canonicalize(path)?;
    let digest = Sha256::digest(canonical.as_os_str().as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("tgmux-store-{hex}");
    UnixListener::bind_addr(&std::os::unix::net::SocketAddr::from_abstract_name(name)?)
}

/// The writer thread's state.
struct Writer {
    path: PathBuf,
    file: File,
    /// Records in the file.
    records: u64,
    /// Live entries at the last compaction.
    live: u64,
    local: Arc<Local>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        let mut buf = Vec::new();
        while let Ok(first) = rx.recv() {
            // Everything queued now goes out in one write and one fsync.
            let mut flushes = Vec::new();
            for msg in std::iter::once(first).chain(rx.try_iter()) {
                match msg {
                    Msg::Change(c) => {
                        record(&c, &mut buf);
                        self.records += 1;
                    }
                    Msg::Flush(tx) => flushes.push(tx),
                }
            }
            let result = (|| {
                self.file.write_all(&buf)?;
                self.file.sync_data()?;
                self.compact_if_due()
            })();
            buf.clear();
            if let Err(e) = result {
                eprintln!(
                    "tgmux: warning: store file {}: {e}; later changes are kept in memory only",
                    self.path.display()
                );
                return;
            }
            for tx in flushes {
                let _ = tx.send(());
            }
        }
    }

    /// Rewrites the file with the live state when dead records dominate.
    fn compact_if_due(&mut self) -> std::io::Result<()> {
        if self.records <= 2 * self.live + COMPACT_SLACK {
            return Ok(());
        }
        let live = self.local.read(|m| m.live(now_ms()));
        let mut bytes = header();
        for c in &live {
            record(c, &mut bytes);
        }
        let dir = parent(&self.path);
        let name = self
            .path
            .file_name()
            .map_or_else(|| "store".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{name}.compact-{}", std::process::id()));
        let result = (|| {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = OpenOptions::new()
                .read(true)
                .append(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            if let Ok(d) = File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(f)
        })();
        match result {
            Ok(f) => {
                self.file = f;
                self.records = live.len() as u64;
                self.live = self.records;
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::change::tests::samples;

    fn log(changes: &[Change]) -> Vec<u8> {
        let mut b = header();
        for c in changes {
            record(c, &mut b);
        }
        b
    }

    #[test]
    fn replays_a_log() {
        let s = samples();
        let bytes = log(&s);
        let r = replay(&bytes).unwrap();
        assert_eq!(
            (r.records, r.good_len, r.torn),
            (4, bytes.len() as u64, false)
        );
        assert_eq!(r.maps.flood_until("main", 2, 0), Some(1_700_000_000_123));
        assert!(replay(&[]).unwrap().maps.live(0).is_empty());
    }

    #[test]
    fn a_torn_tail_is_cut_and_other_damage_refused() {
        let s = samples();
        let whole = log(&s);
        let three = log(&s[..3]).len();
        // Every cut inside the last record: the first three survive.
        for n in three + 1..whole.len() {
            let r = replay(&whole[..n]).unwrap();
            assert!(r.torn, "cut at {n}");
            assert_eq!((r.records, r.good_len), (3, three as u64));
        }
        // A bad check on the last record (ends at EOF): torn, not corrupt.
        let mut last = whole.clone();
        *last.last_mut().unwrap() ^= 1;
        assert!(replay(&last).unwrap().torn);
        // The same damage in an earlier record is corruption, at that record's offset.
        let mut mid = whole.clone();
        mid[HEADER_LEN + 10] ^= 1;
        assert_eq!(
            replay(&mid).unwrap_err(),
            ("record checksum mismatch", HEADER_LEN)
        );
        assert_eq!(
            replay(b"garbage!!!!!!!").unwrap_err().0,
            "not a tgmux store file"
        );
        let mut v2 = whole.clone();
        v2[8] = 2;
        assert_eq!(replay(&v2).unwrap_err().0, "unsupported version");
        // A flip anywhere before the last record is refused (a damaged length too: it is not
        // taken for a record running past the end); in the last one it is at most a torn tail.
        for i in 0..whole.len() {
            let mut b = whole.clone();
            b[i] ^= 0x10;
            match replay(&b) {
                Err(_) => {}
                Ok(r) => assert!(i >= three && r.torn && r.records == 3, "flip at {i}"),
            }
        }
    }
}
