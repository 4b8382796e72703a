//! `tgmux local-dc` holds ≥ 200 concurrent connections with bounded memory: 250 clients each
//! open a connection (a different transport per client), start an auth-key exchange with
//! `req_pq_multi` and must all get their `resPQ`, while every connection stays open; the
//! server's resident memory stays under a fixed bound.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tgmux::dcconfig::DcConfig;
use tgmux::tl::{enums, functions, Deserializable, Serializable};

const CLIENTS: usize = 250;
/// Resident memory allowed to the whole server process with all connections open.
const MAX_RSS_KIB: u64 = 256 * 1024;

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A plain (unencrypted) MTProto message.
fn plain(body: &[u8], msg_id: i64) -> Vec<u8> {
    let mut m = vec![0u8; 8];
    m.extend_from_slice(&msg_id.to_le_bytes());
    m.extend_from_slice(&(body.len() as u32).to_le_bytes());
    m.extend_from_slice(body);
    m
}

/// Frames `payload` as abridged (first message, with its header byte) or intermediate.
fn frame(abridged: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if abridged {
        out.push(0xef);
        let words = payload.len() / 4;
        assert!(words < 127);
        out.push(words as u8);
    } else {
        out.extend_from_slice(&[0xee; 4]);
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(payload);
    out
}

fn read_answer(s: &mut TcpStream, abridged: bool) -> Vec<u8> {
    let len = if abridged {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).unwrap();
        assert!(b[0] < 127);
        b[0] as usize * 4
    } else {
        let mut b = [0u8; 4];
        s.read_exact(&mut b).unwrap();
        u32::from_le_bytes(b) as usize
    };
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).unwrap();
    payload
}

#[test]
fn holds_250_concurrent_connections() {
    let dir = std::env::temp_dir().join(format!("tgmux-localdc-conns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("media")).unwrap();
    let config = dir.join("dc.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(["local-dc", "--dcs", "1", "--media"])
        .arg(dir.join("media"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--write-config"])
        .arg(&config)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !config.exists() {
        assert!(child.try_wait().unwrap().is_none(), "local-dc exited early");
        assert!(Instant::now() < deadline, "no config written");
        std::thread::sleep(Duration::from_millis(50));
    }
    let addr = DcConfig::read(&config).unwrap().dcs[0].addr();
    let mut conns = Vec::new();
    for i in 0..CLIENTS {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let nonce = [i as u8; 16];
        let body = functions::ReqPqMulti { nonce }.to_bytes();
        let abridged = i % 2 == 0;
        s.write_all(&frame(
            abridged,
            &plain(&body, (1_700_000_000i64 << 32) + 4 * i as i64),
        ))
        .unwrap();
        conns.push((s, nonce, abridged));
    }
    for (s, nonce, abridged) in &mut conns {
        let answer = read_answer(s, *abridged);
        let enums::ResPq::ResPq(res) =
            enums::ResPq::from_bytes(answer[20..].to_vec()).expect("resPQ");
        assert_eq!(&res.nonce, nonce);
    }
    let rss = rss_kib(child.id()).expect("VmRSS");
    assert!(
        rss < MAX_RSS_KIB,
        "server RSS {rss} KiB with {CLIENTS} connections"
    );
    assert!(child.try_wait().unwrap().is_none(), "server alive");
    drop(conns);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
