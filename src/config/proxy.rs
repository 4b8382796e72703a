//! `--proxy`: how every connection leaves this machine. Either an MTProxy link,
//! `tg://proxy?server=HOST&port=PORT&secret=SECRET` or the same query on `https://t.me/proxy`
//! (also `http://`, `t.me/proxy`, `tg:proxy`), or a generic tunnel (SOCKS5 or HTTP CONNECT,
//! see [`super::tunnel`]).
//!
//! An MTProxy
//! The secret is hex (or base64, standard or URL-safe, padding optional, as some links carry
//! it) and is one of:
//!
//! | bytes                | kind                                                     |
//! |----------------------|----------------------------------------------------------|
//! | 16                   | plain: obfuscated2 keyed by the secret                   |
//! | `dd` + 16            | the same, with padded intermediate framing inside        |
//! | `ee` + 16 + domain   | fake-TLS: refused, not supported                         |
//!
//! Anything else is refused as an unknown secret kind.

use std::fmt;

use super::tunnel::Tunnel;
use crate::mtproto::transport::ProxySecret;

/// What every connection goes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proxy {
    /// An MTProxy: the connection is obfuscated2 keyed by its secret.
    Mt(MtProxy),
    /// A SOCKS5 or HTTP CONNECT proxy: a TCP tunnel to the DC, the transport unchanged.
    Tunnel(Tunnel),
}

impl Proxy {
    /// Parses a `--proxy` value: a SOCKS5 or HTTP proxy URL (or a `tg://socks` link), else an
    /// MTProxy link.
    pub fn parse(link: &str) -> Result<Self, ProxyLinkError> {
        match Tunnel::parse(link.trim()) {
            Some(tunnel) => Ok(Proxy::Tunnel(tunnel?)),
            None => MtProxy::parse(link).map(Proxy::Mt),
        }
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proxy::Mt(p) => write!(f, "proxy {p}"),
            Proxy::Tunnel(t) => t.fmt(f),
        }
    }
}

/// An MTProxy to send every connection through.
#[derive(Clone, PartialEq, Eq)]
pub struct MtProxy {
    /// Host name or IP literal.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The secret that keys obfuscated2.
    pub secret: ProxySecret,
}

impl fmt::Debug for MtProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret stays out of logs.
        f.debug_struct("MtProxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("padded_only", &self.secret.padded_only())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for MtProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Why a proxy link is unusable (one line, for `tgmux: error: --proxy: ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyLinkError(pub String);

impl fmt::Display for ProxyLinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--proxy: {}", self.0)
    }
}

impl std::error::Error for ProxyLinkError {}

/// A [`ProxyLinkError`]; control characters of quoted input are escaped (one line).
pub(crate) fn bad(msg: impl Into<String>) -> ProxyLinkError {
    ProxyLinkError(crate::text::one_line(msg.into()))
}

impl MtProxy {
    /// Parses an MTProxy link.
    pub fn parse(link: &str) -> Result<Self, ProxyLinkError> {
        let link = link.trim();
        let lower = link.to_ascii_lowercase();
        let (path, query) = link.split_once('?').ok_or_else(|| {
            bad("expected tg://proxy?server=HOST&port=PORT&secret=SECRET (no query in the link)")
        })?;
        let path_lower = &lower[..path.len()];
        let known = [
            "tg://proxy",
            "tg:proxy",
            "https://t.me/proxy",
            "http://t.me/proxy",
            "t.me/proxy",
            "https://telegram.me/proxy",
        ];
        if !known.contains(&path_lower.trim_end_matches('/')) {
            return Err(bad(format!(
                "`{path}` is not an MTProxy link (expected tg://proxy?... or https://t.me/proxy?...)"
            )));
        }
        let (mut server, mut port, mut secret) = (None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v).ok_or_else(|| bad(format!("{k}: bad %-escape")))?;
            match k {
                "server" => server = Some(v),
                "port" => port = Some(v),
                "secret" => secret = Some(v),
                _ => {} // other parameters are not ours to judge
            }
        }
        let host = server
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("the link has no server="))?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&host)
            .to_string();
        let port = port.ok_or_else(|| bad("the link has no port="))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| bad(format!("port `{port}` is not a port number (1..65535)")))?;
        let secret = secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("the link has no secret="))?;
        let bytes = decode_secret(&secret)?;
        let secret = match bytes.as_slice() {
            [0xee, ..] => {
                return Err(bad(
                    "fake-TLS secrets (ee...) are not supported; use a plain or dd secret",
                ))
            }
            [0xdd, rest @ ..] if rest.len() == 16 => ProxySecret::parse(&bytes),
            _ if bytes.len() == 16 => ProxySecret::parse(&bytes),
            [0xdd, rest @ ..] => {
                return Err(bad(format!(
                    "a dd secret is dd followed by 16 bytes, not {}",
                    rest.len()
                )))
            }
            [] => return Err(bad("the secret is empty (expected 16 bytes, or dd + 16)")),
            [first, ..] => {
                return Err(bad(format!(
                    "unknown secret kind: {} bytes starting with {first:02x} (expected 16 bytes, dd + 16, or ee + 16 + domain)",
                    bytes.len(),
                )))
            }
        }
        .map_err(|e| bad(format!("secret: {e}")))?;
        Ok(MtProxy { host, port, secret })
    }
}

/// `%XX` escapes and `+` as a space (form encoding), as links may carry them.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let h = b.get(i + 1..i + 3)?;
                let h = std::str::from_utf8(h).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Hex when it is all hex digits of even length, else base64 (standard or URL-safe).
fn decode_secret(s: &str) -> Result<Vec<u8>, ProxyLinkError> {
    if s.len() % 2 == 0 && s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Ok((0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
            .collect());
    }
    base64_decode(s).ok_or_else(|| bad("secret is neither hex nor base64"))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // One leftover character (6 bits) cannot end a base64 string.
    if bits >= 6 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn parses_links() {
        let p =
            MtProxy::parse(&format!("tg://proxy?server=1.2.3.4&port=443&secret={HEX}")).unwrap();
        assert_eq!((p.host.as_str(), p.port), ("1.2.3.4", 443));
        assert!(!p.secret.padded_only());
        assert_eq!(p.secret.key()[15], 0xff);
        let p = MtProxy::parse(&format!(
            "https://t.me/proxy?port=8443&secret=dd{HEX}&server=proxy.example"
        ))
        .unwrap();
        assert_eq!(p.to_string(), "proxy.example:8443");
        assert!(p.secret.padded_only());
        // The same 17 bytes in URL-safe base64, without padding.
        let p =
            MtProxy::parse("tg://proxy?server=::1&port=1&secret=3QARIjNEVWZ3iJmqu8zd7v8").unwrap();
        assert!(p.secret.padded_only());
        assert_eq!(p.secret.key()[0], 0x00);
        assert_eq!(p.to_string(), "[::1]:1");
        assert!(!format!("{p:?}").contains("secret: "), "{p:?}");
    }

    #[test]
    fn refuses_bad_links() {
        let cases = [
            ("tg://proxy?port=1&secret=".to_string() + HEX, "no server"),
            ("tg://proxy?server=h&secret=".to_string() + HEX, "no port"),
            ("tg://proxy?server=h&port=1".to_string(), "no secret"),
            (
                "tg://proxy?server=h&port=99999&secret=".to_string() + HEX,
                "not a port",
            ),
            (
                "tg://proxy?server=h&port=1&secret=zz!".to_string(),
                "neither hex nor base64",
            ),
            (
                "tg://proxy?server=h&port=1&secret=ee".to_string() + HEX + "676f6f676c652e636f6d",
                "fake-TLS",
            ),
            (
                "tg://proxy?server=h&port=1&secret=dd0011".to_string(),
                "dd followed by 16",
            ),
            (
                "tg://proxy?server=h&port=1&secret=0011".to_string(),
                "unknown secret kind",
            ),
            // Found by fuzz/proxy_url: base64 padding alone decodes to nothing.
            (
                "tg://proxy?server=h&port=1&secret====".to_string(),
                "secret is empty",
            ),
            (
                "https://example.com/?server=h&port=1&secret=".to_string() + HEX,
                "not an MTProxy link",
            ),
            ("1.2.3.4:443".to_string(), "no query"),
        ];
        for (link, want) in cases {
            let e = MtProxy::parse(&link).unwrap_err().to_string();
            assert!(e.contains(want) && !e.contains('\n'), "{link}: {e}");
        }
    }

    #[test]
    fn errors_quoting_the_input_stay_one_line() {
        for link in [
            "tg://pro\nxy?server=h",
            "socks5://h\n:1",
            "http://a\r\nb:1/x",
        ] {
            let e = Proxy::parse(link).unwrap_err().to_string();
            assert!(!e.contains('\n') && !e.contains('\r'), "{e}");
        }
    }

    #[test]
    fn tunnels_and_mtproxies_are_told_apart() {
        let mt = format!("http://t.me/proxy?server=h&port=1&secret={HEX}");
        assert!(matches!(Proxy::parse(&mt), Ok(Proxy::Mt(_))));
        for link in [
            "socks5://h:1080",
            "http://h:3128",
            "tg://socks?server=h&port=1",
        ] {
            assert!(matches!(Proxy::parse(link), Ok(Proxy::Tunnel(_))), "{link}");
        }
    }
}
