//! Client configuration: API credentials and which DCs to talk to.
//!
//! API credentials (`api_id`, `api_hash`) come from, in order: the `--api-id`/`--api-hash`
//! flags, the `TGMUX_API_ID`/`TGMUX_API_HASH` environment variables (clap folds these two into
//! the flags), then the `--config` TOML file:
//!
//! ```toml
//! api_id = 12345
//! api_hash = "0123456789abcdef0123456789abcdef"
//! flood_wait_threshold = 60   # seconds; longer FLOOD_WAITs are errors, shorter are waited out
//! ```
//!
//! The DCs ([`Network`]) come from `--dc-config FILE` (written by `tgmux local-dc`), or
//! `--test-dc` (Telegram's test DCs and test RSA key), or else Telegram's production DCs.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::cli::Globals;

pub mod accounts;
pub mod proxy;
pub mod tunnel;
pub use proxy::{MtProxy, Proxy, ProxyLinkError};
pub use tunnel::{Credentials, Tunnel, TunnelKind};

/// Telegram's production RSA public key (fingerprint 0xd09d1d85de64fd85).
pub const PRODUCTION_RSA_KEY: &str = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA6LszBcC1LGzyr992NzE0ieY+BSaOW622Aa9Bd4ZHLl+TuFQ4lo4g
5nKaMBwK/BIb9xUfg0Q29/2mgIR6Zr9krM7HjuIcCzFvDtr+L0GQjae9H0pRB2OO
62cECs5HKhT5DZ98K33vmWiLowc621dQuwKWSQKjWf50XYFw42h21P2KXUGyp2y/
+aEyZ+uVgLLQbRA1dEjSDZ2iGRy12Mk5gpYc397aYp438fsJoHIgJ2lgMv5h7WY9
t6N/byY9Nw9p21Og3AoXSL2q/2IJ1WRUhebgAdGVMlV1fkuOQoEzR7EdpqtQD9Cs
5+bfo3Nhmcyvk5ftB0WkJ9z6bNZ7yxrP8wIDAQAB
-----END RSA PUBLIC KEY-----
";

/// Telegram's test-DC RSA public key (fingerprint 0xb25898df208d2603).
pub const TEST_RSA_KEY: &str = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAyMEdY1aR+sCR3ZSJrtztKTKqigvO/vBfqACJLZtS7QMgCGXJ6XIR
yy7mx66W0/sOFa7/1mAZtEoIokDP3ShoqF4fVNb6XeqgQfaUHd8wJpDWHcR2OFwv
plUUI1PLTktZ9uW2WE23b+ixNwJjJGwBDJPQEQFBE+vfmH0JP503wr5INS1poWg/
j25sIWeYPHYeOrFp/eXaqhISP6G+q2IeTaWTXpwZj4LzXq5YOpk4bYEQ6mvRq7D1
aHWfYmlEGepfaYR8Q0YqvvhYtMte3ITnuSJs171+GDqpdKcSwHnd6FudwGO4pcCO
j4WcDuXc2CTHgH8gFTNhp/Y8/SpDOhvn9QIDAQAB
-----END RSA PUBLIC KEY-----
";

/// Production DC addresses (IPv4, port 443), DC 1..5.
const PRODUCTION_DCS: [(i32, [u8; 4]); 5] = [
    (1, [149, 154, 175, 53]),
    (2, [149, 154, 167, 51]),
    (3, [149, 154, 175, 100]),
    (4, [149, 154, 167, 91]),
    (5, [91, 108, 56, 130]),
];

/// Test DC addresses (IPv4, port 443), DC 1..3.
const TEST_DCS: [(i32, [u8; 4]); 3] = [
    (1, [149, 154, 175, 10]),
    (2, [149, 154, 167, 40]),
    (3, [149, 154, 175, 117]),
];

/// Default FLOOD_WAIT threshold: waits up to this long are done automatically.
pub const DEFAULT_FLOOD_WAIT_THRESHOLD_SECS: u32 = 60;

/// Largest `--config` file we read.
const MAX_CONFIG_LEN: u64 = 1 << 20;

/// A DC's id and address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DcAddr {
    /// The DC id.
    pub id: i32,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// A set of DCs and the RSA keys their auth-key exchanges use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// A name stored in the session file, so keys of one network are never sent to another:
    /// `production`, `test`, or `dc-config:<hash of the keys>`.
    pub name: String,
    /// Whether these are Telegram's test DCs (the key exchange sends negative DC ids).
    pub test: bool,
    /// The DCs; the home DC for a fresh session is `home`.
    pub dcs: Vec<DcAddr>,
    /// The DC a fresh session starts on.
    pub home: i32,
    /// The servers' RSA public keys (PKCS#1 PEM).
    pub rsa_keys: Vec<String>,
}

impl Network {
    /// Telegram's production DCs (home DC 2, as the official apps start).
    pub fn production() -> Self {
        Network {
            name: "production".into(),
            test: false,
            dcs: PRODUCTION_DCS.iter().map(|&(id, ip)| dc(id, ip)).collect(),
            home: 2,
            rsa_keys: vec![PRODUCTION_RSA_KEY.into()],
        }
    }

    /// Telegram's test DCs (home DC 2).
    pub fn test() -> Self {
        Network {
            name: "test".into(),
            test: true,
            dcs: TEST_DCS.iter().map(|&(id, ip)| dc(id, ip)).collect(),
            home: 2,
            rsa_keys: vec![TEST_RSA_KEY.into()],
        }
    }

    /// A network from a DC config file's keys and DCs (the first DC is home).
    pub fn from_dc_config(rsa_keys: Vec<String>, dcs: Vec<DcAddr>) -> Result<Self, ConfigError> {
        let home = dcs
            .first()
            .ok_or_else(|| ConfigError::Invalid("DC config has no DCs".into()))?
            .id;
        let mut h = Sha256::new();
        for k in &rsa_keys {
            h.update(k.trim().as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Network {
            name: format!("dc-config:{hex}"),
            test: false,
            dcs,
            home,
            rsa_keys,
        })
    }

    /// The network a DC config describes (what `tgmux local-dc` writes, or hands to
    /// `tgmux demo` in-process).
    pub fn of_dc_config(c: &crate::dcconfig::DcConfig) -> Result<Self, ConfigError> {
        let dcs = c
            .dcs
            .iter()
            .map(|e| DcAddr {
                id: e.id,
                addr: e.addr(),
            })
            .collect();
        Network::from_dc_config(c.rsa_public_keys.clone(), dcs)
    }

    /// The address of DC `id`.
    pub fn addr(&self, id: i32) -> Option<SocketAddr> {
        self.dcs.iter().find(|d| d.id == id).map(|d| d.addr)
    }
}

fn dc(id: i32, ip: [u8; 4]) -> DcAddr {
    DcAddr {
        id,
        addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), 443),
    }
}

/// The `--config` file: every key optional; a key no command reads is refused (a typo must
/// not pass silently).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Telegram api_id.
    pub api_id: Option<i32>,
    /// Telegram api_hash.
    pub api_hash: Option<String>,
    /// FLOOD_WAIT threshold in seconds.
    pub flood_wait_threshold: Option<u32>,
    /// `[[accounts]]` of `tgmux serve`, read by [`accounts`] (only accepted here).
    #[serde(default)]
    pub accounts: Option<toml::Value>,
}

impl FileConfig {
    /// Reads a config file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let io = |e: std::io::Error| ConfigError::Io(path.to_owned(), e);
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_CONFIG_LEN {
            return Err(ConfigError::Invalid(format!(
                "{}: larger than {MAX_CONFIG_LEN} bytes",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        toml::from_str(&text)
            .map_err(|e| ConfigError::Syntax(path.to_owned(), toml_error(&text, &e)))
    }
}

/// toml's error on one line: where (line and column) and its whole message.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// The api_id/api_hash pair every `initConnection` carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiCredentials {
    /// Telegram api_id.
    pub api_id: i32,
    /// Telegram api_hash (only sent by login requests).
    pub api_hash: String,
}

/// Everything a client needs from the command line, env and config file.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// API credentials, when given anywhere.
    pub api: Option<ApiCredentials>,
    /// The DCs.
    pub network: Network,
    /// The session file path.
    pub session_path: PathBuf,
    /// Longest FLOOD_WAIT done automatically.
    pub flood_wait_threshold_secs: u32,
    /// The proxy every connection goes through (`--proxy`).
    pub proxy: Option<Proxy>,
}

impl ClientConfig {
    /// Resolves the global flags (flags > env > `--config` file).
    pub fn from_globals(g: &Globals) -> Result<Self, ConfigError> {
        let file = match &g.config {
            Some(p) => FileConfig::read(p)?,
            None => FileConfig::default(),
        };
        let api_id = g.api_id.or(file.api_id);
        let api_hash = g.api_hash.clone().or(file.api_hash);
        let api = match (api_id, api_hash) {
            (Some(api_id), Some(api_hash)) => Some(ApiCredentials { api_id, api_hash }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::Invalid("api_id given without api_hash".into()))
            }
            (None, Some(_)) => {
                return Err(ConfigError::Invalid("api_hash given without api_id".into()))
            }
        };
        let network = network_from_globals(g)?;
        let proxy = proxy_from_globals(g)?;
        let session_path = match &g.session {
            Some(p) => p.clone(),
            None => crate::net::session_file::default_path()
                .map_err(|e| ConfigError::Invalid(e.to_string()))?,
        };
        Ok(ClientConfig {
            api,
            network,
            session_path,
            flood_wait_threshold_secs: file
                .flood_wait_threshold
                .unwrap_or(DEFAULT_FLOOD_WAIT_THRESHOLD_SECS),
            proxy,
        })
    }

    /// The credentials, or the error telling the user how to give them.
    pub fn require_api(&self) -> Result<&ApiCredentials, ConfigError> {
        self.api.as_ref().ok_or(ConfigError::MissingApi)
    }
}

/// The DCs the global flags select: `--dc-config FILE`, `--test-dc`, or production.
pub fn network_from_globals(g: &Globals) -> Result<Network, ConfigError> {
    if let Some(path) = &g.dc_config {
        read_dc_config(path)
    } else if g.test_dc {
        Ok(Network::test())
    } else {
        Ok(Network::production())
    }
}

/// The `--proxy` link, parsed.
pub fn proxy_from_globals(g: &Globals) -> Result<Option<Proxy>, ConfigError> {
    g.proxy
        .as_deref()
        .map(Proxy::parse)
        .transpose()
        .map_err(|e| ConfigError::Invalid(e.to_string()))
}

/// Reads a `tgmux local-dc --write-config` file.
fn read_dc_config(path: &Path) -> Result<Network, ConfigError> {
    #[derive(Deserialize)]
    struct Entry {
        id: i32,
        ip: IpAddr,
        port: u16,
    }
    #[derive(Deserialize)]
    struct File {
        rsa_public_keys: Vec<String>,
        dcs: Vec<Entry>,
    }
    let io = |e: std::io::Error| ConfigError::Io(path.to_owned(), e);
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_CONFIG_LEN {
        return Err(ConfigError::Invalid(format!(
            "{}: larger than {MAX_CONFIG_LEN} bytes",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let f: File = toml::from_str(&text)
        .map_err(|e| ConfigError::Syntax(path.to_owned(), toml_error(&text, &e)))?;
    if f.rsa_public_keys.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "{}: rsa_public_keys is empty",
            path.display()
        )));
    }
    let dcs = f
        .dcs
        .iter()
        .map(|e| DcAddr {
            id: e.id,
            addr: SocketAddr::new(e.ip, e.port),
        })
        .collect();
    Network::from_dc_config(f.rsa_public_keys, dcs)
}

/// Why the configuration is unusable.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    Io(PathBuf, std::io::Error),
    /// A file is not valid TOML of the expected shape.
    Syntax(PathBuf, String),
    /// A value is unusable.
    Invalid(String),
    /// No api_id/api_hash anywhere.
    MissingApi,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            ConfigError::Syntax(p, m) => write!(f, "{}: {m}", p.display()),
            ConfigError::Invalid(m) => f.write_str(m),
            ConfigError::MissingApi => f.write_str(
                "no api_id/api_hash: pass --api-id/--api-hash, set TGMUX_API_ID/TGMUX_API_HASH, or put them in --config",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn globals(args: &[&str]) -> Globals {
        let mut v = vec!["tgmux"];
        v.extend_from_slice(args);
        v.push("logout");
        crate::cli::Cli::try_parse_from(v).unwrap().globals
    }

    #[test]
    fn flags_override_config_file() {
        let dir = std::env::temp_dir().join(format!("tgmux-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("c.toml");
        std::fs::write(
            &cfg,
            "api_id = 7\napi_hash = \"fromfile\"\nflood_wait_threshold = 5\n",
        )
        .unwrap();
        let c = cfg.to_str().unwrap();
        let r =
            ClientConfig::from_globals(&globals(&["--config", c, "--session", "/tmp/x"])).unwrap();
        assert_eq!(
            r.api,
            Some(ApiCredentials {
                api_id: 7,
                api_hash: "fromfile".into()
            })
        );
        assert_eq!(r.flood_wait_threshold_secs, 5);
        let r = ClientConfig::from_globals(&globals(&[
            "--config",
            c,
            "--api-id",
            "9",
            "--session",
            "/tmp/x",
        ]))
        .unwrap();
        assert_eq!(
            r.api,
            Some(ApiCredentials {
                api_id: 9,
                api_hash: "fromfile".into()
            })
        );
        std::fs::write(&cfg, "api_id = \"x\"").unwrap();
        let e = ClientConfig::from_globals(&globals(&["--config", c]))
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n') && e.contains("c.toml"), "{e}");
        assert!(
            e.ends_with("line 1, column 10: invalid type: string \"x\", expected i32"),
            "{e}"
        );
        // A key no command reads is refused, with the keys that exist.
        std::fs::write(&cfg, "api_id = 1\napi_hsh = \"y\"\n").unwrap();
        let e = ClientConfig::from_globals(&globals(&["--config", c]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2, column 1: unknown field `api_hsh`, expected one of"),
            "{e}"
        );
        // serve's accounts are a known key.
        std::fs::write(&cfg, "[[accounts]]\nname = \"a\"\nsession = \"s\"\n").unwrap();
        assert!(ClientConfig::from_globals(&globals(&["--config", c])).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn networks() {
        let p = Network::production();
        assert_eq!(p.addr(2), Some("149.154.167.51:443".parse().unwrap()));
        let t = Network::test();
        assert!(t.test);
        assert_eq!(t.addr(1), Some("149.154.175.10:443".parse().unwrap()));
        assert_ne!(p.name, t.name);
        let a = Network::from_dc_config(
            vec!["k1".into()],
            vec![DcAddr {
                id: 3,
                addr: "127.0.0.1:1".parse().unwrap(),
            }],
        )
        .unwrap();
        let b = Network::from_dc_config(vec!["k2".into()], a.dcs.clone()).unwrap();
        assert_eq!(a.home, 3);
        assert_ne!(a.name, b.name, "different keys, different networks");
    }

    #[test]
    fn reads_dc_config_file() {
        let dir = std::env::temp_dir().join(format!("tgmux-dccfg-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("dc.toml");
        std::fs::write(
            &f,
            "rsa_public_keys = [\"-----BEGIN RSA PUBLIC KEY-----\\nAA\\n-----END RSA PUBLIC KEY-----\\n\"]\n[[dcs]]\nid = 2\nip = \"127.0.0.1\"\nport = 5000\n[[dcs]]\nid = 1\nip = \"::1\"\nport = 5001\n",
        )
        .unwrap();
        let n = read_dc_config(&f).unwrap();
        assert_eq!(n.home, 2);
        assert_eq!(n.addr(1), Some("[::1]:5001".parse().unwrap()));
        // toml's whole reason, on one line.
        std::fs::write(&f, "rsa_public_keys = []\n").unwrap();
        let e = read_dc_config(&f).unwrap_err().to_string();
        assert!(
            e.ends_with("dc.toml: line 1, column 1: missing field `dcs`"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
