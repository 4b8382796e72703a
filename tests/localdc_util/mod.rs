//! Starting a real `tgmux local-dc` process for client tests and benches: free consecutive
//! ports on 127.0.0.1, a scratch directory under CARGO_TARGET_TMPDIR, the DC config it writes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use std::time::{Duration, Instant};
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
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("media/chan")).unwrap();
    for (file, contents) in files {
        let path = dir.join("media").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
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

/// Runs tgmux; a run that does not end within 60 s is killed and fails the test (a hang).
pub fn tgmux(args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_or_fail(child, args)
}

/// Waits for a tgmux run; one that does not end within 60 s is killed and fails the test.
pub fn wait_or_fail(mut child: Child, args: &[&str]) -> Output {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("tgmux {args:?} hung: {err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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
