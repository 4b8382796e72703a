//! The downloader against an in-memory DC behind the [`Rpc`] trait, where every misbehaviour
//! can be staged exactly: requests that are never answered (stalls), a flood wait on one
//! connection, answers held back (the memory bound), a dropped download (cancel), and a CDN
//! redirect with re-uploads and a corrupted piece. The CDN parts are encrypted here with the
//! `aes` and `ctr` crates directly (AES-256-CTR, IV's last 4 bytes = offset / 16), not with
//! our code.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tgmux::download::rpc::{BoxFuture, Route, Rpc};
use tgmux::download::{download, download_range, Options};
use tgmux::mtproto::session::RpcError;
use tgmux::net::InvokeError;
use tgmux::resolve::{Location, Media, Origin};
use tgmux::tl::{enums, functions, types, Deserializable, Serializable};

const MIB: u64 = 1 << 20;

fn content(size: u64) -> Vec<u8> {
    (0..size)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn media(size: u64) -> Media {
    Media {
        location: Location::Document {
            id: 42,
            access_hash: 7,
        },
        file_reference: vec![1, 2, 3],
        dc_id: 2,
        size,
        mime_type: "video/mp4".into(),
        file_name: "x.mp4".into(),
        date: 0,
        video: None,
        audio: None,
        origin: Origin {
            channel_id: 1,
            access_hash: 1,
            msg_id: 1,
        },
        grouped_id: None,
    }
}

/// How the fake misbehaves.
#[derive(Default)]
struct Script {
    /// Request numbers (0-based, in arrival order) never answered.
    stall: HashSet<u64>,
    /// Answer the first request on this connection with FLOOD_WAIT_1.
    flood_conn: Option<usize>,
    /// Hold the answer of the part at offset 0 this long (the others come at once).
    hold_first: Duration,
    /// Each answer waits this long.
    delay: Duration,
    /// Redirect to a CDN; `reupload` of its parts ask for a re-upload once; `corrupt` parts
    /// (by offset) come back with one bit flipped once.
    cdn: bool,
    reupload: HashSet<u64>,
    corrupt: HashSet<u64>,
}

struct FakeDc {
    data: Vec<u8>,
    script: Mutex<Script>,
    requests: AtomicU64,
    /// (connection, time) of every getFile/getCdnFile.
    log: Mutex<Vec<(Route, Instant)>>,
    served: Mutex<HashMap<&'static str, u64>>,
}

const KEY: [u8; 32] = [5; 32];
const IV: [u8; 16] = [6; 16];

fn cdn_encrypt(offset: u64, data: &mut [u8]) {
    use aes::cipher::{KeyIvInit, StreamCipher};
    let mut counter = IV;
    counter[12..].copy_from_slice(&((offset / 16) as u32).to_be_bytes());
    ctr::Ctr128BE::<aes::Aes256>::new(&KEY.into(), &counter.into()).apply_keystream(data);
}

impl FakeDc {
    fn new(size: u64, script: Script) -> Arc<FakeDc> {
        Arc::new(FakeDc {
            data: content(size),
            script: Mutex::new(script),
            requests: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
            served: Mutex::new(HashMap::new()),
        })
    }

    fn count(&self, what: &'static str) {
        *self.served.lock().unwrap().entry(what).or_insert(0) += 1;
    }

    fn served(&self, what: &str) -> u64 {
        self.served.lock().unwrap().get(what).copied().unwrap_or(0)
    }

    fn slice(&self, offset: i64, limit: i32) -> Vec<u8> {
        let start = (offset as usize).min(self.data.len());
        let end = (start + limit as usize).min(self.data.len());
        self.data[start..end].to_vec()
    }

    fn hashes(&self, offset: i64) -> Vec<enums::FileHash> {
        let piece = 128 * 1024i64;
        let mut at = offset / piece * piece;
        let mut out = Vec::new();
        while (at as usize) < self.data.len() && out.len() < 8 {
            let d = self.slice(at, piece as i32);
            out.push(enums::FileHash::FileHash(types::FileHash {
                offset: at,
                limit: d.len() as i32,
                hash: Sha256::digest(&d).to_vec().into(),
            }));
            at += piece;
        }
        out
    }

    async fn answer(&self, route: Route, body: Vec<u8>) -> Result<Bytes, InvokeError> {
        let id = u32::from_le_bytes(body[..4].try_into().unwrap());
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        let (stall, delay, hold) = {
            let s = self.script.lock().unwrap();
            (s.stall.contains(&n), s.delay, s.hold_first)
        };
        if stall {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(delay).await;
        use tgmux::tl::Identifiable;
        if id == functions::upload::GetFile::CONSTRUCTOR_ID {
            let r = functions::upload::GetFile::from_bytes(body).unwrap();
            self.log.lock().unwrap().push((route, Instant::now()));
            let Route::File { conn, .. } = route else {
                panic!("getFile on {route:?}")
            };
            let (flood, cdn) = {
                let mut s = self.script.lock().unwrap();
                let flood = s.flood_conn == Some(conn);
                if flood {
                    s.flood_conn = None;
                }
                (flood, s.cdn)
            };
            if flood {
                return Err(InvokeError::Rpc(RpcError::new(420, "FLOOD_WAIT_1")));
            }
            if r.offset == 0 {
                tokio::time::sleep(hold).await;
            }
            if cdn {
                assert!(r.cdn_supported);
                self.count("redirect");
                return Ok(
                    enums::upload::File::FileCdnRedirect(types::upload::FileCdnRedirect {
                        dc_id: 201,
                        file_token: Bytes::from_static(b"token"),
                        encryption_key: KEY.to_vec().into(),
                        encryption_iv: IV.to_vec().into(),
                        file_hashes: self.hashes(r.offset)[..1].to_vec(),
                    })
                    .to_bytes()
                    .into(),
                );
            }
            self.count("getFile");
            return Ok(enums::upload::File::File(types::upload::File {
                r#type: enums::storage::FileType::FilePartial(types::storage::FilePartial {}),
                mtime: 0,
                bytes: self.slice(r.offset, r.limit).into(),
            })
            .to_bytes()
            .into());
        }
        if id == functions::upload::GetCdnFile::CONSTRUCTOR_ID {
            let r = functions::upload::GetCdnFile::from_bytes(body).unwrap();
            assert!(matches!(route, Route::Cdn { dc: 201, .. }), "{route:?}");
            assert_eq!(
                (r.offset as u64 % MIB, r.limit as u64),
                (0, MIB),
                "CDN parts are whole blocks"
            );
            self.log.lock().unwrap().push((route, Instant::now()));
            let offset = r.offset as u64;
            let (reupload, corrupt) = {
                let mut s = self.script.lock().unwrap();
                (s.reupload.remove(&offset), s.corrupt.remove(&offset))
            };
            if reupload {
                self.count("reupload needed");
                return Ok(enums::upload::CdnFile::CdnFileReuploadNeeded(
                    types::upload::CdnFileReuploadNeeded {
                        request_token: Bytes::from_static(b"req"),
                    },
                )
                .to_bytes()
                .into());
            }
            self.count("getCdnFile");
            let mut d = self.slice(r.offset, r.limit);
            if corrupt {
                d[1000] ^= 1;
            }
            cdn_encrypt(offset, &mut d);
            return Ok(
                enums::upload::CdnFile::CdnFile(types::upload::CdnFile { bytes: d.into() })
                    .to_bytes()
                    .into(),
            );
        }
        if id == functions::upload::GetCdnFileHashes::CONSTRUCTOR_ID {
            let r = functions::upload::GetCdnFileHashes::from_bytes(body).unwrap();
            assert_eq!(route, Route::Dc(2));
            self.count("hashes");
            return Ok(self.hashes(r.offset).to_bytes().into());
        }
        if id == functions::upload::ReuploadCdnFile::CONSTRUCTOR_ID {
            assert_eq!(route, Route::Dc(2));
            self.count("reupload");
            return Ok(self.hashes(0).to_bytes().into());
        }
        panic!("unexpected request {id:#x}");
    }
}

/// The fake behind the downloader's trait.
struct FakeRpc(Arc<FakeDc>);

impl Rpc for FakeRpc {
    fn call(&self, route: Route, body: Vec<u8>) -> BoxFuture<'_, Result<Bytes, InvokeError>> {
        let dc = self.0.clone();
        Box::pin(async move { dc.answer(route, body).await })
    }

    fn replace(&self, _route: Route) -> BoxFuture<'_, Result<(), InvokeError>> {
        self.0.count("replace");
        Box::pin(async { Ok(()) })
    }

    fn account(&self) -> Option<i64> {
        Some(1)
    }

    fn cdn_supported(&self) -> bool {
        self.0.script.lock().unwrap().cdn
    }
}

fn opts(window: usize, connections: usize) -> Options {
    Options {
        window,
        connections,
        stall_min: Duration::from_millis(200),
        ..Options::default()
    }
}

/// Runs a future with a hang guard (not a timing assertion).
async fn guarded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("download hung")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_requests_are_asked_again_elsewhere() {
    let size = 16 * MIB + 5;
    let script = Script {
        stall: [1, 5, 9, 17].into_iter().collect(),
        ..Script::default()
    };
    let dc = FakeDc::new(size, script);
    let rpc: Arc<dyn Rpc> = Arc::new(FakeRpc(dc.clone()));
    let mut out = Vec::new();
    let start = Instant::now();
    let r = guarded(download(rpc, &media(size), &mut out, &opts(4, 2)))
        .await
        .unwrap();
    assert!(out == dc.data, "bytes differ");
    assert!(r.requests >= 17 + 4, "{r:?}");
    // Four stalls at ~0.2-0.8 s each (4 × the slowest answer, at least 200 ms), not a hang.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_bytes_never_pass_the_window() {
    let size = 24 * MIB;
    let window = 6;
    // The first part comes late: every later part of the window waits in the buffer.
    let script = Script {
        hold_first: Duration::from_millis(300),
        ..Script::default()
    };
    let dc = FakeDc::new(size, script);
    let rpc: Arc<dyn Rpc> = Arc::new(FakeRpc(dc.clone()));
    let mut out = Vec::new();
    let r = guarded(download(rpc, &media(size), &mut out, &opts(window, 3)))
        .await
        .unwrap();
    assert!(out == dc.data);
    let w = window as u64 * MIB;
    assert!(r.peak_buffered <= w, "peak {} > W MiB", r.peak_buffered);
    assert!(
        r.peak_buffered >= w - 2 * MIB,
        "the bound is reached: {}",
        r.peak_buffered
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_wait_pauses_only_its_connection() {
    let size = 96 * MIB;
    let script = Script {
        flood_conn: Some(0),
        delay: Duration::from_millis(50),
        ..Script::default()
    };
    let dc = FakeDc::new(size, script);
    let rpc: Arc<dyn Rpc> = Arc::new(FakeRpc(dc.clone()));
    let mut out = Vec::new();
    guarded(download(rpc, &media(size), &mut out, &opts(4, 4)))
        .await
        .unwrap();
    assert!(out == dc.data);
    let log = dc.log.lock().unwrap().clone();
    let first = log
        .iter()
        .find(|(r, _)| *r == Route::File { dc: 2, conn: 0 })
        .unwrap()
        .1;
    let during = |conn: usize| {
        log.iter()
            .filter(|(r, t)| {
                *r == Route::File { dc: 2, conn }
                    && *t > first + Duration::from_millis(100)
                    && *t < first + Duration::from_millis(900)
            })
            .count()
    };
    assert_eq!(during(0), 0, "connection 0 waits out its flood");
    for c in 1..4 {
        assert!(during(c) > 0, "connection {c} went on");
    }
    // ... and works again once the wait is over.
    let conn0 = Route::File { dc: 2, conn: 0 };
    assert!(log
        .iter()
        .any(|(r, t)| *r == conn0 && *t >= first + Duration::from_secs(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_download_stops_fetching() {
    let size = 64 * MIB;
    let script = Script {
        delay: Duration::from_millis(20),
        ..Script::default()
    };
    let dc = FakeDc::new(size, script);
    let rpc: Arc<dyn Rpc> = Arc::new(FakeRpc(dc.clone()));
    let m = media(size);
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        Duration::from_millis(150),
        download(rpc, &m, &mut out, &opts(4, 2)),
    )
    .await;
    let at_drop = dc.requests.load(Ordering::SeqCst);
    assert!(at_drop > 0 && at_drop < 60, "{at_drop}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        dc.requests.load(Ordering::SeqCst),
        at_drop,
        "no request after the drop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_ask_only_covering_parts_and_are_exact() {
    let size = 10 * MIB + 123;
    let dc = FakeDc::new(size, Script::default());
    let rpc: Arc<dyn Rpc> = Arc::new(FakeRpc(dc.clone()));
    let m = media(size);
    for (start, end) in [
        (0, 0),
        (MIB - 1, MIB),
        (3 * MIB + 5000, 6 * MIB + 17),
        (size - 10, size + 100),
    ] {
        let before = dc.served("getFile");
        let mut out = Vec::new();
        let r = guarded(download_range(
            rpc.clone(),
            &m,
            start,
            end,
            &mut out,
            &opts(4, 2),
        ))
        .await
        .unwrap();
        let end = end.min(size - 1);
        assert!(
            out[..] == dc.data[start as usize..=end as usize],
            "{start}..={end}"
        );
        let parts = end / MIB - start / MIB + 1;
        assert_eq!(dc.served("getFile") - before, parts, "{start}..={end}");
        assert_eq!(r.bytes, end - start + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdn_parts_are_decrypted_and_every_piece_checked() {
    let size = 6 * MIB + 777;
    let script = Script {
        cdn: true,
        reupload: [2 * MIB].into_iter().collect(),
        corrupt: [4 * MIB].into_iter().collect(),
        ..Script::default()
    };
    let dc = FakeDc::new(size, script);
    let rpc: Arc<dyn Rpc> = Arc::new(FakeRpc(dc.clone()));
    let mut out = Vec::new();
    let r = guarded(download(rpc.clone(), &media(size), &mut out, &opts(4, 2)))
        .await
        .unwrap();
    assert!(r.cdn);
    assert!(out == dc.data, "decrypted bytes differ");
    assert_eq!(dc.served("reupload needed"), 1);
    assert_eq!(dc.served("reupload"), 1);
    assert!(
        dc.served("hashes") >= 1,
        "hashes beyond the redirect's were asked for"
    );
    // 7 blocks, one asked again after its re-upload and one after failing its hash.
    assert_eq!(dc.served("getCdnFile"), 8);
    // A range through the CDN: whole blocks asked, the range cut out.
    let mut part = Vec::new();
    guarded(download_range(
        rpc,
        &media(size),
        MIB + 3,
        2 * MIB + 9,
        &mut part,
        &opts(2, 1),
    ))
    .await
    .unwrap();
    assert!(part[..] == dc.data[(MIB + 3) as usize..=(2 * MIB + 9) as usize]);
}
