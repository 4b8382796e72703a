//! The receive window: which incoming msg_ids are acceptable.
//!
//! Per core.telegram.org/mtproto/description and the security guidelines, a receiver rejects
//! msg_ids with the wrong parity for the sender's role, msg_ids more than 300 s in the past or
//! more than 30 s in the future (against the receiver's idea of server time), and msg_ids it
//! has already seen. Seen ids are remembered in a bounded set; an id lower than everything the
//! full set remembers cannot be proven fresh and is rejected as a possible replay.

use std::collections::BTreeSet;

use super::bad_msg::BadMsgCode;
use super::msg_id::msg_id_secs;

/// How far in the past an incoming msg_id may be, in seconds.
pub const MAX_PAST_SECS: i64 = 300;
/// How far in the future an incoming msg_id may be, in seconds.
pub const MAX_FUTURE_SECS: i64 = 30;
/// How many msg_ids the window remembers for duplicate detection.
pub(super) const REMEMBERED: usize = 4096;

/// Whose msg_ids this window checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sender {
    /// Ids from a client: must be `≡ 0 mod 4`.
    Client,
    /// Ids from a server: must be odd (`≡ 1` or `≡ 3 mod 4`).
    Server,
}

/// Why an incoming msg_id was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WindowError {
    /// More than [`MAX_PAST_SECS`] in the past (bad_msg_notification code 16).
    TooOld {
        /// The refused msg_id.
        msg_id: i64,
    },
    /// More than [`MAX_FUTURE_SECS`] in the future (code 17).
    TooNew {
        /// The refused msg_id.
        msg_id: i64,
    },
    /// Wrong residue mod 4 for the sender's role (code 18).
    WrongParity {
        /// The refused msg_id.
        msg_id: i64,
    },
    /// Already received, or older than every remembered id of a full window (code 19/20).
    Duplicate {
        /// The refused msg_id.
        msg_id: i64,
    },
}

impl WindowError {
    /// The bad_msg_notification error code a server answers this refusal with.
    pub fn bad_msg_code(self) -> BadMsgCode {
        match self {
            WindowError::TooOld { .. } => BadMsgCode::MsgIdTooLow,
            WindowError::TooNew { .. } => BadMsgCode::MsgIdTooHigh,
            WindowError::WrongParity { .. } => BadMsgCode::MsgIdWrongParity,
            WindowError::Duplicate { .. } => BadMsgCode::ContainerMsgIdReused,
        }
    }
}

/// Remembers recent msg_ids of one peer and checks new ones.
#[derive(Clone, Debug)]
pub(super) struct ReceiveWindow {
    sender: Sender,
    seen: BTreeSet<i64>,
    capacity: usize,
}

impl ReceiveWindow {
    /// A window for messages sent by `sender`, remembering [`REMEMBERED`] ids.
    pub(super) fn new(sender: Sender) -> Self {
        Self::with_capacity(sender, REMEMBERED)
    }

    /// A window remembering at most `capacity` ids (at least 1).
    pub(super) fn with_capacity(sender: Sender, capacity: usize) -> Self {
        ReceiveWindow {
            sender,
            seen: BTreeSet::new(),
            capacity: capacity.max(1),
        }
    }

    /// Checks the parity and time of `msg_id` against `server_now` (server time, seconds)
    /// without remembering it.
    pub(super) fn check_time_and_parity(
        &self,
        msg_id: i64,
        server_now: i64,
    ) -> Result<(), WindowError> {
        self.check_parity(msg_id)?;
        self.check_time(msg_id, server_now)
    }

    /// Checks the residue mod 4 of `msg_id` for the sender's role.
    pub(super) fn check_parity(&self, msg_id: i64) -> Result<(), WindowError> {
        let parity_ok = match self.sender {
            Sender::Client => msg_id & 3 == 0,
            Sender::Server => msg_id & 1 == 1,
        };
        if parity_ok {
            Ok(())
        } else {
            Err(WindowError::WrongParity { msg_id })
        }
    }

    /// Checks that `msg_id` is no more than [`MAX_PAST_SECS`] before and [`MAX_FUTURE_SECS`]
    /// after `server_now` (server time, seconds).
    pub(super) fn check_time(&self, msg_id: i64, server_now: i64) -> Result<(), WindowError> {
        let secs = msg_id_secs(msg_id);
        if secs < server_now.saturating_sub(MAX_PAST_SECS) {
            return Err(WindowError::TooOld { msg_id });
        }
        if secs > server_now.saturating_add(MAX_FUTURE_SECS) {
            return Err(WindowError::TooNew { msg_id });
        }
        Ok(())
    }

    /// Duplicate check only (time and parity are checked separately). Remembers the id when
    /// accepted.
    pub(super) fn accept_unchecked_time(&mut self, msg_id: i64) -> Result<(), WindowError> {
        if self.seen.contains(&msg_id) {
            return Err(WindowError::Duplicate { msg_id });
        }
        if self.seen.len() >= self.capacity {
            let lowest = *self.seen.first().expect("non-empty when full");
            if msg_id < lowest {
                return Err(WindowError::Duplicate { msg_id });
            }
            self.seen.pop_first();
        }
        self.seen.insert(msg_id);
        Ok(())
    }

    /// Whether `msg_id` was received (and is still remembered).
    pub(super) fn contains(&self, msg_id: i64) -> bool {
        self.seen.contains(&msg_id)
    }

    /// Forgets everything (a new session).
    pub(super) fn clear(&mut self) {
        self.seen.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl ReceiveWindow {
        /// Checks `msg_id` fully and remembers it when accepted.
        fn accept(&mut self, msg_id: i64, server_now: i64) -> Result<(), WindowError> {
            self.check_time_and_parity(msg_id, server_now)?;
            self.accept_unchecked_time(msg_id)
        }
    }

    const NOW: i64 = 1_700_000_000;

    fn id(secs: i64, low: i64) -> i64 {
        (secs << 32) | low
    }

    #[test]
    fn accepts_fresh_rejects_duplicate() {
        let mut w = ReceiveWindow::new(Sender::Client);
        assert_eq!(w.accept(id(NOW, 4), NOW), Ok(()));
        assert_eq!(
            w.accept(id(NOW, 4), NOW),
            Err(WindowError::Duplicate { msg_id: id(NOW, 4) })
        );
        assert_eq!(w.accept(id(NOW, 8), NOW), Ok(()));
    }

    #[test]
    fn time_bounds() {
        let w = ReceiveWindow::new(Sender::Server);
        assert_eq!(w.check_time_and_parity(id(NOW - 300, 1), NOW), Ok(()));
        assert!(matches!(
            w.check_time_and_parity(id(NOW - 301, 1), NOW),
            Err(WindowError::TooOld { .. })
        ));
        assert_eq!(w.check_time_and_parity(id(NOW + 30, 3), NOW), Ok(()));
        assert!(matches!(
            w.check_time_and_parity(id(NOW + 31, 1), NOW),
            Err(WindowError::TooNew { .. })
        ));
    }

    #[test]
    fn parity_per_role() {
        let c = ReceiveWindow::new(Sender::Client);
        assert!(matches!(
            c.check_time_and_parity(id(NOW, 1), NOW),
            Err(WindowError::WrongParity { .. })
        ));
        assert!(matches!(
            c.check_time_and_parity(id(NOW, 2), NOW),
            Err(WindowError::WrongParity { .. })
        ));
        let s = ReceiveWindow::new(Sender::Server);
        assert!(matches!(
            s.check_time_and_parity(id(NOW, 4), NOW),
            Err(WindowError::WrongParity { .. })
        ));
        assert_eq!(s.check_time_and_parity(id(NOW, 3), NOW), Ok(()));
    }

    #[test]
    fn full_window_rejects_ids_below_memory() {
        let mut w = ReceiveWindow::with_capacity(Sender::Client, 3);
        for k in 1..=3 {
            w.accept(id(NOW, 4 * k + 40), NOW).unwrap();
        }
        // Lower than all remembered while full: cannot prove it fresh.
        assert!(matches!(
            w.accept(id(NOW, 4), NOW),
            Err(WindowError::Duplicate { .. })
        ));
        // Higher: accepted, the lowest is forgotten.
        assert_eq!(w.accept(id(NOW, 100), NOW), Ok(()));
        assert!(!w.contains(id(NOW, 44)));
        assert!(matches!(
            w.accept(id(NOW, 44), NOW),
            Err(WindowError::Duplicate { .. })
        ));
    }
}
