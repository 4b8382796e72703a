//! The Redis backend: `--store redis://[:PASSWORD@]HOST:PORT/DB`.
//!
//! Keys (`slot` as in [`Change::slot`]), every value a [`Change`]'s bytes:
//!
//! ```text
//! tgmux:flood:ACCOUNT:DC    expires at the deadline
//! tgmux:res:ACCOUNT:LINK    expires with the resolution
//! tgmux:key:ACCOUNT:DC      no expiry
//! tgmux:bucket:ACCOUNT      hash {tokens, ts}: the account's request bucket
//! ```
//!
//! Every change is one atomic Lua script that writes the key and publishes the change on
//! `tgmux:changes:DB` (pub/sub channels are server-wide, so the DB number keeps deployments on
//! one server apart); each instance applies what the others publish to its local copy, so
//! reads never ask Redis. Where instances race, the script decides: a flood deadline only
//! moves later, an auth key is set only if none exists (`SET NX`; the loser gets the
//! winner's), a bucket take is computed on Redis's own clock.
//!
//! One task owns the connections. It takes changes from a queue, so callers never wait; when
//! Redis is lost (a command fails, the subscription ends, a heartbeat goes unanswered) it
//! warns once, keeps the changes made meanwhile (one per slot, the latest), answers the
//! questions that need Redis with "unreachable" so callers settle them locally, and
//! reconnects with full-jitter backoff. Once back it subscribes first, then pushes the kept
//! changes (through the same scripts, so races are settled as usual) and reloads every key,
//! so it sees what the others did meanwhile.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use redis::{AsyncConnectionConfig, Client, ConnectionAddr, Script};
use tokio::sync::{mpsc, oneshot};

use super::change::{AuthKey, Change};
use super::file::now_ms;
use super::local::{Local, Maps};
use super::{Backend, BoxFuture, Pacing, Status, StoreError, StoreStats};
use crate::scale::backoff::Backoff;

const PREFIX: &str = "tgmux:";
/// How long connecting, and each answer, may take.
const TIMEOUT: Duration = Duration::from_secs(2);
/// A ping this often while connected, so a silent loss is noticed.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Keys read per MGET when loading the state.
const LOAD_BATCH: usize = 200;

/// Sets a flood deadline unless a later one is stored, and publishes it.
/// KEYS: key, channel. ARGV: value, deadline (Unix ms), message (the same order as the put
/// script's).
const FLOOD_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilms = tonumber(ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if untilms <= now or (ttl > 0 and now + ttl >= untilms) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', untilms - now)
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1
";

/// Sets (ARGV[2] > 0: for that many ms; ARGV[4] = 1: only if absent) or deletes
/// (ARGV[2] = 0) a key, and publishes when it did. KEYS: key, channel. ARGV: value, ttl ms,
/// message, only-if-absent.
const PUT_SCRIPT: &str = r"
if tonumber(ARGV[2]) > 0 then
  if ARGV[4] == '1' then
    if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end
  else
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  end
else
  redis.call('DEL', KEYS[1])
end
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1
";

/// Stores an auth key unless one is there; returns the stored value.
/// KEYS: key, channel. ARGV: value, message.
const KEY_SCRIPT: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('PUBLISH', KEYS[2], ARGV[2])
  return ARGV[1]
end
return redis.call('GET', KEYS[1])
";

/// Takes up to ARGV[3] tokens from a bucket of ARGV[1] per second, burst ARGV[2], on Redis's
/// clock. Returns {granted, ms until ARGV[3] tokens are there again when fewer were
/// granted}. KEYS: the bucket.
const BUCKET_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(h[1]) or burst
local ts = tonumber(h[2]) or now
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local got = math.min(want, math.floor(tokens))
tokens = tokens - got
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.3f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
local wait = 0
if got < want then wait = math.ceil((want - tokens) * 1000 / rate) end
return {got, wait}
";

enum Op {
    Record(Change),
    InsertKey(Change, oneshot::Sender<Option<Box<AuthKey>>>),
    Take {
        account: String,
        pacing: Pacing,
        want: u32,
        reply: oneshot::Sender<Option<(u32, u64)>>,
    },
    Flush(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
struct Counters {
    up: AtomicBool,
    round_trips: AtomicU64,
    heartbeats: AtomicU64,
    outages: AtomicU64,
    reconnects: AtomicU64,
    received: AtomicU64,
}

/// The Redis backend: the connection task's queue and counters.
#[derive(Debug)]
pub struct RedisBackend {
    shown: String,
    ops: mpsc::UnboundedSender<Op>,
    counters: Arc<Counters>,
}

impl RedisBackend {
    /// Connects (a clear error when Redis cannot be reached), loads every key into a new
    /// local copy and starts the connection task. Must run inside a tokio runtime.
    pub async fn open(url: &str) -> Result<(Arc<Local>, RedisBackend), StoreError> {
        let shown = hide_password(url);
        let fail = |m: String| StoreError::Redis(shown.clone(), m);
        if !url.starts_with("redis://") {
            return Err(StoreError::Spec(format!(
                "{shown}: only redis://HOST:PORT/DB URLs are supported"
            )));
        }
        let client = Client::open(url).map_err(|e| fail(one_line(&e)))?;
        if !matches!(client.get_connection_info().addr(), ConnectionAddr::Tcp(..)) {
            return Err(StoreError::Spec(format!(
                "{shown}: expected redis://HOST:PORT/DB"
            )));
        }
        let db = client.get_connection_info().redis_settings().db();
        let counters = Arc::new(Counters::default());
        let local = Arc::new(Local::new(Maps::default()));
        let task = Task {
            client,
            shown: shown.clone(),
            channel: format!("{PREFIX}changes:{db}"),
            origin: rand::random(),
            local: Arc::clone(&local),
            counters: Arc::clone(&counters),
            pending: HashMap::new(),
            scripts: Scripts::new(),
        };
        let mut conn = task
            .connect()
            .await
            .map_err(|e| fail(format!("cannot connect: {e}")))?;
        task.load(&mut conn.cmd)
            .await
            .map_err(|e| fail(format!("cannot load the shared state: {e}")))?;
        counters.up.store(true, Ordering::SeqCst);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(task.run(conn, rx));
        Ok((
            local,
            RedisBackend {
                shown,
                ops: tx,
                counters,
            },
        ))
    }

    async fn ask<T>(&self, op: impl FnOnce(oneshot::Sender<Option<T>>) -> Op) -> Option<T> {
        if !self.counters.up.load(Ordering::SeqCst) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        self.ops.send(op(tx)).ok()?;
        rx.await.ok().flatten()
    }
}

impl Backend for RedisBackend {
    fn describe(&self) -> String {
        format!("--store {}", self.shown)
    }

    fn record(&self, change: Change) {
        let _ = self.ops.send(Op::Record(change));
    }

    fn insert_auth_key<'a>(&'a self, change: &'a Change) -> BoxFuture<'a, Option<Box<AuthKey>>> {
        Box::pin(self.ask(|tx| Op::InsertKey(change.clone(), tx)))
    }

    fn take_tokens<'a>(
        &'a self,
        account: &'a str,
        pacing: Pacing,
        want: u32,
    ) -> BoxFuture<'a, Option<(u32, u64)>> {
        Box::pin(self.ask(move |reply| Op::Take {
            account: account.to_owned(),
            pacing,
            want,
            reply,
        }))
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        let (tx, rx) = oneshot::channel();
        let _ = self.ops.send(Op::Flush(tx));
        Box::pin(async move {
            let _ = rx.await;
        })
    }

    fn status(&self) -> Status {
        if self.counters.up.load(Ordering::SeqCst) {
            Status::Shared
        } else {
            Status::Degraded
        }
    }

    fn stats(&self) -> StoreStats {
        let c = &self.counters;
        StoreStats {
            round_trips: c.round_trips.load(Ordering::Relaxed),
            heartbeats: c.heartbeats.load(Ordering::Relaxed),
            outages: c.outages.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
            received: c.received.load(Ordering::Relaxed),
        }
    }
}

/// `redis://:secret@host:1/0` → `redis://***@host:1/0`.
fn hide_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    s.lines().next().unwrap_or("").trim().to_owned()
}

struct Scripts {
    flood: Script,
    put: Script,
    key: Script,
    bucket: Script,
}

impl Scripts {
    fn new() -> Self {
        Scripts {
            flood: Script::new(FLOOD_SCRIPT),
            put: Script::new(PUT_SCRIPT),
            key: Script::new(KEY_SCRIPT),
            bucket: Script::new(BUCKET_SCRIPT),
        }
    }
}

/// One connection pair: commands, and the subscription (its sink kept so it stays open).
struct Conn {
    cmd: MultiplexedConnection,
    _sink: PubSubSink,
    messages: PubSubStream,
}

/// Why the connection pair was given up.
type Lost = String;

struct Task {
    client: Client,
    shown: String,
    channel: String,
    /// Our tag on published messages, so we skip our own.
    origin: u64,
    local: Arc<Local>,
    counters: Arc<Counters>,
    /// Changes made while Redis was unreachable, one per slot.
    pending: HashMap<String, Change>,
    scripts: Scripts,
}

impl Task {
    async fn run(mut self, mut conn: Conn, mut ops: mpsc::UnboundedReceiver<Op>) {
        loop {
            let why = match self.serve(&mut conn, &mut ops).await {
                Some(why) => why,
                None => return,
            };
            self.counters.up.store(false, Ordering::SeqCst);
            self.counters.outages.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "tgmux: warning: --store {}: connection lost ({why}); serving from local state, reconnecting",
                self.shown
            );
            conn = match self.reconnect(&mut ops).await {
                Some(c) => c,
                None => return,
            };
            self.counters.up.store(true, Ordering::SeqCst);
            self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "tgmux: note: --store {}: reconnected, sharing again",
                self.shown
            );
        }
    }

    /// Serves ops and messages until the connection is lost (`Some(why)`) or every handle
    /// is gone (`None`).
    async fn serve(
        &mut self,
        conn: &mut Conn,
        ops: &mut mpsc::UnboundedReceiver<Op>,
    ) -> Option<Lost> {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                op = ops.recv() => {
                    let op = op?;
                    if let Err(e) = self.online(&mut conn.cmd, op).await {
                        return Some(e);
                    }
                }
                msg = conn.messages.next() => match msg {
                    Some(m) => self.received(m.get_payload_bytes()),
                    None => return Some("subscription closed".into()),
                },
                _ = heartbeat.tick() => {
                    self.counters.heartbeats.fetch_add(1, Ordering::Relaxed);
                    let pong: Result<String, _> = redis::cmd("PING").query_async(&mut conn.cmd).await;
                    if let Err(e) = pong {
                        return Some(one_line(&e));
                    }
                }
            }
        }
    }

    /// Reconnects (answering ops offline meanwhile) and resyncs; `None` when every handle
    /// is gone.
    async fn reconnect(&mut self, ops: &mut mpsc::UnboundedReceiver<Op>) -> Option<Conn> {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        loop {
            let pause = tokio::time::sleep(backoff.next_delay(&mut rand::thread_rng()));
            tokio::pin!(pause);
            loop {
                tokio::select! {
                    _ = &mut pause => break,
                    op = ops.recv() => self.offline(op?),
                }
            }
            let attempt = connect(self.client.clone(), self.channel.clone());
            tokio::pin!(attempt);
            let conn = loop {
                tokio::select! {
                    r = &mut attempt => break r,
                    op = ops.recv() => self.offline(op?),
                }
            };
            let Ok(mut conn) = conn else { continue };
            if self.resync(&mut conn.cmd).await.is_ok() {
                return Some(conn);
            }
        }
    }

    async fn connect(&self) -> Result<Conn, String> {
        connect(self.client.clone(), self.channel.clone()).await
    }

    /// After a reconnect: pushes what changed meanwhile, then the whole local state where
    /// Redis lacks it (a Redis restarted empty gets its flood deadlines and auth keys back
    /// from the instances), then reloads everything.
    async fn resync(&mut self, cmd: &mut MultiplexedConnection) -> Result<(), Lost> {
        let pending: Vec<Change> = self.pending.drain().map(|(_, c)| c).collect();
        for (i, change) in pending.iter().enumerate() {
            if let Err(e) = self.write(cmd, change, false).await {
                // Keep what was not pushed for the next attempt.
                for c in &pending[i..] {
                    self.pending.insert(c.slot(), c.clone());
                }
                return Err(e);
            }
        }
        for change in self.local.read(|m| m.live(now_ms())) {
            self.write(cmd, &change, true).await?;
        }
        self.load(cmd).await
    }

    /// Handles one op while connected.
    async fn online(&mut self, cmd: &mut MultiplexedConnection, op: Op) -> Result<(), Lost> {
        match op {
            Op::Record(change) => {
                if let Err(e) = self.write(cmd, &change, false).await {
                    self.pending.insert(change.slot(), change);
                    return Err(e);
                }
            }
            Op::InsertKey(change, reply) => match self.insert_key(cmd, &change).await {
                Ok(key) => {
                    let _ = reply.send(Some(key));
                }
                Err(e) => {
                    let _ = reply.send(None);
                    return Err(e);
                }
            },
            Op::Take {
                account,
                pacing,
                want,
                reply,
            } => {
                let key = format!("{PREFIX}bucket:{account}");
                self.tick();
                let r: Result<(u32, u64), _> = self
                    .scripts
                    .bucket
                    .key(key)
                    .arg(pacing.rate)
                    .arg(pacing.burst)
                    .arg(want)
                    .invoke_async(cmd)
                    .await
                    .map_err(|e| one_line(&e));
                let _ = reply.send(r.as_ref().ok().copied());
                r?;
            }
            Op::Flush(reply) => {
                let _ = reply.send(());
            }
        }
        Ok(())
    }

    /// Handles one op while Redis is unreachable: changes are kept, questions get "no".
    fn offline(&mut self, op: Op) {
        match op {
            Op::Record(change) => {
                self.pending.insert(change.slot(), change);
            }
            Op::InsertKey(_, reply) => {
                let _ = reply.send(None);
            }
            Op::Take { reply, .. } => {
                let _ = reply.send(None);
            }
            Op::Flush(reply) => {
                let _ = reply.send(());
            }
        }
    }

    /// Counts one round trip (every command goes through here first).
    fn tick(&self) {
        self.counters.round_trips.fetch_add(1, Ordering::Relaxed);
    }

    /// The message published with a change: our origin tag, then the change.
    fn message(&self, change: &Change) -> Vec<u8> {
        let mut m = self.origin.to_le_bytes().to_vec();
        change.encode_into(&mut m);
        m
    }

    /// Writes and publishes a change (a resolution only where none is stored when
    /// `only_if_absent`; flood deadlines only ever move later, auth keys never replace one).
    async fn write(
        &self,
        cmd: &mut MultiplexedConnection,
        change: &Change,
        only_if_absent: bool,
    ) -> Result<(), Lost> {
        let key = format!("{PREFIX}{}", change.slot());
        let msg = self.message(change);
        let (script, value, arg) = match change {
            Change::Flood { until, .. } => (&self.scripts.flood, change.encode(), *until),
            Change::Resolved { expires, .. } => match expires.saturating_sub(now_ms()) {
                0 => return Ok(()),
                ttl => (&self.scripts.put, change.encode(), ttl),
            },
            Change::Forget { .. } => (&self.scripts.put, Vec::new(), 0),
            Change::AuthKey { .. } => return self.insert_key(cmd, change).await.map(drop),
        };
        self.tick();
        script
            .key(&key)
            .key(&self.channel)
            .arg(value)
            .arg(arg)
            .arg(msg)
            .arg(u8::from(only_if_absent))
            .invoke_async::<i32>(cmd)
            .await
            .map(drop)
            .map_err(|e| one_line(&e))
    }

    /// Stores an auth key unless one is there; returns the stored one (and applies it
    /// locally when it is another instance's).
    async fn insert_key(
        &self,
        cmd: &mut MultiplexedConnection,
        change: &Change,
    ) -> Result<Box<AuthKey>, Lost> {
        let key = format!("{PREFIX}{}", change.slot());
        self.tick();
        let stored: Vec<u8> = self
            .scripts
            .key
            .key(&key)
            .key(&self.channel)
            .arg(change.encode())
            .arg(self.message(change))
            .invoke_async(cmd)
            .await
            .map_err(|e| one_line(&e))?;
        match Change::decode(&stored) {
            Ok(Change::AuthKey { account, dc, key }) => {
                let winner = key.clone();
                self.local
                    .apply_remote(&Change::AuthKey { account, dc, key });
                Ok(winner)
            }
            _ => Err(format!("{key} holds something that is not an auth key")),
        }
    }

    /// Reads every key into the local copy.
    async fn load(&self, cmd: &mut MultiplexedConnection) -> Result<(), Lost> {
        let mut cursor: u64 = 0;
        let mut keys: Vec<String> = Vec::new();
        loop {
            self.tick();
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{PREFIX}*"))
                .arg("COUNT")
                .arg(1000)
                .query_async(cmd)
                .await
                .map_err(|e| one_line(&e))?;
            keys.extend(batch.into_iter().filter(|k| {
                let rest = &k[PREFIX.len()..];
                rest.starts_with("flood:") || rest.starts_with("res:") || rest.starts_with("key:")
            }));
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        for chunk in keys.chunks(LOAD_BATCH) {
            self.tick();
            let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                .arg(chunk)
                .query_async(cmd)
                .await
                .map_err(|e| one_line(&e))?;
            for value in values.into_iter().flatten() {
                // A value we cannot read is some other program's key: leave it alone.
                if let Ok(change) = Change::decode(&value) {
                    self.local.apply_remote(&change);
                }
            }
        }
        Ok(())
    }

    /// A message from the channel.
    fn received(&self, payload: &[u8]) {
        let Some((origin, body)) = payload.split_first_chunk::<8>() else {
            return;
        };
        if u64::from_le_bytes(*origin) == self.origin {
            return;
        }
        if let Ok(change) = Change::decode(body) {
            self.counters.received.fetch_add(1, Ordering::Relaxed);
            self.local.apply_remote(&change);
        }
    }
}

/// Opens the command connection and the subscription.
async fn connect(client: Client, channel: String) -> Result<Conn, String> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT));
    let cmd = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| one_line(&e))?;
    let subscribe = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        Ok::<_, redis::RedisError>(pubsub.split())
    };
    let (sink, messages) = tokio::time::timeout(TIMEOUT, subscribe)
        .await
        .map_err(|_| "timed out subscribing".to_owned())?
        .map_err(|e| one_line(&e))?;
    Ok(Conn {
        cmd,
        _sink: sink,
        messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(hide_password("redis://:s3cret@h:1/0"), "redis://***@h:1/0");
        assert_eq!(hide_password("redis://h:1/0"), "redis://h:1/0");
    }
}
