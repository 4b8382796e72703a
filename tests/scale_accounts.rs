//! Issue 15's local-dc side: `--faults rate=R` limits each account's `upload.getFile` calls per
//! DC (beyond that `FLOOD_WAIT_X`), several bot tokens log in as distinct accounts, and the
//! stats file counts getFile per account and DC.

mod localdc_util;

use localdc_util::{media_bytes, s, tgmux};

const MIB: usize = 1 << 20;

/// getFile requests of `account` summed over the DCs (0 if it sent none).
fn get_files(stats: &serde_json::Value, account: &str) -> u64 {
    stats["get_file"][account]
        .as_object()
        .map(|dcs| dcs.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0)
}

/// `tgmux --dc-config .. --session SESSION GLOBALS download t.me/chan/1 -o OUT_DIR`, which must
/// succeed and write `want`; returns how long it took.
fn download_chan_1(
    dc: &localdc_util::LocalDc,
    session: &std::path::Path,
    globals: &[&str],
    out_dir: &std::path::Path,
    want: &[u8],
) -> std::time::Duration {
    let mut args = vec!["--dc-config", s(&dc.config), "--session", s(session)];
    args.extend_from_slice(globals);
    args.extend_from_slice(&["download", "t.me/chan/1", "-o", s(out_dir)]);
    let started = std::time::Instant::now();
    let out = tgmux(&args);
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let got = std::fs::read(out_dir.join("1.mkv")).unwrap();
    assert!(got == want, "{}: 1.mkv differs", s(session));
    took
}

#[test]
fn rate_fault_floods_each_account_and_counts_per_account() {
    let big = media_bytes(12 * MIB + 3, 21);
    let dir = localdc_util::scratch("scale-rate-stats");
    let stats = dir.join("stats.json");
    let dc = localdc_util::start_with_files(
        "scale-rate",
        3,
        &["--faults", "rate=5", "--stats-file", s(&stats)],
        &[("1.mkv", &big)],
    );
    let started = std::time::Instant::now();
    for (name, token) in [("a", "111:aaa"), ("b", "222:bbb")] {
        let session = dc.dir.join(format!("data/{name}"));
        localdc_util::login_bot_cli(&dc, &session, token);
        let out_dir = dc.dir.join(format!("out-{name}/"));
        download_chan_1(&dc, &session, &[], &out_dir, &big);
    }
    let st = localdc_util::stats_after(&stats, localdc_util::now_ms());
    // 13 parts each: at 5/s with a burst of 5, both accounts were refused some and retried.
    let (a, b) = (get_files(&st, "111"), get_files(&st, "222"));
    assert!(a >= 13 && b >= 13, "getFile per account: {a}, {b}; {st}");
    let floods: u64 = st["errors"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("FLOOD_WAIT_"))
        .filter_map(|(_, v)| v.as_u64())
        .sum();
    assert!(floods >= 2, "no FLOOD_WAIT from rate=5: {st}");
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn limit_rate_bounds_a_download_from_below() {
    let data = media_bytes(6 * MIB + 11, 22);
    let dc = localdc_util::start_with_files("scale-limit", 2, &[], &[("1.mkv", &data)]);
    let session = dc.dir.join("data/session");
    localdc_util::login_bot_cli(&dc, &session, "123:abc");
    let out_dir = dc.dir.join("out/");
    let took = download_chan_1(&dc, &session, &["--limit-rate", "2M"], &out_dir, &data);
    // 7 parts of 1 MiB at 2 MiB/s, a quarter second's burst free: at least 3.25 s.
    let floor = (7.0 - 0.5) / 2.0;
    assert!(
        took.as_secs_f64() >= floor,
        "7 parts at 2M in {took:?} (< {floor} s)"
    );
    eprintln!("--limit-rate 2M: 6 MiB in {took:?}");
    let bad = tgmux(&["--limit-rate", "20MB", "download", "t.me/chan/1"]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains("20MB"), "{err}");
}
