//! `tgmux ping`: connect to DCs, make an auth key if needed, measure round trips.
//!
//! One line per DC (or one JSON object with `--json`):
//!
//! ```text
//! DC 1  127.0.0.1:44301  intermediate  key: new 41.2 ms  rtt: 0.183 ms (median of 5)
//! ```

use std::path::Path;
use std::time::Duration;

use super::{CliError, Globals, TransportKind};
use crate::config::{network_from_globals, proxy_from_globals, DcAddr, FileConfig, Network, Proxy};
use crate::crypto::{AuthKey, RsaPublicKey};
use crate::net::session_file::{self, SessionData};
use crate::net::{connect, ConnectOptions, Connected, InvokeError};

/// The api_id sent in `initConnection` when none is configured: help.getConfig and pings need
/// no login, so any id is accepted for them.
pub const PLACEHOLDER_API_ID: i32 = 1;

/// Connect to the home DC (or `--dc N`, or `--dc all`), create an auth key if the session has
/// none, call invokeWithLayer(initConnection(help.getConfig)) and a few pings; one line per
/// DC. Needs no login and no api_hash: without --api-id/TGMUX_API_ID/config, a placeholder
/// api_id is sent.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// DC id, or `all` for every DC of the config.
    #[arg(long, value_name = "N|all")]
    pub dc: Option<String>,
    /// Number of pings per DC.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
    /// Seconds allowed for the TCP connect and for each answer.
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// The `--transport` value as the transport layer names it.
pub fn transport_name(t: TransportKind) -> &'static str {
    match t {
        TransportKind::Abridged => "abridged",
        TransportKind::Intermediate => "intermediate",
        TransportKind::Padded => "padded",
        TransportKind::Full => "full",
        TransportKind::Obfuscated => "obfuscated",
    }
}

/// The DCs `--dc` selects.
pub fn select_dcs(network: &Network, dc: Option<&str>) -> Result<Vec<DcAddr>, CliError> {
    match dc {
        None => network
            .dcs
            .iter()
            .find(|d| d.id == network.home)
            .map(|d| vec![*d])
            .ok_or_else(|| CliError::new(format!("home DC {} has no address", network.home))),
        Some("all") => Ok(network.dcs.clone()),
        Some(n) => {
            let id: i32 = n.parse().map_err(|_| {
                CliError::new(format!("--dc: expected a DC id or `all`, not `{n}`"))
            })?;
            network
                .dcs
                .iter()
                .find(|d| d.id == id)
                .map(|d| vec![*d])
                .ok_or_else(|| {
                    let known: Vec<String> = network.dcs.iter().map(|d| d.id.to_string()).collect();
                    CliError::new(format!(
                        "--dc {id}: no such DC (known: {})",
                        known.join(", ")
                    ))
                })
        }
    }
}

/// The api_id for initConnection: flag/env, else the `--config` file, else the placeholder.
fn api_id(g: &Globals) -> Result<i32, CliError> {
    if let Some(id) = g.api_id {
        return Ok(id);
    }
    if let Some(path) = &g.config {
        let file = FileConfig::read(path).map_err(|e| CliError::new(e.to_string()))?;
        if let Some(id) = file.api_id {
            return Ok(id);
        }
    }
    Ok(PLACEHOLDER_API_ID)
}

fn load_session(path: &Path, network: &Network) -> Result<SessionData, CliError> {
    match session_file::load(path).map_err(|e| CliError::new(e.to_string()))? {
        None => Ok(SessionData::new(network.name.clone(), network.home)),
        Some(s) if s.network != network.name => Err(CliError::new(format!(
            "session file {} belongs to network `{}`, not `{}`; use another --session",
            path.display(),
            s.network,
            network.name
        ))),
        Some(s) => Ok(s),
    }
}

/// One DC's result.
struct Line {
    dc: DcAddr,
    transport: String,
    key_exchange: Option<Duration>,
    rtts: Vec<Duration>,
    this_dc: i32,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median of a non-empty list (the lower middle for even lengths).
fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort_unstable();
    v[(v.len() - 1) / 2]
}

impl Line {
    fn text(&self) -> String {
        let key = match self.key_exchange {
            Some(d) => format!("key: new {:.1} ms", ms(d)),
            None => "key: reused".to_string(),
        };
        format!(
            "DC {}  {}  {}  {}  rtt: {:.3} ms (median of {})",
            self.dc.id,
            self.dc.addr,
            self.transport,
            key,
            ms(median(&self.rtts)),
            self.rtts.len()
        )
    }

    fn json(&self) -> String {
        let (key, kx) = match self.key_exchange {
            Some(d) => ("new", format!("{:.3}", ms(d))),
            None => ("reused", "null".to_string()),
        };
        let rtts: Vec<String> = self.rtts.iter().map(|d| format!("{:.3}", ms(*d))).collect();
        // Every string here is an address, a number or a fixed name: nothing to escape.
        format!(
            "{{\"dc\":{},\"addr\":\"{}\",\"transport\":\"{}\",\"key\":\"{}\",\"key_exchange_ms\":{},\"rtt_median_ms\":{:.3},\"rtt_ms\":[{}],\"this_dc\":{}}}",
            self.dc.id,
            self.dc.addr,
            self.transport,
            key,
            kx,
            ms(median(&self.rtts)),
            rtts.join(","),
            self.this_dc
        )
    }
}

/// Connects with the session's key for this DC; a key the server does not know (-404) is
/// replaced by a new one.
async fn connect_dc(
    opts: &mut ConnectOptions,
    session: &SessionData,
) -> Result<Connected, InvokeError> {
    if let Some(state) = session.dc(opts.dc_id) {
        if let Some(key) = state.auth_key {
            opts.auth_key = Some(AuthKey::from_bytes(key));
            opts.server_salt = state.server_salt;
            opts.time_offset = session.time_offset;
            match connect(opts).await {
                Err(e) if e.is_auth_key_unknown() => {}
                other => return other,
            }
            opts.auth_key = None;
            opts.server_salt = 0;
        }
    }
    connect(opts).await
}

pub fn run(args: &Args, g: &Globals) -> Result<(), CliError> {
    let proxy = proxy_from_globals(g).map_err(|e| CliError::new(e.to_string()))?;
    let network = network_from_globals(g).map_err(|e| CliError::new(e.to_string()))?;
    let keys = network
        .rsa_keys
        .iter()
        .map(|pem| RsaPublicKey::from_pkcs1_pem(pem))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::new(format!("RSA public key of the DC config: {e}")))?;
    let dcs = select_dcs(&network, args.dc.as_deref())?;
    let api_id = api_id(g)?;
    let mut session = match &g.session {
        Some(path) => Some(load_session(path, &network)?),
        None => None,
    };
    let transport = transport_name(g.transport);
    let timeout = Duration::from_secs(args.timeout);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        for dc in dcs {
            let mut opts = ConnectOptions::new(dc.id, dc.addr, keys.clone(), api_id);
            opts.test = network.test;
            opts.transport = transport.to_string();
            opts.timeout = timeout;
            opts.proxy = proxy.clone();
            let via = match &proxy {
                Some(p) => format!("{} via {p}", dc.addr),
                None => dc.addr.to_string(),
            };
            let empty = SessionData::new(network.name.clone(), network.home);
            let connected = connect_dc(&mut opts, session.as_ref().unwrap_or(&empty))
                .await
                .map_err(|e| {
                    let hint = match (&proxy, &e) {
                        (Some(Proxy::Mt(_)), InvokeError::Closed | InvokeError::Timeout) => {
                            " (wrong proxy secret, or the proxy cannot reach this DC?)"
                        }
                        _ => "",
                    };
                    CliError::new(format!("DC {} ({via}): {e}{hint}", dc.id))
                })?;
            let mut rtts = Vec::with_capacity(args.count as usize);
            for _ in 0..args.count {
                let rtt = connected
                    .client
                    .ping()
                    .await
                    .map_err(|e| CliError::new(format!("DC {} ({via}): ping: {e}", dc.id)))?;
                rtts.push(rtt);
            }
            let crate::tl::enums::Config::Config(config) = &connected.config;
            let line = Line {
                dc,
                transport: connected.transport.clone(),
                key_exchange: connected.key_exchange,
                rtts,
                this_dc: config.this_dc,
            };
            if let (Some(path), Some(s)) = (&g.session, session.as_mut()) {
                let state = s.dc_mut(dc.id);
                state.auth_key = Some(*connected.auth_key.as_bytes());
                state.server_salt = connected.client.server_salt();
                if connected.key_exchange.is_some() {
                    state.authorized = false;
                }
                s.time_offset = connected.client.time_offset();
                session_file::save(path, s).map_err(|e| CliError::new(e.to_string()))?;
            }
            if g.json {
                println!("{}", line.json());
            } else if !g.quiet {
                println!("{}", line.text());
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> crate::cli::Cli {
        let mut v = vec!["tgmux"];
        v.extend_from_slice(args);
        crate::cli::Cli::try_parse_from(v).unwrap()
    }

    #[test]
    fn test_dc_selection() {
        let cli = parse(&["--test-dc", "ping", "--dc", "all", "--transport", "full"]);
        assert_eq!(cli.globals.transport, TransportKind::Full);
        let n = network_from_globals(&cli.globals).unwrap();
        assert!(n.test);
        let crate::cli::Command::Ping(a) = &cli.command else {
            panic!()
        };
        let dcs = select_dcs(&n, a.dc.as_deref()).unwrap();
        assert_eq!(dcs.len(), 3);
        assert_eq!(dcs[0].addr.to_string(), "149.154.175.10:443");
        let home = select_dcs(&n, None).unwrap();
        assert_eq!(
            (home[0].id, home[0].addr.to_string().as_str()),
            (2, "149.154.167.40:443")
        );
        assert_eq!(
            RsaPublicKey::from_pkcs1_pem(&n.rsa_keys[0])
                .unwrap()
                .fingerprint(),
            0xb25898df208d2603
        );
        assert!(select_dcs(&n, Some("4"))
            .unwrap_err()
            .message
            .contains("no such DC"));
        assert!(select_dcs(&n, Some("x")).is_err());
        // Production is the default, with its own key.
        let p = network_from_globals(&parse(&["ping"]).globals).unwrap();
        assert!(!p.test);
        assert_eq!(
            RsaPublicKey::from_pkcs1_pem(&p.rsa_keys[0])
                .unwrap()
                .fingerprint(),
            0xd09d1d85de64fd85
        );
        assert!(crate::cli::Cli::try_parse_from(["tgmux", "ping", "--count", "0"]).is_err());
    }

    #[test]
    fn lines() {
        let l = Line {
            dc: DcAddr {
                id: 2,
                addr: "127.0.0.1:5".parse().unwrap(),
            },
            transport: "full".into(),
            key_exchange: None,
            rtts: vec![
                Duration::from_millis(3),
                Duration::from_millis(1),
                Duration::from_millis(2),
            ],
            this_dc: 2,
        };
        assert_eq!(
            l.text(),
            "DC 2  127.0.0.1:5  full  key: reused  rtt: 2.000 ms (median of 3)"
        );
        assert!(
            l.json().contains("\"key_exchange_ms\":null"),
            "{}",
            l.json()
        );
        assert!(
            l.json().contains("\"rtt_ms\":[3.000,1.000,2.000]"),
            "{}",
            l.json()
        );
    }
}
