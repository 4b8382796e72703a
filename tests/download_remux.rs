//! `tgmux download --remux`: an MKV document becomes the same MP4 `tgmux remux` makes of the
//! original file (whose packet-for-packet guarantees tests/remux_ffmpeg.rs shows against
//! ffmpeg), and the downloaded MKV is removed. Needs ffmpeg/ffprobe (fails under CI=true
//! without them).

mod localdc_util;
mod mkv_util;

use localdc_util::{s, tgmux};
use mkv_util::{ffprobe_packets, Work, LAVFI_SINE_48K, LAVFI_VIDEO};

#[test]
fn mkv_documents_become_the_mp4_tgmux_remux_makes() {
    let Some(work) = Work::new("download-remux", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let mkv = h264_aac_mkv(&work);
    let data = std::fs::read(&mkv).unwrap();
    let dc = localdc_util::start_with_files(
        "download-remux",
        2,
        &[],
        &[("1.mkv", &data), ("2.txt", b"text")],
    );
    let session = dc.dir.join("data/session");
    let cfg = s(&dc.config);
    localdc_util::login_bot_cli(&dc, &session, "1:a");
    let reference = work.path("ref.mp4");
    localdc_util::stdout(&tgmux(&["remux", s(&mkv), "-o", s(&reference)]));
    for fragmented in [false, true] {
        let out_dir = dc.dir.join(format!("out-{fragmented}/"));
        let mut args = vec!["--dc-config", cfg, "--session", s(&session), "download"];
        args.extend([
            "t.me/chan/1",
            "t.me/chan/2",
            "-o",
            s(&out_dir),
            "--remux",
            "--json",
        ]);
        let want = if fragmented {
            args.push("--fragmented");
            let r = work.path("ref-frag.mp4");
            localdc_util::stdout(&tgmux(&["remux", s(&mkv), "-o", s(&r), "--fragmented"]));
            r
        } else {
            reference.clone()
        };
        let out = tgmux(&args);
        let text = localdc_util::stdout(&out);
        assert!(std::fs::read(out_dir.join("1.mp4")).unwrap() == std::fs::read(&want).unwrap());
        assert!(
            !out_dir.join("1.mkv").exists(),
            "the MKV is replaced by the MP4"
        );
        // Other files are left as they are.
        assert_eq!(std::fs::read(out_dir.join("2.txt")).unwrap(), b"text");
        assert!(text.contains("1.mp4") && text.contains("2.txt"), "{text}");
    }
}

/// `--remux -o -`: the MKV streams through the remuxer while it downloads; stdout is the MP4
/// `tgmux remux --fragmented` makes, and ffprobe finds the MKV's packets in it, one for one.
#[test]
fn remux_to_stdout_streams_the_fragmented_mp4() {
    let Some(work) = Work::new("download-remux-stdout", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let mkv = h264_aac_mkv(&work);
    let data = std::fs::read(&mkv).unwrap();
    let dc = localdc_util::start_with_files(
        "download-remux-stdout",
        2,
        &[],
        &[
            ("1.mkv", &data),
            ("2.txt", b"text"),
            ("3.mov", b"not really"),
        ],
    );
    let session = dc.dir.join("data/session");
    localdc_util::login_bot_cli(&dc, &session, "1:a");
    let base = [
        "--dc-config",
        s(&dc.config),
        "--session",
        s(&session),
        "download",
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend(extra);
        tgmux(&args)
    };
    let streamed = work.path("streamed.mp4");
    let out = run(&["t.me/chan/1", "-o", "-", "--remux"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&streamed, &out.stdout).unwrap();

    let want = work.path("ref-frag.mp4");
    localdc_util::stdout(&tgmux(&["remux", s(&mkv), "-o", s(&want), "--fragmented"]));
    assert!(
        out.stdout == std::fs::read(&want).unwrap(),
        "the same bytes as tgmux remux"
    );
    let packets = |f: &std::path::Path| {
        let mut v: Vec<_> = ffprobe_packets(f)
            .into_iter()
            .map(|p| (p.stream, p.size, p.sha256))
            .collect();
        v.sort();
        v
    };
    let (a, b) = (packets(&mkv), packets(&streamed));
    assert!(!a.is_empty());
    assert_eq!(a, b, "every packet of the MKV, and only those");

    // Files --remux does not apply to stream as they are; QuickTime cannot be streamed.
    let out = run(&["t.me/chan/2", "-o", "-", "--remux"]);
    assert_eq!(localdc_util::stdout(&out).as_bytes(), b"text");
    let out = run(&["t.me/chan/3", "-o", "-", "--remux"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("streams Matroska/WebM only"), "{err}");
}

/// `--remux --fragmented -o DIR/`: a Matroska document of several parts becomes its MP4 while
/// it downloads (the MP4 grows beside the `.part` before the last part is in), with the bytes
/// `tgmux remux --fragmented` makes. A run killed halfway leaves the `.part` to resume from;
/// the resumed run remuxes once complete, the same bytes again, and leaves nothing behind.
#[test]
fn fragmented_remux_into_a_file_is_made_while_downloading() {
    let Some(work) = Work::new("download-remux-while", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    // Lossless H.264: 5 s at 640x480 make a few MiB, i.e. several 1 MiB parts.
    let mkv = work.ffmpeg(
        "big.mkv",
        &[
            LAVFI_VIDEO,
            LAVFI_SINE_48K,
            "-t",
            "5",
            "-vf",
            "scale=640:480",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            "-g",
            "25",
            "-c:a",
            "aac",
            "-shortest",
        ],
    );
    let data = std::fs::read(&mkv).unwrap();
    assert!(
        data.len() > 3 << 20,
        "{} bytes: want several parts",
        data.len()
    );
    // One part in flight at a time, each answered after 300 ms: ~4 parts take over a second.
    let dc = localdc_util::start_with_files(
        "download-remux-while",
        2,
        &["--faults", "delay=300"],
        &[("1.mkv", &data)],
    );
    let session = dc.dir.join("data/session");
    localdc_util::login_bot_cli(&dc, &session, "1:a");
    let want = work.path("ref-frag.mp4");
    localdc_util::stdout(&tgmux(&["remux", s(&mkv), "-o", s(&want), "--fragmented"]));
    let want = std::fs::read(&want).unwrap();
    let args = |dir: &std::path::Path| -> Vec<String> {
        let mut d = dir.display().to_string();
        d.push('/');
        [
            "--dc-config",
            s(&dc.config),
            "--session",
            s(&session),
            "download",
            "t.me/chan/1",
            "-o",
            &d,
            "--remux",
            "--fragmented",
            "--window",
            "1",
            "--connections",
            "1",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let spawn = |dir: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tgmux"))
            .args(args(dir))
            .env("XDG_DATA_HOME", localdc_util::fresh_data_home())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Waits until the MP4 has bytes while the download is still going; false if it ended
    // first.
    let mp4_grows_during_download = |child: &mut std::process::Child, dir: &std::path::Path| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            let partial = std::fs::metadata(dir.join("1.mp4.remuxing")).map_or(0, |m| m.len());
            if partial > 0 && dir.join("1.mkv.part").exists() {
                return true;
            }
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the download neither made progress nor ended in 60 s");
    };

    // The run succeeded and left the MP4 tgmux remux makes, and nothing else.
    let finished_as_wanted = |out: &std::process::Output, dir: &std::path::Path| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(std::fs::read(dir.join("1.mp4")).unwrap() == want);
        for gone in ["1.mkv", "1.mkv.part", "1.mp4.remuxing"] {
            assert!(!dir.join(gone).exists(), "{gone} left behind");
        }
    };

    // Uninterrupted: the MP4 grows during the download and ends as tgmux remux makes it.
    let whole = dc.dir.join("whole");
    let mut child = spawn(&whole);
    assert!(
        mp4_grows_during_download(&mut child, &whole),
        "no MP4 bytes before the download ended"
    );
    let out = localdc_util::wait_or_fail(child, &[]);
    finished_as_wanted(&out, &whole);

    // Killed halfway, then resumed.
    let killed = dc.dir.join("killed");
    let mut child = spawn(&killed);
    assert!(mp4_grows_during_download(&mut child, &killed));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(killed.join("1.mkv.part").exists(), "the download is kept");
    let a = args(&killed);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = tgmux(&a);
    finished_as_wanted(&out, &killed);
}

/// `--album --remux` of an album of split streams (a video-only MKV and an audio-only M4A)
/// gives one MP4 with both, named after the video item, whose packets are the inputs' packets
/// one for one (ffprobe), faststart and fragmented; an album with a file that is not a stream
/// stays as its files.
#[test]
fn an_album_of_split_streams_becomes_one_mp4() {
    let Some(work) = Work::new("download-remux-album", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let video = work.ffmpeg(
        "v.mkv",
        &[
            LAVFI_VIDEO,
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
        ],
    );
    let audio = work.ffmpeg("a.m4a", &[LAVFI_SINE_48K, "-t", "3", "-c:a", "aac"]);
    let (v, a) = (
        std::fs::read(&video).unwrap(),
        std::fs::read(&audio).unwrap(),
    );
    let dc = localdc_util::start_with_files(
        "download-remux-album",
        2,
        &[],
        &[
            ("5/a.mkv", &v),
            ("5/b.m4a", &a),
            ("8/a.mkv", &v),
            ("8/b.txt", b"notes"),
        ],
    );
    let session = dc.dir.join("data/session");
    localdc_util::login_bot_cli(&dc, &session, "1:a");
    let packets = |f: &std::path::Path, stream| {
        let mut v: Vec<_> = ffprobe_packets(f)
            .into_iter()
            .filter(|p| p.stream == stream)
            .map(|p| (p.size, p.sha256))
            .collect();
        v.sort();
        v
    };
    let (want_video, want_audio) = (packets(&video, 0), packets(&audio, 0));
    assert!(!want_video.is_empty() && !want_audio.is_empty());
    for fragmented in [false, true] {
        let dir = dc.dir.join(format!("album-{fragmented}/"));
        let mut args = vec!["--dc-config", s(&dc.config), "--session", s(&session)];
        args.extend(["download", "t.me/chan/6", "--album", "--remux", "--json"]);
        args.extend(["-o", s(&dir)]);
        if fragmented {
            args.push("--fragmented");
        }
        let text = localdc_util::stdout(&tgmux(&args));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "one file:\n{text}");
        assert!(
            lines[0].contains("a.mp4") && lines[0].contains("t.me/chan/5"),
            "{text}"
        );
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["a.mp4"], "the items are merged away");
        let mp4 = dir.join("a.mp4");
        assert_eq!(packets(&mp4, 0), want_video, "fragmented {fragmented}");
        assert_eq!(packets(&mp4, 1), want_audio, "fragmented {fragmented}");
    }
    // A video with a text file is no split stream: both stay, the video remuxed alone.
    let dir = dc.dir.join("album-not-split/");
    let mut args = vec!["--dc-config", s(&dc.config), "--session", s(&session)];
    args.extend([
        "download",
        "t.me/chan/8",
        "--album",
        "--remux",
        "-o",
        s(&dir),
    ]);
    localdc_util::stdout(&tgmux(&args));
    assert_eq!(std::fs::read(dir.join("b.txt")).unwrap(), b"notes");
    assert_eq!(packets(&dir.join("a.mp4"), 0), want_video);
    assert!(packets(&dir.join("a.mp4"), 1).is_empty());
}

/// A 3 s H.264 + AAC Matroska file made by ffmpeg.
fn h264_aac_mkv(work: &Work) -> std::path::PathBuf {
    work.ffmpeg(
        "in.mkv",
        &[
            LAVFI_VIDEO,
            LAVFI_SINE_48K,
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-c:a",
            "aac",
            "-shortest",
        ],
    )
}
