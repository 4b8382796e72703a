//! The client role of an encrypted session (sans-IO, quinn-style API).
//!
//! Call [`ClientSession::request`] to queue RPCs, feed every received packet to
//! [`ClientSession::handle_input`], then drain [`ClientSession::poll_transmit`] (packets to
//! send) and [`ClientSession::poll_event`] (results, errors, updates). Re-arm one timer from
//! [`ClientSession::poll_timeout`] and call [`ClientSession::handle_timeout`] when it fires.
//! Time is the local wall clock as a duration since the UNIX epoch; randomness comes from the
//! rng given at construction.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rand::RngCore;

use super::acks::AckQueue;
use super::event::{Event, Events, RequestId};
use super::msg_id::{msg_id_secs, MsgIdGen, MsgIdKind};
use super::outbox::{self, Queued};
use super::rpc_error::RpcErrorKind;
use super::salts::{Salt, SaltBook};
use super::seq_no::{is_content_related, SeqNo};
use super::unwrap::{self, Inflater, Plain};
use super::window::{ReceiveWindow, Sender, WindowError, MAX_FUTURE_SECS};
use super::{wire, BadMsgCode, SessionError, MAX_RESENDS};
use crate::crypto::{AuthKey, Side};
use crate::tl::service::{GzipPacked, MsgContainer, RpcResult};
use crate::tl::{functions, types, Deserializable, Identifiable, Reader, Serializable};

/// What a client session starts from.
#[derive(Clone, Debug)]
pub struct ClientSessionConfig {
    /// The auth key (permanent, or temporary once bound).
    pub auth_key: AuthKey,
    /// A random session id (a new one for each session).
    pub session_id: i64,
    /// The server salt to start with.
    pub server_salt: i64,
    /// Server time − local time, seconds.
    pub time_offset: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Request(RequestId),
    Ping(i64),
    Service,
}

#[derive(Clone, Debug)]
struct Sent {
    body: Bytes,
    tag: Tag,
    content_related: bool,
    attempts: u32,
}

/// A client's encrypted session with one server.
pub struct ClientSession {
    auth_key: AuthKey,
    session_id: i64,
    ids: MsgIdGen,
    seq: SeqNo,
    salts: SaltBook,
    window: ReceiveWindow,
    acks: AckQueue,
    queue: VecDeque<Queued<(Tag, u32)>>,
    in_flight: HashMap<i64, Sent>,
    containers: HashMap<i64, Vec<i64>>,
    requests: HashMap<RequestId, i64>,
    events: Events,
    next_request: u64,
    rng: Box<dyn RngCore + Send>,
    now: Duration,
}

impl std::fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSession")
            .field("session_id", &self.session_id)
            .field("in_flight", &self.in_flight.len())
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    /// A new session; `rng` supplies padding and ping ids.
    pub fn new(config: ClientSessionConfig, rng: Box<dyn RngCore + Send>) -> Self {
        ClientSession {
            auth_key: config.auth_key,
            session_id: config.session_id,
            ids: MsgIdGen::new(config.time_offset),
            seq: SeqNo::new(),
            salts: SaltBook::new(config.server_salt),
            window: ReceiveWindow::new(Sender::Server),
            acks: AckQueue::new(),
            queue: VecDeque::new(),
            in_flight: HashMap::new(),
            containers: HashMap::new(),
            requests: HashMap::new(),
            events: Events::default(),
            next_request: 0,
            rng,
            now: Duration::ZERO,
        }
    }

    /// This session's id.
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// The salt in use.
    pub fn server_salt(&self) -> i64 {
        self.salts.peek()
    }

    /// The salts known (current and future).
    pub fn salt_book(&self) -> &SaltBook {
        &self.salts
    }

    /// Server time − local time, seconds, as currently known.
    pub fn time_offset(&self) -> i32 {
        self.ids.offset()
    }

    /// Requests queued or sent and not yet answered.
    pub fn pending_requests(&self) -> usize {
        self.requests.len()
    }

    /// Queues an RPC (a serialized TL function) and returns its id.
    #[must_use]
    pub fn request(&mut self, body: impl Into<Bytes>) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        self.requests.insert(id, 0);
        self.enqueue(body.into(), true, Tag::Request(id), 0);
        id
    }

    /// Queues a `ping`; its pong comes back as [`Event::Pong`].
    pub fn ping(&mut self, ping_id: i64) {
        let body = functions::Ping { ping_id }.to_bytes();
        self.enqueue(body.into(), true, Tag::Ping(ping_id), 0);
    }

    /// Queues a `ping_delay_disconnect`: the server closes the connection if no further ping
    /// arrives within `disconnect_delay` seconds.
    pub fn ping_delay_disconnect(&mut self, ping_id: i64, disconnect_delay: i32) {
        let body = functions::PingDelayDisconnect {
            ping_id,
            disconnect_delay,
        }
        .to_bytes();
        self.enqueue(body.into(), true, Tag::Ping(ping_id), 0);
    }

    /// Queues `get_future_salts` (the answer fills the salt book).
    pub fn request_future_salts(&mut self, num: i32) {
        let body = functions::GetFutureSalts { num }.to_bytes();
        self.enqueue(body.into(), true, Tag::Service, 0);
    }

    /// Queues `destroy_session` for another session of the same key.
    pub fn destroy_session(&mut self, session_id: i64) {
        let body = functions::DestroySession { session_id }.to_bytes();
        self.enqueue(body.into(), true, Tag::Service, 0);
    }

    /// After a reconnect: every unanswered message goes back to the queue and will be sent
    /// again with a new msg_id (answers to the old ids are still recognised until then).
    pub fn resend_unanswered(&mut self) {
        let mut ids: Vec<i64> = self.in_flight.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.resend(id, false);
        }
    }

    /// Starts a new session on the same key: a new random session_id, msg_ids, seq_no and
    /// the receive window start over, pending acks (for the old session's messages) are
    /// dropped, and every unanswered message is queued again.
    fn renew(&mut self) {
        self.session_id = self.rng.next_u64() as i64;
        self.ids = MsgIdGen::new(self.ids.offset());
        self.seq.reset();
        self.window.clear();
        self.acks = AckQueue::new();
        self.resend_unanswered();
    }

    fn enqueue(&mut self, body: Bytes, content_related: bool, tag: Tag, attempts: u32) {
        self.queue.push_back(Queued {
            body,
            content_related,
            kind: MsgIdKind::Client,
            tag: (tag, attempts),
        });
    }

    /// Puts the message `msg_id` (or every message of the container `msg_id`) back in front
    /// of the queue; gives up on a request after [`MAX_RESENDS`] attempts.
    fn resend(&mut self, msg_id: i64, count_attempt: bool) {
        if let Some(inner) = self.containers.remove(&msg_id) {
            for id in inner.into_iter().rev() {
                self.resend(id, count_attempt);
            }
            return;
        }
        let Some(sent) = self.in_flight.remove(&msg_id) else {
            return;
        };
        let attempts = sent.attempts + u32::from(count_attempt);
        if attempts > MAX_RESENDS {
            if let Tag::Request(r) = sent.tag {
                self.requests.remove(&r);
                self.events.push(Event::RequestDropped { request: r });
            }
            return;
        }
        self.queue.push_front(Queued {
            body: sent.body,
            content_related: sent.content_related,
            kind: MsgIdKind::Client,
            tag: (sent.tag, attempts),
        });
    }

    /// Decrypts and processes one packet received at local time `now`. An error means the
    /// packet was refused (forged, replayed, malformed); the session stays usable unless
    /// [`SessionError::is_fatal`].
    pub fn handle_input(&mut self, packet: BytesMut, now: Duration) -> Result<(), SessionError> {
        self.now = self.now.max(now);
        let d = wire::decrypt(&self.auth_key, Side::Server, packet)?;
        if d.session_id != self.session_id {
            return Err(SessionError::WrongSession {
                got: d.session_id,
                expected: self.session_id,
            });
        }
        let server_now = self.ids.server_secs(now);
        let clock_fix = match self.window.check_time_and_parity(d.msg_id, server_now) {
            Ok(()) => false,
            Err(WindowError::TooOld { .. } | WindowError::TooNew { .. })
                if self.is_time_fix(&d.body) =>
            {
                true
            }
            Err(e) => return Err(e.into()),
        };
        self.window.accept_unchecked_time(d.msg_id)?;
        let mut inflater = Inflater::new(self.events.held());
        let messages = unwrap::unwrap(
            d.msg_id,
            d.seq_no,
            d.body,
            &mut self.window,
            (!clock_fix).then_some(server_now),
            &mut inflater,
        )?;
        for m in messages {
            if clock_fix && !self.is_time_fix(&m.body) {
                continue; // outside the window: only the clock correction is taken
            }
            if is_content_related(m.seq_no) {
                self.acks.push(m.msg_id, self.now);
            }
            self.dispatch(m, &mut inflater)?;
        }
        Ok(())
    }

    /// Whether `body` is (or is a container holding) a bad_msg_notification 16/17 about one of
    /// our unanswered messages: such a message is accepted even when our clock disagrees with
    /// the server's, since it is what corrects the clock.
    fn is_time_fix(&self, body: &Bytes) -> bool {
        let is_fix = |b: &Bytes| match types::BadMsgNotification::from_bytes(b.clone()) {
            Ok(n) => {
                BadMsgCode::from_code(n.error_code).is_some_and(BadMsgCode::is_clock)
                    && self.knows(n.bad_msg_id)
            }
            Err(_) => false,
        };
        if is_fix(body) {
            return true;
        }
        match MsgContainer::from_bytes(body.clone()) {
            Ok(c) => c.messages.iter().any(|m| is_fix(&m.body)),
            Err(_) => false,
        }
    }

    /// Handles one plain message (neither a container nor gzip_packed).
    fn dispatch(&mut self, m: Plain, inflater: &mut Inflater) -> Result<(), SessionError> {
        let Plain {
            msg_id,
            body,
            inflated,
            ..
        } = m;
        let id = Reader::new(body.clone()).peek_u32()?;
        match id {
            RpcResult::CONSTRUCTOR_ID => {
                self.on_rpc_result(RpcResult::from_bytes(body)?, inflated, inflater)
            }
            types::BadServerSalt::CONSTRUCTOR_ID => {
                let n = types::BadServerSalt::from_bytes(body)?;
                if self.knows(n.bad_msg_id) {
                    self.salts.set_current(n.new_server_salt);
                    self.resend(n.bad_msg_id, true);
                }
                Ok(())
            }
            types::BadMsgNotification::CONSTRUCTOR_ID => {
                let n = types::BadMsgNotification::from_bytes(body)?;
                if !self.knows(n.bad_msg_id) {
                    return Ok(());
                }
                let code = BadMsgCode::from_code(n.error_code);
                if code.is_some_and(BadMsgCode::is_clock) {
                    self.ids.correct_from_server_msg_id(self.now, msg_id);
                }
                self.resend(n.bad_msg_id, true);
                let ahead = msg_id_secs(self.ids.last())
                    >= self.ids.server_secs(self.now) + MAX_FUTURE_SECS;
                if code.is_some_and(BadMsgCode::is_seq_no_count)
                    || (code == Some(BadMsgCode::MsgIdTooHigh) && ahead)
                {
                    // Our seq_no count is off, or our clock was so far ahead that the next
                    // msg_ids (which never go back within a session) would still be refused:
                    // Telegram's advice is a new session.
                    self.renew();
                }
                Ok(())
            }
            types::NewSessionCreated::CONSTRUCTOR_ID => {
                let n = types::NewSessionCreated::from_bytes(body)?;
                self.salts.set_current(n.server_salt);
                self.events.push(Event::SessionReset {
                    first_msg_id: n.first_msg_id,
                });
                Ok(())
            }
            types::MsgsAck::CONSTRUCTOR_ID => {
                let _ = types::MsgsAck::from_bytes(body)?;
                Ok(())
            }
            types::Pong::CONSTRUCTOR_ID => {
                let p = types::Pong::from_bytes(body)?;
                self.on_pong(p.msg_id, p.ping_id);
                Ok(())
            }
            types::FutureSalts::CONSTRUCTOR_ID => {
                let f = types::FutureSalts::from_bytes(body)?;
                self.in_flight.remove(&f.req_msg_id);
                self.add_future_salts(&f);
                Ok(())
            }
            types::MsgDetailedInfo::CONSTRUCTOR_ID => {
                let i = types::MsgDetailedInfo::from_bytes(body)?;
                self.acks.push(i.answer_msg_id, self.now);
                Ok(())
            }
            types::MsgNewDetailedInfo::CONSTRUCTOR_ID => {
                let i = types::MsgNewDetailedInfo::from_bytes(body)?;
                self.acks.push(i.answer_msg_id, self.now);
                Ok(())
            }
            types::MsgsStateReq::CONSTRUCTOR_ID => {
                let r = types::MsgsStateReq::from_bytes(body)?;
                let info: Vec<u8> = r
                    .msg_ids
                    .iter()
                    .map(|id| if self.window.contains(*id) { 4 } else { 1 })
                    .collect();
                let answer = types::MsgsStateInfo {
                    req_msg_id: msg_id,
                    info: info.into(),
                }
                .to_bytes();
                self.enqueue(answer.into(), false, Tag::Service, 0);
                Ok(())
            }
            types::DestroySessionOk::CONSTRUCTOR_ID | types::DestroySessionNone::CONSTRUCTOR_ID => {
                Ok(())
            }
            _ => {
                self.events.push_inflated(Event::Update(body), inflated);
                Ok(())
            }
        }
    }

    fn knows(&self, msg_id: i64) -> bool {
        self.in_flight.contains_key(&msg_id) || self.containers.contains_key(&msg_id)
    }

    fn add_future_salts(&mut self, f: &types::FutureSalts) {
        self.salts.add_future(f.salts.iter().map(|s| Salt {
            valid_since: i64::from(s.valid_since),
            valid_until: i64::from(s.valid_until),
            salt: s.salt,
        }));
    }

    fn on_pong(&mut self, ping_msg_id: i64, ping_id: i64) {
        if let Some(sent) = self.in_flight.get(&ping_msg_id) {
            if sent.tag == Tag::Ping(ping_id) {
                self.in_flight.remove(&ping_msg_id);
                self.events.push(Event::Pong { ping_id });
            }
        }
    }

    /// `inflated`: bytes of `r` that were inflated already (its message came gzip_packed).
    fn on_rpc_result(
        &mut self,
        r: RpcResult,
        mut inflated: usize,
        inflater: &mut Inflater,
    ) -> Result<(), SessionError> {
        let Some(sent) = self.in_flight.remove(&r.req_msg_id) else {
            return Ok(()); // unknown or already answered: acked, otherwise ignored
        };
        let mut result = r.result;
        if Reader::new(result.clone()).peek_u32()? == GzipPacked::CONSTRUCTOR_ID {
            result = inflater.inflate(result)?;
            inflated = result.len();
        }
        let request = match sent.tag {
            Tag::Request(request) => request,
            Tag::Ping(ping_id) => {
                self.events.push(Event::Pong { ping_id });
                return Ok(());
            }
            Tag::Service => {
                if let Ok(f) = types::FutureSalts::from_bytes(result.clone()) {
                    self.add_future_salts(&f);
                }
                return Ok(());
            }
        };
        self.requests.remove(&request);
        if Reader::new(result.clone()).peek_u32()? == types::RpcError::CONSTRUCTOR_ID {
            let e = types::RpcError::from_bytes(result)?;
            let parsed = RpcErrorKind::parse(&e.error_message);
            self.events.push(Event::RpcError {
                request,
                code: e.error_code,
                message: e.error_message,
                parsed,
            });
        } else {
            self.events.push_inflated(
                Event::RpcResult {
                    request,
                    body: result,
                },
                inflated,
            );
        }
        Ok(())
    }

    /// Writes the next packet to send into `out` (replacing its contents) and returns true,
    /// or returns false when there is nothing to send at `now`. Call until it returns false.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Duration, out: &mut Vec<u8>) -> bool {
        self.now = self.now.max(now);
        out.clear();
        let in_flight = &self.in_flight;
        self.containers
            .retain(|_, inner| inner.iter().any(|id| in_flight.contains_key(id)));
        if !self.acks.is_empty() && (!self.queue.is_empty() || self.acks.due(now)) {
            let ids = self.acks.take();
            let body = types::MsgsAck { msg_ids: ids }.to_bytes();
            self.queue.push_front(Queued {
                body: body.into(),
                content_related: false,
                kind: MsgIdKind::Client,
                tag: (Tag::Service, 0),
            });
        }
        let Some((outer, packed)) = outbox::pack(
            &mut self.queue,
            &mut self.ids,
            &mut self.seq,
            now,
            MsgIdKind::Client,
        ) else {
            return false;
        };
        let server_now = self.ids.server_secs(now);
        let salt = self.salts.current(server_now);
        if let Err(e) = wire::encrypt(
            &self.auth_key,
            Side::Client,
            salt,
            self.session_id,
            outer.msg_id,
            outer.seq_no,
            &outer.body,
            &mut *self.rng,
            out,
        ) {
            // Only an oversized body can fail: drop it and tell the caller.
            for p in packed {
                if let (Tag::Request(r), _) = p.tag {
                    self.requests.remove(&r);
                    self.events.push(Event::RequestDropped { request: r });
                }
            }
            let _ = e;
            out.clear();
            return self.poll_transmit(now, out);
        }
        if outer.is_container {
            self.containers.insert(
                outer.msg_id,
                packed
                    .iter()
                    .filter(|p| p.content_related)
                    .map(|p| p.msg_id)
                    .collect(),
            );
        }
        for p in packed {
            let (tag, attempts) = p.tag;
            if p.content_related {
                if let Tag::Request(r) = tag {
                    self.requests.insert(r, p.msg_id);
                }
                self.in_flight.insert(
                    p.msg_id,
                    Sent {
                        body: p.body,
                        tag,
                        content_related: true,
                        attempts,
                    },
                );
            }
        }
        true
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// When [`ClientSession::handle_timeout`] should be called next (local time), if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.acks.deadline()
    }

    /// Advances the session's clock; pending acks become due (see `poll_transmit`).
    pub fn handle_timeout(&mut self, now: Duration) {
        self.now = self.now.max(now);
    }
}
