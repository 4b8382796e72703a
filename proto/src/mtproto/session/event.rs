//! What a session machine tells its driver: typed events.

use std::collections::VecDeque;

use bytes::Bytes;

use super::rpc_error::RpcErrorKind;

/// Identifies one request the caller queued in a client session; stable across resends
/// (the msg_id changes when a request is resent, the RequestId does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// An event produced by a session (see `poll_event`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Client: the answer to `request`, the TL-serialized result (gzip already undone).
    RpcResult {
        /// The request answered.
        request: RequestId,
        /// The result object's bytes; a view of the decrypted buffer when not compressed.
        body: Bytes,
    },
    /// Client: the request failed with an rpc_error.
    RpcError {
        /// The request answered.
        request: RequestId,
        /// The error code.
        code: i32,
        /// The error message.
        message: String,
        /// The parsed meaning of `message`.
        parsed: RpcErrorKind,
    },
    /// Client: a message that is not an answer to a request (updates and unknown objects).
    Update(Bytes),
    /// Client: the server created a new session (new_session_created); updates may have been
    /// lost since `first_msg_id` and the caller should fetch the difference.
    SessionReset {
        /// The first message id of the new session.
        first_msg_id: i64,
    },
    /// Client: pong for a ping sent with [`ClientSession::ping`](super::ClientSession::ping).
    Pong {
        /// The ping's id.
        ping_id: i64,
    },
    /// Client: the request will not be answered (destroy_session, or resend given up).
    RequestDropped {
        /// The request dropped.
        request: RequestId,
    },
    /// Server: a client request to answer (its rpc_result goes out with `respond`).
    Request {
        /// The msg_id of the client's message: pass it back to `respond`.
        msg_id: i64,
        /// The request's TL bytes (gzip already undone).
        body: Bytes,
    },
    /// Either role: the peer asked to destroy a session, or the session ended on error.
    Closed,
}

/// The events a session holds for its driver, and how many inflated bytes they keep alive
/// (counted against [`MAX_INFLATED`](super::MAX_INFLATED) with the packet being read).
#[derive(Debug, Default)]
pub(crate) struct Events {
    queue: VecDeque<(Event, usize)>,
    held: usize,
}

impl Events {
    /// Queues an event that holds no inflated bytes.
    pub(crate) fn push(&mut self, event: Event) {
        self.push_inflated(event, 0);
    }

    /// Queues an event whose body keeps `inflated` bytes of inflated gzip_packed alive.
    pub(crate) fn push_inflated(&mut self, event: Event, inflated: usize) {
        self.held += inflated;
        self.queue.push_back((event, inflated));
    }

    /// The oldest event.
    pub(crate) fn pop(&mut self) -> Option<Event> {
        let (event, inflated) = self.queue.pop_front()?;
        self.held -= inflated;
        Some(event)
    }

    /// Inflated bytes held by queued events.
    pub(crate) fn held(&self) -> usize {
        self.held
    }
}
