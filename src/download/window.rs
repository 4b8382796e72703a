//! The sliding window: a sans-IO state machine deciding which part to ask next, on which
//! connection, what to release, what to ask again. No sockets, no clock of its own: time comes
//! in as an argument, so every fault can be played in a unit test.
//!
//! Protocol for the driver (quinn's shape):
//! - [`Window::poll_action`] until `None` after every input: [`Action::Send`] a request,
//!   [`Action::Release`] the next bytes in order, [`Action::RefreshReference`],
//!   [`Action::Replace`] a silent connection, then [`Action::Done`], [`Action::Failed`] or
//!   [`Action::FloodWait`].
//! - [`Window::handle_answer`] / [`Window::handle_error`] for each request's outcome,
//!   [`Window::reference_refreshed`] and [`Window::replaced`] when those actions are done.
//! - [`Window::poll_timeout`] / [`Window::handle_timeout`] for flood pauses and stalls.
//!
//! Invariants: parts `next_release..next_release + window` are the only ones asked for or held,
//! so at most `window` answers are buffered ([`Window::buffered_bytes`]); bytes leave in file
//! order, each part once (a late duplicate answer is dropped); a failed or stalled part is asked
//! again, a stalled one on another connection while the first request may still answer.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::plan::PartSpec;

/// How the window behaves.
#[derive(Debug, Clone)]
pub struct WindowConfig {
    /// Parts in flight or buffered at most (W).
    pub window: usize,
    /// Connections to spread them over (C).
    pub connections: usize,
    /// A request unanswered this long is stalled at the least (see [`Window::stall_after`]).
    pub stall_min: Duration,
    /// The stall limit before any answer came in.
    pub stall_initial: Duration,
    /// Longest flood wait accepted; a longer one fails the download.
    pub max_flood_wait: Duration,
    /// Failures of one part (errors, bad answers) before the download fails.
    pub max_part_failures: u32,
    /// File reference refreshes in a row without an answer in between before failing.
    pub max_refreshes: u32,
    /// DC changes (FILE_MIGRATE_X) before failing.
    pub max_migrations: u32,
}

/// Default stall floor: see docs/download.md for the measurement behind it.
pub const DEFAULT_STALL_MIN: Duration = Duration::from_secs(3);

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            window: 8,
            connections: 4,
            stall_min: DEFAULT_STALL_MIN,
            stall_initial: Duration::from_secs(10),
            max_flood_wait: Duration::from_secs(60),
            max_part_failures: 8,
            max_refreshes: 5,
            max_migrations: 3,
        }
    }
}

/// A request's id, unique within one window.
pub type RequestId = u64;

/// A request to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Its id, to report the outcome with.
    pub id: RequestId,
    /// The part's index in the plan.
    pub index: usize,
    /// The part.
    pub part: PartSpec,
    /// The connection (0..C) to send it on.
    pub conn: usize,
    /// The DC to ask.
    pub dc: i32,
}

/// What the driver should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this request.
    Send(Request),
    /// The next bytes of the range, in order.
    Release(Bytes),
    /// The file reference expired: fetch the message again, then call
    /// [`Window::reference_refreshed`]. Nothing is sent meanwhile.
    RefreshReference,
    /// The connection went silent: replace it, then call [`Window::replaced`].
    Replace {
        /// The connection.
        conn: usize,
    },
    /// Every byte was released.
    Done,
    /// The download cannot finish.
    Failed(String),
    /// The server asked to wait longer than [`WindowConfig::max_flood_wait`]: the download
    /// stops here, and may be tried again after this long.
    FloodWait(Duration),
}

/// Why a request brought no usable bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartError {
    /// FLOOD_WAIT_X / FLOOD_PREMIUM_WAIT_X: this connection pauses for that long.
    Flood(Duration),
    /// FILE_MIGRATE_X: the file lives on DC X.
    Migrate(i32),
    /// FILE_REFERENCE_EXPIRED.
    ReferenceExpired,
    /// The source changed (a CDN redirect): ask again, nothing failed.
    Redirected,
    /// The connection dropped, timed out, or the request was lost: ask again.
    Retry,
    /// The answer was wrong (length, hash): ask again, never release it.
    Corrupt(String),
    /// Nothing will make this part work (no access, bad location...).
    Fatal(String),
}

#[derive(Debug)]
struct Flight {
    index: usize,
    conn: usize,
    sent: Instant,
    generation: u32,
    /// A second request for the same part was sent because this one stalled.
    hedged: bool,
}

#[derive(Debug, Clone, Default)]
struct Conn {
    in_flight: usize,
    paused_until: Option<Instant>,
    /// The last answer (or error) it delivered, or when it was (re)opened.
    last_heard: Option<Instant>,
    replacing: bool,
}

impl Conn {
    fn available(&self, now: Instant) -> bool {
        !self.replacing && self.paused_until.is_none_or(|t| t <= now)
    }
}

/// Latencies remembered for the stall limit.
const LATENCIES: usize = 32;

/// The state machine (see the module docs).
#[derive(Debug)]
pub struct Window {
    cfg: WindowConfig,
    parts: Vec<PartSpec>,
    size: u64,
    dc: i32,
    next_issue: usize,
    /// Parts below `next_issue` to ask again, lowest first.
    retry: BTreeSet<usize>,
    flights: HashMap<RequestId, Flight>,
    /// Live requests per part.
    live: HashMap<usize, usize>,
    done: BTreeMap<usize, Bytes>,
    buffered: u64,
    next_release: usize,
    conns: Vec<Conn>,
    failures: HashMap<usize, u32>,
    generation: u32,
    refreshing: bool,
    refreshes_in_a_row: u32,
    migrations: u32,
    latencies: VecDeque<Duration>,
    slowest: Duration,
    next_id: RequestId,
    actions: VecDeque<Action>,
    finished: bool,
}

impl Window {
    /// A window over `parts` of a file of `size` bytes on DC `dc`, starting at `now`.
    pub fn new(cfg: WindowConfig, parts: Vec<PartSpec>, size: u64, dc: i32, now: Instant) -> Self {
        let conns = vec![
            Conn {
                last_heard: Some(now),
                ..Conn::default()
            };
            cfg.connections.max(1)
        ];
        let mut w = Window {
            cfg,
            parts,
            size,
            dc,
            next_issue: 0,
            retry: BTreeSet::new(),
            flights: HashMap::new(),
            live: HashMap::new(),
            done: BTreeMap::new(),
            buffered: 0,
            next_release: 0,
            conns,
            failures: HashMap::new(),
            generation: 0,
            refreshing: false,
            refreshes_in_a_row: 0,
            migrations: 0,
            latencies: VecDeque::new(),
            slowest: Duration::ZERO,
            next_id: 0,
            actions: VecDeque::new(),
            finished: false,
        };
        w.advance(now);
        w
    }

    /// The DC asked now (changes on FILE_MIGRATE_X).
    pub fn dc(&self) -> i32 {
        self.dc
    }

    /// The file reference generation requests are sent with (bumped by each refresh).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Bytes of answers held until the parts before them arrive (at most W parts).
    pub fn buffered_bytes(&self) -> u64 {
        self.buffered
    }

    /// The longest any answer took so far (what the stall limit is measured against).
    pub fn slowest_answer(&self) -> Duration {
        self.slowest
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.flights.len()
    }

    /// The next thing to do, if any.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// How long a request may go unanswered before it counts as stalled: 4 × the slowest of
    /// the last 32 answers, at least `stall_min` (`stall_initial` before any answer).
    pub fn stall_after(&self) -> Duration {
        match self.latencies.iter().max() {
            None => self.cfg.stall_initial,
            Some(&slowest) => (slowest * 4).max(self.cfg.stall_min),
        }
    }

    /// When [`Window::handle_timeout`] is next due (a pause ends, a request stalls).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        let stall = self.stall_after();
        let stalls = self
            .flights
            .values()
            .filter(|f| !f.hedged)
            .map(|f| f.sent + stall);
        let pauses = self.conns.iter().filter_map(|c| c.paused_until);
        stalls.chain(pauses).min()
    }

    /// Time passed: end pauses, hedge stalled requests, replace silent connections.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        for c in &mut self.conns {
            if c.paused_until.is_some_and(|t| t <= now) {
                c.paused_until = None;
            }
        }
        let stall = self.stall_after();
        let mut stalled: Vec<(RequestId, usize, usize)> = self
            .flights
            .iter()
            .filter(|(_, f)| !f.hedged && f.sent + stall <= now)
            .map(|(&id, f)| (id, f.index, f.conn))
            .collect();
        stalled.sort_unstable();
        for (id, index, conn) in stalled {
            if let Some(f) = self.flights.get_mut(&id) {
                f.hedged = true;
            }
            let silent = self.conns[conn].last_heard.is_none_or(|t| t + stall <= now);
            if silent && !self.conns[conn].replacing {
                self.conns[conn].replacing = true;
                self.actions.push_back(Action::Replace { conn });
            }
            if !self.done.contains_key(&index) && index >= self.next_release {
                self.retry.insert(index);
            }
        }
        self.advance(now);
    }

    /// A request's bytes (decoded, for CDN parts decrypted and verified).
    pub fn handle_answer(&mut self, id: RequestId, bytes: Bytes, now: Instant) {
        let Some(f) = self.land(id, now) else {
            return;
        };
        let took = now.saturating_duration_since(f.sent);
        self.slowest = self.slowest.max(took);
        self.latencies.push_back(took);
        if self.latencies.len() > LATENCIES {
            self.latencies.pop_front();
        }
        self.refreshes_in_a_row = 0;
        if self.done.contains_key(&f.index) || f.index < self.next_release {
            return; // a duplicate of a part already answered
        }
        let part = self.parts[f.index];
        let want = part.answer_len(self.size);
        if bytes.len() as u64 != want {
            let why = format!(
                "part at offset {} came back with {} bytes, {want} expected",
                part.offset,
                bytes.len()
            );
            return self.fail_part(f.index, why, now);
        }
        let start = part.skip as usize;
        let kept = bytes.slice(start..start + part.take as usize);
        self.buffered += kept.len() as u64;
        self.done.insert(f.index, kept);
        self.retry.remove(&f.index);
        self.advance(now);
    }

    /// A request's failure.
    pub fn handle_error(&mut self, id: RequestId, error: PartError, now: Instant) {
        let Some(f) = self.land(id, now) else {
            return;
        };
        if self.done.contains_key(&f.index) || f.index < self.next_release {
            return;
        }
        match error {
            PartError::Flood(wait) => {
                if wait > self.cfg.max_flood_wait {
                    return self.stop(Action::FloodWait(wait));
                }
                let c = &mut self.conns[f.conn];
                let until = now + wait;
                c.paused_until = Some(c.paused_until.map_or(until, |t| t.max(until)));
                self.again(f.index);
            }
            PartError::Migrate(dc) => {
                if dc != self.dc {
                    self.migrations += 1;
                    if self.migrations > self.cfg.max_migrations {
                        return self.fail(format!("the file moved DCs {} times", self.migrations));
                    }
                    self.dc = dc;
                    self.reset_connections(now);
                }
                self.again(f.index);
            }
            PartError::ReferenceExpired => {
                if f.generation == self.generation && !self.refreshing {
                    self.refreshes_in_a_row += 1;
                    if self.refreshes_in_a_row > self.cfg.max_refreshes {
                        return self.fail(
                            "the file reference keeps expiring right after each refresh".into(),
                        );
                    }
                    self.refreshing = true;
                    self.actions.push_back(Action::RefreshReference);
                }
                self.again(f.index);
            }
            PartError::Redirected => self.again(f.index),
            PartError::Retry => {
                self.count_failure(f.index, "the connection failed".into());
            }
            PartError::Corrupt(why) => self.fail_part(f.index, why, now),
            PartError::Fatal(why) => return self.fail(why),
        }
        self.advance(now);
    }

    /// The new file reference is in place: requests go out again with it.
    pub fn reference_refreshed(&mut self, now: Instant) {
        self.refreshing = false;
        self.generation += 1;
        self.advance(now);
    }

    /// The refresh failed.
    pub fn refresh_failed(&mut self, why: String) {
        self.fail(why);
    }

    /// Connection `conn` was replaced by a fresh one (after [`Action::Replace`]).
    pub fn replaced(&mut self, conn: usize, now: Instant) {
        if let Some(c) = self.conns.get_mut(conn) {
            c.replacing = false;
            c.paused_until = None;
            c.last_heard = Some(now);
        }
        self.advance(now);
    }

    /// Every connection starts afresh (the source changed: another DC, a CDN).
    pub fn reset_connections(&mut self, now: Instant) {
        for c in &mut self.conns {
            *c = Conn {
                in_flight: c.in_flight,
                last_heard: Some(now),
                ..Conn::default()
            };
        }
    }

    /// Removes a finished request from the books.
    fn land(&mut self, id: RequestId, now: Instant) -> Option<Flight> {
        let f = self.flights.remove(&id)?;
        let c = &mut self.conns[f.conn];
        c.in_flight = c.in_flight.saturating_sub(1);
        c.last_heard = Some(now);
        if let Some(n) = self.live.get_mut(&f.index) {
            *n -= 1;
            if *n == 0 {
                self.live.remove(&f.index);
            }
        }
        Some(f)
    }

    /// Ask for the part again unless another request for it is still out.
    fn again(&mut self, index: usize) {
        if !self.live.contains_key(&index) {
            self.retry.insert(index);
        }
    }

    fn count_failure(&mut self, index: usize, why: String) {
        let n = self.failures.entry(index).or_insert(0);
        *n += 1;
        let n = *n;
        if n > self.cfg.max_part_failures {
            let offset = self.parts[index].offset;
            return self.fail(format!(
                "part at offset {offset} failed {n} times, last: {why}"
            ));
        }
        self.again(index);
    }

    fn fail_part(&mut self, index: usize, why: String, now: Instant) {
        self.count_failure(index, why);
        self.advance(now);
    }

    fn fail(&mut self, why: String) {
        self.stop(Action::Failed(why));
    }

    /// Ends the download with `last` (a failure), unless it has ended already.
    fn stop(&mut self, last: Action) {
        if !self.finished {
            self.finished = true;
            self.actions.push_back(last);
        }
    }

    /// Releases what is in order, then fills the window.
    fn advance(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        while let Some(bytes) = self.done.remove(&self.next_release) {
            self.buffered -= bytes.len() as u64;
            self.next_release += 1;
            self.actions.push_back(Action::Release(bytes));
        }
        if self.next_release == self.parts.len() {
            self.finished = true;
            self.actions.push_back(Action::Done);
            return;
        }
        if self.refreshing {
            return;
        }
        loop {
            let index = match self.retry.first() {
                Some(&i) => i,
                None if self.next_issue < self.parts.len()
                    && self.next_issue < self.next_release + self.cfg.window =>
                {
                    self.next_issue
                }
                None => break,
            };
            let Some(conn) = self.pick_connection(now, index) else {
                break;
            };
            if self.retry.remove(&index) {
                // asked again
            } else {
                self.next_issue += 1;
            }
            self.send(index, conn, now);
        }
    }

    /// The least busy available connection, preferring one not already asking for `index`.
    fn pick_connection(&self, now: Instant, index: usize) -> Option<usize> {
        let busy_with: Vec<usize> = self
            .flights
            .values()
            .filter(|f| f.index == index)
            .map(|f| f.conn)
            .collect();
        let candidates = || {
            self.conns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.available(now))
        };
        candidates()
            .filter(|(i, _)| !busy_with.contains(i))
            .min_by_key(|(i, c)| (c.in_flight, *i))
            .or_else(|| candidates().min_by_key(|(i, c)| (c.in_flight, *i)))
            .map(|(i, _)| i)
    }

    fn send(&mut self, index: usize, conn: usize, now: Instant) {
        let id = self.next_id;
        self.next_id += 1;
        self.flights.insert(
            id,
            Flight {
                index,
                conn,
                sent: now,
                generation: self.generation,
                hedged: false,
            },
        );
        *self.live.entry(index).or_insert(0) += 1;
        self.conns[conn].in_flight += 1;
        self.actions.push_back(Action::Send(Request {
            id,
            index,
            part: self.parts[index],
            conn,
            dc: self.dc,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::download::plan::{plan, BLOCK};

    /// The file: byte i is i mod 251.
    fn content(offset: u64, len: u64, size: u64) -> Bytes {
        let end = (offset + len).min(size);
        (offset..end).map(|i| (i % 251) as u8).collect()
    }

    fn answer(size: u64, r: &Request) -> Bytes {
        content(r.part.offset, u64::from(r.part.limit), size)
    }

    fn cfg(window: usize, connections: usize) -> WindowConfig {
        WindowConfig {
            window,
            connections,
            stall_min: Duration::from_millis(100),
            stall_initial: Duration::from_millis(500),
            ..WindowConfig::default()
        }
    }

    /// Drains actions: sends go to `sent`, released bytes to `out`; returns the last
    /// terminal/other actions.
    fn drain(w: &mut Window, sent: &mut VecDeque<Request>, out: &mut Vec<u8>) -> Vec<Action> {
        let mut other = Vec::new();
        while let Some(a) = w.poll_action() {
            match a {
                Action::Send(r) => sent.push_back(r),
                Action::Release(b) => out.extend_from_slice(&b),
                a => other.push(a),
            }
        }
        other
    }

    #[test]
    fn out_of_order_answers_release_in_order_within_the_memory_bound() {
        let size = 20 * BLOCK + 5;
        let t0 = Instant::now();
        let mut w = Window::new(cfg(4, 2), plan(size, 0, size - 1), size, 2, t0);
        let (mut sent, mut out) = (VecDeque::new(), Vec::new());
        let mut peak = 0u64;
        let mut done = false;
        let mut round = 0;
        while !done {
            drain(&mut w, &mut sent, &mut out);
            assert!(sent.len() + w.done.len() <= 4, "window bound");
            // Answer the newest request first: the worst order for buffering.
            let Some(r) = sent.pop_back() else { break };
            assert!(r.conn < 2 && r.dc == 2);
            w.handle_answer(r.id, answer(size, &r), t0 + Duration::from_millis(round));
            peak = peak.max(w.buffered_bytes());
            round += 1;
            done = drain(&mut w, &mut sent, &mut out).contains(&Action::Done);
        }
        assert!(done);
        assert_eq!(out, content(0, size, size).to_vec());
        assert!((3 * BLOCK..=4 * BLOCK).contains(&peak), "peak {peak}");
    }

    #[test]
    fn connections_share_the_window() {
        let size = 8 * BLOCK;
        let mut w = Window::new(cfg(8, 4), plan(size, 0, size - 1), size, 1, Instant::now());
        let (mut sent, mut out) = (VecDeque::new(), Vec::new());
        drain(&mut w, &mut sent, &mut out);
        let mut per_conn = [0; 4];
        for r in &sent {
            per_conn[r.conn] += 1;
        }
        assert_eq!(per_conn, [2, 2, 2, 2]);
    }

    #[test]
    fn flood_pauses_one_connection_only() {
        let size = 12 * BLOCK;
        let t0 = Instant::now();
        let mut w = Window::new(cfg(4, 2), plan(size, 0, size - 1), size, 1, t0);
        let (mut sent, mut out) = (VecDeque::new(), Vec::new());
        drain(&mut w, &mut sent, &mut out);
        let flooded = sent.iter().find(|r| r.conn == 0).copied().unwrap();
        let before = sent.iter().map(|r| r.id).max().unwrap();
        sent.retain(|r| r.id != flooded.id);
        w.handle_error(flooded.id, PartError::Flood(Duration::from_secs(2)), t0);
        // While connection 0 waits, every new request goes to connection 1.
        let t1 = t0 + Duration::from_millis(10);
        for _ in 0..6 {
            drain(&mut w, &mut sent, &mut out);
            let r = sent.pop_front().unwrap();
            w.handle_answer(r.id, answer(size, &r), t1);
            drain(&mut w, &mut sent, &mut out);
            assert!(sent.iter().filter(|r| r.id > before).all(|r| r.conn == 1));
        }
        assert!(w.poll_timeout().is_some());
        // After the pause connection 0 works again and the file completes.
        let t2 = t0 + Duration::from_secs(3);
        w.handle_timeout(t2);
        let mut done = false;
        while !done {
            drain(&mut w, &mut sent, &mut out);
            let Some(r) = sent.pop_front() else { break };
            w.handle_answer(r.id, answer(size, &r), t2);
            done = drain(&mut w, &mut sent, &mut out).contains(&Action::Done);
        }
        assert!(done);
        assert_eq!(out, content(0, size, size).to_vec());
    }

    #[test]
    fn lost_and_bad_answers_are_asked_again_never_released_twice() {
        let size = 6 * BLOCK + 100;
        let t0 = Instant::now();
        let mut w = Window::new(cfg(3, 2), plan(size, 0, size - 1), size, 1, t0);
        let (mut sent, mut out) = (VecDeque::new(), Vec::new());
        let mut n = 0;
        let mut done = false;
        while !done {
            drain(&mut w, &mut sent, &mut out);
            let Some(r) = sent.pop_front() else { break };
            n += 1;
            match n % 4 {
                1 => w.handle_error(r.id, PartError::Retry, t0),
                2 => {
                    let mut bad = answer(size, &r).to_vec();
                    bad.pop();
                    w.handle_answer(r.id, Bytes::from(bad), t0)
                }
                _ => w.handle_answer(r.id, answer(size, &r), t0),
            }
            done = drain(&mut w, &mut sent, &mut out).contains(&Action::Done);
        }
        assert!(done);
        assert_eq!(out, content(0, size, size).to_vec());
    }

    #[test]
    fn a_part_that_always_fails_fails_the_download() {
        let size = BLOCK;
        let t0 = Instant::now();
        let mut w = Window::new(cfg(2, 1), plan(size, 0, size - 1), size, 1, t0);
        let (mut sent, mut out) = (VecDeque::new(), Vec::new());
        for _ in 0..20 {
            let other = drain(&mut w, &mut sent, &mut out);
            if let Some(Action::Failed(why)) = other.first() {
                assert!(why.contains("failed 9 times"), "{why}");
                return;
            }
            let r = sent.pop_front().unwrap();
            w.handle_error(r.id, PartError::Corrupt("hash mismatch".into()), t0);
        }
        panic!("never failed");
    }

    #[test]
    fn expired_reference_refreshes_once_and_resumes_at_the_same_part() {
        let size = 4 * BLOCK;
        let t0 = Instant::now();
        let mut w = Window::new(cfg(4, 2), plan(size, 0, size - 1), size, 1, t0);
        let (mut sent, mut out) = (VecDeque::new(), Vec::new());
        drain(&mut w, &mut sent, &mut out);
        let first = sent.pop_front().unwrap();
        w.handle_answer(first.id, answer(size, &first), t0);
        // Every other request meets the old reference.
        let old: Vec<_> = sent.drain(..).collect();
        for r in &old {
            w.handle_error(r.id, PartError::ReferenceExpired, t0);
        }
        let other = drain(&mut w, &mut sent, &mut out);
        assert_eq!(other, vec![Action::RefreshReference]);
        assert!(sent.is_empty(), "nothing is sent while refreshing");
        w.reference_refreshed(t0);
        drain(&mut w, &mut sent, &mut out);
        assert_eq!(
            sent.iter().map(|r| r.index).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(w.generation(), 1);
        while let Some(r) = sent.pop_front() {
            w.handle_answer(r.id, answer(size, &r), t0);
        }
        assert!(drain(&mut w, &mut sent, &mut out).contains(&Action::Done));
        assert_eq!(out, content(0, size, size).to_vec());
    }

    #[test]
    fn migrate_moves_every_request_to_the_new_dc() {
        let size = 3 * BLOCK;
        let t0 = Instant::now();
        let mut w = Window::new(cfg(3, 1), plan(size, 0, size - 1), size, 1, t0);
        let (mut sent, mut out) = (VecDeque::new(), Vec::new());
        drain(&mut w, &mut sent, &mut out);
        for r in sent.drain(..).collect::<Vec<_>>() {
            w.handle_error(r.id, PartError::Migrate(4), t0);
        }
        drain(&mut w, &mut sent, &mut out);
        assert_eq!(sent.len(), 3);
        assert!(sent.iter().all(|r| r.dc == 4));
        assert_eq!(w.dc(), 4);
    }

    #[test]
    fn a_stalled_request_is_asked_again_elsewhere_and_a_silent_connection_replaced() {
        let size = 4 * BLOCK;
        let t0 = Instant::now();
        let mut w = Window::new(cfg(2, 2), plan(size, 0, size - 1), size, 1, t0);
        let (mut sent, mut out) = (VecDeque::new(), Vec::new());
        drain(&mut w, &mut sent, &mut out);
        // Connection 0 never answers; connection 1 answers at once.
        let stuck = sent.iter().find(|r| r.conn == 0).copied().unwrap();
        let mut t = t0;
        let mut replaced = false;
        let mut done = false;
        for _ in 0..100 {
            let other = drain(&mut w, &mut sent, &mut out);
            for a in other {
                match a {
                    Action::Replace { conn } => {
                        assert_eq!(conn, 0);
                        replaced = true;
                        w.replaced(0, t);
                    }
                    Action::Done => done = true,
                    a => panic!("{a:?}"),
                }
            }
            if done {
                break;
            }
            match sent
                .iter()
                .position(|r| r.conn == 1 || (replaced && r.id != stuck.id))
            {
                Some(i) => {
                    let r = sent.remove(i).unwrap();
                    w.handle_answer(r.id, answer(size, &r), t);
                }
                None => {
                    t = w.poll_timeout().expect("a stall timer");
                    w.handle_timeout(t);
                }
            }
        }
        assert!(done && replaced);
        assert_eq!(out, content(0, size, size).to_vec());
        assert!(t - t0 <= Duration::from_millis(600), "{:?}", t - t0);
        // The stuck request finally answers: ignored, nothing released twice.
        w.handle_answer(stuck.id, answer(size, &stuck), t);
        assert!(w.poll_action().is_none());
    }

    #[test]
    fn long_flood_waits_and_fatal_errors_fail() {
        let size = BLOCK;
        let t0 = Instant::now();
        let mut w = Window::new(cfg(1, 1), plan(size, 0, size - 1), size, 1, t0);
        let Some(Action::Send(r)) = w.poll_action() else {
            panic!()
        };
        w.handle_error(r.id, PartError::Flood(Duration::from_secs(3600)), t0);
        assert_eq!(
            w.poll_action(),
            Some(Action::FloodWait(Duration::from_secs(3600)))
        );
        let mut w = Window::new(cfg(1, 1), plan(size, 0, size - 1), size, 1, t0);
        let Some(Action::Send(r)) = w.poll_action() else {
            panic!()
        };
        w.handle_error(r.id, PartError::Fatal("FILE_ID_INVALID".into()), t0);
        assert_eq!(
            w.poll_action(),
            Some(Action::Failed("FILE_ID_INVALID".into()))
        );
        assert!(w.poll_action().is_none());
    }

    #[test]
    fn empty_range_is_done_at_once() {
        let mut w = Window::new(cfg(4, 2), Vec::new(), 0, 1, Instant::now());
        assert_eq!(w.poll_action(), Some(Action::Done));
        assert!(w.poll_timeout().is_none());
    }
}
