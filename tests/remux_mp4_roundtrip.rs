//! Our MP4 muxer and MP4 demuxer against each other (no external tools): packets survive a
//! faststart round trip byte for byte with their times, and mutated or truncated files make the
//! demuxer return errors, never panic or loop.

use bytes::Bytes;
use tgmux::remux::mp4::demux::Mp4Demuxer;
use tgmux::remux::mp4::{
    EntryOptions, FaststartPlan, FaststartWriter, FragmentOptions, FragmentedMuxer,
};
use tgmux::remux::{Codec, Demuxer, Packet, Track, TrackKind};

/// Deterministic pseudo-random bytes (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn tracks() -> Vec<Track> {
    let mut v = Track::new(1, TrackKind::Video, Codec::H264, 1000);
    v.codec_private = vec![
        1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 4, 0x68, 0xee, 0x3c, 0x80,
    ];
    v.width = 320;
    v.height = 240;
    v.default_duration = Some(40);
    let mut a = Track::new(2, TrackKind::Audio, Codec::Aac, 48000);
    a.codec_private = vec![0x11, 0x90];
    a.sample_rate = 48000;
    a.channels = 2;
    vec![v, a]
}

/// Video in decode order with B-frames (Matroska style: pts only), audio with dts, interleaved.
fn packets(rng: &mut Rng) -> Vec<(usize, Packet)> {
    let order = [0i64, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11, 15, 13, 14];
    let mut out = Vec::new();
    let mut audio_t = 0i64;
    for (n, &f) in order.iter().cycle().take(48).enumerate() {
        let gop = (n / 16) as i64 * 16;
        let pts = (gop + f) * 40 + 120;
        let size = 50 + (rng.next() % 400) as usize;
        out.push((
            0,
            Packet {
                track: 1,
                pts,
                dts: None,
                duration: None,
                keyframe: f == 0,
                data: Bytes::from(rng.bytes(size)),
                omitted: None,
                input_offset: n as u64,
            },
        ));
        while audio_t * 1000 < (n as i64 + 1) * 40 * 48000 {
            let size = 10 + (rng.next() % 200) as usize;
            out.push((
                1,
                Packet {
                    track: 2,
                    pts: audio_t,
                    dts: Some(audio_t),
                    duration: Some(1024),
                    keyframe: true,
                    data: Bytes::from(rng.bytes(size)),
                    omitted: None,
                    input_offset: 0,
                },
            ));
            audio_t += 1024;
        }
    }
    out
}

fn faststart(pkts: &[(usize, Packet)]) -> Vec<u8> {
    let mut plan = FaststartPlan::new(tracks(), EntryOptions::default());
    for (i, p) in pkts {
        plan.add(*i, p.clone()).unwrap();
    }
    let header = plan.finish().unwrap();
    assert!(header.warnings.is_empty(), "{:?}", header.warnings);
    let mut w = FaststartWriter::new(Vec::new(), &header).unwrap();
    for (i, p) in pkts {
        w.write(*i, p.clone()).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn faststart_round_trip_keeps_bytes_and_times() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let pkts = packets(&mut rng);
    let file = faststart(&pkts);
    assert_eq!(&file[4..8], b"ftyp");
    let moov_at = u32::from_be_bytes(file[0..4].try_into().unwrap()) as usize;
    assert_eq!(
        &file[moov_at + 4..moov_at + 8],
        b"moov",
        "moov must come before mdat"
    );

    let mut d = Mp4Demuxer::open(file).unwrap();
    let t = d.tracks().to_vec();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].codec, Codec::H264);
    assert_eq!(t[0].codec_private, tracks()[0].codec_private);
    assert_eq!(t[1].codec, Codec::Aac);
    assert_eq!(t[1].codec_private, vec![0x11, 0x90]);
    assert_eq!((t[1].sample_rate, t[1].channels), (48000, 2));
    let mut got: Vec<Vec<Packet>> = vec![Vec::new(), Vec::new()];
    while let Some(p) = d.next_packet().unwrap() {
        got[p.track as usize - 1].push(p);
    }
    for track in 0..2 {
        let want: Vec<&Packet> = pkts
            .iter()
            .filter(|(i, _)| *i == track)
            .map(|(_, p)| p)
            .collect();
        assert_eq!(got[track].len(), want.len());
        let ts = [1000.0, 48000.0][track];
        for (g, w) in got[track].iter().zip(&want) {
            assert_eq!(g.data, w.data);
            assert_eq!(g.keyframe, w.keyframe || track == 1);
            // Presentation times equal the input's (both tracks start at the movie origin
            // plus the same offset: the video starts 120 ms after the audio).
            assert_eq!(g.pts as f64 / ts, w.pts as f64 / ts, "track {track}");
            assert!(g.dts.unwrap() <= g.pts);
        }
    }
}

#[test]
fn fragmented_output_has_init_and_one_fragment_per_gop() {
    let mut rng = Rng(42);
    let pkts = packets(&mut rng);
    let mut mux = FragmentedMuxer::new(tracks(), FragmentOptions::default());
    let mut out = Vec::new();
    for (i, p) in &pkts {
        mux.push(*i, p.clone(), &mut out).unwrap();
    }
    mux.finish(&mut out).unwrap();
    assert_eq!(&out[4..8], b"ftyp");
    let moofs = out.windows(4).filter(|w| w == b"moof").count();
    assert_eq!(moofs, 3, "three GOPs of 16 frames");
    assert_eq!(mux.index().len(), 3);
    assert!(out.windows(4).any(|w| w == b"mvex"));
}

#[test]
fn mutated_and_truncated_files_never_panic() {
    let mut rng = Rng(7);
    let pkts = packets(&mut rng);
    let file = faststart(&pkts);
    for cut in 0..file.len().min(4000) {
        let _ = drain(file[..cut].to_vec());
    }
    for _ in 0..3000 {
        let mut f = file.clone();
        let flips = 1 + rng.next() % 4;
        for _ in 0..flips {
            // Mostly hit the moov (the index), where a wrong byte matters.
            let at = (rng.next() as usize)
                % f.len()
                    .min(if rng.next() % 4 == 0 { f.len() } else { 2000 });
            f[at] = rng.next() as u8;
        }
        let _ = drain(f);
    }
}

fn drain(file: Vec<u8>) -> Result<usize, tgmux::remux::RemuxError> {
    let mut d = Mp4Demuxer::open(file)?;
    let mut n = 0;
    while d.next_packet()?.is_some() {
        n += 1;
        assert!(n < 1_000_000, "demuxer loops");
    }
    Ok(n)
}
