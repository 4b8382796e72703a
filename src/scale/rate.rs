//! The global bandwidth cap: `--limit-rate 20M` and the limiter every download shares.
//!
//! The syntax is curl's and wget's: a number of bytes per second, optionally with a fraction
//! and a `K`, `M`, `G` or `T` suffix (either case), each a power of 1024: `20M` is
//! 20 MiB/s, `1.5k` is 1536 B/s. Zero, negative, empty and overflowing rates are refused.
//!
//! [`BandwidthLimiter`] is one token bucket of bytes behind a lock; each part's bytes are
//! taken before the part is requested, in debt when a part is larger than what is saved up,
//! and the caller sleeps the debt off. Over any window of `T` seconds at most
//! `rate · T + burst + one part` bytes pass, where the burst is a quarter second's worth.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::bucket::TokenBucket;

/// Why a `--limit-rate` value is unusable (one line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateError(String);

impl fmt::Display for RateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--limit-rate {}: expected bytes per second like 20M, 512K or 100000",
            self.0
        )
    }
}

impl std::error::Error for RateError {}

/// Parses a byte rate (`20M`, `512k`, `1.5G`, `100000`) into bytes per second.
pub fn parse_rate(text: &str) -> Result<u64, RateError> {
    let bad = || RateError(format!("{text:?}"));
    let t = text.trim();
    let (number, shift) = match t.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&t[..t.len() - 1], 10),
        Some(b'M') => (&t[..t.len() - 1], 20),
        Some(b'G') => (&t[..t.len() - 1], 30),
        Some(b'T') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    // Digits with at most one '.', nothing else (f64 parsing alone would take "inf", "1e3").
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = value * (1u64 << shift) as f64;
    // 2^63 B/s is far past any line; the bound keeps the conversion exact and in range.
    if !(1.0..9.2e18).contains(&bytes) {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// A byte budget shared by every task of the process. Clone it freely.
#[derive(Clone, Debug)]
pub struct BandwidthLimiter {
    bucket: Arc<Mutex<TokenBucket>>,
    rate: u64,
}

impl BandwidthLimiter {
    /// A limiter passing `bytes_per_second` (at least 1) on average.
    pub fn new(bytes_per_second: u64) -> Self {
        let rate = bytes_per_second.max(1);
        let burst = (rate as f64 / 4.0).max(1.0);
        BandwidthLimiter {
            bucket: Arc::new(Mutex::new(TokenBucket::new(rate as f64, burst, now()))),
            rate,
        }
    }

    /// The cap, in bytes per second.
    pub fn bytes_per_second(&self) -> u64 {
        self.rate
    }

    /// Takes `bytes` from the budget, sleeping as long as that puts the process over the cap.
    pub async fn acquire(&self, bytes: usize) {
        let wait = self
            .bucket
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_debt(bytes as f64, now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Tokio's clock (which tests can pause and advance), as a std instant.
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_curl_style_rates() {
        for (text, want) in [
            ("20M", 20 << 20),
            ("20m", 20 << 20),
            ("512K", 512 << 10),
            ("1.5k", 1536),
            ("100000", 100_000),
            (" 2G ", 2 << 30),
            ("1T", 1 << 40),
            (".5M", 1 << 19),
        ] {
            assert_eq!(parse_rate(text), Ok(want), "{text}");
        }
        for text in [
            "", "M", "0", "0.0001", "-5M", "20MB", "1e6", "inf", "NaN", "1.2.3", "9999999T", "20 M",
        ] {
            let e = parse_rate(text).unwrap_err().to_string();
            assert!(e.starts_with("--limit-rate ") && !e.contains('\n'), "{e}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn holds_the_rate_across_tasks() {
        // 4 tasks × 8 parts × 1 MiB through a 4 MiB/s cap: 32 MiB, of which the 1 MiB burst
        // passes at once, so the last part may leave after 31 / 4 = 7.75 s, not before.
        let mib = 1 << 20;
        let limiter = BandwidthLimiter::new(4 * mib as u64);
        let t0 = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let l = limiter.clone();
                tokio::spawn(async move {
                    for _ in 0..8 {
                        l.acquire(mib).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let elapsed = t0.elapsed().as_secs_f64();
        assert!((7.7..8.1).contains(&elapsed), "{elapsed} s");
        // Small takes within the burst do not wait at all.
        let small = BandwidthLimiter::new(4 * mib as u64);
        let t1 = tokio::time::Instant::now();
        small.acquire(mib / 2).await;
        assert_eq!(t1.elapsed(), Duration::ZERO);
    }
}
