//! A tiny seeded random generator (SplitMix64) for deterministic faults.
//!
//! We want `--seed N` to give the same fault decisions on every run and every platform, so we
//! do not rely on `rand`'s `StdRng` (whose algorithm may change between versions). SplitMix64
//! is public-domain, well known and good enough for coin flips.

/// SplitMix64: a 64-bit state advanced by a constant, then mixed.
#[derive(Debug, Clone)]
pub(super) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator from a seed.
    pub(super) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A generator for one stream out of many (e.g. one per connection), independent of the
    /// others: the seed and the stream numbers are mixed together.
    pub(super) fn for_stream(seed: u64, streams: &[u64]) -> Self {
        let mut g = SplitMix64::new(seed);
        for s in streams {
            let mixed = g.next_u64() ^ s.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            g = SplitMix64::new(mixed);
        }
        g
    }

    /// The next 64 random bits.
    pub(super) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1).
    pub(super) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (p <= 0 never, p >= 1 always; no randomness is consumed then,
    /// so an absent fault does not shift the other faults' decisions).
    pub(super) fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.next_f64() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // Reference outputs of SplitMix64 seeded with 1234567 (from the algorithm's public
        // reference implementation by Sebastiano Vigna).
        let mut g = SplitMix64::new(1234567);
        let got: Vec<u64> = (0..5).map(|_| g.next_u64()).collect();
        assert_eq!(
            got,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423,
                4593380528125082431,
                16408922859458223821
            ]
        );
    }

    #[test]
    fn chance_frequency_and_determinism() {
        let mut a = SplitMix64::for_stream(7, &[2, 9]);
        let mut b = SplitMix64::for_stream(7, &[2, 9]);
        let hits = (0..10_000).filter(|_| a.chance(0.2)).count();
        assert!((1800..2200).contains(&hits), "{hits}");
        let mut c = SplitMix64::for_stream(7, &[2, 10]);
        assert_ne!(b.next_u64(), c.next_u64());
        assert!(!b.chance(0.0) && b.chance(1.0));
    }
}
