//! `tgmux remux` never deletes or damages a file that was there before, and every failure says
//! what went wrong and where (issue 12, items 1, 8 and 10). The inputs are built here with
//! tests/mkv_util's EBML writer, so no external tool is needed.

mod mkv_util;

use std::collections::BTreeSet;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mkv_util::{noise, tiny_file, TinyTrack};

const BIN: &str = env!("CARGO_BIN_EXE_tgmux");

/// Three seconds of AAC: a good input.
const AAC: TinyTrack = (1, 2, "A_AAC", &[0x11, 0x90]);

/// A fresh directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("tgmux-remux-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    /// The names in the directory (a temporary file left behind shows here).
    fn entries(&self) -> BTreeSet<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `tgmux remux ARGS` with stdout going to `stdout` (a file, or discarded); returns
/// whether it succeeded and its stderr. Fails the test after 30 s instead of hanging.
fn remux(args: &[&Path], fragmented: bool, stdout: Option<std::fs::File>) -> (bool, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("remux").args(args);
    if fragmented {
        cmd.arg("--fragmented");
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(stdout.map_or(Stdio::null(), Stdio::from))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("tgmux remux {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    (out.status.success(), err)
}

/// A failure: one `tgmux: error: ` line, returned.
fn error_line(args: &[&Path], fragmented: bool) -> String {
    let (ok, err) = remux(args, fragmented, None);
    assert!(!ok, "{args:?} (fragmented: {fragmented}) succeeded");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line: {err}");
    assert!(lines[0].starts_with("tgmux: error: "), "{err}");
    lines[0].to_string()
}

fn o() -> &'static Path {
    Path::new("-o")
}

/// Item 1: every way the issue found to fail, with and without --fragmented, leaves the
/// file that was at the output path as it was, and no temporary file beside it.
#[test]
fn a_failed_remux_keeps_the_existing_output() {
    let d = Dir::new("keep");
    let good = tiny_file("matroska", &[AAC], 3);
    let inputs = [
        d.path("typo.mkv"),
        d.write("random.bin", &noise(1, 4096)),
        d.write("vp8.webm", &tiny_file("webm", &[(1, 1, "V_VP8", &[])], 1)),
        d.write("empty.mkv", b""),
        {
            let p = d.path("dir.mkv");
            std::fs::create_dir(&p).unwrap();
            p
        },
        // Cut inside the third Cluster: fragmented output has written two fragments when
        // the input runs out.
        d.write("cut.mkv", &good[..good.len() * 5 / 6]),
    ];
    let keep = d.path("keep.mp4");
    for input in &inputs {
        for fragmented in [false, true] {
            std::fs::write(&keep, b"keep\n").unwrap();
            let before = d.entries();
            error_line(&[input, o(), &keep], fragmented);
            let what = format!("{} (fragmented: {fragmented})", input.display());
            assert_eq!(std::fs::read(&keep).unwrap(), b"keep\n", "{what}");
            assert_eq!(d.entries(), before, "{what}: files left behind");
        }
    }
}

/// A remux that succeeds replaces the output in one step: the new file has the old one's
/// permissions, a symlink output replaces the file it points to, and nothing is left beside.
#[test]
fn a_successful_remux_replaces_the_output() {
    let d = Dir::new("replace");
    let input = d.write("in.mkv", &tiny_file("matroska", &[AAC], 3));
    for fragmented in [false, true] {
        let out = d.write("out.mp4", b"old\n");
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
        let real = d.write("real.mp4", b"old\n");
        let link = d.path("link.mp4");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let before = d.entries();
        for target in [&out, &link] {
            let (ok, err) = remux(&[&input, o(), target], fragmented, None);
            assert!(ok, "{err}");
        }
        for written in [&out, &real] {
            let bytes = std::fs::read(written).unwrap();
            assert_eq!(&bytes[4..8], b"ftyp", "{}", written.display());
        }
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(d.entries(), before);
    }
}

/// Item 8: I/O errors name the file and what was being done with it.
#[test]
fn io_errors_name_the_file_and_the_action() {
    let d = Dir::new("io");
    let input = d.write("in.mkv", &tiny_file("matroska", &[AAC], 2));
    let nodir = d.path("nodir/x.mp4");
    let typo = d.path("typo.mkv");
    let full = Path::new("/dev/full");
    for fragmented in [false, true] {
        let e = error_line(&[&input, o(), &nodir], fragmented);
        assert!(
            e.contains(&format!("cannot create {}: ", nodir.display())),
            "{e}"
        );
        let e = error_line(&[&typo, o(), &d.path("x.mp4")], fragmented);
        assert!(
            e.contains(&format!("cannot open {}: ", typo.display())),
            "{e}"
        );
        if full.exists() {
            let e = error_line(&[&input, o(), full], fragmented);
            assert!(e.contains("cannot write /dev/full: "), "{e}");
            let kind = std::fs::metadata(full).unwrap().file_type();
            assert!(kind.is_char_device(), "/dev/full was replaced");
        }
    }
    if full.exists() {
        let stdout = std::fs::OpenOptions::new().write(true).open(full).unwrap();
        let (ok, err) = remux(&[&input, o(), Path::new("-")], true, Some(stdout));
        assert!(!ok);
        assert!(err.contains("cannot write standard output: "), "{err}");
    }
}

/// Item 10: a directory given as input is called a directory (not a pipe), in both modes.
#[test]
fn a_directory_input_is_reported_as_a_directory() {
    let d = Dir::new("dirinput");
    let dir = d.path("movie.mkv");
    std::fs::create_dir(&dir).unwrap();
    for fragmented in [false, true] {
        let e = error_line(&[&dir, o(), &d.path("x.mp4")], fragmented);
        assert!(e.contains(&dir.display().to_string()), "{e}");
        assert!(e.contains("is a directory"), "{e}");
        assert!(!e.contains("pipe"), "{e}");
    }
}

/// Item 10: when nothing MP4 can carry is left, the error names what was dropped.
#[test]
fn dropped_tracks_are_named_when_nothing_is_left() {
    let d = Dir::new("dropped");
    let tracks: [TinyTrack; 2] = [(1, 1, "V_VP8", &[]), (2, 2, "A_VORBIS", &[2, 0, 0])];
    let input = d.write("in.webm", &tiny_file("webm", &tracks, 1));
    for fragmented in [false, true] {
        let e = error_line(&[&input, o(), &d.path("x.mp4")], fragmented);
        assert!(e.contains("V_VP8") && e.contains("A_VORBIS"), "{e}");
    }
}

/// Library errors carry no CLI advice; the CLI adds it (issue 10): faststart from a pipe.
#[test]
fn advice_is_the_clis() {
    use tgmux::remux::pipeline::{remux_files, Output, RemuxOptions};
    let d = Dir::new("advice");
    let fifo = d.path("in.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = d.path("x.mp4");
    let e = remux_files(
        std::slice::from_ref(&fifo),
        &Output::File(out.clone()),
        &RemuxOptions::default(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains(&fifo.display().to_string()), "{e}");
    assert!(
        !e.contains("--fragmented"),
        "library error with CLI advice: {e}"
    );
    let e = error_line(&[&fifo, o(), &out], false);
    assert!(e.contains("--fragmented"), "{e}");
}
