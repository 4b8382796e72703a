//! The session file on disk: round trip, mode 0600, atomic replace, corrupt files rejected.

use std::os::unix::fs::PermissionsExt;

use tgmux::net::session_file::{load, save, LoggedIn, SessionData, SessionFileError};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tgmux-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sample() -> SessionData {
    let mut s = SessionData::new("dc-config:0011223344556677", 1);
    s.time_offset = 42;
    s.user = Some(LoggedIn {
        user_id: 777,
        bot: false,
    });
    let dc = s.dc_mut(1);
    dc.auth_key = Some([0xA5; 256]);
    dc.authorized = true;
    dc.server_salt = 99;
    s.dc_mut(3).auth_key = Some([0x5A; 256]);
    s
}

#[test]
fn round_trip_mode_0600_and_replace() {
    let dir = temp_dir("sessfile");
    // A nested directory that does not exist yet is created (mode 0700).
    let path = dir.join("sub/session");
    assert!(
        load(&path).unwrap().is_none(),
        "a missing file is no session, not an error"
    );
    let s = sample();
    save(&path, &s).unwrap();
    assert_eq!(load(&path).unwrap(), Some(s.clone()));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "session file mode {mode:o}");
    let dmode = std::fs::metadata(dir.join("sub"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dmode, 0o700, "session dir mode {dmode:o}");

    // Replacing keeps 0600 and leaves no temporary files behind.
    let mut s2 = s.clone();
    s2.forget_login();
    save(&path, &s2).unwrap();
    assert_eq!(load(&path).unwrap(), Some(s2));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let names: Vec<_> = std::fs::read_dir(dir.join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("session")]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_files_are_a_clear_error() {
    let dir = temp_dir("sesscorrupt");
    let path = dir.join("session");
    save(&path, &sample()).unwrap();
    let good = std::fs::read(&path).unwrap();

    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n / 2] ^= 1;
    for bad in [
        b"garbage".to_vec(),
        good[..good.len() - 1].to_vec(),
        flipped,
        Vec::new(),
    ] {
        std::fs::write(&path, &bad).unwrap();
        let err = load(&path).unwrap_err();
        assert!(matches!(err, SessionFileError::Corrupt { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            !msg.contains('\n') && msg.contains("corrupt") && msg.contains("session"),
            "{msg}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_updates_lose_nothing() {
    use tgmux::net::session_file::update;
    let dir = temp_dir("sessfile-concurrent");
    let path = dir.join("session");
    let network = "dc-config:0011223344556677";
    // Eight writers, 25 changes each, every one a read-modify-write of the file: each writer
    // counts in its own DC's salt, and all of them in the clock offset.
    let writers: Vec<_> = (1..=8)
        .map(|id| {
            let path = path.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    update(
                        &path,
                        network,
                        || SessionData::new(network, 1),
                        |s| {
                            s.dc_mut(id).server_salt += 1;
                            s.time_offset += 1;
                        },
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let s = load(&path).unwrap().unwrap();
    assert_eq!(s.time_offset, 200);
    assert!(s.dcs.iter().all(|d| d.server_salt == 25) && s.dcs.len() == 8);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let lock = std::fs::metadata(dir.join(".session.lock")).unwrap();
    assert_eq!(lock.permissions().mode() & 0o777, 0o600);
    // A file of another network is refused and left as it is.
    let e = update(
        &path,
        "production",
        || SessionData::new("production", 2),
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, SessionFileError::OtherNetwork { .. }), "{e}");
    assert_eq!(load(&path).unwrap().unwrap(), s);
    std::fs::remove_dir_all(&dir).unwrap();
}
