//! A token bucket: tokens accrue at `rate` per second up to `burst`; each request takes some.
//!
//! Time is an argument (`now`), so the arithmetic is tested without sleeping. Two ways to
//! take: [`TokenBucket::try_take`] refuses when there are too few tokens and says how long
//! until there are enough (request pacing: one token per request), and
//! [`TokenBucket::take_debt`] always takes and says how long the caller must wait until the
//! bucket is out of debt (byte budgets, where one 1 MiB part may exceed the burst).

use std::time::{Duration, Instant};

/// Tokens accruing at a steady rate up to a ceiling.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    /// May be negative after [`TokenBucket::take_debt`].
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket: `rate` tokens per second, at most `burst` saved up.
    ///
    /// # Panics
    /// When `rate` or `burst` is not a positive finite number (configuration is validated
    /// before it gets here).
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        assert!(
            rate.is_finite() && rate > 0.0 && burst.is_finite() && burst > 0.0,
            "token bucket needs a positive rate and burst (got {rate}, {burst})"
        );
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Tokens per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The most tokens the bucket holds.
    pub fn burst(&self) -> f64 {
        self.burst
    }

    /// The tokens there are at `now` (negative while in debt).
    pub fn available(&mut self, now: Instant) -> f64 {
        self.refill(now);
        self.tokens
    }

    /// Takes `n` tokens if there are that many at `now`; otherwise takes none and returns how
    /// long until there will be. Asking for more than the burst can never succeed: the wait
    /// returned is then the time to a full bucket, and the caller must ask for less.
    pub fn try_take(&mut self, n: f64, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= n {
            self.tokens -= n;
            Ok(())
        } else {
            Err(self.time_to(n.min(self.burst)))
        }
    }

    /// Takes `n` tokens even when that leaves the bucket in debt, and returns how long the
    /// caller should wait before going on (zero when the bucket stayed out of debt). Waiting
    /// that long after each take holds the long-run rate to `rate`.
    pub fn take_debt(&mut self, n: f64, now: Instant) -> Duration {
        self.refill(now);
        self.tokens -= n;
        self.time_to(0.0)
    }

    /// Adds `n` tokens obtained elsewhere (a lease from a shared bucket), up to the burst.
    pub fn add(&mut self, n: f64) {
        self.tokens = (self.tokens + n).min(self.burst);
    }

    /// Removes every token (the bucket starts empty, e.g. when its tokens come from a lease).
    pub fn drain(&mut self, now: Instant) {
        self.refill(now);
        self.tokens = self.tokens.min(0.0);
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        // A `now` older than `last` (callers racing) adds nothing and does not move time back.
        self.last = self.last.max(now);
    }

    /// Time until the bucket holds `target` tokens, from the state after a refill.
    fn time_to(&self, target: f64) -> Duration {
        let missing = target - self.tokens;
        if missing <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(missing / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn burst_then_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 3.0, t0);
        for _ in 0..3 {
            assert_eq!(b.try_take(1.0, t0), Ok(()));
        }
        // Empty: the next token is 100 ms away at 10/s.
        let wait = b.try_take(1.0, t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
        assert!(b.try_take(1.0, t0 + ms(99)).is_err());
        assert_eq!(b.try_take(1.0, t0 + ms(100)), Ok(()));
        // A long pause saves up no more than the burst.
        assert!((b.available(t0 + Duration::from_secs(60)) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn long_run_rate_is_the_rate() {
        // Taking one token whenever allowed, over 10 simulated seconds at 5/s with burst 2:
        // 2 (the burst) + 50 (accrued) = 52 tokens, never more.
        let t0 = Instant::now();
        let mut b = TokenBucket::new(5.0, 2.0, t0);
        let mut now = t0;
        let mut taken = 0;
        while now <= t0 + Duration::from_secs(10) {
            match b.try_take(1.0, now) {
                Ok(()) => taken += 1,
                Err(wait) => now += wait,
            }
        }
        assert_eq!(taken, 52);
    }

    #[test]
    fn debt_paces_large_takes() {
        // 1 MiB chunks through a 1 MiB/s bucket with a 256 KiB burst: the first goes at once
        // (owing 768 KiB, i.e. 0.75 s), then each waits a second.
        let t0 = Instant::now();
        let mib = 1048576.0;
        let mut b = TokenBucket::new(mib, mib / 4.0, t0);
        let w = b.take_debt(mib, t0);
        assert!((w.as_secs_f64() - 0.75).abs() < 1e-9, "{w:?}");
        let w = b.take_debt(mib, t0 + w);
        assert!((w.as_secs_f64() - 1.0).abs() < 1e-9, "{w:?}");
        assert_eq!(
            TokenBucket::new(mib, mib, t0).take_debt(1.0, t0),
            Duration::ZERO
        );
    }

    #[test]
    fn add_drain_and_time_going_back() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(1.0, 4.0, t0 + ms(1000));
        b.drain(t0 + ms(1000));
        assert_eq!(b.available(t0 + ms(1000)), 0.0);
        // An older `now` neither adds tokens nor moves the clock back.
        assert_eq!(b.available(t0), 0.0);
        b.add(10.0);
        assert_eq!(b.available(t0 + ms(1000)), 4.0, "capped at the burst");
        // Asking for more than the burst waits for a full bucket, never forever.
        b.drain(t0 + ms(1000));
        assert_eq!(b.try_take(9.0, t0 + ms(1000)), Err(Duration::from_secs(4)));
    }

    #[test]
    #[should_panic(expected = "positive rate")]
    fn zero_rate_is_refused() {
        TokenBucket::new(0.0, 1.0, Instant::now());
    }
}
