//! The indexes Matroska muxers write: Cues (keyframe time → cluster position) and the
//! SeekHead (element → position, which says where the Cues are).

use super::ebml::{self, Children};
use super::ids;
use super::limits;
use super::time::TimeBase;
use crate::RemuxError;

/// One entry of the seek index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CuePoint {
    /// Track the cue refers to (TrackNumber).
    pub track: u64,
    /// Presentation time of the keyframe, in the file's track ticks (see the `mkv` module
    /// docs).
    pub time: i64,
    /// Input byte offset of the Cluster holding the keyframe (absolute, from the file start).
    pub cluster_offset: u64,
    /// Offset of the block inside the Cluster's body, when the file says.
    pub relative_position: Option<u64>,
}

/// Parses a Cues body. `segment_data_at` is the input offset of the Segment's body, which
/// CueClusterPosition counts from. Malformed entries end the parse (the index is a hint).
pub(crate) fn parse_cues(
    body: &[u8],
    body_at: u64,
    segment_data_at: u64,
    tb: TimeBase,
    out: &mut Vec<CuePoint>,
) -> Result<(), RemuxError> {
    for point in Children::new(body, body_at) {
        let point = point?;
        if point.id != ids::CUE_POINT {
            continue;
        }
        let mut time = None;
        let mut positions = Vec::new();
        for c in Children::new(point.body, point.body_at) {
            let c = c?;
            match c.id {
                ids::CUE_TIME => time = Some(ebml::uint(c.body, c.at)?),
                ids::CUE_TRACK_POSITIONS => {
                    let (mut track, mut cluster, mut rel) = (None, None, None);
                    for p in Children::new(c.body, c.body_at) {
                        let p = p?;
                        match p.id {
                            ids::CUE_TRACK => track = Some(ebml::uint(p.body, p.at)?),
                            ids::CUE_CLUSTER_POSITION => cluster = Some(ebml::uint(p.body, p.at)?),
                            ids::CUE_RELATIVE_POSITION => rel = Some(ebml::uint(p.body, p.at)?),
                            _ => {}
                        }
                    }
                    if let (Some(t), Some(c)) = (track, cluster) {
                        positions.push((t, c, rel));
                    }
                }
                _ => {}
            }
        }
        let Some(time) = time
            .and_then(|t| i64::try_from(t).ok())
            .and_then(|t| tb.ticks(t))
        else {
            continue;
        };
        for (track, cluster, relative_position) in positions {
            if out.len() >= limits::MAX_CUE_POINTS {
                return Ok(());
            }
            let Some(cluster_offset) = segment_data_at.checked_add(cluster) else {
                continue;
            };
            out.push(CuePoint {
                track,
                time,
                cluster_offset,
                relative_position,
            });
        }
    }
    Ok(())
}

/// Parses a SeekHead body into (element id, absolute input offset) pairs appended to `out`.
/// `segment_data_at` is the input offset of the Segment's body, which SeekPosition counts
/// from. Malformed entries end the parse (the index is a hint).
pub(crate) fn parse_seek_head(
    body: &[u8],
    body_at: u64,
    segment_data_at: u64,
    out: &mut Vec<(u32, u64)>,
) -> Result<(), RemuxError> {
    for seek in Children::new(body, body_at) {
        let seek = seek?;
        if seek.id != ids::SEEK {
            continue;
        }
        let (mut id, mut position) = (None, None);
        for c in Children::new(seek.body, seek.body_at) {
            let c = c?;
            match c.id {
                ids::SEEK_ID if c.body.len() <= 4 => {
                    id = Some(c.body.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)));
                }
                ids::SEEK_POSITION => position = Some(ebml::uint(c.body, c.at)?),
                _ => {}
            }
        }
        if let (Some(id), Some(at)) = (id, position.and_then(|p| segment_data_at.checked_add(p))) {
            out.push((id, at));
        }
    }
    Ok(())
}
