//! MTProto 2.0 encrypted sessions: msg_id, seq_no, salts, acks, containers, rpc results.
//!
//! The building blocks (msg_id generation, receive window, seq_no, salts, ack batching,
//! container and gzip unwrapping, RPC error parsing) are small independent types; the session
//! machines combine them.

pub mod acks;
mod bad_msg;
pub mod event;
pub mod msg_id;
pub mod rpc_error;
pub mod salts;
pub mod seq_no;
pub mod window;

pub use bad_msg::BadMsgCode;
pub use event::{Event, RequestId};
pub use msg_id::{MsgIdGen, MsgIdKind};
pub use rpc_error::{RpcError, RpcErrorKind};
pub use salts::{Salt, SaltBook, SaltSchedule};
pub use seq_no::SeqNo;
pub use window::{ReceiveWindow, Sender, WindowError};

pub mod client;
mod error;
pub mod outbox;
pub mod server;
mod unwrap;
pub mod wire;

pub use client::{ClientSession, ClientSessionConfig};
pub use error::SessionError;
pub use server::{ServerSession, ServerSessionConfig};
pub use unwrap::MAX_INFLATED;

/// How many times a message is resent (bad salt, bad msg_id...) before its request is dropped.
pub const MAX_RESENDS: u32 = 5;
