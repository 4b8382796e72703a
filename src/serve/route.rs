//! The URL contract of `tgmux serve` (issue 14): request path and query → [`Route`] and
//! [`Query`], or a 400/404 with a short reason. Pure; fuzzed with the Range parser.
//!
//! | path | route |
//! |---|---|
//! | `/<username>/<msg>`, `/c/<channel_id>/<msg>` | the original document |
//! | `.../<msg>.mp4` | remuxed to fragmented MP4 |
//! | `.../<msg>.m3u` | a one-entry playlist for VLC/mpv/Kodi |
//! | `.../<msg>/index.m3u8`, `init.mp4`, `seg-<k>.m4s` | HLS of fMP4 segments |
//! | `.../<msg>/subs-<track>.vtt` | a text subtitle track as WebVTT |
//! | `.../<msg>/info` | JSON metadata |
//! | `/watch/<username>/<msg>`, `/watch/c/<channel_id>/<msg>` | the player page |
//! | `/healthz`, `/metrics` | health and Prometheus metrics |
//!
//! Query parameters: `token`, `exp` + `sig` (see [`super::auth`]), `download=0|1`; any other
//! parameter is ignored (players add cache-busters), a repeated known one is a 400.

/// A message that carries a document: the part of a t.me link after the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Link {
    /// `t.me/<username>/<msg>`: a public channel, group or bot by username.
    Username {
        /// 1–32 of `[A-Za-z0-9_]`, as written in the URL.
        username: String,
        /// Message id, 1..=i32::MAX.
        msg: i32,
    },
    /// `t.me/c/<channel_id>/<msg>`: a channel or supergroup by id (needs membership).
    Channel {
        /// Channel id as t.me writes it (without the -100 prefix), > 0.
        id: i64,
        /// Message id.
        msg: i32,
    },
}

impl Link {
    /// The document's own path, `/alice/12` or `/c/123/12`: the base of every route of it.
    pub fn path(&self) -> String {
        match self {
            Link::Username { username, msg } => format!("/{username}/{msg}"),
            Link::Channel { id, msg } => format!("/c/{id}/{msg}"),
        }
    }

    /// The message id.
    pub fn msg(&self) -> i32 {
        match self {
            Link::Username { msg, .. } | Link::Channel { msg, .. } => *msg,
        }
    }
}

/// What a route serves of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The file as stored, with ranges.
    Original,
    /// Remuxed to fragmented MP4, streamed.
    Mp4,
    /// An M3U playlist naming the stream, for external players.
    M3u,
    /// The HLS media playlist.
    Playlist,
    /// The HLS init segment (ftyp + moov).
    Init,
    /// HLS media segment `k` (0-based).
    Segment(u32),
    /// Text subtitle track `n` as WebVTT.
    Subtitles(u32),
    /// JSON metadata.
    Info,
}

/// A parsed request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/healthz`.
    Healthz,
    /// `/metrics`.
    Metrics,
    /// A resource of one document.
    Doc(Link, Resource),
    /// `/watch/...`: the player page for a document.
    Watch(Link),
}

impl Route {
    /// The document the route is about, if any.
    pub fn link(&self) -> Option<&Link> {
        match self {
            Route::Doc(l, _) | Route::Watch(l) => Some(l),
            Route::Healthz | Route::Metrics => None,
        }
    }

    /// The route's label in `/metrics`.
    pub fn label(&self) -> &'static str {
        match self {
            Route::Healthz => "healthz",
            Route::Metrics => "metrics",
            Route::Watch(_) => "watch",
            Route::Doc(_, r) => match r {
                Resource::Original => "original",
                Resource::Mp4 => "mp4",
                Resource::M3u => "m3u",
                Resource::Playlist => "hls_playlist",
                Resource::Init => "hls_init",
                Resource::Segment(_) => "hls_segment",
                Resource::Subtitles(_) => "subtitles",
                Resource::Info => "info",
            },
        }
    }
}

/// The query parameters the server reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `token=`.
    pub token: Option<String>,
    /// `exp=` and `sig=`, present together.
    pub signed: Option<(u64, [u8; 32])>,
    /// `download=1`: Content-Disposition attachment.
    pub download: bool,
}

impl Query {
    /// The credential parameters again (`token`, `exp`, `sig`), percent-encoded, for links a
    /// page or playlist hands on to the player; empty when there are none.
    pub fn credentials(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.token {
            parts.push(format!("token={}", percent_encode(t)));
        }
        if let Some((exp, sig)) = &self.signed {
            parts.push(format!("exp={exp}&sig={}", super::auth::hex(sig)));
        }
        parts.join("&")
    }
}

/// A request the URL contract refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    /// 400 or 404.
    pub status: u16,
    /// A short reason, sent as the text body.
    pub message: &'static str,
}

fn not_found() -> RouteError {
    RouteError {
        status: 404,
        message: "not found",
    }
}

fn bad(message: &'static str) -> RouteError {
    RouteError {
        status: 400,
        message,
    }
}

/// Parses a request's path (as sent, percent-encoded) and query.
pub fn parse(path: &str, query: Option<&str>) -> Result<(Route, Query), RouteError> {
    let query = parse_query(query.unwrap_or(""))?;
    let path = path.strip_prefix('/').ok_or_else(not_found)?;
    let segments: Vec<String> = path
        .split('/')
        .map(|s| percent_decode(s).ok_or(bad("bad percent-encoding in path")))
        .collect::<Result<_, _>>()?;
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let route = match segs.as_slice() {
        ["healthz"] => Route::Healthz,
        ["metrics"] => Route::Metrics,
        // `/watch/<link>` when the rest is exactly a link; otherwise "watch" is a username.
        ["watch", rest @ ..] if matches!(parse_link(rest), Ok((_, []))) => {
            Route::Watch(parse_link(rest)?.0)
        }
        _ => parse_doc(&segs)?,
    };
    Ok((route, query))
}

fn parse_doc(segs: &[&str]) -> Result<Route, RouteError> {
    // The last path part of the link may carry `.mp4` or `.m3u`.
    let (link, rest) = parse_link_with_suffix(segs)?;
    let (link, suffix) = link;
    let resource = match (suffix, rest) {
        (Suffix::None, []) => Resource::Original,
        (Suffix::Mp4, []) => Resource::Mp4,
        (Suffix::M3u, []) => Resource::M3u,
        (Suffix::None, [one]) => sub_resource(one)?,
        _ => return Err(not_found()),
    };
    Ok(Route::Doc(link, resource))
}

#[derive(Debug, Clone, Copy)]
enum Suffix {
    None,
    Mp4,
    M3u,
}

type LinkAndSuffix = (Link, Suffix);

fn parse_link_with_suffix<'a>(
    segs: &'a [&'a str],
) -> Result<(LinkAndSuffix, &'a [&'a str]), RouteError> {
    let msg_at = match segs {
        ["c", _, _, ..] => 2,
        [_, _, ..] => 1,
        _ => return Err(not_found()),
    };
    let last = segs[msg_at];
    let (msg, suffix) = if let Some(m) = last.strip_suffix(".mp4") {
        (m, Suffix::Mp4)
    } else if let Some(m) = last.strip_suffix(".m3u") {
        (m, Suffix::M3u)
    } else {
        (last, Suffix::None)
    };
    let mut head: Vec<&str> = segs[..msg_at].to_vec();
    head.push(msg);
    let (link, _) = parse_link(&head)?;
    Ok(((link, suffix), &segs[msg_at + 1..]))
}

/// `<username>/<msg>` or `c/<channel_id>/<msg>` at the front of `segs`, and what follows.
fn parse_link<'a>(segs: &'a [&'a str]) -> Result<(Link, &'a [&'a str]), RouteError> {
    match segs {
        ["c", id, msg, rest @ ..] => {
            let id = positive_decimal(id)
                .ok_or_else(not_found)?
                .ok_or(bad("channel id out of range"))?;
            Ok((
                Link::Channel {
                    id,
                    msg: message_id(msg)?,
                },
                rest,
            ))
        }
        [username, msg, rest @ ..] => {
            // "c" is the channel prefix, never a username (those have 4 or more characters).
            if username.is_empty()
                || *username == "c"
                || username.len() > 32
                || !username
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(not_found());
            }
            Ok((
                Link::Username {
                    username: (*username).to_string(),
                    msg: message_id(msg)?,
                },
                rest,
            ))
        }
        _ => Err(not_found()),
    }
}

fn message_id(s: &str) -> Result<i32, RouteError> {
    let n = positive_decimal(s)
        .ok_or_else(not_found)?
        .ok_or(bad("message id out of range"))?;
    i32::try_from(n).map_err(|_| bad("message id out of range"))
}

/// `Some(Some(n))` for a canonical decimal `n >= 1`, `Some(None)` for digits out of range
/// (0, or past i64), `None` when `s` is not digits in canonical form.
fn positive_decimal(s: &str) -> Option<Option<i64>> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    Some(s.parse::<i64>().ok().filter(|&n| n >= 1))
}

fn sub_resource(s: &str) -> Result<Resource, RouteError> {
    let number = |digits: &str| -> Result<u32, RouteError> {
        match positive_decimal(digits) {
            _ if digits == "0" => Ok(0),
            Some(Some(n)) => u32::try_from(n).map_err(|_| not_found()),
            _ => Err(not_found()),
        }
    };
    Ok(match s {
        "index.m3u8" => Resource::Playlist,
        "init.mp4" => Resource::Init,
        "info" => Resource::Info,
        _ => {
            if let Some(k) = s.strip_prefix("seg-").and_then(|r| r.strip_suffix(".m4s")) {
                Resource::Segment(number(k)?)
            } else if let Some(n) = s.strip_prefix("subs-").and_then(|r| r.strip_suffix(".vtt")) {
                Resource::Subtitles(number(n)?)
            } else {
                return Err(not_found());
            }
        }
    })
}

fn parse_query(q: &str) -> Result<Query, RouteError> {
    let mut out = Query::default();
    let (mut exp, mut sig, mut download) = (None, None, None);
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k).ok_or(bad("bad percent-encoding in query"))?;
        let v = percent_decode(v).ok_or(bad("bad percent-encoding in query"))?;
        let slot = match k.as_str() {
            "token" => &mut out.token,
            "exp" => &mut exp,
            "sig" => &mut sig,
            "download" => &mut download,
            _ => continue,
        };
        if slot.replace(v).is_some() {
            return Err(bad("repeated query parameter"));
        }
    }
    out.download = match download.as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(_) => return Err(bad("download must be 0 or 1")),
    };
    out.signed = match (exp, sig) {
        (None, None) => None,
        (Some(e), Some(s)) => {
            let exp = (!e.is_empty() && e.len() <= 20 && e.bytes().all(|b| b.is_ascii_digit()))
                .then(|| e.parse::<u64>().ok())
                .flatten()
                .ok_or(bad("exp must be a Unix time"))?;
            Some((exp, parse_sig(&s).ok_or(bad("sig must be 64 hex digits"))?))
        }
        _ => return Err(bad("exp and sig go together")),
    };
    Ok(out)
}

fn parse_sig(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(b.chunks(2)) {
        *o = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    Some(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// RFC 3986 percent-decoding (no `+` → space) into UTF-8; `None` for a bad escape or bytes
/// that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = hex_digit(*b.get(i + 1)?)?;
            let lo = hex_digit(*b.get(i + 2)?)?;
            out.push((hi << 4) | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(p: &str) -> Result<Route, RouteError> {
        parse(p, None).map(|(r, _)| r)
    }

    fn alice(msg: i32) -> Link {
        Link::Username {
            username: "alice".into(),
            msg,
        }
    }

    #[test]
    fn every_route() {
        let ch = Link::Channel {
            id: 1234567890,
            msg: 7,
        };
        for (p, want) in [
            ("/healthz", Route::Healthz),
            ("/metrics", Route::Metrics),
            ("/alice/12", Route::Doc(alice(12), Resource::Original)),
            ("/alice/12.mp4", Route::Doc(alice(12), Resource::Mp4)),
            ("/alice/12.m3u", Route::Doc(alice(12), Resource::M3u)),
            (
                "/alice/12/index.m3u8",
                Route::Doc(alice(12), Resource::Playlist),
            ),
            ("/alice/12/init.mp4", Route::Doc(alice(12), Resource::Init)),
            (
                "/alice/12/seg-0.m4s",
                Route::Doc(alice(12), Resource::Segment(0)),
            ),
            (
                "/alice/12/seg-31.m4s",
                Route::Doc(alice(12), Resource::Segment(31)),
            ),
            (
                "/alice/12/subs-3.vtt",
                Route::Doc(alice(12), Resource::Subtitles(3)),
            ),
            ("/alice/12/info", Route::Doc(alice(12), Resource::Info)),
            ("/watch/alice/12", Route::Watch(alice(12))),
            (
                "/c/1234567890/7",
                Route::Doc(ch.clone(), Resource::Original),
            ),
            ("/c/1234567890/7.mp4", Route::Doc(ch.clone(), Resource::Mp4)),
            (
                "/c/1234567890/7/seg-2.m4s",
                Route::Doc(ch.clone(), Resource::Segment(2)),
            ),
            ("/watch/c/1234567890/7", Route::Watch(ch.clone())),
            // "watch" and "healthz" are usernames too where the shape says so.
            (
                "/watch/5",
                Route::Doc(
                    Link::Username {
                        username: "watch".into(),
                        msg: 5,
                    },
                    Resource::Original,
                ),
            ),
            (
                "/watch/5/info",
                Route::Doc(
                    Link::Username {
                        username: "watch".into(),
                        msg: 5,
                    },
                    Resource::Info,
                ),
            ),
            (
                "/Al%69ce_9/12",
                Route::Doc(
                    Link::Username {
                        username: "Alice_9".into(),
                        msg: 12,
                    },
                    Resource::Original,
                ),
            ),
        ] {
            assert_eq!(route(p), Ok(want), "{p}");
        }
        assert_eq!(ch.path(), "/c/1234567890/7");
        assert_eq!(alice(12).path(), "/alice/12");
    }

    #[test]
    fn refused_paths() {
        for p in [
            "/",
            "",
            "alice/12",
            "/alice",
            "/alice/",
            "/alice/12/",
            "/alice/x",
            "/alice/12x",
            "/alice/012",
            "/alice/-1",
            "/alice/+1",
            "/al ice/1",
            "/al%2Fice/1",
            "//1",
            "/alice/12/seg-.m4s",
            "/alice/12/seg-01.m4s",
            "/alice/12/seg-4294967296.m4s",
            "/alice/12/nope",
            "/alice/12.mp4/info",
            "/alice/12.mkv",
            "/c/x/1",
            "/c/1",
            "/watch/alice",
            "/watch/alice/12/info",
            "/healthz/x",
            "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/1",
            "/alice/12/info/x",
        ] {
            assert_eq!(route(p).map_err(|e| e.status), Err(404), "{p}");
        }
        for p in [
            "/alice/0",
            "/alice/2147483648",
            "/c/0/1",
            "/c/99999999999999999999/1",
            "/alice/%zz",
            "/alice/%C3",
        ] {
            assert_eq!(route(p).map_err(|e| e.status), Err(400), "{p}");
        }
        assert_eq!(
            route("/alice/2147483647"),
            Ok(Route::Doc(alice(i32::MAX), Resource::Original))
        );
    }

    #[test]
    fn queries() {
        let q = |s: &str| parse("/alice/1", Some(s)).map(|(_, q)| q);
        assert_eq!(q(""), Ok(Query::default()));
        assert!(q("download=1").unwrap().download);
        assert!(!q("download=0&_=123").unwrap().download);
        assert_eq!(q("token=a%2Bb+c").unwrap().token.as_deref(), Some("a+b+c"));
        let sig = "ab".repeat(32);
        assert_eq!(
            q(&format!("exp=17&sig={sig}")).unwrap().signed,
            Some((17, [0xab; 32]))
        );
        assert_eq!(
            q(&format!("exp=17&sig={}", sig.to_uppercase()))
                .unwrap()
                .signed,
            Some((17, [0xab; 32]))
        );
        for bad in [
            "download=2",
            "download=1&download=1",
            "exp=1",
            "sig=00",
            "exp=x&sig=",
            &format!("exp=-1&sig={sig}"),
            &format!("exp=1&sig={}", "g".repeat(64)),
            &format!("exp=1&sig={}", "a".repeat(62)),
            &format!("exp=99999999999999999999999&sig={sig}"),
            "token=%",
            "token=a&token=b",
        ] {
            assert_eq!(q(bad).map_err(|e| e.status), Err(400), "{bad}");
        }
        let creds = Query {
            token: Some("a b&c".into()),
            signed: Some((5, [1; 32])),
            download: true,
        };
        assert_eq!(
            creds.credentials(),
            format!("token=a%20b%26c&exp=5&sig={}", "01".repeat(32))
        );
    }
}
