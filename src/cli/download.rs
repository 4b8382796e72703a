//! `tgmux download`: links in, files out.
//!
//! Each link is parsed ([`Link`]), resolved to media ([`Resolver`], cached in the data dir),
//! filtered, checked against the record of finished downloads, then fetched by the library
//! downloader into `<name>.part` (resumed when a run was cut short) and renamed into place.
//! Failures are one `tgmux: error: <link>: <reason>` line each; the other links go on; the
//! exit code is 1 when any link failed.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::account::Account;
use super::{CliError, Globals};
use crate::download::fetch::{fetch, PartSink, Writer};
use crate::download::plan::plan;
use crate::download::{FileSink, Options, Record, Rpc};
use crate::remux::mp4::FragmentOptions;
use crate::remux::pipeline::{remux_files, Output as RemuxOutput, RemuxOptions};
use crate::remux::transformer::MkvToFmp4;

use super::album;
use crate::resolve::{Item, Link, Media};

/// Download the media of t.me message links.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Message links, e.g. https://t.me/channel/123, t.me/c/1234567/89, @channel/5; a channel
    /// link (t.me/channel) with --range.
    #[arg(value_name = "LINK", required_unless_present = "from_file")]
    pub links: Vec<String>,
    /// Output: an existing directory or one ending in `/` (files inside, by --template), a
    /// file name (one file), or `-` for stdout (one file).
    #[arg(short, long, value_name = "PATH", default_value = ".")]
    pub output: PathBuf,
    /// Connections to the file's DC per file.
    #[arg(long, value_name = "C", default_value_t = crate::download::fetch::DEFAULT_CONNECTIONS)]
    pub connections: usize,
    /// Parts (1 MiB) in flight or buffered per file: the memory bound.
    #[arg(long, value_name = "W", default_value_t = crate::download::fetch::DEFAULT_WINDOW)]
    pub window: usize,
    /// Download every item of an album a link points into.
    #[arg(long)]
    pub album: bool,
    /// With a channel link: the media messages with ids A..=B.
    #[arg(long, value_name = "A-B")]
    pub range: Option<String>,
    /// File names inside an -o directory: {channel}, {msg}, {name}, {id}, {ext}, {date};
    /// `/` makes sub-directories.
    #[arg(long, value_name = "T", default_value = "{name}")]
    pub template: String,
    /// Skip documents already downloaded (by document id, under any name) and still present.
    #[arg(long)]
    pub skip_existing: bool,
    /// Only files with these extensions or MIME prefixes (e.g. mp4,mkv or video/); repeatable.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub include: Vec<String>,
    /// No files with these extensions or MIME prefixes.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Only files of at least this size (bytes, or with K/M/G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub min_size: Option<u64>,
    /// Only files of at most this size.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,
    /// Links from a file: a Telegram Desktop export (result.json) or one link per line.
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    /// Remux MKV/WebM/MOV files to MP4 once downloaded (the download is then removed).
    #[arg(long)]
    pub remux: bool,
    /// With --remux: fragmented MP4 instead of faststart.
    #[arg(long, requires = "remux")]
    pub fragmented: bool,
}

/// Files downloaded at once from a channel range or an album.
const FILES_AT_ONCE: usize = 3;

/// `123`, `10K`, `5M`, `2G` (binary multiples).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("`{s}`: unknown size suffix (K, M, G, T)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("`{s}` is not a size"))
}

/// `A-B` with 1 <= A <= B.
fn parse_range(s: &str) -> Result<(i32, i32), CliError> {
    let bad = || {
        CliError::new(format!(
            "--range `{s}`: expected A-B, message ids with A <= B"
        ))
    };
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let a: i32 = a.trim().parse().map_err(|_| bad())?;
    let b: i32 = b.trim().parse().map_err(|_| bad())?;
    if a < 1 || b < a {
        return Err(bad());
    }
    Ok((a, b))
}

/// Links from `--from-file`: a Desktop export's messages with media, or lines of text.
fn links_from_file(path: &Path) -> Result<Vec<String>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("--from-file {}: {e}", path.display())))?;
    if !text.trim_start().starts_with('{') {
        return Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect());
    }
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::new(format!("--from-file {}: not JSON: {e}", path.display())))?;
    let chats: Vec<&serde_json::Value> = match v.pointer("/chats/list").and_then(|l| l.as_array()) {
        Some(list) => list.iter().collect(),
        None => vec![&v],
    };
    let mut out = Vec::new();
    for chat in chats {
        let Some(id) = chat.get("id").and_then(serde_json::Value::as_i64) else {
            continue;
        };
        // Exports write channels as bare ids; Bot API style ids are -(10^12 + id).
        let id = if id < -1_000_000_000_000 {
            -id - 1_000_000_000_000
        } else {
            id.abs()
        };
        for m in chat
            .get("messages")
            .and_then(|m| m.as_array())
            .into_iter()
            .flatten()
        {
            let is_message = m.get("type").and_then(|t| t.as_str()) == Some("message");
            let has_media = m.get("file").is_some() || m.get("photo").is_some();
            if let (true, true, Some(msg)) =
                (is_message, has_media, m.get("id").and_then(|i| i.as_i64()))
            {
                out.push(format!("https://t.me/c/{id}/{msg}"));
            }
        }
    }
    if out.is_empty() {
        return Err(CliError::new(format!(
            "--from-file {}: no messages with media in this export",
            path.display()
        )));
    }
    Ok(out)
}

/// Whether `media` passes --include/--exclude/--min-size/--max-size; else why not.
fn filtered(args: &Args, media: &Media) -> Option<&'static str> {
    let ext = Path::new(&media.file_name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let matches = |pat: &String| {
        let p = pat.trim().to_ascii_lowercase();
        if p.contains('/') {
            media.mime_type.to_ascii_lowercase().starts_with(&p)
        } else {
            p.trim_start_matches('.') == ext
        }
    };
    if !args.include.is_empty() && !args.include.iter().any(matches) {
        return Some("filtered: --include");
    }
    if args.exclude.iter().any(matches) {
        return Some("filtered: --exclude");
    }
    if args.min_size.is_some_and(|m| media.size < m) {
        return Some("filtered: --min-size");
    }
    if args.max_size.is_some_and(|m| media.size > m) {
        return Some("filtered: --max-size");
    }
    None
}

/// The file name by the template: each value made a safe single name, the template's own `/`
/// making directories; `..`, absolute paths and empty parts refused.
fn render(template: &str, channel: &str, media: &Media) -> Result<PathBuf, CliError> {
    let name = &media.file_name;
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let clean = |s: &str| crate::resolve::media::safe_file_name(s).unwrap_or_else(|| "_".into());
    let id = media.key().replace(':', "_");
    let mut out = PathBuf::new();
    for part in template.split('/') {
        let rendered = part
            .replace("{channel}", &clean(channel))
            .replace("{msg}", &media.origin.msg_id.to_string())
            .replace("{name}", &clean(name))
            .replace("{id}", &id)
            .replace("{ext}", &clean(ext))
            .replace("{date}", &media.date.to_string());
        if rendered.is_empty() || rendered == "." || rendered == ".." {
            return Err(CliError::new(format!(
                "--template `{template}`: every path part must be a name"
            )));
        }
        out.push(rendered);
    }
    Ok(out)
}

/// One file to fetch.
struct Job {
    /// How errors name it (the link given, or the message link for range items).
    link: String,
    channel: String,
    media: Media,
}

/// What the run prints per file with --json.
#[derive(serde::Serialize)]
struct JsonLine<'a> {
    link: &'a str,
    path: String,
    size: u64,
    sha256: String,
    seconds: f64,
}

/// A sink that counts what passes through, and hashes it for `--json` (a second SHA-256 pass
/// over every byte is not free: ~15% of the client's CPU).
struct Tee<'a, S> {
    inner: &'a mut S,
    hash: Option<Sha256>,
    bar: Option<ProgressBar>,
    total: Option<ProgressBar>,
}

impl<S: PartSink> PartSink for Tee<'_, S> {
    async fn put(&mut self, offset: u64, bytes: Bytes) -> std::io::Result<()> {
        if let Some(h) = &mut self.hash {
            h.update(&bytes);
        }
        let n = bytes.len() as u64;
        self.inner.put(offset, bytes).await?;
        for b in [&self.bar, &self.total].into_iter().flatten() {
            b.inc(n);
        }
        Ok(())
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the output goes.
enum Output {
    Stdout,
    Dir(PathBuf),
    File(PathBuf),
}

/// What a download run reports and how: `tgmux download` sets it from the global flags,
/// `tgmux demo` quietly (it prints its own summary).
#[derive(Debug, Clone, Copy)]
pub(super) struct Report {
    /// Print one JSON line per file on stdout.
    pub json_lines: bool,
    /// Compute the SHA-256 of each download (and of each MP4 made of one).
    pub hash: bool,
    /// Progress bars on stderr (when it is a terminal).
    pub progress: bool,
    /// The per-file transfer line of `-v`.
    pub verbose: bool,
    /// Print the "skipped" line.
    pub skipped: bool,
    /// `--limit-rate`: bytes per second for all the files together.
    pub limit_rate: Option<u64>,
}

impl Report {
    /// As `tgmux download` reports, by the global flags.
    fn of(g: &Globals) -> Report {
        Report {
            json_lines: g.json,
            hash: g.json,
            progress: !g.quiet,
            verbose: g.verbose > 0,
            skipped: !g.quiet,
            limit_rate: g.limit_rate,
        }
    }
}

/// One file a run finished.
#[derive(Debug, Clone)]
pub(super) struct Done {
    /// Where it is: the MP4 for a file remuxed.
    pub path: PathBuf,
    /// The document's size in bytes.
    pub size: u64,
    /// SHA-256 of the document's bytes as downloaded (hex), with [`Report::hash`].
    pub fetched_sha256: Option<String>,
    /// SHA-256 of the file at `path` (hex), with [`Report::hash`].
    pub sha256: Option<String>,
    /// Seconds spent downloading.
    pub download_seconds: f64,
    /// Seconds spent remuxing after the download (0 when not remuxed).
    pub remux_seconds: f64,
}

struct Run<'a> {
    /// `--remux`: MKV/WebM/MOV files become MP4 once downloaded.
    remux: Option<RemuxOptions>,
    /// `--album --remux`: an album of split streams becomes one MP4.
    merge_albums: bool,
    report: &'a Report,
    rpc: Arc<dyn Rpc>,
    opts: Options,
    record: tokio::sync::Mutex<Record>,
    bars: Option<MultiProgress>,
    total: Option<ProgressBar>,
}

impl Run<'_> {
    fn bar(&self, media: &Media) -> Option<ProgressBar> {
        let mp = self.bars.as_ref()?;
        let b = mp.add(ProgressBar::new(media.size));
        b.set_style(
            ProgressStyle::with_template(
                "{msg:30!} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12} {eta:>4}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_message(media.file_name.clone());
        Some(b)
    }

    /// Downloads one job into `path` (resuming a `.part`), remuxed with `--remux`.
    async fn to_file(&self, job: &Job, path: &Path) -> Result<Done, String> {
        let start = Instant::now();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let (mut sink, resume) =
            FileSink::open(path, &job.media).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut hash = self.report.hash.then(Sha256::new);
        if let (Some(h), true) = (&mut hash, resume > 0) {
            hash_prefix(h, path, resume)
                .await
                .map_err(|e| e.to_string())?;
        }
        let bar = self.bar(&job.media);
        if let Some(b) = &bar {
            b.set_position(resume);
        }
        if let Some(t) = &self.total {
            t.inc(resume);
        }
        let parts = plan(job.media.size, resume, job.media.size.saturating_sub(1));
        // `--remux --fragmented` of a Matroska/WebM download started afresh: the MP4 is made
        // while the bytes arrive, beside the `.part` (which stays the thing a resume uses).
        let streamed = self.streamed_mp4(job, path, resume);
        let mut mp4_file = match &streamed {
            Some(s) => Some(
                tokio::fs::File::create(&s.partial)
                    .await
                    .map_err(|e| format!("{}: {e}", s.partial.display()))?,
            ),
            None => None,
        };
        let mut mp4_writer = mp4_file.as_mut().map(Writer);
        let mut both = AlsoRemuxed {
            file: &mut sink,
            mp4: mp4_writer
                .as_mut()
                .map(|w| RemuxStream::new(w, self.report.hash.then(Sha256::new))),
            failed: None,
        };
        let mut tee = Tee {
            inner: &mut both,
            hash,
            bar: bar.clone(),
            total: self.total.clone(),
        };
        let fetched = fetch(self.rpc.clone(), &job.media, parts, &mut tee, &self.opts).await;
        let digest = tee.hash.take().map(|h| hex(&h.finalize()));
        let (mp4_stream, mp4_failed) = (both.mp4.take(), both.failed.take());
        let report = match fetched {
            Ok(r) => r,
            Err(e) => {
                drop(mp4_stream);
                if let Some(s) = &streamed {
                    let _ = std::fs::remove_file(&s.partial);
                }
                return Err(e.to_string());
            }
        };
        // The MP4's last fragment, and its SHA-256; `Err` when the remuxer refused the input.
        let mp4_done = match (mp4_stream, mp4_failed) {
            (Some(m), _) => Some(m.finish().await),
            (None, Some(why)) => Some(Err(why)),
            (None, None) => None,
        };
        if let Some(f) = mp4_file.as_mut() {
            tokio::io::AsyncWriteExt::flush(f)
                .await
                .map_err(|e| e.to_string())?;
        }
        drop(mp4_file);
        sink.finish()
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if self.report.verbose {
            let line = format!(
                "tgmux: {}: resumed at {resume}, fetched {} bytes in {} requests ({} retried, {} reference refreshes, {} connections replaced, peak buffer {} bytes, slowest answer {} ms{})",
                job.link,
                report.bytes,
                report.requests,
                report.retries,
                report.refreshes,
                report.replaced,
                report.peak_buffered,
                report.slowest_answer.as_millis(),
                if report.cdn { ", from a CDN" } else { "" }
            );
            say(&self.bars, &line);
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let download_seconds = start.elapsed().as_secs_f64();
        let fetched_sha256 = digest.clone();
        let (path, digest) = match (self.remux_of(job), streamed, mp4_done) {
            (_, Some(s), Some(done)) => s.finish(path, job.media.date, done)?,
            (Some(opts), _, _) if remuxable(&job.media) => self.remuxed(path, opts).await?,
            _ => (path.to_path_buf(), digest),
        };
        let mut record = self.record.lock().await;
        // The record only speeds up later runs.
        let _ = record.add(&job.media.key(), &path);
        Ok(Done {
            path,
            size: job.media.size,
            fetched_sha256,
            sha256: digest,
            download_seconds,
            remux_seconds: start.elapsed().as_secs_f64() - download_seconds,
        })
    }

    /// How this job's download is remuxed once complete: `--remux`, except for album items
    /// when albums are merged (`merge_albums` remuxes them, merged or alone).
    fn remux_of(&self, job: &Job) -> Option<&RemuxOptions> {
        match self.merge_albums && job.media.grouped_id.is_some() {
            true => None,
            false => self.remux.as_ref(),
        }
    }

    /// Remuxes a finished download into `<stem>.mp4` (removing it); the MP4's path and
    /// SHA-256 (with the `hash` report).
    async fn remuxed(
        &self,
        path: &Path,
        opts: &RemuxOptions,
    ) -> Result<(PathBuf, Option<String>), String> {
        let mp4 = remux_into_mp4(path, opts).await?;
        let digest = match self.report.hash {
            true => Some(hash_file(&mp4).await.map_err(|e| at(&mp4, e))?),
            false => None,
        };
        Ok((mp4, digest))
    }

    /// Whether `--remux` makes this job's MP4 while it downloads: fragmented output of a
    /// Matroska/WebM document fetched from its start (a resumed `.part` is remuxed once
    /// complete, as faststart output always is). A partial MP4 a killed run left is removed.
    fn streamed_mp4(&self, job: &Job, path: &Path, resume: u64) -> Option<StreamedMp4> {
        let opts = self.remux_of(job)?;
        let partial = path.with_extension("mp4.remuxing");
        let _ = std::fs::remove_file(&partial);
        let mp4 = path.with_extension("mp4");
        let streams = opts.fragmented
            && resume == 0
            && remuxable(&job.media)
            && !is_quicktime(&job.media)
            && mp4 != path;
        streams.then_some(StreamedMp4 { mp4, partial })
    }

    /// Fetches `parts` of the job into `sink` in order; the SHA-256 of the bytes (with the
    /// `hash` report).
    async fn fetch_hashed<S: PartSink>(
        &self,
        job: &Job,
        parts: Vec<crate::download::plan::PartSpec>,
        sink: &mut S,
    ) -> Result<Option<String>, String> {
        let mut tee = Tee {
            inner: sink,
            hash: self.report.hash.then(Sha256::new),
            bar: None,
            total: None,
        };
        fetch(self.rpc.clone(), &job.media, parts, &mut tee, &self.opts)
            .await
            .map_err(|e| e.to_string())?;
        Ok(tee.hash.map(|h| hex(&h.finalize())))
    }

    /// Streams one job to stdout in order; with `--remux` a Matroska/WebM document goes
    /// through the remuxer as its bytes arrive and fragmented MP4 comes out (whether or not
    /// `--fragmented` is given: stdout cannot be rewound for faststart); other files as
    /// they are. Returns the SHA-256 of what was fetched and of what was written (the same
    /// without remuxing).
    async fn to_stdout(&self, job: &Job) -> Result<Streamed, String> {
        let start = Instant::now();
        let mut out = tokio::io::stdout();
        let parts = plan(job.media.size, 0, job.media.size.saturating_sub(1));
        let mut w = Writer(&mut out);
        let (fetched, written) = if self.remux.is_some() && remuxable(&job.media) {
            if is_quicktime(&job.media) {
                return Err(format!(
                    "--remux -o - streams Matroska/WebM only; {} is QuickTime, whose index \
                     comes first: use -o FILE",
                    job.media.file_name
                ));
            }
            let mut mp4 = RemuxStream::new(&mut w, self.report.hash.then(Sha256::new));
            let fetched = self.fetch_hashed(job, parts, &mut mp4).await?;
            let written = mp4.finish().await.map_err(|e| format!("remux: {e}"))?;
            (fetched, written)
        } else {
            let digest = self.fetch_hashed(job, parts, &mut w).await?;
            (digest.clone(), digest)
        };
        tokio::io::AsyncWriteExt::flush(&mut out)
            .await
            .map_err(|e| format!("stdout: {e}"))?;
        Ok(Streamed {
            fetched,
            written,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Runs one job; prints its JSON line; `None` when it failed (error printed).
    async fn job(&self, job: &Job, out: &Output, path: Option<PathBuf>) -> Option<Done> {
        let r = match (out, &path) {
            (Output::Stdout, _) => self.to_stdout(job).await.map(|s| Done {
                path: "-".into(),
                size: job.media.size,
                fetched_sha256: s.fetched,
                sha256: s.written,
                download_seconds: s.seconds,
                remux_seconds: 0.0,
            }),
            (_, Some(p)) => self.to_file(job, p).await,
            (_, None) => Err("no output path".into()),
        };
        match r {
            Ok(done) => {
                // An album item's line waits for the album's merge (see `merge_albums`).
                if !(self.merge_albums && job.media.grouped_id.is_some()) {
                    self.print_json(job, &done);
                }
                Some(done)
            }
            Err(why) => {
                error_line(&self.bars, &job.link, &why);
                None
            }
        }
    }

    /// The `--json` line of a file done.
    fn print_json(&self, job: &Job, done: &Done) {
        if !self.report.json_lines {
            return;
        }
        let size = match done.path.as_os_str() == "-" {
            true => job.media.size,
            false => std::fs::metadata(&done.path).map_or(job.media.size, |m| m.len()),
        };
        let line = JsonLine {
            link: &job.link,
            path: done.path.display().to_string(),
            size,
            sha256: done.sha256.clone().unwrap_or_default(),
            seconds: done.download_seconds + done.remux_seconds,
        };
        let text = serde_json::to_string(&line).unwrap_or_default();
        // On stdout (the bars draw on stderr), without tearing them.
        match &self.bars {
            Some(b) => b.suspend(|| println!("{text}")),
            None => println!("{text}"),
        }
    }

    /// `--album --remux`: each album whose files are split streams (one video-only file, the
    /// others audio-only; all downloaded) becomes one MP4 named after the video file, and
    /// takes the place of its items in `results`. Other album items stay as they are. Prints
    /// the `--json` lines held back for album items. Returns how many merges failed (each
    /// said on stderr; the files are kept).
    async fn merge_albums(&self, results: &mut Vec<(Job, Option<Done>)>) -> usize {
        if !self.merge_albums {
            return 0;
        }
        let mut failed = 0;
        let mut groups: Vec<(i64, Vec<usize>)> = Vec::new();
        for (i, (job, _)) in results.iter().enumerate() {
            if let Some(g) = job.media.grouped_id {
                match groups.iter_mut().find(|(id, _)| *id == g) {
                    Some((_, items)) => items.push(i),
                    None => groups.push((g, vec![i])),
                }
            }
        }
        let mut merged_away = HashSet::new();
        for (_, items) in groups {
            let done: Vec<&Done> = items
                .iter()
                .filter_map(|&i| results[i].1.as_ref())
                .collect();
            if done.len() != items.len() || done.iter().any(|d| d.path.as_os_str() == "-") {
                self.remux_alone(results, &items).await;
                continue;
            }
            let paths: Vec<PathBuf> = done.iter().map(|d| d.path.clone()).collect();
            let Some(order) = self.split_order(&paths).await else {
                self.remux_alone(results, &items).await;
                continue;
            };
            let start = Instant::now();
            let files: Vec<PathBuf> = order.iter().map(|&k| paths[k].clone()).collect();
            let first = items[order[0]];
            match self.merge_files(files).await {
                Ok((path, sha256)) => {
                    let seconds: f64 = items
                        .iter()
                        .filter_map(|&i| results[i].1.as_ref())
                        .map(|d| d.download_seconds + d.remux_seconds)
                        .sum();
                    let size = items.iter().map(|&i| results[i].0.media.size).sum();
                    results[first].1 = Some(Done {
                        path,
                        size,
                        fetched_sha256: None,
                        sha256,
                        download_seconds: seconds,
                        remux_seconds: start.elapsed().as_secs_f64(),
                    });
                    merged_away.extend(items.iter().copied().filter(|&i| i != first));
                }
                Err(why) => {
                    error_line(&self.bars, &results[first].0.link, &why);
                    failed += 1;
                    self.remux_alone(results, &items).await;
                }
            }
        }
        let mut i = 0;
        results.retain(|_| {
            i += 1;
            !merged_away.contains(&(i - 1))
        });
        for (job, done) in results.iter() {
            if let (Some(done), Some(_)) = (done, job.media.grouped_id) {
                self.print_json(job, done);
            }
        }
        failed
    }

    /// Remuxes the album items `items` of `results` that were downloaded and are remuxable,
    /// each alone, as a download without `--album` is. One that fails is said on stderr, its
    /// download kept, and its result becomes a failure.
    async fn remux_alone(&self, results: &mut [(Job, Option<Done>)], items: &[usize]) {
        let Some(opts) = &self.remux else {
            return;
        };
        for &i in items {
            let (job, done) = &mut results[i];
            let Some(d) = done.as_mut().filter(|d| d.path.as_os_str() != "-") else {
                continue;
            };
            if !remuxable(&job.media) {
                continue;
            }
            let start = Instant::now();
            match self.remuxed(&d.path, opts).await {
                Ok((path, sha256)) => {
                    (d.path, d.sha256) = (path, sha256);
                    d.remux_seconds += start.elapsed().as_secs_f64();
                }
                Err(why) => {
                    error_line(&self.bars, &job.link, &why);
                    *done = None;
                }
            }
        }
    }

    /// The merge order of an album's downloaded files when they are split streams.
    async fn split_order(&self, paths: &[PathBuf]) -> Option<Vec<usize>> {
        let paths = paths.to_vec();
        let kinds = tokio::task::spawn_blocking(move || {
            paths
                .iter()
                .map(|p| album::streams_of(p))
                .collect::<Vec<_>>()
        })
        .await
        .ok()?;
        album::split_streams(&kinds)
    }

    /// Merges split-stream files (video first) into one MP4; its path and SHA-256 (with the
    /// `hash` report).
    async fn merge_files(&self, files: Vec<PathBuf>) -> Result<(PathBuf, Option<String>), String> {
        let opts = self.remux.clone().unwrap_or_default();
        let bars = self.bars.clone();
        let mp4 = tokio::task::spawn_blocking(move || {
            album::merge(&files, &opts, &mut |w: &str| {
                say(
                    &bars,
                    &format!("tgmux: warning: {}: {w}", files[0].display()),
                )
            })
        })
        .await
        .map_err(|e| e.to_string())??;
        let sha256 = match self.report.hash {
            true => Some(hash_file(&mp4).await.map_err(|e| at(&mp4, e))?),
            false => None,
        };
        Ok((mp4, sha256))
    }
}

/// What [`Run::to_stdout`] did.
struct Streamed {
    /// SHA-256 of the document's bytes (with the `hash` report).
    fetched: Option<String>,
    /// SHA-256 of what went to stdout: the MP4 when remuxed, else the document again.
    written: Option<String>,
    seconds: f64,
}

/// `--remux -o -`: the document's Matroska/WebM bytes go into the remuxer as they arrive, and
/// the fragmented MP4 it makes goes on to `inner` at once (nothing is held back but what the
/// remuxer needs to finish a fragment).
struct RemuxStream<'a, S> {
    inner: &'a mut S,
    remuxer: MkvToFmp4,
    hash: Option<Sha256>,
    written: u64,
    /// The first bytes, until they show the EBML magic.
    head: Vec<u8>,
}

/// The EBML magic every Matroska/WebM file starts with.
const EBML_MAGIC: [u8; 4] = [0x1a, 0x45, 0xdf, 0xa3];

impl<'a, S: PartSink> RemuxStream<'a, S> {
    fn new(inner: &'a mut S, hash: Option<Sha256>) -> Self {
        RemuxStream {
            inner,
            remuxer: MkvToFmp4::new(FragmentOptions::default()),
            hash,
            written: 0,
            head: Vec::with_capacity(EBML_MAGIC.len()),
        }
    }

    /// Passes on what the remuxer has made so far.
    async fn drain(&mut self) -> std::io::Result<()> {
        let mut out = Vec::new();
        self.remuxer.take_output(&mut out);
        if out.is_empty() {
            return Ok(());
        }
        if let Some(h) = &mut self.hash {
            h.update(&out);
        }
        let at = self.written;
        self.written += out.len() as u64;
        self.inner.put(at, Bytes::from(out)).await
    }

    /// The input has ended: the last fragment, and the SHA-256 of the whole MP4.
    async fn finish(mut self) -> Result<Option<String>, String> {
        self.remuxer.finish().map_err(|e| e.to_string())?;
        self.drain().await.map_err(|e| format!("stdout: {e}"))?;
        Ok(self.hash.map(|h| hex(&h.finalize())))
    }
}

impl<S: PartSink> PartSink for RemuxStream<'_, S> {
    async fn put(&mut self, _offset: u64, bytes: Bytes) -> std::io::Result<()> {
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
        if self.head.len() < EBML_MAGIC.len() {
            let take = (EBML_MAGIC.len() - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            if !EBML_MAGIC.starts_with(&self.head) {
                return Err(invalid("remux: not Matroska/WebM (no EBML header)".into()));
            }
        }
        self.remuxer
            .push(&bytes)
            .map_err(|e| invalid(format!("remux: {e}")))?;
        self.drain().await
    }
}

/// `--remux --fragmented` into a file: every part goes to the download's file, then to the
/// remuxer making the MP4. A remuxer error does not stop the download (nothing downloaded is
/// lost): it is kept and told once the download is complete.
struct AlsoRemuxed<'a, S, M> {
    file: &'a mut S,
    mp4: Option<RemuxStream<'a, M>>,
    failed: Option<String>,
}

impl<S: PartSink, M: PartSink> PartSink for AlsoRemuxed<'_, S, M> {
    async fn put(&mut self, offset: u64, bytes: Bytes) -> std::io::Result<()> {
        self.file.put(offset, bytes.clone()).await?;
        if let Some(mp4) = &mut self.mp4 {
            if let Err(e) = mp4.put(offset, bytes).await {
                self.failed = Some(e.to_string());
                self.mp4 = None;
            }
        }
        Ok(())
    }
}

/// A fragmented MP4 made while its Matroska/WebM document downloads.
struct StreamedMp4 {
    /// Where it goes once complete.
    mp4: PathBuf,
    /// Where it is written meanwhile.
    partial: PathBuf,
}

impl StreamedMp4 {
    /// Moves the finished MP4 into place (mtime: the message date) and removes the document
    /// `downloaded`; when the remuxer failed, the document is kept and the partial MP4
    /// removed. The MP4's path and SHA-256.
    fn finish(
        &self,
        downloaded: &Path,
        date: i32,
        remuxed: Result<Option<String>, String>,
    ) -> Result<(PathBuf, Option<String>), String> {
        match remuxed {
            Ok(digest) => {
                let mtime = std::time::UNIX_EPOCH
                    + std::time::Duration::from_secs(u64::try_from(date).unwrap_or(0));
                let file = std::fs::File::options()
                    .write(true)
                    .open(&self.partial)
                    .map_err(|e| at(&self.partial, e))?;
                file.set_modified(mtime).map_err(|e| at(&self.partial, e))?;
                std::fs::rename(&self.partial, &self.mp4).map_err(|e| at(&self.mp4, e))?;
                std::fs::remove_file(downloaded).map_err(|e| at(downloaded, e))?;
                Ok((self.mp4.clone(), digest))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&self.partial);
                Err(format!(
                    "remux (the download is kept at {}): {e}",
                    downloaded.display()
                ))
            }
        }
    }
}

/// An I/O error naming its file.
fn at(path: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", path.display())
}

/// QuickTime input: `--remux -o -` cannot stream it (its remux reads the index first).
fn is_quicktime(media: &Media) -> bool {
    media.mime_type == "video/quicktime" || media.file_name.to_ascii_lowercase().ends_with(".mov")
}

/// Whether `--remux` turns this file into an MP4 (Matroska, WebM, QuickTime).
fn remuxable(media: &Media) -> bool {
    let ext = Path::new(&media.file_name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        media.mime_type.as_str(),
        "video/x-matroska" | "video/webm" | "video/quicktime"
    ) || matches!(ext.as_str(), "mkv" | "webm" | "mov")
}

/// Remuxes a downloaded file into `<stem>.mp4` beside it, then removes the download. On
/// failure the download is kept (nothing downloaded is lost) and a half-written MP4 removed.
async fn remux_into_mp4(path: &Path, opts: &RemuxOptions) -> Result<PathBuf, String> {
    let mp4 = path.with_extension("mp4");
    let (input, output, opts) = (path.to_path_buf(), mp4.clone(), opts.clone());
    let done = tokio::task::spawn_blocking(move || {
        let mut warnings = Vec::new();
        let r = remux_files(
            std::slice::from_ref(&input),
            &RemuxOutput::File(output.clone()),
            &opts,
            &mut |w: &str| warnings.push(w.to_string()),
        );
        for w in warnings {
            eprintln!("tgmux: warning: {}: {w}", input.display());
        }
        r
    })
    .await
    .map_err(|e| e.to_string())?;
    match done {
        Ok(()) => {
            std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(mp4)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&mp4);
            Err(format!(
                "remux (the download is kept at {}): {e}",
                path.display()
            ))
        }
    }
}

/// SHA-256 of a whole file, hex.
async fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hash = Sha256::new();
    let len = tokio::fs::metadata(path).await?.len();
    hash_reader(&mut hash, path, len).await?;
    Ok(hex(&hash.finalize()))
}

/// Reads the first `len` bytes of `<path>.part` into the hash (a resumed download).
async fn hash_prefix(hash: &mut Sha256, path: &Path, len: u64) -> std::io::Result<()> {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    hash_reader(hash, Path::new(&part), len).await
}

/// Feeds the first `len` bytes of `path` into `hash`.
async fn hash_reader(hash: &mut Sha256, path: &Path, len: u64) -> std::io::Result<()> {
    let f = tokio::fs::File::open(path).await?;
    let mut f = f.take(len);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        hash.update(&buf[..n]);
    }
}

/// A line on stderr that does not tear the progress bars.
fn say(bars: &Option<MultiProgress>, line: &str) {
    match bars {
        Some(b) => b.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

fn error_line(bars: &Option<MultiProgress>, link: &str, why: &str) {
    say(bars, &format!("tgmux: error: {link}: {why}"));
}

/// What a run was asked for: the links and where their files go.
pub(super) struct Targets {
    texts: Vec<String>,
    range: Option<(i32, i32)>,
    out: Output,
}

impl Targets {
    /// The links (with `--from-file`'s), `--range` and `-o`, checked.
    pub(super) fn of(args: &Args) -> Result<Targets, CliError> {
        let mut texts = args.links.clone();
        if let Some(f) = &args.from_file {
            texts.extend(links_from_file(f)?);
        }
        let range = args.range.as_deref().map(parse_range).transpose()?;
        let out = if args.output.as_os_str() == "-" {
            Output::Stdout
        } else if args.output.is_dir() || args.output.as_os_str().to_string_lossy().ends_with('/') {
            Output::Dir(args.output.clone())
        } else {
            Output::File(args.output.clone())
        };
        Ok(Targets { texts, range, out })
    }
}

pub fn run(args: &Args, g: &Globals) -> Result<(), CliError> {
    let targets = Targets::of(args)?;
    let account = super::account::open(g, args.connections)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the runtime: {e}")))?;
    let result = runtime.block_on(download(args, &targets, &Report::of(g), &account));
    // Flood deadlines and resolutions learned are durable (or sent) before the process ends.
    runtime.block_on(account.store.flush());
    let (_, failed) = result?;
    drop(runtime);
    if failed > 0 {
        return Err(CliError::reported());
    }
    Ok(())
}

/// Downloads what `args` and `targets` ask for through a logged-in `account`, keeping the
/// record of finished downloads in its data directory. Returns the files done and how many
/// links or files failed (each said on stderr).
pub(super) async fn download(
    args: &Args,
    targets: &Targets,
    report: &Report,
    account: &Account,
) -> Result<(Vec<Done>, usize), CliError> {
    let Targets { texts, range, out } = targets;
    let range = *range;
    let Account {
        pool,
        rpc,
        cache,
        resolver,
        data_dir,
        ..
    } = account;
    let tty = std::io::stderr().is_terminal() && report.progress && !matches!(out, Output::Stdout);
    let bars = tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    {
        let mut failed = 0usize;
        let mut jobs = Vec::new();
        let mut skipped: Vec<String> = Vec::new();
        for text in texts {
            let link = match Link::parse(text) {
                Ok(l) => l,
                Err(e) => {
                    error_line(&bars, text, &e.to_string());
                    failed += 1;
                    continue;
                }
            };
            let channel = match &link.peer {
                crate::resolve::Peer::Username(u) => u.clone(),
                crate::resolve::Peer::Channel(id) => format!("c{id}"),
            };
            let items = match (link.msg, range) {
                (None, Some((a, b))) => resolver.range(&link.peer, a, b).await,
                (None, None) => {
                    error_line(
                        &bars,
                        text,
                        "a channel link needs --range A-B (message ids)",
                    );
                    failed += 1;
                    continue;
                }
                (Some(_), Some(_)) => {
                    error_line(
                        &bars,
                        text,
                        "--range applies to channel links, this one names a message",
                    );
                    failed += 1;
                    continue;
                }
                (Some(_), None) => resolver
                    .media(&link, args.album)
                    .await
                    .map(|v| v.into_iter().map(|m| Item::Media(Box::new(m))).collect()),
            };
            let items = match items {
                Ok(i) => i,
                Err(e) => {
                    error_line(&bars, text, &e.to_string());
                    failed += 1;
                    continue;
                }
            };
            let several = items.len() > 1;
            for item in items {
                match item {
                    Item::Media(m) => {
                        if let Some(why) = filtered(args, &m) {
                            skipped.push(format!("{} ({why})", m.origin.msg_id));
                            continue;
                        }
                        let link = if several {
                            Link {
                                peer: link.peer.clone(),
                                msg: Some(m.origin.msg_id),
                                topic: None,
                                comment: None,
                                single: false,
                            }
                            .to_url()
                        } else {
                            text.clone()
                        };
                        jobs.push(Job {
                            link,
                            channel: channel.clone(),
                            media: *m,
                        });
                    }
                    Item::NoMedia(id) => skipped.push(format!("{id} (no media)")),
                    Item::Missing(id) => skipped.push(format!("{id} (missing)")),
                }
            }
        }
        let _ = cache.flush();
        if jobs.len() > 1 && !matches!(out, Output::Dir(_)) {
            let what = if matches!(out, Output::Stdout) {
                "-o -"
            } else {
                "-o FILE"
            };
            error_line(
                &bars,
                &texts.join(" "),
                &format!(
                    "{what} takes one file, these links give {}: use -o DIR/",
                    jobs.len()
                ),
            );
            return Ok((Vec::new(), failed + jobs.len()));
        }
        let record = Record::open(&data_dir.join("downloads.jsonl"));
        // Paths, made unique within the run.
        let mut taken = HashSet::new();
        let mut planned = Vec::new();
        for job in jobs {
            let path = match out {
                Output::Stdout => None,
                Output::File(f) => Some(f.clone()),
                Output::Dir(d) => match render(&args.template, &job.channel, &job.media) {
                    Ok(p) => Some(d.join(p)),
                    Err(e) => {
                        error_line(&bars, &job.link, &e.message);
                        failed += 1;
                        continue;
                    }
                },
            };
            let path = path.map(|p| {
                if taken.insert(p.clone()) {
                    return p;
                }
                let stem = p
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("file")
                    .to_string();
                let ext = p
                    .extension()
                    .and_then(|s| s.to_str())
                    .map(|e| format!(".{e}"))
                    .unwrap_or_default();
                let q = p.with_file_name(format!("{stem}_{}{ext}", job.media.origin.msg_id));
                taken.insert(q.clone());
                q
            });
            if args.skip_existing {
                let dir = match out {
                    Output::Dir(d) => Some(d.as_path()),
                    _ => None,
                };
                if let Some(at) = record.present(&job.media.key(), dir) {
                    skipped.push(format!(
                        "{} (already at {})",
                        job.media.origin.msg_id,
                        at.display()
                    ));
                    continue;
                }
            }
            planned.push((job, path));
        }
        let total = bars.as_ref().map(|mp| {
            let size: u64 = planned.iter().map(|(j, _)| j.media.size).sum();
            let t = mp.add(ProgressBar::new(size));
            t.set_style(
                ProgressStyle::with_template(
                    "{msg:30!} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12} {eta:>4}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            t.set_message(format!("total ({} files)", planned.len()));
            t
        });
        let run = Run {
            remux: args.remux.then_some(RemuxOptions {
                fragmented: args.fragmented,
                fragment_duration: None,
                hev1: false,
                copy_min: None,
            }),
            merge_albums: args.album && args.remux,
            report,
            rpc: rpc.clone(),
            opts: Options {
                window: args.window.max(1),
                connections: args.connections.max(1),
                limit_rate: report
                    .limit_rate
                    .map(|r| Arc::new(crate::scale::rate::BandwidthLimiter::new(r))),
                ..Options::default()
            },
            record: tokio::sync::Mutex::new(record),
            bars: bars.clone(),
            total: total.clone(),
        };
        let queue = std::sync::Mutex::new(std::collections::VecDeque::from(planned));
        let results = {
            let (run, queue) = (&run, &queue);
            let workers = (0..FILES_AT_ONCE).map(|_| async move {
                let mut ok = Vec::new();
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some((job, path)) = next else {
                        return ok;
                    };
                    let done = run.job(&job, out, path).await;
                    ok.push((job, done));
                }
            });
            join_all(workers)
                .await
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
        };
        let mut results = results;
        failed += run.merge_albums(&mut results).await;
        failed += results.iter().filter(|(_, r)| r.is_none()).count();
        let done: Vec<Done> = results.into_iter().filter_map(|(_, d)| d).collect();
        if let Some(t) = total {
            t.finish_and_clear();
        }
        if !skipped.is_empty() && report.skipped {
            let line = format!("tgmux: skipped {}: {}", skipped.len(), skipped.join(", "));
            say(&bars, &line);
        }
        let _ = pool.save();
        Ok((done, failed))
    }
}

/// Runs a few futures concurrently on this task, results in order.
async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|v| v.expect("every future finished"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ranges() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("10K"), Ok(10240));
        assert_eq!(parse_size("2m"), Ok(2 << 20));
        assert!(parse_size("x").is_err() && parse_size("5Q").is_err());
        assert_eq!(parse_range("3-7").unwrap(), (3, 7));
        assert!(
            parse_range("7-3").is_err() && parse_range("0-3").is_err() && parse_range("x").is_err()
        );
    }

    #[test]
    fn links_from_exports_and_text_files() {
        let dir = std::env::temp_dir().join(format!("tgmux-from-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let one_chat = dir.join("result.json");
        std::fs::write(
            &one_chat,
            r#"{"name":"x","type":"private_channel","id":1234567,"messages":[
                {"id":1,"type":"service","action":"create_channel"},
                {"id":2,"type":"message","text":"hi"},
                {"id":3,"type":"message","file":"files/a.mkv","media_type":"video_file"},
                {"id":4,"type":"message","photo":"photos/p.jpg"}]}"#,
        )
        .unwrap();
        assert_eq!(
            links_from_file(&one_chat).unwrap(),
            ["https://t.me/c/1234567/3", "https://t.me/c/1234567/4"]
        );
        let all = dir.join("all.json");
        std::fs::write(
            &all,
            r#"{"chats":{"list":[{"id":-1000001234567,"messages":[{"id":9,"type":"message","file":"f"}]}]}}"#,
        )
        .unwrap();
        assert_eq!(links_from_file(&all).unwrap(), ["https://t.me/c/1234567/9"]);
        let text = dir.join("links.txt");
        std::fs::write(&text, "# mine\nt.me/chan/1\n\n  @chan/2  \n").unwrap();
        assert_eq!(links_from_file(&text).unwrap(), ["t.me/chan/1", "@chan/2"]);
        std::fs::write(&all, r#"{"messages":[]}"#).unwrap();
        assert!(links_from_file(&all).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
