//! t.me links as users paste them, parsed into what they point at.
//!
//! Accepted (scheme optional, `www.` optional, host `t.me`, `telegram.me` or `telegram.dog`,
//! case-insensitive host, a trailing `/` and a `#fragment` ignored):
//!
//! | form | meaning |
//! |---|---|
//! | `t.me/<user>/<msg>` (`?single`, `?comment=<id>`, `?thread=<topic>`) | message of a public channel or group |
//! | `t.me/s/<user>/<msg>` | the same, from the web preview |
//! | `t.me/<user>/<topic>/<msg>` | message in a forum topic |
//! | `t.me/c/<channel>/<msg>`, `t.me/c/<channel>/<topic>/<msg>` | private channel (bare id; needs membership) |
//! | `tg://resolve?domain=<user>&post=<msg>` (`&thread=`, `&comment=`, `&single`) | as `t.me/<user>/<msg>` |
//! | `tg://privatepost?channel=<id>&post=<msg>` (`&thread=`) | as `t.me/c/<id>/<msg>` |
//! | `@user/<msg>` | as `t.me/<user>/<msg>` |
//! | `t.me/<user>`, `t.me/c/<channel>`, `@user` | a whole channel (no message) |
//!
//! Anything else is a [`LinkError`] whose one-line message lists these forms. Parsing is total
//! (never panics) and allocation-bounded by the input: the `resolve_link` fuzz target checks it.

use std::fmt;

/// Who a link points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// A public channel or group by username (without `@`, as written).
    Username(String),
    /// A channel by its bare id (`t.me/c/<id>`): private, reachable only as a member.
    Channel(i64),
}

/// A parsed link: a peer and, usually, a message of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    /// The channel or group.
    pub peer: Peer,
    /// The message id; `None` for a link to the whole channel.
    pub msg: Option<i32>,
    /// The forum topic (`t.me/<user>/<topic>/<msg>` or `?thread=`).
    pub topic: Option<i32>,
    /// A comment in the channel's discussion group (`?comment=<id>`): the message `msg` is the
    /// channel post, the comment is message `<id>` of the linked group.
    pub comment: Option<i32>,
    /// `?single`: this album item alone (albums are only fetched whole when asked anyway).
    pub single: bool,
}

/// Why a text is not a link we understand; Display is one line ending in the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkError {
    /// What is wrong with this text.
    pub reason: String,
}

/// The forms named in every [`LinkError`].
pub const ACCEPTED_FORMS: &str = "t.me/<user>/<msg>, t.me/s/<user>/<msg>, \
t.me/<user>/<topic>/<msg>, t.me/<user>/<msg>?comment=<id>, t.me/c/<channel>/<msg>, \
t.me/c/<channel>/<topic>/<msg>, tg://resolve?domain=<user>&post=<msg>, \
tg://privatepost?channel=<id>&post=<msg>, @user/<msg> (telegram.me and telegram.dog too)";

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; accepted links: {ACCEPTED_FORMS}", self.reason)
    }
}

impl std::error::Error for LinkError {}

/// A [`LinkError`]; control characters of the text quoted in `reason` (a newline in a pasted
/// link) are written as escapes, so the message stays one line.
fn bad(reason: impl Into<String>) -> LinkError {
    LinkError {
        reason: crate::text::one_line(reason.into()),
    }
}

/// Longest text looked at (links are short; this bounds work on garbage).
const MAX_LEN: usize = 2048;

/// Hosts of t.me links (compared case-insensitively, after an optional `www.`).
const HOSTS: [&str; 3] = ["t.me", "telegram.me", "telegram.dog"];

/// Path words of t.me that are not usernames (`s` and `c` start preview and private links).
const RESERVED: [&str; 11] = [
    "s",
    "c",
    "joinchat",
    "addstickers",
    "addemoji",
    "proxy",
    "socks",
    "share",
    "login",
    "iv",
    "setlanguage",
];

/// Whether `s` can be a username: 1..=32 of `[A-Za-z0-9_]`, starting with a letter. Telegram
/// itself wants 4 or 5 characters at least; shorter ones are allowed for test servers.
pub fn is_username(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A positive decimal id of at most `max` (no sign, no leading zeros beyond "0" itself).
fn positive<T: TryFrom<u64>>(s: &str, what: &str, max: u64) -> Result<T, LinkError> {
    let err = || bad(format!("`{s}` is not a valid {what}"));
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let v: u64 = s.parse().map_err(|_| err())?;
    if v == 0 || v > max {
        return Err(err());
    }
    T::try_from(v).map_err(|_| err())
}

fn msg_id(s: &str) -> Result<i32, LinkError> {
    positive(s, "message id", i32::MAX as u64)
}

fn channel_id(s: &str) -> Result<i64, LinkError> {
    positive(s, "channel id", i64::MAX as u64)
}

fn username(s: &str) -> Result<String, LinkError> {
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) || s.starts_with('+') {
        return Err(bad(format!(
            "`{s}` links are not message links (for an invite, join first and use the t.me/c/ link of a message)"
        )));
    }
    if !is_username(s) {
        return Err(bad(format!("`{s}` is not a valid username")));
    }
    Ok(s.to_string())
}

/// The query parameters we read; others are ignored (e.g. `t=` timestamps).
#[derive(Default)]
struct Query<'a> {
    single: bool,
    comment: Option<&'a str>,
    thread: Option<&'a str>,
    domain: Option<&'a str>,
    post: Option<&'a str>,
    channel: Option<&'a str>,
}

fn query(q: &str) -> Result<Query<'_>, LinkError> {
    let mut out = Query::default();
    for item in q.split('&').filter(|i| !i.is_empty()) {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        let slot = match k {
            "single" => {
                out.single = true;
                continue;
            }
            "comment" => &mut out.comment,
            "thread" => &mut out.thread,
            "domain" => &mut out.domain,
            "post" => &mut out.post,
            "channel" => &mut out.channel,
            _ => continue,
        };
        if slot.replace(v).is_some() {
            return Err(bad(format!("`{k}` given twice")));
        }
    }
    Ok(out)
}

impl Link {
    /// Parses one link (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Link, LinkError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(bad("empty link"));
        }
        if text.len() > MAX_LEN {
            return Err(bad(format!("link longer than {MAX_LEN} characters")));
        }
        let text = text.split_once('#').map_or(text, |(a, _)| a);
        let (body, q) = text.split_once('?').unwrap_or((text, ""));
        let q = query(q)?;
        let lower = body.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("tg://") {
            return Self::tg(rest.trim_end_matches('/'), &q);
        }
        if let Some(rest) = body.strip_prefix('@') {
            let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
            return Self::public(&segs, &q);
        }
        let mut rest = body;
        for scheme in ["https://", "http://"] {
            if lower.starts_with(scheme) {
                rest = &body[scheme.len()..];
            }
        }
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = host.to_ascii_lowercase();
        let host = host.strip_prefix("www.").unwrap_or(&host);
        if !HOSTS.contains(&host) {
            return Err(bad(format!("`{text}` is not a t.me link")));
        }
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return Err(bad("the link names no channel"));
        }
        let segs: Vec<&str> = path.split('/').collect();
        match segs[0] {
            "c" => Self::private(&segs[1..], &q),
            "s" if segs.len() > 1 => Self::public(&segs[1..], &q),
            _ => Self::public(&segs, &q),
        }
    }

    /// `<user>[/<msg>|/<topic>/<msg>]`.
    fn public(segs: &[&str], q: &Query<'_>) -> Result<Link, LinkError> {
        let peer = Peer::Username(username(segs[0])?);
        Self::post(peer, &segs[1..], q)
    }

    /// `<channel>[/<msg>|/<topic>/<msg>]` after `c/`.
    fn private(segs: &[&str], q: &Query<'_>) -> Result<Link, LinkError> {
        let Some(first) = segs.first() else {
            return Err(bad("t.me/c/ needs a channel id"));
        };
        if q.comment.is_some() {
            return Err(bad(
                "comments are linked through the channel's public username",
            ));
        }
        Self::post(Peer::Channel(channel_id(first)?), &segs[1..], q)
    }

    /// The message part: nothing, `<msg>` or `<topic>/<msg>`, plus the query.
    fn post(peer: Peer, segs: &[&str], q: &Query<'_>) -> Result<Link, LinkError> {
        let (topic, msg) = match segs {
            [] => (None, None),
            [m] => (None, Some(msg_id(m)?)),
            [t, m] => (Some(msg_id(t)?), Some(msg_id(m)?)),
            _ => return Err(bad("too many path segments")),
        };
        let thread = q.thread.map(msg_id).transpose()?;
        if topic.is_some() && thread.is_some() {
            return Err(bad("a topic given twice (path and ?thread=)"));
        }
        let comment = q.comment.map(msg_id).transpose()?;
        if msg.is_none() && (comment.is_some() || thread.is_some() || q.single) {
            return Err(bad("?comment=, ?thread= and ?single need a message id"));
        }
        Ok(Link {
            peer,
            msg,
            topic: topic.or(thread),
            comment,
            single: q.single,
        })
    }

    /// `tg://resolve?...` and `tg://privatepost?...` (`rest` after the scheme, lower-cased).
    fn tg(rest: &str, q: &Query<'_>) -> Result<Link, LinkError> {
        let post: Vec<&str> = q.post.into_iter().collect();
        match rest {
            "resolve" => {
                let domain = q.domain.ok_or_else(|| bad("tg://resolve needs domain="))?;
                let peer = Peer::Username(username(domain)?);
                Self::post(peer, &post, q)
            }
            "privatepost" => {
                let channel = q
                    .channel
                    .ok_or_else(|| bad("tg://privatepost needs channel="))?;
                if post.is_empty() {
                    return Err(bad("tg://privatepost needs post="));
                }
                Self::private(&[channel, post[0]], q)
            }
            _ => Err(bad(format!("tg://{rest} is not a message link"))),
        }
    }

    /// The canonical `https://t.me/...` spelling.
    pub fn to_url(&self) -> String {
        let mut s = match &self.peer {
            Peer::Username(u) => format!("https://t.me/{u}"),
            Peer::Channel(id) => format!("https://t.me/c/{id}"),
        };
        if let Some(t) = self.topic {
            s.push_str(&format!("/{t}"));
        }
        if let Some(m) = self.msg {
            s.push_str(&format!("/{m}"));
        }
        let mut q = Vec::new();
        if self.single {
            q.push("single".to_string());
        }
        if let Some(c) = self.comment {
            q.push(format!("comment={c}"));
        }
        if !q.is_empty() {
            s.push('?');
            s.push_str(&q.join("&"));
        }
        s
    }
}

impl std::str::FromStr for Link {
    type Err = LinkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Link::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(u: &str, msg: Option<i32>) -> Link {
        Link {
            peer: Peer::Username(u.into()),
            msg,
            topic: None,
            comment: None,
            single: false,
        }
    }

    #[test]
    fn every_public_form() {
        let want = user("chan", Some(123));
        for text in [
            "https://t.me/chan/123",
            "http://t.me/chan/123",
            "t.me/chan/123",
            "T.ME/chan/123/",
            "https://www.t.me/chan/123",
            "https://telegram.me/chan/123",
            "www.telegram.me/chan/123",
            "https://telegram.dog/chan/123",
            "https://t.me/s/chan/123",
            "t.me/chan/123?t=5",
            "t.me/chan/123#x",
            "tg://resolve?domain=chan&post=123",
            "TG://resolve?domain=chan&post=123",
            "@chan/123",
            "  @chan/123\n",
        ] {
            assert_eq!(Link::parse(text), Ok(want.clone()), "{text}");
        }
        let single = Link::parse("https://t.me/chan/5?single").unwrap();
        assert!(single.single && single.msg == Some(5));
        let c = Link::parse("t.me/chan/5?comment=77").unwrap();
        assert_eq!((c.msg, c.comment), (Some(5), Some(77)));
        let c = Link::parse("tg://resolve?domain=chan&post=5&comment=77&single").unwrap();
        assert_eq!((c.msg, c.comment, c.single), (Some(5), Some(77), true));
        let t = Link::parse("https://t.me/chan/9/42").unwrap();
        assert_eq!((t.topic, t.msg), (Some(9), Some(42)));
        let t = Link::parse("t.me/chan/42?thread=9").unwrap();
        assert_eq!((t.topic, t.msg), (Some(9), Some(42)));
        // `s` and `c` are path words, never usernames (so every link has one spelling).
        assert!(Link::parse("t.me/s").is_err() && Link::parse("@c/5").is_err());
    }

    #[test]
    fn private_and_channel_forms() {
        let want = Link {
            peer: Peer::Channel(1234567890123),
            msg: Some(89),
            topic: None,
            comment: None,
            single: false,
        };
        for text in [
            "https://t.me/c/1234567890123/89",
            "t.me/c/1234567890123/89/",
            "tg://privatepost?channel=1234567890123&post=89",
        ] {
            assert_eq!(Link::parse(text), Ok(want.clone()), "{text}");
        }
        let t = Link::parse("t.me/c/77/3/4").unwrap();
        assert_eq!(
            (t.peer, t.topic, t.msg),
            (Peer::Channel(77), Some(3), Some(4))
        );
        let t = Link::parse("tg://privatepost?channel=77&post=4&thread=3").unwrap();
        assert_eq!((t.topic, t.msg), (Some(3), Some(4)));
        assert_eq!(Link::parse("https://t.me/chan"), Ok(user("chan", None)));
        assert_eq!(Link::parse("@chan"), Ok(user("chan", None)));
        assert_eq!(
            Link::parse("tg://resolve?domain=chan"),
            Ok(user("chan", None))
        );
        assert_eq!(Link::parse("t.me/c/77").unwrap().peer, Peer::Channel(77));
    }

    #[test]
    fn canonical_urls_parse_back() {
        for text in [
            "t.me/chan/1",
            "t.me/chan/2/3",
            "t.me/c/5/6",
            "t.me/chan/5?single&comment=9",
            "t.me/chan",
        ] {
            let l = Link::parse(text).unwrap();
            assert_eq!(Link::parse(&l.to_url()), Ok(l.clone()), "{}", l.to_url());
        }
    }

    #[test]
    fn a_newline_in_the_text_stays_out_of_the_one_line_error() {
        // Found by the resolve_link fuzz target: "t//esolve?\n\0...A".
        let e = Link::parse("t//esolve?\n\0\0A").unwrap_err().to_string();
        assert!(!e.contains('\n') && !e.contains('\0'), "{e}");
        assert!(e.contains("\\n"), "{e}");
    }

    #[test]
    fn bad_links_say_what_is_accepted() {
        for text in [
            "",
            "hello",
            "https://example.com/chan/1",
            "https://t.me/",
            "t.me/chan/0",
            "t.me/chan/-1",
            "t.me/chan/x",
            "t.me/chan/2147483648",
            "t.me/chan/1/2/3",
            "t.me/9chan/1",
            "t.me/joinchat/AAAA",
            "t.me/+AbCdEf",
            "t.me/c/",
            "t.me/c/abc/1",
            "t.me/c/0/1",
            "t.me/c/5/1?comment=3",
            "t.me/chan?comment=3",
            "t.me/chan/1?comment=x",
            "t.me/chan/1?comment=1&comment=2",
            "t.me/chan/1/2?thread=1",
            "tg://resolve?post=1",
            "tg://privatepost?channel=1",
            "tg://user?id=5",
            "@",
            "@chan/1/2/3/4",
            "t.me/a_very_long_username_that_goes_past_32",
        ] {
            let e = Link::parse(text).expect_err(text).to_string();
            assert!(
                e.contains("accepted links: t.me/<user>/<msg>") && !e.contains('\n'),
                "{text}: {e}"
            );
        }
        assert!(Link::parse(&"x".repeat(5000)).is_err());
    }
}
