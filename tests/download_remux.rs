//! `tgmux download --remux`: an MKV document becomes the same MP4 `tgmux remux` makes of the
//! original file (whose packet-for-packet guarantees tests/remux_ffmpeg.rs shows against
//! ffmpeg), and the downloaded MKV is removed. Needs ffmpeg/ffprobe (fails under CI=true
//! without them).

mod localdc_util;
mod mkv_util;

use localdc_util::{s, tgmux};
use mkv_util::{Work, LAVFI_SINE_48K, LAVFI_VIDEO};

#[test]
fn mkv_documents_become_the_mp4_tgmux_remux_makes() {
    let Some(work) = Work::new("download-remux", &["ffmpeg", "ffprobe"]) else {
        return;
    };
    let mkv = work.ffmpeg(
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
    );
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
