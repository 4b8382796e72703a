//! The command line: global flags, one module per subcommand, one-line errors.
//!
//! Every subcommand module exposes an `Args` struct (clap derive) and
//! `run(&Args, &Globals) -> Result<(), CliError>`. `main` turns an error into a single
//! `tgmux: error: ...` line on stderr and its exit code.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod account;
mod album;
pub mod completions;
pub mod demo;
pub mod download;
pub mod local_dc;
pub mod login;
pub mod ping;
pub mod remux;
pub mod serve;
pub mod tl;

/// A failure to report to the user: one line, one exit code.
#[derive(Debug)]
pub struct CliError {
    /// The line printed after `tgmux: error: `.
    pub message: String,
    /// The process exit code (never 0).
    pub code: i32,
}

impl CliError {
    /// A failure with exit code 1.
    pub fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 1,
        }
    }

    /// A failure whose lines were already printed: exit code 1, nothing more said.
    pub fn reported() -> Self {
        CliError {
            message: String::new(),
            code: 1,
        }
    }

    /// A subcommand that a later piece of work fills in: exit code 2, no pretending.
    pub fn not_implemented(command: &str) -> Self {
        CliError {
            message: format!("{command}: not implemented yet"),
            code: 2,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// The MTProto transport framing to use on client connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    /// 1- or 4-byte length prefix, smallest overhead.
    Abridged,
    /// 4-byte length prefix.
    Intermediate,
    /// Intermediate with 0..15 random padding bytes per frame.
    Padded,
    /// Length, sequence number and CRC32 per frame.
    Full,
    /// Obfuscated2 (AES-256-CTR over padded intermediate); looks random on the wire.
    Obfuscated,
}

/// tgmux: download Telegram media at full speed over our own MTProto, remux MKV/MOV to MP4
/// in pure Rust, and stream it over HTTP.
#[derive(Debug, Parser)]
#[command(name = "tgmux", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,

    #[command(subcommand)]
    pub command: Command,
}

fn parse_limit_rate(text: &str) -> Result<u64, String> {
    crate::scale::rate::parse_rate(text).map_err(|e| e.to_string())
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct Globals {
    /// TOML config file (api_id, api_hash, defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Session file (auth keys per DC, home DC, salts); default in the XDG data dir.
    #[arg(long, global = true, value_name = "FILE")]
    pub session: Option<PathBuf>,

    /// DC addresses and RSA keys from a file written by `tgmux local-dc --write-config`.
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "test_dc")]
    pub dc_config: Option<PathBuf>,

    /// Use Telegram's test DCs and their RSA key.
    #[arg(long, global = true)]
    pub test_dc: bool,

    /// Machine-readable JSON output where a command prints results.
    #[arg(long, global = true)]
    pub json: bool,

    /// More logging (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Errors only.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Transport framing for client connections.
    #[arg(long, global = true, value_enum, default_value_t = TransportKind::Intermediate)]
    pub transport: TransportKind,

    /// Proxy for every connection: socks5://[user:pass@]host:port, http://[user:pass@]host:port
    /// (HTTP CONNECT), tg://socks?server=..&port=.., or an MTProxy link
    /// tg://proxy?server=..&port=..&secret=.. (or https://t.me/proxy?..; secrets: 16 bytes hex,
    /// or dd + 16 bytes; fake-TLS (ee) is not supported). Through an MTProxy every connection
    /// is obfuscated2, whatever --transport says. Also TGMUX_PROXY.
    #[arg(
        long,
        global = true,
        env = "TGMUX_PROXY",
        value_name = "URL",
        hide_env_values = true
    )]
    pub proxy: Option<String>,

    /// Global bandwidth cap for downloads, bytes per second: 500K, 20M, 1.5G (powers of 1024).
    #[arg(long, global = true, value_name = "RATE", value_parser = parse_limit_rate)]
    pub limit_rate: Option<u64>,
    /// Shared state (resolved links, flood deadlines): redis://HOST:PORT/DB for several
    /// instances, a file path for an embedded store, or `memory`; default: the file `store`
    /// next to the session file.
    #[arg(long, global = true, value_name = "URL")]
    pub store: Option<String>,

    /// Telegram api_id (or TGMUX_API_ID, or the config file).
    #[arg(long, global = true, env = "TGMUX_API_ID", value_name = "ID")]
    pub api_id: Option<i32>,

    /// Telegram api_hash (or TGMUX_API_HASH, or the config file).
    #[arg(
        long,
        global = true,
        env = "TGMUX_API_HASH",
        value_name = "HASH",
        hide_env_values = true
    )]
    pub api_hash: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in as a bot or a user and save the session.
    Login(login::Args),
    /// Log out and forget the session's authorization.
    Logout(login::LogoutArgs),
    /// Download media from t.me links (optionally remuxed to MP4).
    Download(download::Args),
    /// Stream Telegram media over HTTP.
    Serve(serve::Args),
    /// Remux MKV/WebM/MOV/MP4 inputs into one MP4 without re-encoding.
    Remux(remux::Args),
    /// Run our own multi-DC MTProto server over a media directory.
    #[command(name = "local-dc")]
    LocalDc(local_dc::Args),
    /// Start a local DC, download through it and remux: the whole pipeline on one machine.
    Demo(demo::Args),
    /// Connect to DCs, create an auth key if needed, and measure round trips.
    Ping(ping::Args),
    /// TL tools for protocol work: decode objects, list constructor ids.
    Tl(tl::Args),
    /// Print a shell completion script: bash, zsh or fish.
    Completions(completions::Args),
    /// Print the man page (roff): `tgmux man | man -l -`.
    Man(completions::ManArgs),
}

/// Parse the command line, run the subcommand, and return the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => 0,
        Err(e) => {
            // An empty message: the lines were printed already (one per failed link).
            if !e.message.is_empty() {
                eprintln!("tgmux: error: {e}");
            }
            e.code
        }
    }
}

/// Run a parsed command line.
pub fn run(cli: &Cli) -> Result<(), CliError> {
    let g = &cli.globals;
    match &cli.command {
        Command::Login(a) => login::run(a, g),
        Command::Logout(a) => login::logout(a, g),
        Command::Download(a) => download::run(a, g),
        Command::Serve(a) => serve::run(a, g),
        Command::Remux(a) => remux::run(a, g),
        Command::LocalDc(a) => local_dc::run(a, g),
        Command::Demo(a) => demo::run(a, g),
        Command::Ping(a) => ping::run(a, g),
        Command::Tl(a) => tl::run(a, g),
        Command::Completions(a) => completions::run(a, g),
        Command::Man(a) => completions::man(a, g),
    }
}
