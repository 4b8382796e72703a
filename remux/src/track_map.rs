//! Which input tracks reach the output: those MP4 can carry, renumbered in input order.

use crate::mp4::track::describe;
use crate::{Codec, RemuxError, Track, TrackKind};

/// Where one input track goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackMap {
    /// The track's id in its input ([`Track::id`]).
    pub(crate) input_id: u64,
    /// Its index among the output tracks; `None` when it is dropped.
    pub(crate) output: Option<usize>,
    /// Its ticks per second (at least 1), for merging inputs by time.
    pub(crate) timescale: u32,
}

/// Maps the tracks of one input: each one MP4 can carry is appended to `out` (its id becomes
/// its 1-based output position), each other one is named in `dropped` (`track N (CODEC)`).
pub(crate) fn map_tracks(
    input: &[Track],
    out: &mut Vec<Track>,
    dropped: &mut Vec<String>,
) -> Vec<TrackMap> {
    input
        .iter()
        .map(|t| {
            let timescale = t.timescale.max(1);
            if let Codec::Unsupported(_) = t.codec {
                dropped.push(describe(t));
                return TrackMap {
                    input_id: t.id,
                    output: None,
                    timescale,
                };
            }
            let mut kept = t.clone();
            kept.id = out.len() as u64 + 1;
            out.push(kept);
            TrackMap {
                input_id: t.id,
                output: Some(out.len() - 1),
                timescale,
            }
        })
        .collect()
}

/// The output index of input track `id`, `None` if it is dropped or unknown.
pub(crate) fn output_of(map: &[TrackMap], id: u64) -> Option<usize> {
    map.iter().find(|m| m.input_id == id).and_then(|m| m.output)
}

/// The warning for a track [`map_tracks`] dropped (`dropped` as it names it).
pub(crate) fn drop_warning(dropped: &str) -> String {
    format!("dropping {dropped}: MP4 output cannot carry it")
}

/// A muxer's error, completed: when it found nothing left to write, the tracks dropped
/// before it (`dropped`, from [`map_tracks`]) are named too.
pub(crate) fn with_dropped(e: RemuxError, dropped: &[String]) -> RemuxError {
    match e {
        RemuxError::NoTracks { dropped: more } => RemuxError::NoTracks {
            dropped: dropped.iter().cloned().chain(more).collect(),
        },
        other => other,
    }
}

/// The track segments are cut by, as the fragmented muxer picks it: the first video track
/// MP4 can carry, else the first such audio track.
pub(crate) fn lead_track(tracks: &[Track]) -> Option<u64> {
    let kept = |kind| {
        tracks
            .iter()
            .find(move |t| t.kind == kind && !matches!(t.codec, Codec::Unsupported(_)))
            .map(|t| t.id)
    };
    kept(TrackKind::Video).or_else(|| kept(TrackKind::Audio))
}
