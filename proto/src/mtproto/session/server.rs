//! The server role of an encrypted session (sans-IO, same API shape as the client).
//!
//! One [`ServerSession`] serves one (auth key, session_id). It decrypts client packets,
//! checks salt, msg_id window and seq_no parity, answers the service messages itself (ping,
//! msgs_ack, get_future_salts, msgs_state_req, msg_resend_req, destroy_session), announces
//! new sessions, and hands RPC requests to the driver as [`Event::Request`]; the driver
//! answers with [`ServerSession::respond`] or [`ServerSession::respond_error`].

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rand::RngCore;

use super::acks::AckQueue;
use super::event::{Event, Events};
use super::msg_id::{MsgIdGen, MsgIdKind};
use super::outbox::{self, is_content_related_id, Queued};
use super::salts::SaltSchedule;
use super::seq_no::{is_content_related, SeqNo};
use super::unwrap::{self, Inflater, Plain};
use super::window::{ReceiveWindow, Sender};
use super::{wire, BadMsgCode, SessionError};
use crate::crypto::{AuthKey, Side};
use crate::tl::service::{GzipPacked, MsgContainer, RpcResult};
use crate::tl::{functions, types, Deserializable, Identifiable, Reader, Serializable};

/// How many answered requests are remembered for msg_resend_req and duplicate requests.
pub const ANSWER_CACHE: usize = 256;
/// The most answer bytes remembered per session. File parts are up to 1 MiB each: 256 of them
/// would hold 256 MiB per downloading connection, so large answers age out by size first.
pub const ANSWER_CACHE_BYTES: usize = 4 << 20;

/// Results at least this long are gzip-packed when compression is allowed and it helps.
pub const GZIP_THRESHOLD: usize = 512;

/// What a server session starts from.
#[derive(Clone, Debug)]
pub struct ServerSessionConfig {
    /// The auth key of the client.
    pub auth_key: AuthKey,
    /// The salt schedule of this server.
    pub salts: SaltSchedule,
}

/// A server's encrypted session with one client session.
pub struct ServerSession {
    auth_key: AuthKey,
    salts: SaltSchedule,
    session_id: Option<i64>,
    ids: MsgIdGen,
    seq: SeqNo,
    window: ReceiveWindow,
    acks: AckQueue,
    queue: VecDeque<Queued<()>>,
    events: Events,
    answers: BTreeMap<i64, Bytes>,
    answer_bytes: usize,
    disconnect_at: Option<Duration>,
    closed: bool,
    rng: Box<dyn RngCore + Send>,
    now: Duration,
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl ServerSession {
    /// A session waiting for the client's first message; `rng` supplies padding and the
    /// unique id of new_session_created.
    pub fn new(config: ServerSessionConfig, rng: Box<dyn RngCore + Send>) -> Self {
        ServerSession {
            auth_key: config.auth_key,
            salts: config.salts,
            session_id: None,
            ids: MsgIdGen::new(0),
            seq: SeqNo::new(),
            window: ReceiveWindow::new(Sender::Client),
            acks: AckQueue::new(),
            queue: VecDeque::new(),
            events: Events::default(),
            answers: BTreeMap::new(),
            answer_bytes: 0,
            disconnect_at: None,
            closed: false,
            rng,
            now: Duration::ZERO,
        }
    }

    /// The client's session id, once known.
    pub fn session_id(&self) -> Option<i64> {
        self.session_id
    }

    fn push(&mut self, body: Vec<u8>, content_related: bool, kind: MsgIdKind) {
        self.queue.push_back(Queued {
            body: body.into(),
            content_related,
            kind,
            tag: (),
        });
    }

    fn bad_msg(&mut self, msg_id: i64, seq_no: i32, code: BadMsgCode) {
        let body = types::BadMsgNotification {
            bad_msg_id: msg_id,
            bad_msg_seqno: seq_no,
            error_code: code.code(),
        }
        .to_bytes();
        self.push(body, false, MsgIdKind::ServerResponse);
    }

    /// Keeps `body` for a resend, forgetting the oldest answers beyond [`ANSWER_CACHE`] answers
    /// or [`ANSWER_CACHE_BYTES`] bytes.
    fn remember_answer(&mut self, req_msg_id: i64, body: Bytes) {
        self.answer_bytes += body.len();
        if let Some(old) = self.answers.insert(req_msg_id, body) {
            self.answer_bytes -= old.len();
        }
        while self.answers.len() > ANSWER_CACHE || self.answer_bytes > ANSWER_CACHE_BYTES {
            let Some((_, old)) = self.answers.pop_first() else {
                break;
            };
            self.answer_bytes -= old.len();
        }
    }

    /// The bytes of answers kept for resends (bounded by [`ANSWER_CACHE_BYTES`]).
    pub fn remembered_answer_bytes(&self) -> usize {
        self.answer_bytes
    }

    /// Decrypts and processes one client packet received at server time `now`. On an error
    /// the packet was refused; a notification for the client may still have been queued, so
    /// keep calling `poll_transmit`.
    pub fn handle_input(&mut self, packet: BytesMut, now: Duration) -> Result<(), SessionError> {
        let d = wire::decrypt(&self.auth_key, Side::Client, packet)?;
        self.handle_decrypted(d, now)
    }

    /// [`handle_input`](Self::handle_input) for a packet the caller decrypted with this
    /// session's key (e.g. to read its session_id first).
    pub fn handle_decrypted(
        &mut self,
        d: wire::Decrypted,
        now: Duration,
    ) -> Result<(), SessionError> {
        self.now = self.now.max(now);
        match self.session_id {
            None => {
                self.session_id = Some(d.session_id);
                let salt = self.salts.at(now.as_secs() as i64).salt;
                let body = types::NewSessionCreated {
                    first_msg_id: d.msg_id,
                    unique_id: self.rng.next_u64() as i64,
                    server_salt: salt,
                }
                .to_bytes();
                self.push(body, true, MsgIdKind::ServerInitiated);
            }
            Some(id) if id != d.session_id => {
                return Err(SessionError::WrongSession {
                    got: d.session_id,
                    expected: id,
                });
            }
            Some(_) => {}
        }
        let server_now = now.as_secs() as i64;
        if let Err(e) = self.window.check_time_and_parity(d.msg_id, server_now) {
            self.bad_msg(d.msg_id, d.seq_no, e.bad_msg_code());
            return Err(e.into());
        }
        if !self.salts.accepts(d.salt, server_now) {
            let body = types::BadServerSalt {
                bad_msg_id: d.msg_id,
                bad_msg_seqno: d.seq_no,
                error_code: BadMsgCode::BadServerSalt.code(),
                new_server_salt: self.salts.at(server_now).salt,
            }
            .to_bytes();
            self.push(body, false, MsgIdKind::ServerResponse);
            return Ok(());
        }
        if let Err(e) = self.window.accept_unchecked_time(d.msg_id) {
            // A replay: answered again from the cache if it was a request, else dropped.
            if let Some(answer) = self.answers.get(&d.msg_id).cloned() {
                self.queue.push_back(Queued {
                    body: answer,
                    content_related: true,
                    kind: MsgIdKind::ServerResponse,
                    tag: (),
                });
            }
            return Err(e.into());
        }
        if Reader::new(d.body.clone()).peek_u32()? == MsgContainer::CONSTRUCTOR_ID
            && !self.seq_no_parity_ok(d.msg_id, d.seq_no, MsgContainer::CONSTRUCTOR_ID)
        {
            return Ok(());
        }
        let mut inflater = Inflater::new(self.events.held());
        let messages = match unwrap::unwrap(
            d.msg_id,
            d.seq_no,
            d.body,
            &mut self.window,
            Some(server_now),
            &mut inflater,
        ) {
            Ok(messages) => messages,
            Err(e @ SessionError::BadContainer(_)) => {
                self.bad_msg(d.msg_id, d.seq_no, BadMsgCode::InvalidContainer);
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        for m in messages {
            if !self.seq_no_parity_ok(m.msg_id, m.seq_no, m.wire_id) {
                continue;
            }
            if is_content_related(m.seq_no) {
                self.acks.push(m.msg_id, self.now);
            }
            self.dispatch(m)?;
        }
        Ok(())
    }

    /// Whether the seq_no parity of a message fits its constructor (odd for content-related
    /// ones); if not, the client is told (34, 35) and the message is ignored.
    fn seq_no_parity_ok(&mut self, msg_id: i64, seq_no: i32, wire_id: u32) -> bool {
        let content = is_content_related_id(wire_id);
        if content == is_content_related(seq_no) {
            return true;
        }
        let code = if content {
            BadMsgCode::OddSeqNoExpected
        } else {
            BadMsgCode::EvenSeqNoExpected
        };
        self.bad_msg(msg_id, seq_no, code);
        false
    }

    /// Handles one plain message (neither a container nor gzip_packed).
    fn dispatch(&mut self, m: Plain) -> Result<(), SessionError> {
        let Plain {
            msg_id,
            body,
            inflated,
            ..
        } = m;
        let id = Reader::new(body.clone()).peek_u32()?;
        match id {
            types::MsgsAck::CONSTRUCTOR_ID => {
                types::MsgsAck::from_bytes(body)?;
            }
            functions::Ping::CONSTRUCTOR_ID => {
                let p = functions::Ping::from_bytes(body)?;
                let pong = types::Pong {
                    msg_id,
                    ping_id: p.ping_id,
                }
                .to_bytes();
                self.push(pong, true, MsgIdKind::ServerResponse);
            }
            functions::PingDelayDisconnect::CONSTRUCTOR_ID => {
                let p = functions::PingDelayDisconnect::from_bytes(body)?;
                let delay = Duration::from_secs(u64::try_from(p.disconnect_delay).unwrap_or(0));
                self.disconnect_at = Some(self.now + delay);
                let pong = types::Pong {
                    msg_id,
                    ping_id: p.ping_id,
                }
                .to_bytes();
                self.push(pong, true, MsgIdKind::ServerResponse);
            }
            functions::GetFutureSalts::CONSTRUCTOR_ID => {
                let g = functions::GetFutureSalts::from_bytes(body)?;
                let now = self.now.as_secs() as i64;
                let count = g.num.clamp(1, 64) as usize;
                let salts = self
                    .salts
                    .upcoming(now, count)
                    .into_iter()
                    .map(|s| types::FutureSalt {
                        valid_since: s.valid_since as i32,
                        valid_until: s.valid_until as i32,
                        salt: s.salt,
                    })
                    .collect();
                let answer = types::FutureSalts {
                    req_msg_id: msg_id,
                    now: now as i32,
                    salts,
                }
                .to_bytes();
                self.push(answer, true, MsgIdKind::ServerResponse);
            }
            types::MsgsStateReq::CONSTRUCTOR_ID => {
                let r = types::MsgsStateReq::from_bytes(body)?;
                let info: Vec<u8> = r
                    .msg_ids
                    .iter()
                    .map(|id| {
                        if self.window.contains(*id) {
                            if self.answers.contains_key(id) {
                                4 | 8
                            } else {
                                4
                            }
                        } else {
                            1
                        }
                    })
                    .collect();
                let answer = types::MsgsStateInfo {
                    req_msg_id: msg_id,
                    info: info.into(),
                }
                .to_bytes();
                self.push(answer, true, MsgIdKind::ServerResponse);
            }
            types::MsgResendReq::CONSTRUCTOR_ID => {
                let r = types::MsgResendReq::from_bytes(body)?;
                for id in r.msg_ids {
                    if let Some(answer) = self.answers.get(&id).cloned() {
                        self.queue.push_back(Queued {
                            body: answer,
                            content_related: true,
                            kind: MsgIdKind::ServerResponse,
                            tag: (),
                        });
                    }
                }
            }
            functions::DestroySession::CONSTRUCTOR_ID => {
                let d = functions::DestroySession::from_bytes(body)?;
                // This machine serves one session: another id is not ours to destroy here.
                let answer = if Some(d.session_id) == self.session_id {
                    types::DestroySessionOk {
                        session_id: d.session_id,
                    }
                    .to_bytes()
                } else {
                    types::DestroySessionNone {
                        session_id: d.session_id,
                    }
                    .to_bytes()
                };
                let answer = RpcResult {
                    req_msg_id: msg_id,
                    result: answer.into(),
                }
                .to_bytes();
                self.push(answer, true, MsgIdKind::ServerResponse);
            }
            _ => self
                .events
                .push_inflated(Event::Request { msg_id, body }, inflated),
        }
        Ok(())
    }

    /// Answers the request `req_msg_id` with a serialized result. With `compress`, results of
    /// at least [`GZIP_THRESHOLD`] bytes are gzip-packed when that makes them smaller.
    pub fn respond(&mut self, req_msg_id: i64, result: Bytes, compress: bool) {
        let result = if compress && result.len() >= GZIP_THRESHOLD {
            let packed = GzipPacked::pack(&result).to_bytes();
            if packed.len() < result.len() {
                Bytes::from(packed)
            } else {
                result
            }
        } else {
            result
        };
        let mut body = Vec::with_capacity(12 + result.len());
        body.extend_from_slice(&RpcResult::CONSTRUCTOR_ID.to_le_bytes());
        body.extend_from_slice(&req_msg_id.to_le_bytes());
        body.extend_from_slice(&result);
        let body = Bytes::from(body);
        self.remember_answer(req_msg_id, body.clone());
        self.queue.push_back(Queued {
            body,
            content_related: true,
            kind: MsgIdKind::ServerResponse,
            tag: (),
        });
    }

    /// Answers the request `req_msg_id` with an rpc_error.
    pub fn respond_error(&mut self, req_msg_id: i64, code: i32, message: &str) {
        let e = types::RpcError {
            error_code: code,
            error_message: message.to_owned(),
        }
        .to_bytes();
        self.respond(req_msg_id, e.into(), false);
    }

    /// Sends a server-initiated content message (an update).
    pub fn push_update(&mut self, body: Bytes) {
        self.queue.push_back(Queued {
            body,
            content_related: true,
            kind: MsgIdKind::ServerInitiated,
            tag: (),
        });
    }

    /// Writes the next packet into `out` (replacing its contents) and returns true, or false
    /// when nothing is due at `now`.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Duration, out: &mut Vec<u8>) -> bool {
        self.now = self.now.max(now);
        out.clear();
        let Some(session_id) = self.session_id else {
            return false;
        };
        if self.closed {
            return false;
        }
        if !self.acks.is_empty() && (!self.queue.is_empty() || self.acks.due(now)) {
            let body = types::MsgsAck {
                msg_ids: self.acks.take(),
            }
            .to_bytes();
            self.queue.push_front(Queued {
                body: body.into(),
                content_related: false,
                kind: MsgIdKind::ServerInitiated,
                tag: (),
            });
        }
        loop {
            let Some((outer, _)) = outbox::pack(
                &mut self.queue,
                &mut self.ids,
                &mut self.seq,
                now,
                MsgIdKind::ServerInitiated,
            ) else {
                return false;
            };
            let salt = self.salts.at(now.as_secs() as i64).salt;
            match wire::encrypt(
                &self.auth_key,
                Side::Server,
                salt,
                session_id,
                outer.msg_id,
                outer.seq_no,
                &outer.body,
                &mut *self.rng,
                out,
            ) {
                Ok(()) => return true,
                Err(_) => out.clear(), // an oversized answer cannot be sent: skip it
            }
        }
    }

    /// The next event ([`Event::Request`], or [`Event::Closed`] when a ping_delay_disconnect
    /// expired).
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// When [`ServerSession::handle_timeout`] should be called next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        match (self.acks.deadline(), self.disconnect_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances the clock: pending acks become due; an expired ping_delay_disconnect closes
    /// the session ([`Event::Closed`]).
    pub fn handle_timeout(&mut self, now: Duration) {
        self.now = self.now.max(now);
        if self.disconnect_at.is_some_and(|t| now >= t) && !self.closed {
            self.closed = true;
            self.disconnect_at = None;
            self.events.push(Event::Closed);
        }
    }

    /// Whether the session was closed by an expired ping_delay_disconnect.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}
