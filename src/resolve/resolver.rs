//! Links to [`Media`]: usernames and private channel ids to channels, message ids to messages,
//! comments through the discussion group, albums by `grouped_id`; every answer kept in a
//! [`MetadataCache`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::cache::{CacheKey, Cached, MetadataCache};
use super::link::{Link, Peer};
use super::media::{Media, Origin};
use crate::download::rpc::{invoke, Route, Rpc};
use crate::net::InvokeError;
use crate::tl::{enums, functions, types};

/// A channel (or supergroup) as this account can address it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRef {
    /// Bare channel id.
    pub id: i64,
    /// Access hash for this account.
    pub access_hash: i64,
    /// Its public username, if any.
    pub username: Option<String>,
}

impl ChannelRef {
    fn input(&self) -> enums::InputChannel {
        enums::InputChannel::InputChannel(types::InputChannel {
            channel_id: self.id,
            access_hash: self.access_hash,
        })
    }

    fn input_peer(&self) -> enums::InputPeer {
        enums::InputPeer::InputPeerChannel(types::InputPeerChannel {
            channel_id: self.id,
            access_hash: self.access_hash,
        })
    }

    /// How file templates name it: the username, else `c<id>`.
    pub fn name(&self) -> String {
        self.username
            .clone()
            .unwrap_or_else(|| format!("c{}", self.id))
    }
}

/// Why a link gave no media. Display is one line, meant to follow `<link>: `.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ResolveError {
    /// The session is not logged in.
    NotLoggedIn,
    /// No channel has this username.
    UnknownUsername(String),
    /// The username is a user or bot, not a channel or group.
    NotAChannel(String),
    /// A private channel this account is not a member of (or does not know).
    NoAccess(i64),
    /// The message does not exist (never did, or was deleted).
    MissingMessage(i32),
    /// The message has nothing to download.
    NoMedia(i32),
    /// The channel has no discussion group, or the comment is missing.
    NoComment(i32),
    /// A network or server failure.
    Network(InvokeError),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotLoggedIn => f.write_str("not logged in: run `tgmux login`"),
            ResolveError::UnknownUsername(u) => write!(f, "no channel or group is called @{u}"),
            ResolveError::NotAChannel(u) => write!(f, "@{u} is a user, not a channel or group"),
            ResolveError::NoAccess(id) => write!(
                f,
                "private channel {id}: this account is not a member (or has never seen it)"
            ),
            ResolveError::MissingMessage(m) => {
                write!(f, "message {m} does not exist (or was deleted)")
            }
            ResolveError::NoMedia(m) => write!(f, "message {m} has no media"),
            ResolveError::NoComment(m) => {
                write!(f, "comment {m} not found in the discussion group")
            }
            ResolveError::Network(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ResolveError {}

impl From<InvokeError> for ResolveError {
    fn from(e: InvokeError) -> Self {
        if e.is_not_logged_in() {
            ResolveError::NotLoggedIn
        } else {
            ResolveError::Network(e)
        }
    }
}

/// The rpc_error message, if `e` is one.
fn rpc_message(e: &InvokeError) -> Option<&str> {
    e.rpc().map(|r| r.message.as_str())
}

/// What one message id gave.
#[derive(Debug, Clone)]
pub enum Item {
    /// Downloadable media.
    Media(Box<Media>),
    /// A message without media.
    NoMedia(i32),
    /// No such message.
    Missing(i32),
}

/// Ids asked per `channels.getMessages`.
const IDS_PER_CALL: usize = 100;

/// Albums hold at most this many items, with consecutive ids.
const ALBUM_MAX: i32 = 10;

/// Resolves links for one account.
pub struct Resolver {
    rpc: Arc<dyn Rpc>,
    cache: Arc<dyn MetadataCache>,
    account: i64,
    channels: Mutex<HashMap<Peer, ChannelRef>>,
}

impl Resolver {
    /// A resolver over `rpc`, remembering answers in `cache`. Fails when not logged in.
    pub fn new(rpc: Arc<dyn Rpc>, cache: Arc<dyn MetadataCache>) -> Result<Self, ResolveError> {
        let account = rpc.account().ok_or(ResolveError::NotLoggedIn)?;
        Ok(Resolver {
            rpc,
            cache,
            account,
            channels: Mutex::new(HashMap::new()),
        })
    }

    fn key(&self, peer: &Peer, msg: i32) -> CacheKey {
        let peer = match peer {
            Peer::Username(u) => u.to_ascii_lowercase(),
            Peer::Channel(id) => format!("c/{id}"),
        };
        CacheKey {
            account: self.account,
            peer,
            msg,
        }
    }

    /// The channel a link names.
    pub async fn channel(&self, peer: &Peer) -> Result<ChannelRef, ResolveError> {
        if let Some(c) = self
            .channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(peer)
        {
            return Ok(c.clone());
        }
        let key = self.key(peer, 0);
        let c = match self.cache.get(&key) {
            Some(Cached::Channel(c)) => c,
            _ => {
                let c = match peer {
                    Peer::Username(u) => self.resolve_username(u).await?,
                    Peer::Channel(id) => self.private_channel(*id).await?,
                };
                self.cache.put(key, Cached::Channel(c.clone()));
                // A channel met by username is then known by id too (t.me/c/ links, exports).
                let by_id = Peer::Channel(c.id);
                if by_id != *peer {
                    self.cache
                        .put(self.key(&by_id, 0), Cached::Channel(c.clone()));
                }
                c
            }
        };
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(peer.clone(), c.clone());
        Ok(c)
    }

    async fn resolve_username(&self, u: &str) -> Result<ChannelRef, ResolveError> {
        let r = invoke(
            &*self.rpc,
            Route::Home,
            &functions::contacts::ResolveUsername {
                username: u.to_string(),
                referer: None,
            },
        )
        .await;
        let enums::contacts::ResolvedPeer::ResolvedPeer(r) = match r {
            Err(e)
                if matches!(
                    rpc_message(&e),
                    Some("USERNAME_NOT_OCCUPIED" | "USERNAME_INVALID")
                ) =>
            {
                return Err(ResolveError::UnknownUsername(u.to_string()))
            }
            r => r?,
        };
        let enums::Peer::PeerChannel(p) = r.peer else {
            return Err(ResolveError::NotAChannel(u.to_string()));
        };
        channel_in(&r.chats, p.channel_id).ok_or(ResolveError::UnknownUsername(u.to_string()))
    }

    /// A private channel by id: its access hash from the dialogs (a member has it there),
    /// else `channels.getChannels` with hash 0 (what bots may do for channels they are in).
    async fn private_channel(&self, id: i64) -> Result<ChannelRef, ResolveError> {
        let dialogs = invoke(
            &*self.rpc,
            Route::Home,
            &functions::messages::GetDialogs {
                exclude_pinned: false,
                folder_id: None,
                offset_date: 0,
                offset_id: 0,
                offset_peer: enums::InputPeer::InputPeerEmpty(types::InputPeerEmpty {}),
                limit: 100,
                hash: 0,
            },
        )
        .await;
        match dialogs {
            Ok(d) => {
                let chats = match d {
                    enums::messages::Dialogs::Dialogs(d) => d.chats,
                    enums::messages::Dialogs::DialogsSlice(d) => d.chats,
                    enums::messages::Dialogs::DialogsNotModified(_) => Vec::new(),
                };
                if let Some(c) = channel_in(&chats, id) {
                    return Ok(c);
                }
            }
            Err(e) if e.is_not_logged_in() => return Err(ResolveError::NotLoggedIn),
            Err(_) => {} // bots may not list dialogs
        }
        let chats = invoke(
            &*self.rpc,
            Route::Home,
            &functions::channels::GetChannels {
                id: vec![enums::InputChannel::InputChannel(types::InputChannel {
                    channel_id: id,
                    access_hash: 0,
                })],
            },
        )
        .await;
        match chats {
            Ok(enums::messages::Chats::Chats(c)) => channel_in(&c.chats, id),
            Ok(enums::messages::Chats::ChatsSlice(c)) => channel_in(&c.chats, id),
            Err(e) if e.is_not_logged_in() => return Err(ResolveError::NotLoggedIn),
            Err(_) => None,
        }
        .ok_or(ResolveError::NoAccess(id))
    }

    /// The messages `ids` of a channel, in the order asked (`messageEmpty` for missing ones).
    pub async fn messages(
        &self,
        c: &ChannelRef,
        ids: &[i32],
    ) -> Result<Vec<enums::Message>, ResolveError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_CALL) {
            let r = invoke(
                &*self.rpc,
                Route::Home,
                &functions::channels::GetMessages {
                    channel: c.input(),
                    id: chunk
                        .iter()
                        .map(|&id| {
                            enums::InputMessage::InputMessageId(types::InputMessageId { id })
                        })
                        .collect(),
                },
            )
            .await;
            let r = match r {
                Err(e)
                    if matches!(rpc_message(&e), Some("CHANNEL_PRIVATE" | "CHANNEL_INVALID")) =>
                {
                    return Err(ResolveError::NoAccess(c.id))
                }
                r => r?,
            };
            out.extend(messages_of(r));
        }
        Ok(out)
    }

    /// What one message of a channel holds.
    pub async fn item(&self, c: &ChannelRef, peer: &Peer, msg: i32) -> Result<Item, ResolveError> {
        let key = self.key(peer, msg);
        match self.cache.get(&key) {
            Some(Cached::Media(m)) => return Ok(Item::Media(m)),
            Some(Cached::NoMedia) => return Ok(Item::NoMedia(msg)),
            _ => {}
        }
        let m = self.messages(c, &[msg]).await?;
        let item = item_of(m.first(), msg, c.access_hash);
        match &item {
            Item::Media(m) => self.cache.put(key, Cached::Media(m.clone())),
            Item::NoMedia(_) => self.cache.put(key, Cached::NoMedia),
            Item::Missing(_) => {}
        }
        Ok(item)
    }

    /// The media a message link points at: one file, or with `album` every item of its
    /// album (by id). A link without a message id is an error here (see [`Resolver::range`]).
    pub async fn media(&self, link: &Link, album: bool) -> Result<Vec<Media>, ResolveError> {
        let Some(msg) = link.msg else {
            return Err(ResolveError::MissingMessage(0));
        };
        let c = self.channel(&link.peer).await?;
        if let Some(comment) = link.comment {
            return self.comment(&c, msg, comment).await.map(|m| vec![m]);
        }
        let media = match self.item(&c, &link.peer, msg).await? {
            Item::Media(m) => *m,
            Item::NoMedia(id) => return Err(ResolveError::NoMedia(id)),
            Item::Missing(id) => return Err(ResolveError::MissingMessage(id)),
        };
        match media.grouped_id {
            Some(group) if album && !link.single => self.album(&c, msg, group).await,
            _ => Ok(vec![media]),
        }
    }

    /// Every message of the album `group` around `msg`, in id order.
    async fn album(
        &self,
        c: &ChannelRef,
        msg: i32,
        group: i64,
    ) -> Result<Vec<Media>, ResolveError> {
        let lo = msg.saturating_sub(ALBUM_MAX - 1).max(1);
        let hi = msg.saturating_add(ALBUM_MAX - 1);
        let ids: Vec<i32> = (lo..=hi).collect();
        let mut out: Vec<Media> = self
            .messages(c, &ids)
            .await?
            .iter()
            .filter_map(|m| match m {
                enums::Message::Message(m) if m.grouped_id == Some(group) => {
                    Media::from_message(m, c.access_hash)
                }
                _ => None,
            })
            .collect();
        out.sort_by_key(|m| m.origin.msg_id);
        Ok(out)
    }

    /// Comment `comment` on post `msg`: it lives in the channel's discussion group.
    async fn comment(&self, c: &ChannelRef, msg: i32, comment: i32) -> Result<Media, ResolveError> {
        let d = invoke(
            &*self.rpc,
            Route::Home,
            &functions::messages::GetDiscussionMessage {
                peer: c.input_peer(),
                msg_id: msg,
            },
        )
        .await;
        let enums::messages::DiscussionMessage::DiscussionMessage(d) = match d {
            Err(e) if matches!(rpc_message(&e), Some("MSG_ID_INVALID")) => {
                return Err(ResolveError::MissingMessage(msg))
            }
            r => r?,
        };
        // The discussion group is the chat of the thread's first message.
        let group_id = d.messages.iter().find_map(|m| match m {
            enums::Message::Message(m) => match &m.peer_id {
                enums::Peer::PeerChannel(p) if p.channel_id != c.id => Some(p.channel_id),
                _ => None,
            },
            _ => None,
        });
        let group = group_id
            .and_then(|id| channel_in(&d.chats, id))
            .ok_or(ResolveError::NoComment(comment))?;
        let m = self.messages(&group, &[comment]).await?;
        match item_of(m.first(), comment, group.access_hash) {
            Item::Media(m) => Ok(*m),
            Item::NoMedia(id) => Err(ResolveError::NoMedia(id)),
            Item::Missing(_) => Err(ResolveError::NoComment(comment)),
        }
    }

    /// Messages `from..=to` of a channel: what each holds.
    pub async fn range(&self, peer: &Peer, from: i32, to: i32) -> Result<Vec<Item>, ResolveError> {
        let c = self.channel(peer).await?;
        let mut out = Vec::new();
        let mut todo = Vec::new();
        for id in from..=to {
            match self.cache.get(&self.key(peer, id)) {
                Some(Cached::Media(m)) => out.push(Item::Media(m)),
                Some(Cached::NoMedia) => out.push(Item::NoMedia(id)),
                _ => todo.push(id),
            }
        }
        let got = self.messages(&c, &todo).await?;
        for (i, &id) in todo.iter().enumerate() {
            let item = item_of(got.get(i), id, c.access_hash);
            match &item {
                Item::Media(m) => self.cache.put(self.key(peer, id), Cached::Media(m.clone())),
                Item::NoMedia(_) => self.cache.put(self.key(peer, id), Cached::NoMedia),
                Item::Missing(_) => {}
            }
            out.push(item);
        }
        out.sort_by_key(|i| match i {
            Item::Media(m) => m.origin.msg_id,
            Item::NoMedia(id) | Item::Missing(id) => *id,
        });
        Ok(out)
    }
}

/// The message again, for a fresh file reference (after `FILE_REFERENCE_EXPIRED`).
pub async fn refetch(rpc: &dyn Rpc, origin: &Origin) -> Result<Media, ResolveError> {
    let r = invoke(
        rpc,
        Route::Home,
        &functions::channels::GetMessages {
            channel: enums::InputChannel::InputChannel(types::InputChannel {
                channel_id: origin.channel_id,
                access_hash: origin.access_hash,
            }),
            id: vec![enums::InputMessage::InputMessageId(types::InputMessageId {
                id: origin.msg_id,
            })],
        },
    )
    .await?;
    match item_of(messages_of(r).first(), origin.msg_id, origin.access_hash) {
        Item::Media(m) => Ok(*m),
        Item::NoMedia(id) => Err(ResolveError::NoMedia(id)),
        Item::Missing(id) => Err(ResolveError::MissingMessage(id)),
    }
}

fn messages_of(r: enums::messages::Messages) -> Vec<enums::Message> {
    match r {
        enums::messages::Messages::Messages(m) => m.messages,
        enums::messages::Messages::MessagesSlice(m) => m.messages,
        enums::messages::Messages::ChannelMessages(m) => m.messages,
        enums::messages::Messages::MessagesNotModified(_) => Vec::new(),
    }
}

fn item_of(m: Option<&enums::Message>, id: i32, access_hash: i64) -> Item {
    match m {
        Some(enums::Message::Message(m)) if m.id == id => match Media::from_message(m, access_hash)
        {
            Some(media) => Item::Media(Box::new(media)),
            None => Item::NoMedia(id),
        },
        Some(enums::Message::MessageService(_)) => Item::NoMedia(id),
        _ => Item::Missing(id),
    }
}

/// The channel `id` among `chats`, with its access hash.
fn channel_in(chats: &[enums::Chat], id: i64) -> Option<ChannelRef> {
    chats.iter().find_map(|c| match c {
        enums::Chat::Channel(c) if c.id == id => Some(ChannelRef {
            id,
            access_hash: c.access_hash?,
            username: c.username.clone(),
        }),
        _ => None,
    })
}
