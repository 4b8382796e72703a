//! `tgmux remux`.

use std::path::PathBuf;

use super::{CliError, Globals};

/// Remux MKV/WebM/MOV/MP4 inputs into one MP4, copying every packet.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input files, merged into one MP4 (e.g. a video-only MKV and an audio-only M4A).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output file; `-` writes to stdout (fragmented only).
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: PathBuf,
    /// Fragmented MP4 (moof+mdat per keyframe interval) instead of faststart.
    #[arg(long)]
    pub fragmented: bool,
    /// Target fragment duration in seconds (fragments still start at keyframes).
    #[arg(long, value_name = "SECS", requires = "fragmented")]
    pub fragment_duration: Option<f64>,
    /// Write HEVC as hev1 instead of hvc1.
    #[arg(long)]
    pub hev1: bool,
}

pub fn run(_args: &Args, _g: &Globals) -> Result<(), CliError> {
    Err(CliError::not_implemented("remux"))
}
