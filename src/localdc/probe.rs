//! What a media file says about itself: the pixel size of a JPEG or PNG photo, and the
//! duration and frame size of an MKV/WebM or MP4/MOV video, read with our own demuxer
//! (`tgmux::remux`), index only (no payloads).
//!
//! A file that does not parse simply has no attributes: the document is still served.

use std::io::Read;
use std::path::Path;

use crate::remux;

/// Most header bytes read to find a JPEG's frame size.
const IMAGE_HEAD: u64 = 256 * 1024;

/// A video's `documentAttributeVideo` values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct VideoInfo {
    /// Seconds, as the container states it (0 when it does not).
    pub(crate) duration: f64,
    /// Pixel size of the first video track.
    pub(crate) width: u32,
    /// Pixel size of the first video track.
    pub(crate) height: u32,
}

/// Duration and size of the MKV/WebM/MP4/MOV at `path`, or `None` if it does not parse or has
/// no video track. Reads the header and index only ([`remux::info::probe`]).
pub(crate) fn video(path: &Path) -> Option<VideoInfo> {
    let info = remux::info::probe(std::fs::File::open(path).ok()?).ok()?;
    let v = info.video().filter(|t| t.width > 0 && t.height > 0)?;
    Some(VideoInfo {
        duration: info.duration.unwrap_or(0.0),
        width: v.width,
        height: v.height,
    })
}

/// Width and height of the JPEG or PNG at `path`, from its header.
pub(crate) fn image_size(path: &Path) -> Option<(u32, u32)> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(IMAGE_HEAD)
        .read_to_end(&mut head)
        .ok()?;
    png_size(&head).or_else(|| jpeg_size(&head))
}

/// PNG: the signature, then IHDR's width and height (big-endian u32s at bytes 16..24).
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 24 || &b[..8] != b"\x89PNG\r\n\x1a\n" || &b[12..16] != b"IHDR" {
        return None;
    }
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    Some((be(16), be(20)))
}

/// JPEG: walks the marker segments to the first start-of-frame (SOF0..SOF15 except DHT, JPG
/// and DAC), whose payload is precision, height, width.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.get(..2)? != [0xff, 0xd8] {
        return None;
    }
    let mut i = 2;
    loop {
        while *b.get(i)? != 0xff {
            i += 1;
        }
        while *b.get(i)? == 0xff {
            i += 1;
        }
        let marker = *b.get(i)?;
        i += 1;
        if marker == 0xd8 || (0xd0..=0xd7).contains(&marker) || marker == 0x01 {
            continue; // no length
        }
        let len = usize::from(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]));
        if (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker) {
            let h = u16::from_be_bytes([*b.get(i + 3)?, *b.get(i + 4)?]);
            let w = u16::from_be_bytes([*b.get(i + 5)?, *b.get(i + 6)?]);
            return Some((u32::from(w), u32::from(h)));
        }
        if len < 2 {
            return None;
        }
        i += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_and_jpeg_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((640, 480)));
        assert_eq!(png_size(&png[..20]), None);
        // SOI, an APP0 of 16 bytes, then SOF2 (progressive): 8 bits, 300 high, 500 wide.
        let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10];
        jpeg.extend_from_slice(&[0; 14]);
        jpeg.extend_from_slice(&[0xff, 0xc2, 0x00, 0x11, 0x08, 0x01, 0x2c, 0x01, 0xf4, 0x03]);
        assert_eq!(jpeg_size(&jpeg), Some((500, 300)));
        assert_eq!(jpeg_size(&jpeg[..24]), None);
        assert_eq!(jpeg_size(b"GIF89a"), None);
    }

    /// `ffmpeg ARGS` and `ffprobe`'s duration and frame size of the result, or None (after a
    /// note) without ffmpeg outside CI.
    fn ffmpeg_video(out: &Path, args: &[&str]) -> Option<(f64, u32, u32)> {
        use std::process::Command;
        let made = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(args)
            .arg(out)
            .status();
        if !made.is_ok_and(|s| s.success()) {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true but ffmpeg is missing or failed"
            );
            eprintln!("note: skipping: no ffmpeg");
            return None;
        }
        let probe = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .args([
                "format=duration:stream=width,height",
                "-of",
                "default=nw=1:nk=1",
            ])
            .arg(out)
            .output()
            .unwrap();
        let text = String::from_utf8(probe.stdout).unwrap();
        let v: Vec<&str> = text.split_whitespace().collect();
        Some((
            v[2].parse().unwrap(),
            v[0].parse().unwrap(),
            v[1].parse().unwrap(),
        ))
    }

    #[test]
    fn video_attributes_agree_with_ffprobe() {
        let dir = std::env::temp_dir().join(format!("tgmux-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = [
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=2:size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
        ];
        let mkv = dir.join("v.mkv");
        let Some(want) = ffmpeg_video(&mkv, &src) else {
            return;
        };
        let mp4 = dir.join("v.mp4");
        let want_mp4 = ffmpeg_video(&mp4, &["-i", mkv.to_str().unwrap(), "-c", "copy"]).unwrap();
        for (path, (duration, w, h)) in [(&mkv, want), (&mp4, want_mp4)] {
            let got = video(path).unwrap_or_else(|| panic!("{} did not parse", path.display()));
            assert_eq!((got.width, got.height), (w, h), "{}", path.display());
            assert!(
                (got.duration - duration).abs() < 0.1,
                "{}: {} vs ffprobe {duration}",
                path.display(),
                got.duration
            );
        }
        std::fs::write(dir.join("bad.mkv"), b"not a video").unwrap();
        assert_eq!(video(&dir.join("bad.mkv")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
