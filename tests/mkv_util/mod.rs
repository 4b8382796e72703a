//! Helpers shared by the Matroska demuxer tests: temp dirs, running ffmpeg/mkvmerge, the
//! ffprobe comparison, and a rewrite to unknown (live) element sizes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use tgmux::remux::mkv::{demux_reader, MkvDemuxer, MkvEvent};
use tgmux::remux::{Codec, Packet, Track};

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
        let dir = std::env::temp_dir().join(format!("tgmux-mkv-{name}-{}", std::process::id()));
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
    let mut d = MkvDemuxer::new();
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

/// Demuxes with [`demux_reader`] in one go.
pub fn demux_file(f: &Path) -> Result<Report, tgmux::remux::RemuxError> {
    let mut tracks = Vec::new();
    let mut packets = Vec::new();
    for ev in demux_reader(std::fs::File::open(f).unwrap()) {
        match ev? {
            MkvEvent::Tracks(t) => tracks = t,
            MkvEvent::Packet(p) => packets.push(p),
            MkvEvent::End => {}
        }
    }
    Ok(Report { tracks, packets })
}

/// Demuxes `f` (chunked and through the reader, which must agree) and compares every packet
/// with ffprobe's, stream by stream.
pub fn check_against_ffprobe(f: &Path) -> Report {
    let data = std::fs::read(f).unwrap();
    let ours = demux_chunked(&data).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    let again = demux_file(f).unwrap();
    assert_eq!(ours.tracks, again.tracks);
    assert_eq!(ours.packets, again.packets);

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
