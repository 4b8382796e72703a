//! Response bodies: a [`BodySink`] a producer task writes into (an `AsyncWrite` over a small
//! bounded channel, so a slow client slows the download down), and the [`Body`] hyper reads.
//!
//! A streamed body knows how many bytes it owes (the Content-Length). If the producer fails,
//! or ends short, the body yields an error instead of ending, and hyper closes the connection
//! without completing the message: a client never mistakes a truncated body for a whole one.
//! Dropping the body (the client went away) aborts the producer task and releases its
//! `--max-streams` permit.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::io::AsyncWrite;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio::task::AbortHandle;
use tokio_util::sync::PollSender;

use super::metrics::{ErrorKind, Metrics};
use super::source::SourceError;

/// Largest chunk one channel item carries; with [`CHANNEL_ITEMS`] this bounds what a stream
/// buffers between the producer and the socket (512 KiB).
const MAX_CHUNK: usize = 128 * 1024;
/// Channel capacity in chunks.
pub(crate) const CHANNEL_ITEMS: usize = 4;

/// What travels from a producer to its body.
#[derive(Debug)]
pub(crate) enum Item {
    /// Document bytes.
    Data(Bytes),
    /// Bytes the server adds around them (multipart boundaries).
    Framing(Bytes),
    /// The producer failed; nothing follows.
    Failed(Failure),
}

/// Why a producer stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The source failed (or the client went away: [`SourceError::Closed`]).
    Source(SourceError),
    /// The remuxer cannot take the document: 415 when it is not Matroska, else 422.
    Remux { unsupported: bool, message: String },
}

impl From<SourceError> for Failure {
    fn from(e: SourceError) -> Self {
        Failure::Source(e)
    }
}

impl From<io::Error> for Failure {
    /// A sink write failed: the client has gone.
    fn from(_: io::Error) -> Self {
        Failure::Source(SourceError::Closed)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Source(e) => e.fmt(f),
            Failure::Remux { message, .. } => f.write_str(message),
        }
    }
}

/// Where a [`super::Source`] writes the bytes of a range: an `AsyncWrite`, plus
/// [`BodySink::send`] for sources that already hold their bytes as [`Bytes`] (no copy).
///
/// It takes exactly the bytes the server asked for: a write past the range is an
/// `InvalidData` error, and a write after the client has gone is `BrokenPipe`.
pub struct BodySink {
    tx: PollSender<Item>,
    remaining: u64,
}

impl std::fmt::Debug for BodySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySink")
            .field("remaining", &self.remaining)
            .finish()
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "client went away")
}

fn past_range() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "source wrote past the range")
}

impl BodySink {
    /// A sink and the receiving end of its channel.
    pub(crate) fn channel() -> (BodySink, mpsc::Receiver<Item>) {
        let (tx, rx) = mpsc::channel(CHANNEL_ITEMS);
        let sink = BodySink {
            tx: PollSender::new(tx),
            remaining: 0,
        };
        (sink, rx)
    }

    /// Bytes of the current range not yet written.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Expect `n` more bytes of document data.
    pub(crate) fn expect(&mut self, n: u64) {
        self.remaining = n;
    }

    /// Sends `data` without copying it (in slices of at most 128 KiB).
    pub async fn send(&mut self, mut data: Bytes) -> io::Result<()> {
        if data.len() as u64 > self.remaining {
            return Err(past_range());
        }
        while !data.is_empty() {
            let chunk = data.split_to(data.len().min(MAX_CHUNK));
            self.remaining -= chunk.len() as u64;
            self.push(Item::Data(chunk)).await?;
        }
        Ok(())
    }

    /// Sends bytes of the server's own (boundaries), outside the expected count.
    pub(crate) async fn frame(&mut self, data: Bytes) -> io::Result<()> {
        self.push(Item::Framing(data)).await
    }

    async fn push(&mut self, item: Item) -> io::Result<()> {
        poll_fn(|cx| self.tx.poll_reserve(cx))
            .await
            .map_err(|_| gone())?;
        self.tx.send_item(item).map_err(|_| gone())
    }
}

impl AsyncWrite for BodySink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if buf.len() as u64 > self.remaining {
            return Poll::Ready(Err(past_range()));
        }
        ready!(self.tx.poll_reserve(cx)).map_err(|_| gone())?;
        let n = buf.len().min(MAX_CHUNK);
        self.tx
            .send_item(Item::Data(Bytes::copy_from_slice(&buf[..n])))
            .map_err(|_| gone())?;
        self.remaining -= n as u64;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The error a body yields to abort its connection.
#[derive(Debug)]
pub struct BodyError(String);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BodyError {}

/// A response body.
#[derive(Debug)]
pub enum Body {
    /// Bytes in hand (possibly none).
    Full(Option<Bytes>),
    /// Produced by a task while it is sent.
    Stream(StreamBody),
}

impl Body {
    /// No body.
    pub fn empty() -> Body {
        Body::Full(None)
    }

    /// These bytes.
    pub fn full(b: impl Into<Bytes>) -> Body {
        let b = b.into();
        Body::Full((!b.is_empty()).then_some(b))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(s) => s.poll_next(cx).map(|o| o.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(b) => b.is_none(),
            Body::Stream(s) => s.pending.is_empty() && s.remaining == Some(0),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Stream(s) => match s.remaining {
                Some(n) => SizeHint::with_exact(n),
                None => SizeHint::default(),
            },
        }
    }
}

/// What a streamed body holds on to until it is done or dropped.
#[derive(Debug)]
pub(crate) struct StreamGuard {
    pub(crate) task: Option<AbortHandle>,
    /// Held for its `Drop`: the `--max-streams` slot.
    pub(crate) _permit: Option<OwnedSemaphorePermit>,
    pub(crate) metrics: Arc<Metrics>,
}

impl StreamGuard {
    /// Counts the stream as active until the guard drops.
    pub(crate) fn new(permit: Option<OwnedSemaphorePermit>, metrics: Arc<Metrics>) -> Self {
        metrics.stream_started();
        StreamGuard {
            task: None,
            _permit: permit,
            metrics,
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
        self.metrics.stream_ended();
    }
}

/// A body fed by a producer task through a [`BodySink`] channel.
#[derive(Debug)]
pub struct StreamBody {
    /// Bytes already received (the first part, and framing before it).
    pending: VecDeque<Bytes>,
    rx: mpsc::Receiver<Item>,
    /// Bytes still owed (`None`: chunked, the producer's end is the body's end).
    remaining: Option<u64>,
    guard: StreamGuard,
}

impl StreamBody {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        let chunk = match self.pending.pop_front() {
            Some(b) => b,
            None => match ready!(self.rx.poll_recv(cx)) {
                Some(Item::Data(b) | Item::Framing(b)) => b,
                Some(Item::Failed(e)) => return Poll::Ready(Some(Err(self.abort(e.to_string())))),
                None => match self.remaining {
                    Some(n) if n > 0 => {
                        return Poll::Ready(Some(Err(
                            self.abort(format!("body ended {n} bytes short"))
                        )))
                    }
                    _ => return Poll::Ready(None),
                },
            },
        };
        if let Some(n) = &mut self.remaining {
            let Some(left) = n.checked_sub(chunk.len() as u64) else {
                return Poll::Ready(Some(Err(self.abort("body longer than announced".into()))));
            };
            *n = left;
        }
        self.guard.metrics.sent(chunk.len() as u64);
        Poll::Ready(Some(Ok(chunk)))
    }

    fn abort(&mut self, why: String) -> BodyError {
        self.guard.metrics.error(ErrorKind::Aborted);
        self.remaining = Some(0);
        self.pending.clear();
        self.rx.close();
        BodyError(why)
    }
}

/// Why a stream produced no first byte.
#[derive(Debug)]
pub(crate) enum StartError {
    /// The producer failed first.
    Failed(Failure),
    /// Nothing within the first-byte timeout.
    Timeout,
}

/// Spawns `producer` writing into a fresh sink and waits until its first data bytes (or its
/// end, or its failure) are in hand: only then does the response head leave. `length` is
/// the Content-Length the body must reach (`None`: chunked).
pub(crate) async fn start<Fut>(
    producer: impl FnOnce(BodySink) -> Fut,
    length: Option<u64>,
    mut guard: StreamGuard,
    first_byte_timeout: std::time::Duration,
) -> Result<StreamBody, StartError>
where
    Fut: std::future::Future<Output = Result<(), Failure>> + Send + 'static,
{
    let (sink, mut rx) = BodySink::channel();
    let fail = sink.tx.get_ref().expect("a new sink is open").clone();
    let work = producer(sink);
    let task = tokio::spawn(async move {
        if let Err(e) = work.await {
            let _ = fail.send(Item::Failed(e)).await;
        }
    });
    guard.task = Some(task.abort_handle());
    let mut pending = VecDeque::new();
    let deadline = tokio::time::Instant::now() + first_byte_timeout;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Err(_) => return Err(StartError::Timeout),
            Ok(Some(Item::Framing(b))) => pending.push_back(b),
            Ok(Some(Item::Data(b))) => {
                pending.push_back(b);
                break;
            }
            Ok(Some(Item::Failed(e))) => return Err(StartError::Failed(e)),
            Ok(None) => break,
        }
    }
    Ok(StreamBody {
        pending,
        rx,
        remaining: length,
        guard,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;

    async fn collect(mut body: StreamBody) -> (Vec<u8>, Option<String>) {
        let mut out = Vec::new();
        loop {
            match poll_fn(|cx| body.poll_next(cx)).await {
                Some(Ok(b)) => out.extend_from_slice(&b),
                Some(Err(e)) => return (out, Some(e.to_string())),
                None => return (out, None),
            }
        }
    }

    fn guard() -> StreamGuard {
        StreamGuard::new(None, Arc::new(Metrics::default()))
    }

    const T: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn whole_body_through_write_and_send() {
        let data: Vec<u8> = (0..400_000u32).map(|i| i as u8).collect();
        let d = data.clone();
        let body = start(
            |mut sink| async move {
                sink.expect(d.len() as u64);
                sink.write_all(&d[..300_000]).await?;
                sink.send(Bytes::copy_from_slice(&d[300_000..])).await?;
                Ok(())
            },
            Some(data.len() as u64),
            guard(),
            T,
        )
        .await
        .unwrap();
        assert_eq!(collect(body).await, (data, None));
    }

    #[tokio::test]
    async fn failures_before_and_after_the_first_byte() {
        let early = start(
            |_sink| async { Err(SourceError::FloodWait { seconds: 9 }.into()) },
            Some(10),
            guard(),
            T,
        )
        .await;
        assert!(matches!(
            early,
            Err(StartError::Failed(Failure::Source(
                SourceError::FloodWait { seconds: 9 }
            )))
        ));

        let late = start(
            |mut sink| async move {
                sink.expect(10);
                sink.write_all(b"abc").await?;
                Err(SourceError::Upstream("boom".into()).into())
            },
            Some(10),
            guard(),
            T,
        )
        .await
        .unwrap();
        assert_eq!(collect(late).await, (b"abc".to_vec(), Some("boom".into())));

        // A producer that ends short is an error too, not a short body.
        let short = start(
            |mut sink| async move {
                sink.expect(3);
                sink.write_all(b"abc").await?;
                Ok(())
            },
            Some(10),
            guard(),
            T,
        )
        .await
        .unwrap();
        assert_eq!(
            collect(short).await.1.as_deref(),
            Some("body ended 7 bytes short")
        );
    }

    #[tokio::test]
    async fn writes_past_the_range_fail() {
        let (mut sink, _rx) = BodySink::channel();
        sink.expect(2);
        assert_eq!(
            sink.write(b"abc").await.unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        assert_eq!(
            sink.send(Bytes::from_static(b"abc"))
                .await
                .unwrap_err()
                .kind(),
            io::ErrorKind::InvalidData
        );
    }

    #[tokio::test]
    async fn a_dropped_body_stops_the_producer() {
        let (done_tx, mut done_rx) = mpsc::channel::<&'static str>(1);
        let body = start(
            move |mut sink| async move {
                sink.expect(u64::MAX);
                let r = loop {
                    if let Err(e) = sink.write_all(&[0u8; 1000]).await {
                        break e;
                    }
                };
                let _ = done_tx
                    .send(if r.kind() == io::ErrorKind::BrokenPipe {
                        "gone"
                    } else {
                        "other"
                    })
                    .await;
                Ok(())
            },
            None,
            guard(),
            T,
        )
        .await
        .unwrap();
        drop(body);
        // Either the write saw the closed channel or the task was aborted; both stop it.
        let got = tokio::time::timeout(T, done_rx.recv()).await.unwrap();
        assert!(matches!(got, Some("gone") | None), "{got:?}");
    }

    #[tokio::test]
    async fn no_first_byte_times_out() {
        let r = start(
            |_sink| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            },
            Some(1),
            guard(),
            Duration::from_millis(50),
        )
        .await;
        assert!(matches!(r, Err(StartError::Timeout)));
    }
}
