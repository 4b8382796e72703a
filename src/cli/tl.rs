//! `tgmux tl`.

use super::{CliError, Globals};

/// TL tools for protocol work.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: TlCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TlCommand {
    /// Decode a boxed TL object given as hex (or `-` for raw bytes or hex on stdin).
    Decode {
        /// Hex string, or `-` to read stdin.
        #[arg(value_name = "HEX|-")]
        input: String,
    },
    /// List the constructor ids and names of the built-in layer.
    Ids,
}

pub fn run(_args: &Args, _g: &Globals) -> Result<(), CliError> {
    Err(CliError::not_implemented("tl"))
}
