//! Sans-IO MTProto 2.0: transports, auth-key exchange, encrypted sessions. No sockets, no clock.

pub mod auth;
pub mod session;
pub mod transport;
