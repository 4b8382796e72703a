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

/// One HTTP/1.1 GET to `addr`; the whole answer (head and body) as bytes.
fn get(addr: &str, path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    answer
}

#[test]
fn demo_serves_the_video_until_ctrl_c_then_cleans_up() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let (root, vars) = user_dirs("serve");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgmux"));
    cmd.args(["demo", "--listen", "127.0.0.1:0"])
        .current_dir(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (v, d) in &vars {
        cmd.env(v, d);
    }
    let mut child = cmd.spawn().unwrap();
    // Bounded: a demo still running after 120 s is killed (and the test then fails).
    let pid = child.id().to_string();
    let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog = ended.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(120));
        if !watchdog.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base = None;
    let mut watch = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("serving on ") {
            base = rest.split_whitespace().next().map(str::to_string);
        }
        if let Some(url) = line.trim().strip_prefix("in a browser") {
            watch = Some(url.trim().to_string());
            break;
        }
    }
    let base = base.expect("a serving line");
    assert_eq!(watch.unwrap(), format!("{base}/watch/demo/1"));
    let addr = base.strip_prefix("http://").unwrap();
    let page = get(addr, "/watch/demo/1");
    assert!(
        page.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&page)
    );
    let mp4 = get(addr, "/demo/1.mp4");
    assert!(mp4.starts_with(b"HTTP/1.1 200"));
    assert!(mp4.windows(4).any(|w| w == b"ftyp") && mp4.len() > 40_000);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let code = child.wait().unwrap().code();
    ended.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(code, Some(0), "after Ctrl-C: {rest:?}");
    assert!(rest.iter().any(|l| l.starts_with("stopped")), "{rest:?}");
    for (var, dir) in &vars {
        assert!(entries(dir).is_empty(), "{var}: {:?}", entries(dir));
    }
    std::fs::remove_dir_all(&root).unwrap();
}
