//! Scale-out policies: pure decisions, no I/O, the clock and randomness are arguments.
//!
//! - [`bucket`]: a token bucket (rate R per second, burst B), the building block of request
//!   pacing and of the bandwidth cap.
//! - [`backoff`]: exponential backoff with full jitter, for retries.
//! - [`choose`]: which account and which of its connections serves the next part, by live
//!   load (parts in flight, latency EWMA) and flood deadlines per (account, DC).
//! - [`rate`]: the `--limit-rate 20M` syntax and the process-wide bandwidth limiter.
//!
//! The shared state these decisions read (flood deadlines, shared buckets) lives in
//! [`crate::store`]; see docs/scale.md.

pub mod backoff;
pub mod bucket;
pub mod choose;
pub mod rate;
