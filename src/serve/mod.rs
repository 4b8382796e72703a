//! `tgmux serve`: Telegram media over HTTP (hyper 1.x on our tokio runtime).
//!
//! Layers: [`route`] (the URL contract), [`auth`] (tokens, signed links), [`range`] (RFC 9110
//! ranges and conditional requests), [`headers`], [`metrics`], all pure; then [`body`]
//! (streamed bodies with back-pressure and abort-on-error), `fetch` (ranges through a
//! [`Source`] with FLOOD_WAIT handling), the route handlers, and [`conn`] (connections and
//! timeouts). Documents come from a [`Source`]: [`telegram::TelegramSource`] (the resolver
//! and the downloader), or [`dir::DirSource`] over a local directory. Design notes:
//! docs/serve.md.

pub mod auth;
pub mod body;
pub mod conn;
pub mod dir;
mod fetch;
pub mod fmp4;
pub mod headers;
mod hls;
pub mod metrics;
mod original;
pub mod range;
mod remuxed;
pub mod route;
pub mod server;
pub mod source;
pub mod telegram;
mod watch;

pub use metrics::Metrics;
pub use server::{Config, Server};
pub use source::{BodySink, DocInfo, Link, Resolved, Source, SourceError};
