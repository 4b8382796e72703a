//! `GET|HEAD /<username>/<msg>`: the document as stored, with RFC 9110 ranges and
//! conditional requests ([`super::range`] decides, this module answers).

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::{Response, StatusCode};

use super::body::Body;
use super::fetch;
use super::headers::{content_disposition, etag, extension_for, safe_mime};
use super::range::{self, ByteRange, Conditions, Outcome, Validators};
use super::route::Link;
use super::server::{text, value, Req, Server};
use super::source::{DocInfo, Resolved, Source};

/// One piece of a response body: server-made bytes, or a range of the document.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Framing(Bytes),
    Range(ByteRange),
}

/// The request's conditional and Range fields, joined or flagged as [`Conditions`] wants.
pub(crate) struct RawConditions {
    fields: [Option<Vec<u8>>; 6],
}

impl RawConditions {
    pub(crate) fn new(h: &HeaderMap) -> Self {
        let list = |name: HeaderName| {
            let all: Vec<&[u8]> = h.get_all(name).iter().map(|v| v.as_bytes()).collect();
            (!all.is_empty()).then(|| all.join(&b","[..]))
        };
        let single = |name: HeaderName| {
            let mut all = h.get_all(name).iter();
            let first = all.next()?;
            Some(if all.next().is_some() {
                Vec::new()
            } else {
                first.as_bytes().to_vec()
            })
        };
        RawConditions {
            fields: [
                list(header::IF_MATCH),
                list(header::IF_NONE_MATCH),
                single(header::IF_MODIFIED_SINCE),
                single(header::IF_UNMODIFIED_SINCE),
                single(header::IF_RANGE),
                single(header::RANGE),
            ],
        }
    }

    pub(crate) fn get(&self) -> Conditions<'_> {
        let [im, inm, ims, ius, ir, r] = &self.fields;
        Conditions {
            if_match: im.as_deref(),
            if_none_match: inm.as_deref(),
            if_modified_since: ims.as_deref(),
            if_unmodified_since: ius.as_deref(),
            if_range: ir.as_deref(),
            range: r.as_deref(),
        }
    }
}

/// The file name to offer: the document's own, or `<chat>-<msg>.<ext>` from its MIME type.
pub(crate) fn file_name(link: &Link, info: &DocInfo) -> String {
    if let Some(n) = info.file_name.as_deref().filter(|n| !n.trim().is_empty()) {
        return n.to_string();
    }
    let chat = match link {
        Link::Username { username, .. } => username.clone(),
        Link::Channel { id, .. } => id.to_string(),
    };
    format!("{chat}-{}.{}", link.msg(), extension_for(&info.mime))
}

/// One representation to answer a GET or HEAD of with ranges and conditionals.
pub(crate) struct Representation<'a> {
    pub(crate) size: u64,
    pub(crate) etag: String,
    pub(crate) last_modified: Option<SystemTime>,
    pub(crate) mime: &'a str,
    /// The Content-Disposition value, if any.
    pub(crate) disposition: Option<String>,
}

/// Where a representation's bytes come from.
pub(crate) enum Content<H> {
    /// A document, read through the source in a stream slot.
    Document(Arc<Resolved<H>>),
    /// Bytes in memory (HLS parts of a cached remux).
    Memory(Bytes),
}

/// Answers a GET or HEAD of the original document.
pub(crate) async fn respond<S: Source>(
    server: &Server<S>,
    link: &Link,
    doc: Arc<Resolved<S::Handle>>,
    req: &Req<'_>,
) -> Response<Body> {
    let info = &doc.info;
    let rep = Representation {
        size: info.size,
        etag: etag(info.id, info.size, ""),
        last_modified: info.modified,
        mime: safe_mime(&info.mime),
        disposition: Some(content_disposition(
            &file_name(link, info),
            req.query.download,
        )),
    };
    ranged(server, &rep, Content::Document(doc.clone()), req).await
}

/// Answers a GET or HEAD of `rep` by RFC 9110: 200, 206 (single or multipart), 304, 412 or
/// 416, with the body from `content`.
pub(crate) async fn ranged<S: Source>(
    server: &Server<S>,
    rep: &Representation<'_>,
    content: Content<S::Handle>,
    req: &Req<'_>,
) -> Response<Body> {
    let size = rep.size;
    let validators = Validators {
        etag: &rep.etag,
        last_modified: rep.last_modified,
    };
    let raw = RawConditions::new(req.headers);
    let outcome = range::evaluate(&raw.get(), &validators, size);

    let mut resp = Response::new(Body::empty());
    let h = resp.headers_mut();
    h.insert(header::ETAG, value(&rep.etag));
    if let Some(lm) = rep.last_modified {
        h.insert(
            header::LAST_MODIFIED,
            value(&httpdate::fmt_http_date(range::http_seconds(lm))),
        );
    }
    h.insert(header::CACHE_CONTROL, value("private"));
    h.insert(header::ACCEPT_RANGES, value("bytes"));
    let (status, pieces, length, content_type) = match outcome {
        Outcome::NotModified => {
            *resp.status_mut() = StatusCode::NOT_MODIFIED;
            return resp;
        }
        Outcome::PreconditionFailed => {
            return with_validators(
                text(StatusCode::PRECONDITION_FAILED, "precondition failed"),
                &resp,
            )
        }
        Outcome::NotSatisfiable => {
            let mut r = text(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
            r.headers_mut()
                .insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
            return with_validators(r, &resp);
        }
        Outcome::Full => {
            let whole = (size > 0).then_some(Piece::Range(ByteRange {
                start: 0,
                end: size - 1,
            }));
            let pieces = whole.into_iter().collect();
            (StatusCode::OK, pieces, size, rep.mime.to_string())
        }
        Outcome::Partial(ranges) if ranges.len() == 1 => {
            let r = ranges[0];
            resp.headers_mut()
                .insert(header::CONTENT_RANGE, value(&r.content_range(size)));
            let pieces = vec![Piece::Range(r)];
            (
                StatusCode::PARTIAL_CONTENT,
                pieces,
                r.count(),
                rep.mime.to_string(),
            )
        }
        Outcome::Partial(ranges) => {
            let boundary = boundary();
            let (pieces, length) = multipart(&ranges, rep.mime, size, &boundary);
            let ct = format!("multipart/byteranges; boundary={boundary}");
            (StatusCode::PARTIAL_CONTENT, pieces, length, ct)
        }
    };
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, value(&content_type));
    h.insert(header::CONTENT_LENGTH, value(&length.to_string()));
    if let Some(d) = &rep.disposition {
        h.insert(header::CONTENT_DISPOSITION, value(d));
    }
    if req.head_only || pieces.is_empty() {
        return resp;
    }
    let doc = match content {
        Content::Memory(bytes) => {
            *resp.body_mut() = Body::full(assemble(&bytes, pieces));
            return resp;
        }
        Content::Document(doc) => doc,
    };
    let source = server.source.clone();
    let flood = server.flood_policy();
    let producer = move |mut sink: super::body::BodySink| async move {
        for piece in pieces {
            match piece {
                Piece::Framing(b) => sink.frame(b).await?,
                Piece::Range(r) => fetch::read(&*source, &doc.handle, r, &mut sink, &flood).await?,
            }
        }
        Ok(())
    };
    match server.stream(producer, Some(length)).await {
        Ok(body) => {
            *resp.body_mut() = Body::Stream(body);
            resp
        }
        Err(e) => e,
    }
}

/// The body of `pieces` over bytes in memory (one slice, no copy, for a single range).
fn assemble(bytes: &Bytes, pieces: Vec<Piece>) -> Bytes {
    let slice = |r: ByteRange| bytes.slice(r.start as usize..=r.end as usize);
    if let [Piece::Range(r)] = pieces.as_slice() {
        return slice(*r);
    }
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Framing(b) => out.extend_from_slice(&b),
            Piece::Range(r) => out.extend_from_slice(&slice(r)),
        }
    }
    Bytes::from(out)
}

/// `r` with the ETag and Last-Modified of `from`.
fn with_validators(mut r: Response<Body>, from: &Response<Body>) -> Response<Body> {
    for name in [header::ETAG, header::LAST_MODIFIED] {
        if let Some(v) = from.headers().get(&name) {
            r.headers_mut().insert(name, v.clone());
        }
    }
    r
}

/// A random multipart boundary (never found in document bytes by more than chance: 2^-96).
fn boundary() -> String {
    let b: [u8; 12] = rand::random();
    format!("tgmux-{}", super::auth::hex(&b))
}

/// The pieces of a `multipart/byteranges` body (RFC 9110 §14.6) and its exact length.
pub(crate) fn multipart(
    ranges: &[ByteRange],
    mime: &str,
    size: u64,
    boundary: &str,
) -> (Vec<Piece>, u64) {
    let mut pieces = Vec::with_capacity(ranges.len() * 2 + 1);
    let mut length = 0u64;
    for (i, r) in ranges.iter().enumerate() {
        let sep = if i == 0 { "" } else { "\r\n" };
        let head = format!(
            "{sep}--{boundary}\r\nContent-Type: {mime}\r\nContent-Range: {}\r\n\r\n",
            r.content_range(size)
        );
        length += head.len() as u64 + r.count();
        pieces.push(Piece::Framing(Bytes::from(head)));
        pieces.push(Piece::Range(*r));
    }
    let tail = format!("\r\n--{boundary}--\r\n");
    length += tail.len() as u64;
    pieces.push(Piece::Framing(Bytes::from(tail)));
    (pieces, length)
}
