//! `tgmux local-dc`: our own multi-DC MTProto server.
//!
//! It serves a media library (public and private channels, albums, forum topics, comments in
//! discussion groups; see `media`) over several DCs, with faults on demand. The pieces,
//! bottom up:
//!
//! - [`ids`]: stable ids derived from names; `media`: the library scan; `probe`: photo and
//!   video attributes (our own demuxer);
//! - `fileref`: expiring file references; `getfile`: the `upload.getFile` part rules and
//!   positional reads; `faults`: the `--faults` spec and its seeded decisions (`rng`);
//! - `accounts`: logins; `cdn`: the `--cdn` CDN DC (tokens, encryption, reuploads);
//! - `handler`: the API (one file per area), `stats`: what was asked (`--stats-file`),
//!   `conn`: one connection, sans-IO;
//! - `server`: the tokio driver; `run`: start-up from the command line's [`Options`];
//!   `links`: `--links`.
//!
//! Everything except the server driver is synchronous and testable without sockets. The public
//! surface is what `tgmux local-dc`, `tgmux demo` and the in-process tests and benches need:
//! [`run`] (or [`serve`] on the caller's runtime) with its [`Options`], and the sans-IO
//! [`World`] and [`Connection`] with what builds them.

#![warn(unreachable_pub, missing_docs)]

mod accounts;
mod cdn;
mod conn;
mod error;
mod faults;
mod fileref;
mod getfile;
mod handler;
pub mod ids;
mod links;
mod media;
mod objects;
mod probe;
mod rng;
mod run;
mod server;
mod stats;

pub use conn::{Connection, Flow, KeyStore, Shared};
pub use error::{ApiError, LocalDcError};
pub use faults::{FaultSpec, Faults};
pub use fileref::FileRefs;
pub use handler::{Ctx, Reply, World};
pub use media::{Channel, Document, Library, Message};
pub use objects::DcAddress;
pub use run::{run, serve, Options};
