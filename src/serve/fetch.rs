//! Reading byte ranges through a [`Source`]: exactly the bytes asked for, FLOOD_WAITs within
//! the limit waited out (the read resumes where it stopped), anything else passed up.

use std::sync::Arc;
use std::time::Duration;

use super::body::{BodySink, Item};
use super::metrics::Metrics;
use super::range::ByteRange;
use super::source::{Source, SourceError};

/// Consecutive FLOOD_WAITs without a byte of progress before a read gives up.
const MAX_FLOOD_RETRIES: u32 = 5;

/// How a read treats FLOOD_WAIT.
#[derive(Debug, Clone)]
pub(crate) struct FloodPolicy {
    /// Waits up to this long are sat out; longer ones fail the read.
    pub(crate) limit: Duration,
    pub(crate) metrics: Arc<Metrics>,
}

/// Writes `range` of `doc` into `sink`, retrying after FLOOD_WAITs within the policy's limit.
pub(crate) async fn read<S: Source>(
    source: &S,
    doc: &S::Handle,
    range: ByteRange,
    sink: &mut BodySink,
    flood: &FloodPolicy,
) -> Result<(), SourceError> {
    let mut start = range.start;
    let mut retries = 0;
    loop {
        sink.expect(range.end - start + 1);
        let result = source.read_range(doc, start, range.end, sink).await;
        let done = range.end + 1 - sink.remaining();
        match result {
            Ok(()) if sink.remaining() == 0 => return Ok(()),
            Ok(()) => {
                return Err(SourceError::Upstream(format!(
                    "source ended at byte {done} of {}..={}",
                    range.start, range.end
                )))
            }
            Err(SourceError::FloodWait { seconds }) => {
                flood.metrics.flood_wait();
                if done > range.end {
                    return Ok(());
                }
                retries = if done > start { 0 } else { retries + 1 };
                if Duration::from_secs(seconds) > flood.limit || retries > MAX_FLOOD_RETRIES {
                    return Err(SourceError::FloodWait { seconds });
                }
                start = done;
                tokio::time::sleep(Duration::from_secs(seconds)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Bytes `range` of `doc` in memory (for the remuxer's index and segments), read like
/// [`read`].
pub(crate) async fn read_to_vec<S: Source>(
    source: &S,
    doc: &S::Handle,
    range: ByteRange,
    flood: &FloodPolicy,
) -> Result<Vec<u8>, SourceError> {
    let (mut sink, mut rx) = BodySink::channel();
    let read = async move {
        let r = read(source, doc, range, &mut sink, flood).await;
        drop(sink);
        r
    };
    let collect = async {
        let len = usize::try_from(range.end - range.start + 1).unwrap_or(0);
        let mut out = Vec::with_capacity(len);
        while let Some(item) = rx.recv().await {
            if let Item::Data(b) = item {
                out.extend_from_slice(&b);
            }
        }
        out
    };
    let (read, out) = tokio::join!(read, collect);
    read.map(|()| out)
}
