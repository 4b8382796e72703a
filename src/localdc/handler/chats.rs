//! Users, contacts, channels and messages: who is asking, resolving `@username`, and the
//! channel messages that carry the library's documents.

use crate::tl::{enums, functions, types};

use super::super::accounts::Account;
use super::super::error::ApiError;
use super::super::media::{Channel, Document};
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

    /// The message as this client sees it: the document's announced DC is its real one, or
    /// (under the `migrate` fault) the DC that was asked.
    fn message_of(&self, ctx: &Ctx<'_>, c: &Channel, d: &Document) -> enums::Message {
        let dc = if self.faults.migrate {
            ctx.dc_id
        } else {
            d.dc_id
        };
        let doc = objects::document(d, self.refs.issue(d.id, ctx.now), dc);
        objects::message(c, d, doc)
    }

    fn channel_messages(
        &self,
        c: &Channel,
        messages: Vec<enums::Message>,
        count: usize,
    ) -> Result<Vec<u8>, ApiError> {
        serialize(&enums::messages::Messages::ChannelMessages(
            types::messages::ChannelMessages {
                inexact: false,
                pts: 1,
                count: i32::try_from(count).unwrap_or(i32::MAX),
                offset_id_offset: None,
                messages,
                topics: vec![],
                chats: vec![objects::channel(c)],
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
        let messages =
            r.id.iter()
                .map(|m| match m {
                    enums::InputMessage::InputMessageId(x) => match c.messages.get(&x.id) {
                        Some(d) => self.message_of(ctx, c, d),
                        None => objects::empty_message(x.id, Some(objects::peer(c))),
                    },
                    _ => objects::empty_message(0, None),
                })
                .collect();
        self.channel_messages(c, messages, c.messages.len())
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
        let ids = history_ids(c.messages.keys().copied(), &r);
        let messages = ids
            .iter()
            .map(|id| self.message_of(ctx, c, &c.messages[id]))
            .collect();
        self.channel_messages(c, messages, c.messages.len())
    }
}

/// Message ids a `messages.getHistory` returns, newest first, from the ids that exist.
pub(super) fn history_ids(
    ids: impl DoubleEndedIterator<Item = i32>,
    r: &functions::messages::GetHistory,
) -> Vec<i32> {
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
    use super::*;

    #[test]
    fn history_windows() {
        let r = |offset_id, add_offset, limit, max_id, min_id| functions::messages::GetHistory {
            peer: enums::InputPeer::InputPeerEmpty(types::InputPeerEmpty {}),
            offset_id,
            offset_date: 0,
            add_offset,
            limit,
            max_id,
            min_id,
            hash: 0,
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
