//! The embedded store file: state survives a restart, damage is a one-line error naming the
//! file, a half-written last record is cut off, a second process is locked out, and the log
//! is compacted.

mod store_util;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use bytes::Bytes;
use store_util::scratch;
use tgmux::store::{Status, Store, StoreError, AUTH_KEY_LEN};

fn open_err(path: &std::path::Path) -> String {
    let e = Store::open_file(path).unwrap_err().to_string();
    assert!(!e.contains('\n'), "one line: {e}");
    assert!(
        e.contains(&path.display().to_string()),
        "names the file: {e}"
    );
    e
}

#[tokio::test]
async fn a_restart_keeps_flood_deadlines_resolutions_and_auth_keys() {
    let dir = scratch("file-restart");
    let path = dir.join("sub/store");
    let (until, key) = {
        let s = Store::open_file(&path).unwrap();
        assert_eq!(s.status(), Status::Local);
        let until = s.note_flood("main", 2, Duration::from_secs(3600)).unwrap();
        s.note_flood("bot2", 4, Duration::from_secs(600)).unwrap();
        s.put_resolution(
            "main",
            "https://t.me/c/1/2",
            Bytes::from_static(b"doc location"),
            Duration::from_secs(3600),
        )
        .unwrap();
        s.put_resolution(
            "main",
            "gone",
            Bytes::from_static(b"x"),
            Duration::from_secs(3600),
        )
        .unwrap();
        s.forget_resolution("main", "gone").unwrap();
        let key = s
            .offer_auth_key("main", 2, &[7; AUTH_KEY_LEN])
            .await
            .unwrap();
        (until, key)
        // Dropped here: the writer drains its queue and stops.
    };
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the file holds auth keys");
    let s = Store::open_file(&path).unwrap();
    assert_eq!(s.flood_until("main", 2), Some(until));
    assert!(s.flood_until("bot2", 4).is_some());
    assert_eq!(s.flood_until("main", 4), None);
    assert_eq!(
        s.resolution("main", "https://t.me/c/1/2").as_deref(),
        Some(&b"doc location"[..])
    );
    assert_eq!(
        s.resolution("main", "gone"),
        None,
        "the forget was kept too"
    );
    assert_eq!(s.auth_key("main", 2), Some(key));
    // A second offer after the restart adopts the stored key.
    let again = s
        .offer_auth_key("main", 2, &[9; AUTH_KEY_LEN])
        .await
        .unwrap();
    assert_eq!(again[0], 7);
}

#[test]
fn a_damaged_file_is_a_one_line_error_naming_it() {
    let dir = scratch("file-corrupt");
    let path = dir.join("store");
    std::fs::write(&path, b"this is not a store file at all").unwrap();
    let e = open_err(&path);
    assert!(e.contains("is corrupt (not a tgmux store file"), "{e}");

    // A real file with a flipped byte in its first record (not the last one).
    std::fs::remove_file(&path).unwrap();
    {
        let s = Store::open_file(&path).unwrap();
        s.note_flood("a", 1, Duration::from_secs(3600)).unwrap();
        s.note_flood("a", 2, Duration::from_secs(3600)).unwrap();
    }
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    bad[12 + 8 + 2] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    let e = open_err(&path);
    assert!(e.contains("checksum mismatch at byte 12"), "{e}");
    // Nothing was changed: the file is left for the user to look at.
    assert_eq!(std::fs::read(&path).unwrap(), bad);

    // A half-written last record (a crash mid-append) is cut off; the rest is kept.
    std::fs::write(&path, &good[..good.len() - 5]).unwrap();
    let s = Store::open_file(&path).unwrap();
    assert!(s.flood_until("a", 1).is_some());
    assert_eq!(s.flood_until("a", 2), None);
    drop(s);

    // A directory where the file should be.
    let e = open_err(&dir);
    assert!(e.starts_with("store file "), "{e}");
}

#[test]
fn a_second_process_is_locked_out() {
    let dir = scratch("file-locked");
    let path = dir.join("store");
    let first = Store::open_file(&path).unwrap();
    let e = Store::open_file(&path).unwrap_err();
    assert_eq!(e, StoreError::Locked(path.clone()));
    let msg = e.to_string();
    assert!(msg.contains("in use by another tgmux process") && !msg.contains('\n'));
    drop(first);
    Store::open_file(&path).unwrap();
}

#[tokio::test]
async fn the_log_is_compacted() {
    let dir = scratch("file-compact");
    let path = dir.join("store");
    let s = Store::open_file(&path).unwrap();
    // 5000 ever later deadlines for one slot: 5000 records, one of them live.
    for i in 0..5000u64 {
        s.note_flood("a", 2, Duration::from_secs(3600 + i)).unwrap();
    }
    s.flush().await;
    let until = s.flood_until("a", 2).unwrap();
    drop(s);
    // One record is ~40 bytes: uncompacted that is ~200 KB; compaction leaves at most the
    // slack (1024 records) after the last rewrite.
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len < 1100 * 45, "{len} bytes");
    let s = Store::open_file(&path).unwrap();
    assert_eq!(s.flood_until("a", 2), Some(until));
}

#[test]
fn the_documented_layout_is_what_we_read() {
    // fuzz/make_seeds.py writes a store file from docs/scale.md's layout in Python (its own
    // SHA-256 and packing): our reader must take it as written.
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/store_file");
    let log = std::fs::read(seeds.join("log")).unwrap();
    let r = tgmux::store::file::replay(&log).unwrap();
    assert_eq!((r.records, r.torn), (4, false));
    assert_eq!(r.maps.flood_until("main", 2, 0), Some(1_700_000_000_123));
    assert_eq!(
        r.maps
            .resolution("bot-2", "https://t.me/c/1/2", 0)
            .as_deref(),
        Some(&b"loc"[..])
    );
    assert_eq!(r.maps.auth_key("main", 4).map(|k| k[255]), Some(255));
    let torn = tgmux::store::file::replay(&std::fs::read(seeds.join("torn")).unwrap()).unwrap();
    assert_eq!((torn.records, torn.torn), (3, true));
}
