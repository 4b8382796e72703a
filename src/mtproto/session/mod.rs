//! MTProto 2.0 encrypted sessions: msg_id, seq_no, salts, acks, containers, rpc results.
//!
//! The building blocks (msg_id generation, receive window, seq_no, salts, ack batching, RPC
//! error parsing) are small independent types; the session machines combine them.

pub mod acks;
pub mod event;
pub mod msg_id;
pub mod rpc_error;
pub mod salts;
pub mod seq_no;
pub mod window;

pub use event::{Event, RequestId};
pub use msg_id::{MsgIdGen, MsgIdKind};
pub use rpc_error::{RpcError, RpcErrorKind};
pub use salts::{Salt, SaltBook, SaltSchedule};
pub use seq_no::SeqNo;
pub use window::{ReceiveWindow, Sender, WindowError};
