//! Server salt bookkeeping: the current salt plus future salts with their validity.
//!
//! Clients keep the salt the server gave last (new_session_created, bad_server_salt, the
//! key exchange) and the future salts from get_future_salts, switching when the current one
//! expires. Servers keep a schedule of salts and accept the current one and, for a grace
//! period, the previous one (core.telegram.org/mtproto/description#server-salt).

/// How long (seconds) a server still accepts a salt after it stopped being current.
pub(super) const SALT_GRACE_SECS: i64 = 1800;

/// One salt with its validity interval in server time (seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Salt {
    /// Valid from this server time.
    pub valid_since: i64,
    /// Valid until this server time.
    pub valid_until: i64,
    /// The 64-bit salt.
    pub salt: i64,
}

/// The client's view of the server salts.
#[derive(Clone, Debug)]
pub struct SaltBook {
    current: i64,
    future: Vec<Salt>,
}

/// At most this many future salts are kept (get_future_salts returns up to 64).
const MAX_FUTURE: usize = 64;

impl SaltBook {
    /// A book holding `current` and no future salts.
    pub fn new(current: i64) -> Self {
        SaltBook {
            current,
            future: Vec::new(),
        }
    }

    /// The salt to put into the next message at server time `server_now`: the latest future
    /// salt already valid, if any (it becomes current), else the current one.
    pub fn current(&mut self, server_now: i64) -> i64 {
        // Drop expired future salts; adopt the newest valid one.
        self.future.retain(|s| s.valid_until > server_now);
        if let Some(pos) = self
            .future
            .iter()
            .enumerate()
            .filter(|(_, s)| s.valid_since <= server_now)
            .max_by_key(|(_, s)| s.valid_since)
            .map(|(i, _)| i)
        {
            self.current = self.future[pos].salt;
            self.future.drain(..=pos.min(self.future.len() - 1));
        }
        self.current
    }

    /// The salt currently in use, without consulting the schedule.
    pub fn peek(&self) -> i64 {
        self.current
    }

    /// Replaces the current salt (bad_server_salt, new_session_created).
    pub fn set_current(&mut self, salt: i64) {
        self.current = salt;
    }

    /// Merges future salts (from future_salts), keeping them sorted and bounded.
    pub fn add_future(&mut self, salts: impl IntoIterator<Item = Salt>) {
        for s in salts {
            if !self
                .future
                .iter()
                .any(|f| f.salt == s.salt && f.valid_since == s.valid_since)
            {
                self.future.push(s);
            }
        }
        self.future.sort_by_key(|s| s.valid_since);
        if self.future.len() > MAX_FUTURE {
            let extra = self.future.len() - MAX_FUTURE;
            self.future.drain(..extra);
        }
    }

    /// Future salts known, oldest first.
    pub fn future(&self) -> &[Salt] {
        &self.future
    }

    /// Whether fewer than `min` future salts remain valid after `server_now` (time to ask).
    pub fn wants_more(&self, server_now: i64, min: usize) -> bool {
        self.future
            .iter()
            .filter(|s| s.valid_until > server_now)
            .count()
            < min
    }
}

/// The server's salt schedule: one salt per period, derived by a caller-given function of the
/// period number (so the schedule is deterministic under a seed).
#[derive(Clone, Debug)]
pub struct SaltSchedule {
    period_secs: i64,
    seed: u64,
}

impl SaltSchedule {
    /// A schedule changing salts every `period_secs` (at least 1), salts derived from `seed`.
    pub fn new(period_secs: i64, seed: u64) -> Self {
        SaltSchedule {
            period_secs: period_secs.max(1),
            seed,
        }
    }

    fn salt_of_period(&self, period: i64) -> i64 {
        // SplitMix64 of seed + period: a well-mixed deterministic 64-bit value.
        let mut z = self
            .seed
            .wrapping_add((period as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as i64
    }

    /// The salt valid at server time `now`, with its interval.
    pub fn at(&self, now: i64) -> Salt {
        let period = now.div_euclid(self.period_secs);
        let since = period * self.period_secs;
        Salt {
            valid_since: since,
            valid_until: since + self.period_secs,
            salt: self.salt_of_period(period),
        }
    }

    /// `count` salts starting with the one valid at `now` (for get_future_salts).
    pub fn upcoming(&self, now: i64, count: usize) -> Vec<Salt> {
        let first = now.div_euclid(self.period_secs);
        (0..count as i64)
            .map(|k| {
                let since = (first + k) * self.period_secs;
                Salt {
                    valid_since: since,
                    valid_until: since + self.period_secs,
                    salt: self.salt_of_period(first + k),
                }
            })
            .collect()
    }

    /// Whether a client may use `salt` at `now`: the current salt, or one that stopped being
    /// current less than [`SALT_GRACE_SECS`] ago.
    pub fn accepts(&self, salt: i64, now: i64) -> bool {
        let current = now.div_euclid(self.period_secs);
        let grace_periods = (SALT_GRACE_SECS + self.period_secs - 1) / self.period_secs;
        (0..=grace_periods).any(|k| {
            let p = current - k;
            let ended = (p + 1) * self.period_secs;
            (k == 0 || now - ended < SALT_GRACE_SECS) && self.salt_of_period(p) == salt
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_switches_to_valid_future_salt() {
        let mut b = SaltBook::new(7);
        b.add_future([
            Salt {
                valid_since: 100,
                valid_until: 200,
                salt: 1,
            },
            Salt {
                valid_since: 200,
                valid_until: 300,
                salt: 2,
            },
        ]);
        assert_eq!(b.current(50), 7);
        assert_eq!(b.current(150), 1);
        assert_eq!(b.future().len(), 1);
        assert_eq!(b.current(250), 2);
        assert!(b.future().is_empty());
        assert!(b.wants_more(250, 1));
        b.set_current(9);
        assert_eq!(b.current(260), 9);
    }

    #[test]
    fn schedule_is_deterministic_and_has_grace() {
        let s = SaltSchedule::new(3600, 42);
        let a = s.at(10_000);
        assert_eq!(a, s.at(10_001));
        assert_eq!(s.upcoming(10_000, 3)[0], a);
        assert!(s.accepts(a.salt, 10_000));
        // the previous salt is accepted during the grace period, then no more
        let next_start = a.valid_until;
        assert!(s.accepts(a.salt, next_start + 10));
        assert!(!s.accepts(a.salt, next_start + SALT_GRACE_SECS + 1));
        assert!(!s.accepts(a.salt ^ 1, 10_000));
        assert_ne!(s.at(10_000).salt, s.at(20_000).salt);
    }
}
