//! `tgmux remux`.

use std::path::PathBuf;

use super::{CliError, Globals};
use crate::remux::pipeline::{remux_files, Output, RemuxOptions};
use crate::remux::{FileNeed, RemuxError};

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

/// Run `tgmux remux`: warnings go to stderr as `tgmux: warning: ...` lines.
pub fn run(args: &Args, _g: &Globals) -> Result<(), CliError> {
    if let Some(d) = args.fragment_duration {
        if !(d.is_finite() && d > 0.0) {
            return Err(CliError::new(
                "remux: --fragment-duration must be a positive number of seconds",
            ));
        }
    }
    let output = if args.output.as_os_str() == "-" {
        if !args.fragmented {
            return Err(CliError::new(
                "remux: writing to stdout needs --fragmented (faststart output must be a file)",
            ));
        }
        Output::Stdout
    } else {
        Output::File(args.output.clone())
    };
    let opts = RemuxOptions {
        fragmented: args.fragmented,
        fragment_duration: args.fragment_duration,
        hev1: args.hev1,
        copy_min: None,
    };
    // The library leaves an existing output as it was when it fails (it writes a temporary
    // file and moves it over the output at the end).
    let mut warn = |w: &str| eprintln!("tgmux: warning: {w}");
    remux_files(&args.inputs, &output, &opts, &mut warn)
        .map_err(|e| CliError::new(format!("remux: {e}{}", advice(&e))))
}

/// What the user can do about `e`, when the command line offers a way.
fn advice(e: &RemuxError) -> &'static str {
    match e {
        RemuxError::NeedsFile {
            why: FileNeed::ReadTwice,
            ..
        } => "; use --fragmented, which reads it once",
        RemuxError::NeedsFile {
            why: FileNeed::Mp4Index,
            ..
        } => "; save it to a file first",
        RemuxError::OutputIsInput { .. } => "; write to another file",
        _ => "",
    }
}
