//! MTProto 2.0 encrypted sessions: msg_id, seq_no, salts, acks, containers, rpc results.
//!
//! The building blocks (msg_id generation, receive window, seq_no, salts, ack batching,
//! container and gzip unwrapping, RPC error parsing) are small independent types; the session
//! machines ([`ClientSession`], [`ServerSession`]) combine them. What the rest of tgmux uses is
//! public: the machines and their events and errors, [`wire`] (local-dc decrypts a packet once
//! to find its session, the fuzzers build packets with it), [`MsgIdGen`] (the plain handshake's
//! msg_ids), the salts and RPC error types. The receive window, the outbox, seq_no counting,
//! acks and unwrapping are internals.

mod acks;
mod bad_msg;
mod event;
mod msg_id;
mod outbox;
mod rpc_error;
mod salts;
mod seq_no;
mod unwrap;
mod window;

pub mod client;
mod error;
pub mod server;
pub mod wire;

pub use bad_msg::BadMsgCode;
pub use client::{ClientSession, ClientSessionConfig};
pub use error::SessionError;
pub use event::{Event, RequestId};
pub use msg_id::{MsgIdGen, MsgIdKind};
pub use rpc_error::{RpcError, RpcErrorKind};
pub use salts::{Salt, SaltBook, SaltSchedule};
pub use server::{ServerSession, ServerSessionConfig};
pub use unwrap::MAX_INFLATED;
pub use window::{WindowError, MAX_FUTURE_SECS, MAX_PAST_SECS};

/// How many times a message is resent (bad salt, bad msg_id...) before its request is dropped.
pub const MAX_RESENDS: u32 = 5;
