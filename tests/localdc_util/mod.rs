//! Starting a real `tgmux local-dc` process for client tests and benches: free consecutive
//! ports on 127.0.0.1, a scratch directory under CARGO_TARGET_TMPDIR, the DC config it writes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use std::time::{Duration, Instant, SystemTime};
use tgmux::net::session_file::LoggedIn;
use tgmux::net::Pool;
use tgmux::tl::{enums, functions, types};

/// A base port with `n` free consecutive ports after it.
pub fn free_ports(n: u16) -> u16 {
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

/// A scratch directory for one test, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("client-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Deterministic pseudo-random bytes (xorshift): media that need not be checked in and that
/// gzip cannot shrink.
pub fn media_bytes(len: usize, seed: u64) -> Vec<u8> {
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

/// A running local DC; killed on drop.
pub struct LocalDc {
    child: Child,
    /// The DC config it wrote.
    pub config: PathBuf,
    /// Its scratch directory.
    pub dir: PathBuf,
    /// The port of DC 1.
    pub port: u16,
}

impl LocalDc {
    /// The client network its DC config file describes.
    pub fn network(&self) -> tgmux::config::Network {
        network_of(&self.config)
    }
}

/// The client network a DC config file describes.
pub fn network_of(config: &Path) -> tgmux::config::Network {
    let c = tgmux::dcconfig::DcConfig::read(config).unwrap();
    let dcs = c
        .dcs
        .iter()
        .map(|e| tgmux::config::DcAddr {
            id: e.id,
            addr: e.addr(),
        })
        .collect();
    tgmux::config::Network::from_dc_config(c.rsa_public_keys, dcs).unwrap()
}

impl Drop for LocalDc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tgmux local-dc --dcs N` on free ports and waits for its config file.
pub fn start(name: &str, dcs: u16) -> LocalDc {
    start_with(name, dcs, &[])
}

/// [`start`] with more `local-dc` flags.
pub fn start_with(name: &str, dcs: u16, extra: &[&str]) -> LocalDc {
    start_with_files(name, dcs, extra, &[("1.txt", b"hello\n")])
}

/// [`start_with`] serving these files (name, contents) as channel `chan`'s messages.
pub fn start_with_files(name: &str, dcs: u16, extra: &[&str], files: &[(&str, &[u8])]) -> LocalDc {
    let files: Vec<(String, &[u8])> = files
        .iter()
        .map(|(file, contents)| (format!("chan/{file}"), *contents))
        .collect();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(f, c)| (f.as_str(), *c)).collect();
    start_with_media(name, dcs, extra, &files)
}

/// [`start_with`] serving these files (path below the media directory, contents): any
/// layout of docs/local-dc.md (`chan/5/a.mp4` albums, `+secret/1.txt`, ...).
pub fn start_with_media(name: &str, dcs: u16, extra: &[&str], files: &[(&str, &[u8])]) -> LocalDc {
    let dir = media_dir(name, files);
    start_in(dir, dcs, extra)
}

/// A fresh scratch directory whose `media/` holds `files` (and an empty `chan/`), for
/// [`start_in`] after the test has added what `files` cannot say (sparse files).
pub fn media_dir(name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("media/chan")).unwrap();
    for (file, contents) in files {
        let path = dir.join("media").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

/// Starts `tgmux local-dc --dcs N` serving `dir/media`, with `dir` as its scratch directory.
pub fn start_in(dir: PathBuf, dcs: u16, extra: &[&str]) -> LocalDc {
    let config = dir.join("dc.toml");
    // One spare port after the regular DCs: `--cdn` puts the CDN DC there.
    let port = free_ports(dcs + 1);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(["-v", "local-dc", "--media"])
        .arg(dir.join("media"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--dcs", &dcs.to_string(), "--write-config"])
        .arg(&config)
        .args(extra)
        // local-dc keeps its RSA key in the data dir: one per test, not the user's.
        .env("XDG_DATA_HOME", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tgmux local-dc");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !config.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            for line in BufReader::new(child.stderr.take().unwrap())
                .lines()
                .map_while(Result::ok)
            {
                err.push_str(&line);
                err.push('\n');
            }
            panic!("local-dc exited with {status}: {err}");
        }
        assert!(Instant::now() < deadline, "local-dc wrote no config");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Keep draining stderr so the server never blocks on a full pipe.
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if std::env::var_os("TGMUX_TEST_LOG").is_some() {
                eprintln!("[local-dc] {line}");
            }
        }
    });
    LocalDc {
        child,
        config,
        dir,
        port,
    }
}

// ---- running the CLI ----

/// A fresh `XDG_DATA_HOME` for one run, so a default session never goes to the user's home
/// nor to another test's run.
pub fn fresh_data_home() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("xdg")
        .join(format!("{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs tgmux (with a fresh default session dir); a run that does not end within 60 s is
/// killed and fails the test (a hang).
pub fn tgmux(args: &[&str]) -> Output {
    tgmux_in(args, &fresh_data_home())
}

/// [`tgmux`] with `XDG_DATA_HOME` set to `data_home`.
pub fn tgmux_in(args: &[&str], data_home: &Path) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(args)
        .env("XDG_DATA_HOME", data_home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_or_fail(child, args)
}

/// Waits for a tgmux run; one that does not end within 60 s is killed and fails the test.
/// Its stdout and stderr are read while it runs, so a run that writes more than a pipe holds
/// does not stall on a full pipe.
pub fn wait_or_fail(mut child: Child, args: &[&str]) -> Output {
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut v);
            }
            v
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap();
            panic!("tgmux {args:?} hung: {}", String::from_utf8_lossy(&err));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// `tgmux login --bot-token TOKEN` against `dc`, into the session file `session`.
pub fn login_bot_cli(dc: &LocalDc, session: &Path, token: &str) {
    stdout(&tgmux(&[
        "--dc-config",
        s(&dc.config),
        "--session",
        s(session),
        "--api-id",
        "1",
        "--api-hash",
        "x",
        "login",
        "--bot-token",
        token,
    ]));
}

/// The stdout of a run that must have succeeded.
pub fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "tgmux failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A run that must have failed with one `tgmux: error: ...` line containing `needle`.
pub fn one_line_error(out: &Output, needle: &str) {
    assert!(!out.status.success(), "expected a failure");
    // A panic would print more than one line (and exit 101); a signal gives no code.
    assert!(
        out.status.code().is_some_and(|c| c != 101),
        "{:?}",
        out.status
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(
        lines[0].starts_with("tgmux: error: ") && lines[0].contains(needle),
        "expected `{needle}` in: {err}"
    );
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---- pool calls ----

/// Logs `pool` in as the bot of `token` (any `<digits>:<text>` on local-dc) and records it.
pub async fn login_bot(pool: &Pool, token: &str) -> i64 {
    let enums::auth::Authorization::Authorization(a) = pool
        .invoke_login(&functions::auth::ImportBotAuthorization {
            flags: 0,
            api_id: 1,
            api_hash: "x".into(),
            bot_auth_token: token.into(),
        })
        .await
        .unwrap()
    else {
        panic!("sign-up asked for a bot")
    };
    let enums::User::User(u) = a.user else {
        panic!("empty user")
    };
    pool.set_logged_in(LoggedIn {
        user_id: u.id,
        bot: true,
    })
    .unwrap();
    u.id
}

/// The document of message `id` of channel `chan`.
pub async fn document(pool: &Pool, id: i32) -> types::Document {
    let enums::contacts::ResolvedPeer::ResolvedPeer(r) = pool
        .invoke(&functions::contacts::ResolveUsername {
            username: "chan".into(),
            referer: None,
        })
        .await
        .unwrap();
    let enums::Chat::Channel(c) = &r.chats[0] else {
        panic!("a channel expected")
    };
    let m = pool
        .invoke(&functions::channels::GetMessages {
            channel: enums::InputChannel::InputChannel(types::InputChannel {
                channel_id: c.id,
                access_hash: c.access_hash.unwrap_or_default(),
            }),
            id: vec![enums::InputMessage::InputMessageId(types::InputMessageId {
                id,
            })],
        })
        .await
        .unwrap();
    let enums::messages::Messages::ChannelMessages(m) = m else {
        panic!("channelMessages expected")
    };
    let enums::Message::Message(msg) = &m.messages[0] else {
        panic!("a message expected")
    };
    let Some(enums::MessageMedia::MessageMediaDocument(md)) = &msg.media else {
        panic!("a document expected")
    };
    let Some(enums::Document::Document(d)) = &md.document else {
        panic!("no document")
    };
    d.clone()
}

/// `upload.getFile` of the first 4 KiB of `d`.
pub fn get_file(d: &types::Document) -> functions::upload::GetFile {
    functions::upload::GetFile {
        precise: false,
        cdn_supported: false,
        location: types::InputDocumentFileLocation {
            id: d.id,
            access_hash: d.access_hash,
            file_reference: d.file_reference.clone(),
            thumb_size: String::new(),
        }
        .into(),
        offset: 0,
        limit: 4096,
    }
}

// ---- an injecting proxy ----

/// A TCP proxy on 127.0.0.1 in front of `target` (a port on 127.0.0.1) that answers armed
/// connections, instead of forwarding them, with the 4-byte transport error -404 in the
/// intermediate framing, as someone on the path could. Threads end with the test process.
pub struct Injector {
    /// Where it listens.
    pub port: u16,
    armed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Connections answered with -404 so far.
    pub injected: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Injector {
    /// Starts the proxy with the next `armed` connections to be answered with -404.
    pub fn start(target: u16, armed: usize) -> Injector {
        use std::io::Write;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicUsize::new(armed));
        let injected = Arc::new(AtomicUsize::new(0));
        let (a, i) = (armed.clone(), injected.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let inject = a
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if inject {
                    i.fetch_add(1, Ordering::SeqCst);
                    let mut client = client;
                    // Wait for the client's first packet, then answer it with -404.
                    let mut buf = [0u8; 4096];
                    let _ = client.read(&mut buf);
                    let mut frame = 4u32.to_le_bytes().to_vec();
                    frame.extend_from_slice(&(-404i32).to_le_bytes());
                    let _ = client.write_all(&frame);
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut c, mut s) = (client, server);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut s2);
                    let _ = s2.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s, &mut c);
                    let _ = c.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Injector {
            port,
            armed,
            injected,
        }
    }

    /// Answers the next `n` connections with -404.
    pub fn arm(&self, n: usize) {
        self.armed.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Connections answered with -404 so far.
    pub fn injected(&self) -> usize {
        self.injected.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A copy of `dc`'s DC config with DC `id` at `port` on 127.0.0.1 (same keys, so the same
/// network and session), written to `path`.
pub fn config_with_port(dc: &LocalDc, id: i32, port: u16, path: &Path) -> PathBuf {
    let mut c = tgmux::dcconfig::DcConfig::read(&dc.config).unwrap();
    for e in &mut c.dcs {
        if e.id == id {
            e.port = port;
        }
    }
    c.write(path).unwrap();
    path.to_owned()
}

// ---- --stats-file ----

/// Milliseconds since the Unix epoch, as local-dc stamps `written_at_ms`.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The `--stats-file` local-dc writes once it has been rewritten after `after_ms` (it is
/// rewritten every second, counting what it answered before): everything answered before
/// `after_ms` is in it.
pub fn stats_after(file: &Path, after_ms: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = std::fs::read(file)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        {
            if v["written_at_ms"].as_u64().is_some_and(|t| t > after_ms) {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "no stats file after {after_ms}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `upload.getFile` (parts, bytes) served so far for the media file `key` (its path below
/// the media directory), 0 before its first part.
pub fn document_parts(stats: &serde_json::Value, key: &str) -> (u64, u64) {
    let d = &stats["documents"][key];
    (
        d["parts"].as_u64().unwrap_or(0),
        d["bytes"].as_u64().unwrap_or(0),
    )
}
