//! Exponential backoff with full jitter.
//!
//! Retry `k` (from 0) waits a uniformly random time in `[0, min(cap, base · 2^k)]`: the
//! ceiling doubles, and the whole interval is random, so many clients that failed together
//! (a DC restart, a flood wave) come back spread out instead of in synchronized waves. This is
//! the "full jitter" variant, which does the least total work of the common schemes for the
//! same completion time. The randomness is an argument, so tests use a seeded generator.

use std::time::Duration;

use rand::Rng;

/// A retry schedule; call [`Backoff::next_delay`] before each retry, [`Backoff::reset`] after a
/// success.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    /// A schedule whose first ceiling is `base` and that never waits more than `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap: cap.max(base),
            attempt: 0,
        }
    }

    /// Retries so far (since the last reset).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The ceiling of the next delay: `min(cap, base · 2^attempt)`.
    pub fn ceiling(&self) -> Duration {
        // 2^31 · base overflows long before it matters; checked_mul keeps it at the cap.
        self.base
            .checked_mul(1u32.checked_shl(self.attempt).unwrap_or(u32::MAX))
            .map_or(self.cap, |c| c.min(self.cap))
    }

    /// The wait before the next retry (uniform in `[0, ceiling]`), and counts the retry.
    pub fn next_delay<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.gen_range(0..=nanos))
    }

    /// Starts over from `base` (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let mut rng = StdRng::seed_from_u64(1);
        let mut ceilings = Vec::new();
        for _ in 0..8 {
            ceilings.push(b.ceiling().as_millis());
            let d = b.next_delay(&mut rng);
            assert!(d.as_millis() <= *ceilings.last().unwrap());
        }
        assert_eq!(ceilings, [100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        b.reset();
        assert_eq!((b.attempt(), b.ceiling().as_millis()), (0, 100));
        // Thousands of retries neither overflow nor pass the cap.
        for _ in 0..5000 {
            assert!(b.next_delay(&mut rng) <= Duration::from_secs(2));
        }
    }

    #[test]
    fn delays_are_spread_over_the_whole_interval() {
        // Full jitter: uniform on [0, ceiling]. 4000 draws at a 1 s ceiling: the mean is near
        // 0.5 s and each tenth of the interval gets about 400 (a fixed delay, or "equal
        // jitter" on [c/2, c], fails both).
        let mut rng = StdRng::seed_from_u64(7);
        let mut bins = [0u32; 10];
        let mut sum = 0.0;
        for _ in 0..4000 {
            let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(1));
            let d = b.next_delay(&mut rng).as_secs_f64();
            sum += d;
            bins[((d * 10.0) as usize).min(9)] += 1;
        }
        let mean = sum / 4000.0;
        assert!((mean - 0.5).abs() < 0.03, "mean {mean}");
        assert!(bins.iter().all(|&n| (320..480).contains(&n)), "{bins:?}");
    }
}
