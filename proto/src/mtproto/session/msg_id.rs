//! Message identifiers: time-based, strictly increasing, with the residue mod 4 of the role.
//!
//! A msg_id is approximately `unixtime * 2^32`: the high 32 bits are seconds, the low 32 bits a
//! fraction of a second (core.telegram.org/mtproto/description#message-identifier-msg-id).
//! Clients send msg_ids divisible by 4; the server sends 1 mod 4 for responses and 3 mod 4 for
//! messages it starts itself. The clock is an argument: `now` is the local wall clock as a
//! duration since the UNIX epoch, and the generator adds the known server time offset.

use std::time::Duration;

/// Which residue mod 4 a generated msg_id carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgIdKind {
    /// A message sent by a client (`≡ 0 mod 4`).
    Client,
    /// A server message answering a client message (`≡ 1 mod 4`).
    ServerResponse,
    /// A server message not answering anything (`≡ 3 mod 4`).
    ServerInitiated,
}

impl MsgIdKind {
    /// The residue mod 4 of msg_ids of this kind.
    pub const fn residue(self) -> i64 {
        match self {
            MsgIdKind::Client => 0,
            MsgIdKind::ServerResponse => 1,
            MsgIdKind::ServerInitiated => 3,
        }
    }
}

/// The msg_id a message sent at `now + offset_secs` would carry before the residue is applied:
/// seconds in the high half, the sub-second fraction scaled to 2^32 in the low half.
pub(super) fn msg_id_at(now: Duration, offset_secs: i32) -> i64 {
    let secs = (now.as_secs() as i64).saturating_add(i64::from(offset_secs));
    let frac = (u64::from(now.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac as i64
}

/// The server time (seconds since the epoch) a msg_id claims.
pub(super) const fn msg_id_secs(msg_id: i64) -> i64 {
    msg_id >> 32
}

/// Generates strictly increasing msg_ids for one session.
#[derive(Clone, Debug)]
pub struct MsgIdGen {
    last: i64,
    offset_secs: i32,
}

impl MsgIdGen {
    /// A generator with the given server time offset (server time − local time, seconds).
    pub fn new(offset_secs: i32) -> Self {
        MsgIdGen {
            last: 0,
            offset_secs,
        }
    }

    /// The current time offset in seconds (server time − local time).
    pub fn offset(&self) -> i32 {
        self.offset_secs
    }

    /// Replaces the time offset, e.g. after bad_msg_notification 16/17. The ids keep
    /// increasing whatever the new offset: when the clock moves back they stay just above the
    /// last one until the clock catches up (a session whose ids ran too far ahead starts a new
    /// session, with a new generator).
    pub fn set_offset(&mut self, offset_secs: i32) {
        self.offset_secs = offset_secs;
    }

    /// Sets the offset so that the local time `now` corresponds to the server's `server_msg_id`.
    pub fn correct_from_server_msg_id(&mut self, now: Duration, server_msg_id: i64) {
        let server_secs = msg_id_secs(server_msg_id);
        let local = now.as_secs() as i64;
        let offset = server_secs
            .saturating_sub(local)
            .clamp(i64::from(i32::MIN), i64::from(i32::MAX));
        self.set_offset(offset as i32);
    }

    /// Server time in seconds at local time `now`.
    pub fn server_secs(&self, now: Duration) -> i64 {
        (now.as_secs() as i64).saturating_add(i64::from(self.offset_secs))
    }

    /// The next msg_id of the given kind at local time `now`; always greater than the last one.
    pub fn next(&mut self, now: Duration, kind: MsgIdKind) -> i64 {
        let base = msg_id_at(now, self.offset_secs) & !3;
        let mut id = base | kind.residue();
        if id <= self.last {
            id = (self.last & !3).saturating_add(4) | kind.residue();
        }
        self.last = id;
        id
    }

    /// The last msg_id generated (0 before the first).
    pub fn last(&self) -> i64 {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residues_and_monotonic() {
        let mut g = MsgIdGen::new(0);
        let now = Duration::new(1_700_000_000, 500_000_000);
        let a = g.next(now, MsgIdKind::Client);
        let b = g.next(now, MsgIdKind::Client);
        assert_eq!(a % 4, 0);
        assert_eq!(b % 4, 0);
        assert!(b > a);
        assert_eq!(msg_id_secs(a), 1_700_000_000);
        let r = g.next(now, MsgIdKind::ServerResponse);
        let s = g.next(now, MsgIdKind::ServerInitiated);
        assert_eq!(r % 4, 1);
        assert_eq!(s % 4, 3);
        assert!(r > b && s > r);
        // the clock going backwards does not make ids go backwards
        let c = g.next(Duration::from_secs(1_600_000_000), MsgIdKind::Client);
        assert!(c > s);
        assert_eq!(c % 4, 0);
    }

    #[test]
    fn offset_shifts_seconds() {
        let mut g = MsgIdGen::new(-300);
        let now = Duration::from_secs(1_700_000_000);
        assert_eq!(
            msg_id_secs(g.next(now, MsgIdKind::Client)),
            1_700_000_000 - 300
        );
        g.correct_from_server_msg_id(now, (1_700_000_120i64 << 32) | 1);
        assert_eq!(g.offset(), 120);
        assert_eq!(msg_id_secs(g.next(now, MsgIdKind::Client)), 1_700_000_120);
    }

    #[test]
    fn ids_keep_increasing_when_the_offset_moves_back() {
        let now = Duration::from_secs(1_700_000_000);
        let mut g = MsgIdGen::new(600);
        let mut last = g.next(now, MsgIdKind::Client);
        for offset in [0, -600, i32::MIN, 30, -1] {
            g.set_offset(offset);
            let id = g.next(now, MsgIdKind::Client);
            assert!(id > last, "offset {offset}: {id:#x} after {last:#x}");
            last = id;
        }
        g.correct_from_server_msg_id(now, ((1_600_000_000i64) << 32) | 1);
        assert!(g.next(now, MsgIdKind::Client) > last);
    }

    #[test]
    fn fraction_is_scaled_to_two_to_the_32() {
        // Half a second is 2^31 in the low half.
        assert_eq!(
            msg_id_at(Duration::new(1, 500_000_000), 0),
            (1i64 << 32) | (1i64 << 31)
        );
    }
}
