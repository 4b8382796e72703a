//! DC addresses learned from `help.getConfig` (the `dc_options` of every `config` a
//! connection gets when it starts).
//!
//! Which option is used for DC `id`:
//!
//! - options with a `secret` (MTProxy-style ports), `tcpo_only` ones (obfuscated-only ports)
//!   and ones whose IP is unspecified (`0.0.0.0`, `::`) or unparsable are skipped;
//! - a file connection takes a `media_only` option when the DC has one, others never do;
//! - IPv4 is preferred; IPv6 only when the DC has no usable IPv4 option;
//! - the first of equals in the server's order wins.
//!
//! `cdn` options are kept like any other: a CDN DC is only ever announced here. Nothing of
//! this is saved in the session file (its format has no room for it): each run learns it
//! again on its first connection.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use crate::tl::{enums, types};

/// One usable address of a DC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DcOption {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Meant for file transfers only.
    pub media_only: bool,
    /// A CDN DC.
    pub cdn: bool,
}

/// What the server announced, per DC id, in its order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DcOptions {
    by_dc: HashMap<i32, Vec<DcOption>>,
}

impl DcOptions {
    /// The usable options of a `config`.
    pub fn from_config(config: &enums::Config) -> Self {
        let enums::Config::Config(c) = config;
        Self::from_options(&c.dc_options)
    }

    /// The usable options of a `dc_options` list.
    pub fn from_options(options: &[enums::DcOption]) -> Self {
        let mut by_dc: HashMap<i32, Vec<DcOption>> = HashMap::new();
        for enums::DcOption::DcOption(o) in options {
            if let Some(opt) = usable(o) {
                by_dc.entry(o.id).or_default().push(opt);
            }
        }
        DcOptions { by_dc }
    }

    /// Whether nothing usable was announced.
    pub fn is_empty(&self) -> bool {
        self.by_dc.is_empty()
    }

    /// Whether DC `id` has a `media_only` option.
    pub fn has_media(&self, id: i32) -> bool {
        self.by_dc
            .get(&id)
            .is_some_and(|v| v.iter().any(|o| o.media_only))
    }

    /// The address to use for DC `id` (see the module docs); `media` for file connections.
    pub fn choose(&self, id: i32, media: bool) -> Option<SocketAddr> {
        let options = self.by_dc.get(&id)?;
        let want_media = media && options.iter().any(|o| o.media_only);
        let fitting = || options.iter().filter(move |o| o.media_only == want_media);
        fitting()
            .find(|o| o.addr.is_ipv4())
            .or_else(|| fitting().next())
            .map(|o| o.addr)
    }
}

fn usable(o: &types::DcOption) -> Option<DcOption> {
    if o.secret.is_some() || o.tcpo_only {
        return None;
    }
    let ip: IpAddr = o.ip_address.parse().ok()?;
    let port = u16::try_from(o.port).ok().filter(|&p| p != 0)?;
    if ip.is_unspecified() {
        return None;
    }
    Some(DcOption {
        addr: SocketAddr::new(ip, port),
        media_only: o.media_only,
        cdn: o.cdn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(id: i32, ip: &str, port: i32, f: impl FnOnce(&mut types::DcOption)) -> enums::DcOption {
        let mut o = types::DcOption {
            ipv6: ip.contains(':'),
            media_only: false,
            tcpo_only: false,
            cdn: false,
            r#static: false,
            this_port_only: false,
            id,
            ip_address: ip.into(),
            port,
            secret: None,
        };
        f(&mut o);
        enums::DcOption::DcOption(o)
    }

    #[test]
    fn chooses_ipv4_media_when_asked_and_skips_unusable_options() {
        let t = DcOptions::from_options(&[
            opt(1, "2001:db8::1", 443, |_| {}),
            opt(1, "10.0.0.1", 443, |_| {}),
            opt(1, "10.0.0.2", 443, |_| {}),
            opt(1, "2001:db8::2", 443, |o| o.media_only = true),
            opt(1, "10.0.0.3", 443, |o| o.media_only = true),
            opt(2, "2001:db8::5", 80, |_| {}),
            opt(2, "10.0.0.6", 443, |o| o.tcpo_only = true),
            opt(2, "10.0.0.7", 443, |o| {
                o.secret = Some(vec![1u8; 16].into())
            }),
            opt(2, "0.0.0.0", 443, |_| {}),
            opt(2, "not an ip", 443, |_| {}),
            opt(2, "10.0.0.8", 0, |_| {}),
            opt(2, "10.0.0.9", 70000, |_| {}),
            opt(3, "10.0.0.10", 443, |o| o.media_only = true),
            opt(201, "10.0.0.11", 443, |o| o.cdn = true),
        ]);
        let a = |s: &str| Some(s.parse::<SocketAddr>().unwrap());
        assert_eq!(t.choose(1, false), a("10.0.0.1:443"));
        assert_eq!(t.choose(1, true), a("10.0.0.3:443"));
        assert!(t.has_media(1) && !t.has_media(2));
        // Only IPv6 is usable for DC 2, and it has no media option: files use it too.
        assert_eq!(t.choose(2, false), a("[2001:db8::5]:80"));
        assert_eq!(t.choose(2, true), a("[2001:db8::5]:80"));
        // Media-only options are never used for other connections.
        assert_eq!(t.choose(3, false), None);
        assert_eq!(t.choose(3, true), a("10.0.0.10:443"));
        assert_eq!(t.choose(201, false), a("10.0.0.11:443"));
        assert_eq!(t.choose(4, false), None);
        assert!(DcOptions::from_options(&[opt(1, "::", 1, |_| {})]).is_empty());
    }
}
