//! A file's media summary (container, duration, tracks), read from its header and index
//! only: what a server shows about a file, or a DC about a video, before any packet is read.

use crate::mkv::MkvDemuxer;
use crate::mp4::demux::Mp4Demuxer;
use crate::{detect, Codec, Demuxer, Format, RemuxError, Source, SourceReader, TextFormat, Track};

/// What a media file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// The container.
    pub format: Format,
    /// Seconds, when the file says: Matroska Info's Duration (live recordings often have
    /// none), MP4's mvhd (else the latest decode time of any track).
    pub duration: Option<f64>,
    /// Every track as the container describes it ([`Track::kind`], [`Track::codec`],
    /// [`Track::width`] and [`Track::height`], [`Track::language`], [`Track::name`]...),
    /// those MP4 output cannot carry included (as [`Codec::Unsupported`]).
    pub tracks: Vec<Track>,
}

impl MediaInfo {
    /// The first video track, if any (its width and height are the video's).
    pub fn video(&self) -> Option<&Track> {
        self.tracks
            .iter()
            .find(|t| t.kind == crate::TrackKind::Video)
    }

    /// The text subtitle tracks (SubRip, SSA/ASS, WebVTT) that
    /// [`webvtt::extract`](crate::webvtt::extract) turns into WebVTT.
    pub fn text_subtitles(&self) -> impl Iterator<Item = &Track> {
        self.tracks.iter().filter(|t| {
            matches!(
                t.codec,
                Codec::Text(TextFormat::Srt | TextFormat::Ass | TextFormat::WebVtt)
            )
        })
    }
}

/// Reads `src`'s summary. Matroska: the EBML header and the Segment's elements up to Tracks
/// and Info (64 KiB reads; elements it skips, such as attachments, are jumped over). MP4/MOV:
/// the top-level box headers (mdat is jumped over) and moov.
pub fn probe<S: Source>(src: S) -> Result<MediaInfo, RemuxError> {
    let mut head = [0u8; 16];
    let n = head
        .len()
        .min(usize::try_from(src.len()).unwrap_or(usize::MAX));
    src.read_at(0, &mut head[..n])?;
    match detect(&head[..n]) {
        Some(Format::Matroska) => {
            // Index-only reading seeks over what it skips; nothing past Tracks is read.
            let d = MkvDemuxer::index_only(SourceReader::new(src), usize::MAX)?;
            let p = d.parser();
            Ok(MediaInfo {
                format: Format::Matroska,
                duration: p.duration().map(|t| t / f64::from(p.timescale().max(1))),
                tracks: d.tracks().to_vec(),
            })
        }
        Some(Format::Mp4) => {
            let d = Mp4Demuxer::open(src)?;
            Ok(MediaInfo {
                format: Format::Mp4,
                duration: d.duration(),
                tracks: d.tracks().to_vec(),
            })
        }
        None => Err(RemuxError::UnknownFormat),
    }
}
