//! Counters for `/metrics`, rendered in the Prometheus text exposition format (version
//! 0.0.4). The server counts requests, bytes, streams and errors; a [`super::Source`] counts
//! the parts it fetches and the flood waits it sits out through the same handle.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Why a request failed (the `kind` label of `tgmux_http_errors_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// 400: bad path or query.
    BadRequest,
    /// 404: no such route, message or document.
    NotFound,
    /// 401/403: missing or bad credentials.
    Denied,
    /// 503: `--max-streams` reached.
    Busy,
    /// 503: a FLOOD_WAIT over the limit.
    FloodWait,
    /// 502: Telegram (or the source) failed before the first byte.
    Upstream,
    /// 504: no first byte in time.
    Timeout,
    /// The source failed mid-body: the connection was aborted.
    Aborted,
    /// 415/422: a document the remuxer cannot take.
    Remux,
    /// 500/501: ours.
    Internal,
}

impl ErrorKind {
    fn label(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Denied => "denied",
            ErrorKind::Busy => "busy",
            ErrorKind::FloodWait => "flood_wait",
            ErrorKind::Upstream => "upstream",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Aborted => "aborted",
            ErrorKind::Remux => "remux",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The server's counters; shared (`Arc`) by the server and its source.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    parts: Mutex<BTreeMap<i32, u64>>,
    errors: Mutex<BTreeMap<ErrorKind, u64>>,
    bytes_sent: AtomicU64,
    active_streams: AtomicU64,
    flood_waits: AtomicU64,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    *lock(map).entry(key).or_default() += 1;
}

impl Metrics {
    /// One response with `status` on `route` (a [`super::route::Route::label`]).
    pub fn request(&self, route: &'static str, status: u16) {
        bump(&self.requests, (route, status));
    }

    /// `n` body bytes handed to the connection.
    pub fn sent(&self, n: u64) {
        self.bytes_sent.fetch_add(n, Ordering::Relaxed);
    }

    /// One file part fetched from DC `dc`.
    pub fn part_fetched(&self, dc: i32) {
        bump(&self.parts, dc);
    }

    /// One FLOOD_WAIT seen (waited out or refused).
    pub fn flood_wait(&self) {
        self.flood_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// One failure of `kind`.
    pub fn error(&self, kind: ErrorKind) {
        bump(&self.errors, kind);
    }

    pub(crate) fn stream_started(&self) {
        self.active_streams.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stream_ended(&self) {
        self.active_streams.fetch_sub(1, Ordering::Relaxed);
    }

    /// Streams whose body is being produced right now.
    pub fn active_streams(&self) -> u64 {
        self.active_streams.load(Ordering::Relaxed)
    }

    /// Parts fetched from DC `dc` so far.
    pub fn parts_fetched(&self, dc: i32) -> u64 {
        lock(&self.parts).get(&dc).copied().unwrap_or(0)
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let requests = lock(&self.requests)
            .iter()
            .map(|((r, s), v)| (format!("{{route=\"{r}\",status=\"{s}\"}}"), *v))
            .collect();
        family(
            &mut out,
            "tgmux_http_requests_total",
            "counter",
            "HTTP responses by route and status.",
            requests,
        );
        let bytes = self.bytes_sent.load(Ordering::Relaxed);
        family(
            &mut out,
            "tgmux_http_sent_bytes_total",
            "counter",
            "Response body bytes sent.",
            vec![(String::new(), bytes)],
        );
        let active = self.active_streams();
        family(
            &mut out,
            "tgmux_http_active_streams",
            "gauge",
            "Responses streaming from Telegram now.",
            vec![(String::new(), active)],
        );
        let parts = lock(&self.parts)
            .iter()
            .map(|(dc, v)| (format!("{{dc=\"{dc}\"}}"), *v))
            .collect();
        family(
            &mut out,
            "tgmux_parts_fetched_total",
            "counter",
            "File parts fetched, by DC.",
            parts,
        );
        let floods = self.flood_waits.load(Ordering::Relaxed);
        family(
            &mut out,
            "tgmux_flood_waits_total",
            "counter",
            "FLOOD_WAIT answers seen.",
            vec![(String::new(), floods)],
        );
        let errors = lock(&self.errors)
            .iter()
            .map(|(k, v)| (format!("{{kind=\"{}\"}}", k.label()), *v))
            .collect();
        family(
            &mut out,
            "tgmux_http_errors_total",
            "counter",
            "Failed requests, by kind.",
            errors,
        );
        out
    }
}

/// One metric family: its HELP and TYPE lines, then one sample per label set.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: Vec<(String, u64)>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, v) in samples {
        let _ = writeln!(out, "{name}{labels} {v}");
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        let m = Metrics::default();
        m.request("original", 206);
        m.request("original", 206);
        m.request("healthz", 200);
        m.sent(1234);
        m.part_fetched(2);
        m.part_fetched(2);
        m.part_fetched(4);
        m.flood_wait();
        m.error(ErrorKind::Busy);
        m.stream_started();
        let text = m.render();
        for line in [
            "tgmux_http_requests_total{route=\"healthz\",status=\"200\"} 1",
            "tgmux_http_requests_total{route=\"original\",status=\"206\"} 2",
            "tgmux_http_sent_bytes_total 1234",
            "tgmux_http_active_streams 1",
            "tgmux_parts_fetched_total{dc=\"2\"} 2",
            "tgmux_parts_fetched_total{dc=\"4\"} 1",
            "tgmux_flood_waits_total 1",
            "tgmux_http_errors_total{kind=\"busy\"} 1",
            "# TYPE tgmux_http_active_streams gauge",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
