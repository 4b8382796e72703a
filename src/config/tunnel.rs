//! Generic proxies: SOCKS5 (RFC 1928, with RFC 1929 user/password) and HTTP CONNECT
//! (RFC 9110 §9.3.6, with Basic credentials). Unlike an MTProxy they only carry TCP: the
//! connection inside is the one the client would have made directly, transport included.
//!
//! Accepted forms of `--proxy`:
//!
//! | form                                          | kind                            |
//! |-----------------------------------------------|---------------------------------|
//! | `socks5://[user:pass@]host:port`              | SOCKS5 (`socks5h://` the same)  |
//! | `tg://socks?server=H&port=P[&user=U&pass=W]`  | SOCKS5, as Telegram shares it   |
//! | `http://[user:pass@]host:port`                | HTTP CONNECT                    |
//!
//! The targets are always IP addresses (DC addresses are), so the proxy resolves no names.

use std::fmt;

use super::proxy::{bad, percent_decode, ProxyLinkError};

/// The protocol spoken to the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelKind {
    /// SOCKS version 5, CONNECT command.
    Socks5,
    /// An HTTP/1.1 `CONNECT host:port` request.
    HttpConnect,
}

/// User name and password for the proxy. `Debug` leaves the password out.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A SOCKS5 or HTTP proxy every connection is tunnelled through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tunnel {
    /// What the proxy speaks.
    pub kind: TunnelKind,
    /// Host name or IP literal of the proxy.
    pub host: String,
    /// Its TCP port.
    pub port: u16,
    /// Credentials, when the proxy wants them.
    pub credentials: Option<Credentials>,
}

impl fmt::Display for Tunnel {
    /// `SOCKS5 proxy host:port` or `HTTP proxy host:port`: never the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TunnelKind::Socks5 => "SOCKS5",
            TunnelKind::HttpConnect => "HTTP",
        };
        if self.host.contains(':') {
            write!(f, "{kind} proxy [{}]:{}", self.host, self.port)
        } else {
            write!(f, "{kind} proxy {}:{}", self.host, self.port)
        }
    }
}

impl Tunnel {
    /// Parses `link` when it has one of the tunnel forms (`None` when it has not, so that it
    /// can be tried as an MTProxy link).
    pub fn parse(link: &str) -> Option<Result<Tunnel, ProxyLinkError>> {
        let lower = link.to_ascii_lowercase();
        if lower.starts_with("tg://socks?") || lower.starts_with("https://t.me/socks?") {
            return Some(from_query(&link[link.find('?')? + 1..]));
        }
        let (kind, rest) = if let Some(rest) = strip_scheme(link, &["socks5://", "socks5h://"]) {
            (TunnelKind::Socks5, rest)
        } else {
            let rest = strip_scheme(link, &["http://"])?;
            let host = rest.split(['/', '?']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
            if ["t.me", "telegram.me", "www.t.me"].contains(&host.as_str()) {
                return None; // http://t.me/proxy?...: an MTProxy link
            }
            (TunnelKind::HttpConnect, rest)
        };
        Some(from_url(kind, rest))
    }
}

fn strip_scheme<'a>(link: &'a str, schemes: &[&str]) -> Option<&'a str> {
    schemes.iter().find_map(|s| {
        link.get(..s.len())
            .filter(|head| head.eq_ignore_ascii_case(s))
            .map(|_| &link[s.len()..])
    })
}

/// `[user:pass@]host:port`, with an optional trailing `/`.
fn from_url(kind: TunnelKind, rest: &str) -> Result<Tunnel, ProxyLinkError> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err(bad(
            "a SOCKS5 or HTTP proxy is scheme://[user:pass@]host:port, without a path or query",
        ));
    }
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let credentials = userinfo
        .map(|u| {
            let (user, password) = u.split_once(':').unwrap_or((u, ""));
            let decode =
                |s: &str| percent_decode(s).ok_or_else(|| bad("credentials: bad %-escape"));
            Ok::<_, ProxyLinkError>(Credentials {
                user: decode(user)?,
                password: decode(password)?,
            })
        })
        .transpose()?;
    let (host, port) = split_host_port(hostport)?;
    tunnel(kind, host, port, credentials)
}

/// Telegram's `tg://socks?server=H&port=P&user=U&pass=W`.
fn from_query(query: &str) -> Result<Tunnel, ProxyLinkError> {
    let (mut server, mut port, mut user, mut pass) = (None, None, None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v).ok_or_else(|| bad(format!("{k}: bad %-escape")))?;
        match k {
            "server" => server = Some(v),
            "port" => port = Some(v),
            "user" => user = Some(v),
            "pass" => pass = Some(v),
            _ => {}
        }
    }
    let host = server
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("the link has no server="))?;
    let port = port.ok_or_else(|| bad("the link has no port="))?;
    let credentials = user.map(|user| Credentials {
        user,
        password: pass.unwrap_or_default(),
    });
    tunnel(
        TunnelKind::Socks5,
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        parse_port(&port)?,
        credentials,
    )
}

fn split_host_port(s: &str) -> Result<(String, u16), ProxyLinkError> {
    let missing = || bad(format!("`{s}` has no :port (scheme://host:port)"));
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(missing)?;
        (host, after.strip_prefix(':').ok_or_else(missing)?)
    } else {
        s.rsplit_once(':').ok_or_else(missing)?
    };
    Ok((host.to_string(), parse_port(port)?))
}

fn parse_port(port: &str) -> Result<u16, ProxyLinkError> {
    port.parse()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| bad(format!("port `{port}` is not a port number (1..65535)")))
}

fn tunnel(
    kind: TunnelKind,
    host: String,
    port: u16,
    credentials: Option<Credentials>,
) -> Result<Tunnel, ProxyLinkError> {
    if host.is_empty() {
        return Err(bad("the proxy has no host"));
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return Err(bad(format!("`{host}` is not a host name or IP address")));
    }
    if let Some(c) = &credentials {
        // RFC 1929 carries each in one length byte.
        if kind == TunnelKind::Socks5 && (c.user.len() > 255 || c.password.len() > 255) {
            return Err(bad("SOCKS5 user names and passwords are at most 255 bytes"));
        }
        if c.user.is_empty() {
            return Err(bad("the proxy credentials have an empty user name"));
        }
    }
    Ok(Tunnel {
        kind,
        host,
        port,
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(link: &str) -> Tunnel {
        Tunnel::parse(link).expect("a tunnel form").unwrap()
    }

    #[test]
    fn parses_every_form() {
        let t = ok("socks5://127.0.0.1:1080");
        assert_eq!(
            (t.kind, t.host.as_str(), t.port, t.credentials),
            (TunnelKind::Socks5, "127.0.0.1", 1080, None)
        );
        let t = ok("SOCKS5H://al%40ice:p%3Ass@proxy.example:9050/");
        let c = t.credentials.clone().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("al@ice", "p:ss"));
        assert_eq!(t.to_string(), "SOCKS5 proxy proxy.example:9050");
        assert!(!format!("{t:?}").contains("p:ss"));
        let t = ok("http://u:pw@[::1]:3128");
        assert_eq!((t.kind, t.host.as_str()), (TunnelKind::HttpConnect, "::1"));
        assert_eq!(t.to_string(), "HTTP proxy [::1]:3128");
        let t = ok("tg://socks?server=10.0.0.1&port=1080&user=bob&pass=x");
        assert_eq!(t.credentials.unwrap().user, "bob");
    }

    #[test]
    fn leaves_mtproxy_links_alone() {
        for link in [
            "http://t.me/proxy?server=h&port=1&secret=00",
            "https://t.me/proxy?server=h&port=1&secret=00",
            "tg://proxy?server=h&port=1&secret=00",
        ] {
            assert!(Tunnel::parse(link).is_none(), "{link}");
        }
    }

    #[test]
    fn refuses_bad_urls_in_one_line() {
        for (link, want) in [
            ("socks5://host", "has no :port"),
            ("socks5://host:0", "not a port number"),
            ("http://host:3128/path", "without a path"),
            ("socks5://:1080", "no host"),
            ("socks5://:pw@h:1", "empty user name"),
            ("tg://socks?port=1", "no server="),
            ("socks5://h st:1", "not a host name"),
        ] {
            let e = Tunnel::parse(link).unwrap().unwrap_err().to_string();
            assert!(e.contains(want) && !e.contains('\n'), "{link}: {e}");
        }
        let long = format!("socks5://{}:x@h:1", "u".repeat(256));
        assert!(Tunnel::parse(&long).unwrap().is_err());
    }
}
