//! `download --album --remux` of an album that holds one media stream per file (a video-only
//! file and audio-only ones, as split DASH-style uploads come): the files become one MP4 with
//! every track, named after the video file.

use std::path::{Path, PathBuf};

use crate::remux::info::probe;
use crate::remux::pipeline::{remux_files, Output, RemuxOptions};
use crate::remux::TrackKind;

/// What kind of streams one downloaded file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Streams {
    /// Video and no audio.
    VideoOnly,
    /// Audio and no video.
    AudioOnly,
    /// Anything else: both, neither, or a file the remuxer cannot read.
    Other,
}

/// Classifies a file by its tracks (read from its header and index only).
pub(super) fn streams_of(path: &Path) -> Streams {
    let Ok(file) = std::fs::File::open(path) else {
        return Streams::Other;
    };
    let Ok(info) = probe(&file) else {
        return Streams::Other;
    };
    let has = |kind| info.tracks.iter().any(|t| t.kind == kind);
    match (has(TrackKind::Video), has(TrackKind::Audio)) {
        (true, false) => Streams::VideoOnly,
        (false, true) => Streams::AudioOnly,
        _ => Streams::Other,
    }
}

/// The order to merge an album's files in, video first (its track becomes track 1), when
/// they are split streams: exactly one video-only file and at least one audio-only file, and
/// nothing else. `None` when the album is anything else (its files stay as they are).
pub(super) fn split_streams(kinds: &[Streams]) -> Option<Vec<usize>> {
    let video: Vec<usize> = (0..kinds.len())
        .filter(|&i| kinds[i] == Streams::VideoOnly)
        .collect();
    let audio: Vec<usize> = (0..kinds.len())
        .filter(|&i| kinds[i] == Streams::AudioOnly)
        .collect();
    match (video.as_slice(), audio.len()) {
        ([v], n) if n > 0 && n + 1 == kinds.len() => {
            Some(std::iter::once(*v).chain(audio).collect())
        }
        _ => None,
    }
}

/// Remuxes `files` (video first) into `<video stem>.mp4` beside the video file, then removes
/// the files merged. On failure every file is kept and a partial output removed. Dropped
/// tracks are told through `warn`.
pub(super) fn merge(
    files: &[PathBuf],
    opts: &RemuxOptions,
    warn: &mut dyn FnMut(&str),
) -> Result<PathBuf, String> {
    let video = files.first().ok_or("no files to merge")?;
    let target = video.with_extension("mp4");
    // The video file may already be `<stem>.mp4` (remuxed on its own): write beside it first.
    let merged = video.with_extension("album.mp4");
    let done = remux_files(files, &Output::File(merged.clone()), opts, warn);
    if let Err(e) = done {
        let _ = std::fs::remove_file(&merged);
        return Err(format!(
            "merging the album's streams (its files are kept): {e}"
        ));
    }
    for f in files {
        std::fs::remove_file(f).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    std::fs::rename(&merged, &target).map_err(|e| format!("{}: {e}", target.display()))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Streams::*;

    #[test]
    fn only_one_video_and_audio_only_files_are_split_streams() {
        assert_eq!(split_streams(&[AudioOnly, VideoOnly]), Some(vec![1, 0]));
        assert_eq!(
            split_streams(&[VideoOnly, AudioOnly, AudioOnly]),
            Some(vec![0, 1, 2])
        );
        for kinds in [
            &[VideoOnly][..],
            &[AudioOnly, AudioOnly],
            &[VideoOnly, VideoOnly, AudioOnly],
            &[VideoOnly, AudioOnly, Other],
            &[],
        ] {
            assert_eq!(split_streams(kinds), None, "{kinds:?}");
        }
    }

    #[test]
    fn unreadable_files_are_not_streams() {
        let dir = std::env::temp_dir().join(format!("tgmux-album-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.bin");
        std::fs::write(&f, b"not media").unwrap();
        assert_eq!(streams_of(&f), Other);
        assert_eq!(streams_of(&dir.join("missing")), Other);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
