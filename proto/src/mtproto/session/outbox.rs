//! Packing queued messages into one packet: single messages go out as they are, several small
//! ones share a msg_container (core.telegram.org/mtproto/service_messages#simple-container).
//! Shared by both roles.

use std::collections::VecDeque;

use bytes::Bytes;

use super::msg_id::{MsgIdGen, MsgIdKind};
use super::seq_no::SeqNo;
use crate::tl::service::{Message, MsgContainer};
use crate::tl::Serializable;

/// Messages larger than this are never put into a container.
pub(super) const MAX_CONTAINED_BODY: usize = 16 * 1024;
/// A container's total body stays below this.
pub(super) const MAX_CONTAINER_BYTES: usize = 64 * 1024;
/// At most this many messages share a container (Telegram's limit is 1020).
pub(super) const MAX_CONTAINER_MESSAGES: usize = 1020;

/// One message waiting to be sent.
#[derive(Clone, Debug)]
pub(super) struct Queued<T> {
    /// The serialized body.
    pub body: Bytes,
    /// Whether it is content-related (odd seq_no, to be acknowledged).
    pub content_related: bool,
    /// Which msg_id residue it takes.
    pub kind: MsgIdKind,
    /// What the role wants to remember about it once sent.
    pub tag: T,
}

/// A message that was just packed, with the msg_id and seq_no it got.
#[derive(Clone, Debug)]
pub(super) struct Packed<T> {
    /// Its msg_id.
    pub msg_id: i64,
    /// Its seq_no.
    pub seq_no: i32,
    /// The body.
    pub body: Bytes,
    /// Whether it is content-related.
    pub content_related: bool,
    /// The role's tag.
    pub tag: T,
}

/// The outer message of one packet: either one of the packed messages, or a container.
#[derive(Clone, Debug)]
pub(super) struct Outer {
    /// The outer msg_id.
    pub msg_id: i64,
    /// The outer seq_no.
    pub seq_no: i32,
    /// The outer body (the message itself, or the msg_container).
    pub body: Bytes,
    /// Whether a container was made.
    pub is_container: bool,
}

/// Takes as many queued messages as fit one packet (at least one) and assigns ids.
/// Returns `None` when the queue is empty.
pub(super) fn pack<T>(
    queue: &mut VecDeque<Queued<T>>,
    ids: &mut MsgIdGen,
    seq: &mut SeqNo,
    now: std::time::Duration,
    container_kind: MsgIdKind,
) -> Option<(Outer, Vec<Packed<T>>)> {
    let first = queue.pop_front()?;
    let mut taken = vec![first];
    if taken[0].body.len() <= MAX_CONTAINED_BODY {
        let mut total = taken[0].body.len() + 16;
        while let Some(next) = queue.front() {
            let size = next.body.len() + 16;
            if next.body.len() > MAX_CONTAINED_BODY
                || total + size > MAX_CONTAINER_BYTES
                || taken.len() >= MAX_CONTAINER_MESSAGES
            {
                break;
            }
            total += size;
            taken.push(queue.pop_front().expect("front exists"));
        }
    }
    let packed: Vec<Packed<T>> = taken
        .into_iter()
        .map(|q| Packed {
            msg_id: ids.next(now, q.kind),
            seq_no: seq.next(q.content_related),
            body: q.body,
            content_related: q.content_related,
            tag: q.tag,
        })
        .collect();
    if packed.len() == 1 {
        let p = &packed[0];
        let outer = Outer {
            msg_id: p.msg_id,
            seq_no: p.seq_no,
            body: p.body.clone(),
            is_container: false,
        };
        return Some((outer, packed));
    }
    let container = MsgContainer {
        messages: packed
            .iter()
            .map(|p| Message {
                msg_id: p.msg_id,
                seqno: p.seq_no,
                body: p.body.clone(),
            })
            .collect(),
    };
    // The container's msg_id is above those of its messages; it is not content-related.
    let outer = Outer {
        msg_id: ids.next(now, container_kind),
        seq_no: seq.next(false),
        body: Bytes::from(container.to_bytes()),
        is_container: true,
    };
    Some((outer, packed))
}

/// Whether a body with this constructor id is content-related (everything except acks,
/// containers and http_wait).
pub(super) fn is_content_related_id(id: u32) -> bool {
    const MSGS_ACK: u32 = 0x62d6b459;
    const MSG_CONTAINER: u32 = 0x73f1f8dc;
    const HTTP_WAIT: u32 = 0x9299359f;
    !matches!(id, MSGS_ACK | MSG_CONTAINER | HTTP_WAIT)
}
