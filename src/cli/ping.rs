//! `tgmux ping`: connect to DCs, make an auth key if needed, measure round trips.
//!
//! One line per DC (or one JSON object with `--json`):
//!
//! ```text
//! DC 1  127.0.0.1:44301  intermediate  key: new 41.2 ms  rtt: 0.183 ms (median of 5)
//! ```
//!
//! A DC that fails gets its error line (`tgmux: error: DC 2 (addr): ...` on stderr, or
//! `{"dc":2,"addr":"..","error":".."}` with `--json`) and the others are still tried; the exit
//! code is then 1. `key:` is `new`, `reused`, or `temporary` (the DC answered -404 to the
//! session's logged-in key, which is kept: see `net::saved_key`). The key is saved as soon as
//! the connection is up; Ctrl-C prints the pings so far and exits with 130.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{CliError, Globals, TransportKind};
use crate::config::{network_from_globals, proxy_from_globals, DcAddr, FileConfig, Network, Proxy};
use crate::crypto::{AuthKey, RsaPublicKey};
use crate::net::session_file::{self, SessionData, SessionFileError};
use crate::net::{connect_saved, ConnectOptions, InvokeError, KeyUse, SavedKey};

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
    /// Benchmark aid: instead of pings, time `upload.getFile` of the 1 MiB part in the middle
    /// of LINK's document on one warm file connection (needs a login), --count times.
    #[arg(long, value_name = "LINK", hide = true)]
    pub file: Option<String>,
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

/// The advice the CLI adds to a session file of another network.
pub const OTHER_NETWORK_HINT: &str =
    "delete the file to start a new session there, or use another --session";

/// A session file error as the CLI says it (with what to do about another network's file).
pub fn session_file_error(e: &SessionFileError) -> CliError {
    match e {
        SessionFileError::OtherNetwork { .. } => {
            CliError::new(format!("{e}; {OTHER_NETWORK_HINT}"))
        }
        _ => CliError::new(e.to_string()),
    }
}

/// [`session_file_error`] for an error of the pool.
pub fn invoke_error(e: &InvokeError) -> CliError {
    match e {
        InvokeError::SessionFile(f) => session_file_error(f),
        _ => CliError::new(e.to_string()),
    }
}

fn load_session(path: &Path, network: &Network) -> Result<SessionData, CliError> {
    match session_file::load(path).map_err(|e| session_file_error(&e))? {
        None => Ok(SessionData::new(network.name.clone(), network.home)),
        Some(s) if s.network != network.name => {
            Err(session_file_error(&SessionFileError::OtherNetwork {
                path: path.to_owned(),
                found: s.network,
                expected: network.name.clone(),
            }))
        }
        Some(s) => Ok(s),
    }
}

/// The session path `--session` names, else the default one every command uses (`None`
/// when there is no default: no HOME nor XDG_DATA_HOME; ping then keeps its keys in memory).
fn session_path(g: &Globals) -> Option<PathBuf> {
    g.session
        .clone()
        .or_else(|| session_file::default_path().ok())
}

/// One DC's result.
struct Line {
    dc: DcAddr,
    transport: String,
    key_exchange: Option<Duration>,
    /// Whether the new key (if any) serves this run only.
    temporary: bool,
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
    fn key_word(&self) -> &'static str {
        if self.temporary {
            "temporary"
        } else {
            "new"
        }
    }

    fn text(&self) -> String {
        let key = match self.key_exchange {
            Some(d) => format!("key: {} {:.1} ms", self.key_word(), ms(d)),
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
            Some(d) => (self.key_word(), format!("{:.3}", ms(d))),
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

/// A failed DC's line with `--json`.
fn json_error(dc: &DcAddr, message: &str) -> String {
    serde_json::json!({"dc": dc.id, "addr": dc.addr.to_string(), "error": message}).to_string()
}

/// What one DC's ping came to.
enum Outcome {
    Done(Line),
    Failed(String),
    /// Ctrl-C: the pings so far, if any.
    Interrupted(Option<Line>),
}

/// Everything `ping` needs for every DC.
struct Pinger<'a> {
    g: &'a Globals,
    args: &'a Args,
    network: &'a Network,
    keys: Vec<RsaPublicKey>,
    api_id: i32,
    proxy: Option<crate::config::Proxy>,
    session_path: Option<PathBuf>,
    session: SessionData,
}

impl Pinger<'_> {
    /// The session's key for `dc`.
    fn saved(&self, dc: i32) -> Option<SavedKey> {
        let state = self.session.dc(dc)?;
        Some(SavedKey {
            key: AuthKey::from_bytes(state.auth_key?),
            server_salt: state.server_salt,
            authorized: state.authorized,
        })
    }

    /// Records what the connection learned, merged into the file as it is now.
    fn record(
        &mut self,
        dc: i32,
        connected: &crate::net::Connected,
        used: KeyUse,
        replaced: Option<[u8; session_file::AUTH_KEY_LEN]>,
    ) -> Result<(), CliError> {
        let key = *connected.auth_key.as_bytes();
        let (salt, offset) = (
            connected.client.server_salt(),
            connected.client.time_offset(),
        );
        let change = |s: &mut SessionData| {
            s.record_connection(dc, &key, used.save_key(), replaced.as_ref(), salt, offset)
        };
        match &self.session_path {
            Some(path) => {
                let base = self.session.clone();
                self.session = session_file::update(path, &self.network.name, || base, change)
                    .map_err(|e| session_file_error(&e))?;
            }
            None => change(&mut self.session),
        }
        Ok(())
    }

    async fn one(
        &mut self,
        dc: DcAddr,
        sigint: &mut tokio::signal::unix::Signal,
    ) -> Result<Outcome, CliError> {
        let mut opts = ConnectOptions::new(dc.id, dc.addr, self.keys.clone(), self.api_id);
        opts.test = self.network.test;
        opts.transport = transport_name(self.g.transport).to_string();
        opts.timeout = Duration::from_secs(self.args.timeout);
        opts.proxy = self.proxy.clone();
        opts.time_offset = self.session.time_offset;
        let via = match &self.proxy {
            Some(p) => format!("{} via {p}", dc.addr),
            None => dc.addr.to_string(),
        };
        let saved = self.saved(dc.id);
        let connecting = connect_saved(&mut opts, saved.as_ref());
        let r = tokio::select! {
            r = connecting => r,
            _ = sigint.recv() => return Ok(Outcome::Interrupted(None)),
        };
        let (connected, used) = match r {
            Ok(c) => c,
            Err(e) => {
                let hint = match (&self.proxy, &e) {
                    (Some(Proxy::Mt(_)), InvokeError::Closed | InvokeError::Timeout) => {
                        " (wrong proxy secret, or the proxy cannot reach this DC?)"
                    }
                    _ => "",
                };
                return Ok(Outcome::Failed(format!("DC {} ({via}): {e}{hint}", dc.id)));
            }
        };
        self.record(dc.id, &connected, used, saved.map(|k| *k.key.as_bytes()))?;
        if used == KeyUse::Temporary && !self.g.quiet {
            eprintln!(
                "tgmux: warning: DC {} answered -404 (auth key not found) to the session's \
                 logged-in key; the key is kept and this run used a temporary one \
                 (`tgmux login` again if the login is really gone)",
                dc.id
            );
        }
        let crate::tl::enums::Config::Config(config) = &connected.config;
        let mut line = Line {
            dc,
            transport: connected.transport.clone(),
            key_exchange: connected.key_exchange,
            temporary: used == KeyUse::Temporary,
            rtts: Vec::with_capacity(self.args.count as usize),
            this_dc: config.this_dc,
        };
        for _ in 0..self.args.count {
            let rtt = tokio::select! {
                r = connected.client.ping() => r,
                _ = sigint.recv() => {
                    let partial = (!line.rtts.is_empty()).then_some(line);
                    return Ok(Outcome::Interrupted(partial));
                }
            };
            match rtt {
                Ok(rtt) => line.rtts.push(rtt),
                Err(e) => return Ok(Outcome::Failed(format!("DC {} ({via}): ping: {e}", dc.id))),
            }
        }
        Ok(Outcome::Done(line))
    }

    fn print(&self, line: &Line) {
        if self.g.json {
            println!("{}", line.json());
        } else if !self.g.quiet {
            println!("{}", line.text());
        }
    }
}

/// `--file LINK`: one part's round trips, printed as `getFile: X ms (median of N)`.
fn file_rtt(link: &str, args: &Args, g: &Globals) -> Result<(), CliError> {
    use crate::download::plan::BLOCK;
    use crate::download::rpc::{invoke, Route};
    use crate::tl::functions::upload::GetFile;
    let err = |e: &dyn std::fmt::Display| CliError::new(format!("ping --file {link}: {e}"));
    let link = crate::resolve::Link::parse(link).map_err(|e| err(&e))?;
    let account = super::account::open(g, 1)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the runtime: {e}")))?;
    let (offset, rtts) = runtime.block_on(async {
        let media = account
            .resolver
            .media(&link, false)
            .await
            .map_err(|e| err(&e))?;
        let media = media.first().ok_or_else(|| err(&"no media"))?;
        let offset = media.size / 2 / BLOCK * BLOCK;
        let request = GetFile {
            precise: false,
            cdn_supported: false,
            location: media.input_location(),
            offset: offset as i64,
            limit: BLOCK as i32,
        };
        let route = Route::File {
            dc: media.dc_id,
            conn: 0,
        };
        let mut rtts = Vec::with_capacity(args.count as usize);
        // The first call opens (and authorizes) the file connection: not counted.
        for i in 0..=args.count {
            let t = std::time::Instant::now();
            invoke(&*account.rpc, route, &request)
                .await
                .map_err(|e| err(&e))?;
            if i > 0 {
                rtts.push(t.elapsed());
            }
        }
        Ok::<_, CliError>((offset, rtts))
    })?;
    let _ = account.pool.save();
    println!(
        "getFile {BLOCK} bytes at {offset}: {:.3} ms (median of {})",
        ms(median(&rtts)),
        rtts.len()
    );
    Ok(())
}

pub fn run(args: &Args, g: &Globals) -> Result<(), CliError> {
    if let Some(link) = &args.file {
        return file_rtt(link, args, g);
    }
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
    let session_path = session_path(g);
    let session = match &session_path {
        Some(path) => load_session(path, &network)?,
        None => SessionData::new(network.name.clone(), network.home),
    };
    let mut pinger = Pinger {
        g,
        args,
        network: &network,
        keys,
        api_id,
        proxy,
        session_path,
        session,
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(|e| CliError::new(format!("cannot watch for Ctrl-C: {e}")))?;
        let mut failures = Vec::new();
        for dc in dcs {
            match pinger.one(dc, &mut sigint).await? {
                Outcome::Done(line) => pinger.print(&line),
                Outcome::Failed(message) => {
                    if g.json {
                        println!("{}", json_error(&dc, &message));
                    } else {
                        eprintln!("tgmux: error: {message}");
                    }
                    failures.push(message);
                }
                Outcome::Interrupted(line) => {
                    if let Some(line) = line {
                        pinger.print(&line);
                    }
                    return Err(CliError {
                        message: "interrupted".into(),
                        code: 130,
                    });
                }
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(CliError::reported())
        }
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
            temporary: false,
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
