//! Which input tracks reach the output: those MP4 can carry, renumbered in input order.

use crate::mp4::track::codec_name;
use crate::{Codec, Track};

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
/// its 1-based output position), each other one gets a one-line warning in `warnings`.
pub(crate) fn map_tracks(
    input: &[Track],
    out: &mut Vec<Track>,
    warnings: &mut Vec<String>,
) -> Vec<TrackMap> {
    input
        .iter()
        .map(|t| {
            let timescale = t.timescale.max(1);
            if let Codec::Unsupported(_) = t.codec {
                warnings.push(format!(
                    "dropping track {} ({}): MP4 output cannot carry it",
                    t.id,
                    codec_name(&t.codec)
                ));
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
