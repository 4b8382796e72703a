//! `tgmux ping`.

use super::{CliError, Globals};

/// Connect to the home DC (or `--dc N`, or `--dc all`), create an auth key if needed, call
/// help.getConfig and a few pings; one line per DC.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// DC id, or `all` for every DC of the config.
    #[arg(long, value_name = "N|all")]
    pub dc: Option<String>,
    /// Number of pings per DC.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub count: u32,
}

pub fn run(_args: &Args, _g: &Globals) -> Result<(), CliError> {
    Err(CliError::not_implemented("ping"))
}
