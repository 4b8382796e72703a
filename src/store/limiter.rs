//! Per-account request pacing, shared by every instance when the store is shared.
//!
//! Alone (file or memory store), a [`RequestLimiter`] is a local token bucket. On a shared
//! store, the account's one bucket lives in Redis and each instance takes tokens from it in
//! small leases (a quarter second's worth at the account's rate), then spends them locally:
//! the request on the hot path only ever touches the local lease, and a background task
//! takes the next lease when half of the current one is spent, so a request does not wait for
//! a Redis round trip unless the shared bucket itself is empty. When a lease comes back short
//! (the shared bucket is drained: the account runs at its rate), the next is asked for only
//! when a whole lease has accrued, so a busy account costs about four round trips a second
//! per instance, whatever its request rate. With the shared side unreachable, the limiter
//! falls back to its local bucket at the full rate.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Backend, Status};
use crate::scale::bucket::TokenBucket;

/// Seconds of requests one lease covers.
const LEASE_SECS: f64 = 0.25;

/// An account's request rate: `rate` per second, up to `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pacing {
    /// Requests per second.
    pub rate: f64,
    /// Requests that may go at once after a quiet time.
    pub burst: f64,
}

impl Pacing {
    /// Tokens one lease asks for: a quarter second's worth, at least 1, at most the burst.
    fn lease(self) -> u32 {
        (self.rate * LEASE_SECS)
            .ceil()
            .clamp(1.0, self.burst.max(1.0)) as u32
    }
}

/// One account's request limiter. Get it from [`super::Store::limiter`].
pub struct RequestLimiter {
    account: String,
    pacing: Pacing,
    backend: Arc<dyn Backend>,
    state: Mutex<State>,
}

struct State {
    /// The bucket used when nothing is shared.
    local: TokenBucket,
    /// Tokens leased from the shared bucket and not spent yet.
    leased: f64,
    /// A lease request is under way.
    refilling: bool,
    /// The shared bucket was empty: do not ask again before this.
    retry_at: Option<Instant>,
}

impl std::fmt::Debug for RequestLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestLimiter")
            .field("account", &self.account)
            .field("pacing", &self.pacing)
            .finish_non_exhaustive()
    }
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl RequestLimiter {
    pub(super) fn new(account: &str, pacing: Pacing, backend: Arc<dyn Backend>) -> Self {
        RequestLimiter {
            account: account.to_owned(),
            pacing,
            backend,
            state: Mutex::new(State {
                local: TokenBucket::new(pacing.rate, pacing.burst, now()),
                leased: 0.0,
                refilling: false,
                retry_at: None,
            }),
        }
    }

    /// The pacing it enforces.
    pub fn pacing(&self) -> Pacing {
        self.pacing
    }

    /// Takes one request's token, or says how long to wait before trying again. Never waits
    /// on the network.
    pub fn try_acquire(self: &Arc<Self>) -> Result<(), Duration> {
        let now = now();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let shared = self.backend.status() == Status::Shared;
        let Some(runtime) = runtime.filter(|_| shared) else {
            return st.local.try_take(1.0, now);
        };
        let lease = f64::from(self.pacing.lease());
        let result = if st.leased >= 1.0 {
            st.leased -= 1.0;
            Ok(())
        } else {
            let retry = st.retry_at.map(|t| t.saturating_duration_since(now));
            Err(retry
                .filter(|d| !d.is_zero())
                .unwrap_or(Duration::from_secs_f64(1.0 / self.pacing.rate)))
        };
        let due = st.retry_at.is_none_or(|t| now >= t);
        if st.leased < lease / 2.0 && !st.refilling && due {
            st.refilling = true;
            let me = Arc::clone(self);
            runtime.spawn(async move { me.refill().await });
        }
        result
    }

    /// Takes one request's token, waiting as long as the pacing requires.
    pub async fn acquire(self: &Arc<Self>) {
        while let Err(wait) = self.try_acquire() {
            tokio::time::sleep(wait).await;
        }
    }

    async fn refill(&self) {
        let got = self
            .backend
            .take_tokens(&self.account, self.pacing, self.pacing.lease())
            .await;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.refilling = false;
        // `None`: unreachable now; the next try_acquire sees the status and paces locally.
        if let Some((n, retry_ms)) = got {
            st.leased += f64::from(n);
            // Short of a whole lease, the shared bucket is drained: ask again when a whole
            // lease has accrued, not at every request (that would be a round trip per request
            // exactly when the account is busiest).
            st.retry_at =
                (n < self.pacing.lease()).then(|| now() + Duration::from_millis(retry_ms.max(1)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test(start_paused = true)]
    async fn a_local_limiter_is_a_token_bucket() {
        let store = Store::memory();
        let pacing = Pacing {
            rate: 10.0,
            burst: 5.0,
        };
        let l = store.limiter("a", pacing);
        assert!(
            Arc::ptr_eq(&l, &store.limiter("a", pacing)),
            "one per account"
        );
        let t0 = tokio::time::Instant::now();
        for _ in 0..25 {
            l.acquire().await;
        }
        // 5 at once, then 20 at 10/s.
        assert_eq!(t0.elapsed(), Duration::from_secs(2));
        assert_eq!(
            Pacing {
                rate: 5.0,
                burst: 2.0
            }
            .lease(),
            2
        );
        assert_eq!(
            Pacing {
                rate: 0.5,
                burst: 2.0
            }
            .lease(),
            1
        );
        assert_eq!(
            Pacing {
                rate: 400.0,
                burst: 50.0
            }
            .lease(),
            50
        );
    }
}
