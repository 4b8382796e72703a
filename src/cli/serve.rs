//! `tgmux serve`.

use std::net::SocketAddr;

use super::{CliError, Globals};

/// Serve Telegram media over HTTP (`GET /<channel>/<msg_id>`), with range requests and remuxing.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Bearer token required from clients (mandatory unless bound to loopback).
    #[arg(
        long,
        env = "TGMUX_HTTP_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

pub fn run(_args: &Args, _g: &Globals) -> Result<(), CliError> {
    Err(CliError::not_implemented("serve"))
}
