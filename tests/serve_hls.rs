//! The remuxed routes of `tgmux serve` over an ffmpeg-made H.264 + AAC + SRT Matroska file:
//! `.mp4` against `tgmux remux --fragmented` (byte for byte), the HLS init + segments (made
//! from byte ranges of the input through the key-frame index) against ffprobe (key frames at
//! segment starts, segment times, every packet of the input), WebVTT against the SRT, `/info`
//! read by Python's json module, `.m3u`, credentials in playlists, and what is refused
//! (input that is no media, a document that is not a valid Matroska or MP4 file). An MKV
//! without Cues (mkvmerge --no-cues, its key frames found by a scan) and an MP4 copy of the
//! same streams (sample tables) get the same segments.

mod localdc_util;
mod mkv_util;
mod serve_util;

use std::path::Path;
use std::process::Command;

use mkv_util::{ffprobe_packets, run, Work};
use serve_util::{av_mkv, curl, get, start_in, Reply};

const TOOLS: &[&str] = &["ffmpeg", "ffprobe", "mkvmerge"];

/// The playlist's (duration, URI) entries and its EXT-X-MAP URI.
fn playlist(text: &str) -> (String, Vec<(f64, String)>) {
    assert!(text.starts_with("#EXTM3U\n"), "{text}");
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD\n") && text.ends_with("#EXT-X-ENDLIST\n"));
    let map = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("EXT-X-MAP")
        .to_string();
    let mut segs = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some(d) = l.strip_prefix("#EXTINF:") {
            let d: f64 = d.trim_end_matches(',').parse().unwrap();
            segs.push((d, lines.next().unwrap().to_string()));
        }
    }
    (map, segs)
}

fn ok(r: Reply) -> Vec<u8> {
    assert_eq!(r.status, 200, "{}", r.text());
    r.body
}

fn python(script: &str, stdin: &[u8]) -> String {
    use std::io::Write;
    let mut p = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    p.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = p.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// One packet as ffprobe sees it: presentation time and duration (s), size, key flag.
#[derive(Debug, Clone, Copy)]
struct Pkt {
    pts: f64,
    duration: f64,
    size: usize,
    key: bool,
}

/// The packets of the first stream `select` picks (`v:0`, `s:0`) of `f`, by ffprobe.
fn packets(f: &Path, select: &str) -> Vec<Pkt> {
    let out = run(Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", select])
        .args([
            "-show_entries",
            "packet=pts_time,duration_time,size,flags",
            "-of",
            "csv=p=0",
        ])
        .arg(f));
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            Pkt {
                pts: v[0].parse().unwrap(),
                duration: v[1].parse().unwrap_or(0.0),
                size: v[2].parse().unwrap(),
                key: v[3].starts_with('K'),
            }
        })
        .collect()
}

/// The earliest presentation time of the video.
fn video_start(f: &Path) -> f64 {
    packets(f, "v:0")
        .iter()
        .map(|p| p.pts)
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn hls_segments_are_the_remux_cut_at_key_frames() {
    let Some(work) = Work::new("serve-hls", TOOLS) else {
        return;
    };
    let media = work.path("media");
    let input = av_mkv(&media.join("alice"), "20.mkv", 30);
    let srv = start_in(media, &[]);
    let b = format!("{}/alice/20", srv.base);

    let reference = work.path("ref.mp4");
    let out = localdc_util::tgmux(&[
        "remux",
        "--fragmented",
        input.to_str().unwrap(),
        "-o",
        reference.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference = std::fs::read(reference).unwrap();

    let text = String::from_utf8(ok(get(&format!("{b}/index.m3u8"), &[]))).unwrap();
    let (map, segs) = playlist(&text);
    assert_eq!(map, "init.mp4");
    assert!(segs.len() >= 6, "{text}");
    let init = ok(get(&format!("{b}/{map}"), &[]));
    let mut whole = init.clone();
    let mut start = 0.0;
    let mut first_start = None;
    for (k, (duration, uri)) in segs.iter().enumerate() {
        assert_eq!(uri, &format!("seg-{k}.m4s"));
        let seg = ok(get(&format!("{b}/{uri}"), &[]));
        whole.extend_from_slice(&seg);
        // init + one segment is a playable file that starts on a key frame at its time.
        let one = work.path(&format!("one-{k}.mp4"));
        std::fs::write(&one, [init.as_slice(), &seg].concat()).unwrap();
        assert!(
            packets(&one, "v:0")[0].key,
            "segment {k} does not start on a key frame"
        );
        // Segment k starts where the playlist's durations put it (after the first's start).
        let first = video_start(&one);
        let t0 = *first_start.get_or_insert(first);
        assert!(
            (first - t0 - start).abs() < 0.002,
            "segment {k} starts at {first}, playlist: {t0} + {start}"
        );
        if k + 1 < segs.len() {
            assert!((3.99..6.01).contains(duration), "segment {k}: {duration} s");
        }
        start += duration;
    }
    assert!((start - 30.0).abs() < 0.2, "playlist sums to {start} s");
    // Concatenated, the parts have every audio/video packet of the input (ffprobe's view,
    // payload hashes), each once.
    let cat = work.path("cat.mp4");
    std::fs::write(&cat, &whole).unwrap();
    let av = |f: &Path| -> Vec<(usize, String)> {
        ffprobe_packets(f)
            .into_iter()
            .filter(|p| p.stream < 2)
            .map(|p| (p.stream, p.sha256))
            .collect()
    };
    let (mut ours, mut theirs) = (av(&cat), av(&input));
    ours.sort();
    theirs.sort();
    assert_eq!(ours.len(), theirs.len());
    assert!(ours == theirs, "packets differ from the input's");

    // Segments are ranged and conditional like any representation.
    let r = get(&format!("{b}/seg-1.m4s"), &["Range: bytes=0-99"]);
    assert_eq!(r.status, 206);
    let etag = r.must("etag").to_string();
    assert_eq!(
        get(
            &format!("{b}/seg-1.m4s"),
            &[&format!("If-None-Match: {etag}")]
        )
        .status,
        304
    );
    assert_ne!(get(&format!("{b}/seg-2.m4s"), &[]).must("etag"), etag);
    assert_eq!(get(&format!("{b}/seg-{}.m4s", segs.len()), &[]).status, 404);

    // The live .mp4 is the same file, chunked.
    let r = get(&format!("{b}.mp4"), &[]);
    assert_eq!(r.must("content-type"), "video/mp4");
    assert_eq!(r.must("transfer-encoding"), "chunked");
    assert!(
        r.body == reference,
        ".mp4 differs from tgmux remux --fragmented"
    );
    let head = curl(&["-I"], &format!("{b}.mp4"));
    assert_eq!((head.status, head.header("content-length")), (200, None));
}

#[test]
fn subtitles_info_and_players() {
    let Some(work) = Work::new("serve-subs", TOOLS) else {
        return;
    };
    let media = work.path("media");
    let input = av_mkv(&media.join("alice"), "20.mkv", 20);
    std::fs::write(media.join("alice/21.txt"), b"plain text\n").unwrap();
    let srv = start_in(media, &[]);
    let b = format!("{}/alice/20", srv.base);

    let info = ok(get(&format!("{b}/info"), &[]));
    let fields = python(
        "import json, sys\nd = json.load(sys.stdin)\n\
         print(d['name'], d['size'], d['mime'], round(d['duration']), d['codecs'], d['hls'])\n\
         print(';'.join('%d:%s:%s:%s' % (t['id'], t['kind'], t['codec'], t['language']) for t in d['tracks']))",
        &info,
    );
    let size = std::fs::metadata(&input).unwrap().len();
    let mut lines = fields.lines();
    let first = lines.next().unwrap();
    assert!(
        first.starts_with(&format!("20.mkv {size} video/x-matroska 20 avc1.")),
        "{first}"
    );
    assert!(first.ends_with(",mp4a.40.2 True"), "{first}");
    let tracks = lines.next().unwrap();
    assert!(
        tracks.starts_with("1:video:avc1.")
            && tracks.ends_with(";2:audio:mp4a.40.2:und;3:subtitle:tx3g:und"),
        "{tracks}"
    );
    let plain = ok(get(&format!("{}/alice/21/info", srv.base), &[]));
    assert_eq!(
        python("import json, sys\nd = json.load(sys.stdin)\nprint(d['hls'], d['duration'], d['tracks'])", &plain),
        "False None []\n"
    );

    // WebVTT: the SRT's text (tags stripped by the remuxer, & escaped) at the SRT's times
    // relative to the video, which is where the player puts them.
    let r = get(&format!("{b}/subs-3.vtt"), &[]);
    assert_eq!(r.must("content-type"), "text/vtt; charset=utf-8");
    let vtt = r.text();
    assert!(vtt.starts_with("WEBVTT\n\n"), "{vtt}");
    let cues: Vec<(f64, f64, String)> = vtt
        .split("\n\n")
        .skip(1)
        .filter(|c| !c.is_empty())
        .map(|c| {
            let (times, text) = c.split_once('\n').unwrap();
            let (a, z) = times.split_once(" --> ").unwrap();
            (vtt_secs(a), vtt_secs(z), text.to_string())
        })
        .collect();
    let texts: Vec<&str> = cues.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        texts,
        [
            "First",
            "Hello world",
            "Second &amp; last\nline two",
            "Late cue"
        ]
    );
    // ffprobe's view of the tx3g track of our .mp4 gives the same start times (it shows no
    // durations there: a cue ends where the next sample, maybe an empty gap one, begins);
    // relative to the video, times and durations are the input's.
    let mp4 = work.path("whole.mp4");
    std::fs::write(&mp4, ok(get(&format!("{b}.mp4"), &[]))).unwrap();
    let all = packets(&mp4, "s:0");
    let ours: Vec<(f64, Option<f64>)> = all
        .iter()
        .enumerate()
        .filter(|(_, p)| p.size > 2)
        .map(|(i, p)| (p.pts, all.get(i + 1).map(|n| n.pts)))
        .collect();
    let theirs = packets(&input, "s:0");
    assert_eq!((ours.len(), theirs.len()), (cues.len(), cues.len()));
    let (v_ours, v_theirs) = (video_start(&mp4), video_start(&input));
    for (((a, z, _), (start, end)), t) in cues.iter().zip(&ours).zip(&theirs) {
        assert!((a - start).abs() < 0.0015, "cue at {a}, ffprobe {start}");
        assert!(
            end.is_none_or(|e| (z - e).abs() < 0.0015),
            "cue end {z}, ffprobe {end:?}"
        );
        assert!(
            ((a - v_ours) - (t.pts - v_theirs)).abs() < 0.0025,
            "cue at {a} vs input {t:?}"
        );
        assert!(
            (z - a - t.duration).abs() < 0.0025,
            "cue {a}-{z} vs input {t:?}"
        );
    }
    assert_eq!(
        get(&format!("{b}/subs-1.vtt"), &[]).status,
        404,
        "a video track is no subtitle"
    );
    assert_eq!(get(&format!("{b}/subs-9.vtt"), &[]).status, 404);

    // .m3u hands the original to VLC/mpv.
    let r = get(&format!("{b}.m3u"), &[]);
    assert_eq!(r.must("content-type"), "audio/x-mpegurl; charset=utf-8");
    assert_eq!(r.text(), format!("#EXTM3U\n#EXTINF:-1,20.mkv\n{b}\n"));

    // The page.
    let page = get(&format!("{}/watch/alice/20", srv.base), &[]);
    assert_eq!(page.must("content-type"), "text/html; charset=utf-8");
    assert!(page
        .text()
        .contains("data-base=\"/alice/20\" data-query=\"\""));
}

fn vtt_secs(t: &str) -> f64 {
    let p: Vec<f64> = t.split(':').map(|x| x.parse().unwrap()).collect();
    p[0] * 3600.0 + p[1] * 60.0 + p[2]
}

#[test]
fn refused_and_without_cues() {
    let Some(work) = Work::new("serve-refused", TOOLS) else {
        return;
    };
    let media = work.path("media");
    let input = av_mkv(&media.join("alice"), "20.mkv", 12);
    // The same file without Cues.
    run(Command::new("mkvmerge")
        .args(["-q", "--no-cues", "-o"])
        .arg(media.join("alice/22.mkv"))
        .arg(&input));
    assert!(!work.mkvinfo_has(&media.join("alice/22.mkv"), |l| l.contains("Cues")));
    std::fs::write(media.join("alice/21.mp4"), b"\0\0\0\x18ftypisom").unwrap();
    let mut broken = std::fs::read(&input).unwrap();
    broken.truncate(3000);
    std::fs::write(media.join("alice/23.mkv"), &broken).unwrap();
    let srv = start_in(media.clone(), &["--token", "T"]);
    let b = format!("{}/alice", srv.base);

    let a = String::from_utf8(ok(get(&format!("{b}/20/index.m3u8?token=T"), &[]))).unwrap();
    let z = String::from_utf8(ok(get(&format!("{b}/22/index.m3u8?token=T"), &[]))).unwrap();
    let durations = |p: &str| -> Vec<String> {
        p.lines()
            .filter_map(|l| l.strip_prefix("#EXTINF:"))
            .map(|l| l.trim_end_matches(',').to_string())
            .collect()
    };
    // mkvmerge's copy states a slightly different duration and first audio time, so the
    // first and last EXTINF may differ by a few ms; the key frames are the same.
    let same_cuts = |x: &str, y: &str| {
        let (dx, dy) = (durations(x), durations(y));
        dx.len() == dy.len()
            && dx
                .iter()
                .zip(&dy)
                .all(|(p, q)| (p.parse::<f64>().unwrap() - q.parse::<f64>().unwrap()).abs() < 0.05)
    };
    assert!(
        same_cuts(&a, &z),
        "an MKV without Cues gets the same segments:\n{a}\n{z}"
    );
    let lines = |p: &str| -> Vec<String> {
        p.lines()
            .filter(|l| !l.starts_with("#EXTINF:"))
            .map(String::from)
            .collect()
    };
    assert_eq!(lines(&a), lines(&z));
    // An MP4 of the same streams: segments from its sample tables, at the same key frames.
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(&input)
        .args(["-map", "0:v", "-map", "0:a", "-c", "copy"])
        .arg(media.join("alice/24.mp4")));
    let m = String::from_utf8(ok(get(&format!("{b}/24/index.m3u8?token=T"), &[]))).unwrap();
    assert!(same_cuts(&m, &a), "{m}\n{a}");
    let init = ok(get(&format!("{b}/24/init.mp4?token=T"), &[]));
    let seg = ok(get(&format!("{b}/24/seg-1.m4s?token=T"), &[]));
    let one = work.path("mp4-seg-1.mp4");
    std::fs::write(&one, [init.as_slice(), &seg].concat()).unwrap();
    assert!(
        packets(&one, "v:0")[0].key,
        "MP4 segment 1 starts on a key frame"
    );
    // Credentials ride along on every URI of the playlist, and in the page and .m3u.
    assert!(
        a.contains("#EXT-X-MAP:URI=\"init.mp4?token=T\"") && a.contains("\nseg-0.m4s?token=T\n")
    );
    let page = get(&format!("{}/watch/alice/20?token=T", srv.base), &[]).text();
    assert!(page.contains("data-query=\"?token=T\""));
    assert!(get(&format!("{b}/20.m3u?token=T"), &[])
        .text()
        .contains("/alice/20?token=T\n"));
    assert_eq!(get(&format!("{b}/20/init.mp4"), &[]).status, 401);

    let r = get(&format!("{b}/21.mp4?token=T"), &[]);
    assert_eq!(r.status, 415);
    assert!(r
        .text()
        .starts_with("remuxing needs Matroska or WebM input"));
    std::fs::write(media.join("alice/25.bin"), [7u8; 4000]).unwrap();
    for path in ["25/index.m3u8", "25/seg-0.m4s"] {
        let r = get(&format!("{b}/{path}?token=T"), &[]);
        assert_eq!(r.status, 415, "{path}");
        assert_eq!(
            r.text(),
            "HLS needs Matroska, WebM, MP4 or MOV input\n",
            "{path}"
        );
    }
    // A broken MP4 (an ftyp and nothing else) and a truncated MKV cannot be remuxed.
    for path in ["21/index.m3u8", "23.mp4", "23/index.m3u8"] {
        let r = get(&format!("{b}/{path}?token=T"), &[]);
        assert_eq!(r.status, 422, "{path}: {}", r.text());
        assert!(r.text().starts_with("cannot remux: "), "{path}");
    }
    let m = get(&format!("{}/metrics?token=T", srv.base), &[]).text();
    assert!(
        m.contains("tgmux_http_errors_total{kind=\"remux\"} 6"),
        "{m}"
    );
}
