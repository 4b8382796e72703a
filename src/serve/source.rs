//! The one seam between the HTTP layer and where documents come from: [`Source`], "a
//! resolved document I can read byte ranges of". The Telegram adapter (resolve + download)
//! implements it in one file; [`super::dir::DirSource`] implements it over a local directory.

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

pub use super::body::BodySink;
pub use super::route::Link;

/// What the HTTP layer needs to know about a resolved document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocInfo {
    /// A stable identity (Telegram's document id): with `size` it makes the strong ETag, so
    /// it must not change between runs for the same bytes.
    pub id: u64,
    /// The DC the document lives on (the `dc` label of the parts metric).
    pub dc: i32,
    /// Size in bytes.
    pub size: u64,
    /// MIME type from the document (`application/octet-stream` if it has none).
    pub mime: String,
    /// The document's file name attribute, if any.
    pub file_name: Option<String>,
    /// When the document was made (Telegram's `document.date`): Last-Modified.
    pub modified: Option<SystemTime>,
}

/// A document and whatever the source needs to read it again (for Telegram: the `Media`
/// with its file reference).
#[derive(Debug)]
pub struct Resolved<H> {
    /// What the HTTP layer uses.
    pub info: DocInfo,
    /// The source's own handle.
    pub handle: H,
}

/// Why a source could not resolve or read a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// No such chat or message, or the message has no document (404).
    NotFound(String),
    /// Telegram said FLOOD_WAIT_X and the source did not wait: the server waits when X is
    /// within its limit, else answers 503 with `Retry-After: X`.
    FloodWait {
        /// X, in seconds.
        seconds: u64,
    },
    /// Anything else upstream (network, RPC error, auth): 502 before the first byte, an
    /// aborted connection after it.
    Upstream(String),
    /// The sink refused a write: the client went away. The source stops at once.
    Closed,
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::NotFound(m) => write!(f, "not found: {m}"),
            SourceError::FloodWait { seconds } => write!(f, "FLOOD_WAIT_{seconds}"),
            SourceError::Upstream(m) => f.write_str(m),
            SourceError::Closed => f.write_str("client went away"),
        }
    }
}

impl std::error::Error for SourceError {}

impl From<std::io::Error> for SourceError {
    /// A failed write into a [`BodySink`] means the client has gone.
    fn from(_: std::io::Error) -> Self {
        SourceError::Closed
    }
}

/// Documents by link, readable by byte range.
///
/// The server calls [`Source::resolve`] per request (the source caches), then
/// [`Source::read_range`] for each byte range it sends, with a sink that takes exactly those
/// bytes in order. The sink applies back-pressure (a few hundred KiB of buffer per stream)
/// and fails once the client has disconnected, so a source that writes each part as it
/// arrives stops fetching within one part. The future may also simply be dropped (the
/// server aborts the task when the response body goes away).
pub trait Source: Send + Sync + 'static {
    /// The source's handle of a resolved document.
    type Handle: Send + Sync + 'static;

    /// Resolves a link to its document.
    fn resolve(
        &self,
        link: &Link,
    ) -> impl Future<Output = Result<Arc<Resolved<Self::Handle>>, SourceError>> + Send;

    /// Writes bytes `start..=end` of the document into `sink`, in order, and nothing else.
    /// The server guarantees `start <= end < size`.
    fn read_range(
        &self,
        doc: &Self::Handle,
        start: u64,
        end: u64,
        sink: &mut BodySink,
    ) -> impl Future<Output = Result<(), SourceError>> + Send;
}
