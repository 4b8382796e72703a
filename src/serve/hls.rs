//! HLS by byte range: `index.m3u8`, `init.mp4` and `seg-<k>.m4s` from the remuxer's
//! key-frame index ([`SegmentIndex`]: Matroska Cues, a scan of the block headers when a file
//! has none, or the MP4/MOV sample tables).
//!
//! The index of a document is built once, from only the ranges it needs (the header, the
//! Cues or the sample tables, and the first segment for the init segment), and kept for the
//! last [`MAX_INDEXES`] documents. Segment `k` is then the input bytes of its range, fetched
//! when it is asked for and muxed on its own, so a player seeking to minute 90 of a film
//! downloads minute 90, not the film.
//!
//! The remuxer's readers are synchronous ([`remux::Source`]): they run on tokio's blocking
//! pool, and each read they make waits there for the async source ([`Ranges`]).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use tokio::runtime::Handle;

use super::body::{Body, Failure};
use super::fetch::{self, FloodPolicy};
use super::fmp4::{self, Layout};
use super::headers::etag;
use super::original::{self, Content, Representation};
use super::range::ByteRange;
use super::remuxed::{self, Recent};
use super::server::{text, Req, Server};
use super::source::{Resolved, Source, SourceError};
use super::watch::credential_query;
use crate::remux::mp4::FragmentOptions;
use crate::remux::segments::{Segment, SegmentIndex};
use crate::remux::RemuxError;

/// Indexes kept at once (least recently used goes first). An index is small: the tracks,
/// the key frames, the init segment and, for MP4/MOV, the sample tables.
pub(crate) const MAX_INDEXES: usize = 16;
/// Segments start at the first key frame at least this many seconds after the last start.
pub(crate) const TARGET_SEGMENT: f64 = 4.0;
/// Largest segment fetched into memory (a file with few key frames has long segments).
pub(crate) const MAX_SEGMENT: u64 = 256 * 1024 * 1024;
/// The index's small reads go through a cache of aligned chunks of this size...
const CHUNK: u64 = 1024 * 1024;
/// ...of which this many are kept (a Cues element and the Cluster it points at, say).
const CACHED_CHUNKS: usize = 4;

/// A document's index, with its init segment read back for `/info`.
#[derive(Debug)]
pub(crate) struct Hls {
    pub(crate) index: SegmentIndex,
    /// The tracks of the init segment (kinds, codec strings, languages).
    pub(crate) layout: Layout,
}

impl Hls {
    /// End of the media, seconds: the last segment's end.
    pub(crate) fn duration(&self) -> f64 {
        self.index
            .segments()
            .last()
            .map_or(0.0, |s| s.start + s.duration)
    }
}

/// A document as a [`remux::Source`] over a [`Source`]: reads block the calling thread
/// (one of tokio's blocking threads) until the bytes are in. Reads up to [`CHUNK`] come from
/// a small cache of aligned chunks; larger ones are fetched as they are (the downloader's
/// window makes one large range fast, many small ones would each wait a round trip).
///
/// [`remux::Source`]: crate::remux::Source
struct Ranges<S: Source> {
    runtime: Handle,
    source: Arc<S>,
    doc: Arc<Resolved<S::Handle>>,
    flood: FloodPolicy,
    chunks: Mutex<VecDeque<(u64, Bytes)>>,
    /// The source's own error, when a read failed because of it.
    failed: Mutex<Option<SourceError>>,
}

impl<S: Source> Ranges<S> {
    fn fetch(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        let range = ByteRange { start, end };
        let read = fetch::read_to_vec(&*self.source, &self.doc.handle, range, &self.flood);
        self.runtime.block_on(read).map_err(|e| {
            let message = e.to_string();
            *lock(&self.failed) = Some(e);
            io::Error::other(message)
        })
    }

    fn chunk(&self, start: u64) -> io::Result<Bytes> {
        if let Some((_, b)) = lock(&self.chunks).iter().find(|(s, _)| *s == start) {
            return Ok(b.clone());
        }
        let end = (start + CHUNK).min(self.doc.info.size) - 1;
        let bytes = Bytes::from(self.fetch(start, end)?);
        let mut chunks = lock(&self.chunks);
        chunks.push_back((start, bytes.clone()));
        if chunks.len() > CACHED_CHUNKS {
            chunks.pop_front();
        }
        Ok(bytes)
    }

    fn take_failure(&self) -> Option<SourceError> {
        lock(&self.failed).take()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<S: Source> crate::remux::Source for Ranges<S> {
    fn len(&self) -> u64 {
        self.doc.info.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let size = self.doc.info.size;
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= size)
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        if buf.is_empty() {
            return Ok(());
        }
        if buf.len() as u64 > CHUNK {
            let bytes = self.fetch(offset, end - 1)?;
            if bytes.len() != buf.len() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buf.copy_from_slice(&bytes);
            return Ok(());
        }
        let mut pos = offset;
        let mut filled = 0;
        while filled < buf.len() {
            let start = pos / CHUNK * CHUNK;
            let chunk = self.chunk(start)?;
            let from = usize::try_from(pos - start).unwrap_or(usize::MAX);
            let n = chunk.len().saturating_sub(from).min(buf.len() - filled);
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buf[filled..filled + n].copy_from_slice(&chunk[from..from + n]);
            filled += n;
            pos += n as u64;
        }
        Ok(())
    }
}

/// The recently used indexes, by (document id, size).
pub(crate) type Indexes = Recent<Hls>;

/// The new cache of indexes.
pub(crate) fn indexes() -> Indexes {
    Recent::new(MAX_INDEXES)
}

fn index_failure(e: RemuxError) -> Failure {
    match e {
        RemuxError::UnknownFormat => Failure::Remux {
            unsupported: true,
            message: "HLS needs Matroska, WebM, MP4 or MOV input".into(),
        },
        e => remuxed::remux_failure(e),
    }
}

/// The index of `doc`, built once (concurrent requests wait for the same build).
pub(crate) async fn index<S: Source>(
    server: &Server<S>,
    doc: &Arc<Resolved<S::Handle>>,
) -> Result<Arc<Hls>, Response<Body>> {
    let cell = server.indexes.cell((doc.info.id, doc.info.size));
    cell.get_or_try_init(|| build(server, doc)).await.cloned()
}

async fn build<S: Source>(
    server: &Server<S>,
    doc: &Arc<Resolved<S::Handle>>,
) -> Result<Arc<Hls>, Response<Body>> {
    // Building reads parts of the document: it takes a stream slot while it runs.
    let _slot = server.stream_slot().ok_or_else(|| server.busy())?;
    let ranges = Ranges {
        runtime: Handle::current(),
        source: server.source.clone(),
        doc: doc.clone(),
        flood: server.flood_policy(),
        chunks: Mutex::new(VecDeque::new()),
        failed: Mutex::new(None),
    };
    let opts = FragmentOptions {
        fragment_duration: Some(TARGET_SEGMENT),
        ..FragmentOptions::default()
    };
    let opened = tokio::task::spawn_blocking(move || {
        let index = SegmentIndex::open(&ranges, opts);
        (index, ranges.take_failure())
    })
    .await;
    let index = match opened {
        Ok((Ok(index), _)) => index,
        Ok((Err(_), Some(e))) => return Err(server.failure(Failure::Source(e))),
        Ok((Err(e), None)) => return Err(server.failure(index_failure(e))),
        Err(e) => return Err(internal(server, &format!("indexing stopped: {e}"))),
    };
    let layout = fmp4::parse(index.init_segment()).map_err(|e| internal(server, &e.to_string()))?;
    Ok(Arc::new(Hls { index, layout }))
}

fn internal<S: Source>(server: &Server<S>, message: &str) -> Response<Body> {
    server.metrics.error(super::metrics::ErrorKind::Internal);
    text(StatusCode::INTERNAL_SERVER_ERROR, message)
}

/// The text of an HLS VOD media playlist of fMP4 segments (version 7: `EXT-X-MAP`), every
/// URI followed by `query` (the request's credentials, `""` or `?...`).
pub(crate) fn playlist_text(segments: &[Segment], query: &str) -> String {
    let target = segments
        .iter()
        .map(|s| s.duration.ceil() as u64)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut m = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4{query}\"\n"
    );
    for (k, s) in segments.iter().enumerate() {
        let _ = write!(m, "#EXTINF:{:.3},\nseg-{k}.m4s{query}\n", s.duration);
    }
    m.push_str("#EXT-X-ENDLIST\n");
    m
}

/// `index.m3u8`.
pub(crate) async fn playlist<S: Source>(
    server: &Server<S>,
    doc: Arc<Resolved<S::Handle>>,
    req: &Req<'_>,
) -> Response<Body> {
    let hls = match index(server, &doc).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    let m = playlist_text(hls.index.segments(), &credential_query(req.query));
    let mut r = Response::new(Body::full(m));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.apple.mpegurl"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    r
}

/// `init.mp4` (`segment: None`) or `seg-<k>.m4s`, with ranges and conditionals.
pub(crate) async fn part<S: Source>(
    server: &Server<S>,
    doc: Arc<Resolved<S::Handle>>,
    segment: Option<u32>,
    req: &Req<'_>,
) -> Response<Body> {
    let hls = match index(server, &doc).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    let (bytes, name, mime) = match segment {
        None => (
            Bytes::copy_from_slice(hls.index.init_segment()),
            "init".to_string(),
            "video/mp4",
        ),
        Some(k) => match segment_bytes(server, &doc, &hls, k as usize).await {
            Ok(Some(b)) => (b, format!("seg-{k}"), "video/iso.segment"),
            Ok(None) => return text(StatusCode::NOT_FOUND, "no such segment"),
            Err(r) => return r,
        },
    };
    let rep = Representation {
        size: bytes.len() as u64,
        etag: etag(doc.info.id, doc.info.size, &remuxed::variant(&name)),
        last_modified: doc.info.modified,
        mime,
        disposition: None,
    };
    original::ranged(server, &rep, Content::Memory(bytes), req).await
}

/// Segment `k` muxed from its input range (`None`: there is no segment `k`).
async fn segment_bytes<S: Source>(
    server: &Server<S>,
    doc: &Arc<Resolved<S::Handle>>,
    hls: &Arc<Hls>,
    k: usize,
) -> Result<Option<Bytes>, Response<Body>> {
    let Some(seg) = hls.index.segments().get(k) else {
        return Ok(None);
    };
    let range = seg.range.clone();
    if range.is_empty() {
        return Ok(Some(Bytes::new()));
    }
    if range.end - range.start > MAX_SEGMENT {
        return Err(text(
            StatusCode::NOT_IMPLEMENTED,
            "this segment is over 256 MiB (too few key frames): play the original",
        ));
    }
    let input = {
        let _slot = server.stream_slot().ok_or_else(|| server.busy())?;
        let whole = ByteRange {
            start: range.start,
            end: range.end - 1,
        };
        fetch::read_to_vec(&*server.source, &doc.handle, whole, &server.flood_policy())
            .await
            .map_err(|e| server.failure(Failure::Source(e)))?
    };
    let hls = hls.clone();
    match tokio::task::spawn_blocking(move || hls.index.segment(k, &input)).await {
        Ok(Ok(out)) => Ok(Some(Bytes::from(out))),
        Ok(Err(e)) => Err(server.failure(remuxed::remux_failure(e))),
        Err(e) => Err(internal(server, &format!("muxing stopped: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playlist_lists_every_segment_with_the_credentials() {
        let seg = |start: f64, duration: f64| Segment {
            start,
            duration,
            range: 0..1,
        };
        let m = playlist_text(&[seg(0.0, 4.2), seg(4.2, 1.5)], "?token=T");
        assert_eq!(
            m,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:5\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXT-X-MAP:URI=\"init.mp4?token=T\"\n\
             #EXTINF:4.200,\nseg-0.m4s?token=T\n#EXTINF:1.500,\nseg-1.m4s?token=T\n\
             #EXT-X-ENDLIST\n"
        );
        assert!(playlist_text(&[], "").contains("#EXT-X-TARGETDURATION:1\n"));
    }
}
