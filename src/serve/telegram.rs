//! The [`Source`] over Telegram: links resolved by [`Resolver`] (through its metadata cache,
//! so a link seen before costs no request), byte ranges read by the downloader's sliding
//! window over the pool's file connections, one `upload.getFile` part per covering 1 MiB
//! block (`precise` at the range's ends), each part handed to the body as it is released.
//!
//! Cancellation is by drop: when the client goes, the sink's next write fails, the fetch
//! returns and its request tasks are aborted, so no part is asked after the one in hand
//! (those already in flight, at most the window, still arrive and are dropped). The server
//! also drops the whole read when the body goes away.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;

use super::body::BodySink;
use super::metrics::Metrics;
use super::route::Link;
use super::source::{DocInfo, Resolved, Source, SourceError};
use crate::download::fetch::fetch;
use crate::download::plan::plan;
use crate::download::{DownloadError, Options, PartSink, Rpc};
use crate::resolve::{self, Location, Media, Peer, ResolveError, Resolver};

/// Documents of the logged-in account, by link.
pub struct TelegramSource {
    rpc: Arc<dyn Rpc>,
    resolver: Resolver,
    opts: Options,
    metrics: Arc<Metrics>,
    /// File references renewed by a download (FILE_REFERENCE_EXPIRED), by [`Media::key`]:
    /// (the expired one, the fresh one). The cached `Media` keeps the expired reference, so
    /// without this every later read would meet the error and refresh again.
    fresh: Mutex<HashMap<String, Renewed>>,
}

/// A file reference a download renewed.
#[derive(Debug)]
struct Renewed {
    /// The one the cached `Media` holds.
    stale: Vec<u8>,
    /// The one to use instead.
    fresh: Vec<u8>,
}

/// A resolved Telegram document.
#[derive(Debug)]
pub struct TelegramDoc {
    media: Media,
}

impl TelegramDoc {
    /// The media behind the link.
    pub fn media(&self) -> &Media {
        &self.media
    }
}

impl TelegramSource {
    /// A source resolving through `resolver` and downloading over `rpc` with `opts` (its
    /// `max_flood_wait` should be the server's flood limit: longer waits come back as
    /// [`SourceError::FloodWait`]), counting parts into `metrics`.
    pub fn new(
        rpc: Arc<dyn Rpc>,
        resolver: Resolver,
        opts: Options,
        metrics: Arc<Metrics>,
    ) -> Self {
        TelegramSource {
            rpc,
            resolver,
            opts,
            metrics,
            fresh: Mutex::new(HashMap::new()),
        }
    }

    /// `media` with the freshest file reference this source has seen for it.
    fn refreshed(&self, media: &Media) -> Media {
        let mut m = media.clone();
        let fresh = self.fresh.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = fresh.get(&m.key()) {
            if r.stale == m.file_reference {
                m.file_reference = r.fresh.clone();
            }
        }
        m
    }

    fn remember(&self, media: &Media, reference: Vec<u8>) {
        if !reference.is_empty() && reference != media.file_reference {
            self.fresh.lock().unwrap_or_else(|p| p.into_inner()).insert(
                media.key(),
                Renewed {
                    stale: media.file_reference.clone(),
                    fresh: reference,
                },
            );
        }
    }
}

/// The resolver's link for a served path.
fn resolve_link(link: &Link) -> resolve::Link {
    let peer = match link {
        Link::Username { username, .. } => Peer::Username(username.clone()),
        Link::Channel { id, .. } => Peer::Channel(*id),
    };
    resolve::Link {
        peer,
        msg: Some(link.msg()),
        topic: None,
        comment: None,
        single: true,
    }
}

fn resolve_error(e: ResolveError) -> SourceError {
    match e {
        ResolveError::UnknownUsername(_)
        | ResolveError::NotAChannel(_)
        | ResolveError::NoAccess(_)
        | ResolveError::MissingMessage(_)
        | ResolveError::NoMedia(_)
        | ResolveError::NoComment(_) => SourceError::NotFound(e.to_string()),
        ResolveError::Network(n) => match n.flood_wait_seconds() {
            Some(s) => SourceError::FloodWait {
                seconds: u64::from(s),
            },
            None => SourceError::Upstream(n.to_string()),
        },
        other => SourceError::Upstream(other.to_string()),
    }
}

fn download_error(e: DownloadError) -> SourceError {
    match e {
        DownloadError::Sink(_) => SourceError::Closed,
        DownloadError::FloodWait { wait, .. } => SourceError::FloodWait {
            seconds: wait.as_secs(),
        },
        other => SourceError::Upstream(other.to_string()),
    }
}

/// What the HTTP layer knows of `media`.
fn info(media: &Media) -> DocInfo {
    let id = match &media.location {
        Location::Document { id, .. } | Location::Photo { id, .. } => *id as u64,
    };
    let mime = match media.mime_type.trim() {
        "" => "application/octet-stream".to_string(),
        m => m.to_string(),
    };
    DocInfo {
        id,
        dc: media.dc_id,
        size: media.size,
        mime,
        file_name: Some(media.file_name.clone()),
        modified: u64::try_from(media.date)
            .ok()
            .map(|s| UNIX_EPOCH + Duration::from_secs(s)),
    }
}

/// Released parts into the body, counted per DC as they go.
struct Parts<'a> {
    body: &'a mut BodySink,
    metrics: &'a Metrics,
    dc: i32,
}

impl PartSink for Parts<'_> {
    async fn put(&mut self, _offset: u64, bytes: Bytes) -> io::Result<()> {
        self.metrics.part_fetched(self.dc);
        self.body.send(bytes).await
    }
}

impl Source for TelegramSource {
    type Handle = TelegramDoc;

    async fn resolve(&self, link: &Link) -> Result<Arc<Resolved<TelegramDoc>>, SourceError> {
        let mut found = self
            .resolver
            .media(&resolve_link(link), false)
            .await
            .map_err(resolve_error)?;
        if found.is_empty() {
            return Err(SourceError::NotFound(format!(
                "message {} has no media",
                link.msg()
            )));
        }
        let media = found.swap_remove(0);
        Ok(Arc::new(Resolved {
            info: info(&media),
            handle: TelegramDoc { media },
        }))
    }

    async fn read_range(
        &self,
        doc: &TelegramDoc,
        start: u64,
        end: u64,
        sink: &mut BodySink,
    ) -> Result<(), SourceError> {
        let media = self.refreshed(&doc.media);
        let mut parts = Parts {
            body: sink,
            metrics: &self.metrics,
            dc: media.dc_id,
        };
        let report = fetch(
            self.rpc.clone(),
            &media,
            plan(media.size, start, end),
            &mut parts,
            &self.opts,
        )
        .await
        .map_err(download_error)?;
        self.remember(&doc.media, report.file_reference);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Origin;

    fn media() -> Media {
        Media {
            location: Location::Document {
                id: 77,
                access_hash: 1,
            },
            file_reference: vec![1, 2],
            dc_id: 2,
            size: 10,
            mime_type: String::new(),
            file_name: "a.bin".into(),
            date: 1_700_000_000,
            video: None,
            audio: None,
            origin: Origin {
                channel_id: 5,
                access_hash: 6,
                msg_id: 7,
            },
            grouped_id: None,
        }
    }

    #[test]
    fn info_and_errors() {
        let i = info(&media());
        assert_eq!((i.id, i.dc, i.size), (77, 2, 10));
        assert_eq!(i.mime, "application/octet-stream");
        let modified = i.modified.unwrap().duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(modified.as_secs(), 1_700_000_000);
        assert!(matches!(
            resolve_error(ResolveError::MissingMessage(3)),
            SourceError::NotFound(_)
        ));
        assert!(matches!(
            resolve_error(ResolveError::UnknownUsername("x".into())),
            SourceError::NotFound(_)
        ));
        assert_eq!(
            download_error(DownloadError::FloodWait {
                wait: Duration::from_secs(90),
                limit: Duration::from_secs(30)
            }),
            SourceError::FloodWait { seconds: 90 }
        );
        assert_eq!(
            download_error(DownloadError::Sink(io::ErrorKind::BrokenPipe.into())),
            SourceError::Closed
        );
        let l = resolve_link(&Link::Channel { id: 9, msg: 4 });
        assert_eq!((l.peer, l.msg), (Peer::Channel(9), Some(4)));
    }
}
