//! The Redis store against a real redis-server: two instances see each other's writes, race
//! for auth keys and bucket tokens and agree, keep working when Redis dies, and share again
//! when it is back; reads make no round trip.

mod store_util;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use store_util::{eventually, free_port, Redis};
use tgmux::store::{Pacing, Status, Store, AUTH_KEY_LEN};

/// Every test here is bounded: a hang is a failure, not a stuck suite.
const LIMIT: Duration = Duration::from_secs(90);
const SOON: Duration = Duration::from_secs(5);

async fn bounded(f: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test took longer than its bound");
}

#[tokio::test]
async fn unreachable_redis_at_start_is_a_one_line_error() {
    bounded(async {
        let url = format!("redis://127.0.0.1:{}/0", free_port());
        let e = Store::open(&url).await.unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("--store {url}: cannot connect: ")),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let e = Store::open("rediss://127.0.0.1:1/0")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("only redis://HOST:PORT/DB"), "{e}");
        let e = Store::open("redis://:hunter2@127.0.0.1:1/0")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            !e.contains("hunter2") && e.contains("***@127.0.0.1:1/0"),
            "{e}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_see_each_others_writes() {
    let Some(redis) = Redis::start("redis-share") else {
        return;
    };
    bounded(async {
        let a = Store::open(&redis.url(0)).await.unwrap();
        let b = Store::open(&redis.url(0)).await.unwrap();
        assert_eq!((a.status(), b.status()), (Status::Shared, Status::Shared));

        let until = a.note_flood("acct1", 2, Duration::from_secs(60)).unwrap();
        eventually("B sees A's flood deadline", SOON, || {
            b.flood_until("acct1", 2) == Some(until)
        })
        .await;
        assert_eq!(b.flood_until("acct1", 4), None, "per DC");
        // A shorter wait learned by B does not shorten the deadline anywhere.
        b.note_flood("acct1", 2, Duration::from_secs(5)).unwrap();
        a.flush().await;
        b.flush().await;
        assert_eq!(a.flood_until("acct1", 2), Some(until));
        assert_eq!(b.flood_until("acct1", 2), Some(until));

        let loc = Bytes::from_static(b"document location + file reference");
        a.put_resolution(
            "acct1",
            "https://t.me/c/5/6",
            loc.clone(),
            Duration::from_secs(600),
        )
        .unwrap();
        eventually("B sees A's resolution", SOON, || {
            b.resolution("acct1", "https://t.me/c/5/6").as_ref() == Some(&loc)
        })
        .await;
        // The file reference expired at B: B resolves again and puts the new value.
        let fresh = Bytes::from_static(b"document location + new file reference");
        b.put_resolution(
            "acct1",
            "https://t.me/c/5/6",
            fresh.clone(),
            Duration::from_secs(600),
        )
        .unwrap();
        eventually("A sees B's refreshed reference", SOON, || {
            a.resolution("acct1", "https://t.me/c/5/6").as_ref() == Some(&fresh)
        })
        .await;

        // An instance started later loads what is there, without any message.
        a.flush().await;
        b.flush().await;
        let c = Store::open(&redis.url(0)).await.unwrap();
        assert_eq!(c.flood_until("acct1", 2), Some(until));
        assert_eq!(c.resolution("acct1", "https://t.me/c/5/6"), Some(fresh));
        b.forget_resolution("acct1", "https://t.me/c/5/6").unwrap();
        eventually("C sees B's forget", SOON, || {
            c.resolution("acct1", "https://t.me/c/5/6").is_none()
        })
        .await;

        // Another DB is another deployment: nothing crosses.
        let other = Store::open(&redis.url(1)).await.unwrap();
        assert_eq!(other.flood_until("acct1", 2), None);
        other
            .note_flood("acct9", 1, Duration::from_secs(60))
            .unwrap();
        other.flush().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(a.flood_until("acct9", 1), None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_auth_keys_settle_on_the_first() {
    let Some(redis) = Redis::start("redis-keys") else {
        return;
    };
    bounded(async {
        let a = Store::open(&redis.url(0)).await.unwrap();
        let b = Store::open(&redis.url(0)).await.unwrap();
        // 16 offers at once, 8 from each instance, each with its own key.
        let mut tasks = Vec::new();
        for i in 0..16u8 {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                s.offer_auth_key("acct1", 4, &[i + 1; AUTH_KEY_LEN])
                    .await
                    .unwrap()
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            winners.push(t.await.unwrap()[0]);
        }
        assert!(winners.iter().all(|&w| w == winners[0]), "{winners:?}");
        assert_eq!(a.auth_key("acct1", 4).unwrap()[0], winners[0]);
        assert_eq!(b.auth_key("acct1", 4).unwrap()[0], winners[0]);
    })
    .await;
}

/// Takes tokens from `store`'s limiter for `secs`, as fast as it allows; returns how many.
async fn hammer(store: Store, pacing: Pacing, secs: f64) -> u32 {
    let limiter = store.limiter("acct1", pacing);
    let end = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
    let mut got = 0;
    while tokio::time::Instant::now() < end {
        match limiter.try_acquire() {
            Ok(()) => got += 1,
            Err(wait) => tokio::time::sleep(wait.min(Duration::from_millis(5))).await,
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_bucket_is_shared_and_atomic() {
    let Some(redis) = Redis::start("redis-bucket") else {
        return;
    };
    bounded(async {
        let a = Store::open(&redis.url(0)).await.unwrap();
        let b = Store::open(&redis.url(0)).await.unwrap();
        // A bucket of 10 that refills once in 1000 s: two instances grabbing as fast as they
        // can get 10 between them, not 10 each (a non-atomic read-modify-write gives more).
        let empty = Pacing {
            rate: 0.001,
            burst: 10.0,
        };
        let (x, y) = tokio::join!(hammer(a.clone(), empty, 1.5), hammer(b.clone(), empty, 1.5));
        assert_eq!(x + y, 10, "A took {x}, B took {y}");

        // 20/s with a burst of 5, for 2 s from both: at most 5 + 2.1 s · 20, plus one lease
        // (5) per instance taken just before the end; and steady progress.
        let rated = Pacing {
            rate: 20.0,
            burst: 5.0,
        };
        let account2 = |s: &Store| s.limiter("acct2", rated);
        let (la, lb) = (account2(&a), account2(&b));
        let go = |l: Arc<tgmux::store::RequestLimiter>| async move {
            let end = tokio::time::Instant::now() + Duration::from_secs(2);
            let mut n = 0;
            while tokio::time::Instant::now() < end {
                l.acquire().await;
                n += 1;
            }
            n
        };
        let (x, y) = tokio::join!(go(la), go(lb));
        assert!(x + y <= 5 + 42 + 10, "A {x} + B {y} over the shared rate");
        assert!(x + y >= 30, "A {x} + B {y}: too little progress");
        eprintln!("shared bucket 20/s burst 5, 2 s: A {x} + B {y} = {}", x + y);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lost_then_back() {
    let Some(mut redis) = Redis::start("redis-lost") else {
        return;
    };
    bounded(async {
        let a = Store::open(&redis.url(0)).await.unwrap();
        let b = Store::open(&redis.url(0)).await.unwrap();
        let before = a.note_flood("acct1", 2, Duration::from_secs(600)).unwrap();
        a.offer_auth_key("acct1", 2, &[3; AUTH_KEY_LEN])
            .await
            .unwrap();
        eventually("B sees A's flood", SOON, || {
            b.flood_until("acct1", 2).is_some()
        })
        .await;

        redis.kill();
        eventually("both notice", SOON, || {
            a.status() == Status::Degraded && b.status() == Status::Degraded
        })
        .await;
        // Both keep serving from local state: reads, new flood deadlines, auth keys, pacing.
        assert_eq!(b.flood_until("acct1", 2), Some(before));
        let during = a.note_flood("acct2", 4, Duration::from_secs(600)).unwrap();
        assert_eq!(a.flood_until("acct2", 4), Some(during));
        let key = b
            .offer_auth_key("acct2", 4, &[8; AUTH_KEY_LEN])
            .await
            .unwrap();
        assert_eq!(key[0], 8, "settled locally");
        let pacing = Pacing {
            rate: 100.0,
            burst: 3.0,
        };
        let limiter = a.limiter("acct1", pacing);
        assert!(
            (0..3).all(|_| limiter.try_acquire().is_ok()),
            "local bucket"
        );
        assert_eq!(a.stats().outages, 1);

        // Back, empty: both reconnect, push what they know, and share again.
        redis.restart();
        eventually("both reconnect", Duration::from_secs(20), || {
            a.status() == Status::Shared && b.status() == Status::Shared
        })
        .await;
        eventually("B learns A's deadline made during the outage", SOON, || {
            b.flood_until("acct2", 4) == Some(during)
        })
        .await;
        eventually("A learns B's key made during the outage", SOON, || {
            a.auth_key("acct2", 4).is_some_and(|k| k[0] == 8)
        })
        .await;
        let after = b.note_flood("acct3", 1, Duration::from_secs(60)).unwrap();
        eventually("A sees B's new write", SOON, || {
            a.flood_until("acct3", 1) == Some(after)
        })
        .await;
        // A newcomer finds everything, the state from before the outage included: the
        // instances gave the empty Redis back what they had.
        a.flush().await;
        b.flush().await;
        let c = Store::open(&redis.url(0)).await.unwrap();
        assert_eq!(c.flood_until("acct1", 2), Some(before));
        assert_eq!(c.auth_key("acct1", 2).unwrap()[0], 3);
        assert_eq!(c.flood_until("acct2", 4), Some(during));
        for s in [&a, &b] {
            let st = s.stats();
            assert_eq!((st.outages, st.reconnects), (1, 1), "{st:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hot_path_makes_no_round_trips() {
    let Some(redis) = Redis::start("redis-hot") else {
        return;
    };
    bounded(async {
        let a = Store::open(&redis.url(0)).await.unwrap();
        a.note_flood("acct1", 2, Duration::from_secs(60)).unwrap();
        a.put_resolution("acct1", "t.me/x/1", Bytes::from_static(b"loc"), Duration::from_secs(60))
            .unwrap();
        a.offer_auth_key("acct1", 2, &[1; AUTH_KEY_LEN]).await.unwrap();
        a.flush().await;
        let start = a.stats().round_trips;
        // What serving one part reads: the flood deadline, the resolution, the auth key.
        for _ in 0..100_000 {
            assert!(a.flood_until("acct1", 2).is_some());
            assert!(a.resolution("acct1", "t.me/x/1").is_some());
            assert!(a.auth_key("acct1", 2).is_some());
        }
        assert_eq!(a.stats().round_trips, start, "reads asked Redis");

        // One token per part: leases of a quarter second's worth are taken in the
        // background, so a part waits for Redis only when the shared bucket is empty.
        let pacing = Pacing {
            rate: 2000.0,
            burst: 2000.0,
        };
        let limiter = a.limiter("acct1", pacing);
        let parts = 4000;
        for _ in 0..parts {
            limiter.acquire().await;
        }
        let leases = a.stats().round_trips - start;
        // 4000 tokens in leases of 500: 8, plus the ones asked while the bucket refilled.
        assert!(leases <= 20, "{leases} round trips for {parts} parts");
        eprintln!(
            "round trips: 0 for 300000 reads; {leases} bucket leases for {parts} parts ({:.4} per part)",
            leases as f64 / parts as f64
        );
    })
    .await;
}
