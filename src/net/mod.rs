//! The client's I/O layer: tokio tasks that own sockets and drive the sans-IO MTProto core.
//!
//! `session_file` persists what a client remembers between runs.

pub mod session_file;
