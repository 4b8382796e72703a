//! The error codes of `bad_msg_notification` and `bad_server_salt`
//! (core.telegram.org/mtproto/service_messages_about_messages#notice-of-ignored-error-message).

/// Why the peer ignored one of our messages (the `error_code` of `bad_msg_notification`; 48 is
/// `bad_server_salt`'s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BadMsgCode {
    /// 16: msg_id too low (the sender's clock is behind).
    MsgIdTooLow,
    /// 17: msg_id too high (the sender's clock is ahead).
    MsgIdTooHigh,
    /// 18: the two low bits of the msg_id are wrong for the sender's role.
    MsgIdWrongParity,
    /// 19: a container's msg_id is the same as one received before.
    ContainerMsgIdReused,
    /// 20: the message is too old to know whether it was received.
    MessageTooOld,
    /// 32: seq_no too low.
    SeqNoTooLow,
    /// 33: seq_no too high.
    SeqNoTooHigh,
    /// 34: an even seq_no was expected (not content-related), an odd one came.
    EvenSeqNoExpected,
    /// 35: an odd seq_no was expected (content-related), an even one came.
    OddSeqNoExpected,
    /// 48: wrong server salt (sent as `bad_server_salt`, with the right one).
    BadServerSalt,
    /// 64: invalid container.
    InvalidContainer,
}

impl BadMsgCode {
    /// Every code, in numeric order.
    pub const ALL: [BadMsgCode; 11] = [
        BadMsgCode::MsgIdTooLow,
        BadMsgCode::MsgIdTooHigh,
        BadMsgCode::MsgIdWrongParity,
        BadMsgCode::ContainerMsgIdReused,
        BadMsgCode::MessageTooOld,
        BadMsgCode::SeqNoTooLow,
        BadMsgCode::SeqNoTooHigh,
        BadMsgCode::EvenSeqNoExpected,
        BadMsgCode::OddSeqNoExpected,
        BadMsgCode::BadServerSalt,
        BadMsgCode::InvalidContainer,
    ];

    /// The number on the wire.
    pub const fn code(self) -> i32 {
        match self {
            BadMsgCode::MsgIdTooLow => 16,
            BadMsgCode::MsgIdTooHigh => 17,
            BadMsgCode::MsgIdWrongParity => 18,
            BadMsgCode::ContainerMsgIdReused => 19,
            BadMsgCode::MessageTooOld => 20,
            BadMsgCode::SeqNoTooLow => 32,
            BadMsgCode::SeqNoTooHigh => 33,
            BadMsgCode::EvenSeqNoExpected => 34,
            BadMsgCode::OddSeqNoExpected => 35,
            BadMsgCode::BadServerSalt => 48,
            BadMsgCode::InvalidContainer => 64,
        }
    }

    /// The code a number on the wire stands for, if it is one of the documented ones.
    pub fn from_code(code: i32) -> Option<BadMsgCode> {
        BadMsgCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether the sender's clock is off (16, 17): the notification's own msg_id gives the
    /// peer's time.
    pub const fn is_clock(self) -> bool {
        matches!(self, BadMsgCode::MsgIdTooLow | BadMsgCode::MsgIdTooHigh)
    }

    /// Whether the sender's seq_no count is off (32, 33).
    pub const fn is_seq_no_count(self) -> bool {
        matches!(self, BadMsgCode::SeqNoTooLow | BadMsgCode::SeqNoTooHigh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_numbers_are_none() {
        for c in BadMsgCode::ALL {
            assert_eq!(BadMsgCode::from_code(c.code()), Some(c));
        }
        let numbers: Vec<i32> = BadMsgCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(numbers, [16, 17, 18, 19, 20, 32, 33, 34, 35, 48, 64]);
        for n in [0, 1, 15, 21, 36, 47, 49, 63, 65, -16] {
            assert_eq!(BadMsgCode::from_code(n), None);
        }
    }
}
