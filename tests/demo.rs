//! `tgmux demo`: the whole pipeline in one process on loopback (local DC, bot login, download
//! with remux, checks), leaving nothing behind in the user's directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Empty HOME, XDG and TMPDIR directories for one run, under CARGO_TARGET_TMPDIR.
fn user_dirs(name: &str) -> (PathBuf, Vec<(&'static str, PathBuf)>) {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("demo-{name}"));
    let _ = std::fs::remove_dir_all(&root);
    let vars: Vec<(&str, PathBuf)> = [
        "HOME",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "XDG_STATE_HOME",
        "TMPDIR",
    ]
    .into_iter()
    .map(|v| (v, root.join(v.to_ascii_lowercase())))
    .collect();
    for (_, d) in &vars {
        std::fs::create_dir_all(d).unwrap();
    }
    (root, vars)
}

fn demo(cwd: &Path, vars: &[(&str, PathBuf)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgmux"));
    cmd.arg("demo").args(args).current_dir(cwd);
    for (v, d) in vars {
        cmd.env(v, d);
    }
    cmd.output().expect("run tgmux demo")
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn demo_downloads_remuxes_and_checks_and_leaves_nothing_behind() {
    let (root, vars) = user_dirs("no-serve");
    let out = demo(&root, &vars, &["--no-serve", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["local_dc"]["dcs"], 3, "{v}");
    let video = &v["video"];
    assert_eq!(video["link"], "t.me/demo/1");
    assert_eq!(video["sha256_ok"], true, "{v}");
    assert_eq!(video["packets_equal"], true, "{v}");
    assert!(video["mkv_packets"].as_u64().unwrap() > 100, "{v}");
    assert_eq!(video["mkv_packets"], video["mp4_packets"]);
    assert!(video["size"].as_u64().unwrap() < 1 << 20, "{v}");
    let file = &v["file"];
    assert_eq!(file["size"], 64 << 20);
    assert_eq!(file["sha256_ok"], true, "{v}");
    assert!(file["mib_per_second"].as_f64().unwrap() > 0.0);
    assert!(v["serve"].is_null());
    // The scratch directory was made under TMPDIR and removed; nothing else was written.
    let work = v["work_dir"].as_str().unwrap();
    assert!(work.starts_with(vars[5].1.to_str().unwrap()), "{work}");
    assert!(!Path::new(work).exists(), "{work} is left behind");
    for (var, dir) in &vars {
        assert!(
            entries(dir).is_empty(),
            "{var} {}: {:?}",
            dir.display(),
            entries(dir)
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn demo_prints_a_few_human_lines() {
    let (root, vars) = user_dirs("human");
    let out = demo(&root, &vars, &["--no-serve"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().count() <= 8, "{stdout}");
    for word in [
        "local DC",
        "logged in",
        "t.me/demo/1",
        "MiB/s",
        "all checks passed",
    ] {
        assert!(stdout.contains(word), "no {word:?} in:\n{stdout}");
    }
    for (var, dir) in &vars {
        assert!(entries(dir).is_empty(), "{var}: {:?}", entries(dir));
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn demo_serves_on_loopback_only() {
    let (root, vars) = user_dirs("listen");
    let out = demo(&root, &vars, &["--listen", "0.0.0.0:8080"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("tgmux: error: demo: --listen 0.0.0.0:8080"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}
