//! Opening a TCP connection through a SOCKS5 or HTTP CONNECT proxy ([`Tunnel`]).
//!
//! The handshakes are byte builders and parsers (tested alone, below) and one small async
//! function that sends and reads them. After the handshake the stream is the plain TCP
//! connection to the target: the MTProto transport starts on it as if it were direct.
//!
//! Both protocols let the client speak first and the proxy answer only what was asked, so
//! reading the answer never consumes bytes of the connection inside.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{Credentials, Tunnel, TunnelKind};
use crate::crypto::rsa::base64_encode;

/// The longest HTTP CONNECT answer head read before giving up.
const MAX_HTTP_HEAD: usize = 8 * 1024;

/// Connects to the proxy and asks it for a tunnel to `target`.
///
/// Errors are [`io::Error`]s whose message names the proxy and what it refused.
pub async fn connect(tunnel: &Tunnel, target: SocketAddr) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect((tunnel.host.as_str(), tunnel.port))
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("{tunnel}: {e}")))?;
    let handshake = match tunnel.kind {
        TunnelKind::Socks5 => socks5(&mut stream, tunnel.credentials.as_ref(), target).await,
        TunnelKind::HttpConnect => {
            http_connect(&mut stream, tunnel.credentials.as_ref(), target).await
        }
    };
    handshake.map_err(|e| match e {
        Step::Io(e) => io::Error::new(e.kind(), format!("{tunnel}: {e}")),
        Step::Refused(what) => io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!("{tunnel}: {what}"),
        ),
    })?;
    Ok(stream)
}

/// Why a handshake stopped.
#[derive(Debug)]
enum Step {
    /// The socket failed (or closed: `UnexpectedEof`).
    Io(io::Error),
    /// The proxy answered, and the answer is no (or is not the protocol).
    Refused(String),
}

impl From<io::Error> for Step {
    fn from(e: io::Error) -> Self {
        Step::Io(e)
    }
}

async fn socks5(
    s: &mut TcpStream,
    credentials: Option<&Credentials>,
    target: SocketAddr,
) -> Result<(), Step> {
    s.write_all(&socks5_greeting(credentials.is_some())).await?;
    let mut choice = [0u8; 2];
    s.read_exact(&mut choice).await?;
    match socks5_method(choice).map_err(Step::Refused)? {
        Method::NoAuth => {}
        Method::Password => {
            let c = credentials.ok_or_else(|| {
                Step::Refused("it asks for a user name and password; give them as socks5://user:pass@host:port".into())
            })?;
            s.write_all(&socks5_password(c)).await?;
            let mut status = [0u8; 2];
            s.read_exact(&mut status).await?;
            socks5_password_status(status).map_err(Step::Refused)?;
        }
    }
    s.write_all(&socks5_connect(target)).await?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).await?;
    let rest = socks5_reply(head, target).map_err(Step::Refused)?;
    // The address the proxy bound: read and ignore.
    let mut bound = vec![0u8; rest];
    if rest == DOMAIN_LENGTH_FOLLOWS {
        let mut len = [0u8; 1];
        s.read_exact(&mut len).await?;
        bound = vec![0u8; usize::from(len[0]) + 2];
    }
    s.read_exact(&mut bound).await?;
    Ok(())
}

async fn http_connect(
    s: &mut TcpStream,
    credentials: Option<&Credentials>,
    target: SocketAddr,
) -> Result<(), Step> {
    s.write_all(http_connect_request(target, credentials).as_bytes())
        .await?;
    // Byte by byte up to the blank line: nothing after it is the proxy's.
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HTTP_HEAD {
            return Err(Step::Refused(format!(
                "its answer head is longer than {MAX_HTTP_HEAD} bytes"
            )));
        }
        s.read_exact(&mut byte).await?;
        head.push(byte[0]);
    }
    http_connect_status(&head, target).map_err(Step::Refused)
}

// --- SOCKS5 (RFC 1928, RFC 1929) ---

const SOCKS_VERSION: u8 = 5;
const NO_AUTH: u8 = 0x00;
const USER_PASSWORD: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xff;
const CMD_CONNECT: u8 = 1;
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;
/// [`socks5_reply`]'s answer for a domain-name bound address: one length byte comes first.
const DOMAIN_LENGTH_FOLLOWS: usize = usize::MAX;

/// The method the proxy chose.
#[derive(Debug, PartialEq, Eq)]
enum Method {
    NoAuth,
    Password,
}

/// Version 5, and the methods offered: no authentication, and user/password when we have one.
fn socks5_greeting(with_password: bool) -> Vec<u8> {
    if with_password {
        vec![SOCKS_VERSION, 2, NO_AUTH, USER_PASSWORD]
    } else {
        vec![SOCKS_VERSION, 1, NO_AUTH]
    }
}

fn socks5_method(answer: [u8; 2]) -> Result<Method, String> {
    match answer {
        [SOCKS_VERSION, NO_AUTH] => Ok(Method::NoAuth),
        [SOCKS_VERSION, USER_PASSWORD] => Ok(Method::Password),
        [SOCKS_VERSION, NO_ACCEPTABLE] => Err(
            "it accepts none of the authentication methods offered (none, user/password)".into(),
        ),
        [SOCKS_VERSION, m] => Err(format!(
            "it chose authentication method {m:#04x}, which was not offered"
        )),
        [v, _] => Err(format!(
            "it does not speak SOCKS5 (answered version {v} to the greeting)"
        )),
    }
}

/// RFC 1929: version 1, then user and password, each after its length byte (checked ≤ 255
/// when the proxy was parsed; longer ones are cut, which the proxy then refuses).
fn socks5_password(c: &Credentials) -> Vec<u8> {
    let field = |s: &str| {
        let b = &s.as_bytes()[..s.len().min(255)];
        let mut v = vec![b.len() as u8];
        v.extend_from_slice(b);
        v
    };
    let mut out = vec![1];
    out.extend(field(&c.user));
    out.extend(field(&c.password));
    out
}

fn socks5_password_status(answer: [u8; 2]) -> Result<(), String> {
    match answer[1] {
        0 => Ok(()),
        _ => Err("it refused the user name and password".into()),
    }
}

fn socks5_connect(target: SocketAddr) -> Vec<u8> {
    let mut out = vec![SOCKS_VERSION, CMD_CONNECT, 0];
    match target {
        SocketAddr::V4(a) => {
            out.push(ATYP_IPV4);
            out.extend_from_slice(&a.ip().octets());
        }
        SocketAddr::V6(a) => {
            out.push(ATYP_IPV6);
            out.extend_from_slice(&a.ip().octets());
        }
    }
    out.extend_from_slice(&target.port().to_be_bytes());
    out
}

/// Checks the reply head (version, reply code, reserved, address type) and returns how many
/// bytes of bound address and port follow.
fn socks5_reply(head: [u8; 4], target: SocketAddr) -> Result<usize, String> {
    let [version, code, _, atyp] = head;
    if version != SOCKS_VERSION {
        return Err(format!("it answered the CONNECT with version {version}"));
    }
    if code != 0 {
        let why = match code {
            1 => "general failure",
            2 => "not allowed by its rules",
            3 => "network unreachable",
            4 => "host unreachable",
            5 => "connection refused",
            6 => "TTL expired",
            7 => "command not supported",
            8 => "address type not supported",
            _ => "unknown reply code",
        };
        return Err(format!(
            "it could not connect to {target}: {why} (reply {code})"
        ));
    }
    match atyp {
        ATYP_IPV4 => Ok(4 + 2),
        ATYP_IPV6 => Ok(16 + 2),
        ATYP_DOMAIN => Ok(DOMAIN_LENGTH_FOLLOWS),
        _ => Err(format!("its CONNECT reply has address type {atyp}")),
    }
}

// --- HTTP CONNECT ---

fn http_connect_request(target: SocketAddr, credentials: Option<&Credentials>) -> String {
    // SocketAddr's Display writes IPv6 targets in brackets, as the authority form wants.
    let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(c) = credentials {
        let basic = base64_encode(format!("{}:{}", c.user, c.password).as_bytes());
        req.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
    }
    req.push_str("\r\n");
    req
}

/// A 2xx status line means the tunnel is open; anything else is a refusal, said with the
/// proxy's own status line.
fn http_connect_status(head: &[u8], target: SocketAddr) -> Result<(), String> {
    let head = String::from_utf8_lossy(head);
    let line = head.lines().next().unwrap_or("").trim();
    let mut parts = line.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") {
        return Err(format!("it does not speak HTTP (answered `{line}`)"));
    }
    match code.parse::<u16>() {
        Ok(200..=299) => Ok(()),
        Ok(407) => Err(format!(
            "it wants credentials or refused them (`{line}`); give them as http://user:pass@host:port"
        )),
        Ok(_) => Err(format!("it refused the tunnel to {target} (`{line}`)")),
        Err(_) => Err(format!("its status line `{line}` has no status code")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(user: &str, password: &str) -> Credentials {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }

    #[test]
    fn socks5_bytes_follow_rfc_1928_and_1929() {
        assert_eq!(socks5_greeting(false), [5, 1, 0]);
        assert_eq!(socks5_greeting(true), [5, 2, 0, 2]);
        assert_eq!(
            socks5_password(&creds("ab", "xyz")),
            [1, 2, b'a', b'b', 3, b'x', b'y', b'z']
        );
        let v4: SocketAddr = "149.154.167.51:443".parse().unwrap();
        assert_eq!(socks5_connect(v4), [5, 1, 0, 1, 149, 154, 167, 51, 1, 187]);
        let v6: SocketAddr = "[2001:67c:4e8:f002::a]:443".parse().unwrap();
        let req = socks5_connect(v6);
        assert_eq!((req.len(), req[3], &req[20..]), (22, 4, &[1u8, 187][..]));
    }

    #[test]
    fn socks5_answers_are_judged() {
        let t: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(socks5_method([5, 0]), Ok(Method::NoAuth));
        assert_eq!(socks5_method([5, 2]), Ok(Method::Password));
        assert!(socks5_method([5, 0xff]).unwrap_err().contains("none of"));
        assert!(socks5_method([4, 0])
            .unwrap_err()
            .contains("does not speak SOCKS5"));
        assert!(socks5_password_status([1, 1])
            .unwrap_err()
            .contains("refused"));
        assert_eq!(socks5_reply([5, 0, 0, 1], t), Ok(6));
        assert_eq!(socks5_reply([5, 0, 0, 4], t), Ok(18));
        assert_eq!(socks5_reply([5, 0, 0, 3], t), Ok(DOMAIN_LENGTH_FOLLOWS));
        let e = socks5_reply([5, 5, 0, 1], t).unwrap_err();
        assert!(
            e.contains("127.0.0.1:1") && e.contains("connection refused"),
            "{e}"
        );
    }

    #[test]
    fn http_connect_request_and_status() {
        let t: SocketAddr = "[::1]:443".parse().unwrap();
        let req = http_connect_request(t, Some(&creds("Aladdin", "open sesame")));
        assert_eq!(
            req,
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\
             Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
        assert_eq!(
            http_connect_status(b"HTTP/1.1 200 Connection established\r\n\r\n", t),
            Ok(())
        );
        let e = http_connect_status(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", t);
        assert!(e.unwrap_err().contains("credentials"));
        let e = http_connect_status(b"HTTP/1.0 403 Forbidden\r\n\r\n", t).unwrap_err();
        assert!(
            e.contains("403 Forbidden") && e.contains("[::1]:443"),
            "{e}"
        );
        assert!(http_connect_status(b"SSH-2.0\r\n\r\n", t).is_err());
    }
}
