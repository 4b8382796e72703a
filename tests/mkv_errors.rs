//! Bad input to the Matroska demuxer: truncated at every byte, garbage, corrupted bytes,
//! sizes beyond the limits. Each gives a typed error (or a clean result), never a panic or
//! a hang.

mod mkv_util;

use mkv_util::ebml::*;
use mkv_util::*;
use tgmux::remux::mkv::{MkvEvent, MkvParser};
use tgmux::remux::RemuxError;

/// Runs the demuxer over `data` in one push; returns the events or the error.
fn demux_all(data: &[u8]) -> Result<Vec<MkvEvent>, RemuxError> {
    let mut d = MkvParser::new();
    d.push(data);
    d.finish();
    let mut out = Vec::new();
    // The demuxer must finish in a bounded number of polls.
    for _ in 0..(data.len() + 100) * 4 {
        match d.poll()? {
            Some(MkvEvent::End) => return Ok(out),
            Some(ev) => out.push(ev),
            None => panic!("Ok(None) after finish()"),
        }
    }
    panic!("demuxer did not end");
}

#[test]
fn every_truncation_is_reported() {
    let data = synthetic_file(false);
    assert!(demux_all(&data).is_ok());
    assert!(matches!(demux_all(&[]), Err(RemuxError::UnknownFormat)));
    for cut in 1..data.len() {
        match demux_all(&data[..cut]) {
            Err(RemuxError::Truncated { at }) => assert_eq!(at, cut as u64),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn live_file_may_end_at_any_element_boundary() {
    // With unknown sizes the end of input is the end of the Segment: a cut inside an element is
    // truncation, a cut between elements is a clean end.
    let data = synthetic_file(true);
    let mut clean = 0;
    for cut in 1..data.len() {
        match demux_all(&data[..cut]) {
            Ok(_) => clean += 1,
            Err(RemuxError::Truncated { .. }) => {}
            Err(RemuxError::Malformed { what, .. }) if what.contains("Tracks") => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    assert!(clean >= 8, "clean ends: {clean}");
}

#[test]
fn garbage_is_unknown_format() {
    for seed in 0..200 {
        let mut g = noise(seed, 64 + seed as usize);
        if g[0] == 0x1A {
            g[0] = 0;
        }
        assert!(
            matches!(demux_all(&g), Err(RemuxError::UnknownFormat)),
            "seed {seed}"
        );
    }
    assert!(matches!(
        demux_all(b"RIFF\0\0\0\0WAVEfmt "),
        Err(RemuxError::UnknownFormat)
    ));
    assert!(matches!(
        demux_all(&header("notmatroska")),
        Err(RemuxError::UnknownFormat)
    ));
    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypisom");
    assert!(matches!(demux_all(&mp4), Err(RemuxError::UnknownFormat)));
}

#[test]
fn corrupted_bytes_never_panic() {
    let data = synthetic_file(false);
    for i in 0..data.len() {
        for x in [0x00u8, 0xFF, 0x80, 0x01] {
            let mut d = data.clone();
            d[i] ^= x.max(1);
            let _ = demux_all(&d);
            d[i] = x;
            let _ = demux_all(&d);
        }
    }
}

#[test]
fn limits_and_structure_errors() {
    let info = el(0x1549_A966, &uint(0x2AD7B1, 1_000_000));
    let tracks = el(
        0x1654_AE6B,
        &el(
            0xAE,
            &cat(&[uint(0xD7, 1), uint(0x83, 2), text(0x86, "A_OPUS")]),
        ),
    );
    let file = |cluster: Vec<u8>| {
        cat(&[
            header("webm"),
            el_sized(
                0x1853_8067,
                &cat(&[info.clone(), tracks.clone(), cluster]),
                None,
            ),
        ])
    };

    // A block claiming 1 TiB: TooLarge, without allocating it.
    let mut huge = el_sized(0x1F43_B675, &cat(&[uint(0xE7, 0)]), None);
    huge.extend(el_sized(0xA3, &[], Some(1 << 40)));
    assert!(matches!(
        demux_all(&file(huge)),
        Err(RemuxError::TooLarge { .. })
    ));

    // Unknown size on an element that may not have it.
    let mut bad = el_sized(0x1F43_B675, &uint(0xE7, 0), None);
    bad.extend(el_sized(0xA0, &[], None));
    assert!(matches!(
        demux_all(&file(bad)),
        Err(RemuxError::Malformed { .. })
    ));

    // A block before the cluster timestamp.
    let c = el(0x1F43_B675, &el(0xA3, &block_body(1, 0, 0x80, b"x")));
    assert!(matches!(
        demux_all(&file(c)),
        Err(RemuxError::Malformed { .. })
    ));

    // A cluster before Tracks.
    let early = cat(&[
        header("matroska"),
        el(0x1853_8067, &el(0x1F43_B675, &uint(0xE7, 0))),
    ]);
    assert!(matches!(
        demux_all(&early),
        Err(RemuxError::Malformed { .. })
    ));

    // A child overrunning its parent.
    let mut over = el(0x1F43_B675, &uint(0xE7, 0));
    over.extend(el(0xA3, &block_body(1, 0, 0x80, b"abc")));
    let seg = cat(&[info.clone(), tracks.clone(), over]);
    let mut f = cat(&[
        header("matroska"),
        el_sized(0x1853_8067, &seg, Some(seg.len() as u64)),
    ]);
    // Shrink the cluster's declared size by one so the block overruns it.
    let pos = f
        .windows(4)
        .position(|w| w == [0x1F, 0x43, 0xB6, 0x75])
        .unwrap()
        + 4;
    f[pos + 7] -= 1;
    assert!(matches!(demux_all(&f), Err(RemuxError::Malformed { .. })));

    // Errors are sticky.
    let mut d = MkvParser::new();
    d.push(b"garbage!");
    assert!(d.poll().is_err());
    assert!(d.poll().is_err());
}

#[test]
fn laced_frames_without_durations_share_the_block_time() {
    let info = el(0x1549_A966, &uint(0x2AD7B1, 1_000_000));
    let tracks = el(
        0x1654_AE6B,
        &el(
            0xAE,
            &cat(&[uint(0xD7, 1), uint(0x83, 2), text(0x86, "A_AC3")]),
        ),
    );
    let mut lace = vec![2u8]; // fixed lacing, 3 frames of 2 bytes
    lace.extend_from_slice(b"aabbcc");
    let cluster = el(
        0x1F43_B675,
        &cat(&[uint(0xE7, 500), el(0xA3, &block_body(1, -1, 0x84, &lace))]),
    );
    let f = cat(&[
        header("matroska"),
        el(0x1853_8067, &cat(&[info, tracks, cluster])),
    ]);
    let evs = demux_all(&f).unwrap();
    let pk: Vec<_> = evs
        .iter()
        .filter_map(|e| {
            if let MkvEvent::Packet(p) = e {
                Some((p.pts, p.duration, p.data.to_vec()))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        pk,
        [
            (499, None, b"aa".to_vec()),
            (499, None, b"bb".to_vec()),
            (499, None, b"cc".to_vec())
        ]
    );
}

/// Replays the checked-in fuzz corpus (`fuzz/seeds/demux_mkv`) the way the fuzz target
/// feeds it, so inputs the fuzzer found stay fixed without nightly in CI.
#[test]
fn fuzz_corpus_replays_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/demux_mkv");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let input = std::fs::read(entry.unwrap().path()).unwrap();
        let Some((&seed, data)) = input.split_first() else {
            continue;
        };
        let sizes = [1usize, 2, 3, 7, 16, 100, 4096, usize::MAX];
        let mut d = MkvParser::new();
        let (mut pos, mut k, mut polls) = (0, seed as usize, 0);
        if data.is_empty() {
            d.finish();
        }
        loop {
            polls += 1;
            assert!(polls < 64 + data.len() * 8, "no progress");
            match d.poll() {
                Err(_) | Ok(Some(MkvEvent::End)) => break,
                Ok(Some(_)) => {}
                Ok(None) => {
                    assert!(pos < data.len(), "asked for more bytes after finish()");
                    let len = sizes[k % sizes.len()].min(data.len() - pos);
                    k = k.wrapping_mul(31).wrapping_add(7);
                    d.push(&data[pos..pos + len]);
                    pos += len;
                    if pos == data.len() {
                        d.finish();
                    }
                }
            }
        }
        n += 1;
    }
    assert!(n >= 4, "corpus missing ({n} files)");
}
