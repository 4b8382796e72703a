//! Helpers for the `tgmux serve` tests: a server over a scratch media directory (the CLI's
//! `--from-dir`, or the library in-process over any `Source`), and real curl as the client.
//! Test crates using it declare `mod localdc_util;` too.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::localdc_util::scratch;

/// A running `tgmux serve --from-dir`; killed on drop.
pub struct Serve {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The media directory it serves.
    pub media: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `files` (path under the media directory, contents) into a fresh scratch directory
/// and starts `tgmux serve --from-dir` on a free loopback port with `extra` flags.
pub fn start(name: &str, files: &[(&str, &[u8])], extra: &[&str]) -> Serve {
    let media = scratch(&format!("serve-{name}")).join("media");
    for (path, contents) in files {
        let p = media.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }
    start_in(media, extra)
}

/// Starts `tgmux serve --from-dir media` on a free loopback port with `extra` flags.
pub fn start_in(media: PathBuf, extra: &[&str]) -> Serve {
    let dir = media.to_str().expect("a UTF-8 path").to_string();
    let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--from-dir", &dir];
    args.extend_from_slice(extra);
    spawn(&args, media.clone())
}

/// Starts `tgmux ARGS` (a `serve` command line) and waits for its `listening on` line;
/// `media` is what it serves, for the test's reference.
pub fn spawn(args: &[&str], media: PathBuf) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgmux"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tgmux serve");
    let base = listening_line(child.stdout.take().unwrap());
    Serve { child, base, media }
}

/// Reads the `listening on http://ADDR` line (within 30 s) and returns `http://ADDR`.
pub fn listening_line(out: impl std::io::Read + Send + 'static) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(out).lines();
        let _ = tx.send(lines.next());
        for _ in lines {}
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("no `listening on` line within 30 s")
        .expect("serve printed nothing")
        .unwrap();
    line.strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string()
}

/// One HTTP exchange as curl saw it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// curl's exit code (18: the body ended before its Content-Length).
    pub exit: i32,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Header `name`, which must be present.
    pub fn must(&self, name: &str) -> &str {
        self.header(name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", self.headers))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `curl -sS -i --http1.1 <args> <url>` (60 s at most), parsed.
pub fn curl(args: &[&str], url: &str) -> Reply {
    let out = Command::new("curl")
        .args(["-sS", "-i", "--http1.1", "--max-time", "60"])
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("run curl (scripts/test installs it)");
    parse_reply(out.status.code().unwrap_or(-1), &out.stdout)
}

/// GET `url` with extra request headers.
pub fn get(url: &str, headers: &[&str]) -> Reply {
    let mut args = Vec::new();
    for h in headers {
        args.extend(["-H", h]);
    }
    curl(&args, url)
}

/// Splits curl's `-i` output into status, headers and body.
pub fn parse_reply(exit: i32, raw: &[u8]) -> Reply {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Reply {
            exit,
            status: 0,
            headers: Vec::new(),
            body: Vec::new(),
        };
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        exit,
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

/// The parts of a `multipart/byteranges` body, read strictly by RFC 2046 framing:
/// (Content-Range value, bytes) per part. Panics on anything malformed.
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("content type {content_type}"));
    let delim = format!("--{boundary}");
    let close = format!("\r\n--{boundary}--\r\n");
    assert!(body.ends_with(close.as_bytes()), "no close delimiter");
    let mut rest = &body[..body.len() - close.len()];
    let mut parts = Vec::new();
    let mut first = true;
    while !rest.is_empty() {
        let lead = if first {
            delim.clone()
        } else {
            format!("\r\n{delim}")
        };
        first = false;
        rest = rest.strip_prefix(lead.as_bytes()).expect("delimiter");
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after delimiter");
        let head_end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("part head");
        let head = String::from_utf8(rest[..head_end].to_vec()).unwrap();
        rest = &rest[head_end + 4..];
        let range = head
            .split("\r\n")
            .find_map(|l| l.strip_prefix("Content-Range: "))
            .expect("part Content-Range")
            .to_string();
        let (a, b) = range
            .strip_prefix("bytes ")
            .and_then(|r| r.split_once('/'))
            .and_then(|(r, _)| r.split_once('-'))
            .expect("bytes a-b/size");
        let len = b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1;
        parts.push((range, rest[..len].to_vec()));
        rest = &rest[len..];
    }
    parts
}

/// The library server over any source, in-process on a free loopback port.
pub struct InProcess {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The counters the server and source share.
    pub metrics: std::sync::Arc<tgmux::serve::Metrics>,
    _rt: tokio::runtime::Runtime,
}

/// Starts [`tgmux::serve::Server`] over `source` with `config`.
pub fn in_process<S: tgmux::serve::Source>(
    source: std::sync::Arc<S>,
    config: tgmux::serve::Config,
    metrics: std::sync::Arc<tgmux::serve::Metrics>,
) -> InProcess {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tgmux::serve::Server::new(config, source, metrics.clone());
    rt.spawn(tgmux::serve::conn::run(
        server,
        listener,
        std::future::pending(),
    ));
    InProcess {
        base,
        metrics,
        _rt: rt,
    }
}

/// The subtitles of [`av_mkv`]'s video. Two cues end before the first key-frame fragment
/// (2 s): the fragmented muxer keeps a text track only if a sample of it is complete by then.
pub const SRT: &str = "1\n00:00:00,200 --> 00:00:00,600\nFirst\n\n\
    2\n00:00:00,600 --> 00:00:03,000\nHello <b>world</b>\n\n\
    3\n00:00:05,500 --> 00:00:08,000\nSecond & last\nline two\n\n\
    4\n00:00:14,000 --> 00:00:18,000\nLate cue\n";

/// Writes `dir/<name>`: `secs` seconds of H.264 (a key frame every 2 s) + AAC + the SRT
/// track [`SRT`], made by ffmpeg (the test's input; what the server sends is ours).
pub fn av_mkv(dir: &std::path::Path, name: &str, secs: u32) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let srt = dir.join(format!("{name}.srt"));
    std::fs::write(&srt, SRT).unwrap();
    let out = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-i",
        ])
        .arg(&srt)
        .args([
            "-t",
            &secs.to_string(),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-map",
            "2:s",
        ])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-pix_fmt", "yuv420p",
        ])
        .args(["-c:a", "aac", "-c:s", "srt"])
        .arg(&out)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg failed");
    std::fs::remove_file(srt).unwrap();
    out
}
