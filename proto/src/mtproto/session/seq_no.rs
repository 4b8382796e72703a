//! Message sequence numbers (core.telegram.org/mtproto/description#message-sequence-number-msg-seqno).
//!
//! Each side counts the content-related messages it has sent. A content-related message gets
//! `2 * count + 1` and increments the count; any other message (acks, containers, pings' pongs
//! are content-related, acks and containers are not) gets `2 * count`.

/// Sequence-number counter for the messages one side sends in one session.
#[derive(Clone, Debug, Default)]
pub(super) struct SeqNo {
    content_related: i32,
}

impl SeqNo {
    /// A counter at the start of a session.
    pub(super) fn new() -> Self {
        SeqNo::default()
    }

    /// The seq_no for the next message; `content_related` messages advance the counter.
    pub(super) fn next(&mut self, content_related: bool) -> i32 {
        let base = self.content_related.wrapping_mul(2);
        if content_related {
            self.content_related = self.content_related.wrapping_add(1);
            base | 1
        } else {
            base
        }
    }

    /// Restarts the count (a new session).
    pub(super) fn reset(&mut self) {
        self.content_related = 0;
    }
}

/// Whether a seq_no received claims a content-related message (it is odd).
pub(super) const fn is_content_related(seq_no: i32) -> bool {
    seq_no & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_for_content_even_otherwise() {
        let mut s = SeqNo::new();
        assert_eq!(s.next(false), 0);
        assert_eq!(s.next(true), 1);
        assert_eq!(s.next(true), 3);
        assert_eq!(s.next(false), 4);
        assert_eq!(s.next(true), 5);
        assert!(is_content_related(5));
        assert!(!is_content_related(4));
        s.reset();
        assert_eq!(s.next(true), 1);
    }
}
