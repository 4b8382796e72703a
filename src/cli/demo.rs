//! `tgmux demo`.

use super::{CliError, Globals};

/// Run the whole pipeline on this machine: local DC, download, remux.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, _g: &Globals) -> Result<(), CliError> {
    Err(CliError::not_implemented("demo"))
}
