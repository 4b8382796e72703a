//! Synthetic Matroska files (built here with a tiny EBML writer) for what ffmpeg and
//! mkvmerge do not produce: header stripping, Xiph/EBML/fixed lacing with DefaultDuration
//! spacing, negative block times, unknown-size elements followed by Segment-level elements.
//! ffprobe is the oracle where it is available; the structural checks run regardless.

mod mkv_util;

use mkv_util::*;
use tgmux::remux::{Codec, TextFormat, TrackKind};

fn check_structure(r: &Report) {
    assert_eq!(r.tracks.len(), 2);
    let a = &r.tracks[0];
    assert_eq!(
        (a.kind, a.codec.clone()),
        (TrackKind::Audio, Codec::Unsupported("A_PCM/INT/LIT".into()))
    );
    assert_eq!(
        (
            a.sample_rate,
            a.channels,
            a.bits_per_sample,
            a.default_duration
        ),
        (48000, 1, 16, Some(11))
    );
    assert_eq!(a.language.as_deref(), Some("fre"));
    let s = &r.tracks[1];
    assert_eq!(
        (s.kind, s.codec.clone(), s.name.as_deref()),
        (
            TrackKind::Subtitle,
            Codec::Text(TextFormat::Srt),
            Some("stripped")
        )
    );
    let audio: Vec<_> = r.packets.iter().filter(|p| p.track == 1).collect();
    let sizes: Vec<usize> = audio.iter().map(|p| p.data.len()).collect();
    assert_eq!(sizes, [1008, 1000, 1010, 1008, 900, 1100, 1008, 1008, 1008]);
    let pts: Vec<i64> = audio.iter().map(|p| p.pts).collect();
    // DefaultDuration 10.5 ms: a lace of 3 spans floor(31.5) = 31 ms, split 10/10/11;
    // of 4: 42 ms, 10.5 each (floored); fixed lace of 2 at 1031+42: 21 ms.
    assert_eq!(pts, [1000, 1010, 1020, 1031, 1041, 1052, 1062, 1073, 1083]);
    assert_eq!(audio[0].duration, Some(10));
    assert_eq!(audio[2].duration, Some(11));
    let subs: Vec<_> = r.packets.iter().filter(|p| p.track == 2).collect();
    assert_eq!(&subs[0].data[..], b"Line: first");
    assert_eq!(
        (subs[0].pts, subs[0].duration, subs[0].keyframe),
        (960, Some(500), true)
    );
    assert_eq!(&subs[1].data[..], b"Line: second");
    assert_eq!((subs[1].pts, subs[1].duration), (1041, Some(700)));
}

#[test]
fn synthetic_sized_and_live() {
    for live in [false, true] {
        let data = synthetic_file(live);
        let r = demux_chunked(&data).unwrap();
        check_structure(&r);
        // Byte-at-a-time gives the same result.
        let mut d = tgmux::remux::mkv::MkvParser::new();
        let (mut n, mut ends) = (0, 0);
        let mut count = |ev| match ev {
            tgmux::remux::mkv::MkvEvent::Packet(_) => n += 1,
            tgmux::remux::mkv::MkvEvent::End => ends += 1,
            _ => {}
        };
        for b in &data {
            d.push(std::slice::from_ref(b));
            while let Some(ev) = d.poll().unwrap() {
                count(ev);
            }
        }
        d.finish();
        while let Some(ev) = d.poll().unwrap() {
            count(ev);
        }
        assert_eq!((n, ends), (r.packets.len(), 1));
        // Cues: cluster position 0 = the first byte of the Segment's body... plus the Void.
        assert_eq!(d.cues().len(), 1);
        assert_eq!(d.cues()[0].time, 1000);
    }
}

#[test]
fn synthetic_against_ffprobe() {
    let Some(w) = Work::new("synthetic", &["ffprobe"]) else {
        return;
    };
    for live in [false, true] {
        let f = w.path(if live { "live.mkv" } else { "sized.mkv" });
        std::fs::write(&f, synthetic_file(live)).unwrap();
        let r = check_against_ffprobe(&f);
        check_structure(&r);
    }
}

/// Memory stays bounded by one block plus one push, not by a Cluster: 300 KB Clusters of
/// 60 KB and 9 KB blocks, pushed 64 KiB at a time.
#[test]
fn buffers_one_block_not_a_cluster() {
    use mkv_util::ebml::*;
    use tgmux::remux::mkv::{MkvEvent, MkvParser};
    let info = el(0x1549_A966, &uint(0x2AD7B1, 1_000_000));
    let tracks = el(
        0x1654_AE6B,
        &el(
            0xAE,
            &cat(&[uint(0xD7, 1), uint(0x83, 1), text(0x86, "V_MPEG4/ISO/AVC")]),
        ),
    );
    let mut body = cat(&[info, tracks]);
    for c in 0..20u64 {
        let mut cluster = uint(0xE7, c * 1000);
        for i in 0..25i16 {
            let len = if i == 0 { 60_000 } else { 9_000 };
            cluster.extend(el(
                0xA3,
                &block_body(1, i * 40, if i == 0 { 0x80 } else { 0 }, &noise(c, len)),
            ));
        }
        body.extend(el_sized(
            0x1F43_B675,
            &cluster,
            if c % 2 == 0 {
                None
            } else {
                Some(cluster.len() as u64)
            },
        ));
    }
    let data = cat(&[header("matroska"), el_sized(0x1853_8067, &body, None)]);
    let mut d = MkvParser::new();
    let mut chunks = data.chunks(64 * 1024);
    let (mut max, mut packets, mut keys) = (0, 0, 0);
    loop {
        max = max.max(d.buffered());
        match d.poll().unwrap() {
            Some(MkvEvent::Packet(p)) => {
                packets += 1;
                keys += usize::from(p.keyframe);
            }
            Some(MkvEvent::End) => break,
            Some(MkvEvent::Tracks(_)) => {}
            None => match chunks.next() {
                Some(c) => d.push(c),
                None => d.finish(),
            },
        }
    }
    assert_eq!((packets, keys), (500, 20));
    assert!(max <= 64 * 1024 + 60_100, "buffered up to {max} bytes");
}
