//! The DC config file: where the data centers are and which RSA keys they hold.
//!
//! `tgmux local-dc --write-config FILE` writes it; `tgmux --dc-config FILE ...` reads it; any tool
//! can read it too. It is TOML:
//!
//! ```toml
//! rsa_public_keys = ["-----BEGIN RSA PUBLIC KEY-----\n...\n-----END RSA PUBLIC KEY-----\n"]
//!
//! [[dcs]]          # the first table is the home DC
//! id = 1
//! ip = "127.0.0.1"
//! port = 44301
//! ```
//!
//! This module has no I/O beyond reading/writing a whole file and no async: the client and the
//! server both use it.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Largest config file we read (it holds a few keys and addresses).
const MAX_FILE_LEN: u64 = 1 << 20;

/// One data center: its id and TCP address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DcEntry {
    /// DC id (1..=1000 in practice; Telegram uses 1..5).
    pub id: i32,
    /// IPv4 or IPv6 address.
    pub ip: IpAddr,
    /// TCP port.
    pub port: u16,
}

impl DcEntry {
    /// The socket address of this DC.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

/// The whole config: RSA public keys (PKCS#1 PEM) and the DCs, the first being the home DC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DcConfig {
    /// PKCS#1 PEM public keys (`-----BEGIN RSA PUBLIC KEY-----`) the DCs may use.
    pub rsa_public_keys: Vec<String>,
    /// The DCs; the first is the home DC.
    pub dcs: Vec<DcEntry>,
}

/// Why a DC config could not be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum DcConfigError {
    /// The file could not be read or written.
    Io(std::io::Error),
    /// The file is larger than any sensible config.
    TooLarge(u64),
    /// Not TOML of the expected shape.
    Syntax(String),
    /// Well-formed but unusable (no DCs, duplicate ids, a key that is not PKCS#1 PEM...).
    Invalid(String),
}

impl fmt::Display for DcConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DcConfigError::Io(e) => write!(f, "{e}"),
            DcConfigError::TooLarge(n) => {
                write!(f, "DC config is {n} bytes, larger than {MAX_FILE_LEN}")
            }
            DcConfigError::Syntax(m) => write!(f, "DC config is not valid TOML: {m}"),
            DcConfigError::Invalid(m) => write!(f, "DC config: {m}"),
        }
    }
}

impl std::error::Error for DcConfigError {}

impl DcConfig {
    /// The home DC (the first entry). A validated config always has one.
    pub fn home(&self) -> Option<&DcEntry> {
        self.dcs.first()
    }

    /// The DC with this id.
    pub fn dc(&self, id: i32) -> Option<&DcEntry> {
        self.dcs.iter().find(|d| d.id == id)
    }

    /// Checks what the type system cannot: at least one DC and one key, unique positive ids,
    /// non-zero ports, keys in PKCS#1 PEM armour.
    pub fn validate(&self) -> Result<(), DcConfigError> {
        if self.dcs.is_empty() {
            return Err(DcConfigError::Invalid("no [[dcs]] entries".into()));
        }
        if self.rsa_public_keys.is_empty() {
            return Err(DcConfigError::Invalid("rsa_public_keys is empty".into()));
        }
        for (i, dc) in self.dcs.iter().enumerate() {
            if dc.id <= 0 {
                return Err(DcConfigError::Invalid(format!(
                    "DC id {} is not positive",
                    dc.id
                )));
            }
            if dc.port == 0 {
                return Err(DcConfigError::Invalid(format!("DC {} has port 0", dc.id)));
            }
            if self.dcs[..i].iter().any(|d| d.id == dc.id) {
                return Err(DcConfigError::Invalid(format!(
                    "DC id {} appears twice",
                    dc.id
                )));
            }
        }
        for key in &self.rsa_public_keys {
            let t = key.trim();
            if !t.starts_with("-----BEGIN RSA PUBLIC KEY-----")
                || !t.ends_with("-----END RSA PUBLIC KEY-----")
            {
                return Err(DcConfigError::Invalid(
                    "an rsa_public_keys entry is not a PKCS#1 PEM public key (-----BEGIN RSA PUBLIC KEY-----)".into(),
                ));
            }
        }
        Ok(())
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, DcConfigError> {
        let config: DcConfig = toml::from_str(text)
            .map_err(|e| DcConfigError::Syntax(crate::config::toml_error(text, &e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Renders as TOML (validating first, so we never write a file we would refuse to read).
    pub fn to_toml(&self) -> Result<String, DcConfigError> {
        self.validate()?;
        toml::to_string(self).map_err(|e| DcConfigError::Syntax(e.to_string()))
    }

    /// Reads and validates a config file.
    pub fn read(path: &Path) -> Result<Self, DcConfigError> {
        let len = std::fs::metadata(path).map_err(DcConfigError::Io)?.len();
        if len > MAX_FILE_LEN {
            return Err(DcConfigError::TooLarge(len));
        }
        let text = std::fs::read_to_string(path).map_err(DcConfigError::Io)?;
        Self::from_toml(&text)
    }

    /// Writes the config atomically enough for tests: to `FILE.tmp`, then renamed over `FILE`,
    /// so a reader polling for the file never sees half of it.
    pub fn write(&self, path: &Path) -> Result<(), DcConfigError> {
        let text = self.to_toml()?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, text).map_err(DcConfigError::Io)?;
        std::fs::rename(&tmp, path).map_err(DcConfigError::Io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str =
        "-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA\n-----END RSA PUBLIC KEY-----\n";

    fn sample() -> DcConfig {
        DcConfig {
            rsa_public_keys: vec![PEM.into()],
            dcs: vec![
                DcEntry {
                    id: 1,
                    ip: "127.0.0.1".parse().unwrap(),
                    port: 44301,
                },
                DcEntry {
                    id: 2,
                    ip: "127.0.0.1".parse().unwrap(),
                    port: 44302,
                },
            ],
        }
    }

    #[test]
    fn round_trip() {
        let c = sample();
        let text = c.to_toml().unwrap();
        assert!(text.contains("[[dcs]]"), "{text}");
        assert_eq!(DcConfig::from_toml(&text).unwrap(), c);
        assert_eq!(c.home().unwrap().port, 44301);
        assert_eq!(c.dc(2).unwrap().addr().to_string(), "127.0.0.1:44302");
    }

    #[test]
    fn reads_hand_written_file() {
        let text = format!(
            "rsa_public_keys = [\"\"\"\n{PEM}\"\"\"]\n[[dcs]]\nid = 2\nip = \"::1\"\nport = 5\n[[dcs]]\nid = 1\nip = \"10.0.0.1\"\nport = 6\n"
        );
        let c = DcConfig::from_toml(&text).unwrap();
        assert_eq!(c.home().unwrap().id, 2);
        assert!(c.home().unwrap().ip.is_ipv6());
    }

    #[test]
    fn rejects_bad_configs() {
        let mut c = sample();
        c.dcs[1].id = 1;
        assert!(matches!(c.validate(), Err(DcConfigError::Invalid(m)) if m.contains("twice")));
        let mut c = sample();
        c.dcs.clear();
        assert!(c.validate().is_err());
        let mut c = sample();
        c.rsa_public_keys = vec!["-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----".into()];
        assert!(c.validate().is_err());
        let mut c = sample();
        c.dcs[0].port = 0;
        assert!(c.validate().is_err());
        assert!(matches!(
            DcConfig::from_toml("dcs = 3"),
            Err(DcConfigError::Syntax(_))
        ));
        assert!(matches!(
            DcConfig::from_toml("rsa_public_keys = []\ndcs = []\nextra = 1"),
            Err(DcConfigError::Syntax(_))
        ));
        let e = DcConfig::from_toml("[[dcs]]\nid = 1\nip = \"nope\"\nport = 1\n").unwrap_err();
        assert!(!e.to_string().contains('\n'), "one-line error: {e}");
    }
}
