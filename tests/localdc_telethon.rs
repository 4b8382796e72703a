//! Telethon 1.44.0 (an independent client) logs in and downloads through `tgmux local-dc`.
//!
//! Python comes from `TGMUX_PYTHON` (scripts/test makes a venv with telethon==1.44.0 and
//! cryptg). Without it the tests skip with a note, except under `CI=true` where that fails.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

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

/// A base port with `n` free consecutive ports after it.
fn free_ports(n: u16) -> u16 {
    for _ in 0..200 {
        let base = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if base > 65000 {
            continue;
        }
        let all: Vec<_> = (0..n)
            .map(|i| TcpListener::bind(("127.0.0.1", base + i)))
            .collect();
        if all.iter().all(Result::is_ok) {
            return base;
        }
    }
    panic!("no {n} consecutive free ports");
}

struct Dc {
    child: Child,
    config: PathBuf,
    dir: PathBuf,
}

impl Drop for Dc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Deterministic pseudo-random bytes (xorshift), so the media need not be checked in.
fn media_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn start_dc(name: &str, extra: &[&str]) -> Dc {
    let dir = std::env::temp_dir().join(format!("tgmux-localdc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("media/chan")).unwrap();
    std::fs::write(
        dir.join("media/chan/2.mp4"),
        media_bytes(3 * 1024 * 1024 + 12345, 2),
    )
    .unwrap();
    std::fs::write(dir.join("media/chan/4.txt"), b"hello from DC 1\n").unwrap();
    let config = dir.join("dc.toml");
    let port = free_ports(4); // DCs 1..=3, and the CDN DC on the fourth with --cdn
    let child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(["-v", "local-dc", "--media"])
        .arg(dir.join("media"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--dcs",
            "3",
            "--write-config",
        ])
        .arg(&config)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tgmux local-dc");
    let mut dc = Dc { child, config, dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dc.config.exists() {
        if let Some(status) = dc.child.try_wait().unwrap() {
            let mut err = String::new();
            for line in BufReader::new(dc.child.stderr.take().unwrap())
                .lines()
                .map_while(Result::ok)
            {
                err.push_str(&line);
                err.push('\n');
            }
            panic!("local-dc exited with {status}: {err}");
        }
        assert!(
            Instant::now() < deadline,
            "local-dc did not write its config in time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Keep draining stderr so the server never blocks on a full pipe; echo it for debugging.
    let err = dc.child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("[local-dc] {line}");
        }
    });
    dc
}

fn sha256_hex(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs the Telethon script; returns its JSON line.
fn telethon(py: &str, dc: &Dc, args: &[&str]) -> String {
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

fn assert_download(json: &str, dc: &Dc) {
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
