//! `--proxy socks5://…` and `--proxy http://…` against a real `tgmux local-dc`, through small
//! SOCKS5 and HTTP CONNECT proxies this test runs on loopback. The DC config given to the
//! client names closed ports; the proxies map each of them to the real DC's port, so only a
//! connection that goes through the proxy (and asks it for the right DC) can succeed.

mod localdc_util;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;

use localdc_util::{network_of, one_line_error, s, start, stdout, tgmux, LocalDc};
use tgmux::dcconfig::DcConfig;

/// Which protocol the test proxy speaks, and the credentials it wants.
#[derive(Clone, Copy)]
enum Speaks {
    Socks5,
    Http,
}

/// A proxy on 127.0.0.1 that tunnels to `map[target port]` and records every target asked.
struct TestProxy {
    port: u16,
    targets: Arc<Mutex<Vec<SocketAddr>>>,
}

impl TestProxy {
    fn start(
        speaks: Speaks,
        user: &'static str,
        pass: &'static str,
        map: HashMap<u16, u16>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (map, seen) = (map.clone(), seen.clone());
                thread::spawn(move || {
                    let target = match speaks {
                        Speaks::Socks5 => socks5_handshake(&client, user, pass),
                        Speaks::Http => http_handshake(&client, user, pass),
                    };
                    let Some((target, reply)) = target else {
                        return;
                    };
                    seen.lock().unwrap().push(target);
                    let Some(upstream) = map
                        .get(&target.port())
                        .and_then(|p| TcpStream::connect(("127.0.0.1", *p)).ok())
                    else {
                        return;
                    };
                    (&client).write_all(&reply).unwrap();
                    pump(client, upstream);
                });
            }
        });
        TestProxy { port, targets }
    }

    fn targets(&self) -> Vec<SocketAddr> {
        self.targets.lock().unwrap().clone()
    }
}

/// RFC 1928 server side, user/password (RFC 1929) required. Returns the target and the
/// success reply to send once the upstream connection is open.
fn socks5_handshake(mut c: &TcpStream, user: &str, pass: &str) -> Option<(SocketAddr, Vec<u8>)> {
    let mut head = [0u8; 2];
    c.read_exact(&mut head).ok()?;
    let mut methods = vec![0u8; usize::from(head[1])];
    c.read_exact(&mut methods).ok()?;
    assert_eq!(head[0], 5, "SOCKS version");
    if !methods.contains(&2) {
        c.write_all(&[5, 0xff]).ok()?;
        return None;
    }
    c.write_all(&[5, 2]).ok()?;
    let mut version = [0u8; 1];
    c.read_exact(&mut version).ok()?;
    let mut field = || {
        let mut len = [0u8; 1];
        c.read_exact(&mut len).ok()?;
        let mut v = vec![0u8; usize::from(len[0])];
        c.read_exact(&mut v).ok()?;
        Some(v)
    };
    let (u, p) = (field()?, field()?);
    if u != user.as_bytes() || p != pass.as_bytes() {
        c.write_all(&[1, 1]).ok()?;
        return None;
    }
    c.write_all(&[1, 0]).ok()?;
    let mut req = [0u8; 4];
    c.read_exact(&mut req).ok()?;
    assert_eq!(&req[..3], &[5, 1, 0], "CONNECT request");
    assert_eq!(req[3], 1, "an IPv4 target");
    let mut addr = [0u8; 6];
    c.read_exact(&mut addr).ok()?;
    let ip = Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]);
    let target = SocketAddr::V4(SocketAddrV4::new(
        ip,
        u16::from_be_bytes([addr[4], addr[5]]),
    ));
    Some((target, vec![5, 0, 0, 1, 127, 0, 0, 1, 0, 0]))
}

/// `CONNECT ip:port HTTP/1.1` with Basic credentials; 407 without the right ones.
fn http_handshake(c: &TcpStream, user: &str, pass: &str) -> Option<(SocketAddr, Vec<u8>)> {
    let mut reader = BufReader::new(c);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target: SocketAddr = line
        .strip_prefix("CONNECT ")?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    let mut authorized = false;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header == "\r\n" || header.is_empty() {
            break;
        }
        if let Some(v) = header.strip_prefix("Proxy-Authorization: Basic ") {
            authorized = decode_b64(v.trim()) == format!("{user}:{pass}").into_bytes();
        }
    }
    // The client speaks first after the tunnel opens, so the reader holds nothing more.
    assert!(reader.buffer().is_empty());
    let mut c = c;
    if !authorized {
        c.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            .ok()?;
        return None;
    }
    Some((
        target,
        b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec(),
    ))
}

fn decode_b64(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Copies both ways until either side closes.
fn pump(a: TcpStream, b: TcpStream) {
    let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let (mut a, mut b) = (a, b);
    let t = thread::spawn(move || {
        let _ = std::io::copy(&mut a2, &mut b2);
        let _ = b2.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut b, &mut a);
    let _ = a.shutdown(std::net::Shutdown::Write);
    let _ = t.join();
}

/// The local DC's config with each DC moved to its own closed port, and the map from those
/// ports back to the real ones (what the test proxy uses; real ports map to themselves).
fn unreachable_config(dc: &LocalDc) -> (PathBuf, HashMap<u16, u16>) {
    let mut c = DcConfig::read(&dc.config).unwrap();
    let mut map = HashMap::new();
    for d in &mut c.dcs {
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        map.insert(closed, d.port);
        // The DCs announce their real addresses in help.getConfig; the pool then uses those.
        map.insert(d.port, d.port);
        d.port = closed;
    }
    let path = dc.dir.join("unreachable.toml");
    c.write(&path).unwrap();
    (path, map)
}

#[test]
fn ping_every_dc_through_socks5_with_a_password() {
    let dc = start("tunnel-socks", 2);
    let (cfg, map) = unreachable_config(&dc);
    let proxy = TestProxy::start(Speaks::Socks5, "al@ice", "p:w", map.clone());
    let url = format!("socks5://al%40ice:p%3Aw@127.0.0.1:{}", proxy.port);
    let out = tgmux(&[
        "--dc-config",
        s(&cfg),
        "--proxy",
        &url,
        "ping",
        "--dc",
        "all",
    ]);
    let lines = stdout(&out);
    assert!(
        lines.contains("DC 1 ") && lines.contains("DC 2 "),
        "{lines}"
    );
    // The transport inside the tunnel is the one asked for, not obfuscated2.
    assert!(!lines.contains("obfuscated"), "{lines}");
    let mut asked: Vec<u16> = proxy.targets().iter().map(SocketAddr::port).collect();
    asked.sort_unstable();
    let mut want: Vec<u16> = map
        .iter()
        .filter(|(k, v)| k != v)
        .map(|(k, _)| *k)
        .collect();
    want.sort_unstable();
    assert_eq!(asked, want, "one tunnel per DC, to the configured address");

    // A wrong password is refused by the proxy: one line naming it, no hang.
    let bad = format!("socks5://al%40ice:nope@127.0.0.1:{}", proxy.port);
    let out = tgmux(&[
        "--dc-config",
        s(&cfg),
        "--proxy",
        &bad,
        "ping",
        "--dc",
        "1",
        "--timeout",
        "5",
    ]);
    one_line_error(&out, &format!("SOCKS5 proxy 127.0.0.1:{}", proxy.port));
    one_line_error(&out, "refused the user name and password");
}

#[test]
fn login_and_a_second_dc_through_http_connect() {
    let dc = start("tunnel-http", 2);
    let (cfg, map) = unreachable_config(&dc);
    let proxy = TestProxy::start(Speaks::Http, "u", "secret", map.clone());
    let session = dc.dir.join("session");
    let url = format!("http://u:secret@127.0.0.1:{}", proxy.port);
    let base = [
        "--dc-config",
        s(&cfg),
        "--proxy",
        &url,
        "--session",
        s(&session),
        "--api-id",
        "1",
        "--api-hash",
        "x",
    ];
    let mut login = base.to_vec();
    login.extend(["login", "--bot-token", "4242:x"]);
    let line = stdout(&tgmux(&login));
    assert!(line.starts_with("logged in as bot 4242"), "{line}");
    assert!(!proxy.targets().is_empty());

    // Through the library: the pool's connections to DC 2 (export/import) use the tunnel.
    let mut pc = tgmux::net::PoolConfig::new(network_of(&cfg), 1);
    pc.session_path = Some(session);
    pc.proxy = Some(tgmux::config::Proxy::parse(&url).unwrap());
    pc.reconnect_attempts = 0;
    let pool = tgmux::net::Pool::open(pc).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tgmux::tl::enums::Config::Config(c) = runtime
        .block_on(pool.invoke_on(2, &tgmux::tl::functions::help::GetConfig {}))
        .unwrap();
    assert_eq!(c.this_dc, 2);
    let dc2 = DcConfig::read(&dc.config).unwrap().dcs[1].port;
    assert!(
        proxy.targets().iter().any(|t| map[&t.port()] == dc2),
        "DC 2 reached through the tunnel: {:?}",
        proxy.targets()
    );

    // Without credentials the proxy answers 407: said in one line.
    let anon = format!("http://127.0.0.1:{}", proxy.port);
    let out = tgmux(&[
        "--dc-config",
        s(&cfg),
        "--proxy",
        &anon,
        "ping",
        "--dc",
        "1",
        "--timeout",
        "5",
    ]);
    one_line_error(&out, "HTTP proxy 127.0.0.1:");
    one_line_error(&out, "407");
}

#[test]
fn a_dead_proxy_is_named_in_one_line() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for url in [
        format!("socks5://127.0.0.1:{closed}"),
        format!("http://127.0.0.1:{closed}"),
    ] {
        let out = tgmux(&[
            "--test-dc",
            "--proxy",
            &url,
            "ping",
            "--dc",
            "1",
            "--timeout",
            "5",
        ]);
        one_line_error(&out, &format!("proxy 127.0.0.1:{closed}"));
    }
    let out = tgmux(&["--test-dc", "--proxy", "socks5://host", "ping"]);
    one_line_error(&out, "has no :port");
}
