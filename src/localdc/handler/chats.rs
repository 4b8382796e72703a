//! Users, contacts, channels and messages: who is asking, resolving `@username`, and the
//! channel messages that carry the library's documents.

use crate::tl::{enums, functions, types};

use super::super::accounts::Account;
use super::super::error::ApiError;
use super::super::media::{Channel, ChannelKind, Message};
use super::super::objects;
use super::{serialize, Ctx, World};

/// Most messages one `messages.getHistory` returns.
const MAX_HISTORY: usize = 100;

impl World {
    fn is_self(me: &Account, u: &enums::InputUser) -> bool {
        match u {
            enums::InputUser::InputUserSelf(_) => true,
            enums::InputUser::InputUser(x) => x.user_id == me.id,
            _ => false,
        }
    }

    pub(super) fn get_users(
        &self,
        ctx: &Ctx<'_>,
        r: functions::users::GetUsers,
    ) -> Result<Vec<u8>, ApiError> {
        let me = self.require(ctx)?;
        let users: Vec<enums::User> =
            r.id.iter()
                .filter(|u| Self::is_self(&me, u))
                .map(|_| objects::user(&me, true))
                .collect();
        serialize(&users)
    }

    pub(super) fn get_full_user(
        &self,
        ctx: &Ctx<'_>,
        r: functions::users::GetFullUser,
    ) -> Result<Vec<u8>, ApiError> {
        let me = self.require(ctx)?;
        if !Self::is_self(&me, &r.id) {
            return Err(ApiError::bad_request("USER_ID_INVALID"));
        }
        serialize(&enums::users::UserFull::UserFull(objects::user_full(&me)))
    }

    pub(super) fn resolve_username(
        &self,
        ctx: &Ctx<'_>,
        r: functions::contacts::ResolveUsername,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        let c = self
            .library
            .channel_by_username(r.username.trim_start_matches('@'))
            .ok_or_else(|| ApiError::bad_request("USERNAME_NOT_OCCUPIED"))?;
        serialize(&enums::contacts::ResolvedPeer::ResolvedPeer(
            types::contacts::ResolvedPeer {
                peer: objects::peer(c),
                chats: vec![objects::channel(c)],
                users: vec![],
            },
        ))
    }

    fn channel_of(&self, ic: &enums::InputChannel) -> Result<&Channel, ApiError> {
        let invalid = || ApiError::bad_request("CHANNEL_INVALID");
        match ic {
            enums::InputChannel::InputChannel(x) => {
                let c = self.library.channel(x.channel_id).ok_or_else(invalid)?;
                if c.access_hash == x.access_hash {
                    Ok(c)
                } else {
                    Err(invalid())
                }
            }
            _ => Err(invalid()),
        }
    }

    fn channel_of_peer(&self, p: &enums::InputPeer) -> Result<&Channel, ApiError> {
        match p {
            enums::InputPeer::InputPeerChannel(x) => {
                self.channel_of(&enums::InputChannel::InputChannel(types::InputChannel {
                    channel_id: x.channel_id,
                    access_hash: x.access_hash,
                }))
            }
            _ => Err(ApiError::bad_request("PEER_ID_INVALID")),
        }
    }

    /// `c` and the chat linked to it (its discussion group, or the channel it discusses).
    fn chats_of(&self, c: &Channel) -> Vec<enums::Chat> {
        let linked = match c.kind {
            ChannelKind::Discussion(of) => Some(of),
            _ => c.discussion,
        };
        std::iter::once(c)
            .chain(linked.and_then(|id| self.library.channel(id)))
            .map(objects::channel)
            .collect()
    }

    pub(super) fn get_channels(
        &self,
        ctx: &Ctx<'_>,
        r: functions::channels::GetChannels,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        let chats =
            r.id.iter()
                .map(|ic| self.channel_of(ic).map(objects::channel))
                .collect::<Result<Vec<_>, _>>()?;
        serialize(&enums::messages::Chats::Chats(types::messages::Chats {
            chats,
        }))
    }

    /// The message as this client sees it: the media's announced DC is its real one, or
    /// (under the `migrate` fault) the DC that was asked.
    fn message_of(&self, ctx: &Ctx<'_>, c: &Channel, m: &Message) -> enums::Message {
        let d = &m.document;
        let dc = if self.faults.migrate {
            ctx.dc_id
        } else {
            d.dc_id
        };
        objects::message(c, m, objects::media(m, self.refs.issue(d.id, ctx.now), dc))
    }

    /// `messages.channelMessages` of `c`: `ids` (absent ones as `messageEmpty`), `count` in all.
    fn channel_messages(
        &self,
        ctx: &Ctx<'_>,
        c: &Channel,
        ids: impl Iterator<Item = i32>,
        count: usize,
    ) -> Result<Vec<u8>, ApiError> {
        let messages = ids
            .map(|id| match c.messages.get(&id) {
                Some(m) => self.message_of(ctx, c, m),
                None => objects::empty_message(id, Some(objects::peer(c))),
            })
            .collect();
        serialize(&enums::messages::Messages::ChannelMessages(
            types::messages::ChannelMessages {
                inexact: false,
                pts: 1,
                count: i32::try_from(count).unwrap_or(i32::MAX),
                offset_id_offset: None,
                messages,
                topics: vec![],
                chats: self.chats_of(c),
                users: vec![],
            },
        ))
    }

    pub(super) fn get_channel_messages(
        &self,
        ctx: &Ctx<'_>,
        r: functions::channels::GetMessages,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        let c = self.channel_of(&r.channel)?;
        let ids = r.id.iter().map(|m| match m {
            enums::InputMessage::InputMessageId(x) => x.id,
            _ => 0,
        });
        self.channel_messages(ctx, c, ids, c.messages.len())
    }

    pub(super) fn get_messages(
        &self,
        ctx: &Ctx<'_>,
        r: functions::messages::GetMessages,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        // Only channels have messages here; private/group message ids are all empty.
        let messages =
            r.id.iter()
                .map(|m| match m {
                    enums::InputMessage::InputMessageId(x) => objects::empty_message(x.id, None),
                    _ => objects::empty_message(0, None),
                })
                .collect();
        serialize(&enums::messages::Messages::Messages(
            types::messages::Messages {
                messages,
                topics: vec![],
                chats: vec![],
                users: vec![],
            },
        ))
    }

    pub(super) fn get_history(
        &self,
        ctx: &Ctx<'_>,
        r: functions::messages::GetHistory,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        let c = self.channel_of_peer(&r.peer)?;
        let window = Window {
            offset_id: r.offset_id,
            add_offset: r.add_offset,
            limit: r.limit,
            max_id: r.max_id,
            min_id: r.min_id,
        };
        let ids = history_ids(c.messages.keys().copied(), &window);
        self.channel_messages(ctx, c, ids.into_iter(), c.messages.len())
    }

    /// `messages.getReplies`: the messages of forum topic `msg_id`, or the comments on post
    /// `msg_id` (from the channel or its discussion group), newest first.
    pub(super) fn get_replies(
        &self,
        ctx: &Ctx<'_>,
        r: functions::messages::GetReplies,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        let c = self.channel_of_peer(&r.peer)?;
        let window = Window {
            offset_id: r.offset_id,
            add_offset: r.add_offset,
            limit: r.limit,
            max_id: r.max_id,
            min_id: r.min_id,
        };
        let (chat, ids): (&Channel, Vec<i32>) = if c.topics.contains(&r.msg_id) {
            let ids = c.messages.values().filter(|m| m.topic == Some(r.msg_id));
            (c, ids.map(|m| m.id).collect())
        } else {
            let group = self.discussion_of(c, r.msg_id)?;
            let ids = group
                .messages
                .values()
                .filter(|m| m.reply_to == Some(r.msg_id));
            (group, ids.map(|m| m.id).collect())
        };
        let count = ids.len();
        let ids = history_ids(ids.into_iter(), &window);
        self.channel_messages(ctx, chat, ids.into_iter(), count)
    }

    /// The discussion group holding the comments on post `msg_id` of `c` (`c` itself when it is
    /// that group); 400 MSG_ID_INVALID if the post has none.
    fn discussion_of<'a>(&'a self, c: &'a Channel, msg_id: i32) -> Result<&'a Channel, ApiError> {
        let group = match c.kind {
            ChannelKind::Discussion(_) => Some(c),
            _ => c.discussion.and_then(|id| self.library.channel(id)),
        };
        group
            .filter(|g| g.messages.values().any(|m| m.reply_to == Some(msg_id)))
            .ok_or_else(|| ApiError::bad_request("MSG_ID_INVALID"))
    }

    /// `messages.getDiscussionMessage`: the discussion group's copy of post `msg_id`.
    pub(super) fn get_discussion_message(
        &self,
        ctx: &Ctx<'_>,
        r: functions::messages::GetDiscussionMessage,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        let c = self.channel_of_peer(&r.peer)?;
        let group = self.discussion_of(c, r.msg_id)?;
        let root = &group.messages[&r.msg_id];
        let newest = group
            .messages
            .values()
            .filter(|m| m.reply_to == Some(r.msg_id))
            .map(|m| m.id)
            .max();
        serialize(&enums::messages::DiscussionMessage::DiscussionMessage(
            types::messages::DiscussionMessage {
                messages: vec![self.message_of(ctx, group, root)],
                max_id: newest,
                read_inbox_max_id: newest,
                read_outbox_max_id: None,
                unread_count: 0,
                chats: self.chats_of(group),
                users: vec![],
            },
        ))
    }

    /// `messages.getDialogs`: every chat the account is a member of (the private channels and
    /// their discussion groups), with its newest message, in one answer.
    pub(super) fn get_dialogs(
        &self,
        ctx: &Ctx<'_>,
        _r: functions::messages::GetDialogs,
    ) -> Result<Vec<u8>, ApiError> {
        self.require(ctx)?;
        let member: Vec<&Channel> = self.library.channels().filter(|c| c.member).collect();
        let dialogs = member
            .iter()
            .map(|c| {
                enums::Dialog::Dialog(types::Dialog {
                    pinned: false,
                    unread_mark: false,
                    view_forum_as_messages: false,
                    peer: objects::peer(c),
                    top_message: c.top_msg_id(),
                    read_inbox_max_id: c.top_msg_id(),
                    read_outbox_max_id: c.top_msg_id(),
                    unread_count: 0,
                    unread_mentions_count: 0,
                    unread_reactions_count: 0,
                    unread_poll_votes_count: 0,
                    notify_settings: objects::notify_settings(),
                    pts: Some(1),
                    draft: None,
                    folder_id: None,
                    ttl_period: None,
                })
            })
            .collect();
        let messages = member
            .iter()
            .filter_map(|c| {
                c.messages
                    .values()
                    .next_back()
                    .map(|m| self.message_of(ctx, c, m))
            })
            .collect();
        serialize(&enums::messages::Dialogs::Dialogs(
            types::messages::Dialogs {
                dialogs,
                messages,
                chats: member.iter().map(|c| objects::channel(c)).collect(),
                users: vec![],
            },
        ))
    }
}

/// The paging fields `messages.getHistory` and `messages.getReplies` share.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub(super) offset_id: i32,
    pub(super) add_offset: i32,
    pub(super) limit: i32,
    pub(super) max_id: i32,
    pub(super) min_id: i32,
}

/// Message ids a `messages.getHistory` (or `getReplies`) returns, newest first, from the ids
/// that exist (in increasing order).
pub(super) fn history_ids(ids: impl DoubleEndedIterator<Item = i32>, r: &Window) -> Vec<i32> {
    let newest_first: Vec<i32> = ids
        .rev()
        .filter(|&id| r.max_id <= 0 || id < r.max_id)
        .filter(|&id| id > r.min_id)
        .collect();
    let start = if r.offset_id > 0 {
        newest_first
            .iter()
            .position(|&id| id < r.offset_id)
            .unwrap_or(newest_first.len())
    } else {
        0
    };
    let start =
        (start as i64 + i64::from(r.add_offset)).clamp(0, newest_first.len() as i64) as usize;
    let limit = if r.limit <= 0 {
        20
    } else {
        (r.limit as usize).min(MAX_HISTORY)
    };
    newest_first.into_iter().skip(start).take(limit).collect()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    /// One of each: a public broadcast channel with an album and comments, a forum, a private
    /// channel with an album.
    fn rich(name: &str) -> Fixture {
        fixture_files(
            name,
            "",
            &[
                ("pub/1.txt", b"one"),
                ("pub/2/b.txt", b"album b"),
                ("pub/2/a.txt", b"album a"),
                ("pub/1.comments/10.txt", b"first comment"),
                ("pub/1.comments/12.txt", b"second comment"),
                ("forum/1.txt", b"general"),
                ("forum/topics/5/6.txt", b"in topic 5"),
                ("forum/topics/5/8.txt", b"also in 5"),
                ("forum/topics/7/9.txt", b"in topic 7"),
                ("+secret/3.txt", b"private"),
                ("+secret/4/x.txt", b"private album"),
            ],
        )
    }

    fn ids(ms: &[types::Message]) -> Vec<i32> {
        ms.iter().map(|m| m.id).collect()
    }

    #[test]
    fn albums_are_consecutive_messages_with_one_grouped_id() {
        let fx = rich("album");
        let mut c = client(&fx.world, 1, 1);
        c.login_bot();
        let ms = c.messages("pub", &[1, 2, 3]);
        assert_eq!(ids(&ms), [1, 2, 3]);
        assert_eq!(ms[0].grouped_id, None);
        let album = Some(crate::localdc::ids::album_id("pub", 2));
        assert_eq!((ms[1].grouped_id, ms[2].grouped_id), (album, album));
        let name = |m: &types::Message| match &m.media {
            Some(enums::MessageMedia::MessageMediaDocument(d)) => match &d.document {
                Some(enums::Document::Document(d)) => match &d.attributes[0] {
                    enums::DocumentAttribute::DocumentAttributeFilename(f) => f.file_name.clone(),
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        assert_eq!(
            (name(&ms[1]), name(&ms[2])),
            ("a.txt".into(), "b.txt".into()),
            "name order"
        );
    }

    #[test]
    fn comments_live_in_the_linked_discussion_group() {
        let fx = rich("comments");
        let mut c = client(&fx.world, 1, 1);
        c.login_bot();
        let post = c.messages("pub", &[1]).remove(0);
        let group = crate::localdc::ids::channel_id("pub.comments");
        let Some(enums::MessageReplies::MessageReplies(r)) = &post.replies else {
            panic!("replies expected: {post:?}")
        };
        assert_eq!(
            (r.comments, r.replies, r.channel_id, r.max_id),
            (true, 2, Some(group), Some(12))
        );
        let enums::messages::DiscussionMessage::DiscussionMessage(d) = c
            .call(&functions::messages::GetDiscussionMessage {
                peer: c.input_peer("pub"),
                msg_id: 1,
            })
            .unwrap();
        assert_eq!(d.max_id, Some(12));
        let enums::Message::Message(root) = &d.messages[0] else {
            panic!()
        };
        assert_eq!(
            (root.id, &root.peer_id),
            (
                1,
                &enums::Peer::PeerChannel(types::PeerChannel { channel_id: group })
            )
        );
        let enums::Chat::Channel(g) = &d.chats[0] else {
            panic!()
        };
        assert!(g.megagroup && !g.broadcast && g.username.is_none() && g.id == group);
        // The comments, by the group's access hash from that answer.
        let comments = channel_messages(
            c.call(&functions::channels::GetMessages {
                channel: enums::InputChannel::InputChannel(types::InputChannel {
                    channel_id: g.id,
                    access_hash: g.access_hash.unwrap(),
                }),
                id: vec![enums::InputMessage::InputMessageId(types::InputMessageId {
                    id: 12,
                })],
            })
            .unwrap(),
        );
        let Some(enums::MessageReplyHeader::MessageReplyHeader(h)) = &comments[0].reply_to else {
            panic!()
        };
        assert_eq!((h.reply_to_msg_id, h.forum_topic), (Some(1), false));
        assert_eq!(c.replies("pub", 1).unwrap(), [12, 10]);
        assert_eq!(c.replies("pub.comments", 1).unwrap(), [12, 10]);
        for (dir, msg) in [("pub", 2), ("pub", 99), ("+secret", 3)] {
            assert_eq!(c.replies(dir, msg).unwrap_err().message, "MSG_ID_INVALID");
        }
    }

    #[test]
    fn forum_topics_are_replies_to_the_topic() {
        let fx = rich("topics");
        let mut c = client(&fx.world, 1, 1);
        c.login_bot();
        let r = c
            .call(&functions::contacts::ResolveUsername {
                username: "forum".into(),
                referer: None,
            })
            .unwrap();
        let enums::contacts::ResolvedPeer::ResolvedPeer(r) = r;
        let enums::Chat::Channel(f) = &r.chats[0] else {
            panic!()
        };
        assert!(f.forum && f.megagroup && !f.broadcast);
        let ms = c.messages("forum", &[1, 6, 9]);
        assert_eq!(ms[0].reply_to, None, "outside topics/: the General topic");
        let Some(enums::MessageReplyHeader::MessageReplyHeader(h)) = &ms[2].reply_to else {
            panic!()
        };
        assert_eq!((h.forum_topic, h.reply_to_msg_id), (true, Some(7)));
        assert_eq!(c.replies("forum", 5).unwrap(), [8, 6]);
        // History: everything, newest first.
        let forum = c.input_peer("forum");
        assert_eq!(c.history(forum), [9, 8, 6, 1]);
    }

    #[test]
    fn private_channels_come_with_their_access_hash_from_dialogs() {
        let fx = rich("private");
        let mut c = client(&fx.world, 1, 1);
        c.login_bot();
        let secret = crate::localdc::ids::channel_id("+secret");
        let enums::messages::Dialogs::Dialogs(d) = c
            .call(&functions::messages::GetDialogs {
                exclude_pinned: false,
                folder_id: None,
                offset_date: 0,
                offset_id: 0,
                offset_peer: enums::InputPeer::InputPeerEmpty(types::InputPeerEmpty {}),
                limit: 100,
                hash: 0,
            })
            .unwrap()
        else {
            panic!("messages.dialogs expected")
        };
        let [enums::Chat::Channel(ch)] = &d.chats[..] else {
            panic!("only the private channel: {:?}", d.chats)
        };
        assert!(ch.id == secret && !ch.left && ch.username.is_none() && ch.title == "secret");
        let enums::Dialog::Dialog(dialog) = &d.dialogs[0] else {
            panic!()
        };
        assert_eq!(dialog.top_message, 4);
        let ms = channel_messages(
            c.call(&functions::channels::GetMessages {
                channel: enums::InputChannel::InputChannel(types::InputChannel {
                    channel_id: ch.id,
                    access_hash: ch.access_hash.unwrap(),
                }),
                id: vec![enums::InputMessage::InputMessageId(types::InputMessageId {
                    id: 3,
                })],
            })
            .unwrap(),
        );
        assert_eq!(ms[0].id, 3);
        // Without the right access hash: CHANNEL_INVALID; it has no username to resolve.
        let wrong = c.call(&functions::channels::GetChannels {
            id: vec![enums::InputChannel::InputChannel(types::InputChannel {
                channel_id: ch.id,
                access_hash: 1,
            })],
        });
        assert_eq!(wrong.unwrap_err().message, "CHANNEL_INVALID");
        let resolve = c.call(&functions::contacts::ResolveUsername {
            username: "+secret".into(),
            referer: None,
        });
        assert_eq!(resolve.unwrap_err().message, "USERNAME_NOT_OCCUPIED");
    }

    #[test]
    fn history_windows() {
        let r = |offset_id, add_offset, limit, max_id, min_id| Window {
            offset_id,
            add_offset,
            limit,
            max_id,
            min_id,
        };
        let ids = [1, 2, 5, 9, 12];
        assert_eq!(
            history_ids(ids.into_iter(), &r(0, 0, 10, 0, 0)),
            vec![12, 9, 5, 2, 1]
        );
        assert_eq!(history_ids(ids.into_iter(), &r(9, 0, 2, 0, 0)), vec![5, 2]);
        assert_eq!(history_ids(ids.into_iter(), &r(9, -1, 2, 0, 0)), vec![9, 5]);
        assert_eq!(history_ids(ids.into_iter(), &r(0, 0, 10, 9, 1)), vec![5, 2]);
    }
}
