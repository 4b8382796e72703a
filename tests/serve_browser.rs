//! A real browser on the `/watch` page: Debian's Chromium, headless, driven by chromedriver
//! through Selenium (`tests/browser/watch.py`), plays an H.264 + AAC + SRT Matroska file
//! that ffmpeg made (the server's HLS, segments, WebVTT and page are ours): the video plays
//! (currentTime advances, no media error), the subtitle track loads its cues, and a seek to
//! 70 % plays again within 3 s.
//!
//! Needs chromium, chromedriver (apt: chromium chromium-driver), ffmpeg, and a Python with
//! selenium (`TGMUX_PYTHON`, which scripts/test points at its venv). Without them the test
//! skips with a note, except under `CI=true`, where that is a failure.

mod localdc_util;
mod serve_util;

use std::collections::HashMap;
use std::process::Command;

use serve_util::{av_mkv, start_in};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/watch.py");

/// The Python that has selenium, if the browser tools are all here.
fn tools() -> Option<String> {
    let py = std::env::var("TGMUX_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut missing = Vec::new();
    for (tool, arg) in [
        ("chromium", "--version"),
        ("chromedriver", "--version"),
        ("ffmpeg", "-version"),
    ] {
        let ok = Command::new(tool)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            missing.push(tool.to_string());
        }
    }
    let selenium = Command::new(&py)
        .args(["-c", "import selenium"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !selenium {
        missing.push(format!("selenium for {py}"));
    }
    if missing.is_empty() {
        return Some(py);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "browser test tools missing under CI=true: {missing:?} (scripts/test installs them)"
        );
    }
    eprintln!("note: skipping the browser test, missing {missing:?}");
    None
}

#[test]
fn chromium_plays_seeks_and_shows_subtitles() {
    let Some(py) = tools() else { return };
    let dir = localdc_util::scratch("serve-browser");
    let media = dir.join("media");
    av_mkv(&media.join("alice"), "20.mkv", 60);
    let srv = start_in(media, &["--token", "tok en+"]);
    let url = format!("{}/watch/alice/20?token=tok%20en%2B", srv.base);

    let out = Command::new(&py)
        .arg(SCRIPT)
        .arg(&url)
        .env("SE_AVOID_STATS", "true")
        .output()
        .expect("run the browser driver");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "watch.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: HashMap<&str, &str> = stdout.lines().filter_map(|l| l.split_once('=')).collect();
    let field = |k: &str| *r.get(k).unwrap_or_else(|| panic!("no {k} in\n{stdout}"));
    assert_eq!(field("errors"), "[]", "{stdout}");
    assert_eq!(field("media_error"), "None", "{stdout}");
    assert_eq!(
        field("mode"),
        "mse",
        "our MSE player, not the browser's own HLS"
    );
    assert_eq!(field("played"), "True", "{stdout}");
    let duration: f64 = field("duration").parse().unwrap();
    assert!((duration - 60.0).abs() < 0.5, "{stdout}");
    assert_eq!(field("cues"), "4", "{stdout}");
    assert_eq!(
        field("cue_texts"),
        r#"["First", "Hello world", "Second &amp; last\nline two", "Late cue"]"#
    );
    let seek: f64 = field("seek_s").parse().unwrap();
    assert!(
        (0.0..3.0).contains(&seek),
        "the seek to 70 % took {seek} s (or never played)\n{stdout}"
    );
    assert_eq!(field("advanced_after_seek"), "True", "{stdout}");
    let target: f64 = field("seek_target").parse().unwrap();
    assert!(field("final_t").parse::<f64>().unwrap() > target);
    // The player fetched the init segment once and not every segment: after the seek it
    // skipped what lies between its read-ahead and the target.
    let fetched: Vec<&str> = field("fetched").split(',').collect();
    assert_eq!(fetched.iter().filter(|f| **f == "init.mp4").count(), 1);
    let segments = 15; // 60 s in 4 s segments
    let distinct: std::collections::HashSet<_> =
        fetched.iter().filter(|f| f.starts_with("seg-")).collect();
    assert!(
        distinct.len() < segments,
        "fetched every segment: {fetched:?}"
    );
}
