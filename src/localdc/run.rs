//! Starting `tgmux local-dc`: check the flags, scan the media, load or make the RSA key, bind
//! every DC, write the DC config, serve until Ctrl-C.
//!
//! With `--cdn`, the CDN DC ([`CDN_DC_ID`]) listens right after the regular DCs, on PORT + N,
//! with an RSA key of its own generated at start (announced by `help.getCdnConfig`). The DC
//! config file keeps listing the regular DCs only: clients learn the CDN from
//! `help.getConfig` (its `dcOption` has the `cdn` flag) and `help.getCdnConfig`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::crypto::RsaPrivateKey;
use crate::dcconfig::{DcConfig, DcEntry};

use super::cdn::CDN_DC_ID;
use super::conn::{KeyStore, Shared};
use super::error::LocalDcError;
use super::faults::FaultSpec;
use super::handler::{PasswordSetup, World};
use super::media::Library;
use super::objects::DcAddress;
use super::server::{bind, bind_cdn, bind_media, Servers};
use crate::mtproto::auth::server::ServerConfig as AuthConfig;
use crate::mtproto::session::SaltSchedule;
use crate::mtproto::transport::ProxySecret;
use tokio::net::TcpListener;

/// How often `--stats-file` is rewritten.
const STATS_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);
/// How long each server salt is current.
const SALT_PERIOD_SECS: i64 = 3600;

/// Most DCs one process runs.
pub(super) const MAX_DCS: u8 = 16;

/// Everything `tgmux local-dc` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Media directory.
    pub media: PathBuf,
    /// Address of DC 1.
    pub listen: SocketAddr,
    /// Number of DCs.
    pub dcs: u8,
    /// Where to write the DC config.
    pub write_config: Option<PathBuf>,
    /// The RSA private key file (PKCS#1 or PKCS#8 PEM), made there if missing; `None`: the
    /// default file in the data directory.
    pub rsa_key: Option<PathBuf>,
    /// 2FA password for user logins.
    pub password: Option<String>,
    /// Fault spec text.
    pub faults: Option<String>,
    /// Redirect large documents to a CDN DC.
    pub cdn: bool,
    /// Fault seed.
    pub seed: u64,
    /// Give every regular DC a second, media-only address (an OS-chosen port).
    pub media_dcs: bool,
    /// Log connections and RPC errors.
    pub verbose: bool,
    /// MTProxy secret (hex, 16 bytes or dd + 16) every listener requires of obfuscated2.
    pub proxy_secret: Option<String>,
    /// Where to write the request counters as JSON, every second and at exit.
    pub stats_file: Option<PathBuf>,
    /// Print every link that reaches each message and exit instead of serving.
    pub links: bool,
    /// Print warnings only (no start-up banner, no "stopped" line).
    pub quiet: bool,
}

/// Where the RSA key is kept without `--rsa-key`: `$XDG_DATA_HOME/tgmux/local-dc/rsa-key.pem`,
/// else `~/.local/share/tgmux/local-dc/rsa-key.pem`; `None` when neither variable is an
/// absolute path.
fn default_key_path() -> Option<PathBuf> {
    let absolute = |v: &str| {
        std::env::var_os(v)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let data =
        absolute("XDG_DATA_HOME").or_else(|| absolute("HOME").map(|h| h.join(".local/share")));
    data.map(|d| d.join("tgmux/local-dc/rsa-key.pem"))
}

/// Whether the key was read or made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyOrigin {
    /// Read from its file.
    Kept,
    /// Generated now and saved for the next start.
    New,
    /// Generated now and kept nowhere (no data directory).
    Ephemeral,
}

/// The RSA key of the regular DCs: `--rsa-key FILE` or the default file, read when it exists
/// (PKCS#1 or PKCS#8 PEM), otherwise generated and saved there (0600), so a restarted
/// local-dc is the same network for its clients.
fn load_key(opts: &Options) -> Result<(RsaPrivateKey, Option<PathBuf>, KeyOrigin), LocalDcError> {
    let generate = || {
        RsaPrivateKey::generate(2048, &mut rand::rngs::OsRng)
            .map_err(|e| LocalDcError::Other(format!("RSA key generation failed: {e}")))
    };
    let Some(path) = opts.rsa_key.clone().or_else(default_key_path) else {
        return Ok((generate()?, None, KeyOrigin::Ephemeral));
    };
    let flag = if opts.rsa_key.is_some() {
        "--rsa-key "
    } else {
        "RSA key "
    };
    let fail =
        |e: &dyn std::fmt::Display| LocalDcError::Other(format!("{flag}{}: {e}", path.display()));
    let read = || -> Result<RsaPrivateKey, LocalDcError> {
        let pem = std::fs::read_to_string(&path).map_err(|e| fail(&e))?;
        RsaPrivateKey::from_pem(&pem).map_err(|e| fail(&e))
    };
    if path.exists() {
        return Ok((read()?, Some(path), KeyOrigin::Kept));
    }
    let key = generate()?;
    match save_new(&path, &key.to_pkcs1_pem()) {
        Ok(()) => Ok((key, Some(path), KeyOrigin::New)),
        // Another local-dc made it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok((read()?, Some(path), KeyOrigin::Kept))
        }
        Err(e) => Err(fail(&format!("cannot save the new key: {e}"))),
    }
}

/// Writes `pem` to `path` (mode 0600, parent directories made) unless `path` exists, never
/// leaving a partial file there: the key goes to a temporary file first and is linked into
/// place, which fails with `AlreadyExists` if another process got there first.
fn save_new(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(pem.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    written
}

/// `--proxy-secret HEX`: 16 bytes, or dd + 16 bytes.
fn parse_proxy_secret(hex: &str) -> Result<ProxySecret, LocalDcError> {
    let bad = |why: &str| LocalDcError::Other(format!("--proxy-secret: {why}"));
    if hex.len() % 2 != 0 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad("expected hex digits"));
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect();
    ProxySecret::parse(&bytes).map_err(|e| bad(&e.to_string()))
}

/// `DCs 1..=3 on 127.0.0.1 ports 4430..=4432` when the ports follow each other, else every
/// port: `DCs 1..=3 on 127.0.0.1 ports 40211, 33157, 38821`; `DC 1 on 127.0.0.1 port 4430`.
fn describe_dcs(dcs: &[DcAddress]) -> String {
    let (Some(first), Some(last)) = (dcs.first(), dcs.last()) else {
        return "no DCs".into();
    };
    let consecutive = dcs
        .windows(2)
        .all(|w| u32::from(w[1].port) == u32::from(w[0].port) + 1);
    let ports = if consecutive && dcs.len() > 1 {
        format!("{}..={}", first.port, last.port)
    } else {
        let all: Vec<String> = dcs.iter().map(|d| d.port.to_string()).collect();
        all.join(", ")
    };
    let word = if dcs.len() > 1 { "ports" } else { "port" };
    format!(
        "DCs {}..={} on {} {word} {ports}",
        first.id, last.id, first.ip
    )
}

/// The start-up lines on stderr, the summary last (once it is printed, every DC listens and the
/// DC config is written).
fn print_banner(
    library: &Library,
    dcs: &[DcAddress],
    cdn: Option<&DcAddress>,
    key_path: Option<&Path>,
    key_origin: KeyOrigin,
) {
    match (key_path, key_origin) {
        (Some(p), KeyOrigin::Kept) => eprintln!("local-dc: RSA key {}", p.display()),
        (Some(p), _) => eprintln!(
            "local-dc: RSA key {} (new, kept for the next start)",
            p.display()
        ),
        (None, _) => eprintln!(
            "local-dc: RSA key new and not kept (neither XDG_DATA_HOME nor HOME is set; \
             choose a file with --rsa-key)"
        ),
    }
    if let Some(c) = cdn {
        eprintln!(
            "local-dc: CDN DC {} on {} (documents over 1 MiB, for clients that set \
             cdn_supported)",
            c.id, c.port
        );
    }
    eprintln!(
        "local-dc: {} documents in {} channels; {}",
        library.document_count(),
        library.channels().count(),
        describe_dcs(dcs)
    );
}

/// One warning line per media entry not served.
fn warn_skipped(library: &Library) {
    for s in library.skipped() {
        eprintln!(
            "local-dc: warning: not served: {}: {}",
            s.path.display(),
            s.rule
        );
    }
}

/// What the flags give before anything is bound: the fault spec, the MTProxy secret and the
/// scanned library.
fn prepare(opts: &Options) -> Result<(FaultSpec, Option<ProxySecret>, Library), LocalDcError> {
    if opts.dcs == 0 || opts.dcs > MAX_DCS {
        return Err(LocalDcError::Other(format!(
            "--dcs must be 1..={MAX_DCS}, not {}",
            opts.dcs
        )));
    }
    let spec = FaultSpec::parse(opts.faults.as_deref().unwrap_or(""))
        .map_err(|e| LocalDcError::Faults(e.0))?;
    let proxy_secret = opts
        .proxy_secret
        .as_deref()
        .map(parse_proxy_secret)
        .transpose()?;
    let library = Library::scan(&opts.media, opts.dcs)?;
    Ok((spec, proxy_secret, library))
}

/// Runs the server until Ctrl-C.
pub fn run(opts: &Options) -> Result<(), LocalDcError> {
    if opts.links {
        let (_, _, library) = prepare(opts)?;
        warn_skipped(&library);
        let mut out = String::new();
        for (key, link) in super::links::links(&library) {
            out.push_str(&format!("{key} {link}\n"));
        }
        use std::io::Write;
        return std::io::stdout()
            .write_all(out.as_bytes())
            .map_err(|e| LocalDcError::Other(format!("--links: stdout: {e}")));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| LocalDcError::Other(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(serve(opts, stop_signal(), |_| {}))
}

/// Serves until `stop` resolves, on the caller's runtime (`tgmux demo` runs one in-process
/// this way). `ready` gets the regular DCs' addresses and RSA public key (what
/// `--write-config` writes) once every DC listens. With `quiet`, nothing is printed but
/// warnings.
pub async fn serve(
    opts: &Options,
    stop: impl std::future::Future<Output = ()>,
    ready: impl FnOnce(DcConfig),
) -> Result<(), LocalDcError> {
    let (spec, proxy_secret, library) = prepare(opts)?;
    let (key, key_path, key_origin) = load_key(opts)?;
    warn_skipped(&library);
    let cdn_key = if opts.cdn {
        Some(
            RsaPrivateKey::generate(2048, &mut rand::rngs::OsRng)
                .map_err(|e| LocalDcError::Other(format!("CDN RSA key generation failed: {e}")))?,
        )
    } else {
        None
    };
    let bound = bind_all(opts).await?;
    let mut world = World::new(library, bound.dcs, spec);
    let mut cdn_auth = None;
    if let (Some(c), Some(k)) = (bound.cdn.clone(), cdn_key) {
        world = world.with_cdn(c.clone(), k.public_key().to_pkcs1_pem());
        cdn_auth = Some((c.id, Arc::new(AuthConfig { keys: vec![k] })));
    }
    if let Some(pw) = &opts.password {
        world = world.with_password(PasswordSetup::new(pw, &mut rand::rngs::OsRng));
    }
    if let Some(path) = &opts.stats_file {
        write_stats(&world, path)?;
    }
    let config = dc_config(&key, &bound.config_dcs);
    if let Some(path) = &opts.write_config {
        config
            .write(path)
            .map_err(|e| LocalDcError::Other(format!("--write-config {}: {e}", path.display())))?;
    }
    if !opts.quiet {
        print_banner(
            &world.library,
            &bound.config_dcs,
            bound.cdn.as_ref(),
            key_path.as_deref(),
            key_origin,
        );
    }
    let world = Arc::new(world);
    let shared = Arc::new(Shared {
        world,
        auth: Arc::new(AuthConfig { keys: vec![key] }),
        cdn_auth,
        keys: KeyStore::default(),
        salts: SaltSchedule::new(SALT_PERIOD_SECS, rand::random()),
        seed: opts.seed,
        proxy_secret,
    });
    let world = shared.world.clone();
    let servers = Servers {
        listeners: bound.listeners,
        shared,
        verbose: opts.verbose,
    };
    let stats = async {
        let Some(path) = &opts.stats_file else {
            return std::future::pending().await;
        };
        let mut tick = tokio::time::interval(STATS_PERIOD);
        let mut warned = false;
        loop {
            tick.tick().await;
            if let (Err(e), false) = (write_stats(&world, path), warned) {
                eprintln!("local-dc: warning: {e} (will keep trying)");
                warned = true;
            }
        }
    };
    ready(config);
    servers
        .run(async {
            tokio::select! {
                () = stop => {}
                () = stats => {}
            }
        })
        .await;
    if let Some(path) = &opts.stats_file {
        write_stats(&world, path)?;
    }
    if !opts.quiet {
        eprintln!("local-dc: stopped");
    }
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Every listener and the addresses they give.
struct Bound {
    /// (DC id, listener): the regular DCs, the CDN DC, the media-only addresses.
    listeners: Vec<(i32, TcpListener)>,
    /// Every address `help.getConfig` announces (the CDN DC is added by [`World::with_cdn`]).
    dcs: Vec<DcAddress>,
    /// The regular addresses, for the DC config file.
    config_dcs: Vec<DcAddress>,
    /// The CDN DC, with `--cdn`.
    cdn: Option<DcAddress>,
}

fn address(
    id: i32,
    l: &TcpListener,
    cdn: bool,
    media_only: bool,
) -> Result<DcAddress, LocalDcError> {
    let addr = l
        .local_addr()
        .map_err(|e| LocalDcError::Other(e.to_string()))?;
    Ok(DcAddress {
        id,
        ip: addr.ip().to_string(),
        port: addr.port(),
        cdn,
        media_only,
    })
}

/// Binds the regular DCs on `--listen`, then the CDN DC on PORT + N (or a free port with port
/// 0), then with `--media-dcs` a media-only address per DC on a free port.
async fn bind_all(opts: &Options) -> Result<Bound, LocalDcError> {
    let mut listeners = bind(opts.listen, opts.dcs).await?;
    let mut dcs = Vec::new();
    for (id, l) in &listeners {
        dcs.push(address(*id, l, false, false)?);
    }
    let config_dcs = dcs.clone();
    let mut cdn = None;
    if opts.cdn {
        let port = match opts.listen.port() {
            0 => 0,
            base => u16::try_from(u32::from(base) + u32::from(opts.dcs)).map_err(|_| {
                LocalDcError::Other("the CDN DC would need a port above 65535".into())
            })?,
        };
        let (id, l) = bind_cdn(SocketAddr::new(opts.listen.ip(), port), CDN_DC_ID).await?;
        cdn = Some(address(id, &l, true, false)?);
        listeners.push((id, l));
    }
    // The DC config file lists the regular addresses only; the media-only ones are announced
    // by help.getConfig alone.
    if opts.media_dcs {
        for d in &config_dcs {
            let (id, l) = bind_media(SocketAddr::new(opts.listen.ip(), 0), d.id).await?;
            dcs.push(address(id, &l, false, true)?);
            listeners.push((id, l));
        }
    }
    Ok(Bound {
        listeners,
        dcs,
        config_dcs,
        cdn,
    })
}

/// The DC addresses and the RSA public key: what `--write-config` writes as TOML.
fn dc_config(key: &RsaPrivateKey, dcs: &[DcAddress]) -> DcConfig {
    DcConfig {
        rsa_public_keys: vec![key.public_key().to_pkcs1_pem()],
        dcs: dcs
            .iter()
            .map(|d| DcEntry {
                id: d.id,
                ip: d.ip.parse().expect("from a SocketAddr"),
                port: d.port,
            })
            .collect(),
    }
}

/// `--stats-file`: the counters as JSON, through a temporary file renamed over `path`.
fn write_stats(world: &World, path: &Path) -> Result<(), LocalDcError> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, world.stats().to_json(now_ms))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| LocalDcError::Other(format!("--stats-file {}: {e}", path.display())))
}
