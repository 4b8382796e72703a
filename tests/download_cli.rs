//! `tgmux download` end to end against `tgmux local-dc`: files of every awkward size come out
//! SHA-256-identical, faults change nothing, an interrupted download resumes, and bad links
//! or missing messages give one clear line each while the other links still download.

mod localdc_util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use localdc_util::{media_bytes, s, tgmux, LocalDc};
use sha2::{Digest, Sha256};

const MIB: usize = 1 << 20;

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A local DC serving `files` as channel `chan`, and a session logged in as a bot.
fn setup(name: &str, extra: &[&str], files: &[(&str, &[u8])]) -> (LocalDc, PathBuf) {
    let dc = localdc_util::start_with_files(&format!("download-{name}"), 3, extra, files);
    let session = login(&dc);
    (dc, session)
}

/// A session of `dc` logged in as a bot (in `DIR/data`, where the metadata cache goes too).
fn login(dc: &LocalDc) -> PathBuf {
    let session = dc.dir.join("data/session");
    localdc_util::login_bot_cli(dc, &session, "123:abc");
    session
}

/// `tgmux --dc-config .. --session .. download ARGS`.
fn download(dc: &LocalDc, session: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "--dc-config",
        s(&dc.config),
        "--session",
        s(session),
        "download",
    ];
    all.extend_from_slice(args);
    tgmux(&all)
}

/// [`download`] with stdout read while it runs (more than a pipe holds), hang-guarded.
fn download_to_stdout(dc: &LocalDc, session: &Path, args: &[&str]) -> std::process::Output {
    let child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args([
            "--dc-config",
            s(&dc.config),
            "--session",
            s(session),
            "download",
        ])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output().unwrap()));
    rx.recv_timeout(Duration::from_secs(60))
        .expect("tgmux download -o - hung")
}

/// The --json lines: (link, path, size, sha256).
fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn every_size_is_sha256_identical() {
    let sizes = [0, 1, 1023, MIB, MIB + 1, 3 * MIB + 17, 64 * MIB];
    let data: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| media_bytes(n, i as u64 + 1))
        .collect();
    let names: Vec<String> = (1..=sizes.len()).map(|i| format!("{i}.bin")).collect();
    let files: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&data)
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let (dc, session) = setup("sizes", &[], &files);
    let out_dir = dc.dir.join("out/");
    let links: Vec<String> = (1..=sizes.len())
        .map(|i| format!("https://t.me/chan/{i}"))
        .collect();
    let mut args: Vec<&str> = links.iter().map(String::as_str).collect();
    args.extend(["-o", s(&out_dir), "--json"]);
    let out = download(&dc, &session, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), sizes.len());
    for (i, d) in data.iter().enumerate() {
        let got = std::fs::read(out_dir.join(&names[i])).unwrap();
        assert_eq!(got.len(), d.len(), "{}", names[i]);
        assert!(got == *d, "{} differs", names[i]);
        let line = lines
            .iter()
            .find(|l| l["link"] == links[i].as_str())
            .unwrap_or_else(|| panic!("no JSON line for {}", links[i]));
        assert_eq!(line["size"], d.len() as u64);
        assert_eq!(line["sha256"], sha256_hex(d));
        assert!(line["seconds"].as_f64().unwrap() >= 0.0);
        assert!(Path::new(line["path"].as_str().unwrap()).ends_with(&names[i]));
    }
    // No .part or sidecar is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The file's mtime is the message date (local-dc: the media file's mtime).
    let want = std::fs::metadata(dc.dir.join("media/chan/6.bin"))
        .unwrap()
        .modified()
        .unwrap();
    let got = std::fs::metadata(out_dir.join("6.bin"))
        .unwrap()
        .modified()
        .unwrap();
    let secs =
        |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(secs(got), secs(want));

    // -o - streams one file to stdout, byte for byte.
    let out = download_to_stdout(&dc, &session, &["t.me/chan/6", "-o", "-"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == data[5], "stdout differs");
    // -o FILE names the file.
    let one = dc.dir.join("one.bin");
    let out = download(&dc, &session, &["@chan/5", "-o", s(&one)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&one).unwrap(), data[4]);
}

#[test]
fn faults_change_nothing() {
    let big = media_bytes(20 * MIB + 5, 11);
    let mid = media_bytes(3 * MIB + 17, 12);
    let (dc, session) = setup(
        "faults",
        &[
            "--faults",
            "drop=0.02,flood=0.05:1,salt=0.05,expire-refs=2",
            "--seed",
            "7",
        ],
        &[("1.mkv", &big), ("2.mp4", &mid)],
    );
    let out_dir = dc.dir.join("out/");
    let out = download(
        &dc,
        &session,
        &["t.me/chan/1", "t.me/chan/2", "-o", s(&out_dir), "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(out_dir.join("1.mkv")).unwrap() == big,
        "1.mkv differs"
    );
    assert!(
        std::fs::read(out_dir.join("2.mp4")).unwrap() == mid,
        "2.mp4 differs"
    );
}

#[test]
fn migrate_fault_moves_the_login_once() {
    let data = media_bytes(5 * MIB + 3, 21);
    let (dc, session) = setup("migrate", &["--faults", "migrate"], &[("2.bin", &data)]);
    let out_dir = dc.dir.join("out/");
    let out = download(&dc, &session, &["t.me/chan/2", "-o", s(&out_dir), "-v"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(out_dir.join("2.bin")).unwrap() == data);
}

/// Waits until the sidecar says at least `bytes` are on disk.
fn wait_for_checkpoint(sidecar: &Path, bytes: u64, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(b) = std::fs::read(sidecar) {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) {
                if v["done"].as_u64().unwrap_or(0) >= bytes {
                    return;
                }
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the download ended before the kill"
        );
        assert!(Instant::now() < deadline, "no checkpoint within 60 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn kill_9_halfway_then_the_same_command_resumes() {
    let data = media_bytes(64 * MIB, 31);
    let parts = (data.len() / MIB) as u64;
    // 20 ms per answer, one connection, two parts in flight: ~100 MiB/s at most, so the kill
    // lands mid-file.
    let dir = localdc_util::scratch("download-resume-stats");
    let stats = dir.join("stats.json");
    let (dc, session) = setup(
        "resume",
        &["--faults", "delay=20", "--stats-file", s(&stats)],
        &[("1.bin", &data)],
    );
    let out_dir = dc.dir.join("out/");
    let args = [
        "--dc-config",
        s(&dc.config),
        "--session",
        s(&session),
        "-v",
        "download",
        "t.me/chan/1",
        "-o",
        s(&out_dir),
        "--connections",
        "1",
        "--window",
        "2",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sidecar = out_dir.join("1.bin.part.json");
    wait_for_checkpoint(&sidecar, 16 * MIB as u64, &mut child);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!out_dir.join("1.bin").exists());
    // What the killed run had fetched, once local-dc has answered what it had read.
    std::thread::sleep(Duration::from_millis(300));
    let (first, _) = localdc_util::document_parts(
        &localdc_util::stats_after(&stats, localdc_util::now_ms()),
        "chan/1.bin",
    );
    assert!(
        (16..parts).contains(&first),
        "the kill fetched {first} parts"
    );
    let out = tgmux(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = localdc_util::stats_after(&stats, localdc_util::now_ms());
    let (total, total_bytes) = localdc_util::document_parts(&after, "chan/1.bin");
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("resumed at"))
        .unwrap_or_else(|| panic!("no resume report: {err}"));
    // "tgmux: <link>: resumed at N, fetched M bytes in K requests"
    let resumed: u64 = line
        .split("resumed at ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        resumed >= 16 * MIB as u64 && resumed % MIB as u64 == 0,
        "{line}"
    );
    // The second run fetched exactly the parts past what was on disk, as the server counts.
    let again = total - first;
    assert_eq!(again, parts - resumed / MIB as u64, "{line}");
    assert!(again < parts, "{line}");
    assert!(total_bytes >= data.len() as u64, "{line}");
    assert!(
        std::fs::read(out_dir.join("1.bin")).unwrap() == data,
        "resumed file differs"
    );
}

/// Every link `local-dc --links` prints for a layout with each kind of message (public
/// documents, album items, photos, a forum topic's and the General topic's messages, a
/// comment, a private channel with an album, a private forum) downloads that message's file, each resolved
/// from nothing (the metadata cache removed before every run).
#[test]
fn every_link_form_downloads_its_file() {
    let mut jpeg = vec![0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 48, 0, 64, 3];
    jpeg.extend(media_bytes(300_000, 5));
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x40\0\0\0\x30".to_vec();
    png.extend(media_bytes(MIB + 3, 6));
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("chan/1.bin", media_bytes(3 * MIB + 17, 1)),
        ("chan/2/a.bin", media_bytes(5000, 2)),
        ("chan/2/b.mkv", media_bytes(MIB + 1, 3)),
        ("chan/2/c.jpg", jpeg.clone()),
        ("chan/5.jpg", jpeg),
        ("chan/6.png", png),
        ("chan/7.bin", media_bytes(1_234_567, 7)),
        ("chan/7.comments/100.bin", media_bytes(2 * MIB + 5, 8)),
        ("forum/1.bin", media_bytes(111, 9)),
        ("forum/topics/10/11.bin", media_bytes(1_500_000, 10)),
        ("+secret/1.bin", media_bytes(MIB + 777, 11)),
        ("+secret/3/a.bin", media_bytes(888, 12)),
        ("+secret/3/b.bin", media_bytes(999, 13)),
        ("+club/topics/20/21.bin", media_bytes(MIB + 21, 14)),
    ];
    let list: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_slice())).collect();
    let dc = localdc_util::start_with_media("download-links", 3, &[], &list);
    let session = login(&dc);
    let media = dc.dir.join("media");
    let out = tgmux(&["local-dc", "--media", s(&media), "--links"]);
    let links: Vec<(String, String)> = localdc_util::stdout(&out)
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    // Every kind of form is there.
    for form in [
        "https://t.me/chan/1",
        "https://t.me/chan/2?single",
        "https://t.me/s/chan/5",
        "https://t.me/forum/10/11",
        "https://t.me/chan/7?comment=100",
        "tg://resolve?domain=chan&post=6",
        "@chan/3",
    ] {
        assert!(links.iter().any(|(_, l)| l == form), "{form}: {links:?}");
    }
    assert!(links.iter().any(|(_, l)| l.starts_with("https://t.me/c/")));
    assert!(links
        .iter()
        .any(|(_, l)| l.starts_with("tg://privatepost?")));
    // A private forum's topic message: t.me/c/<id>/<topic>/<msg>.
    assert!(links
        .iter()
        .any(|(k, l)| k == "+club/topics/20/21.bin" && l.ends_with("/20/21")));
    let cache = dc.dir.join("data/metadata-cache.json");
    let keys: std::collections::HashSet<&str> = links.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), files.len(), "{keys:?}");
    for (i, (key, link)) in links.iter().enumerate() {
        let _ = std::fs::remove_file(&cache);
        let file = dc.dir.join(format!("out/{i}"));
        let out = download(&dc, &session, &[link, "-o", s(&file), "--json"]);
        assert!(
            out.status.success(),
            "{link}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = std::fs::read(media.join(key)).unwrap();
        assert!(std::fs::read(&file).unwrap() == want, "{link}: not {key}");
        assert_eq!(json_lines(&out)[0]["sha256"], sha256_hex(&want), "{link}");
    }

    // --album: an album link gives every item, `?single` only its own; a private album too,
    // its items named by their t.me/c/ links.
    let album = |link: &str, name: &str| {
        let _ = std::fs::remove_file(&cache);
        let dir = dc.dir.join(format!("album-{name}/"));
        let out = download(&dc, &session, &[link, "--album", "-o", s(&dir), "--json"]);
        assert!(
            out.status.success(),
            "{link}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut got: Vec<(String, String)> = json_lines(&out)
            .iter()
            .map(|l| {
                let path = Path::new(l["path"].as_str().unwrap());
                (
                    l["link"].as_str().unwrap().to_string(),
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                )
            })
            .collect();
        got.sort();
        got
    };
    let pair = |l: &str, f: &str| (l.to_string(), f.to_string());
    assert_eq!(
        album("https://t.me/chan/3", "public"),
        [
            pair("https://t.me/chan/2", "a.bin"),
            pair("https://t.me/chan/3", "b.mkv"),
            pair("https://t.me/chan/4", "4.jpg"),
        ]
    );
    assert_eq!(
        album("https://t.me/chan/3?single", "single"),
        [pair("https://t.me/chan/3?single", "b.mkv")]
    );
    let private = links
        .iter()
        .find(|(k, l)| k == "+secret/3/b.bin" && l.starts_with("tg://"))
        .map(|(_, l)| l.clone())
        .unwrap();
    let c = private
        .split("channel=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert_eq!(
        album(&private, "private"),
        [
            pair(&format!("https://t.me/c/{c}/3"), "a.bin"),
            pair(&format!("https://t.me/c/{c}/4"), "b.bin"),
        ]
    );
    for (dir, name, key) in [
        ("public", "a.bin", "chan/2/a.bin"),
        ("public", "b.mkv", "chan/2/b.mkv"),
        ("public", "4.jpg", "chan/2/c.jpg"),
        ("private", "b.bin", "+secret/3/b.bin"),
    ] {
        let got = std::fs::read(dc.dir.join(format!("album-{dir}/{name}"))).unwrap();
        assert!(got == std::fs::read(media.join(key)).unwrap(), "{key}");
    }
}

/// `stall=0.05`: one `upload.getFile` in twenty is never answered, on a connection that
/// stays open. The download still ends, in bounded time, identical.
#[test]
fn stalled_requests_do_not_hang_the_download() {
    // 64 parts on DC 2 (seed 5 stalls some of them there).
    let data = media_bytes(64 * MIB + 9, 61);
    let dir = localdc_util::scratch("download-stall-stats");
    let stats = dir.join("stats.json");
    let (dc, session) = setup(
        "stall",
        &[
            "--faults",
            "stall=0.05",
            "--seed",
            "5",
            "--stats-file",
            s(&stats),
        ],
        &[("2.bin", &data)],
    );
    let file = dc.dir.join("out.bin");
    let started = Instant::now();
    // tgmux() fails the test after 60 s; each stall costs about T (3-10 s).
    let out = download(&dc, &session, &["t.me/chan/2", "-o", s(&file)]);
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&file).unwrap() == data,
        "stalled download differs"
    );
    let st = localdc_util::stats_after(&stats, localdc_util::now_ms());
    let stalled = st["faults"]["stall"].as_u64().unwrap();
    assert!(stalled > 0, "no request stalled: {st}");
    assert!(
        took < Duration::from_secs(45),
        "{stalled} stalls took {took:?}"
    );
    eprintln!("{stalled} requests stalled, the download took {took:?}");
}

#[test]
fn bad_links_and_missing_messages_are_one_line_each() {
    let (dc, session) = setup("errors", &[], &[("1.txt", b"hello\n"), ("3.bin", b"three")]);
    let out_dir = dc.dir.join("out/");
    let out = download(
        &dc,
        &session,
        &[
            "not a link",
            "https://t.me/chan/2",
            "t.me/nosuchchannel/1",
            "t.me/chan/1",
            "t.me/chan",
            "-o",
            s(&out_dir),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines.iter().all(|l| l.starts_with("tgmux: error: ")),
        "{err}"
    );
    assert!(
        lines[0].starts_with("tgmux: error: not a link: ") && lines[0].contains("accepted links"),
        "{err}"
    );
    assert!(
        lines[1].contains("https://t.me/chan/2: message 2 does not exist"),
        "{err}"
    );
    assert!(
        lines[2].contains("t.me/nosuchchannel/1: no channel or group is called @nosuchchannel"),
        "{err}"
    );
    assert!(
        lines[3].contains("t.me/chan: a channel link needs --range"),
        "{err}"
    );
    // The good link still downloaded.
    assert_eq!(std::fs::read(out_dir.join("1.txt")).unwrap(), b"hello\n");

    // Not logged in: its own reason.
    let fresh = dc.dir.join("fresh/session");
    let out = download(&dc, &fresh, &["t.me/chan/1", "-o", s(&out_dir)]);
    localdc_util::one_line_error(&out, "not logged in");
    // Bad usage of -o.
    let out = download(&dc, &session, &["t.me/chan/1", "t.me/chan/3", "-o", "-"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o - takes one file"));
}

#[test]
fn channel_range_filters_and_skip_existing() {
    let a = media_bytes(2 * MIB + 7, 41);
    let (dc, session) = setup(
        "range",
        &[],
        &[
            ("1.mp4", &a),
            ("2.txt", b"two"),
            ("4.mkv", b"four"),
            ("5.bin", b"five!"),
        ],
    );
    let out_dir = dc.dir.join("out/");
    let out = download(
        &dc,
        &session,
        &[
            "t.me/chan",
            "--range",
            "1-6",
            "-o",
            s(&out_dir),
            "--exclude",
            "bin",
            "--template",
            "{channel}/{msg}_{name}",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(out_dir.join("chan/1_1.mp4")).unwrap() == a);
    assert_eq!(std::fs::read(out_dir.join("chan/2_2.txt")).unwrap(), b"two");
    assert_eq!(
        std::fs::read(out_dir.join("chan/4_4.mkv")).unwrap(),
        b"four"
    );
    assert!(!out_dir.join("chan/5_5.bin").exists());
    let err = String::from_utf8_lossy(&out.stderr);
    let skipped: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("tgmux: skipped"))
        .collect();
    assert_eq!(skipped.len(), 1, "{err}");
    for what in ["3 (missing)", "5 (filtered: --exclude)", "6 (missing)"] {
        assert!(skipped[0].contains(what), "{what}: {err}");
    }
    // Renamed afterwards: --skip-existing still knows it by document id.
    std::fs::rename(
        out_dir.join("chan/1_1.mp4"),
        out_dir.join("chan/renamed.mp4"),
    )
    .unwrap();
    let out = download(
        &dc,
        &session,
        &[
            "t.me/chan/1",
            "-o",
            s(&out_dir),
            "--skip-existing",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(json_lines(&out).is_empty(), "nothing downloaded");
    assert!(!out_dir.join("1.mp4").exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already at"));
    // Without it the file is fetched again.
    let out = download(
        &dc,
        &session,
        &["t.me/chan/1", "-o", s(&out_dir), "--min-size", "1K"],
    );
    assert!(out.status.success());
    assert!(std::fs::read(out_dir.join("1.mp4")).unwrap() == a);
}

#[test]
fn cdn_redirects_with_reuploads_give_identical_files() {
    let big = media_bytes(9 * MIB + 333, 51);
    let small = media_bytes(1000, 52);
    let (dc, session) = setup(
        "cdn",
        &["--cdn", "--faults", "reupload=0.3", "--seed", "3"],
        &[("1.mkv", &big), ("2.bin", &small)],
    );
    let out_dir = dc.dir.join("out/");
    let mut args = vec![
        "--dc-config",
        s(&dc.config),
        "--session",
        s(&session),
        "-v",
        "download",
    ];
    args.extend(["t.me/chan/1", "t.me/chan/2", "-o", s(&out_dir)]);
    let out = tgmux(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        std::fs::read(out_dir.join("1.mkv")).unwrap() == big,
        "1.mkv differs"
    );
    assert_eq!(std::fs::read(out_dir.join("2.bin")).unwrap(), small);
    // The large document came through the CDN, the small one (not redirected) did not.
    let line = |link: &str| {
        err.lines()
            .find(|l| l.contains(link))
            .unwrap_or_else(|| panic!("{err}"))
            .to_string()
    };
    assert!(line("t.me/chan/1:").contains("from a CDN"), "{err}");
    assert!(!line("t.me/chan/2:").contains("from a CDN"), "{err}");
}
