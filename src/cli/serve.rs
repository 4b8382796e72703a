//! `tgmux serve`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{CliError, Globals};
use crate::download::Options;
use crate::serve::auth::{hex, Access};
use crate::serve::dir::DirSource;
use crate::serve::telegram::TelegramSource;
use crate::serve::{route, Config, Metrics, Server, Source};

/// Parts per stream by default: fewer than a download's 8, since many streams share the
/// memory (docs/serve.md has the measurement).
const DEFAULT_WINDOW: u32 = 4;

/// Serve Telegram media over HTTP (`GET /<username>/<msg>`), with range requests, remuxing
/// and a player page. Prints `listening on http://ADDR` once ready.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Bearer token required from clients (`Authorization: Bearer T` or `?token=T`).
    /// Listening beyond loopback needs this or --link-secret.
    #[arg(
        long,
        env = "TGMUX_HTTP_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Key for signed links `?exp=<unix>&sig=<hex>` (HMAC-SHA256 over path and expiry).
    #[arg(
        long,
        env = "TGMUX_LINK_SECRET",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub link_secret: Option<String>,
    /// Concurrent streams from Telegram; more get 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams: u32,
    /// FLOOD_WAITs up to this many seconds are waited out; longer ones answer 503 with
    /// Retry-After.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub max_flood_wait: u64,
    /// Parts (1 MiB) in flight or buffered per stream: with --max-streams, the memory bound.
    #[arg(long, value_name = "W", default_value_t = DEFAULT_WINDOW, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub window: u32,
    /// File connections per DC, shared by every stream.
    #[arg(long, value_name = "C", default_value_t = crate::download::fetch::DEFAULT_CONNECTIONS as u32, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub connections: u32,
    /// Seconds a client gets to send a request head (and to idle between requests).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Seconds a response write may wait for a client that stopped reading.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Print a signed link for PATH (e.g. /channel/12, which then covers all its routes)
    /// under --link-secret, and exit.
    #[arg(long, value_name = "PATH", requires = "link_secret")]
    pub sign: Option<String>,
    /// Lifetime of a link made with --sign, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 86_400)]
    pub link_ttl: u64,
    /// Test aid: serve DIR/<username>/<msg>.<ext> from disk instead of Telegram (the layout
    /// of `local-dc --media`).
    #[arg(long, value_name = "DIR", hide = true)]
    pub from_dir: Option<PathBuf>,
}

/// Runs the server until Ctrl-C (or prints a signed link).
pub fn run(args: &Args, g: &Globals) -> Result<(), CliError> {
    let err = |m: String| CliError::new(format!("serve: {m}"));
    if args.token.as_deref() == Some("") || args.link_secret.as_deref() == Some("") {
        return Err(err("--token and --link-secret must not be empty".into()));
    }
    let access = Access::new(
        args.token.as_deref(),
        args.link_secret.as_deref().map(str::as_bytes),
    );
    if let Some(path) = &args.sign {
        return sign(&access, path, args.link_ttl).map_err(err);
    }
    if access.is_open() && !args.listen.ip().is_loopback() {
        return Err(err(format!(
            "listening on {} (beyond loopback) needs --token or --link-secret",
            args.listen
        )));
    }
    let config = Config {
        access,
        max_streams: args.max_streams as usize,
        header_timeout: Duration::from_secs(args.header_timeout),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        flood_wait_limit: Duration::from_secs(args.max_flood_wait),
        ..Config::default()
    };
    let metrics = Arc::new(Metrics::default());
    if let Some(dir) = &args.from_dir {
        let source = Arc::new(DirSource::new(dir, metrics.clone()));
        return listen(args.listen, Server::new(config, source, metrics)).map_err(err);
    }
    let opts = Options {
        window: args.window as usize,
        connections: args.connections as usize,
        // Waits the server sits out are the window's pauses; longer ones are its 503s.
        max_flood_wait: config.flood_wait_limit,
        ..Options::default()
    };
    let account = super::account::open(g, opts.connections)?;
    let source = TelegramSource::new(account.rpc, account.resolver, opts, metrics.clone());
    let served = listen(args.listen, Server::new(config, Arc::new(source), metrics));
    // Keys and salts learned while serving are kept for the next run.
    let _ = account.pool.save();
    served.map_err(err)
}

fn sign(access: &Access, path: &str, ttl: u64) -> Result<(), String> {
    let (route, _) = route::parse(path, None)
        .map_err(|e| format!("--sign {path}: not a route of this server ({})", e.message))?;
    let doc = route
        .link()
        .map(|l| l.path())
        .ok_or_else(|| format!("--sign {path}: links are for documents"))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let exp = now.saturating_add(ttl);
    let sig = access
        .sign(&doc, exp)
        .expect("--sign requires --link-secret");
    println!("{path}?exp={exp}&sig={}", hex(&sig));
    Ok(())
}

fn listen<S: Source>(addr: SocketAddr, server: Arc<Server<S>>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening on http://{bound}");
        let _ = std::io::stdout().flush();
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        crate::serve::conn::run(server, listener, ctrl_c)
            .await
            .map_err(|e| format!("accepting connections: {e}"))
    })
}
