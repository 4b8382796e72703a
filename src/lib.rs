//! tgmux: Telegram media over our own MTProto, remuxed to MP4 in pure Rust, streamed over HTTP.
//!
//! Layers, bottom up. The sans-IO core is its own crates (`tgmux-tl`, `tgmux-proto`,
//! `tgmux-remux`, re-exported here as [`tl`], [`crypto`], [`mtproto`] and [`remux`]), which do
//! not depend on tokio or hyper: they take bytes, time and randomness as arguments. The
//! drivers in this crate (`net`, `localdc`, the CLI) own sockets and timers.

pub mod cli;
pub mod config;
pub mod dcconfig;
pub mod download;
pub mod localdc;
pub mod net;
pub mod resolve;
pub mod scale;
pub mod serve;
pub mod store;
mod text;

/// Cryptography and the sans-IO MTProto core: the `tgmux-proto` crate.
pub use tgmux_proto::{crypto, mtproto};
/// Stream-copy remuxing (MKV/WebM/MOV → MP4): the `tgmux-remux` crate.
pub use tgmux_remux as remux;
/// The TL layer (generated types, enums, functions and their runtime): the `tgmux-tl` crate.
pub use tgmux_tl as tl;
