//! `tgmux demo`: the whole product on one machine, in one process, on loopback.
//!
//! It makes a scratch directory (under `$TMPDIR`, else `/tmp`, else the current directory: a
//! bare chroot has no `/tmp`), puts a media library in it (the small H.264 + AAC Matroska file
//! built into the binary from `assets/demo.mkv` as `t.me/demo/1`, and 64 MiB of generated
//! bytes as `t.me/demo/2`), starts the local DC code on it (3 DCs on 127.0.0.1, free ports, an
//! RSA key made for the run), logs in as a bot, and downloads both links through the code of
//! `tgmux download` (the video with `--remux`). It then checks what came back: the SHA-256 of
//! each download against its source, and the packet count of the MP4 against the MKV's, both
//! read by our own demuxers. Unless `--no-serve`, it serves the documents over HTTP and prints
//! the URLs until Ctrl-C. The scratch directory (session, caches, media, downloads) is
//! removed at the end, also after an error or Ctrl-C.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use sha2::{Digest, Sha256};

use super::account::Account;
use super::download::{self, Done, Report, Targets};
use super::ping::{transport_name, PLACEHOLDER_API_ID};
use super::{CliError, Globals};
use crate::config::Network;
use crate::dcconfig::DcConfig;
use crate::net::session_file::LoggedIn;
use crate::net::{Pool, PoolConfig};
use crate::remux::mkv::MkvDemuxer;
use crate::remux::mp4::demux::Mp4Demuxer;
use crate::remux::Demuxer;

/// Run the whole pipeline on this machine: a local DC, a bot login, downloads with remuxing
/// and checks, then the HTTP server.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stop after the downloads and checks instead of serving them.
    #[arg(long)]
    pub no_serve: bool,
    /// Where the HTTP server listens (loopback only; port 0: a free port). When the default
    /// port is taken, a free one is used.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
}

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The video `t.me/demo/1` serves: 4 s of H.264 test pattern and AAC sine, Matroska.
const DEMO_MKV: &[u8] = include_bytes!("../../assets/demo.mkv");
/// The size of the generated file `t.me/demo/2`.
const FILE_SIZE: u64 = 64 << 20;
/// The channel and its two messages.
const VIDEO_LINK: &str = "t.me/demo/1";
const FILE_LINK: &str = "t.me/demo/2";
/// DCs of the local network.
const DCS: u8 = 3;
/// The bot the demo logs in as (the local DC takes any `<digits>:<text>`).
const BOT_TOKEN: &str = "1:tgmux-demo";
/// The API hash sent with the login (the local DC does not check it).
const API_HASH: &str = "tgmux-demo";

/// A directory of our own, removed with everything in it when dropped.
struct Scratch(PathBuf);

impl Scratch {
    /// A new mode-0700 directory `tgmux-demo-<pid>-<random>` in the first of `$TMPDIR`,
    /// `/tmp` and the current directory where one can be made.
    fn new() -> Result<Scratch, String> {
        use std::os::unix::fs::DirBuilderExt;
        let mut bases = Vec::new();
        if let Some(t) = std::env::var_os("TMPDIR").map(PathBuf::from) {
            bases.push(t);
        }
        bases.push(PathBuf::from("/tmp"));
        bases.push(std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
        let name = format!(
            "tgmux-demo-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let mut last = String::new();
        for base in bases.into_iter().filter(|b| b.is_dir()) {
            let dir = base.join(&name);
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(Scratch(dir)),
                Err(e) => last = format!("{}: {e}", dir.display()),
            }
        }
        Err(format!(
            "cannot make a scratch directory (tried $TMPDIR, /tmp and the current directory): {last}"
        ))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the run did, as `--json` prints it.
#[derive(Debug, serde::Serialize)]
struct Summary {
    /// Every check passed.
    ok: bool,
    /// The scratch directory (removed when the demo ends).
    work_dir: String,
    local_dc: LocalDcStep,
    login: LoginStep,
    video: VideoStep,
    file: FileStep,
    /// The HTTP server, unless `--no-serve`.
    serve: Option<ServeStep>,
    /// Seconds from start to the end of the checks.
    seconds: f64,
}

#[derive(Debug, serde::Serialize)]
struct LocalDcStep {
    dcs: usize,
    ports: Vec<u16>,
    seconds: f64,
}

#[derive(Debug, serde::Serialize)]
struct LoginStep {
    user: String,
    home_dc: i32,
    seconds: f64,
}

#[derive(Debug, serde::Serialize)]
struct VideoStep {
    link: &'static str,
    size: u64,
    sha256: String,
    sha256_ok: bool,
    mp4_size: u64,
    mkv_packets: u64,
    mp4_packets: u64,
    packets_equal: bool,
    download_seconds: f64,
    remux_seconds: f64,
}

#[derive(Debug, serde::Serialize)]
struct FileStep {
    link: &'static str,
    size: u64,
    sha256: String,
    sha256_ok: bool,
    seconds: f64,
    mib_per_second: f64,
}

#[derive(Debug, serde::Serialize)]
struct ServeStep {
    url: String,
    watch: String,
    curl: String,
    /// Where the server reads documents: `telegram` (through MTProto from the local DC).
    source: &'static str,
}

/// Lines for a person (not with `--json` or `--quiet`).
struct Say(bool);

impl Say {
    fn line(&self, text: &str) {
        if self.0 {
            println!("{text}");
            let _ = std::io::stdout().flush();
        }
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// `48.0 KiB`, `64.0 MiB`.
fn size_text(bytes: u64) -> String {
    if bytes < 1 << 20 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", mib(bytes))
    }
}

/// `85 ms`, `1.28 s`.
fn took(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn run(args: &Args, g: &Globals) -> Result<(), CliError> {
    let fail = |m: String| CliError::new(format!("demo: {m}"));
    if !args.listen.ip().is_loopback() {
        return Err(fail(format!(
            "--listen {}: the demo serves on loopback only (127.0.0.1 or ::1)",
            args.listen
        )));
    }
    let scratch = Scratch::new().map_err(fail)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the runtime: {e}")))?;
    let serving = Arc::new(AtomicBool::new(false));
    let result = runtime.block_on(async {
        tokio::select! {
            r = demo(args, g, &scratch.0, serving.clone()) => r,
            _ = tokio::signal::ctrl_c() => match serving.load(Ordering::SeqCst) {
                true => Ok(()),
                false => Err(CliError { message: "demo: interrupted".into(), code: 130 }),
            },
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(scratch);
    if result.is_ok() && serving.load(Ordering::SeqCst) {
        Say(!g.json && !g.quiet).line("stopped; the scratch directory is removed");
    }
    result
}

/// The demo's steps, in order; `serving` is set once only Ctrl-C is left to wait for.
async fn demo(
    args: &Args,
    g: &Globals,
    work: &Path,
    serving: Arc<AtomicBool>,
) -> Result<(), CliError> {
    let fail = |m: String| CliError::new(format!("demo: {m}"));
    let start = Instant::now();
    let say = Say(!g.json && !g.quiet);
    say.line(&format!(
        "tgmux demo: a local Telegram network on 127.0.0.1, working in {} (removed at exit)",
        work.display()
    ));

    // The media library: DIR/<username>/<msg>.<ext>.
    let media = work.join("media");
    let channel = media.join("demo");
    std::fs::create_dir_all(&channel).map_err(|e| fail(format!("{}: {e}", channel.display())))?;
    let video_src = channel.join("1.mkv");
    std::fs::write(&video_src, DEMO_MKV)
        .map_err(|e| fail(format!("{}: {e}", video_src.display())))?;
    let file_src = channel.join("2.bin");
    let file_sha = write_generated(&file_src, FILE_SIZE)
        .map_err(|e| fail(format!("{}: {e}", file_src.display())))?;
    let video_sha = hex(&Sha256::digest(DEMO_MKV));

    // The local DC, on this runtime.
    let t = Instant::now();
    let (config, local_dc) = start_local_dc(&media, work, g.verbose > 0)
        .await
        .map_err(fail)?;
    let ports: Vec<u16> = config.dcs.iter().map(|d| d.port).collect();
    let dc_seconds = t.elapsed().as_secs_f64();
    say.line(&format!(
        "  local DC     {} DCs on 127.0.0.1 ports {}, up in {} (a new RSA key)",
        ports.len(),
        ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        took(dc_seconds),
    ));

    // Log in.
    let t = Instant::now();
    let pool = open_pool(&config, work, g).map_err(fail)?;
    let user = super::login::login_bot(&pool, (PLACEHOLDER_API_ID, API_HASH.into()), BOT_TOKEN)
        .await
        .map_err(|e| fail(e.message))?;
    pool.set_logged_in(LoggedIn {
        user_id: user.id,
        bot: user.bot,
    })
    .map_err(|e| fail(e.to_string()))?;
    let login = LoginStep {
        user: super::login::describe(&user),
        home_dc: pool.home_dc(),
        seconds: t.elapsed().as_secs_f64(),
    };
    say.line(&format!(
        "  logged in    as {} on DC {} in {}",
        login.user,
        login.home_dc,
        took(login.seconds)
    ));

    // The video, remuxed; then the big file.
    let downloads = work.join("downloads");
    let report = Report {
        json_lines: false,
        hash: true,
        progress: !g.json && !g.quiet,
        verbose: g.verbose > 0,
        skipped: false,
        limit_rate: g.limit_rate,
    };
    let video = fetch(VIDEO_LINK, true, &downloads, &report, &pool, work).await?;
    let counted = count_packets(&video.path);
    let (mkv_packets, mp4_packets) = counted.map_err(fail)?;
    let video = VideoStep {
        link: VIDEO_LINK,
        size: video.size,
        sha256_ok: video.fetched_sha256.as_deref() == Some(video_sha.as_str()),
        sha256: video.fetched_sha256.unwrap_or_default(),
        mp4_size: std::fs::metadata(&video.path).map_or(0, |m| m.len()),
        mkv_packets,
        mp4_packets,
        packets_equal: mkv_packets == mp4_packets,
        download_seconds: video.download_seconds,
        remux_seconds: video.remux_seconds,
    };
    say.line(&format!(
        "  {VIDEO_LINK}  {} MKV downloaded in {}, remuxed to a {} MP4 in {}; \
         SHA-256 {}; packets: MKV {}, MP4 {} ({})",
        size_text(video.size),
        took(video.download_seconds),
        size_text(video.mp4_size),
        took(video.remux_seconds),
        if video.sha256_ok { "ok" } else { "MISMATCH" },
        video.mkv_packets,
        video.mp4_packets,
        if video.packets_equal {
            "equal"
        } else {
            "DIFFERENT"
        },
    ));
    let file = fetch(FILE_LINK, false, &downloads, &report, &pool, work).await?;
    let seconds = file.download_seconds.max(1e-6);
    let file = FileStep {
        link: FILE_LINK,
        size: file.size,
        sha256_ok: file.fetched_sha256.as_deref() == Some(file_sha.as_str()),
        sha256: file.fetched_sha256.unwrap_or_default(),
        seconds: file.download_seconds,
        mib_per_second: mib(file.size) / seconds,
    };
    say.line(&format!(
        "  {FILE_LINK}  {} downloaded in {}: {:.0} MiB/s; SHA-256 {}",
        size_text(file.size),
        took(file.seconds),
        file.mib_per_second,
        if file.sha256_ok { "ok" } else { "MISMATCH" },
    ));
    let ok = video.sha256_ok && video.packets_equal && file.sha256_ok;
    let checked = start.elapsed().as_secs_f64();
    let _ = pool.save();

    // Serve, unless asked not to.
    let listener = match (ok, args.no_serve) {
        (true, false) => Some(bind(args.listen).await.map_err(fail)?),
        _ => None,
    };
    let serve = listener.as_ref().map(|(_, addr)| {
        let base = match addr {
            SocketAddr::V6(_) => format!("http://[{}]:{}", addr.ip(), addr.port()),
            SocketAddr::V4(_) => format!("http://{addr}"),
        };
        ServeStep {
            watch: format!("{base}/watch/demo/1"),
            curl: format!("curl -o demo.mp4 {base}/demo/1.mp4"),
            url: base,
            source: SERVE_SOURCE,
        }
    });
    let summary = Summary {
        ok,
        work_dir: work.display().to_string(),
        local_dc: LocalDcStep {
            dcs: ports.len(),
            ports,
            seconds: dc_seconds,
        },
        login,
        video,
        file,
        serve,
        seconds: checked,
    };
    if g.json {
        println!(
            "{}",
            serde_json::to_string(&summary).map_err(|e| fail(e.to_string()))?
        );
        let _ = std::io::stdout().flush();
    }
    if !ok {
        return Err(fail(
            "a check failed: what came back differs from what the local DC serves".into(),
        ));
    }
    say.line(&format!(
        "  all checks passed in {}: the downloads are identical to their sources",
        took(checked)
    ));
    let (Some((listener, _)), Some(s)) = (listener, &summary.serve) else {
        let _ = local_dc.stop.send(());
        let _ = local_dc.task.await;
        return Ok(());
    };
    say.line(&format!(
        "serving on {} until Ctrl-C ({SERVE_NOTE}):",
        s.url
    ));
    say.line(&format!("  in a browser  {}", s.watch));
    say.line(&format!("  with curl     {}", s.curl));
    serving.store(true, Ordering::SeqCst);
    serve_documents(listener, &pool, work)
        .await
        .map_err(|e| fail(format!("serving: {e}")))
}

/// Writes `len` pseudo-random bytes (xorshift: incompressible, cheap) to `path`; returns their
/// SHA-256.
fn write_generated(path: &Path, len: u64) -> std::io::Result<String> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut hash = Sha256::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for word in chunk.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = usize::try_from(left.min(chunk.len() as u64)).expect("at most 1 MiB");
        hash.update(&chunk[..n]);
        f.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(hex(&hash.finalize()))
}

/// A local DC running on the caller's runtime until `stop` is sent.
struct LocalDc {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), crate::localdc::LocalDcError>>,
}

/// Starts the local DC code over `media` (3 DCs, free ports on 127.0.0.1, its RSA key in
/// `work`) and returns its DC config once every DC listens.
async fn start_local_dc(
    media: &Path,
    work: &Path,
    verbose: bool,
) -> Result<(DcConfig, LocalDc), String> {
    let opts = crate::localdc::Options {
        media: media.to_path_buf(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        dcs: DCS,
        write_config: None,
        rsa_key: Some(work.join("local-dc-rsa-key.pem")),
        password: None,
        faults: None,
        cdn: false,
        seed: 0,
        media_dcs: false,
        verbose,
        proxy_secret: None,
        stats_file: None,
        links: false,
        quiet: true,
    };
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stop = async {
            let _ = stop_rx.await;
        };
        crate::localdc::serve(&opts, stop, move |c| {
            let _ = ready_tx.send(c);
        })
        .await
    });
    match ready_rx.await {
        Ok(config) => Ok((config, LocalDc { stop, task })),
        // It ended before it was ready: its error says why.
        Err(_) => Err(match task.await {
            Ok(Err(e)) => format!("local DC: {e}"),
            Ok(Ok(())) => "local DC: stopped before it was ready".into(),
            Err(e) => format!("local DC: {e}"),
        }),
    }
}

/// A pool on the local network, its session file in `work`.
fn open_pool(config: &DcConfig, work: &Path, g: &Globals) -> Result<Pool, String> {
    let network = Network::of_dc_config(config).map_err(|e| e.to_string())?;
    let mut pc = PoolConfig::new(network, PLACEHOLDER_API_ID);
    pc.transport = transport_name(g.transport).to_string();
    pc.session_path = Some(work.join("session"));
    pc.connections_per_dc = crate::download::fetch::DEFAULT_CONNECTIONS;
    Pool::open(pc).map_err(|e| e.to_string())
}

/// `tgmux download`'s arguments, parsed as on its command line.
#[derive(Debug, Parser)]
struct DownloadLine {
    #[command(flatten)]
    args: download::Args,
}

/// Downloads one link into `dir` through the code of `tgmux download` (remuxed with `remux`).
async fn fetch(
    link: &str,
    remux: bool,
    dir: &Path,
    report: &Report,
    pool: &Pool,
    work: &Path,
) -> Result<Done, CliError> {
    let mut out = dir.as_os_str().to_owned();
    out.push("/");
    let mut line: Vec<std::ffi::OsString> = vec!["download".into(), link.into(), "-o".into(), out];
    if remux {
        line.push("--remux".into());
    }
    let args = DownloadLine::try_parse_from(line)
        .map_err(|e| CliError::new(format!("demo: {}", e.kind())))?
        .args;
    let targets = Targets::of(&args)?;
    let account = Account::over(pool.clone(), work.to_path_buf())?;
    let (mut done, failed) = download::download(&args, &targets, report, &account).await?;
    match (failed, done.pop()) {
        (0, Some(d)) => Ok(d),
        _ => Err(CliError::new(format!(
            "demo: downloading {link} failed (the line above says why)"
        ))),
    }
}

/// The packets in the built-in MKV and in the MP4 at `mp4`, each read by our own demuxer.
fn count_packets(mp4: &Path) -> Result<(u64, u64), String> {
    fn count(d: &mut dyn Demuxer) -> Result<u64, crate::remux::RemuxError> {
        let mut n = 0;
        while d.next_packet()?.is_some() {
            n += 1;
        }
        Ok(n)
    }
    let mut mkv = MkvDemuxer::open(std::io::Cursor::new(DEMO_MKV))
        .map_err(|e| format!("the built-in MKV: {e}"))?;
    let mkv = count(&mut mkv).map_err(|e| format!("the built-in MKV: {e}"))?;
    let what = |e: &dyn std::fmt::Display| format!("{}: {e}", mp4.display());
    let file = std::fs::File::open(mp4).map_err(|e| what(&e))?;
    let mut d = Mp4Demuxer::open(file).map_err(|e| what(&e))?;
    let mp4 = count(&mut d).map_err(|e| what(&e))?;
    Ok((mkv, mp4))
}

/// Binds the HTTP listener: `addr`, or a free port when the default port is taken.
async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), String> {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e)
            if e.kind() == std::io::ErrorKind::AddrInUse && addr.to_string() == DEFAULT_LISTEN =>
        {
            tokio::net::TcpListener::bind(SocketAddr::new(addr.ip(), 0))
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", addr.ip()))?
        }
        Err(e) => return Err(format!("cannot listen on {addr}: {e}")),
    };
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    Ok((listener, bound))
}

/// Where [`serve_documents`] reads from (the `source` of `--json`).
const SERVE_SOURCE: &str = "telegram";
/// What the serving line says of it.
const SERVE_NOTE: &str = "every byte through MTProto from the local DC, as `tgmux serve` does";

/// The serve step: `tgmux serve`'s Telegram source over the demo's logged-in pool, so what the
/// browser plays comes through resolution and ranged `upload.getFile` calls like any link.
async fn serve_documents(
    listener: tokio::net::TcpListener,
    pool: &Pool,
    work: &Path,
) -> Result<(), String> {
    use crate::serve::telegram::TelegramSource;
    use crate::serve::{Config, Metrics, Server};
    let account = Account::over(pool.clone(), work.to_path_buf()).map_err(|e| e.to_string())?;
    let metrics = Arc::new(Metrics::default());
    let source = TelegramSource::new(
        account.rpc,
        account.resolver,
        crate::download::Options::default(),
        metrics.clone(),
    );
    let server = Server::new(Config::default(), Arc::new(source), metrics);
    crate::serve::conn::run(server, listener, std::future::pending())
        .await
        .map_err(|e| e.to_string())
}
