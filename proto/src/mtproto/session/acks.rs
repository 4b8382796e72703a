//! msgs_ack batching: msg_ids of received content-related messages wait here until enough
//! accumulate, a deadline passes, or another message leaves and can carry them.

use std::time::Duration;

/// Flush when this many acks are pending.
pub(super) const ACK_BATCH: usize = 16;
/// Flush at the latest this long after the first pending ack.
pub(super) const ACK_DELAY: Duration = Duration::from_millis(500);
/// One msgs_ack carries at most this many ids (Telegram's vector limit is 8192).
pub(super) const ACK_MAX_PER_MESSAGE: usize = 8192;

/// Pending acknowledgements.
#[derive(Clone, Debug, Default)]
pub(super) struct AckQueue {
    pending: Vec<i64>,
    deadline: Option<Duration>,
}

impl AckQueue {
    /// An empty queue.
    pub(super) fn new() -> Self {
        AckQueue::default()
    }

    /// Queues `msg_id` at local time `now`.
    pub(super) fn push(&mut self, msg_id: i64, now: Duration) {
        if self.pending.contains(&msg_id) {
            return;
        }
        if self.pending.is_empty() {
            self.deadline = Some(now + ACK_DELAY);
        }
        self.pending.push(msg_id);
    }

    /// Whether the batch should go out now (full, or its deadline passed).
    pub(super) fn due(&self, now: Duration) -> bool {
        self.pending.len() >= ACK_BATCH || self.deadline.is_some_and(|d| now >= d)
    }

    /// When the pending acks must be sent, if any are pending.
    pub(super) fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Whether nothing is pending.
    pub(super) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes up to [`ACK_MAX_PER_MESSAGE`] pending ids.
    pub(super) fn take(&mut self) -> Vec<i64> {
        let n = self.pending.len().min(ACK_MAX_PER_MESSAGE);
        let out: Vec<i64> = self.pending.drain(..n).collect();
        if self.pending.is_empty() {
            self.deadline = None;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_by_count_and_deadline() {
        let mut q = AckQueue::new();
        let t0 = Duration::from_secs(100);
        q.push(4, t0);
        q.push(4, t0);
        assert!(!q.due(t0));
        assert_eq!(q.deadline(), Some(t0 + ACK_DELAY));
        assert!(q.due(t0 + ACK_DELAY));
        for i in 1..ACK_BATCH as i64 {
            q.push(4 + 4 * i, t0);
        }
        assert!(q.due(t0));
        assert_eq!(q.take().len(), ACK_BATCH);
        assert!(q.is_empty());
        assert_eq!(q.deadline(), None);
    }
}
