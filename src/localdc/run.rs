//! Starting `tgmux local-dc`: check the flags, scan the media, load or make the RSA key, bind
//! every DC, write the DC config, serve until Ctrl-C.
//!
//! With `--cdn`, the CDN DC ([`CDN_DC_ID`]) listens right after the regular DCs, on PORT + N,
//! with an RSA key of its own generated at start (announced by `help.getCdnConfig`). The DC
//! config file keeps listing the regular DCs only: clients learn the CDN from
//! `help.getConfig` (its `dcOption` has the `cdn` flag) and `help.getCdnConfig`.

use std::net::SocketAddr;
use std::path::PathBuf;
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
    /// PEM private key to reuse.
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
}

fn load_key(opts: &Options) -> Result<RsaPrivateKey, LocalDcError> {
    match &opts.rsa_key {
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| LocalDcError::Other(format!("--rsa-key {}: {e}", path.display())))?;
            RsaPrivateKey::from_pkcs1_pem(&pem)
                .map_err(|e| LocalDcError::Other(format!("--rsa-key {}: {e}", path.display())))
        }
        None => RsaPrivateKey::generate(2048, &mut rand::rngs::OsRng)
            .map_err(|e| LocalDcError::Other(format!("RSA key generation failed: {e}"))),
    }
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

/// Runs the server until Ctrl-C.
pub fn run(opts: &Options) -> Result<(), LocalDcError> {
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
    let key = load_key(opts)?;
    let cdn_key = if opts.cdn {
        Some(
            RsaPrivateKey::generate(2048, &mut rand::rngs::OsRng)
                .map_err(|e| LocalDcError::Other(format!("CDN RSA key generation failed: {e}")))?,
        )
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| LocalDcError::Other(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let mut listeners = bind(opts.listen, opts.dcs).await?;
        let mut cdn_dc = None;
        if cdn_key.is_some() {
            let port = u16::try_from(u32::from(opts.listen.port()) + u32::from(opts.dcs))
                .map_err(|_| LocalDcError::Other("the CDN DC would need a port above 65535".into()))?;
            let (id, l) = bind_cdn(SocketAddr::new(opts.listen.ip(), port), CDN_DC_ID).await?;
            let addr = l
                .local_addr()
                .map_err(|e| LocalDcError::Other(e.to_string()))?;
            cdn_dc = Some(DcAddress {
                id,
                ip: addr.ip().to_string(),
                port: addr.port(),
                cdn: true,
                media_only: false,
            });
            listeners.push((id, l));
        }
        let mut dcs = Vec::new();
        for (id, l) in listeners.iter().filter(|(id, _)| *id != CDN_DC_ID) {
            let addr = l
                .local_addr()
                .map_err(|e| LocalDcError::Other(e.to_string()))?;
            dcs.push(DcAddress {
                id: *id,
                ip: addr.ip().to_string(),
                port: addr.port(),
                cdn: false,
                media_only: false,
            });
        }
        // The DC config file lists the regular addresses only; the media-only ones are
        // announced by help.getConfig alone.
        let config_dcs = dcs.clone();
        if opts.media_dcs {
            for d in config_dcs.iter() {
                let (id, l) = bind_media(SocketAddr::new(opts.listen.ip(), 0), d.id).await?;
                let addr = l
                    .local_addr()
                    .map_err(|e| LocalDcError::Other(e.to_string()))?;
                dcs.push(DcAddress {
                    id,
                    ip: addr.ip().to_string(),
                    port: addr.port(),
                    cdn: false,
                    media_only: true,
                });
                listeners.push((id, l));
            }
        }
        if let Some(path) = &opts.write_config {
            let config = DcConfig {
                rsa_public_keys: vec![key.public_key().to_pkcs1_pem()],
                dcs: config_dcs
                    .iter()
                    .map(|d| DcEntry {
                        id: d.id,
                        ip: d.ip.parse().expect("from a SocketAddr"),
                        port: d.port,
                    })
                    .collect(),
            };
            config.write(path).map_err(|e| {
                LocalDcError::Other(format!("--write-config {}: {e}", path.display()))
            })?;
        }
        eprintln!(
            "local-dc: {} documents in {} channels; DCs 1..={} on {}..{}",
            library.document_count(),
            library.channels().count(),
            opts.dcs,
            config_dcs[0].port,
            config_dcs[config_dcs.len() - 1].port
        );
        if let Some(c) = &cdn_dc {
            eprintln!(
                "local-dc: CDN DC {} on {} (documents over 1 MiB, for clients that set cdn_supported)",
                c.id, c.port
            );
        }
        let mut world = World::new(library, dcs, spec);
        let mut cdn_auth = None;
        if let (Some(c), Some(k)) = (cdn_dc, cdn_key) {
            world = world.with_cdn(c.clone(), k.public_key().to_pkcs1_pem());
            cdn_auth = Some((c.id, Arc::new(AuthConfig { keys: vec![k] })));
        }
        if let Some(pw) = &opts.password {
            world = world.with_password(PasswordSetup::new(pw, &mut rand::rngs::OsRng));
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
        let servers = Servers {
            listeners,
            shared,
            verbose: opts.verbose,
        };
        servers
            .run(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        eprintln!("local-dc: stopped");
        Ok(())
    })
}
