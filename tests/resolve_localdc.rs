//! The resolver against `tgmux local-dc`: every link form local-dc can serve today reaches the
//! same document, answers are what the server holds, and a second run with the same cache
//! file resolves nothing again (calls counted at the `Rpc` trait, wrapped around the pool).

mod localdc_util;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use localdc_util::media_bytes;
use tgmux::download::rpc::{BoxFuture, Route, Rpc};
use tgmux::net::{InvokeError, Pool, PoolConfig};
use tgmux::resolve::{FileCache, Item, Link, Location, Peer, ResolveError, Resolver};

/// The pool, with every call counted by constructor id.
struct Counting {
    pool: Pool,
    calls: Mutex<HashMap<u32, usize>>,
}

impl Counting {
    fn total(&self) -> usize {
        self.calls.lock().unwrap().values().sum()
    }
}

impl Rpc for Counting {
    fn call(&self, route: Route, body: Vec<u8>) -> BoxFuture<'_, Result<Bytes, InvokeError>> {
        let id = u32::from_le_bytes(body[..4].try_into().unwrap());
        *self.calls.lock().unwrap().entry(id).or_insert(0) += 1;
        self.pool.call(route, body)
    }

    fn replace(&self, route: Route) -> BoxFuture<'_, Result<(), InvokeError>> {
        self.pool.replace(route)
    }

    fn account(&self) -> Option<i64> {
        self.pool.account()
    }

    fn cdn_supported(&self) -> bool {
        self.pool.cdn_supported()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_forms_resolve_once_then_come_from_the_cache() {
    let video = media_bytes(3 << 20, 5);
    let dc = localdc_util::start_with_files(
        "resolve-localdc",
        2,
        &[],
        &[("1.txt", b"one"), ("2.mkv", &video), ("4.bin", b"four")],
    );
    let pool = Pool::open(PoolConfig::new(dc.network(), 1)).unwrap();
    localdc_util::login_bot(&pool, "5:x").await;
    let rpc = Arc::new(Counting {
        pool,
        calls: Mutex::new(HashMap::new()),
    });
    let cache_file = dc.dir.join("cache.json");
    let resolver = Resolver::new(
        rpc.clone(),
        Arc::new(FileCache::open(&cache_file, Duration::from_secs(600))),
    )
    .unwrap();
    let forms = [
        "https://t.me/chan/2",
        "t.me/s/chan/2",
        "https://telegram.me/chan/2?single",
        "telegram.dog/chan/2",
        "tg://resolve?domain=chan&post=2",
        "@chan/2",
        "https://www.t.me/CHAN/2",
    ];
    let mut seen = Vec::new();
    for f in forms {
        let media = resolver
            .media(&Link::parse(f).unwrap(), false)
            .await
            .unwrap();
        assert_eq!(media.len(), 1, "{f}");
        seen.push(media[0].clone());
    }
    let m = &seen[0];
    assert!(seen.iter().all(|x| x.key() == m.key()));
    assert!(matches!(m.location, Location::Document { .. }));
    assert_eq!(
        (m.size, m.file_name.as_str(), m.mime_type.as_str(), m.dc_id),
        (3 << 20, "2.mkv", "video/x-matroska", 2)
    );
    assert_eq!(m.origin.msg_id, 2);
    // One username resolution and one message fetch for all seven links.
    assert_eq!(rpc.total(), 2, "{:?}", rpc.calls.lock().unwrap());

    // Errors, each its own kind.
    let err = |l: &str| {
        let r = &resolver;
        let l = Link::parse(l).unwrap();
        async move { r.media(&l, false).await.unwrap_err() }
    };
    assert!(matches!(
        err("t.me/chan/3").await,
        ResolveError::MissingMessage(3)
    ));
    assert!(
        matches!(err("t.me/nobody_here/1").await, ResolveError::UnknownUsername(u) if u == "nobody_here")
    );
    assert!(matches!(
        err("t.me/c/12345/1").await,
        ResolveError::NoAccess(12345)
    ));
    // A channel met by username is known by id too.
    let by_id = format!("https://t.me/c/{}/2", m.origin.channel_id);
    let got = resolver
        .media(&Link::parse(&by_id).unwrap(), false)
        .await
        .unwrap();
    assert_eq!(got[0].key(), m.key());

    // A channel range: media, missing ids, in order.
    let items = resolver
        .range(&Peer::Username("chan".into()), 1, 5)
        .await
        .unwrap();
    let kinds: Vec<String> = items
        .iter()
        .map(|i| match i {
            Item::Media(m) => format!("m{}", m.origin.msg_id),
            Item::NoMedia(id) => format!("n{id}"),
            Item::Missing(id) => format!("x{id}"),
        })
        .collect();
    assert_eq!(kinds, ["m1", "m2", "x3", "m4", "x5"]);
    drop(resolver);

    // A second run over the same cache file asks nothing.
    let before = rpc.total();
    let again = Resolver::new(
        rpc.clone(),
        Arc::new(FileCache::open(&cache_file, Duration::from_secs(600))),
    )
    .unwrap();
    let media = again
        .media(&Link::parse("t.me/chan/2").unwrap(), false)
        .await
        .unwrap();
    assert_eq!(media[0], *m);
    assert_eq!(rpc.total(), before, "resolved again despite the cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byte_ranges_fetch_only_covering_parts() {
    use tgmux::download::{download_range, Options};
    use tgmux::tl::{functions, Identifiable};
    let size = 7 * (1 << 20) + 4321;
    let data = media_bytes(size, 9);
    let stats = localdc_util::scratch("resolve-ranges-stats").join("stats.json");
    let dc = localdc_util::start_with_files(
        "resolve-ranges",
        2,
        &["--stats-file", stats.to_str().unwrap()],
        &[("2.bin", &data)],
    );
    let pool = Pool::open(PoolConfig::new(dc.network(), 1)).unwrap();
    localdc_util::login_bot(&pool, "5:x").await;
    let rpc = Arc::new(Counting {
        pool,
        calls: Mutex::new(HashMap::new()),
    });
    let resolver = Resolver::new(
        rpc.clone(),
        Arc::new(FileCache::in_memory(Duration::from_secs(60))),
    )
    .unwrap();
    let m = resolver
        .media(&Link::parse("t.me/chan/2").unwrap(), false)
        .await
        .unwrap()
        .remove(0);
    let get_files = || {
        rpc.calls
            .lock()
            .unwrap()
            .get(&functions::upload::GetFile::CONSTRUCTOR_ID)
            .copied()
            .unwrap_or(0)
    };
    let mib = 1u64 << 20;
    for (start, end) in [
        (0, 0),
        (5000, 5009),
        (mib - 1, mib),
        (2 * mib + 3, 5 * mib + 7),
        (size as u64 - 3, u64::MAX),
    ] {
        let before = get_files();
        let (served, _) = served_parts(&stats, "chan/2.bin");
        let mut out = Vec::new();
        let r = download_range(rpc.clone(), &m, start, end, &mut out, &Options::default())
            .await
            .unwrap();
        let end = end.min(size as u64 - 1);
        assert!(
            out[..] == data[start as usize..=end as usize],
            "{start}..={end}"
        );
        let covering = end / mib - start / mib + 1;
        assert_eq!(
            (get_files() - before) as u64,
            covering,
            "{start}..={end}: {r:?}"
        );
        // The server counts the same: nothing but the covering parts was fetched.
        let (now, _) = served_parts(&stats, "chan/2.bin");
        assert_eq!(now - served, covering, "{start}..={end}: served");
    }
}

/// (parts, bytes) local-dc has served of `key`, every answer given so far included.
fn served_parts(stats: &std::path::Path, key: &str) -> (u64, u64) {
    localdc_util::document_parts(
        &localdc_util::stats_after(stats, localdc_util::now_ms()),
        key,
    )
}

/// A sparse 5 GiB document (it costs no disk): ranges past 4 GiB, one across the 4 GiB line
/// and the last bytes come out byte-exact, from the covering parts only (as local-dc counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_past_4_gib_of_a_sparse_5_gib_document_is_exact() {
    use std::io::{Seek, SeekFrom, Write};
    use tgmux::download::{download_range, Options};
    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;
    let size = 5 * GIB + 12345;
    let dir = localdc_util::media_dir("resolve-sparse", &[]);
    let path = dir.join("media/chan/3.bin");
    // Data at the places read (the rest reads as zeros): around 4 GiB and at the end.
    let marks = [
        (4 * GIB - 3 * MIB, media_bytes(6 * MIB as usize, 41)),
        (size - MIB, media_bytes(MIB as usize, 42)),
    ];
    {
        let mut f = std::fs::File::create(&path).unwrap();
        f.set_len(size).unwrap();
        for (at, bytes) in &marks {
            f.seek(SeekFrom::Start(*at)).unwrap();
            f.write_all(bytes).unwrap();
        }
    }
    let want = |start: u64, end: u64| -> Vec<u8> {
        let mut v = vec![0u8; (end - start + 1) as usize];
        for (at, bytes) in &marks {
            let (lo, hi) = (start.max(*at), end.min(at + bytes.len() as u64 - 1));
            if lo <= hi {
                v[(lo - start) as usize..=(hi - start) as usize]
                    .copy_from_slice(&bytes[(lo - at) as usize..=(hi - at) as usize]);
            }
        }
        v
    };
    let stats = dir.join("stats.json");
    let dc = localdc_util::start_in(dir, 2, &["--stats-file", stats.to_str().unwrap()]);
    let pool = Pool::open(PoolConfig::new(dc.network(), 1)).unwrap();
    localdc_util::login_bot(&pool, "5:x").await;
    let rpc: Arc<dyn Rpc> = Arc::new(pool);
    let resolver = Resolver::new(
        rpc.clone(),
        Arc::new(FileCache::in_memory(Duration::from_secs(60))),
    )
    .unwrap();
    let m = resolver
        .media(&Link::parse("t.me/chan/3").unwrap(), false)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(m.size, size);
    for (start, end) in [
        (4 * GIB - 1000, 4 * GIB + 999),
        (4 * GIB + MIB - 7, 4 * GIB + 2 * MIB + 7),
        (4 * GIB + 2 * MIB + 100, 4 * GIB + 2 * MIB + 100),
        (size - 5000, u64::MAX),
    ] {
        let (served, _) = served_parts(&stats, "chan/3.bin");
        let mut out = Vec::new();
        download_range(rpc.clone(), &m, start, end, &mut out, &Options::default())
            .await
            .unwrap();
        let end = end.min(size - 1);
        assert!(out == want(start, end), "{start}..={end} differs");
        let (now, _) = served_parts(&stats, "chan/3.bin");
        assert_eq!(
            now - served,
            end / MIB - start / MIB + 1,
            "{start}..={end}: served"
        );
    }
}
