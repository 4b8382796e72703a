//! `tgmux download`.

use std::path::PathBuf;

use super::{CliError, Globals};

/// Download the media of t.me message links.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Message links, e.g. https://t.me/channel/123 or t.me/c/1234567/89.
    #[arg(required = true, value_name = "LINK")]
    pub links: Vec<String>,
    /// Output directory or file (`-` for stdout with one link).
    #[arg(short, long, value_name = "PATH", default_value = ".")]
    pub output: PathBuf,
    /// Connections per DC used for one file.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub connections: usize,
    /// Parts in flight per file (sliding window).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub window: usize,
    /// Remux MKV/MOV to MP4 while downloading.
    #[arg(long)]
    pub remux: bool,
    /// With --remux: fragmented MP4 instead of faststart.
    #[arg(long, requires = "remux")]
    pub fragmented: bool,
}

pub fn run(_args: &Args, _g: &Globals) -> Result<(), CliError> {
    Err(CliError::not_implemented("download"))
}
