//! `--store` end to end: two `tgmux serve` instances on one real redis-server and one local-dc
//! share resolved links (the second serves a link without a resolve call, by local-dc's
//! `--stats-file`), the embedded store keeps them across a restart, and a corrupt store file or
//! an unreachable Redis is a one-line error.

mod localdc_util;
mod serve_util;
mod store_util;

use std::path::{Path, PathBuf};

use localdc_util::{media_bytes, now_ms, one_line_error, s, stats_after, tgmux, LocalDc};
use serve_util::{get, Serve};
use store_util::Redis;

/// The calls that resolve a link (a username, then the message).
const RESOLVE: &[&str] = &[
    "contacts.resolveUsername",
    "channels.getMessages",
    "messages.getMessages",
];

struct Tg {
    dc: LocalDc,
    session: PathBuf,
    stats: PathBuf,
    data: Vec<u8>,
}

fn setup(name: &str) -> Tg {
    let stats = localdc_util::scratch(&format!("store-serve-{name}-stats")).join("stats.json");
    let data = media_bytes(300_000, 15);
    let dc = localdc_util::start_with_media(
        &format!("store-serve-{name}"),
        2,
        &["--stats-file", s(&stats)],
        &[("chan/1.bin", &data)],
    );
    let session = dc.dir.join("data/session");
    localdc_util::login_bot_cli(&dc, &session, "123456:abc");
    Tg {
        dc,
        session,
        stats,
        data,
    }
}

/// The same login in a data directory of its own (another instance's machine).
fn copy_session(tg: &Tg, name: &str) -> PathBuf {
    let dir = tg.dc.dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("session");
    std::fs::copy(&tg.session, &copy).unwrap();
    copy
}

fn serve(tg: &Tg, session: &Path, store: &str) -> Serve {
    let args = [
        "--dc-config",
        s(&tg.dc.config),
        "--session",
        s(session),
        "--store",
        store,
        "serve",
        "--listen",
        "127.0.0.1:0",
    ];
    serve_util::spawn(&args, tg.dc.dir.join("media"))
}

/// Resolve calls local-dc counted so far.
fn resolves(tg: &Tg) -> u64 {
    let stats = stats_after(&tg.stats, now_ms());
    RESOLVE
        .iter()
        .map(|m| stats["methods"][*m].as_u64().unwrap_or(0))
        .sum()
}

fn fetch_ok(srv: &Serve, tg: &Tg) {
    let r = get(&format!("{}/chan/1", srv.base), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body == tg.data, "served bytes differ");
}

#[test]
fn a_link_resolved_by_one_instance_is_served_by_another() {
    let Some(redis) = Redis::start("store-serve-shared") else {
        return;
    };
    let tg = setup("shared");
    let url = redis.url(0);
    let a = serve(&tg, &tg.session, &url);
    fetch_ok(&a, &tg);
    let after_a = resolves(&tg);
    assert!(after_a > 0, "instance A resolved nothing");
    let b_session = copy_session(&tg, "b");
    let b = serve(&tg, &b_session, &url);
    fetch_ok(&b, &tg);
    assert_eq!(resolves(&tg), after_a, "instance B resolved the link again");
}

#[test]
fn the_embedded_store_keeps_resolutions_across_a_restart() {
    let tg = setup("embedded");
    let file = tg.dc.dir.join("state/store");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let first = serve(&tg, &tg.session, s(&file));
    fetch_ok(&first, &tg);
    let before = resolves(&tg);
    assert!(before > 0, "nothing resolved");
    drop(first);
    // Only the store remembers: the JSON metadata cache goes.
    let _ = std::fs::remove_file(tg.session.parent().unwrap().join("metadata-cache.json"));
    let second = serve(&tg, &tg.session, s(&file));
    fetch_ok(&second, &tg);
    assert_eq!(resolves(&tg), before, "resolved again after the restart");
}

/// `tgmux serve` with `--store store`, expected to fail before listening.
fn serve_fails(tg: &Tg, store: &str) -> std::process::Output {
    tgmux(&[
        "--dc-config",
        s(&tg.dc.config),
        "--session",
        s(&tg.session),
        "--store",
        store,
        "serve",
        "--listen",
        "127.0.0.1:0",
    ])
}

#[test]
fn a_corrupt_store_file_or_a_missing_redis_is_one_line() {
    let tg = setup("errors");
    let bad = tg.dc.dir.join("bad-store");
    std::fs::write(&bad, b"not a store at all, just bytes").unwrap();
    one_line_error(&serve_fails(&tg, s(&bad)), s(&bad));
    let url = format!("redis://127.0.0.1:{}/0", store_util::free_port());
    one_line_error(&serve_fails(&tg, &url), &url);
}
