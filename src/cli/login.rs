//! `tgmux login` and `tgmux logout`.

use super::{CliError, Globals};

/// Log in as a bot (`--bot-token`) or a user (`--phone`, or `--qr`).
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct Args {
    /// Bot token from @BotFather (`<digits>:<text>`).
    #[arg(long, value_name = "TOKEN")]
    pub bot_token: Option<String>,
    /// Phone number in international format; asks for the code (and the 2FA password).
    #[arg(long, value_name = "PHONE")]
    pub phone: Option<String>,
    /// Log in by scanning a QR code with a logged-in app.
    #[arg(long)]
    pub qr: bool,
}

/// Log out.
#[derive(Debug, clap::Args)]
pub struct LogoutArgs {}

pub fn run(_args: &Args, _g: &Globals) -> Result<(), CliError> {
    Err(CliError::not_implemented("login"))
}

pub fn logout(_args: &LogoutArgs, _g: &Globals) -> Result<(), CliError> {
    Err(CliError::not_implemented("logout"))
}
