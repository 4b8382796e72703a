//! `tgmux local-dc` start-up: bad flags are one-line errors with a non-zero exit, never a
//! panic or a hang; a good start writes a DC config that `DcConfig` reads and whose ports
//! accept connections; `--listen ADDR:0` gives every DC a port of its own; the RSA key is kept
//! across restarts and may be an OpenSSL 3 (PKCS#8) key; media entries that are not served are
//! each named in one warning.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tgmux::dcconfig::DcConfig;

fn tgmux(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn one_line_error(out: &std::process::Output, needle: &str) {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(
        lines[0].starts_with("tgmux: error: ") && lines[0].contains(needle),
        "{err}"
    );
}

#[test]
fn bad_flags_are_one_line_errors() {
    let dir = std::env::temp_dir().join(format!("tgmux-localdc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let media = dir.to_str().unwrap();
    one_line_error(
        &tgmux(&["local-dc", "--media", media, "--faults", "flood=2"]),
        "--faults",
    );
    one_line_error(
        &tgmux(&["local-dc", "--media", media, "--faults", "bogus"]),
        "unknown fault `bogus`",
    );
    one_line_error(
        &tgmux(&[
            "local-dc",
            "--media",
            "/nonexistent/tgmux",
            "--listen",
            "127.0.0.1:1",
        ]),
        "--media",
    );
    one_line_error(
        &tgmux(&["local-dc", "--media", media, "--dcs", "0"]),
        "--dcs",
    );
    std::fs::write(dir.join("key.pem"), "not a key").unwrap();
    one_line_error(
        &tgmux(&[
            "local-dc",
            "--media",
            media,
            "--rsa-key",
            dir.join("key.pem").to_str().unwrap(),
        ]),
        "--rsa-key",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn writes_a_readable_config_and_listens() {
    let dir = std::env::temp_dir().join(format!("tgmux-localdc-cfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("media/chan")).unwrap();
    let config = dir.join("dc.toml");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(["local-dc", "--dcs", "2", "--media"])
        .arg(dir.join("media"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--write-config"])
        .arg(&config)
        .env("XDG_DATA_HOME", &dir)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !config.exists() {
        assert!(child.try_wait().unwrap().is_none(), "local-dc exited early");
        assert!(Instant::now() < deadline, "no config written");
        std::thread::sleep(Duration::from_millis(50));
    }
    let c = DcConfig::read(&config).unwrap();
    assert_eq!(
        c.dcs.iter().map(|d| (d.id, d.port)).collect::<Vec<_>>(),
        vec![(1, port), (2, port + 1)]
    );
    assert!(tgmux::crypto::RsaPublicKey::from_pkcs1_pem(&c.rsa_public_keys[0]).is_ok());
    for d in &c.dcs {
        std::net::TcpStream::connect(d.addr()).unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `tgmux local-dc` run in the background: killed on drop.
struct Running {
    child: Child,
    /// The stderr lines printed up to the DC config appearing.
    banner: Vec<String>,
    config: DcConfig,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory under the target dir, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("localdc-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("media")).unwrap();
    dir
}

/// Starts local-dc with `dcs` DCs on free ports (`--listen 127.0.0.1:0`) over `dir/media`
/// with `XDG_DATA_HOME=dir/data`, writing `dir/dc.toml`, and waits for the config and the
/// banner.
fn start(dir: &Path, dcs: u8, extra: &[&str]) -> Running {
    let config = dir.join("dc.toml");
    let _ = std::fs::remove_file(&config);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args([
            "local-dc",
            "--listen",
            "127.0.0.1:0",
            "--dcs",
            &dcs.to_string(),
        ])
        .arg("--media")
        .arg(dir.join("media"))
        .arg("--write-config")
        .arg(&config)
        .args(extra)
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut banner = Vec::new();
    while !config.exists() {
        banner.extend(rx.try_iter());
        if let Some(status) = child.try_wait().unwrap() {
            panic!("local-dc exited with {status}: {banner:?}");
        }
        assert!(Instant::now() < deadline, "no config written: {banner:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The banner follows the config file by a few lines, the summary last.
    while !banner.iter().any(|l| l.contains(" documents in ")) {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(l) => banner.push(l),
            Err(e) => panic!("no banner ({e}): {banner:?}"),
        }
    }
    let config = DcConfig::read(&config).unwrap();
    Running {
        child,
        banner,
        config,
    }
}

#[test]
fn port_zero_gives_every_dc_its_own_free_port() {
    let dir = scratch("port0");
    let dc = start(&dir, 3, &["--cdn"]);
    let ports: Vec<u16> = dc.config.dcs.iter().map(|d| d.port).collect();
    assert_eq!(
        dc.config.dcs.iter().map(|d| d.id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let mut distinct = ports.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{ports:?}");
    assert!(ports.iter().all(|&p| p > 1024), "{ports:?}");
    for d in &dc.config.dcs {
        std::net::TcpStream::connect(d.addr()).unwrap();
    }
    let line = dc
        .banner
        .iter()
        .find(|l| l.contains(" DCs 1..=3 on "))
        .unwrap();
    for p in &ports {
        assert!(line.contains(&p.to_string()), "{line}");
    }
    let cdn = dc
        .banner
        .iter()
        .find(|l| l.contains("CDN DC 201 on "))
        .unwrap();
    let cdn_port: u16 = cdn
        .split("CDN DC 201 on ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{cdn}"));
    assert!(cdn_port > 1024 && !ports.contains(&cdn_port), "{cdn}");
    std::net::TcpStream::connect(("127.0.0.1", cdn_port)).unwrap();
}

#[test]
fn the_rsa_key_is_kept_across_restarts() {
    let dir = scratch("keep-key");
    let first = start(&dir, 1, &[]);
    let key = dir.join("data/tgmux/local-dc/rsa-key.pem");
    assert!(
        first
            .banner
            .iter()
            .any(|l| l.contains(key.to_str().unwrap()) && l.contains("new")),
        "{:?}",
        first.banner
    );
    let public = first.config.rsa_public_keys.clone();
    drop(first);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let second = start(&dir, 1, &[]);
    assert_eq!(
        second.config.rsa_public_keys, public,
        "same key after a restart"
    );
    assert!(
        !second.banner.iter().any(|l| l.contains("new")),
        "{:?}",
        second.banner
    );
    drop(second);
    // --rsa-key FILE chooses another key, made there once.
    let chosen = dir.join("chosen.pem");
    let third = start(&dir, 1, &["--rsa-key", chosen.to_str().unwrap()]);
    assert_ne!(third.config.rsa_public_keys, public);
    let made = third.config.rsa_public_keys.clone();
    drop(third);
    let fourth = start(&dir, 1, &["--rsa-key", chosen.to_str().unwrap()]);
    assert_eq!(fourth.config.rsa_public_keys, made);
}

/// `program` if `program ARG` runs, or None (after a note) when it is missing outside CI.
fn tool(program: &str, arg: &str) -> Option<String> {
    match Command::new(program).arg(arg).output() {
        Ok(o) if o.status.success() => Some(program.to_string()),
        other => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true but {program} is missing: {other:?}"
            );
            eprintln!("note: skipping: no {program}");
            None
        }
    }
}

#[test]
fn an_openssl3_pkcs8_key_is_accepted() {
    let Some(_) = tool("openssl", "version") else {
        return;
    };
    let dir = scratch("pkcs8");
    let key = dir.join("genrsa.pem");
    let out = Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&key)
        .arg("2048")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = std::fs::read_to_string(&key).unwrap();
    let pem = if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
        pem
    } else {
        // OpenSSL 1.x writes PKCS#1 by default: convert to PKCS#8 as OpenSSL 3 writes it.
        let out = Command::new("openssl")
            .args(["pkcs8", "-topk8", "-nocrypt", "-in"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(out.status.success());
        let pem = String::from_utf8(out.stdout).unwrap();
        std::fs::write(&key, &pem).unwrap();
        pem
    };
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    let public = Command::new("openssl")
        .args(["rsa", "-RSAPublicKey_out", "-in"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(public.status.success());
    let dc = start(&dir, 1, &["--rsa-key", key.to_str().unwrap()]);
    assert_eq!(
        dc.config.rsa_public_keys,
        [String::from_utf8(public.stdout).unwrap()],
        "the public half as openssl prints it"
    );
}

#[test]
fn every_media_entry_not_served_gets_one_warning_with_its_rule() {
    let dir = scratch("skipped");
    let media = dir.join("media");
    std::fs::create_dir_all(media.join("chan")).unwrap();
    std::fs::create_dir_all(media.join("bad name")).unwrap();
    for f in ["chan/abc.mkv", "chan/-1.mkv", "chan/1.mkv"] {
        std::fs::write(media.join(f), b"x").unwrap();
    }
    let dc = start(&dir, 1, &[]);
    let warnings: Vec<&String> = dc.banner.iter().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 3, "{:?}", dc.banner);
    for (entry, rule) in [
        ("bad name", "a channel directory is a username"),
        ("chan/-1.mkv", "msg_id a decimal number"),
        ("chan/abc.mkv", "msg_id a decimal number"),
    ] {
        let path = media.join(entry);
        let path = path.to_str().unwrap();
        let hits: Vec<_> = warnings
            .iter()
            .filter(|l| l.contains(&format!("{path}: ")))
            .collect();
        assert_eq!(hits.len(), 1, "{entry}: {warnings:?}");
        assert!(hits[0].contains(rule), "{entry}: {}", hits[0]);
    }
    assert!(
        dc.banner
            .iter()
            .any(|l| l.contains("1 documents in 1 channels")),
        "{:?}",
        dc.banner
    );
}

/// The Python that checks JSON: `TGMUX_PYTHON`, else `python3`.
fn python() -> Option<String> {
    tool(
        &std::env::var("TGMUX_PYTHON").unwrap_or_else(|_| "python3".into()),
        "--version",
    )
}

/// `expr` evaluated by Python over the JSON file `path` loaded as `j` (json.load is the judge
/// of the syntax), printed.
fn json_eval(py: &str, path: &Path, expr: &str) -> String {
    let script = format!("import json,sys; j=json.load(open(sys.argv[1])); print(repr(({expr})))");
    let out = Command::new(py)
        .args(["-c", &script])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        std::fs::read_to_string(path).unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn stats_file_is_json_from_the_start_and_final_after_sigterm() {
    let Some(py) = python() else { return };
    let dir = scratch("stats");
    std::fs::create_dir_all(dir.join("media/chan")).unwrap();
    std::fs::write(dir.join("media/chan/1.txt"), b"x").unwrap();
    let stats = dir.join("stats.json");
    let mut dc = start(&dir, 2, &["--stats-file", stats.to_str().unwrap()]);
    // Written before the DC config: nothing asked yet.
    assert_eq!(
        json_eval(&py, &stats, "j['requests'], j['documents']"),
        "(0, {})"
    );
    let first = json_eval(&py, &stats, "j['written_at_ms']");
    let config = dir.join("dc.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(["--dc-config", config.to_str().unwrap(), "--session"])
        .arg(dir.join("session"))
        .args(["ping", "--dc", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // SIGTERM stops it cleanly, writing the file once more.
    let kill = Command::new("kill")
        .args(["-TERM", &dc.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = dc.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "local-dc ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let last: u64 = json_eval(&py, &stats, "j['written_at_ms']")
        .parse()
        .unwrap();
    assert!(last >= first.parse().unwrap());
    assert_eq!(
        json_eval(
            &py,
            &stats,
            "j['requests'] >= 1 and j['requests'] == sum(j['methods'].values()) \
             == sum(j['dcs'].values()) == sum(j['accounts'].values()), \
             sorted(j['dcs']), j['faults']"
        ),
        "(True, ['1'], {'drop': 0, 'stall': 0})"
    );
}

#[test]
fn links_lists_every_form_that_reaches_each_message() {
    let dir = scratch("links");
    let media = dir.join("media");
    for f in [
        "pub/1.txt",
        "pub/2/a.txt",
        "pub/2/b.txt",
        "pub/1.comments/10.txt",
        "forum/topics/5/6.txt",
        "+secret/3.txt",
        "+secret/topics/7/8.txt",
    ] {
        std::fs::create_dir_all(media.join(f).parent().unwrap()).unwrap();
        std::fs::write(media.join(f), f).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(["local-dc", "--links", "--media"])
        .arg(&media)
        .env("XDG_DATA_HOME", dir.join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !dir.join("data").exists(),
        "--links makes no key and binds nothing"
    );
    let secret = tgmux::localdc::ids::channel_id("+secret");
    let want = format!(
        "\
+secret/3.txt https://t.me/c/{secret}/3
+secret/3.txt tg://privatepost?channel={secret}&post=3
+secret/topics/7/8.txt https://t.me/c/{secret}/8
+secret/topics/7/8.txt https://t.me/c/{secret}/7/8
+secret/topics/7/8.txt tg://privatepost?channel={secret}&post=8
forum/topics/5/6.txt https://t.me/forum/6
forum/topics/5/6.txt https://t.me/forum/5/6
forum/topics/5/6.txt https://t.me/s/forum/6
forum/topics/5/6.txt tg://resolve?domain=forum&post=6
forum/topics/5/6.txt @forum/6
pub/1.txt https://t.me/pub/1
pub/1.txt https://t.me/s/pub/1
pub/1.txt tg://resolve?domain=pub&post=1
pub/1.txt @pub/1
pub/2/a.txt https://t.me/pub/2
pub/2/a.txt https://t.me/pub/2?single
pub/2/a.txt https://t.me/s/pub/2
pub/2/a.txt tg://resolve?domain=pub&post=2
pub/2/a.txt @pub/2
pub/2/b.txt https://t.me/pub/3
pub/2/b.txt https://t.me/pub/3?single
pub/2/b.txt https://t.me/s/pub/3
pub/2/b.txt tg://resolve?domain=pub&post=3
pub/2/b.txt @pub/3
pub/1.comments/10.txt https://t.me/pub/1?comment=10
"
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}
