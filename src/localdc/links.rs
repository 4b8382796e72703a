//! `tgmux local-dc --media DIR --links`: every link that reaches each served message.
//!
//! One line per link, `<msg-key> <link>`, the key being the message's file below DIR (as in
//! `--stats-file`). For message M of a public channel `@u`: `https://t.me/u/M`,
//! `https://t.me/s/u/M`, `tg://resolve?domain=u&post=M` and `@u/M`; of a private channel
//! with id C: `https://t.me/c/C/M` and `tg://privatepost?channel=C&post=M`. An album item adds
//! `?single` to its t.me forms, a message of forum topic T adds `https://t.me/u/T/M` (or
//! `https://t.me/c/C/T/M`), and comment K on post M of `@u` is `https://t.me/u/M?comment=K`
//! (comments on private channels are served but have no link form).

use super::media::{Channel, ChannelKind, Library};

/// Every (msg-key, link) of the library, by channel directory, then message id.
pub(crate) fn links(lib: &Library) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in lib.channels() {
        match c.kind {
            ChannelKind::Discussion(of) => {
                if let Some(u) = lib.channel(of).and_then(|ch| ch.username.as_deref()) {
                    for m in c.messages.values() {
                        if let Some(post) = m.reply_to {
                            let link = format!("https://t.me/{u}/{post}?comment={}", m.id);
                            out.push((m.document.media_path(), link));
                        }
                    }
                }
            }
            _ => channel_links(c, &mut out),
        }
    }
    out
}

fn channel_links(c: &Channel, out: &mut Vec<(String, String)>) {
    for m in c.messages.values() {
        let key = m.document.media_path();
        let id = m.id;
        let base = match &c.username {
            Some(u) => format!("https://t.me/{u}"),
            None => format!("https://t.me/c/{}", c.id),
        };
        let mut add = |link: String| out.push((key.clone(), link));
        add(format!("{base}/{id}"));
        if m.grouped_id.is_some() {
            add(format!("{base}/{id}?single"));
        }
        if let Some(topic) = m.topic {
            add(format!("{base}/{topic}/{id}"));
        }
        match &c.username {
            Some(u) => {
                add(format!("https://t.me/s/{u}/{id}"));
                add(format!("tg://resolve?domain={u}&post={id}"));
                add(format!("@{u}/{id}"));
            }
            None => add(format!("tg://privatepost?channel={}&post={id}", c.id)),
        }
    }
}
