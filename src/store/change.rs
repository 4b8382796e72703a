//! One change to the shared state, and its bytes: the unit of the embedded store's log, of
//! the values kept in Redis and of the messages instances publish to each other.
//!
//! Layout (integers little-endian; `str` is a u16 length and UTF-8 bytes):
//!
//! ```text
//! 1 flood     account str, dc i32, until u64 (Unix ms)
//! 2 resolved  account str, link str, expires u64 (Unix ms), value u32 length + bytes
//! 3 forget    account str, link str
//! 4 auth key  account str, dc i32, key 256 bytes
//! ```
//!
//! Decoding checks every length against what is left and against the limits below, and
//! refuses trailing bytes, so a damaged record is an error, never a wrong value.

use bytes::Bytes;

use crate::config::accounts::check_name;

/// An MTProto auth key (2048 bits).
pub type AuthKey = [u8; AUTH_KEY_LEN];
/// The length of an [`AuthKey`].
pub const AUTH_KEY_LEN: usize = 256;
/// Longest link (the resolver's key for a piece of media).
pub const MAX_LINK_LEN: usize = 2048;
/// Largest resolved value (a document location with its file reference is ~100 bytes).
pub const MAX_VALUE_LEN: usize = 64 * 1024;

/// One change to the state.
#[derive(Clone, PartialEq, Eq)]
pub enum Change {
    /// `account` may not send requests to `dc` before `until` (Unix ms).
    Flood {
        /// The account's name.
        account: String,
        /// The DC.
        dc: i32,
        /// The deadline.
        until: u64,
    },
    /// `link` resolves, for `account`, to `value` until `expires` (Unix ms).
    Resolved {
        /// The account's name.
        account: String,
        /// The resolver's key.
        link: String,
        /// When the value stops being used.
        expires: u64,
        /// The resolver's bytes (a document location, file reference included).
        value: Bytes,
    },
    /// `link`'s resolution for `account` is gone (the media no longer resolves).
    Forget {
        /// The account's name.
        account: String,
        /// The resolver's key.
        link: String,
    },
    /// `account`'s permanent auth key with `dc`.
    AuthKey {
        /// The account's name.
        account: String,
        /// The DC.
        dc: i32,
        /// The key.
        key: Box<AuthKey>,
    },
}

impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Flood { account, dc, until } => {
                write!(f, "Flood({account}, DC {dc}, until {until})")
            }
            Change::Resolved {
                account,
                link,
                expires,
                value,
            } => write!(
                f,
                "Resolved({account}, {link:?}, {} bytes, expires {expires})",
                value.len()
            ),
            Change::Forget { account, link } => write!(f, "Forget({account}, {link:?})"),
            // Never print key material.
            Change::AuthKey { account, dc, .. } => write!(f, "AuthKey({account}, DC {dc})"),
        }
    }
}

impl Change {
    /// The account the change is about.
    pub fn account(&self) -> &str {
        match self {
            Change::Flood { account, .. }
            | Change::Resolved { account, .. }
            | Change::Forget { account, .. }
            | Change::AuthKey { account, .. } => account,
        }
    }

    /// The name of the one piece of state the change sets: later changes with the same slot
    /// replace earlier ones (this is the Redis key, after a prefix).
    pub fn slot(&self) -> String {
        match self {
            Change::Flood { account, dc, .. } => format!("flood:{account}:{dc}"),
            Change::Resolved { account, link, .. } | Change::Forget { account, link } => {
                format!("res:{account}:{link}")
            }
            Change::AuthKey { account, dc, .. } => format!("key:{account}:{dc}"),
        }
    }

    /// Appends the change's bytes to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let str = |out: &mut Vec<u8>, s: &str| {
            // Lengths were checked when the change was made (see `Change::check`).
            out.extend_from_slice(&(s.len() as u16).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        match self {
            Change::Flood { account, dc, until } => {
                out.push(1);
                str(out, account);
                out.extend_from_slice(&dc.to_le_bytes());
                out.extend_from_slice(&until.to_le_bytes());
            }
            Change::Resolved {
                account,
                link,
                expires,
                value,
            } => {
                out.push(2);
                str(out, account);
                str(out, link);
                out.extend_from_slice(&expires.to_le_bytes());
                out.extend_from_slice(&(value.len() as u32).to_le_bytes());
                out.extend_from_slice(value);
            }
            Change::Forget { account, link } => {
                out.push(3);
                str(out, account);
                str(out, link);
            }
            Change::AuthKey { account, dc, key } => {
                out.push(4);
                str(out, account);
                out.extend_from_slice(&dc.to_le_bytes());
                out.extend_from_slice(&key[..]);
            }
        }
    }

    /// The change's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Parses bytes made by [`Change::encode`]; the error says what is wrong, in a few words.
    pub fn decode(bytes: &[u8]) -> Result<Change, &'static str> {
        let mut c = Cursor(bytes);
        let change = match c.array::<1>()?[0] {
            1 => Change::Flood {
                account: c.str()?,
                dc: i32::from_le_bytes(c.array()?),
                until: u64::from_le_bytes(c.array()?),
            },
            2 => {
                let account = c.str()?;
                let link = c.str()?;
                let expires = u64::from_le_bytes(c.array()?);
                let len = u32::from_le_bytes(c.array()?) as usize;
                Change::Resolved {
                    account,
                    link,
                    expires,
                    value: Bytes::copy_from_slice(c.take(len)?),
                }
            }
            3 => Change::Forget {
                account: c.str()?,
                link: c.str()?,
            },
            4 => Change::AuthKey {
                account: c.str()?,
                dc: i32::from_le_bytes(c.array()?),
                key: Box::new(c.array()?),
            },
            _ => return Err("unknown record kind"),
        };
        if !c.0.is_empty() {
            return Err("trailing bytes in a record");
        }
        change.check()?;
        Ok(change)
    }

    /// Checks the names and sizes against the limits.
    pub fn check(&self) -> Result<(), &'static str> {
        check_name(self.account()).map_err(|_| "bad account name")?;
        match self {
            Change::Resolved { link, value, .. } => {
                check_link(link)?;
                if value.len() > MAX_VALUE_LEN {
                    return Err("resolved value too large");
                }
            }
            Change::Forget { link, .. } => check_link(link)?,
            Change::Flood { .. } | Change::AuthKey { .. } => {}
        }
        Ok(())
    }
}

fn check_link(link: &str) -> Result<(), &'static str> {
    if link.is_empty() || link.len() > MAX_LINK_LEN {
        Err("link empty or too long")
    } else {
        Ok(())
    }
}

/// A bounded reader over one record.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if n > self.0.len() {
            return Err("record truncated");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], &'static str> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    fn str(&mut self) -> Result<String, &'static str> {
        let len = u16::from_le_bytes(self.array()?) as usize;
        let s = std::str::from_utf8(self.take(len)?).map_err(|_| "name is not UTF-8")?;
        Ok(s.to_owned())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One change of each kind.
    pub(crate) fn samples() -> Vec<Change> {
        vec![
            Change::Flood {
                account: "main".into(),
                dc: 2,
                until: 1_700_000_000_123,
            },
            Change::Resolved {
                account: "bot-2".into(),
                link: "https://t.me/c/123/45".into(),
                expires: 1_700_000_360_000,
                value: Bytes::from_static(b"\x01location and file reference"),
            },
            Change::Forget {
                account: "main".into(),
                link: "t.me/x/1".into(),
            },
            Change::AuthKey {
                account: "main".into(),
                dc: -4,
                key: Box::new([0x5a; AUTH_KEY_LEN]),
            },
        ]
    }

    #[test]
    fn round_trip_and_every_damage_is_refused() {
        for c in samples() {
            let bytes = c.encode();
            assert_eq!(Change::decode(&bytes), Ok(c.clone()));
            for n in 0..bytes.len() {
                assert!(Change::decode(&bytes[..n]).is_err(), "{c:?} cut at {n}");
            }
            let mut long = bytes.clone();
            long.push(0);
            assert_eq!(Change::decode(&long), Err("trailing bytes in a record"));
        }
        assert_eq!(Change::decode(&[9]), Err("unknown record kind"));
        // A name the config would refuse never comes back from a record either.
        let mut bad = samples()[0].encode();
        bad[3] = b':';
        assert_eq!(Change::decode(&bad), Err("bad account name"));
        assert!(
            !format!("{:?}", samples()[3]).contains("90"),
            "no key bytes"
        );
    }

    #[test]
    fn slots_name_one_piece_of_state() {
        let s = samples();
        assert_eq!(s[0].slot(), "flood:main:2");
        assert_eq!(s[1].slot(), "res:bot-2:https://t.me/c/123/45");
        assert_eq!(s[2].slot(), "res:main:t.me/x/1");
        assert_eq!(s[3].slot(), "key:main:-4");
    }
}
