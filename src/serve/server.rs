//! The request handler: method and URL checks, access, dispatch to the route, metrics.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::auth::{Access, Credentials, Denied};
use super::body::{self, Body, Failure, StartError, StreamBody, StreamGuard};
use super::fetch::FloodPolicy;
use super::metrics::{ErrorKind, Metrics};
use super::route::{self, Link, Query, Resource, Route};
use super::source::{Resolved, Source, SourceError};
use super::{hls, original, remuxed, watch};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Who may read.
    pub access: Access,
    /// Responses streaming from the source at once; more get 503 with Retry-After.
    pub max_streams: usize,
    /// Time a connection gets to send a complete request head (and to idle between
    /// requests).
    pub header_timeout: Duration,
    /// Time a write to the client may stay pending before the connection is dropped.
    pub idle_timeout: Duration,
    /// FLOOD_WAITs up to this long are waited out (latency); longer ones are a 503 with
    /// `Retry-After: X` (or abort a body already under way).
    pub flood_wait_limit: Duration,
    /// Time the source gets to deliver the first byte of a response: 504 after that.
    pub first_byte_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            access: Access::default(),
            max_streams: 64,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            flood_wait_limit: Duration::from_secs(30),
            first_byte_timeout: Duration::from_secs(120),
        }
    }
}

/// Seconds a client is told to wait when every stream slot is taken.
const BUSY_RETRY_AFTER: u64 = 2;

/// The HTTP server over one [`Source`].
pub struct Server<S: Source> {
    config: Config,
    pub(crate) source: Arc<S>,
    pub(crate) metrics: Arc<Metrics>,
    streams: Arc<Semaphore>,
    pub(crate) plans: remuxed::Plans,
    pub(crate) indexes: hls::Indexes,
}

/// What one request asked for, as the route handlers need it.
pub(crate) struct Req<'a> {
    pub(crate) headers: &'a HeaderMap,
    pub(crate) head_only: bool,
    pub(crate) query: &'a Query,
}

impl<S: Source> Server<S> {
    /// A server reading from `source`, counting into `metrics` (share it with the source).
    pub fn new(config: Config, source: Arc<S>, metrics: Arc<Metrics>) -> Arc<Self> {
        let streams = Arc::new(Semaphore::new(config.max_streams));
        Arc::new(Server {
            config,
            source,
            metrics,
            streams,
            plans: remuxed::plans(),
            indexes: hls::indexes(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Answers one request; never fails (errors are responses).
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let (label, resp) = self.dispatch(&req).await;
        self.metrics.request(label, resp.status().as_u16());
        // Streamed bodies count their bytes as they go; these are sent whole.
        if let (Body::Full(Some(b)), false) = (resp.body(), req.method() == Method::HEAD) {
            self.metrics.sent(b.len() as u64);
        }
        resp
    }

    async fn dispatch(&self, req: &Request<Incoming>) -> (&'static str, Response<Body>) {
        let head_only = req.method() == Method::HEAD;
        if req.method() != Method::GET && !head_only {
            self.metrics.error(ErrorKind::BadRequest);
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return ("unknown", r);
        }
        let path = req.uri().path();
        let (route, query) = match route::parse(path, req.uri().query()) {
            Ok(r) => r,
            Err(e) => {
                let kind = if e.status == 404 {
                    ErrorKind::NotFound
                } else {
                    ErrorKind::BadRequest
                };
                self.metrics.error(kind);
                let status = StatusCode::from_u16(e.status).expect("400 or 404");
                return ("unknown", text(status, e.message));
            }
        };
        let label = route.label();
        if route != Route::Healthz {
            if let Err(d) = self.check_access(req.headers(), &query, path, route.link()) {
                self.metrics.error(ErrorKind::Denied);
                return (label, denied(d));
            }
        }
        let r = Req {
            headers: req.headers(),
            head_only,
            query: &query,
        };
        let resp = match &route {
            Route::Healthz => text(StatusCode::OK, "ok"),
            Route::Metrics => {
                let mut resp = Response::new(Body::full(self.metrics.render()));
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                resp
            }
            Route::Watch(link) => watch::page(link, &query),
            Route::Doc(link, res) => match self.source.resolve(link).await {
                Err(e) => self.source_error(e),
                Ok(doc) => self.document(link, *res, doc, &r).await,
            },
        };
        (label, resp)
    }

    async fn document(
        &self,
        link: &Link,
        res: Resource,
        doc: Arc<Resolved<S::Handle>>,
        r: &Req<'_>,
    ) -> Response<Body> {
        match res {
            Resource::Original => original::respond(self, link, doc, r).await,
            Resource::M3u => watch::m3u(r.headers, link, &doc.info, r.query),
            Resource::Mp4 => remuxed::mp4(self, link, doc, r).await,
            Resource::Playlist => hls::playlist(self, doc, r).await,
            Resource::Init => hls::part(self, doc, None, r).await,
            Resource::Segment(k) => hls::part(self, doc, Some(k), r).await,
            Resource::Subtitles(n) => remuxed::subtitles(self, doc, n, r).await,
            Resource::Info => remuxed::info(self, link, doc).await,
        }
    }

    fn check_access(
        &self,
        headers: &HeaderMap,
        query: &Query,
        path: &str,
        link: Option<&Link>,
    ) -> Result<(), Denied> {
        let creds = Credentials {
            authorization: headers
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes),
            token: query.token.as_deref(),
            signed: query.signed,
        };
        let doc_path = link.map(Link::path);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.config
            .access
            .check(&creds, path, doc_path.as_deref(), now)
    }

    /// A `--max-streams` slot, if one is free.
    pub(crate) fn stream_slot(&self) -> Option<StreamGuard> {
        let permit = self.streams.clone().try_acquire_owned().ok()?;
        Some(self.guard(Some(permit)))
    }

    /// The 503 for a request that found every stream slot taken.
    pub(crate) fn busy(&self) -> Response<Body> {
        self.metrics.error(ErrorKind::Busy);
        let mut r = text(StatusCode::SERVICE_UNAVAILABLE, "too many streams");
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(BUSY_RETRY_AFTER));
        r
    }

    fn guard(&self, permit: Option<OwnedSemaphorePermit>) -> StreamGuard {
        StreamGuard::new(permit, self.metrics.clone())
    }

    pub(crate) fn flood_policy(&self) -> FloodPolicy {
        FloodPolicy {
            limit: self.config.flood_wait_limit,
            metrics: self.metrics.clone(),
        }
    }

    /// Starts `producer` in a stream slot and waits for its first bytes; the error response
    /// if there is no slot, or if it fails first.
    pub(crate) async fn stream<Fut>(
        &self,
        producer: impl FnOnce(body::BodySink) -> Fut,
        length: Option<u64>,
    ) -> Result<StreamBody, Response<Body>>
    where
        Fut: std::future::Future<Output = Result<(), Failure>> + Send + 'static,
    {
        let guard = self.stream_slot().ok_or_else(|| self.busy())?;
        match body::start(producer, length, guard, self.config.first_byte_timeout).await {
            Ok(b) => Ok(b),
            Err(StartError::Failed(e)) => Err(self.failure(e)),
            Err(StartError::Timeout) => {
                self.metrics.error(ErrorKind::Timeout);
                Err(text(
                    StatusCode::GATEWAY_TIMEOUT,
                    "no data from Telegram in time",
                ))
            }
        }
    }

    /// The response for a producer failure before the first byte.
    pub(crate) fn failure(&self, e: Failure) -> Response<Body> {
        match e {
            Failure::Source(e) => self.source_error(e),
            Failure::Remux {
                unsupported,
                message,
            } => {
                self.metrics.error(ErrorKind::Remux);
                let status = if unsupported {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                text(status, &message)
            }
        }
    }

    /// The response for a source failure before the first byte.
    pub(crate) fn source_error(&self, e: SourceError) -> Response<Body> {
        match e {
            SourceError::NotFound(m) => {
                self.metrics.error(ErrorKind::NotFound);
                text(StatusCode::NOT_FOUND, &format!("not found: {m}"))
            }
            SourceError::FloodWait { seconds } => {
                self.metrics.error(ErrorKind::FloodWait);
                let mut r = text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("Telegram asks to wait {seconds} s"),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                r
            }
            SourceError::Upstream(m) => {
                self.metrics.error(ErrorKind::Upstream);
                text(StatusCode::BAD_GATEWAY, &format!("upstream error: {m}"))
            }
            SourceError::Closed => {
                self.metrics.error(ErrorKind::Upstream);
                text(StatusCode::BAD_GATEWAY, "upstream closed")
            }
        }
    }
}

/// A short `text/plain` response (the message and a newline).
pub(crate) fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut r = Response::new(Body::full(format!("{message}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn denied(d: Denied) -> Response<Body> {
    let status = match d {
        Denied::Missing | Denied::BadToken => StatusCode::UNAUTHORIZED,
        Denied::BadSignature | Denied::Expired => StatusCode::FORBIDDEN,
    };
    let mut r = text(status, d.message());
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

/// A header value from text the server made; the few places that could see odd bytes
/// (file names) are escaped before they get here.
pub(crate) fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}
