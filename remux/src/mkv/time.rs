//! Matroska time → track ticks.
//!
//! Matroska block and cluster timestamps count units of `TimestampScale` nanoseconds
//! (1 ms by default). The demuxer gives every track of a file the same exact timescale:
//! `timescale = 1e9 / g` ticks per second, where `g = gcd(1e9, TimestampScale)`, and a
//! Matroska timestamp `t` becomes `t * (TimestampScale / g)` ticks. For the default scale this
//! is 1000 ticks per second and the timestamp itself, which is also ffmpeg's stream time base
//! for Matroska. Nothing is rounded, so the MP4 muxer can rescale exactly.

/// Conversion from Matroska timestamps (and nanoseconds) to ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeBase {
    /// Ticks per second.
    pub(crate) timescale: u32,
    /// Ticks per Matroska timestamp unit.
    pub(crate) per_unit: u64,
    /// TimestampScale in nanoseconds.
    pub(crate) scale_ns: u64,
}

const NS_PER_SEC: u64 = 1_000_000_000;

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl TimeBase {
    /// The time base for a TimestampScale (nanoseconds per unit, non-zero).
    pub(crate) fn new(scale_ns: u64) -> TimeBase {
        let scale_ns = scale_ns.max(1);
        let g = gcd(NS_PER_SEC, scale_ns);
        TimeBase {
            // 1e9 / g <= 1e9 < 2^32.
            timescale: (NS_PER_SEC / g) as u32,
            per_unit: scale_ns / g,
            scale_ns,
        }
    }

    /// A Matroska timestamp in ticks, `None` on overflow.
    pub(crate) fn ticks(&self, units: i64) -> Option<i64> {
        units.checked_mul(i64::try_from(self.per_unit).ok()?)
    }

    /// Nanoseconds in ticks, rounded to the nearest tick.
    pub(crate) fn ns_to_ticks(&self, ns: u64) -> u64 {
        let t = (u128::from(ns) * u128::from(self.timescale) + u128::from(NS_PER_SEC / 2))
            / u128::from(NS_PER_SEC);
        u64::try_from(t).unwrap_or(u64::MAX)
    }

    /// Nanoseconds in Matroska timestamp units, rounded down (ffmpeg's rule for spacing laced
    /// frames by DefaultDuration).
    pub(crate) fn ns_to_units_floor(&self, ns: u64) -> u64 {
        ns / self.scale_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scale_is_milliseconds() {
        let tb = TimeBase::new(1_000_000);
        assert_eq!((tb.timescale, tb.per_unit), (1000, 1));
        assert_eq!(tb.ticks(-5), Some(-5));
        assert_eq!(tb.ns_to_ticks(40_000_000), 40);
        assert_eq!(tb.ns_to_ticks(33_366_667), 33);
    }

    #[test]
    fn odd_scales_stay_exact() {
        let tb = TimeBase::new(1_000_003);
        assert_eq!((tb.timescale, tb.per_unit), (1_000_000_000, 1_000_003));
        let tb = TimeBase::new(100_000);
        assert_eq!((tb.timescale, tb.per_unit), (10_000, 1));
        let tb = TimeBase::new(3_000_000_000);
        assert_eq!((tb.timescale, tb.per_unit), (1, 3));
        assert_eq!(TimeBase::new(1).ticks(i64::MAX), Some(i64::MAX));
        assert_eq!(TimeBase::new(3).ticks(i64::MAX), None);
    }
}
