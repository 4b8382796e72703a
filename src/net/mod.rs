//! The client's I/O layer: tokio tasks that own sockets and drive the sans-IO MTProto core.
//!
//! - [`client`]: one connection per task; [`Client`] is the cloneable handle with pipelined
//!   [`Client::invoke`] and [`Client::ping`].
//! - [`pool`]: every DC's connections behind one handle: keys and logins per DC, flood waits,
//!   login migration, the session file.
//! - [`dc_options`]: the DC addresses `help.getConfig` announces, and which one to use.
//! - [`session_file`] persists what a client remembers between runs.
//! - [`saved_key`]: connecting with a saved key, and what a `-404` answer to it may change.
//! - [`tunnel`]: TCP connections through SOCKS5 and HTTP CONNECT proxies.

pub mod client;
pub mod dc_options;
mod error;
pub mod pool;
pub mod saved_key;
pub mod session_file;
pub mod tunnel;

pub use client::{connect, Client, ConnectOptions, Connected, InitParams, DEFAULT_TIMEOUT};
pub use dc_options::DcOptions;
pub use error::InvokeError;
pub use pool::{Pool, PoolConfig, PoolStats};
pub use saved_key::{connect_saved, KeyUse, SavedKey};
