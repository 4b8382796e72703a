//! `tgmux local-dc`: our own multi-DC MTProto server.
//!
//! It serves a media library (`DIR/<username>/<msg_id>.<ext>`) as public channels over several
//! DCs, with faults on demand. The pieces, bottom up:
//!
//! - [`ids`]: stable ids derived from names; [`media`]: the library scan;
//! - [`fileref`]: expiring file references; [`getfile`]: the `upload.getFile` part rules and
//!   positional reads; [`faults`]: the `--faults` spec and its seeded decisions ([`rng`]);
//! - [`cdn`]: the `--cdn` CDN DC (tokens, encryption, reuploads);
//! - the API handler and the tokio server (driver of the sans-IO server session).
//!
//! Everything except the server driver is synchronous and testable without sockets.

pub mod accounts;
pub mod cdn;
pub mod conn;
pub mod error;
pub mod faults;
pub mod fileref;
pub mod getfile;
pub mod handler;
pub mod ids;
pub mod media;
pub mod objects;
pub mod rng;
pub mod run;
pub mod server;

pub use error::{LocalDcError, RpcError};
