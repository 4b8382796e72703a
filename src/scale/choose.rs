//! Which account, and which of its connections to a DC, serves the next request.
//!
//! A [`Balancer`] keeps the live load of every (account, DC, connection): requests in flight
//! and an EWMA of their latency. [`Balancer::choose`] scores each connection by the time a new
//! request would expect to take there, `(in_flight + 1) × latency`, and takes the lowest;
//! equal scores go to the account chosen least recently, so idle accounts take turns.
//!
//! Two rules come before the score:
//! - An account whose flood deadline for the DC has not passed is never chosen for that DC
//!   (the deadline comes from the caller, i.e. from the shared store, in wall-clock
//!   milliseconds, so every instance honours a deadline any of them learned).
//! - Only accounts the caller marks eligible are considered: media of a private channel stays
//!   on the accounts that can see it (access hashes and file references are per account).
//!
//! When every eligible account is waiting, the answer is [`Choice::Wait`] with the earliest
//! deadline; a request that gets `FLOOD_WAIT` is simply chosen for again, and goes to another
//! account at once if one is free.

use std::collections::HashMap;
use std::time::Duration;

/// Weight of the newest latency sample in the moving average.
const EWMA_ALPHA: f64 = 0.3;

/// An exponentially weighted moving average of latencies.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ewma {
    secs: Option<f64>,
}

impl Ewma {
    /// Folds in one sample (the first sample is taken as is).
    pub fn add(&mut self, sample: Duration) {
        let s = sample.as_secs_f64();
        self.secs = Some(match self.secs {
            None => s,
            Some(v) => v + EWMA_ALPHA * (s - v),
        });
    }

    /// The average, `None` before the first sample.
    pub fn get(&self) -> Option<Duration> {
        self.secs.map(Duration::from_secs_f64)
    }
}

/// One connection's load.
#[derive(Clone, Copy, Debug, Default)]
struct ConnLoad {
    in_flight: u32,
    latency: Ewma,
}

#[derive(Debug)]
struct AccountLoad {
    /// Connection loads per DC, created on first use.
    dcs: HashMap<i32, Vec<ConnLoad>>,
    served: u64,
    /// The `Balancer::ticks` value when last chosen (0: never).
    last_chosen: u64,
}

/// Where one request goes: an account (index in the order given to [`Balancer::new`]), a DC
/// and one of the account's connections to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pick {
    /// The account's index.
    pub account: usize,
    /// The DC.
    pub dc: i32,
    /// The connection's index among the account's connections to `dc`.
    pub conn: usize,
}

/// The answer of [`Balancer::choose`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Send the request there; it counts as in flight until [`Balancer::finish`].
    Go(Pick),
    /// Every eligible account is in a flood wait for the DC; `account` is free first, at
    /// `until_ms` (Unix milliseconds).
    Wait {
        /// The account whose deadline is earliest.
        account: usize,
        /// Its deadline.
        until_ms: u64,
    },
    /// No account is eligible (none can see the media).
    Nobody,
}

/// The live load of every account's connections. Not thread-safe by itself: the downloader
/// keeps one behind its scheduler's lock.
#[derive(Debug)]
pub struct Balancer {
    accounts: Vec<AccountLoad>,
    connections_per_dc: usize,
    /// Latency assumed for a connection without samples yet (so new ones get tried).
    default_latency: Duration,
    ticks: u64,
}

impl Balancer {
    /// A balancer over `accounts` accounts with `connections_per_dc` connections (at least 1)
    /// to each DC, assuming `default_latency` where nothing was measured yet.
    pub fn new(accounts: usize, connections_per_dc: usize, default_latency: Duration) -> Self {
        Balancer {
            accounts: (0..accounts)
                .map(|_| AccountLoad {
                    dcs: HashMap::new(),
                    served: 0,
                    last_chosen: 0,
                })
                .collect(),
            connections_per_dc: connections_per_dc.max(1),
            default_latency,
            ticks: 0,
        }
    }

    /// Chooses where a request for `dc` goes at `now_ms` (Unix milliseconds), among the
    /// accounts for which `eligible` is true, skipping those whose `flood_until` deadline
    /// (Unix milliseconds) for `dc` is still ahead. On [`Choice::Go`] the request is counted
    /// in flight.
    pub fn choose(
        &mut self,
        dc: i32,
        now_ms: u64,
        eligible: impl Fn(usize) -> bool,
        flood_until: impl Fn(usize) -> Option<u64>,
    ) -> Choice {
        let default = self.default_latency.as_secs_f64();
        let mut best: Option<(f64, u64, Pick)> = None;
        let mut earliest: Option<(u64, usize)> = None;
        for (i, acc) in self.accounts.iter().enumerate() {
            if !eligible(i) {
                continue;
            }
            if let Some(until) = flood_until(i).filter(|&u| u > now_ms) {
                if earliest.is_none_or(|(u, _)| until < u) {
                    earliest = Some((until, i));
                }
                continue;
            }
            let idle = [ConnLoad::default()];
            let conns = acc.dcs.get(&dc).map_or(&idle[..], Vec::as_slice);
            for c in 0..self.connections_per_dc {
                let load = conns.get(c).copied().unwrap_or_default();
                let latency = load.latency.get().map_or(default, |d| d.as_secs_f64());
                let score = f64::from(load.in_flight + 1) * latency;
                let better = best
                    .is_none_or(|(s, last, _)| score < s || (score == s && acc.last_chosen < last));
                if better {
                    let pick = Pick {
                        account: i,
                        dc,
                        conn: c,
                    };
                    best = Some((score, acc.last_chosen, pick));
                }
            }
        }
        match (best, earliest) {
            (Some((_, _, pick)), _) => {
                self.ticks += 1;
                let per_dc = self.connections_per_dc;
                let acc = &mut self.accounts[pick.account];
                acc.last_chosen = self.ticks;
                let conns = acc
                    .dcs
                    .entry(dc)
                    .or_insert_with(|| vec![ConnLoad::default(); per_dc]);
                conns[pick.conn].in_flight += 1;
                Choice::Go(pick)
            }
            (None, Some((until_ms, account))) => Choice::Wait { account, until_ms },
            (None, None) => Choice::Nobody,
        }
    }

    /// Ends a request [`Balancer::choose`] sent to `pick`: `latency` is how long it took when
    /// it was answered (a part served), `None` when it failed (no sample is kept: a flood
    /// wait or a timeout says nothing about the connection's speed).
    pub fn finish(&mut self, pick: Pick, latency: Option<Duration>) {
        let Some(acc) = self.accounts.get_mut(pick.account) else {
            return;
        };
        let Some(load) = acc.dcs.get_mut(&pick.dc).and_then(|c| c.get_mut(pick.conn)) else {
            return;
        };
        load.in_flight = load.in_flight.saturating_sub(1);
        if let Some(l) = latency {
            load.latency.add(l);
            acc.served += 1;
        }
    }

    /// Requests in flight on `account`'s connections to `dc`.
    pub fn in_flight(&self, account: usize, dc: i32) -> u32 {
        self.accounts
            .get(account)
            .and_then(|a| a.dcs.get(&dc))
            .map_or(0, |c| c.iter().map(|l| l.in_flight).sum())
    }

    /// Requests `account` answered so far (for `tgmux accounts`).
    pub fn served(&self, account: usize) -> u64 {
        self.accounts.get(account).map_or(0, |a| a.served)
    }

    /// The latency average of one connection, `None` before its first answer.
    pub fn latency(&self, pick: Pick) -> Option<Duration> {
        let acc = self.accounts.get(pick.account)?;
        acc.dcs.get(&pick.dc)?.get(pick.conn)?.latency.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    const MS: Duration = Duration::from_millis(1);

    fn all(_: usize) -> bool {
        true
    }
    fn no_flood(_: usize) -> Option<u64> {
        None
    }

    fn go(c: Choice) -> Pick {
        match c {
            Choice::Go(p) => p,
            other => panic!("expected Go, got {other:?}"),
        }
    }

    #[test]
    fn idle_accounts_take_turns_and_connections_spread() {
        let mut b = Balancer::new(3, 2, 50 * MS);
        let picks: Vec<Pick> = (0..6).map(|_| go(b.choose(2, 0, all, no_flood))).collect();
        let accounts: Vec<usize> = picks.iter().map(|p| p.account).collect();
        assert_eq!(accounts, [0, 1, 2, 0, 1, 2]);
        // Each account's second request goes to its other connection.
        assert_ne!(picks[0].conn, picks[3].conn);
        assert_eq!(b.in_flight(0, 2), 2);
        for p in picks {
            b.finish(p, Some(10 * MS));
        }
        assert_eq!((b.in_flight(0, 2), b.served(0)), (0, 2));
        // Other DCs keep their own load.
        assert_eq!(b.in_flight(0, 4), 0);
    }

    #[test]
    fn a_flooded_account_is_never_chosen_before_its_deadline() {
        let mut b = Balancer::new(2, 1, 50 * MS);
        let flood = |i: usize| (i == 0).then_some(10_000);
        for now in [0, 5_000, 9_999] {
            for _ in 0..20 {
                assert_eq!(go(b.choose(2, now, all, flood)).account, 1);
            }
        }
        // The deadline is per DC: the caller's lookup says which; on DC 4 account 0 is free.
        assert_eq!(go(b.choose(4, 0, all, no_flood)).account, 0);
        // At the deadline it is back (and, idle, preferred over the loaded account 1).
        assert_eq!(go(b.choose(2, 10_000, all, flood)).account, 0);
    }

    #[test]
    fn all_waiting_names_the_earliest_deadline() {
        let mut b = Balancer::new(3, 1, 50 * MS);
        let flood = |i: usize| Some([9_000, 7_000, 8_000][i]);
        assert_eq!(
            b.choose(1, 1_000, all, flood),
            Choice::Wait {
                account: 1,
                until_ms: 7_000
            }
        );
        // Eligibility comes first: without account 1 the earliest is account 2.
        assert_eq!(
            b.choose(1, 1_000, |i| i != 1, flood),
            Choice::Wait {
                account: 2,
                until_ms: 8_000
            }
        );
        assert_eq!(b.choose(1, 1_000, |_| false, flood), Choice::Nobody);
        assert_eq!(
            b.in_flight(1, 1),
            0,
            "nothing counted when nothing was chosen"
        );
    }

    #[test]
    fn media_stays_on_the_accounts_that_see_it() {
        let mut b = Balancer::new(4, 1, 50 * MS);
        for _ in 0..40 {
            let p = go(b.choose(2, 0, |i| i == 1 || i == 3, no_flood));
            assert!(p.account == 1 || p.account == 3);
        }
        assert_eq!(b.in_flight(1, 2), 20);
        assert_eq!(b.in_flight(3, 2), 20);
    }

    #[test]
    fn ewma_follows_samples() {
        let mut e = Ewma::default();
        assert_eq!(e.get(), None);
        e.add(100 * MS);
        assert_eq!(e.get(), Some(100 * MS));
        e.add(200 * MS);
        // 100 + 0.3 · (200 - 100) = 130 ms.
        assert!((e.get().unwrap().as_secs_f64() - 0.130).abs() < 1e-9);
    }

    /// A discrete-event run: `concurrency` requests always outstanding; account `i` serves one
    /// request at a time in `service[i]` (a single-server queue, as a rate-limited account
    /// is), so its latency grows with its queue. Returns the requests each account served
    /// within `horizon`.
    fn simulate(service: &[Duration], concurrency: usize, horizon: Duration) -> Vec<u64> {
        let mut b = Balancer::new(service.len(), 1, 50 * MS);
        let mut free_at = vec![Duration::ZERO; service.len()];
        let mut events = BinaryHeap::new();
        let mut send = |b: &mut Balancer, now: Duration, events: &mut BinaryHeap<_>| {
            let p = go(b.choose(2, 0, all, no_flood));
            let done = now.max(free_at[p.account]) + service[p.account];
            free_at[p.account] = done;
            events.push(Reverse((done, now, p)));
        };
        for _ in 0..concurrency {
            send(&mut b, Duration::ZERO, &mut events);
        }
        while let Some(Reverse((done, sent, pick))) = events.pop() {
            if done > horizon {
                break;
            }
            b.finish(pick, Some(done - sent));
            send(&mut b, done, &mut events);
        }
        (0..service.len()).map(|i| b.served(i)).collect()
    }

    #[test]
    fn faster_accounts_serve_more() {
        // Account 0 serves a request in 10 ms, account 1 in 40 ms (capacities 100/s and
        // 25/s), 8 requests outstanding for 10 s: load follows speed, about 4:1, and both stay
        // busy (a plain round robin would be 1:1 and hold the total to 2 x 25/s).
        let served = simulate(&[10 * MS, 40 * MS], 8, Duration::from_secs(10));
        let ratio = served[0] as f64 / served[1] as f64;
        assert!((3.0..5.0).contains(&ratio), "{served:?}");
        assert!(served.iter().sum::<u64>() > 1_150, "{served:?}");
        // Equal accounts share equally.
        let even = simulate(&[20 * MS; 3], 6, Duration::from_secs(5));
        assert!(even.iter().all(|&n| n.abs_diff(even[0]) <= 2), "{even:?}");
    }
}
