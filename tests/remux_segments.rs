//! The remuxer's read-by-parts APIs judged by ffmpeg: HLS segments (`segments`), the media
//! summary (`info`) and WebVTT subtitles (`webvtt`), for files made here by ffmpeg and
//! mkvmerge. Without them the tests skip with a note, except under `CI=true`.

mod remux_util;

use std::cell::Cell;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use remux_util::*;
use tgmux::remux::mp4::FragmentOptions;
use tgmux::remux::segments::{KeyFrameSource, SegmentIndex};
use tgmux::remux::{Codec, Source, TextFormat, TrackKind};

/// Four seconds, a key frame every second.
const VIDEO4: &str = "-f lavfi -i testsrc=size=160x120:rate=25:duration=4";
const AUDIO4: &str = "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=4";
const H264: &str = "-c:v libx264 -bf 2 -g 25";

/// A file as a [`Source`] that counts the bytes read from it.
struct Counted {
    file: std::fs::File,
    read: Cell<u64>,
}

impl Counted {
    fn open(path: &Path) -> Counted {
        Counted {
            file: std::fs::File::open(path).unwrap(),
            read: Cell::new(0),
        }
    }
}

impl Source for Counted {
    fn len(&self) -> u64 {
        self.file.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.read.set(self.read.get() + buf.len() as u64);
        self.file.read_at(offset, buf)
    }
}

/// Cuts `input` into segments, each muxed from its own byte range only, and judges init +
/// all segments (ffmpeg must see the input's packets) and init + each segment alone (it must
/// decode without a message).
fn check_segments(dir: &TempDir, name: &str, input: &Path, found: KeyFrameSource) {
    let bytes = std::fs::read(input).unwrap();
    let src = Counted::open(input);
    let index = SegmentIndex::open(&src, FragmentOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(index.keyframe_source(), found, "{name}");
    let segments = index.segments();
    assert!(segments.len() >= 4, "{name}: {segments:?}");
    assert_eq!(segments.len(), index.keyframes().len());
    for (k, s) in segments.iter().enumerate() {
        assert!(s.range.start < s.range.end, "{name}: segment {k}: {s:?}");
        assert!(s.duration > 0.0, "{name}: segment {k}: {s:?}");
        assert_eq!(s.start, index.keyframes()[k].time);
    }
    for w in segments.windows(2) {
        assert!(w[0].start < w[1].start, "{name}: {w:?}");
        if found != KeyFrameSource::SampleTables {
            // Matroska segments are runs of whole Clusters, back to back.
            assert_eq!(w[0].range.end, w[1].range.start, "{name}: {w:?}");
        }
    }
    let read = src.read.get();
    let first = segments[0].range.end - segments[0].range.start;
    if found == KeyFrameSource::Cues {
        // The header and the first block (64 KiB reads), the Cues and the first segment.
        assert!(
            read < first + 160 * 1024,
            "{name}: indexing read {read} bytes"
        );
    }
    let init = index.init_segment();
    assert_eq!(&init[4..8], b"ftyp", "{name}");
    let mut whole = init.to_vec();
    for (k, s) in segments.iter().enumerate() {
        let part = &bytes[s.range.start as usize..s.range.end as usize];
        let fragment = index
            .segment(k, part)
            .unwrap_or_else(|e| panic!("{name}: {k}: {e}"));
        assert_eq!(&fragment[4..8], b"moof", "{name}: segment {k}");
        whole.extend_from_slice(&fragment);
        let alone = dir.path(&format!("{name}-{k}.mp4"));
        std::fs::write(&alone, [init, &fragment[..]].concat()).unwrap();
        let (ok, _, err) = run(
            Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&alone)
                .args(["-f", "null", "-"]),
            Duration::from_secs(60),
        );
        assert!(
            ok && err.trim().is_empty(),
            "{name}: segment {k} alone: {err}"
        );
    }
    assert!(
        index.segment(0, &bytes[..1]).is_err(),
        "{name}: wrong length"
    );
    let out = dir.path(&format!("{name}-all.mp4"));
    std::fs::write(&out, whole).unwrap();
    judge(name, &out, &av_packets(&[input.to_path_buf()]), 0);
}

#[test]
fn segments_put_together_are_the_whole_file() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("segments");
    let mkv = ffmpeg(
        &dir,
        &format!("{VIDEO4} {AUDIO4} {H264} -c:a aac"),
        "in.mkv",
    );
    check_segments(&dir, "mkv", &mkv, KeyFrameSource::Cues);
    // Large frames: indexing reads the header, the Cues and the first of four segments.
    let big = ffmpeg(
        &dir,
        &format!(
            "-f lavfi -i testsrc2=size=640x360:rate=25:duration=4 {AUDIO4} {H264} -crf 8 \
             -c:a aac"
        ),
        "big.mkv",
    );
    let src = Counted::open(&big);
    SegmentIndex::open(&src, FragmentOptions::default()).unwrap();
    let len = std::fs::metadata(&big).unwrap().len();
    assert!(
        src.read.get() * 3 < len,
        "read {} of {len} bytes",
        src.read.get()
    );
    let front = ffmpeg(
        &dir,
        &format!("{VIDEO4} {AUDIO4} {H264} -c:a libopus -cues_to_front 1"),
        "front.mkv",
    );
    check_segments(&dir, "cues-to-front", &front, KeyFrameSource::Cues);
    let no_cues = mkvmerge(&dir, "--no-cues @in.mkv", "nocues.mkv");
    check_segments(&dir, "no-cues", &no_cues, KeyFrameSource::Scan);
    let live = ffmpeg(
        &dir,
        &format!("{VIDEO4} {AUDIO4} {H264} -c:a aac -live 1 -f matroska"),
        "live.mkv",
    );
    check_segments(&dir, "live", &live, KeyFrameSource::Scan);
    let webm = ffmpeg(
        &dir,
        &format!(
            "{VIDEO4} {AUDIO4} -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 25 -c:a libopus"
        ),
        "in.webm",
    );
    check_segments(&dir, "webm", &webm, KeyFrameSource::Cues);
    let mp4 = ffmpeg(
        &dir,
        &format!("{VIDEO4} {AUDIO4} {H264} -c:a aac"),
        "in.mp4",
    );
    check_segments(&dir, "mp4", &mp4, KeyFrameSource::SampleTables);
    let mov = ffmpeg(
        &dir,
        &format!("{VIDEO4} {AUDIO4} {H264} -c:a aac -f mov"),
        "in.mov",
    );
    check_segments(&dir, "mov", &mov, KeyFrameSource::SampleTables);
}

/// ffprobe's `key=value` lines for `entries`.
fn probe_lines(file: &Path, entries: &str) -> Vec<String> {
    ffprobe(file, entries, "default=nw=1")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_summary_is_ffprobes_and_reads_only_the_header() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("info");
    let srt = dir.path("s.srt");
    std::fs::write(&srt, "1\n00:00:00,500 --> 00:00:01,000\nHi\n").unwrap();
    // Large frames, so that the payloads dwarf the header.
    let video = "-f lavfi -i testsrc2=size=640x360:rate=25:duration=3";
    let mkv = ffmpeg(
        &dir,
        &format!(
            "{video} {AUDIO4} -i {} -map 0 -map 1 -map 2 -t 3 -c:v libx264 -preset ultrafast \
             -qp 4 -c:a aac -c:s srt -metadata:s:a:0 language=fre -metadata:s:s:0 language=eng",
            srt.display()
        ),
        "in.mkv",
    );
    let mp4 = ffmpeg(
        &dir,
        &format!("{video} {AUDIO4} -t 3 -c:v libx264 -preset ultrafast -qp 4 -c:a aac"),
        "in.mp4",
    );
    for input in [&mkv, &mp4] {
        let src = Counted::open(input);
        let info = tgmux::remux::info::probe(&src).unwrap();
        let len = std::fs::metadata(input).unwrap().len();
        assert!(
            src.read.get() < 200 * 1024 && src.read.get() * 10 < len,
            "{}: read {} of {len} bytes",
            input.display(),
            src.read.get()
        );
        let duration: f64 = probe_lines(input, "format=duration")[0]
            .trim_start_matches("duration=")
            .parse()
            .unwrap();
        let ours = info.duration.unwrap();
        assert!((ours - duration).abs() < 0.05, "{ours} vs {duration}");
        let lines = probe_lines(input, "stream=codec_type,width,height:stream_tags=language");
        let mut kinds = Vec::new();
        for l in &lines {
            if let Some(k) = l.strip_prefix("codec_type=") {
                kinds.push(k.to_string());
            }
        }
        let ours: Vec<&str> = info
            .tracks
            .iter()
            .map(|t| match t.kind {
                TrackKind::Video => "video",
                TrackKind::Audio => "audio",
                TrackKind::Subtitle => "subtitle",
            })
            .collect();
        assert_eq!(ours, kinds, "{}", input.display());
        let v = info.video().unwrap();
        assert!(lines.contains(&format!("width={}", v.width)), "{lines:?}");
        assert!(lines.contains(&format!("height={}", v.height)), "{lines:?}");
        assert_eq!((v.width, v.height), (640, 360));
    }
    let info = tgmux::remux::info::probe(std::fs::File::open(&mkv).unwrap()).unwrap();
    assert_eq!(info.tracks[1].language.as_deref(), Some("fre"));
    let subs: Vec<_> = info.text_subtitles().collect();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].codec, Codec::Text(TextFormat::Srt));
    assert_eq!(subs[0].language.as_deref(), Some("eng"));
}

/// A WebVTT file's cues as (start ms, end ms, text without tags).
fn cues(vtt: &str) -> Vec<(u64, u64, String)> {
    fn ms(t: &str) -> u64 {
        let (hms, frac) = t.trim().split_once('.').unwrap();
        let secs = hms
            .split(':')
            .fold(0u64, |a, part| a * 60 + part.parse::<u64>().unwrap());
        secs * 1000 + frac.parse::<u64>().unwrap()
    }
    let mut out = Vec::new();
    for block in vtt.replace("\r\n", "\n").split("\n\n") {
        let mut lines = block.lines().skip_while(|l| !l.contains("-->"));
        let Some(timing) = lines.next() else { continue };
        let (a, b) = timing.split_once("-->").unwrap();
        let b = b.split_whitespace().next().unwrap();
        let mut text = String::new();
        let mut in_tag = false;
        for c in lines.collect::<Vec<_>>().join("\n").chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if !in_tag => text.push(c),
                _ => {}
            }
        }
        let text = text
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        out.push((ms(a), ms(b), text.trim().to_string()));
    }
    out
}

#[test]
fn text_subtitles_as_webvtt_are_ffmpegs() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("webvtt");
    let srt = dir.path("s.srt");
    std::fs::write(
        &srt,
        "1\n00:00:00,200 --> 00:00:00,800\n<i>Hello</i> & welcome\n\n\
         2\n00:00:01,000 --> 00:00:02,500\nTwo\nlines\n\n\
         3\n01:00:02,000 --> 01:00:03,250\n<b>Late</b>\n",
    )
    .unwrap();
    let ass = dir.path("s.ass");
    std::fs::write(
        &ass,
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n\
         [V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, \
         OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, \
         Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, \
         Encoding\nStyle: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,\
         10,10,10,0\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, \
         MarginV, Effect, Text\n\
         Dialogue: 0,0:00:00.30,0:00:01.20,Default,,0,0,0,,{\\i1}Tilted{\\i0}, then plain\n\
         Dialogue: 0,0:00:02.00,0:00:03.00,Default,,0,0,0,,One\\NTwo\n",
    )
    .unwrap();
    let vtt = dir.path("s.vtt");
    std::fs::write(
        &vtt,
        "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nFirst <b>cue</b>\n\n\
         00:00:02.000 --> 00:00:02.750\nSecond\n",
    )
    .unwrap();
    let mkv = ffmpeg(
        &dir,
        &format!(
            "{VIDEO4} -i {} -i {} -i {} -map 0 -map 1 -map 2 -map 3 -c:v libx264 -c:s:0 srt \
             -c:s:1 ass -c:s:2 webvtt",
            srt.display(),
            ass.display(),
            vtt.display()
        ),
        "in.mkv",
    );
    let info = tgmux::remux::info::probe(std::fs::File::open(&mkv).unwrap()).unwrap();
    let subs: Vec<_> = info.text_subtitles().cloned().collect();
    let formats: Vec<Codec> = subs.iter().map(|t| t.codec.clone()).collect();
    assert_eq!(
        formats,
        [TextFormat::Srt, TextFormat::Ass, TextFormat::WebVtt].map(Codec::Text)
    );
    for (n, track) in subs.iter().enumerate() {
        let ours = tgmux::remux::webvtt::extract(std::fs::File::open(&mkv).unwrap(), track.id)
            .unwrap_or_else(|e| panic!("track {}: {e}", track.id));
        assert!(ours.starts_with("WEBVTT"), "{ours}");
        let (ok, theirs, err) = run(
            Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&mkv)
                .args(["-map", &format!("0:s:{n}"), "-f", "webvtt", "-"]),
            Duration::from_secs(30),
        );
        assert!(ok, "{err}");
        let theirs = String::from_utf8_lossy(&theirs);
        assert_eq!(
            cues(&ours),
            cues(&theirs),
            "{:?}\n{ours}\n{theirs}",
            track.codec
        );
        assert!(cues(&ours).len() >= 2);
        // Our WebVTT is a subtitle file ffmpeg reads back.
        let back = dir.path(&format!("back{n}.vtt"));
        std::fs::write(&back, &ours).unwrap();
        let (ok, again, err) = run(
            Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&back)
                .args(["-f", "webvtt", "-"]),
            Duration::from_secs(30),
        );
        assert!(ok && err.trim().is_empty(), "{err}");
        assert_eq!(cues(&String::from_utf8_lossy(&again)), cues(&ours));
    }
    let video = info.video().unwrap().id;
    assert!(tgmux::remux::webvtt::extract(std::fs::File::open(&mkv).unwrap(), video).is_err());
}
