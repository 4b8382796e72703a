//! `tgmux remux` judged by ffmpeg: inputs are generated at test time with ffmpeg/mkvmerge in a
//! temp dir, remuxed by our binary (faststart and fragmented), then
//! - `ffprobe` must accept the output,
//! - `ffmpeg -v error -i OUT -f null -` must print nothing,
//! - for every audio/video stream, `ffmpeg -i X -map 0:N -c copy -f framemd5 -` of input and
//!   output must give the same packet count and the same MD5 per packet, and the output's
//!   presentation times must be the input's shifted by one constant shared by all streams.
//!
//! Without ffmpeg/mkvmerge the tests skip with a note, except under `CI=true` where they fail.

mod remux_util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use remux_util::*;
use tgmux::remux::pipeline::Reading;

const BIN: &str = env!("CARGO_BIN_EXE_tgmux");

/// Remux `inputs` both ways and judge each output against the inputs.
fn check(name: &str, dir: &TempDir, inputs: &[PathBuf], expect_subtitles: usize) {
    // Faststart's first pass reads sizes and times only, seeking over payloads: its layout
    // (the whole ftyp + moov) must be that of a full read.
    let plan = |reading| {
        tgmux::remux::pipeline::plan_faststart(
            inputs,
            tgmux::remux::mp4::EntryOptions::default(),
            reading,
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{name}: pass 1 ({reading:?}): {e}"))
    };
    let (full, index) = (plan(Reading::Full), plan(Reading::Index { min: 0 }));
    assert!(
        full.bytes == index.bytes && full.payload == index.payload,
        "{name}: index-only pass 1 gives another moov"
    );
    // Pass 2 copying every payload it can file to file, and reading every payload, must both
    // write the file the CLI writes (which ffmpeg judges below).
    let pass2 = |copy_min: usize, out: &str| {
        let out = dir.path(out);
        tgmux::remux::pipeline::write_faststart(inputs, &index, &out, copy_min)
            .unwrap_or_else(|e| panic!("{name}: pass 2 (copy from {copy_min}): {e}"));
        std::fs::read(&out).unwrap()
    };
    let (copied, read) = (pass2(0, "copied.mp4"), pass2(usize::MAX, "read.mp4"));
    assert!(
        copied == read,
        "{name}: copying payloads changes the output"
    );
    // The input side of every comparison, computed once for both outputs.
    let expected = av_packets(inputs);
    for fragmented in [false, true] {
        let out = dir.path(if fragmented {
            "out-frag.mp4"
        } else {
            "out-fast.mp4"
        });
        let mut cmd = Command::new(BIN);
        cmd.arg("remux").args(inputs).arg("-o").arg(&out);
        if fragmented {
            cmd.arg("--fragmented");
        }
        let (ok, _, err) = run(&mut cmd, Duration::from_secs(60));
        let mode = if fragmented {
            "fragmented"
        } else {
            "faststart"
        };
        assert!(ok, "{name} ({mode}): tgmux failed: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        if !fragmented {
            assert!(
                std::fs::read(&out).unwrap() == read,
                "{name}: the CLI's faststart output differs from the library's"
            );
        } else {
            // Fragmented output from one file to a file copies payloads too.
            for copy_min in [0, usize::MAX] {
                let lib = dir.path("lib-frag.mp4");
                let opts = tgmux::remux::pipeline::RemuxOptions {
                    fragmented: true,
                    copy_min: Some(copy_min),
                    ..Default::default()
                };
                tgmux::remux::pipeline::remux_files(
                    inputs,
                    &tgmux::remux::pipeline::Output::File(lib.clone()),
                    &opts,
                    &mut |_| {},
                )
                .unwrap_or_else(|e| panic!("{name}: fragmented (copy from {copy_min}): {e}"));
                assert!(
                    std::fs::read(&lib).unwrap() == std::fs::read(&out).unwrap(),
                    "{name}: fragmented output copying from {copy_min} differs from the CLI's"
                );
            }
        }
        judge(
            &format!("{name} ({mode})"),
            &out,
            &expected,
            expect_subtitles,
        );
    }
}

#[test]
fn mov_h264_aac() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("mov_h264_aac");
    let input = ffmpeg(
        &dir,
        &format!("{VIDEO} {AUDIO} -c:v libx264 -bf 2 -g 12 -c:a aac -f mov"),
        "in.mov",
    );
    check("mov_h264_aac", &dir, &[input], 0);
}

#[test]
fn mov_v2_sound_description_96khz() {
    if !oracles() {
        return;
    }
    // ffmpeg writes a QuickTime v2 sound description when the rate does not fit 16 bits.
    let dir = TempDir::new("mov_v2");
    let input = ffmpeg(
        &dir,
        "-f lavfi -i sine=frequency=440:sample_rate=96000:duration=1 -c:a aac -f mov",
        "in.mov",
    );
    let bytes = std::fs::read(&input).unwrap();
    let at = bytes.windows(4).position(|w| w == b"mp4a").unwrap();
    assert_eq!(
        &bytes[at + 12..at + 14],
        &[0, 2],
        "expected a v2 sound description"
    );
    check("mov_v2", &dir, std::slice::from_ref(&input), 0);
    let out = dir.path("out-fast.mp4");
    let (ok, _, err) = run(
        Command::new(BIN)
            .arg("remux")
            .arg(&input)
            .arg("-o")
            .arg(&out),
        Duration::from_secs(60),
    );
    assert!(ok, "{err}");
    let (_, probe, _) = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=sample_rate,channels",
                "-of",
                "csv=p=0",
            ])
            .arg(&out),
        Duration::from_secs(30),
    );
    assert_eq!(
        String::from_utf8_lossy(&probe).trim().trim_end_matches(','),
        "96000,1"
    );
}

#[test]
fn mov_hevc() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("mov_hevc");
    let input = ffmpeg(
        &dir,
        &format!("{VIDEO} -c:v libx265 -x265-params log-level=none -tag:v hvc1 -f mov"),
        "in.mov",
    );
    check("mov_hevc", &dir, &[input], 0);
}

#[test]
fn mp4_split_video_and_m4a_audio() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("split_mp4");
    let video = ffmpeg(&dir, &format!("{VIDEO} -c:v libx264 -bf 2 -g 12"), "v.mp4");
    let audio = ffmpeg(&dir, &format!("{AUDIO} -c:a aac"), "a.m4a");
    check("split_mp4", &dir, &[video, audio], 0);
}

/// Run tgmux on a bad input: non-zero exit, one line on stderr, no panic, no hang.
fn expect_clean_error(dir: &TempDir, input: &Path) {
    let out = dir.path("bad-out.mp4");
    for frag in [false, true] {
        let mut cmd = Command::new(BIN);
        cmd.arg("remux").arg(input).arg("-o").arg(&out);
        if frag {
            cmd.arg("--fragmented");
        }
        let (ok, _, err) = run(&mut cmd, Duration::from_secs(30));
        assert!(!ok, "{}: accepted a bad input", input.display());
        assert!(
            !err.contains("panicked"),
            "{}: panic: {err}",
            input.display()
        );
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{}: expected one line, got: {err}",
            input.display()
        );
        assert!(err.starts_with("tgmux: error: "), "{err}");
        assert!(
            !out.exists(),
            "{}: a failed remux left its output",
            input.display()
        );
    }
}

#[test]
fn malformed_inputs_give_clean_errors() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("malformed");
    let mov = ffmpeg(
        &dir,
        &format!("{VIDEO} {AUDIO} -c:v libx264 -c:a aac -f mov"),
        "good.mov",
    );
    let bytes = std::fs::read(&mov).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.mp4", Vec::new()),
        (
            "garbage.bin",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect(),
        ),
        ("truncated-moov.mov", bytes[..bytes.len() - 300].to_vec()),
        ("header-only.mov", bytes[..40].to_vec()),
        ("bad-size.mov", {
            let mut b = bytes.clone();
            b[0..4].copy_from_slice(&3u32.to_be_bytes());
            b
        }),
    ];
    for (name, data) in cases {
        let p = dir.path(name);
        std::fs::write(&p, data).unwrap();
        expect_clean_error(&dir, &p);
    }
    // An output that is an input (by name, a symlink or a hard link) is refused before
    // anything is written, and the input is left as it was.
    let same = dir.path("same.mov");
    std::fs::write(&same, &bytes).unwrap();
    std::os::unix::fs::symlink(&same, dir.path("same-link.mp4")).unwrap();
    std::fs::hard_link(&same, dir.path("same-hard.mp4")).unwrap();
    for out in ["same.mov", "same-link.mp4", "same-hard.mp4"] {
        for frag in [false, true] {
            let mut cmd = Command::new(BIN);
            cmd.arg("remux").arg(&same).arg("-o").arg(dir.path(out));
            if frag {
                cmd.arg("--fragmented");
            }
            let (ok, _, err) = run(&mut cmd, Duration::from_secs(30));
            assert!(!ok && err.trim().lines().count() == 1, "{out}: {err}");
            assert!(err.contains("the output is the input"), "{out}: {err}");
            assert!(
                std::fs::read(&same).unwrap() == bytes,
                "{out}: the input was changed"
            );
        }
    }
    // A failed remux removes what it wrote, but never an output that is not a regular file.
    let fifo = dir.path("out.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for frag in [false, true] {
        let mut cmd = Command::new(BIN);
        cmd.arg("remux")
            .arg(dir.path("garbage.bin"))
            .arg("-o")
            .arg(&fifo);
        if frag {
            cmd.arg("--fragmented");
        }
        let (ok, _, err) = run(&mut cmd, Duration::from_secs(30));
        assert!(!ok && err.trim().lines().count() == 1, "{err}");
        use std::os::unix::fs::FileTypeExt;
        let kind = std::fs::metadata(&fifo).map(|m| m.file_type().is_fifo());
        assert!(matches!(kind, Ok(true)), "the FIFO output was removed");
    }
    // Matroska: truncated anywhere (a download cut short) and EBML magic followed by garbage.
    let mkv = ffmpeg(
        &dir,
        &format!("{VIDEO} {AUDIO} -c:v libx264 -c:a aac"),
        "good.mkv",
    );
    let mkv_bytes = std::fs::read(&mkv).unwrap();
    for (name, data) in [
        ("cut.mkv", mkv_bytes[..mkv_bytes.len() / 2].to_vec()),
        ("head.mkv", mkv_bytes[..64].to_vec()),
        (
            "ebml-garbage.mkv",
            [&[0x1a, 0x45, 0xdf, 0xa3][..], &[0xff; 64]].concat(),
        ),
    ] {
        let p = dir.path(name);
        std::fs::write(&p, data).unwrap();
        expect_clean_error(&dir, &p);
    }
    for cut in (0..mkv_bytes.len()).step_by(mkv_bytes.len() / 30 + 1) {
        let p = dir.path("cut2.mkv");
        std::fs::write(&p, &mkv_bytes[..cut]).unwrap();
        for frag in [false, true] {
            let mut cmd = Command::new(BIN);
            cmd.arg("remux").arg(&p).arg("-o").arg(dir.path("cut2.mp4"));
            if frag {
                cmd.arg("--fragmented");
            }
            let (ok, _, err) = run(&mut cmd, Duration::from_secs(30));
            assert!(
                !ok && err.trim().lines().count() == 1 && !err.contains("panicked"),
                "cut at {cut}: {err}"
            );
        }
    }
    // Every truncation point of the moov-at-end file either fails cleanly or succeeds.
    for cut in (0..bytes.len()).step_by(bytes.len() / 40 + 1) {
        let p = dir.path("cut.mov");
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let (_, _, err) = run(
            Command::new(BIN)
                .arg("remux")
                .arg(&p)
                .arg("-o")
                .arg(dir.path("cut.mp4")),
            Duration::from_secs(30),
        );
        assert!(!err.contains("panicked"), "cut at {cut}: {err}");
    }
}

const H264: &str = "-c:v libx264 -bf 2 -g 12";

#[test]
fn mkv_h264_bframes_aac() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("mkv_h264_aac");
    let input = ffmpeg(&dir, &format!("{VIDEO} {AUDIO} {H264} -c:a aac"), "in.mkv");
    check("mkv_h264_aac", &dir, &[input], 0);
}

#[test]
fn mkv_hevc_opus() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("mkv_hevc_opus");
    let input = ffmpeg(
        &dir,
        &format!("{VIDEO} {AUDIO} -c:v libx265 -x265-params log-level=none -c:a libopus"),
        "in.mkv",
    );
    check("mkv_hevc_opus", &dir, std::slice::from_ref(&input), 0);
    // --hev1 changes the sample entry only.
    let out = dir.path("hev1.mp4");
    let (ok, _, err) = run(
        Command::new(BIN)
            .arg("remux")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .arg("--hev1"),
        Duration::from_secs(60),
    );
    assert!(ok, "{err}");
    let (_, tag, _) = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=codec_tag_string",
                "-of",
                "csv=p=0",
            ])
            .arg(&out),
        Duration::from_secs(30),
    );
    assert_eq!(String::from_utf8_lossy(&tag).trim(), "hev1");
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&out)
            .args(["-f", "null", "-"]),
        Duration::from_secs(60),
    );
    assert!(ok && err.trim().is_empty(), "{err}");
}

#[test]
fn webm_av1_opus() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("webm_av1_opus");
    let input = ffmpeg(
        &dir,
        &format!("{VIDEO} {AUDIO} -c:v libaom-av1 -cpu-used 8 -b:v 100k -c:a libopus"),
        "in.webm",
    );
    check("webm_av1_opus", &dir, &[input], 0);
}

#[test]
fn webm_vp9_opus() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("webm_vp9_opus");
    let input = ffmpeg(
        &dir,
        &format!(
            "{VIDEO} {AUDIO} -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 200k -c:a libopus"
        ),
        "in.webm",
    );
    check("webm_vp9_opus", &dir, &[input], 0);
}

#[test]
fn mkvmerge_zlib_blockgroups_lacing() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("mkvmerge");
    ffmpeg(&dir, &format!("{VIDEO} {AUDIO} {H264} -c:a aac"), "src.mkv");
    let zlib = mkvmerge(
        &dir,
        "--compression 0:zlib --compression 1:zlib @src.mkv",
        "zlib.mkv",
    );
    check("mkvmerge_zlib", &dir, &[zlib], 0);
    let groups = mkvmerge(&dir, "--engage no_simpleblocks @src.mkv", "groups.mkv");
    check("mkvmerge_blockgroups", &dir, &[groups], 0);
    // mkvmerge laces MP3 frames (several frames per block).
    ffmpeg(&dir, &format!("{AUDIO} -c:a libmp3lame"), "a.mp3");
    let laced = mkvmerge(&dir, "-A @src.mkv @a.mp3", "laced.mkv");
    check("mkvmerge_lacing", &dir, &[laced], 0);
}

#[test]
fn mkv_live_unknown_sizes_and_start_offset() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("mkv_live");
    let live = ffmpeg(
        &dir,
        &format!("{VIDEO} {AUDIO} {H264} -c:a aac -live 1 -f matroska"),
        "live.mkv",
    );
    check("mkv_live", &dir, &[live], 0);
    let late = ffmpeg(
        &dir,
        &format!("{VIDEO} {AUDIO} {H264} -c:a libopus -output_ts_offset 3.5"),
        "late.mkv",
    );
    check("mkv_start_offset", &dir, &[late], 0);
}

#[test]
fn mkv_multi_audio_srt() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("mkv_srt");
    let srt = dir.path("s.srt");
    std::fs::write(
        &srt,
        "1\n00:00:00,200 --> 00:00:00,800\n<i>Hello</i>\n\n2\n00:00:00,900 --> 00:00:01,100\nWorld, again\n",
    )
    .unwrap();
    let input = ffmpeg(
        &dir,
        &format!(
            "{VIDEO} {AUDIO} -f lavfi -i sine=frequency=880:sample_rate=44100:duration=1.2 -i {} \
             -map 0 -map 1 -map 2 -map 3 {H264} -c:a:0 aac -c:a:1 libopus -c:s srt",
            srt.display()
        ),
        "in.mkv",
    );
    check("mkv_multi_audio_srt", &dir, &[input], 1);
}

#[test]
fn mkv_split_video_m4a_audio() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("mkv_split");
    let video = ffmpeg(&dir, &format!("{VIDEO} {H264}"), "v.mkv");
    let audio = ffmpeg(&dir, &format!("{AUDIO} -c:a aac"), "a.m4a");
    check("mkv_split", &dir, &[video, audio], 0);
}

#[test]
fn mkv_flac_ac3_eac3() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("mkv_flac_ac3");
    let flac = ffmpeg(
        &dir,
        &format!("{VIDEO} {AUDIO} {H264} -c:a flac"),
        "flac.mkv",
    );
    check("mkv_flac", &dir, &[flac], 0);
    let ac3 = ffmpeg(&dir, &format!("{VIDEO} {AUDIO} {H264} -c:a ac3"), "ac3.mkv");
    check("mkv_ac3", &dir, &[ac3], 0);
    let eac3 = ffmpeg(&dir, &format!("{AUDIO} -c:a eac3"), "eac3.mkv");
    check("mkv_eac3", &dir, &[eac3], 0);
}

#[test]
fn unsupported_tracks_dropped_with_warning_and_no_av_is_an_error() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("dropped");
    let input = ffmpeg(
        &dir,
        &format!("{VIDEO} {AUDIO} -c:v libvpx -b:v 100k -deadline realtime -c:a libopus"),
        "vp8.webm",
    );
    let out = dir.path("out.mp4");
    let (ok, _, err) = run(
        Command::new(BIN)
            .arg("remux")
            .arg(&input)
            .arg("-o")
            .arg(&out),
        Duration::from_secs(60),
    );
    assert!(ok, "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("tgmux: warning: dropping track 1 (V_VP8)")),
        "{err}"
    );
    assert_eq!(av(&streams(&out)).len(), 1);
    let vp8 = ffmpeg(
        &dir,
        &format!("{VIDEO} -c:v libvpx -b:v 100k -deadline realtime"),
        "vp8only.webm",
    );
    let (ok, _, err) = run(
        Command::new(BIN).arg("remux").arg(&vp8).arg("-o").arg(&out),
        Duration::from_secs(60),
    );
    assert!(!ok);
    assert!(
        err.trim()
            .lines()
            .last()
            .unwrap()
            .starts_with("tgmux: error: "),
        "{err}"
    );
    // Faststart cannot go to stdout.
    let (ok, _, err) = run(
        Command::new(BIN).arg("remux").arg(&input).args(["-o", "-"]),
        Duration::from_secs(60),
    );
    assert!(!ok && err.trim().lines().count() == 1, "{err}");
}

#[test]
fn fragmented_to_stdout_streams() {
    if !oracles() {
        return;
    }
    let dir = TempDir::new("stdout");
    let input = ffmpeg(
        &dir,
        &format!("{VIDEO2} {AUDIO2} {H264} -c:a aac"),
        "in.mkv",
    );
    let (ok, out, err) = run(
        Command::new(BIN).arg("remux").arg(&input).args([
            "-o",
            "-",
            "--fragmented",
            "--fragment-duration",
            "1",
        ]),
        Duration::from_secs(60),
    );
    assert!(ok, "{err}");
    let path = dir.path("stdout.mp4");
    std::fs::write(&path, &out).unwrap();
    assert_eq!(av(&streams(&path)).len(), 2);
    // From a file, stdout gets the bytes a file output gets (payloads read by the block
    // writer), and so does a pipe input (every payload through the demuxer).
    let file_out = dir.path("file.mp4");
    let (ok, _, err) = run(
        Command::new(BIN)
            .arg("remux")
            .arg(&input)
            .arg("-o")
            .arg(&file_out)
            .args(["--fragmented", "--fragment-duration", "1"]),
        Duration::from_secs(60),
    );
    assert!(ok, "{err}");
    assert!(
        std::fs::read(&file_out).unwrap() == out,
        "stdout and file outputs differ"
    );
    let (ok, piped, err) = run(
        Command::new("sh").arg("-c").arg(format!(
            "cat '{}' | '{BIN}' remux - -o - --fragmented --fragment-duration 1",
            input.display()
        )),
        Duration::from_secs(60),
    );
    assert!(ok, "{err}");
    assert!(piped == out, "stdin and file inputs give different outputs");
    let moofs = out.windows(4).filter(|w| w == b"moof").count();
    assert!(
        (2..=3).contains(&moofs),
        "expected 2-3 fragments of >= 1 s in 2 s, got {moofs}"
    );
}

#[test]
fn transformer_streams_mkv_to_fmp4_with_index() {
    use tgmux::remux::mp4::FragmentOptions;
    use tgmux::remux::transformer::MkvToFmp4;
    if !oracles() {
        return;
    }
    let dir = TempDir::new("transformer");
    let input = ffmpeg(
        &dir,
        &format!("{VIDEO2} {AUDIO2} {H264} -c:a aac"),
        "in.mkv",
    );
    let bytes = std::fs::read(&input).unwrap();
    let mut t = MkvToFmp4::new(FragmentOptions::default());
    let mut out = Vec::new();
    let mut out_at_half = None;
    for (i, piece) in bytes.chunks(4096).enumerate() {
        t.push(piece).unwrap();
        t.take_output(&mut out);
        if (i + 1) * 4096 >= bytes.len() / 2 && out_at_half.is_none() {
            out_at_half = Some(out.len());
        }
    }
    t.finish().unwrap();
    t.take_output(&mut out);
    assert!(out_at_half.unwrap() > 0, "no output before the input ended");
    // The same bytes as the CLI's fragmented output of the same file.
    let cli = dir.path("cli.mp4");
    let (ok, _, err) = run(
        Command::new(BIN)
            .arg("remux")
            .arg(&input)
            .arg("-o")
            .arg(&cli)
            .arg("--fragmented"),
        Duration::from_secs(60),
    );
    assert!(ok, "{err}");
    assert!(
        std::fs::read(&cli).unwrap() == out,
        "transformer output differs from `tgmux remux --fragmented`"
    );
    // One index entry per fragment (a key frame every 12 frames at 25 fps), increasing, each
    // pointing at a Matroska Cluster (ID 1F 43 B6 75) in the input.
    let index = t.index();
    assert!(index.len() >= 4, "{index:?}");
    assert!(index
        .windows(2)
        .all(|w| w[0].time < w[1].time && w[0].input_offset <= w[1].input_offset));
    for p in &index {
        let at = p.input_offset as usize;
        assert_eq!(&bytes[at..at + 4], &[0x1f, 0x43, 0xb6, 0x75], "{p:?}");
    }
    // Garbage is a clean error.
    let mut bad = MkvToFmp4::new(FragmentOptions::default());
    let r = bad
        .push(b"not a matroska file at all")
        .and_then(|_| bad.finish());
    assert!(r.is_err());
}

#[test]
fn stdin_to_stdout_output_begins_before_input_ends() {
    use std::io::{Read, Write};
    if !oracles() {
        return;
    }
    let dir = TempDir::new("pipe");
    let input = ffmpeg(
        &dir,
        &format!("{VIDEO2} {AUDIO2} {H264} -c:a aac"),
        "in.mkv",
    );
    let bytes = std::fs::read(&input).unwrap();
    let mut child = Command::new(BIN)
        .args(["remux", "-", "-o", "-", "--fragmented"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    all.extend_from_slice(&buf[..n]);
                    let _ = tx.send(all.len());
                }
            }
        }
        all
    });
    let half = bytes.len() * 6 / 10;
    stdin.write_all(&bytes[..half]).unwrap();
    stdin.flush().unwrap();
    let got = rx.recv_timeout(Duration::from_secs(20));
    assert!(got.is_ok(), "no output while the input was still open");
    stdin.write_all(&bytes[half..]).unwrap();
    drop(stdin);
    let out = reader.join().unwrap();
    assert!(child.wait().unwrap().success());
    let path = dir.path("piped.mp4");
    std::fs::write(&path, &out).unwrap();
    assert_eq!(av(&streams(&path)).len(), 2);
}
