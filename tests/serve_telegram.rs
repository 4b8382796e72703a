//! `tgmux serve` over Telegram end to end: a `tgmux local-dc`, a bot logged in with
//! `tgmux login`, `tgmux serve` without `--from-dir`, curl (or a raw socket) as the client.
//! Originals byte-exact in every range form, HEAD, 304, 416, stable ETags across restarts,
//! `/c/<id>/<msg>`, `/info`, 404s, 50 ranges at once; a middle range asks local-dc for
//! exactly its covering parts (its `--stats-file`), a client that disconnects stops the
//! parts; expired file
//! references are renewed, long FLOOD_WAITs are 503s; `.mp4` and HLS of an MKV pass the
//! ffprobe packet oracle and equal `tgmux remux --fragmented`.

mod localdc_util;
mod mkv_util;
mod serve_util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use localdc_util::{media_bytes, s, tgmux, LocalDc};
use serve_util::{curl, get, Reply, Serve};

const MIB: usize = 1 << 20;

/// A local DC serving `files` (paths below its media directory) with a stats file, and a
/// session logged in there as a bot.
struct Tg {
    dc: LocalDc,
    session: PathBuf,
    stats: PathBuf,
}

fn setup(name: &str, extra: &[&str], files: &[(&str, &[u8])]) -> Tg {
    let stats = localdc_util::scratch(&format!("serve-tg-{name}-stats")).join("stats.json");
    let mut flags = vec!["--stats-file", s(&stats)];
    flags.extend_from_slice(extra);
    let dc = localdc_util::start_with_media(&format!("serve-tg-{name}"), 2, &flags, files);
    let session = dc.dir.join("data/session");
    localdc_util::login_bot_cli(&dc, &session, "123456:abc");
    Tg { dc, session, stats }
}

/// `tgmux --dc-config .. --session .. serve --listen 127.0.0.1:0 EXTRA`.
fn serve(tg: &Tg, extra: &[&str]) -> Serve {
    let mut args = vec![
        "--dc-config",
        s(&tg.dc.config),
        "--session",
        s(&tg.session),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    serve_util::spawn(&args, tg.dc.dir.join("media"))
}

fn ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The first stats file written after `since` (local-dc counts a request before answering
/// it, so this one has every request answered by then).
fn stats_after(stats: &Path, since: SystemTime) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let j: Option<serde_json::Value> = std::fs::read(stats)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(j) = j.filter(|j| j["written_at_ms"].as_u64() > Some(ms(since))) {
            return j;
        }
        assert!(Instant::now() < deadline, "no fresh stats file");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `upload.getFile` (parts, bytes) served for `key` (path below the media directory) by
/// the time of the first stats file after `since`.
fn served(stats: &Path, key: &str, since: SystemTime) -> (u64, u64) {
    let d = &stats_after(stats, since)["documents"][key];
    (
        d["parts"].as_u64().unwrap_or(0),
        d["bytes"].as_u64().unwrap_or(0),
    )
}

fn ok(r: Reply) -> Vec<u8> {
    assert_eq!(r.status, 200, "{}", r.text());
    r.body
}

fn range(url: &str, spec: &str) -> Reply {
    get(url, &[&format!("Range: bytes={spec}")])
}

#[test]
fn originals_in_every_range_form_and_not_found() {
    let data = media_bytes(3 * MIB + 17, 7);
    let secret = media_bytes(100_000, 8);
    let tg = setup(
        "originals",
        &[],
        &[("chan/1.bin", &data), ("+secret/3.bin", &secret)],
    );
    let srv = serve(&tg, &[]);
    let url = format!("{}/chan/1", srv.base);
    let size = data.len();

    let full = get(&url, &[]);
    assert_eq!(full.status, 200, "{}", full.text());
    assert!(full.body == data, "full GET differs from the file");
    assert_eq!(full.must("content-length"), size.to_string());
    assert_eq!(full.must("accept-ranges"), "bytes");
    assert!(full.must("content-disposition").starts_with("inline"));
    assert!(full.must("content-disposition").contains("1.bin"));
    assert!(full.header("last-modified").is_some());
    let etag = full.must("etag").to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let r = range(&url, "1000-2000");
    assert_eq!(r.status, 206);
    assert_eq!(r.must("content-range"), format!("bytes 1000-2000/{size}"));
    assert!(r.body == data[1000..=2000]);
    let r = range(&url, "-500");
    assert_eq!(r.status, 206);
    assert!(r.body == data[size - 500..]);
    let r = range(&url, "2097000-");
    assert_eq!(r.status, 206);
    assert_eq!(
        r.must("content-range"),
        format!("bytes 2097000-{}/{size}", size - 1)
    );
    assert!(r.body == data[2_097_000..]);
    let r = range(&url, &format!("{size}-"));
    assert_eq!(r.status, 416);
    assert_eq!(r.must("content-range"), format!("bytes */{size}"));

    let head = curl(&["-I"], &url);
    assert_eq!(head.status, 200);
    assert_eq!(head.must("content-length"), size.to_string());
    assert_eq!(head.must("etag"), etag);
    assert!(head.body.is_empty());
    assert_eq!(get(&url, &[&format!("If-None-Match: {etag}")]).status, 304);
    assert_eq!(get(&url, &[]).must("etag"), etag, "ETag changed");

    let info: serde_json::Value =
        serde_json::from_slice(&ok(get(&format!("{url}/info"), &[]))).expect("/info is JSON");
    assert_eq!(info["name"], "1.bin");
    assert_eq!(info["size"].as_u64(), Some(size as u64));
    assert!(info["mime"].is_string(), "{info}");

    let id = tgmux::localdc::ids::channel_id("+secret");
    let r = get(&format!("{}/c/{id}/3", srv.base), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body == secret);

    for path in ["/nosuchuser/1", "/chan/99", &format!("/c/{}/1", id + 1)] {
        let r = get(&format!("{}{path}", srv.base), &[]);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert!(r.text().starts_with("not found: "), "{path}: {}", r.text());
    }

    // 50 streams of different ranges at once, each byte-exact.
    let threads: Vec<_> = (0..50usize)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let a = i * 61_001;
                let b = (a + 20_000 + i * 13_007).min(3 * MIB + 16);
                (a, b, range(&url, &format!("{a}-{b}")))
            })
        })
        .collect();
    for t in threads {
        let (a, b, r) = t.join().unwrap();
        assert_eq!(r.status, 206, "{a}-{b}: {}", r.text());
        assert!(r.body == data[a..=b], "{a}-{b} differs");
    }
    let metrics = get(&format!("{}/metrics", srv.base), &[]).text();
    assert!(
        metrics.contains("tgmux_parts_fetched_total{dc=\"1\"}"),
        "{metrics}"
    );

    // Another run of the server: the same document, the same ETag.
    drop(srv);
    let srv = serve(&tg, &[]);
    assert_eq!(
        curl(&["-I"], &format!("{}/chan/1", srv.base)).must("etag"),
        etag
    );
}

#[test]
fn a_range_asks_for_its_parts_only_and_a_disconnect_stops_them() {
    let data = media_bytes(40 * MIB, 9);
    let tg = setup("parts", &[], &[("chan/1.bin", &data)]);
    let srv = serve(&tg, &[]);
    let url = format!("{}/chan/1", srv.base);
    let key = "chan/1.bin";

    // 3,500,000..=5,300,000 lies in blocks 3, 4 and 5: a precise part, a whole one, a
    // precise one, each at most 1 KiB wider than the range at either end.
    let (a, b) = (3_500_000usize, 5_300_000usize);
    let before = served(&tg.stats, key, SystemTime::now());
    let r = range(&url, &format!("{a}-{b}"));
    assert_eq!(r.status, 206);
    assert!(r.body == data[a..=b]);
    let after = served(&tg.stats, key, SystemTime::now());
    let (parts, bytes) = (after.0 - before.0, after.1 - before.1);
    assert_eq!(parts, 3, "parts for a 3-block range");
    let len = (b - a + 1) as u64;
    assert!(
        (len..=len + 2048).contains(&bytes),
        "{bytes} bytes for {len}"
    );

    // A client that reads 256 KiB, then stops reading: back-pressure holds the fetch...
    let mut conn =
        TcpStream::connect(url.trim_start_matches("http://").split('/').next().unwrap()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"GET /chan/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = 0;
    let mut buf = vec![0u8; 64 * 1024];
    while got < 256 * 1024 {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "the server closed early");
        got += n;
    }
    std::thread::sleep(Duration::from_millis(1500));
    let held = served(&tg.stats, key, SystemTime::now()).0 - after.0;
    let total = data.len().div_ceil(MIB) as u64;
    assert!(
        held < total,
        "{held} of {total} parts asked for an unread body"
    );
    // ...and when it goes, no part is asked after the one in hand.
    drop(conn);
    std::thread::sleep(Duration::from_millis(500));
    let gone = served(&tg.stats, key, SystemTime::now()).0 - after.0;
    std::thread::sleep(Duration::from_millis(2000));
    let later = served(&tg.stats, key, SystemTime::now()).0 - after.0;
    eprintln!("parts: {held} while stalled, {gone} after the disconnect, {later} later");
    assert!(
        gone <= held + 1,
        "{gone} parts after the disconnect, {held} before"
    );
    assert_eq!(later, gone, "parts still asked after the client went");
}

#[test]
fn expired_references_are_renewed_and_long_flood_waits_are_503() {
    let data = media_bytes(2 * MIB + 5, 10);
    let tg = setup(
        "refs",
        &["--faults", "expire-refs=1"],
        &[("chan/1.bin", &data)],
    );
    let srv = serve(&tg, &[]);
    let url = format!("{}/chan/1", srv.base);
    assert!(ok(get(&url, &[])) == data);
    // The cached message holds a reference that has expired by now.
    std::thread::sleep(Duration::from_millis(2100));
    assert!(ok(get(&url, &[])) == data);
    let r = range(&url, "1048570-1048600");
    assert_eq!(r.status, 206);
    assert!(r.body == data[1_048_570..=1_048_600]);
    let stats = stats_after(&tg.stats, SystemTime::now());
    assert!(
        stats["errors"]["FILE_REFERENCE_EXPIRED"].as_u64() > Some(0),
        "no reference expired: {stats}"
    );
    drop(srv);

    let tg = setup(
        "flood",
        &["--faults", "flood=1:90"],
        &[("chan/1.bin", &data)],
    );
    let srv = serve(&tg, &["--max-flood-wait", "5"]);
    let r = get(&format!("{}/chan/1", srv.base), &[]);
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.must("retry-after"), "90");
}

/// The audio and video packets of `f` by ffprobe: (stream, payload SHA-256), sorted.
fn av_packets(f: &Path) -> Vec<(usize, String)> {
    let mut v: Vec<(usize, String)> = mkv_util::ffprobe_packets(f)
        .into_iter()
        .filter(|p| p.stream < 2)
        .map(|p| (p.stream, p.sha256))
        .collect();
    v.sort();
    v
}

#[test]
fn mp4_and_hls_of_an_mkv_pass_the_packet_oracle() {
    let Some(work) = mkv_util::Work::new("serve-tg-mkv", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let input = serve_util::av_mkv(&work.path("in"), "2.mkv", 12);
    let mkv = std::fs::read(&input).unwrap();
    // Message 2 lives on DC 2: the file connections go to the other DC.
    let tg = setup("mkv", &[], &[("chan/2.mkv", &mkv)]);
    let srv = serve(&tg, &[]);
    let b = format!("{}/chan/2", srv.base);

    let reference = work.path("ref.mp4");
    localdc_util::stdout(&tgmux(&[
        "remux",
        "--fragmented",
        s(&input),
        "-o",
        s(&reference),
    ]));
    let reference = std::fs::read(&reference).unwrap();

    let r = get(&format!("{b}.mp4"), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.must("content-type"), "video/mp4");
    assert!(
        r.body == reference,
        ".mp4 differs from tgmux remux --fragmented"
    );
    let mp4 = work.path("served.mp4");
    std::fs::write(&mp4, &r.body).unwrap();
    let theirs = av_packets(&input);
    assert!(!theirs.is_empty());
    assert!(
        av_packets(&mp4) == theirs,
        "packets differ from the input's"
    );

    // HLS (segments made from byte ranges through the key-frame index): init + every
    // segment has the input's packets.
    let playlist = String::from_utf8(ok(get(&format!("{b}/index.m3u8"), &[]))).unwrap();
    assert!(
        playlist.contains("#EXT-X-MAP:URI=\"init.mp4\""),
        "{playlist}"
    );
    let mut whole = ok(get(&format!("{b}/init.mp4"), &[]));
    let segments: Vec<&str> = playlist.lines().filter(|l| l.ends_with(".m4s")).collect();
    assert!(segments.len() >= 2, "{playlist}");
    for seg in segments {
        whole.extend(ok(get(&format!("{b}/{seg}"), &[])));
    }
    let cat = work.path("hls.mp4");
    std::fs::write(&cat, &whole).unwrap();
    assert!(
        av_packets(&cat) == theirs,
        "init + segments: packets differ from the input's"
    );

    let info: serde_json::Value =
        serde_json::from_slice(&ok(get(&format!("{b}/info"), &[]))).unwrap();
    assert_eq!(info["name"], "2.mkv");
    assert_eq!(info["size"].as_u64(), Some(mkv.len() as u64));
    let secs = info["duration"].as_f64().expect("a duration");
    assert!((secs - 12.0).abs() < 0.5, "{info}");
    assert_eq!(info["tracks"].as_array().map(Vec::len), Some(3), "{info}");

    let page = get(&format!("{}/watch/chan/2", srv.base), &[]);
    assert_eq!(page.status, 200);
    assert!(page.text().contains("data-base=\"/chan/2\""));
    // The original still ranges over the same document.
    let r = range(&b, "100-199");
    assert!(r.status == 206 && r.body == mkv[100..200]);
}

#[test]
fn without_a_login_it_is_one_line_before_listening() {
    let dir = localdc_util::scratch("serve-tg-nologin");
    let out = tgmux(&[
        "--session",
        s(&dir.join("none")),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    localdc_util::one_line_error(&out, "not logged in: no session file at");
    assert!(out.stdout.is_empty(), "it listened first");
}
