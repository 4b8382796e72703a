//! The local copy of the state: what every read comes from, whatever the backend.
//!
//! Plain maps behind one lock, keyed by account then DC or link, so a lookup borrows the
//! caller's `&str` and allocates nothing. Entries carry their deadline; a read at `now` past
//! it sees nothing, and [`Maps::live`] leaves expired entries out when the state is written
//! whole (compaction, a resync with Redis). Time is an argument here, so the TTL rules are
//! tested without sleeping.

use std::collections::HashMap;
use std::sync::RwLock;

use bytes::Bytes;
use tokio::sync::watch;

use super::change::{AuthKey, Change};

/// The state, as maps.
#[derive(Debug, Default)]
pub struct Maps {
    flood: HashMap<String, HashMap<i32, u64>>,
    resolved: HashMap<String, HashMap<String, (u64, Bytes)>>,
    keys: HashMap<String, HashMap<i32, Box<AuthKey>>>,
}

impl Maps {
    /// Applies a change; returns whether anything changed. Flood deadlines only ever move
    /// later; the other kinds replace what was there.
    pub fn apply(&mut self, change: &Change) -> bool {
        match change {
            Change::Flood { account, dc, until } => {
                let slot = self
                    .flood
                    .entry(account.clone())
                    .or_default()
                    .entry(*dc)
                    .or_insert(0);
                let later = *until > *slot;
                *slot = (*slot).max(*until);
                later
            }
            Change::Resolved {
                account,
                link,
                expires,
                value,
            } => {
                let old = self
                    .resolved
                    .entry(account.clone())
                    .or_default()
                    .insert(link.clone(), (*expires, value.clone()));
                old.as_ref() != Some(&(*expires, value.clone()))
            }
            Change::Forget { account, link } => self
                .resolved
                .get_mut(account)
                .and_then(|m| m.remove(link))
                .is_some(),
            Change::AuthKey { account, dc, key } => {
                let old = self
                    .keys
                    .entry(account.clone())
                    .or_default()
                    .insert(*dc, key.clone());
                old.as_deref() != Some(&**key)
            }
        }
    }

    /// The flood deadline of (`account`, `dc`) if it is after `now`.
    pub fn flood_until(&self, account: &str, dc: i32, now: u64) -> Option<u64> {
        let until = *self.flood.get(account)?.get(&dc)?;
        (until > now).then_some(until)
    }

    /// `link`'s resolution for `account`, unless it expired by `now`.
    pub fn resolution(&self, account: &str, link: &str, now: u64) -> Option<Bytes> {
        let (expires, value) = self.resolved.get(account)?.get(link)?;
        (*expires > now).then(|| value.clone())
    }

    /// The auth key of (`account`, `dc`).
    pub fn auth_key(&self, account: &str, dc: i32) -> Option<&AuthKey> {
        self.keys.get(account)?.get(&dc).map(|k| &**k)
    }

    /// Every entry still valid at `now`, as changes (auth keys first, then flood deadlines,
    /// then resolutions, each in name order so the output is reproducible).
    pub fn live(&self, now: u64) -> Vec<Change> {
        let mut out = Vec::new();
        for (account, dcs) in sorted(&self.keys) {
            for (dc, key) in sorted(dcs) {
                out.push(Change::AuthKey {
                    account: account.clone(),
                    dc: *dc,
                    key: key.clone(),
                });
            }
        }
        for (account, dcs) in sorted(&self.flood) {
            for (dc, until) in sorted(dcs) {
                if *until > now {
                    out.push(Change::Flood {
                        account: account.clone(),
                        dc: *dc,
                        until: *until,
                    });
                }
            }
        }
        for (account, links) in sorted(&self.resolved) {
            for (link, (expires, value)) in sorted(links) {
                if *expires > now {
                    out.push(Change::Resolved {
                        account: account.clone(),
                        link: link.clone(),
                        expires: *expires,
                        value: value.clone(),
                    });
                }
            }
        }
        out
    }
}

fn sorted<K: Ord, V>(m: &HashMap<K, V>) -> Vec<(&K, &V)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

/// The maps behind a lock, and a counter that moves whenever a change arrives from elsewhere
/// (another instance), for callers waiting on one.
#[derive(Debug)]
pub struct Local {
    maps: RwLock<Maps>,
    version: watch::Sender<u64>,
}

impl Local {
    /// Starts from `maps` (what the backend had).
    pub fn new(maps: Maps) -> Self {
        Local {
            maps: RwLock::new(maps),
            version: watch::Sender::new(0),
        }
    }

    /// Reads the maps.
    pub fn read<T>(&self, f: impl FnOnce(&Maps) -> T) -> T {
        f(&self.maps.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Changes the maps.
    pub fn write<T>(&self, f: impl FnOnce(&mut Maps) -> T) -> T {
        f(&mut self.maps.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// Applies a change that came from elsewhere and wakes the waiters if it changed anything.
    pub fn apply_remote(&self, change: &Change) {
        if self.write(|m| m.apply(change)) {
            self.version.send_modify(|v| *v += 1);
        }
    }

    /// A receiver that sees every change applied by [`Local::apply_remote`].
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::change::tests::samples;

    #[test]
    fn deadlines_only_move_later_and_expire() {
        let mut m = Maps::default();
        let flood = |until| Change::Flood {
            account: "a".into(),
            dc: 2,
            until,
        };
        assert!(m.apply(&flood(5_000)));
        assert!(!m.apply(&flood(4_000)), "an earlier deadline is not news");
        assert_eq!(m.flood_until("a", 2, 1_000), Some(5_000));
        assert_eq!(m.flood_until("a", 3, 1_000), None, "per DC");
        assert_eq!(m.flood_until("b", 2, 1_000), None, "per account");
        assert_eq!(m.flood_until("a", 2, 5_000), None, "passed at the deadline");
        assert!(m.live(5_000).is_empty());
        assert!(m.apply(&flood(9_000)));
        assert_eq!(m.flood_until("a", 2, 5_000), Some(9_000));
    }

    #[test]
    fn resolutions_expire_and_are_forgotten() {
        let mut m = Maps::default();
        let s = samples();
        assert!(m.apply(&s[1]));
        assert!(!m.apply(&s[1]), "same value again changes nothing");
        let link = "https://t.me/c/123/45";
        assert!(m.resolution("bot-2", link, 1_700_000_000_000).is_some());
        assert!(m.resolution("main", link, 0).is_none(), "per account");
        assert!(m.resolution("bot-2", link, 1_700_000_360_000).is_none());
        assert!(m.apply(&Change::Forget {
            account: "bot-2".into(),
            link: link.into()
        }));
        assert!(m.resolution("bot-2", link, 0).is_none());
    }

    #[test]
    fn live_is_the_whole_valid_state() {
        let mut m = Maps::default();
        for c in samples() {
            m.apply(&c);
        }
        // The forget removed nothing that was there; all three others are live at t=0.
        let live = m.live(0);
        assert_eq!(live.len(), 3);
        assert!(matches!(live[0], Change::AuthKey { .. }));
        let mut again = Maps::default();
        for c in &live {
            again.apply(c);
        }
        assert_eq!(again.live(0), live);
        assert_eq!(m.auth_key("main", -4), Some(&[0x5a; 256]));
    }
}
