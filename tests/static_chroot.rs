//! The static binary on a bare host: `scripts/build-static`'s executable, alone in an empty
//! directory, runs `tgmux demo --no-serve` under `chroot` (no /etc, no /lib, no /tmp, no
//! environment) and leaves the directory as it found it.
//!
//! scripts/test builds the binary and names it in TGMUX_STATIC_BIN. Without it, or without
//! root for chroot, the test is skipped with a note, and fails under CI=true.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the demo may take in the chroot.
const LIMIT: Duration = Duration::from_secs(180);

/// Skips (or fails under CI=true) with `why`.
fn missing(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    eprintln!("static_chroot: skipped: {why}");
}

#[test]
fn the_static_binary_runs_the_demo_alone_in_a_chroot() {
    let Some(bin) = std::env::var_os("TGMUX_STATIC_BIN").map(PathBuf::from) else {
        missing("TGMUX_STATIC_BIN is not set (scripts/test sets it after scripts/build-static)");
        return;
    };
    assert!(
        bin.is_file(),
        "TGMUX_STATIC_BIN={} is no file",
        bin.display()
    );
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        missing("chroot needs root");
        return;
    }
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("static-chroot");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(&bin, root.join("tgmux")).unwrap();

    // Found here, since the demo runs with an empty environment (no PATH).
    let path = std::env::var_os("PATH").unwrap_or_default();
    let Some(chroot) = std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join("chroot"))
        .find(|p| p.is_file())
    else {
        missing("no chroot command");
        return;
    };
    let mut child = Command::new(chroot)
        .arg(&root)
        .args(["/tgmux", "demo", "--no-serve", "--json"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run chroot");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("the demo took more than {LIMIT:?} in the chroot");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["video"]["sha256_ok"], true, "{v}");
    assert_eq!(v["video"]["packets_equal"], true, "{v}");
    assert_eq!(v["file"]["sha256_ok"], true, "{v}");
    // No /tmp in there: the scratch directory went into the current directory, the root.
    let work = v["work_dir"].as_str().unwrap();
    assert!(work.starts_with("/tgmux-demo-"), "{work}");
    let left: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["tgmux"], "the chroot holds more than the binary");
    eprintln!(
        "static_chroot: demo in {:.1} s, 64 MiB at {:.0} MiB/s",
        v["seconds"].as_f64().unwrap_or(0.0),
        v["file"]["mib_per_second"].as_f64().unwrap_or(0.0)
    );
    std::fs::remove_dir_all(&root).unwrap();
}
