//! Telethon 1.44.0 (an independent client) logs in and downloads through `tgmux local-dc`.
//!
//! Python comes from `TGMUX_PYTHON` (scripts/test makes a venv with telethon==1.44.0 and
//! cryptg). Without it the tests skip with a note, except under `CI=true` where that fails.

mod localdc_util;

use std::path::Path;
use std::process::Command;

use localdc_util::{media_bytes, LocalDc};
use sha2::{Digest, Sha256};
use tgmux::localdc::ids;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/telethon/download.py");

/// The Python with Telethon, or None (after a note) when missing outside CI.
fn python() -> Option<String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let missing = |why: String| {
        if ci {
            panic!("CI=true but the Telethon oracle is missing: {why}");
        }
        eprintln!("note: skipping Telethon test: {why}");
        None
    };
    let Ok(py) = std::env::var("TGMUX_PYTHON") else {
        return missing("TGMUX_PYTHON is not set".into());
    };
    let out = Command::new(&py)
        .args(["-c", "import telethon, cryptg; print(telethon.__version__)"])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let v = String::from_utf8_lossy(&o.stdout).trim().to_string();
            assert_eq!(v, "1.44.0", "the oracle must be Telethon 1.44.0");
            Some(py)
        }
        Ok(o) => missing(format!(
            "{py} cannot import telethon/cryptg: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => missing(format!("{py}: {e}")),
    }
}

/// The library every Telethon test downloads from: a 3 MiB document on DC 2 (message 2) and a
/// small one on DC 1 (message 4), three DCs plus room for the CDN DC.
fn start_dc(name: &str, extra: &[&str]) -> LocalDc {
    let big = media_bytes(3 * 1024 * 1024 + 12345, 2);
    localdc_util::start_with_files(
        &format!("telethon-{name}"),
        3,
        extra,
        &[("2.mp4", &big), ("4.txt", b"hello from DC 1\n")],
    )
}

fn sha256_hex(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs the Telethon script; returns its JSON line.
fn telethon(py: &str, dc: &LocalDc, args: &[&str]) -> String {
    let out = Command::new(py)
        .arg(SCRIPT)
        .arg("--config")
        .arg(&dc.config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "Telethon failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The value of `"key": value` in Telethon's JSON line (our script prints flat objects).
fn field<'j>(json: &'j str, key: &str) -> &'j str {
    let at = json
        .find(&format!("\"{key}\": "))
        .unwrap_or_else(|| panic!("no {key} in {json}"))
        + key.len()
        + 4;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].trim_matches('"')
}

fn assert_download(json: &str, dc: &LocalDc) {
    let want = sha256_hex(&dc.dir.join("media/chan/2.mp4"));
    assert!(json.contains(&format!("\"sha256\": \"{want}\"")), "{json}");
    assert!(
        json.contains("\"dc_id\": 2"),
        "message 2 lives on DC 2: {json}"
    );
}

#[test]
fn telethon_bot_downloads_over_every_transport() {
    let Some(py) = python() else { return };
    let dc = start_dc("transports", &[]);
    for transport in ["full", "intermediate", "abridged", "obfuscated"] {
        let json = telethon(
            &py,
            &dc,
            &[
                "--transport",
                transport,
                "--bot-token",
                "123:abc",
                "--channel",
                "chan",
                "--msg-id",
                "2",
            ],
        );
        assert_download(&json, &dc);
        assert!(
            json.contains("\"bot\": true") && json.contains("\"user_id\": 123"),
            "{json}"
        );
    }
}

#[test]
fn telethon_downloads_despite_bad_server_salts() {
    let Some(py) = python() else { return };
    let dc = start_dc("salt", &["--faults", "salt=0.2", "--seed", "7"]);
    let json = telethon(
        &py,
        &dc,
        &[
            "--transport",
            "intermediate",
            "--bot-token",
            "42:x",
            "--channel",
            "chan",
            "--msg-id",
            "2",
        ],
    );
    assert_download(&json, &dc);
}

#[test]
fn telethon_user_login_with_two_factor_password() {
    let Some(py) = python() else { return };
    let dc = start_dc("2fa", &["--password", "hunter2"]);
    let json = telethon(
        &py,
        &dc,
        &[
            "--transport",
            "abridged",
            "--phone",
            "9996621234",
            "--password",
            "hunter2",
            "--channel",
            "chan",
            "--msg-id",
            "2",
        ],
    );
    assert_download(&json, &dc);
    assert!(json.contains("\"bot\": false"), "{json}");
}

/// Telethon 1.44 never sets `cdn_supported` in `upload.getFile`, so with `--cdn` (and a
/// CDN that always asks for reuploads) it still gets the bytes from the home DC, as on
/// Telegram; a server redirecting regardless would break its download.
#[test]
fn telethon_downloads_with_cdn_on() {
    let Some(py) = python() else { return };
    let dc = start_dc("cdn", &["--cdn", "--faults", "reupload=1"]);
    let json = telethon(
        &py,
        &dc,
        &[
            "--bot-token",
            "123:abc",
            "--channel",
            "chan",
            "--msg-id",
            "2",
        ],
    );
    assert_download(&json, &dc);
}

/// Every kind of message local-dc serves (a document, a photo, an album item, a comment from
/// the linked discussion group, a private channel's message found through the dialogs, a forum
/// topic's message), each downloaded by Telethon and compared with its file; then the stats
/// file counts the parts Telethon fetched (128 KiB each for files under 100 MB).
#[test]
fn telethon_downloads_every_kind() {
    let Some(py) = python() else { return };
    // A JPEG start (SOI, SOF0 64 x 48) and noise: Telethon does not decode what it downloads.
    let mut jpeg = vec![0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 48, 0, 64, 3];
    jpeg.extend(media_bytes(300_000, 5));
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("chan/2.mp4", media_bytes(3 * 1024 * 1024 + 12345, 2)),
        ("chan/5.jpg", jpeg),
        ("chan/6/a.bin", media_bytes(200_001, 6)),
        ("chan/6/b.bin", media_bytes(150_000, 7)),
        ("chan/2.comments/10.bin", media_bytes(140_000, 10)),
        ("+secret/3.bin", media_bytes(400_000, 3)),
        ("forum/topics/7/8.bin", media_bytes(99_999, 8)),
    ];
    let stats = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("telethon-kinds.json");
    let list: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_slice())).collect();
    let dc = localdc_util::start_with_media(
        "telethon-kinds",
        3,
        &["--stats-file", stats.to_str().unwrap()],
        &list,
    );
    // (script arguments, file, kind, grouped_id, topic, chat directory)
    let album = ids::album_id("chan", 6).to_string();
    let cases = [
        (
            "--channel chan --msg-id 2",
            "chan/2.mp4",
            "document",
            "null",
            "null",
            "chan",
        ),
        (
            "--channel chan --msg-id 5",
            "chan/5.jpg",
            "photo",
            "null",
            "null",
            "chan",
        ),
        (
            "--channel chan --msg-id 7",
            "chan/6/b.bin",
            "document",
            &album,
            "null",
            "chan",
        ),
        (
            "--channel chan --msg-id 2 --comment 10",
            "chan/2.comments/10.bin",
            "document",
            "null",
            "null",
            "chan.comments",
        ),
        (
            "--private secret --msg-id 3",
            "+secret/3.bin",
            "document",
            "null",
            "null",
            "+secret",
        ),
        (
            "--channel forum --msg-id 8",
            "forum/topics/7/8.bin",
            "document",
            "null",
            "7",
            "forum",
        ),
    ];
    for (args, path, kind, grouped, topic, chat) in cases {
        let mut all = vec!["--bot-token", "123:abc"];
        all.extend(args.split(' '));
        let json = telethon(&py, &dc, &all);
        let want = sha256_hex(&dc.dir.join("media").join(path));
        assert_eq!(field(&json, "sha256"), want, "{path}: {json}");
        assert_eq!(field(&json, "kind"), kind, "{path}: {json}");
        assert_eq!(field(&json, "grouped_id"), grouped, "{path}: {json}");
        assert_eq!(field(&json, "topic"), topic, "{path}: {json}");
        let chat_id = ids::channel_id(chat).to_string();
        assert_eq!(field(&json, "chat_id"), chat_id, "{path}: {json}");
    }
    // The counts of the file written after the last download, as Python's json reads them.
    let done_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let script = "import json,sys; j=json.load(open(sys.argv[1])); \
                  d=j['documents']['+secret/3.bin']; print(j['written_at_ms'], d['parts'], d['bytes'])";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let out = Command::new(&py)
            .args(["-c", script])
            .arg(&stats)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let v: Vec<u128> = text
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() == 3 && v[0] > done_ms {
            assert_eq!(
                (v[1], v[2]),
                (400_000u128.div_ceil(131_072), 400_000),
                "{text}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stats not rewritten: {text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
