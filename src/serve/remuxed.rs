//! The remuxed routes that read a document in order: `.mp4` (Matroska → fragmented MP4
//! while it downloads) and `subs-<track>.vtt`; `/info`. HLS reads by byte range instead
//! ([`super::hls`]).
//!
//! `.mp4` streams the document through `remux::transformer::MkvToFmp4` and the head leaves
//! with the init segment. Subtitles still use an interim plan: the whole document remuxed
//! once through the same transformer and kept in memory (documents up to
//! [`MAX_WHOLE_REMUX`], the last [`MAX_PLANS`] of them); its tx3g text tracks become WebVTT.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use tokio::sync::OnceCell;

use super::body::{Body, BodySink, Failure, Item};
use super::fetch::{self, FloodPolicy};
use super::fmp4::{self, Kind, Layout};
use super::headers::etag;
use super::hls;
use super::original::{self, Content, Representation};
use super::range::ByteRange;
use super::route::Link;
use super::server::{text, value, Req, Server};
use super::source::{Resolved, Source, SourceError};
use crate::remux::mp4::FragmentOptions;
use crate::remux::transformer::MkvToFmp4;
use crate::remux::RemuxError;

/// Largest document the interim whole-file plan takes (it is held in memory).
pub(crate) const MAX_WHOLE_REMUX: u64 = 512 * 1024 * 1024;
/// Plans kept at once (least recently used goes first).
pub(crate) const MAX_PLANS: usize = 2;

/// The EBML magic every Matroska/WebM file starts with.
const EBML_MAGIC: [u8; 4] = [0x1a, 0x45, 0xdf, 0xa3];

/// Whether a document looks like Matroska/WebM by its type or name (for `/info`, which does
/// not read the document to find out).
fn looks_matroska(mime: &str, name: Option<&str>) -> bool {
    let ext = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        mime,
        "video/x-matroska" | "video/webm" | "audio/webm" | "audio/x-matroska"
    ) || matches!(ext.as_deref(), Some("mkv" | "webm" | "mka"))
}

/// Where remuxed bytes go.
trait Output {
    async fn emit(&mut self, bytes: Bytes) -> Result<(), Failure>;
}

impl Output for BodySink {
    async fn emit(&mut self, bytes: Bytes) -> Result<(), Failure> {
        Ok(self.send(bytes).await?)
    }
}

impl Output for Vec<u8> {
    async fn emit(&mut self, bytes: Bytes) -> Result<(), Failure> {
        self.extend_from_slice(&bytes);
        Ok(())
    }
}

pub(crate) fn remux_failure(e: RemuxError) -> Failure {
    Failure::Remux {
        unsupported: matches!(e, RemuxError::NoTracks { .. }),
        message: format!("cannot remux: {e}"),
    }
}

/// Reads the whole document in order through the transformer, handing its output to `out`
/// as it comes (the init segment first, then one moof + mdat per fragment).
async fn remux<S: Source>(
    source: &S,
    flood: &FloodPolicy,
    doc: &Resolved<S::Handle>,
    out: &mut impl Output,
) -> Result<(), Failure> {
    let size = doc.info.size;
    if size < EBML_MAGIC.len() as u64 {
        return Err(not_matroska());
    }
    let (mut sink, mut rx) = BodySink::channel();
    let whole = ByteRange {
        start: 0,
        end: size - 1,
    };
    let read = async move {
        let r = fetch::read(source, &doc.handle, whole, &mut sink, flood).await;
        drop(sink);
        r
    };
    let convert = async {
        let r = transform(&mut rx, out).await;
        // Dropping the receiver stops the reader at its next write.
        drop(rx);
        r
    };
    let (read, convert) = tokio::join!(read, convert);
    match (read, convert) {
        // The reader's own failure explains a converter that saw the input end early.
        (Err(e), _) if e != SourceError::Closed => Err(Failure::Source(e)),
        (_, Err(e)) => Err(e),
        (Err(e), Ok(())) => Err(Failure::Source(e)),
        (Ok(()), Ok(())) => Ok(()),
    }
}

fn not_matroska() -> Failure {
    Failure::Remux {
        unsupported: true,
        message: "remuxing needs Matroska or WebM input (MP4/MOV: use the original)".into(),
    }
}

async fn transform(
    rx: &mut tokio::sync::mpsc::Receiver<Item>,
    out: &mut impl Output,
) -> Result<(), Failure> {
    let mut t = MkvToFmp4::new(FragmentOptions::default());
    let mut head = Vec::with_capacity(EBML_MAGIC.len());
    let mut produced = Vec::new();
    while let Some(item) = rx.recv().await {
        let (Item::Data(b) | Item::Framing(b)) = item else {
            continue;
        };
        if head.len() < EBML_MAGIC.len() {
            let take = (EBML_MAGIC.len() - head.len()).min(b.len());
            head.extend_from_slice(&b[..take]);
            if !EBML_MAGIC.starts_with(&head) {
                return Err(not_matroska());
            }
        }
        t.push(&b).map_err(remux_failure)?;
        t.take_output(&mut produced);
        if !produced.is_empty() {
            out.emit(Bytes::from(std::mem::take(&mut produced))).await?;
        }
    }
    t.finish().map_err(remux_failure)?;
    t.take_output(&mut produced);
    if !produced.is_empty() {
        out.emit(Bytes::from(produced)).await?;
    }
    Ok(())
}

/// The file name of a remuxed representation: the document's stem with `ext`.
fn remuxed_name(link: &Link, doc: &Resolved<impl Send + Sync>, ext: &str) -> String {
    let name = original::file_name(link, &doc.info);
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    format!("{stem}.{ext}")
}

/// `GET /<username>/<msg>.mp4`: the document remuxed to fragmented MP4 while it downloads
/// (chunked; no ranges: seeking is what HLS is for).
pub(crate) async fn mp4<S: Source>(
    server: &Server<S>,
    link: &Link,
    doc: Arc<Resolved<S::Handle>>,
    req: &Req<'_>,
) -> Response<Body> {
    let mut resp = Response::new(Body::empty());
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    let name = remuxed_name(link, &doc, "mp4");
    h.insert(
        header::CONTENT_DISPOSITION,
        value(&super::headers::content_disposition(
            &name,
            req.query.download,
        )),
    );
    if req.head_only {
        return resp;
    }
    let source = server.source.clone();
    let flood = server.flood_policy();
    let producer = move |mut sink: BodySink| async move {
        sink.expect(u64::MAX);
        remux(&*source, &flood, &doc, &mut sink).await
    };
    match server.stream(producer, None).await {
        Ok(body) => {
            *resp.body_mut() = Body::Stream(body);
            resp
        }
        Err(e) => e,
    }
}

/// A document remuxed whole (the interim plan behind subtitles).
#[derive(Debug)]
pub(crate) struct Plan {
    bytes: Bytes,
    layout: Layout,
}

/// Something made once per document; concurrent requests wait on the same cell.
pub(crate) type Cell<T> = Arc<OnceCell<Arc<T>>>;

/// A document's key: (document id, size).
type DocKey = (u64, u64);

/// The cells of the most recently used documents, oldest first.
#[derive(Debug)]
pub(crate) struct Recent<T> {
    capacity: usize,
    cells: Mutex<VecDeque<(DocKey, Cell<T>)>>,
}

/// The plans of recently used documents.
pub(crate) type Plans = Recent<Plan>;

/// The new cache of plans.
pub(crate) fn plans() -> Plans {
    Recent::new(MAX_PLANS)
}

impl<T> Recent<T> {
    /// Keeps at most `capacity` cells.
    pub(crate) fn new(capacity: usize) -> Self {
        Recent {
            capacity,
            cells: Mutex::new(VecDeque::new()),
        }
    }

    /// The cell of `key`, now the most recently used; a new one if there was none.
    pub(crate) fn cell(&self, key: DocKey) -> Cell<T> {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = cells.iter().position(|(k, _)| *k == key) {
            let entry = cells.remove(i).expect("found");
            let cell = entry.1.clone();
            cells.push_back(entry);
            return cell;
        }
        let cell = Arc::new(OnceCell::new());
        cells.push_back((key, cell.clone()));
        while cells.len() > self.capacity {
            cells.pop_front();
        }
        cell
    }
}

/// The plan of `doc`, made once (concurrent requests wait for the same build).
async fn plan<S: Source>(
    server: &Server<S>,
    doc: &Resolved<S::Handle>,
) -> Result<Arc<Plan>, Response<Body>> {
    let cell = server.plans.cell((doc.info.id, doc.info.size));
    cell.get_or_try_init(|| build(server, doc)).await.cloned()
}

async fn build<S: Source>(
    server: &Server<S>,
    doc: &Resolved<S::Handle>,
) -> Result<Arc<Plan>, Response<Body>> {
    if doc.info.size > MAX_WHOLE_REMUX {
        return Err(text(
            StatusCode::NOT_IMPLEMENTED,
            "subtitles of documents over 512 MiB are not extracted yet",
        ));
    }
    // The build downloads the document: it takes a stream slot while it runs.
    let _slot = server.stream_slot().ok_or_else(|| server.busy())?;
    let mut out = Vec::new();
    remux(&*server.source, &server.flood_policy(), doc, &mut out)
        .await
        .map_err(|e| server.failure(e))?;
    let bytes = Bytes::from(out);
    let layout = fmp4::parse(&bytes).map_err(|e| {
        server.metrics.error(super::metrics::ErrorKind::Internal);
        text(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
    })?;
    Ok(Arc::new(Plan { bytes, layout }))
}

/// Suffix of the ETags of remuxed parts: they change when the remuxer does.
pub(crate) fn variant(part: &str) -> String {
    format!("fmp4-{}-{part}", env!("CARGO_PKG_VERSION"))
}

/// `subs-<track>.vtt`: text track `track` (its MP4 track id, as `/info` lists it) as WebVTT.
pub(crate) async fn subtitles<S: Source>(
    server: &Server<S>,
    doc: Arc<Resolved<S::Handle>>,
    track: u32,
    req: &Req<'_>,
) -> Response<Body> {
    let plan = match plan(server, &doc).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(vtt) = webvtt(&plan.layout, &plan.bytes, track) else {
        return text(StatusCode::NOT_FOUND, "no such subtitle track");
    };
    let vtt = Bytes::from(vtt);
    let rep = Representation {
        size: vtt.len() as u64,
        etag: etag(doc.info.id, doc.info.size, &variant(&format!("vtt{track}"))),
        last_modified: doc.info.modified,
        mime: "text/vtt; charset=utf-8",
        disposition: None,
    };
    original::ranged(server, &rep, Content::Memory(vtt), req).await
}

/// WebVTT of the tx3g samples of text track `id`; `None` if there is no such text track.
pub(crate) fn webvtt(layout: &Layout, bytes: &[u8], id: u32) -> Option<String> {
    let t = layout.track(id).filter(|t| t.kind == Kind::Text)?;
    let ts = f64::from(t.timescale);
    let mut out = String::from("WEBVTT\n\n");
    let samples = layout
        .fragments
        .iter()
        .flat_map(|f| f.runs.iter().filter(|r| r.track == id))
        .flat_map(|r| r.text.iter());
    for s in samples {
        // tx3g: a 16-bit length, then UTF-8 text (then style boxes, ignored).
        let data = &bytes[s.bytes.clone()];
        let Some(len) = data
            .get(..2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            continue;
        };
        let text = String::from_utf8_lossy(data.get(2..2 + len).unwrap_or(&[]));
        let text = cue_text(&text);
        if text.is_empty() {
            continue;
        }
        let start = s.time as f64 / ts;
        let end = (s.time as f64 + f64::from(s.duration)) / ts;
        let _ = write!(out, "{} --> {}\n{text}\n\n", vtt_time(start), vtt_time(end));
    }
    Some(out)
}

/// Cue text safe for WebVTT: markup characters escaped, no blank lines, no `-->`.
fn cue_text(s: &str) -> String {
    let escaped = s
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\r', "");
    escaped
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `HH:MM:SS.mmm`.
fn vtt_time(secs: f64) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `/info`: name, size, mime, and for Matroska documents (from the HLS index) duration,
/// tracks, the MSE codecs string and the segment count.
pub(crate) async fn info<S: Source>(
    server: &Server<S>,
    link: &Link,
    doc: Arc<Resolved<S::Handle>>,
) -> Response<Body> {
    let i = &doc.info;
    let name = original::file_name(link, i);
    let mut j = format!(
        "{{\"name\":{},\"size\":{},\"mime\":{}",
        json(&name),
        i.size,
        json(super::headers::safe_mime(&i.mime))
    );
    let hls = if looks_matroska(&i.mime, i.file_name.as_deref()) {
        match hls::index(server, &doc).await {
            Ok(h) => Some(h),
            Err(r) => return r,
        }
    } else {
        None
    };
    match hls {
        Some(h) => {
            let kinds = |k: Kind| match k {
                Kind::Video => "video",
                Kind::Audio => "audio",
                Kind::Text => "subtitle",
                Kind::Other => "other",
            };
            let tracks: Vec<String> = h
                .layout
                .tracks
                .iter()
                .map(|t| {
                    format!(
                        "{{\"id\":{},\"kind\":\"{}\",\"codec\":{},\"language\":{}}}",
                        t.id,
                        kinds(t.kind),
                        json(&t.codec),
                        json(&t.language)
                    )
                })
                .collect();
            let codecs: Vec<&str> = h
                .layout
                .tracks
                .iter()
                .filter(|t| matches!(t.kind, Kind::Video | Kind::Audio))
                .map(|t| t.codec.as_str())
                .collect();
            let _ = write!(
                j,
                ",\"duration\":{:.3},\"tracks\":[{}],\"codecs\":{},\"hls\":true,\"segments\":{}}}",
                h.duration(),
                tracks.join(","),
                json(&codecs.join(",")),
                h.index.segments().len()
            );
        }
        None => j.push_str(",\"duration\":null,\"tracks\":[],\"codecs\":null,\"hls\":false}"),
    }
    let mut r = Response::new(Body::full(j));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A JSON string literal.
fn json(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_text() {
        assert_eq!(vtt_time(0.0), "00:00:00.000");
        assert_eq!(vtt_time(3725.0456), "01:02:05.046");
        assert_eq!(
            cue_text("a < b & c\r\n\r\n--> d"),
            "a &lt; b &amp; c\n--&gt; d"
        );
        assert_eq!(json("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    #[test]
    fn plans_keep_the_most_recent() {
        let p = Recent::<()>::new(2);
        let a = p.cell((1, 1));
        let _b = p.cell((2, 2));
        assert!(Arc::ptr_eq(&a, &p.cell((1, 1))));
        let _c = p.cell((3, 3));
        // (2, 2) was the least recently used.
        assert!(Arc::ptr_eq(&a, &p.cell((1, 1))));
        assert_eq!(
            p.cells
                .lock()
                .unwrap()
                .iter()
                .map(|e| e.0)
                .collect::<Vec<_>>(),
            [(3, 3), (1, 1)]
        );
    }
}
