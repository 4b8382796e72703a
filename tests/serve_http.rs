//! `tgmux serve` at the HTTP level with real curl: every range form and status byte for byte
//! against the file on disk, HEAD, conditional requests, file names, bad requests, metrics,
//! 50 concurrent ranged streams, timeouts and the command line. The server reads a local
//! directory (`--from-dir`) through the same code Telegram documents take; the tests
//! through local-dc come with the downloader.

mod localdc_util;
mod serve_util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use localdc_util::{media_bytes, one_line_error, stdout, tgmux};
use serve_util::{curl, get, multipart_parts, start, start_in};

/// 2.5 MiB + 123 bytes: three 1 MiB parts, the last one short.
const SIZE: usize = 5 * 512 * 1024 + 123;

#[test]
fn every_range_form_byte_exact() {
    let data = media_bytes(SIZE, 1);
    let srv = start("ranges", &[("alice/12.mkv", &data)], &[]);
    let url = format!("{}/alice/12", srv.base);
    let size = SIZE as u64;

    let full = get(&url, &[]);
    assert_eq!(full.status, 200);
    assert_eq!(full.body, data);
    assert_eq!(full.must("content-length"), SIZE.to_string());
    assert_eq!(full.must("accept-ranges"), "bytes");
    assert_eq!(full.must("content-type"), "video/x-matroska");
    assert_eq!(
        full.must("content-disposition"),
        "inline; filename=\"12.mkv\""
    );
    let etag = full.must("etag").to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    assert!(full.header("last-modified").is_some());
    assert!(full.header("content-range").is_none());

    let mib = 1024 * 1024u64;
    for (spec, start, end) in [
        ("0-0", 0, 0),
        ("0-499", 0, 499),
        ("1000-", 1000, size - 1),
        ("-500", size - 500, size - 1),
        (&format!("-{}", size + 10), 0, size - 1),
        (&format!("5-{}", size + 100), 5, size - 1),
        (&format!("{}-", size - 1), size - 1, size - 1),
        (&format!("{}-{}", mib - 10, mib + 10), mib - 10, mib + 10),
        (&format!("{}-{}", mib, 2 * mib - 1), mib, 2 * mib - 1),
    ] {
        let r = get(&url, &[&format!("Range: bytes={spec}")]);
        assert_eq!(r.status, 206, "{spec}");
        assert_eq!(
            r.must("content-range"),
            format!("bytes {start}-{end}/{size}"),
            "{spec}"
        );
        assert_eq!(
            r.must("content-length"),
            (end - start + 1).to_string(),
            "{spec}"
        );
        assert_eq!(r.must("etag"), etag, "{spec}");
        assert!(
            r.body == data[start as usize..=end as usize],
            "{spec}: bytes differ"
        );
    }

    for spec in [
        format!("bytes={size}-"),
        "bytes=-0".into(),
        format!("bytes={}-{}", size + 5, size + 9),
    ] {
        let r = get(&url, &[&format!("Range: {spec}")]);
        assert_eq!(r.status, 416, "{spec}");
        assert_eq!(r.must("content-range"), format!("bytes */{size}"), "{spec}");
        assert_eq!(r.text(), "range not satisfiable\n");
    }

    // Not a valid bytes range: the whole file, as if there were no Range.
    for spec in ["bytes=5-4", "bytes=x-", "items=0-1", "bytes 0-1", "bytes="] {
        let r = get(&url, &[&format!("Range: {spec}")]);
        assert_eq!(r.status, 200, "{spec}");
        assert!(r.body == data, "{spec}");
    }
}

#[test]
fn several_ranges_are_multipart() {
    let data = media_bytes(SIZE, 2);
    let srv = start("multipart", &[("alice/12.mkv", &data)], &[]);
    let url = format!("{}/alice/12", srv.base);
    let size = SIZE;

    let r = get(&url, &["Range: bytes=0-9,1048570-1048580,-10"]);
    assert_eq!(r.status, 206);
    assert!(r.header("content-range").is_none());
    assert_eq!(r.must("content-length"), r.body.len().to_string());
    let parts = multipart_parts(r.must("content-type"), &r.body);
    let want = [(0, 9), (1_048_570, 1_048_580), (size - 10, size - 1)];
    assert_eq!(parts.len(), want.len());
    for ((range, bytes), (a, b)) in parts.iter().zip(want) {
        assert_eq!(range, &format!("bytes {a}-{b}/{size}"));
        assert!(bytes[..] == data[a..=b]);
    }

    // Request order is kept; overlapping or near ranges merge into one (plain 206).
    let r = get(&url, &["Range: bytes=2000-2009,0-9"]);
    let parts = multipart_parts(r.must("content-type"), &r.body);
    assert_eq!(parts[0].0, format!("bytes 2000-2009/{size}"));
    assert_eq!(parts[1].0, format!("bytes 0-9/{size}"));
    let r = get(&url, &["Range: bytes=0-99,50-149,160-200"]);
    assert_eq!(r.status, 206);
    assert_eq!(r.must("content-range"), format!("bytes 0-200/{size}"));
    assert!(r.body == data[..=200]);
}

/// Python's email parser, an implementation we did not write, reads our multipart body.
#[test]
fn multipart_reads_in_python_email_parser() {
    let text: Vec<u8> = (0..4000)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    let srv = start("multipart-py", &[("alice/3.txt", &text)], &[]);
    let r = get(
        &format!("{}/alice/3", srv.base),
        &["Range: bytes=10-29,5000-5099,-7"],
    );
    assert_eq!(r.status, 206);
    let mut msg = format!("Content-Type: {}\r\n\r\n", r.must("content-type")).into_bytes();
    msg.extend_from_slice(&r.body);
    let script = "import sys, email\n\
        m = email.message_from_bytes(sys.stdin.buffer.read())\n\
        assert m.is_multipart() and m.get_content_type() == 'multipart/byteranges'\n\
        for p in m.get_payload():\n\
        \x20   sys.stdout.write(p['Content-Range'] + '|' + p.get_payload() + '#')\n";
    let mut py = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    py.stdin.take().unwrap().write_all(&msg).unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(out.status.success());
    let n = text.len();
    let want = format!(
        "bytes 10-29/{n}|{}#bytes 5000-5099/{n}|{}#bytes {}-{}/{n}|{}#",
        String::from_utf8_lossy(&text[10..30]),
        String::from_utf8_lossy(&text[5000..5100]),
        n - 7,
        n - 1,
        String::from_utf8_lossy(&text[n - 7..]),
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

#[test]
fn head_has_the_get_headers_and_no_body() {
    let data = media_bytes(300_000, 3);
    let srv = start("head", &[("alice/12.mkv", &data)], &[]);
    let url = format!("{}/alice/12", srv.base);
    for range in [
        None,
        Some("Range: bytes=100-199"),
        Some("Range: bytes=0-0,-1"),
    ] {
        let mut args = vec!["-I"];
        let mut getargs = vec![];
        if let Some(r) = range {
            args.extend(["-H", r]);
            getargs.push(r);
        }
        let head = curl(&args, &url);
        let g = get(&url, &getargs);
        assert_eq!(head.status, g.status);
        assert!(head.body.is_empty());
        for h in [
            "content-length",
            "content-range",
            "etag",
            "last-modified",
            "content-type",
            "accept-ranges",
        ] {
            if h == "content-type" && range == Some("Range: bytes=0-0,-1") {
                continue; // a fresh boundary per response
            }
            assert_eq!(head.header(h), g.header(h), "{h} {range:?}");
        }
    }
}

#[test]
fn conditional_requests() {
    let data = media_bytes(10_000, 4);
    let srv = start("conditional", &[("alice/12.mkv", &data)], &[]);
    let url = format!("{}/alice/12", srv.base);
    let first = get(&url, &[]);
    let etag = first.must("etag").to_string();
    let lm = first.must("last-modified").to_string();
    let earlier = "Sat, 01 Jan 2000 00:00:00 GMT";

    let r = get(&url, &[&format!("If-None-Match: {etag}")]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.must("etag"), etag);
    assert_eq!(
        get(&url, &[&format!("If-None-Match: \"x\", W/{etag}")]).status,
        304
    );
    assert_eq!(get(&url, &["If-None-Match: *"]).status, 304);
    assert_eq!(get(&url, &["If-None-Match: \"other\""]).status, 200);
    assert_eq!(
        get(&url, &[&format!("If-Modified-Since: {lm}")]).status,
        304
    );
    assert_eq!(
        get(&url, &[&format!("If-Modified-Since: {earlier}")]).status,
        200
    );
    // HEAD is conditional too.
    assert_eq!(
        curl(&["-I", "-H", &format!("If-None-Match: {etag}")], &url).status,
        304
    );

    let r = get(&url, &[&format!("If-Range: {etag}"), "Range: bytes=0-9"]);
    assert_eq!((r.status, r.body.as_slice()), (206, &data[..10]));
    let r = get(&url, &["If-Range: \"stale\"", "Range: bytes=0-9"]);
    assert_eq!((r.status, r.body.len()), (200, data.len()));
    let r = get(&url, &[&format!("If-Range: {lm}"), "Range: bytes=0-9"]);
    assert_eq!(r.status, 206);
    let r = get(&url, &[&format!("If-Range: {earlier}"), "Range: bytes=0-9"]);
    assert_eq!(r.status, 200);

    assert_eq!(get(&url, &["If-Match: \"other\""]).status, 412);
    assert_eq!(get(&url, &[&format!("If-Match: {etag}")]).status, 200);
    assert_eq!(
        get(&url, &[&format!("If-Unmodified-Since: {earlier}")]).status,
        412
    );
    assert_eq!(
        get(&url, &[&format!("If-Unmodified-Since: {lm}")]).status,
        200
    );

    // The ETag is stable across restarts (same file, same tag).
    let media = srv.media.clone();
    drop(srv);
    let again = start_in(media, &[]);
    assert_eq!(
        get(&format!("{}/alice/12", again.base), &[]).must("etag"),
        etag
    );
}

#[test]
fn file_names_and_downloads() {
    let srv = start(
        "names",
        &[
            ("alice/14.Résumé €.pdf", b"%PDF-1.4\n"),
            ("alice/15.txt", b"x"),
        ],
        &[],
    );
    let r = get(&format!("{}/alice/14", srv.base), &[]);
    assert_eq!(r.must("content-type"), "application/pdf");
    assert_eq!(
        r.must("content-disposition"),
        "inline; filename=\"14.R_sum_ _.pdf\"; filename*=UTF-8''14.R%C3%A9sum%C3%A9%20%E2%82%AC.pdf"
    );
    let r = get(&format!("{}/alice/15?download=1", srv.base), &[]);
    assert_eq!(
        r.must("content-disposition"),
        "attachment; filename=\"15.txt\""
    );
    let r = get(&format!("{}/alice/15?download=0", srv.base), &[]);
    assert_eq!(r.must("content-disposition"), "inline; filename=\"15.txt\"");
}

#[test]
fn bad_requests_are_short_answers() {
    let srv = start("bad", &[("alice/1.txt", b"one\n")], &[]);
    let b = &srv.base;
    for (path, status) in [
        ("/", 404),
        ("/alice", 404),
        ("/alice/x", 404),
        ("/alice/1/", 404),
        ("/alice/1/nope", 404),
        ("/alice/2", 404),
        ("/nobody/1", 404),
        ("/c/77/1", 404),
        ("/alice/0", 400),
        ("/alice/99999999999", 400),
        ("/alice/%ZZ", 400),
        ("/alice/1?download=yes", 400),
        ("/alice/1?exp=5", 400),
        ("/alice/1?token=a&token=b", 400),
        ("/alice/1?sig=zz&exp=1", 400),
    ] {
        let r = get(&format!("{b}{path}"), &[]);
        assert_eq!(r.status, status, "{path}");
        assert!(
            r.body.len() < 100 && r.text().ends_with('\n'),
            "{path}: {:?}",
            r.text()
        );
        assert!(r.must("content-type").starts_with("text/plain"), "{path}");
    }
    let r = curl(&["-X", "POST"], &format!("{b}/alice/1"));
    assert_eq!((r.status, r.must("allow")), (405, "GET, HEAD"));
    // Garbage on the socket: hyper answers 400 and the server lives on.
    let mut s = TcpStream::connect(b.strip_prefix("http://").unwrap()).unwrap();
    s.write_all(b"\x00\x01GARBAGE\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(
        out.starts_with(b"HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(get(&format!("{b}/healthz"), &[]).text(), "ok\n");
}

#[test]
fn metrics_count_requests_bytes_parts_and_errors() {
    let data = media_bytes(SIZE, 5);
    let srv = start("metrics", &[("alice/12.mkv", &data)], &[]);
    let b = &srv.base;
    assert_eq!(get(&format!("{b}/alice/12"), &[]).status, 200);
    assert_eq!(
        get(&format!("{b}/alice/12"), &["Range: bytes=0-99"]).status,
        206
    );
    assert_eq!(get(&format!("{b}/alice/99"), &[]).status, 404);
    let h = get(&format!("{b}/healthz"), &[]);
    assert_eq!((h.status, h.text().as_str()), (200, "ok\n"));
    let m = get(&format!("{b}/metrics"), &[]);
    assert_eq!(
        m.must("content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = m.text();
    for line in [
        "tgmux_http_requests_total{route=\"original\",status=\"200\"} 1".to_string(),
        "tgmux_http_requests_total{route=\"original\",status=\"206\"} 1".into(),
        "tgmux_http_requests_total{route=\"original\",status=\"404\"} 1".into(),
        "tgmux_http_requests_total{route=\"healthz\",status=\"200\"} 1".into(),
        format!(
            "tgmux_http_sent_bytes_total {}",
            SIZE + 100 + "not found: no such message\n".len() + 3
        ),
        "tgmux_http_active_streams 0".into(),
        // Three parts for the whole file, one for the range.
        "tgmux_parts_fetched_total{dc=\"0\"} 4".into(),
        "tgmux_flood_waits_total 0".into(),
        "tgmux_http_errors_total{kind=\"not_found\"} 1".into(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
}

#[test]
fn fifty_concurrent_ranged_streams_are_byte_exact() {
    let size = 8 * 1024 * 1024 + 77;
    let data = media_bytes(size, 6);
    let srv = start("fifty", &[("alice/12.mkv", &data)], &[]);
    let url = format!("{}/alice/12", srv.base);
    let threads: Vec<_> = (0..50u64)
        .map(|i| {
            let url = url.clone();
            // Different lengths and offsets, some across part boundaries, a few suffixes.
            let start = (i * 163_841 + i * i * 977) % (size as u64 - 1);
            let len = 1 + (i * 48_271 + 5) % 1_500_000;
            let end = (start + len - 1).min(size as u64 - 1);
            let spec = if i % 10 == 9 {
                format!("-{len}")
            } else {
                format!("{start}-{end}")
            };
            std::thread::spawn(move || {
                (spec.clone(), get(&url, &[&format!("Range: bytes={spec}")]))
            })
        })
        .collect();
    for t in threads {
        let (spec, r) = t.join().unwrap();
        assert_eq!(r.status, 206, "{spec}");
        let (a, b) = if let Some(n) = spec.strip_prefix('-') {
            let n: usize = n.parse().unwrap();
            (size - n.min(size), size - 1)
        } else {
            let (a, b) = spec.split_once('-').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        };
        assert!(r.body == data[a..=b], "{spec}: bytes differ");
    }
}

/// Reads what the server sends until it closes (or `limit` passes); the time it took.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let t = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return (out, t.elapsed()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn slow_clients_are_dropped() {
    let data = media_bytes(64 * 1024 * 1024, 7);
    let srv = start(
        "timeouts",
        &[("alice/12.mkv", &data)],
        &["--header-timeout", "1", "--idle-timeout", "1"],
    );
    let addr = srv.base.strip_prefix("http://").unwrap().to_string();

    // A request head that never completes.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /alice/12 HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (_, took) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(took < Duration::from_secs(5), "head timeout took {took:?}");

    // A kept-alive connection left idle after a response.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (out, took) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(out.starts_with(b"HTTP/1.1 200"));
    assert!(
        took < Duration::from_secs(5),
        "idle keep-alive lasted {took:?}"
    );

    // A client that stops reading a 64 MiB body (more than loopback socket buffers hold,
    // even tuned ones): its stream ends, freeing its slot, a second after the writes stall.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /alice/12 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let active = |n: u32| {
        let m = get(&format!("{}/metrics", srv.base), &[]).text();
        m.lines()
            .any(|l| l == format!("tgmux_http_active_streams {n}"))
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !active(1) {
        assert!(Instant::now() < deadline, "the stream never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    while !active(0) {
        assert!(
            Instant::now() < deadline,
            "the stalled stream stayed active"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Reading now gets what was buffered, then the end: never the whole body.
    let (out, _) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(out.len() < data.len(), "a stalled client got everything");
}

#[test]
fn max_streams_answers_503_with_retry_after() {
    let data = media_bytes(64 * 1024 * 1024, 8);
    let srv = start(
        "busy",
        &[("alice/12.mkv", &data)],
        &["--max-streams", "2", "--idle-timeout", "30"],
    );
    let addr = srv.base.strip_prefix("http://").unwrap().to_string();
    // Two clients that do not read hold both slots (64 MiB fits no socket buffers).
    let holders: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /alice/12 HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !get(&format!("{}/metrics", srv.base), &[])
        .text()
        .contains("tgmux_http_active_streams 2")
    {
        assert!(Instant::now() < deadline, "holders never became active");
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = get(&format!("{}/alice/12", srv.base), &["Range: bytes=0-9"]);
    assert_eq!(r.status, 503);
    assert_eq!(r.must("retry-after"), "2");
    // HEAD and 304 need no stream.
    assert_eq!(curl(&["-I"], &format!("{}/alice/12", srv.base)).status, 200);
    drop(holders);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = get(&format!("{}/alice/12", srv.base), &["Range: bytes=0-9"]);
        if r.status == 206 {
            assert!(r.body == data[..10]);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slots never came back: {}",
            r.status
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn command_line() {
    let out = tgmux(&[
        "serve",
        "--listen",
        "0.0.0.0:0",
        "--from-dir",
        "/nonexistent",
    ]);
    one_line_error(
        &out,
        "serve: listening on 0.0.0.0:0 (beyond loopback) needs --token or --link-secret",
    );
    let out = tgmux(&["serve", "--listen", "[::]:0"]);
    one_line_error(&out, "beyond loopback");
    let out = tgmux(&["serve", "--token", ""]);
    one_line_error(&out, "must not be empty");
    let out = tgmux(&["serve", "--max-streams", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = tgmux(&[
        "serve",
        "--link-secret",
        "k",
        "--sign",
        "/alice/12",
        "--link-ttl",
        "100",
    ]);
    let link = stdout(&out);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (path, q) = link.trim().split_once('?').unwrap();
    assert_eq!(path, "/alice/12");
    let exp: u64 = q
        .strip_prefix("exp=")
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((now + 99..=now + 101).contains(&exp), "{exp} vs {now}");
    let out = tgmux(&["serve", "--link-secret", "k", "--sign", "/nope"]);
    one_line_error(&out, "--sign /nope: not a route");
    // A port already taken is one clear line.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = tgmux(&["serve", "--listen", &addr, "--from-dir", "/tmp"]);
    one_line_error(&out, &format!("serve: cannot listen on {addr}"));
}
