//! Helpers shared by the Matroska demuxer tests: temp dirs, running ffmpeg/mkvmerge, the
//! ffprobe comparison, and a rewrite to unknown (live) element sizes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use tgmux::remux::mkv::{MkvDemuxer, MkvEvent, MkvParser};
use tgmux::remux::{Codec, Demuxer, Packet, Track};

/// Expands to `-f lavfi -i testsrc2=size=320x240:rate=25` in [`Work::ffmpeg`].
pub const LAVFI_VIDEO: &str = "@video";
/// Expands to `-f lavfi -i sine=frequency=440:sample_rate=48000`.
pub const LAVFI_SINE_48K: &str = "@sine48k";

/// Whether the oracle tools exist; under CI=true their absence is a failure.
pub fn have_tools(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            let flag = if t.starts_with("mkv") {
                "--version"
            } else {
                "-version"
            };
            Command::new(t)
                .arg(flag)
                .output()
                .map(|o| !o.status.success())
                .unwrap_or(true)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("oracle tools missing under CI=true: {missing:?}");
    }
    eprintln!("note: skipping, oracle tools missing: {missing:?} (install ffmpeg and mkvtoolnix)");
    false
}

/// A temporary directory removed on drop.
pub struct Work {
    dir: PathBuf,
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Work {
    pub fn new(name: &str, tools: &[&str]) -> Option<Work> {
        if !have_tools(tools) {
            return None;
        }
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("tgmux-mkv-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Some(Work { dir })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn ffmpeg(&self, out: &str, args: &[&str]) -> PathBuf {
        let out = self.path(out);
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-v", "error", "-nostdin", "-y"]);
        for a in args {
            match *a {
                LAVFI_VIDEO => cmd.args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"]),
                LAVFI_SINE_48K => {
                    cmd.args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
                }
                other => cmd.arg(other),
            };
        }
        cmd.arg(&out);
        run(&mut cmd);
        out
    }

    pub fn mkvmerge(&self, out: &str, args: &[&str]) -> PathBuf {
        let out = self.path(out);
        let o = Command::new("mkvmerge")
            .arg("-q")
            .arg("-o")
            .arg(&out)
            .args(args)
            .output()
            .unwrap();
        // mkvmerge exits 1 for warnings, 2 for errors.
        assert!(
            o.status.code().is_some_and(|c| c <= 1),
            "mkvmerge failed: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        out
    }

    /// Whether some line of `mkvinfo -v` satisfies `pred` (proves the input has a feature).
    pub fn mkvinfo_has(&self, f: &Path, pred: impl Fn(&str) -> bool) -> bool {
        let o = Command::new("mkvinfo").arg("-v").arg(f).output().unwrap();
        String::from_utf8_lossy(&o.stdout).lines().any(pred)
    }
}

pub fn run(cmd: &mut Command) -> Vec<u8> {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// One packet as ffprobe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbePacket {
    pub stream: usize,
    pub pts: Option<i64>,
    pub size: usize,
    pub key: bool,
    pub sha256: String,
}

pub fn ffprobe_packets(f: &Path) -> Vec<ProbePacket> {
    let out = run(Command::new("ffprobe")
        .args(["-v", "error", "-show_data_hash", "SHA256", "-show_entries"])
        .arg("packet=stream_index,pts,size,flags,data_hash")
        .args(["-of", "compact=p=0"])
        .arg(f));
    // A packet starts with `stream_index=`; a side-data section ends the line early and the
    // remaining fields follow on a line starting with `|`.
    let mut v: Vec<ProbePacket> = Vec::new();
    for line in String::from_utf8_lossy(&out).lines() {
        if line.starts_with("stream_index=") {
            v.push(ProbePacket {
                stream: 0,
                pts: None,
                size: 0,
                key: false,
                sha256: String::new(),
            });
        } else if !line.starts_with('|') {
            continue;
        }
        let Some(p) = v.last_mut() else { continue };
        for kv in line.split('|') {
            let Some((k, val)) = kv.split_once('=') else {
                continue;
            };
            match k {
                "stream_index" => p.stream = val.parse().unwrap(),
                "pts" => p.pts = val.parse().ok(),
                "size" => p.size = val.parse().unwrap(),
                "flags" => p.key = val.starts_with('K'),
                "data_hash" => p.sha256 = val.trim_start_matches("SHA256:").to_string(),
                _ => {}
            }
        }
    }
    v
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the demuxer produced for a file.
pub struct Report {
    pub tracks: Vec<Track>,
    pub packets: Vec<Packet>,
}

impl Report {
    pub fn codecs(&self) -> Vec<Codec> {
        self.tracks.iter().map(|t| t.codec.clone()).collect()
    }
}

/// Demuxes `data` pushed in awkward chunk sizes (1 byte up to 64 KiB).
pub fn demux_chunked(data: &[u8]) -> Result<Report, tgmux::remux::RemuxError> {
    const CHUNKS: [usize; 9] = [1, 2, 3, 5, 8, 13, 4096, 65536, 7];
    let mut d = MkvParser::new();
    let mut tracks = None;
    let mut packets = Vec::new();
    let mut pos = 0;
    let mut k = 0;
    loop {
        match d.poll()? {
            Some(MkvEvent::Tracks(t)) => {
                assert!(tracks.is_none(), "Tracks twice");
                assert!(packets.is_empty(), "Tracks after packets");
                tracks = Some(t);
            }
            Some(MkvEvent::Packet(p)) => {
                assert!(tracks.is_some(), "packet before Tracks");
                packets.push(p);
            }
            Some(MkvEvent::End) => break,
            None => {
                if pos == data.len() {
                    d.finish();
                } else {
                    let n = CHUNKS[k % CHUNKS.len()].min(data.len() - pos);
                    k += 1;
                    d.push(&data[pos..pos + n]);
                    pos += n;
                }
            }
        }
    }
    Ok(Report {
        tracks: tracks.expect("no Tracks event"),
        packets,
    })
}

/// Every packet of a demuxer, with its tracks.
fn drain(d: &mut impl Demuxer) -> Result<Report, tgmux::remux::RemuxError> {
    let mut packets = Vec::new();
    while let Some(p) = d.next_packet()? {
        packets.push(p);
    }
    Ok(Report {
        tracks: d.tracks().to_vec(),
        packets,
    })
}

/// Demuxes with [`MkvDemuxer`] reading the file in order.
pub fn demux_file(f: &Path) -> Result<Report, tgmux::remux::RemuxError> {
    drain(&mut MkvDemuxer::open(std::fs::File::open(f).unwrap())?)
}

/// A file that counts the bytes read from it.
struct Counting {
    file: std::fs::File,
    read: u64,
}

impl std::io::Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for Counting {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.file.seek(pos)
    }
}

/// Demuxes with [`MkvDemuxer::index_only`] (sizes and times only, seeking over payloads);
/// returns the packets and how many bytes were read.
pub fn demux_index(f: &Path) -> Result<(Report, u64), tgmux::remux::RemuxError> {
    let file = Counting {
        file: std::fs::File::open(f).unwrap(),
        read: 0,
    };
    let mut d = MkvDemuxer::index_only(file, 0)?;
    let report = drain(&mut d)?;
    Ok((report, d.get_ref().read))
}

/// The index-only read of `f` must give the packets of the full read `full`: the same
/// tracks, times, flags and sizes, the bytes of every payload it did read, an omitted
/// payload only after a track's first packet, at the input extent it names. Returns the
/// payload bytes it omitted.
pub fn check_index_matches(f: &Path, full: &Report) -> u64 {
    let (index, _) = demux_index(f).unwrap_or_else(|e| panic!("{} (index-only): {e}", f.display()));
    assert_eq!(
        index.tracks,
        full.tracks,
        "{}: index-only tracks",
        f.display()
    );
    assert_eq!(
        index.packets.len(),
        full.packets.len(),
        "{}: index-only packet count",
        f.display()
    );
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(f).unwrap();
    let mut omitted = 0;
    let mut seen = std::collections::HashSet::new();
    for (i, (a, b)) in index.packets.iter().zip(&full.packets).enumerate() {
        let what = format!("{}: index-only packet {i}", f.display());
        assert_eq!(a.size(), b.data.len(), "{what}: size");
        assert_eq!(b.omitted, None, "{what}: a full read omits nothing");
        let first = seen.insert(a.track);
        if let Some(e) = a.omitted {
            assert!(!first, "{what}: a track's first packet is read");
            assert!(a.data.is_empty(), "{what}: omitted payload with data");
            let mut at = vec![0u8; e.len];
            file.read_exact_at(&mut at, e.offset).unwrap();
            assert!(at == b.data, "{what}: the extent holds another payload");
            omitted += e.len as u64;
        }
        let bare = |p: &Packet| Packet {
            data: Default::default(),
            omitted: None,
            ..p.clone()
        };
        if a.omitted.is_none() {
            assert_eq!(a, b, "{what}");
        } else {
            assert_eq!(bare(a), bare(b), "{what}");
        }
    }
    omitted
}

/// Demuxes `f` (chunked, through the reader and index-only, which must agree) and compares
/// every packet with ffprobe's, stream by stream.
pub fn check_against_ffprobe(f: &Path) -> Report {
    let data = std::fs::read(f).unwrap();
    let ours = demux_chunked(&data).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    let again = demux_file(f).unwrap();
    assert_eq!(ours.tracks, again.tracks);
    assert_eq!(ours.packets, again.packets);
    check_index_matches(f, &ours);

    let probe = ffprobe_packets(f);
    let streams = probe.iter().map(|p| p.stream + 1).max().unwrap_or(0);
    assert_eq!(
        streams,
        ours.tracks.len(),
        "stream count differs from ffprobe"
    );
    for (index, track) in ours.tracks.iter().enumerate() {
        let theirs: Vec<&ProbePacket> = probe.iter().filter(|p| p.stream == index).collect();
        let mine: Vec<&Packet> = ours
            .packets
            .iter()
            .filter(|p| p.track == track.id)
            .collect();
        assert_eq!(
            mine.len(),
            theirs.len(),
            "{}: packet count of stream {index} ({:?})",
            f.display(),
            track.codec
        );
        for (i, (m, t)) in mine.iter().zip(&theirs).enumerate() {
            let what = format!(
                "{}: stream {index} ({:?}) packet {i}",
                f.display(),
                track.codec
            );
            assert_eq!(m.data.len(), t.size, "{what}: size");
            assert_eq!(sha256_hex(&m.data), t.sha256, "{what}: data");
            assert_eq!(Some(m.pts), t.pts, "{what}: pts");
            assert_eq!(m.keyframe, t.key, "{what}: keyframe flag");
        }
    }
    ours
}

/// Copies `src` to `dst` with the Segment and every Cluster given unknown size (all ones in
/// the same field width), as a live recorder writes them. Returns the number of Clusters.
pub fn rewrite_unknown_sizes(src: &Path, dst: &Path) -> usize {
    let mut data = std::fs::read(src).unwrap();
    fn vint_len(b: u8) -> usize {
        b.leading_zeros() as usize + 1
    }
    fn header(d: &[u8], pos: usize) -> (u32, usize, usize, u64) {
        let il = vint_len(d[pos]);
        let id = d[pos..pos + il]
            .iter()
            .fold(0u32, |a, &b| (a << 8) | b as u32);
        let sl = vint_len(d[pos + il]);
        let mut size = (u16::from(d[pos + il]) & (0xFFu16 >> sl)) as u64;
        for &b in &d[pos + il + 1..pos + il + sl] {
            size = (size << 8) | b as u64;
        }
        (id, il, sl, size)
    }
    fn set_unknown(d: &mut [u8], at: usize, sl: usize) {
        d[at] = (0xFFu16 >> (sl - 1)) as u8 | (0x80 >> (sl - 1)) as u8;
        for b in &mut d[at + 1..at + sl] {
            *b = 0xFF;
        }
    }
    // EBML header, then the Segment.
    let (_, il, sl, size) = header(&data, 0);
    let mut pos = il + sl + size as usize;
    let (id, il, sl, _) = header(&data, pos);
    assert_eq!(id, 0x1853_8067);
    set_unknown(&mut data, pos + il, sl);
    pos += il + sl;
    let mut clusters = 0;
    while pos < data.len() {
        let (id, il, sl, size) = header(&data, pos);
        if id == 0x1F43_B675 {
            set_unknown(&mut data, pos + il, sl);
            clusters += 1;
        }
        pos += il + sl + size as usize;
    }
    std::fs::write(dst, data).unwrap();
    clusters
}

/// A tiny EBML writer for synthetic test files.
pub mod ebml {
    /// An element with an 8-byte size field (`None` = unknown size).
    pub fn el_sized(id: u32, body: &[u8], size: Option<u64>) -> Vec<u8> {
        let mut v: Vec<u8> = id
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        match size {
            Some(s) => {
                v.push(0x01);
                v.extend_from_slice(&s.to_be_bytes()[1..]);
            }
            None => v.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        }
        v.extend_from_slice(body);
        v
    }
    pub fn el(id: u32, body: &[u8]) -> Vec<u8> {
        el_sized(id, body, Some(body.len() as u64))
    }
    pub fn uint(id: u32, v: u64) -> Vec<u8> {
        let b: Vec<u8> = v
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        el(id, &b)
    }
    pub fn float(id: u32, v: f64) -> Vec<u8> {
        el(id, &v.to_be_bytes())
    }
    pub fn text(id: u32, s: &str) -> Vec<u8> {
        el(id, s.as_bytes())
    }
    pub fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }
    /// EBML header with the given DocType.
    pub fn header(doc_type: &str) -> Vec<u8> {
        el(
            0x1A45_DFA3,
            &cat(&[
                uint(0x4286, 1),
                uint(0x42F7, 1),
                uint(0x42F2, 4),
                uint(0x42F3, 8),
                text(0x4282, doc_type),
                uint(0x4287, 4),
                uint(0x4285, 2),
            ]),
        )
    }
    /// A (Simple)Block body: track 1..=126, relative time, flags, then lace data.
    pub fn block_body(track: u8, rel: i16, flags: u8, rest: &[u8]) -> Vec<u8> {
        let mut v = vec![0x80 | track];
        v.extend_from_slice(&rel.to_be_bytes());
        v.push(flags);
        v.extend_from_slice(rest);
        v
    }
    /// Xiph lacing header for frames of these sizes (the last size is implied).
    pub fn xiph(sizes: &[usize]) -> Vec<u8> {
        let mut v = vec![(sizes.len() - 1) as u8];
        for &s in &sizes[..sizes.len() - 1] {
            v.extend(std::iter::repeat_n(255u8, s / 255));
            v.push((s % 255) as u8);
        }
        v
    }
    /// EBML lacing header for frames of these sizes (2-byte vints).
    pub fn ebml_lace(sizes: &[usize]) -> Vec<u8> {
        let mut v = vec![(sizes.len() - 1) as u8];
        v.extend_from_slice(&(0x4000u16 | sizes[0] as u16).to_be_bytes());
        for w in sizes[..sizes.len() - 1].windows(2) {
            let diff = w[1] as i64 - w[0] as i64;
            let raw = (diff + 8191) as u16; // 2-byte signed vint bias 2^13 - 1
            v.extend_from_slice(&(0x4000u16 | raw).to_be_bytes());
        }
        v
    }
}

/// Deterministic pseudo-random bytes.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A synthetic Matroska file exercising what ffmpeg and mkvmerge do not write: header
/// stripping, all three lacings with DefaultDuration spacing, negative block timestamps,
/// Void/CRC-32/unknown elements, unknown-size Segment and Clusters followed by Cues and Tags.
/// Track 1: PCM audio (48 kHz mono s16le, DefaultDuration 10.5 ms); track 2: SRT subtitles
/// with header stripping ("Line: ").
pub fn synthetic_file(live: bool) -> Vec<u8> {
    use ebml::*;
    let size = |b: &[u8]| if live { None } else { Some(b.len() as u64) };
    let info = el(
        0x1549_A966,
        &cat(&[uint(0x2AD7B1, 1_000_000), float(0x4489, 3000.0)]),
    );
    let pcm = el(
        0xAE,
        &cat(&[
            uint(0xD7, 1),
            uint(0x73C5, 11),
            uint(0x83, 2),
            text(0x86, "A_PCM/INT/LIT"),
            uint(0x23E383, 10_500_000),
            text(0x22B59C, "fre"),
            el(
                0xE1,
                &cat(&[float(0xB5, 48000.0), uint(0x9F, 1), uint(0x6264, 16)]),
            ),
        ]),
    );
    let subs = el(
        0xAE,
        &cat(&[
            uint(0xD7, 2),
            uint(0x73C5, 22),
            uint(0x83, 0x11),
            text(0x86, "S_TEXT/UTF8"),
            text(0x536E, "stripped"),
            el(
                0x6D80,
                &el(
                    0x6240,
                    &cat(&[
                        uint(0x5031, 0),
                        uint(0x5032, 1),
                        uint(0x5033, 0),
                        el(0x5034, &cat(&[uint(0x4254, 3), el(0x4255, b"Line: ")])),
                    ]),
                ),
            ),
        ]),
    );
    let tracks = el(0x1654_AE6B, &cat(&[pcm, subs]));
    let frame = |seed: u64, n: usize| noise(seed, n);
    let sb = |body: Vec<u8>| el(0xA3, &body);
    // Cluster 1 at 1000 ms: Xiph lace of 3, a BlockGroup subtitle with a negative time, Void.
    let sizes = [1008usize, 1000, 1010];
    let mut x = xiph(&sizes);
    for (i, &s) in sizes.iter().enumerate() {
        x.extend(frame(i as u64, s));
    }
    let c1 = cat(&[
        uint(0xE7, 1000),
        sb(block_body(1, 0, 0x80 | 0x02, &x)),
        el(0xEC, &[0; 5]),
        el(
            0xA0,
            &cat(&[el(0xA1, &block_body(2, -40, 0, b"first")), uint(0x9B, 500)]),
        ),
        el(0xBF, &[1, 2, 3, 4]),
    ]);
    // Cluster 2 at 1031 ms: EBML lace of 4, fixed lace of 2, an unknown element, a subtitle.
    let sizes = [1008usize, 900, 1100, 1008];
    let mut e = ebml_lace(&sizes);
    for (i, &s) in sizes.iter().enumerate() {
        e.extend(frame(10 + i as u64, s));
    }
    let mut f = vec![1u8];
    f.extend(frame(20, 2 * 1008));
    let c2 = cat(&[
        uint(0xE7, 1031),
        sb(block_body(1, 0, 0x80 | 0x06, &e)),
        el(0x4DBB, b"an unknown element"),
        sb(block_body(1, 42, 0x80 | 0x04, &f)),
        el(
            0xA0,
            &cat(&[el(0xA1, &block_body(2, 10, 0, b"second")), uint(0x9B, 700)]),
        ),
    ]);
    let cues = el(
        0x1C53_BB6B,
        &el(
            0xBB,
            &cat(&[
                uint(0xB3, 1000),
                el(0xB7, &cat(&[uint(0xF7, 1), uint(0xF1, 0)])),
            ]),
        ),
    );
    let tags = el(0x1254_C367, &el(0x7373, &[]));
    let body = cat(&[
        el(0xEC, &[0; 3]),
        info,
        tracks,
        el_sized(0x1F43_B675, &c1, size(&c1)),
        el_sized(0x1F43_B675, &c2, size(&c2)),
        cues,
        tags,
    ]);
    cat(&[
        header("matroska"),
        el_sized(0x1853_8067, &body, size(&body)),
    ])
}

/// One track of [`tiny_file`]: TrackNumber (1..=126), TrackType (1 video, 2 audio), CodecID
/// and CodecPrivate.
pub type TinyTrack<'a> = (u8, u64, &'a str, &'a [u8]);

/// A small Matroska file with the given DocType and tracks and `seconds` one-second Clusters,
/// each holding a 200-byte key frame of noise every 20 ms on every track (the payloads are
/// not decodable: a remux copies them, a decoder would not accept them).
pub fn tiny_file(doc_type: &str, tracks: &[TinyTrack], seconds: u64) -> Vec<u8> {
    use ebml::*;
    let entries: Vec<Vec<u8>> = tracks
        .iter()
        .map(|&(number, kind, codec, private)| {
            let detail = match kind {
                1 => el(0xE0, &cat(&[uint(0xB0, 64), uint(0xBA, 48)])),
                _ => el(0xE1, &cat(&[float(0xB5, 48000.0), uint(0x9F, 2)])),
            };
            let mut entry = vec![
                uint(0xD7, u64::from(number)),
                uint(0x73C5, u64::from(number)),
                uint(0x83, kind),
                text(0x86, codec),
                detail,
            ];
            if !private.is_empty() {
                entry.push(el(0x63A2, private));
            }
            el(0xAE, &cat(&entry))
        })
        .collect();
    let mut body = cat(&[
        el(0x1549_A966, &uint(0x2AD7B1, 1_000_000)),
        el(0x1654_AE6B, &cat(&entries)),
    ]);
    for s in 0..seconds {
        let mut cluster = uint(0xE7, s * 1000);
        for i in 0..50i16 {
            for &(number, ..) in tracks {
                let frame = noise(s * 1000 + i as u64 * 7 + u64::from(number), 200);
                cluster.extend(el(0xA3, &block_body(number, i * 20, 0x80, &frame)));
            }
        }
        body.extend(el(0x1F43_B675, &cluster));
    }
    cat(&[header(doc_type), el(0x1853_8067, &body)])
}
