//! The server over a source that misbehaves on purpose (through the same `Source` trait the
//! Telegram adapter implements): errors before and after the first byte, FLOOD_WAITs under
//! and over the limit, a source too slow for the first byte, and a client that disconnects
//! mid-body (the source must stop within a part or two).

mod localdc_util;
mod serve_util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use localdc_util::media_bytes;
use serve_util::{get, in_process};
use tgmux::serve::{BodySink, Config, DocInfo, Link, Metrics, Resolved, Source, SourceError};

/// Bytes per part the faulty source writes.
const PART: u64 = 64 * 1024;

/// What message `msg` of the faulty source does.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Serves its bytes.
    None,
    /// Fails after this many bytes of a read.
    FailAfter(u64),
    /// FLOOD_WAIT of this many seconds before the first byte, once.
    FloodOnce(u64),
    /// FLOOD_WAIT of this many seconds on every read.
    FloodAlways(u64),
    /// FLOOD_WAIT of 1 s at this offset, once, then goes on.
    FloodAt(u64),
    /// Sleeps this long before each part.
    Slow(Duration),
    /// Never writes anything.
    Stall,
}

fn fault_of(msg: i32) -> Fault {
    match msg {
        1 => Fault::None,
        2 => Fault::FailAfter(300_000),
        3 => Fault::FloodOnce(1),
        4 => Fault::FloodAlways(100),
        5 => Fault::FloodAt(100_000),
        6 => Fault::Slow(Duration::from_millis(50)),
        7 => Fault::Stall,
        _ => unreachable!(),
    }
}

struct Faulty {
    data: Bytes,
    /// Parts written so far (all documents).
    parts: AtomicU64,
    /// The once-only faults that have fired, by message.
    fired: [AtomicBool; 8],
}

impl Faulty {
    fn new(len: usize) -> Arc<Self> {
        Arc::new(Faulty {
            data: Bytes::from(media_bytes(len, 42)),
            parts: AtomicU64::new(0),
            fired: Default::default(),
        })
    }

    fn once(&self, msg: i32) -> bool {
        !self.fired[msg as usize].swap(true, Ordering::SeqCst)
    }
}

impl Source for Faulty {
    type Handle = i32;

    async fn resolve(&self, link: &Link) -> Result<Arc<Resolved<i32>>, SourceError> {
        match link.msg() {
            404 => return Err(SourceError::NotFound("no such message".into())),
            502 => return Err(SourceError::Upstream("RPC_CALL_FAIL".into())),
            503 => return Err(SourceError::FloodWait { seconds: 77 }),
            _ => {}
        }
        Ok(Arc::new(Resolved {
            info: DocInfo {
                id: 7,
                dc: 2,
                size: self.data.len() as u64,
                mime: "video/x-matroska".into(),
                file_name: Some("faulty.mkv".into()),
                modified: None,
            },
            handle: link.msg(),
        }))
    }

    async fn read_range(
        &self,
        msg: &i32,
        start: u64,
        end: u64,
        sink: &mut BodySink,
    ) -> Result<(), SourceError> {
        let fault = fault_of(*msg);
        match fault {
            Fault::FloodOnce(s) if self.once(*msg) => {
                return Err(SourceError::FloodWait { seconds: s })
            }
            Fault::FloodAlways(s) => return Err(SourceError::FloodWait { seconds: s }),
            Fault::Stall => std::future::pending::<()>().await,
            _ => {}
        }
        let mut at = start;
        while at <= end {
            if let Fault::Slow(d) = fault {
                tokio::time::sleep(d).await;
            }
            let mut next = (at + PART).min(end + 1);
            if let Fault::FailAfter(n) = fault {
                if at - start >= n {
                    return Err(SourceError::Upstream("injected failure".into()));
                }
                next = next.min(start + n);
            }
            if let Fault::FloodAt(off) = fault {
                if at == off && self.once(*msg) {
                    return Err(SourceError::FloodWait { seconds: 1 });
                }
                if at < off {
                    next = next.min(off);
                }
            }
            self.parts.fetch_add(1, Ordering::SeqCst);
            sink.send(self.data.slice(at as usize..next as usize))
                .await?;
            at = next;
        }
        Ok(())
    }
}

fn server(len: usize, config: Config) -> (Arc<Faulty>, serve_util::InProcess) {
    let source = Faulty::new(len);
    let srv = in_process(source.clone(), config, Arc::new(Metrics::default()));
    (source, srv)
}

#[test]
fn errors_before_the_first_byte_are_statuses() {
    let (_, srv) = server(1000, Config::default());
    let b = &srv.base;
    let r = get(&format!("{b}/chan/404"), &[]);
    assert_eq!(
        (r.status, r.text().as_str()),
        (404, "not found: no such message\n")
    );
    let r = get(&format!("{b}/chan/502"), &[]);
    assert_eq!(
        (r.status, r.text().as_str()),
        (502, "upstream error: RPC_CALL_FAIL\n")
    );
    let r = get(&format!("{b}/chan/503"), &[]);
    assert_eq!((r.status, r.must("retry-after")), (503, "77"));
    let r = get(&format!("{b}/chan/1"), &[]);
    assert_eq!((r.status, r.body.len()), (200, 1000));
}

#[test]
fn an_error_mid_body_aborts_the_connection() {
    let (source, srv) = server(1_000_000, Config::default());
    let r = get(&format!("{}/chan/2", srv.base), &[]);
    // Headers said 1 000 000 bytes; curl sees the connection end early (exit 18).
    assert_eq!(r.status, 200);
    assert_eq!(r.must("content-length"), "1000000");
    assert_eq!(r.exit, 18, "curl must see a partial transfer");
    assert!(r.body.len() as u64 <= 300_000);
    assert!(r.body[..] == source.data[..r.body.len()]);
    assert!(srv
        .metrics
        .render()
        .contains("tgmux_http_errors_total{kind=\"aborted\"} 1"));
    // Ranges too.
    let r = get(&format!("{}/chan/2", srv.base), &["Range: bytes=1000-"]);
    assert_eq!((r.status, r.exit), (206, 18));
}

#[test]
fn flood_waits_within_the_limit_are_latency() {
    let config = Config {
        flood_wait_limit: Duration::from_secs(2),
        ..Config::default()
    };
    let (source, srv) = server(500_000, config);
    let t = Instant::now();
    let r = get(&format!("{}/chan/3", srv.base), &[]);
    assert_eq!((r.status, r.exit), (200, 0));
    assert!(r.body == source.data[..]);
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "the wait was not waited"
    );
    // A wait mid-body: the read resumes where it stopped.
    let t = Instant::now();
    let r = get(&format!("{}/chan/5", srv.base), &["Range: bytes=5000-"]);
    assert_eq!((r.status, r.exit), (206, 0));
    assert!(r.body == source.data[5000..]);
    assert!(t.elapsed() >= Duration::from_secs(1));
    // Over the limit: 503 with the wait as Retry-After.
    let r = get(&format!("{}/chan/4", srv.base), &[]);
    assert_eq!((r.status, r.must("retry-after")), (503, "100"));
    let m = srv.metrics.render();
    assert!(m.contains("tgmux_flood_waits_total 3"), "{m}");
    assert!(
        m.contains("tgmux_http_errors_total{kind=\"flood_wait\"} 1"),
        "{m}"
    );
}

#[test]
fn no_first_byte_in_time_is_504() {
    let config = Config {
        first_byte_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let (_, srv) = server(1000, config);
    let r = get(&format!("{}/chan/7", srv.base), &[]);
    assert_eq!(r.status, 504);
    assert!(srv.metrics.render().contains("tgmux_http_active_streams 0"));
}

#[test]
fn a_client_that_disconnects_stops_the_source_within_a_part() {
    // 10 MiB at 64 KiB per 50 ms: 8 s if nobody stopped it.
    let (source, srv) = server(10 * 1024 * 1024, Config::default());
    let mut s = TcpStream::connect(srv.base.strip_prefix("http://").unwrap()).unwrap();
    s.write_all(b"GET /chan/6 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = 0;
    let mut buf = [0u8; 16384];
    while got < 300_000 {
        got += s.read(&mut buf).unwrap();
    }
    drop(s);
    let at_close = source.parts.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(500));
    let settled = source.parts.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1000));
    let later = source.parts.load(Ordering::SeqCst);
    assert!(
        settled <= at_close + 2,
        "{at_close} parts at close, {settled} after"
    );
    assert_eq!(later, settled, "the source kept fetching");
    assert!(srv.metrics.render().contains("tgmux_http_active_streams 0"));
}
