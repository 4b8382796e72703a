//! `tgmux serve`: Telegram media over HTTP (hyper 1.x on our tokio runtime).
//!
//! The pure layer comes first: [`route`] (the URL contract), [`auth`] (tokens, signed
//! links), [`range`] (RFC 9110 ranges and conditional requests), [`headers`] and [`metrics`].
//! Design notes: docs/serve.md.

pub mod auth;
pub mod headers;
pub mod metrics;
pub mod range;
pub mod route;

pub use metrics::Metrics;
