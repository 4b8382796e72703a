//! `/watch/...` (the player page) and `.m3u` (the stream for VLC, mpv and Kodi).

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use super::body::Body;
use super::route::{Link, Query};
use super::server::value;
use super::source::DocInfo;

/// The player page: hand-written HTML and JS (`watch.html`), no build step.
const PAGE: &str = include_str!("watch.html");

/// The player page for `link`; its player passes the request's credentials on.
pub(crate) fn page(link: &Link, query: &Query) -> Response<Body> {
    let html = PAGE
        .replace("{{BASE}}", &html_escape(&link.path()))
        .replace("{{QUERY}}", &html_escape(&credential_query(query)));
    let mut r = Response::new(Body::full(html));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// Text safe inside an HTML attribute value.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `?<credentials>` for links handed on, or nothing.
pub(crate) fn credential_query(query: &Query) -> String {
    let c = query.credentials();
    if c.is_empty() {
        c
    } else {
        format!("?{c}")
    }
}

/// An M3U playlist with one entry: the original document (VLC and mpv play Matroska and
/// seek it by range themselves), with the request's credentials, absolute when the Host
/// header is usable.
pub(crate) fn m3u(
    headers: &HeaderMap,
    link: &Link,
    info: &DocInfo,
    query: &Query,
) -> Response<Body> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    let path = format!("{}{}", link.path(), credential_query(query));
    let url = match host {
        Some(h) => format!("http://{h}{path}"),
        None => path,
    };
    let title: String = info
        .file_name
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let body = format!("#EXTM3U\n#EXTINF:-1,{title}\n{url}\n");
    let mut r = Response::new(Body::full(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("audio/x-mpegurl; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        value(&format!("inline; filename=\"{}.m3u\"", link.msg())),
    );
    *r.status_mut() = StatusCode::OK;
    r
}
