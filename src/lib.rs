//! tgmux: Telegram media over our own MTProto, remuxed to MP4 in pure Rust, streamed over HTTP.
//!
//! Layers, bottom up. The sans-IO core (`tl`, `crypto`, `mtproto`, `remux`) never imports
//! tokio or hyper: it takes bytes, time and randomness as arguments. The drivers (`net`,
//! `download`, `http`, `localdc`) own sockets and timers.

pub mod cli;
pub mod crypto;
pub mod dcconfig;
pub mod localdc;
pub mod mtproto;
pub mod remux;

/// The TL layer (generated types, enums, functions and their runtime): the `tgmux-tl` crate.
pub use tgmux_tl as tl;
pub mod config;
pub mod net;
