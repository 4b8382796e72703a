//! `tgmux local-dc`.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{CliError, Globals};

/// Our own multi-DC MTProto server, serving DIR/<username>/<msg_id>.<ext> as public channels
/// (and private channels, albums, forum topics and comments: see docs/local-dc.md).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Media directory: DIR/<username>/<msg_id>.<ext>, DIR/+<name>/... (private),
    /// <chan>/<msg>/ (album), <chan>/topics/<topic>/<msg>.<ext>, <chan>/<msg>.comments/<id>.<ext>.
    #[arg(long, value_name = "DIR")]
    pub media: PathBuf,
    /// Address of DC 1; DC i listens on PORT+i-1 (port 0: every DC on a free port of its own,
    /// see --write-config).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:44301")]
    pub listen: SocketAddr,
    /// Number of DCs.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub dcs: u8,
    /// Write the DC addresses and RSA public key as TOML for `tgmux --dc-config`.
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// RSA private key file (PKCS#1 or PKCS#8 PEM), generated there if it does not exist
    /// [default: $XDG_DATA_HOME/tgmux/local-dc/rsa-key.pem, so restarts keep the key].
    #[arg(long, value_name = "FILE")]
    pub rsa_key: Option<PathBuf>,
    /// Require this 2FA password (SRP) for user logins.
    #[arg(long, value_name = "PW")]
    pub password: Option<String>,
    /// Faults: drop=P, stall=P, flood=P:S, premium-flood=P:S, salt=P, delay=MS, migrate,
    /// expire-refs=SECS, reupload=P, rate=R (getFile calls per second per account per DC)
    /// (comma-separated).
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// Run a CDN DC (id 201, on PORT+N, its own RSA key) and redirect documents over 1 MiB
    /// there (for getFile requests with cdn_supported).
    #[arg(long)]
    pub cdn: bool,
    /// Seed for deterministic faults.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Give every DC a second address, on a free port, announced by help.getConfig as
    /// media_only (not written to --write-config).
    #[arg(long)]
    pub media_dcs: bool,
    /// Act as an MTProxy too (for testing `--proxy`): obfuscated2 connections must use this
    /// secret (hex: 16 bytes, or dd + 16 bytes) and are served as the DC their init names.
    /// Other transports are accepted as before.
    #[arg(long, value_name = "HEX")]
    pub proxy_secret: Option<String>,
    /// Write request counters as JSON to FILE every second and at exit: requests per method,
    /// DC and account, upload.getFile parts and bytes per document.
    #[arg(long, value_name = "FILE")]
    pub stats_file: Option<PathBuf>,
    /// Print every link that reaches each served message (`<msg-key> <link>` per line) and
    /// exit.
    #[arg(long)]
    pub links: bool,
}

/// Runs the local DC until Ctrl-C.
pub fn run(args: &Args, g: &Globals) -> Result<(), CliError> {
    let opts = crate::localdc::Options {
        media: args.media.clone(),
        listen: args.listen,
        dcs: args.dcs,
        write_config: args.write_config.clone(),
        rsa_key: args.rsa_key.clone(),
        password: args.password.clone(),
        faults: args.faults.clone(),
        cdn: args.cdn,
        seed: args.seed,
        media_dcs: args.media_dcs,
        verbose: g.verbose > 0,
        proxy_secret: args.proxy_secret.clone(),
        stats_file: args.stats_file.clone(),
        links: args.links,
        quiet: false,
    };
    crate::localdc::run(&opts).map_err(|e| CliError::new(format!("local-dc: {e}")))
}
