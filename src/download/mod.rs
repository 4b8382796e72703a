//! The downloader: a media's bytes, in order, as fast as the DCs allow.
//!
//! - [`plan`]: which parts cover a range;
//! - [`window`]: the sans-IO sliding window (what to ask, where, what to release, what again);
//! - [`cdn`]: CDN decryption and piece hashes;
//! - [`fetch`]: the tokio driver, [`download`] and [`download_range`];
//! - [`rpc`]: the one adapter to the network layer.

pub mod cdn;
pub mod fetch;
pub mod plan;
pub mod rpc;
pub mod window;

pub use fetch::{download, download_range, DownloadError, Options, PartSink, Report};
pub use rpc::{Route, Rpc};
pub mod file;
pub mod record;

pub use file::FileSink;
pub use record::Record;
