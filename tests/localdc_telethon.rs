//! Telethon 1.44.0 (an independent client) logs in and downloads through `tgmux local-dc`.
//!
//! Python comes from `TGMUX_PYTHON` (scripts/test makes a venv with telethon==1.44.0 and
//! cryptg). Without it the tests skip with a note, except under `CI=true` where that fails.

mod localdc_util;

use std::path::Path;
use std::process::Command;

use localdc_util::{media_bytes, LocalDc};
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
