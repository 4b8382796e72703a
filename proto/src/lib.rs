//! tgmux's sans-IO MTProto 2.0 core: everything between a socket's bytes and TL objects.
//!
//! - [`crypto`]: AES-IGE/CTR, SHA, RSA, PQ, DH checks, SRP, the MTProto 2.0 KDF.
//! - [`mtproto`]: transports, the auth-key exchange (both roles), encrypted sessions.
//!
//! Nothing here owns a socket, a clock or a thread: bytes, time and randomness come in as
//! arguments. This crate does not depend on tokio or hyper, so the compiler keeps it that way.

#![warn(unreachable_pub, missing_docs)]

pub mod crypto;
pub mod mtproto;

/// The TL layer (generated types and their runtime): the `tgmux-tl` crate.
pub use tgmux_tl as tl;
