//! The Matroska demuxer against ffprobe: for files made at test time by ffmpeg and mkvmerge,
//! every packet we emit must equal ffprobe's (same count per stream, size, SHA-256 of the
//! data, pts and keyframe flag). Under `CI=true` a missing ffmpeg/mkvmerge fails the test;
//! otherwise the test prints a note and passes.

mod mkv_util;

use mkv_util::*;
use tgmux::remux::{Codec, TextFormat, TrackKind};

#[test]
fn h264_bframes_aac() {
    let Some(w) = Work::new("h264_aac", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let f = w.ffmpeg(
        "in.mkv",
        &[
            LAVFI_VIDEO,
            LAVFI_SINE_48K,
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-bf",
            "2",
            "-g",
            "25",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
        ],
    );
    let r = check_against_ffprobe(&f);
    assert_eq!(r.codecs(), [Codec::H264, Codec::Aac]);
    let v = &r.tracks[0];
    assert_eq!(
        (v.kind, v.width, v.height, v.timescale),
        (TrackKind::Video, 320, 240, 1000)
    );
    assert!(!v.codec_private.is_empty());
    let a = &r.tracks[1];
    assert_eq!((a.sample_rate, a.channels), (48000, 1));
    // B-frames: presentation order differs from decode (file) order.
    let pts: Vec<i64> = r
        .packets
        .iter()
        .filter(|p| p.track == v.id)
        .map(|p| p.pts)
        .collect();
    assert!(
        pts.windows(2).any(|w| w[1] < w[0]),
        "expected reordered pts with B-frames"
    );
}

#[test]
fn index_only_seeks_over_video_payloads() {
    let Some(w) = Work::new("index_only", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    // Large frames (nearly lossless) with small audio blocks between them, as in the
    // benchmark input.
    let f = w.ffmpeg(
        "in.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=25",
            LAVFI_SINE_48K,
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "4",
            "-c:a",
            "aac",
        ],
    );
    let full = check_against_ffprobe(&f);
    let omitted = check_index_matches(&f, &full);
    let (_, read) = demux_index(&f).unwrap();
    let len = std::fs::metadata(&f).unwrap().len();
    let video: u64 = full
        .packets
        .iter()
        .filter(|p| p.track == full.tracks[0].id)
        .map(|p| p.data.len() as u64)
        .sum();
    assert!(
        omitted > video * 9 / 10,
        "omitted {omitted} of {video} video payload bytes"
    );
    assert!(read < len / 4, "index-only read {read} of {len} bytes");
}

#[test]
fn hevc_opus_with_offset() {
    let Some(w) = Work::new("hevc_opus", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let f = w.ffmpeg(
        "in.mkv",
        &[
            LAVFI_VIDEO,
            LAVFI_SINE_48K,
            "-t",
            "1",
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error",
            "-c:a",
            "libopus",
            "-output_ts_offset",
            "10",
        ],
    );
    let r = check_against_ffprobe(&f);
    assert_eq!(r.codecs(), [Codec::Hevc, Codec::Opus]);
    assert!(r.tracks[1].codec_private.starts_with(b"OpusHead"));
    assert!(r.tracks[1].codec_delay > 0, "Opus CodecDelay expected");
    assert!(
        r.packets.iter().all(|p| p.pts >= 9_900),
        "start time offset of 10 s kept"
    );
}

#[test]
fn av1_opus_webm() {
    let Some(w) = Work::new("av1_webm", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let f = w.ffmpeg(
        "in.webm",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10",
            LAVFI_SINE_48K,
            "-t",
            "1",
            "-c:v",
            "libaom-av1",
            "-cpu-used",
            "8",
            "-row-mt",
            "1",
            "-c:a",
            "libopus",
        ],
    );
    let r = check_against_ffprobe(&f);
    assert_eq!(r.codecs(), [Codec::Av1, Codec::Opus]);
}

#[test]
fn vp9_opus_webm() {
    let Some(w) = Work::new("vp9_webm", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let f = w.ffmpeg(
        "in.webm",
        &[
            LAVFI_VIDEO,
            LAVFI_SINE_48K,
            "-t",
            "1",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-c:a",
            "libopus",
        ],
    );
    let r = check_against_ffprobe(&f);
    assert_eq!(r.codecs(), [Codec::Vp9, Codec::Opus]);
}

/// H.264 + AC-3 + FLAC + Opus + SRT, the base of the mkvmerge variants below.
fn multi(w: &Work) -> std::path::PathBuf {
    let srt = w.path("subs.srt");
    std::fs::write(
        &srt,
        "1\n00:00:00,100 --> 00:00:00,900\nHello\n\n2\n00:00:01,000 --> 00:00:01,500\nWorld\n",
    )
    .unwrap();
    w.ffmpeg(
        "multi.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25",
            LAVFI_SINE_48K,
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=660:sample_rate=44100",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=880:sample_rate=48000",
            "-i",
            srt.to_str().unwrap(),
            "-t",
            "2",
            "-map",
            "0",
            "-map",
            "1",
            "-map",
            "2",
            "-map",
            "3",
            "-map",
            "4",
            "-c:v",
            "libx264",
            "-bf",
            "2",
            "-c:a:0",
            "ac3",
            "-c:a:1",
            "flac",
            "-c:a:2",
            "libopus",
            "-c:s",
            "srt",
            "-metadata:s:a:0",
            "language=ger",
            "-metadata:s:a:1",
            "title=lossless",
        ],
    )
}

#[test]
fn multi_audio_flac_ac3_srt() {
    let Some(w) = Work::new("multi", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let r = check_against_ffprobe(&multi(&w));
    assert_eq!(
        r.codecs(),
        [
            Codec::H264,
            Codec::Ac3,
            Codec::Flac,
            Codec::Opus,
            Codec::Text(TextFormat::Srt)
        ]
    );
    assert_eq!(r.tracks[1].language.as_deref(), Some("ger"));
    assert_eq!(r.tracks[2].name.as_deref(), Some("lossless"));
    assert_eq!(r.tracks[2].sample_rate, 44100);
    assert!(r.tracks[2].codec_private.starts_with(b"fLaC"));
    let subs: Vec<_> = r
        .packets
        .iter()
        .filter(|p| p.track == r.tracks[4].id)
        .collect();
    assert_eq!(subs.len(), 2);
    assert_eq!(&subs[0].data[..], b"Hello");
    // ffmpeg shifts every stream by the Opus CodecDelay so none starts negative.
    assert_eq!(
        (subs[1].pts - subs[0].pts, subs[0].duration),
        (900, Some(800))
    );
}

#[test]
fn mkvmerge_lacing() {
    let Some(w) = Work::new("laced", &["ffmpeg", "ffprobe", "mkvmerge", "mkvinfo"]) else {
        return;
    };
    let src = multi(&w);
    let f = w.mkvmerge("laced.mkv", &[src.to_str().unwrap()]);
    assert!(
        w.mkvinfo_has(&f, |l| l.contains("frame(s)") && !l.contains(" 1 frame(s)")),
        "no laced block"
    );
    check_against_ffprobe(&f);
    // Index-only reading (whose extents check_against_ffprobe checked) leaves laced frames
    // unread too, but for laced Opus, whose frame durations come from the frames.
    let (index, _) = demux_index(&f).unwrap();
    let mut laced_audio = 0;
    for t in index
        .tracks
        .iter()
        .filter(|t| t.kind != TrackKind::Subtitle)
    {
        let packets = index.packets.iter().filter(|p| p.track == t.id);
        let (n, omitted) = (
            packets.clone().count(),
            packets.filter(|p| p.omitted.is_some()).count(),
        );
        if t.codec == Codec::Opus {
            // Only mkvmerge's last frame, alone in a BlockGroup (with its DiscardPadding).
            assert!(omitted <= 1, "laced Opus is read: {omitted} of {n} omitted");
        } else {
            assert!(
                omitted * 2 > n,
                "track {}: {omitted} of {n} packets omitted",
                t.id
            );
            laced_audio += usize::from(t.kind == TrackKind::Audio);
        }
    }
    assert_eq!(laced_audio, 2, "AC-3 and FLAC");
}

#[test]
fn mkvmerge_zlib() {
    let Some(w) = Work::new("zlib", &["ffmpeg", "ffprobe", "mkvmerge", "mkvinfo"]) else {
        return;
    };
    let src = multi(&w);
    let args = [
        "--compression",
        "0:zlib",
        "--compression",
        "1:zlib",
        "--compression",
        "4:zlib",
        src.to_str().unwrap(),
    ];
    let f = w.mkvmerge("zlib.mkv", &args);
    assert!(
        w.mkvinfo_has(&f, |l| l.contains("Content compression")),
        "no zlib track"
    );
    let r = check_against_ffprobe(&f);
    assert_eq!(r.codecs()[0], Codec::H264);
}

#[test]
fn mkvmerge_block_groups() {
    let Some(w) = Work::new("blockgroups", &["ffmpeg", "ffprobe", "mkvmerge", "mkvinfo"]) else {
        return;
    };
    let src = multi(&w);
    let f = w.mkvmerge(
        "bg.mkv",
        &["--engage", "no_simpleblocks", src.to_str().unwrap()],
    );
    assert!(
        w.mkvinfo_has(&f, |l| l.contains("Block group")),
        "no BlockGroup"
    );
    let r = check_against_ffprobe(&f);
    let v = r.tracks[0].id;
    let keys = r
        .packets
        .iter()
        .filter(|p| p.track == v && p.keyframe)
        .count();
    let all = r.packets.iter().filter(|p| p.track == v).count();
    assert!(
        keys >= 1 && keys < all,
        "BlockGroup keyframes: {keys} of {all}"
    );
    // Index-only reading (checked against the full read above) skips the Blocks' frames too.
    let (index, _) = demux_index(&f).unwrap();
    let omitted = index
        .packets
        .iter()
        .filter(|p| p.track == v && p.omitted.is_some())
        .count();
    assert!(
        omitted * 2 > all,
        "{omitted} of {all} BlockGroup video frames omitted"
    );
}

#[test]
fn mkvmerge_timestamp_scale() {
    let Some(w) = Work::new("tsscale", &["ffmpeg", "ffprobe", "mkvmerge"]) else {
        return;
    };
    let src = multi(&w);
    let f = w.mkvmerge(
        "scale.mkv",
        &["--timestamp-scale", "100000", src.to_str().unwrap()],
    );
    let r = check_against_ffprobe(&f);
    assert_eq!(r.tracks[0].timescale, 10_000);
}

#[test]
fn live_unknown_sizes() {
    let Some(w) = Work::new("live", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let src = w.ffmpeg(
        "in.mkv",
        &[
            LAVFI_VIDEO,
            LAVFI_SINE_48K,
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-g",
            "10",
            "-c:a",
            "aac",
            "-cluster_time_limit",
            "200",
        ],
    );
    let live = w.path("live.mkv");
    let n = rewrite_unknown_sizes(&src, &live);
    assert!(n >= 3, "expected several clusters rewritten, got {n}");
    let r = check_against_ffprobe(&live);
    assert_eq!(r.codecs(), [Codec::H264, Codec::Aac]);
}
