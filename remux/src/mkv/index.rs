//! Where a Matroska file's key frames are, to cut it into segments of whole Clusters: its
//! Cues, found through the SeekHead, or, when it has none, a scan of every Cluster's block
//! headers.

use super::demuxer::MkvDemuxer;
use super::ebml;
use super::ids;
use super::limits;
use super::parser::MkvParser;
use crate::track_map::lead_track;
use crate::{Demuxer, RemuxError, Source, SourceReader, Track};

/// The Clusters of a Matroska file that start segments.
#[derive(Debug)]
pub(crate) struct ClusterIndex {
    /// The file's tracks.
    pub(crate) tracks: Vec<Track>,
    /// Seconds, from Info; without it, from a scan, where the last packet ends.
    pub(crate) duration: Option<f64>,
    /// A parser that knows the tracks, for [`MkvParser::for_range`].
    pub(crate) parser: MkvParser,
    /// The first Cluster and each Cluster holding a key frame of the lead track: its input
    /// offset and that key frame's presentation time in seconds (for the first Cluster, the
    /// first packet's); offsets ascending.
    pub(crate) points: Vec<(u64, f64)>,
    /// Where the last Cluster ends.
    pub(crate) end: u64,
    /// The points come from the file's Cues (else from a scan).
    pub(crate) from_cues: bool,
}

/// Reads `src`'s header and first block, then its Cues (where the SeekHead says they are);
/// without usable Cues, every block header of the file (index-only: payloads are skipped).
pub(crate) fn cluster_index<S: Source>(src: &S) -> Result<ClusterIndex, RemuxError> {
    let mut d = MkvDemuxer::index_only(SourceReader::new(src), 0)?;
    let tracks = d.tracks().to_vec();
    let lead = lead_track(&tracks);
    let timescale = f64::from(d.parser().timescale().max(1));
    let Some(first) = d.next_packet()? else {
        return Err(RemuxError::Malformed {
            at: d.parser().position(),
            what: "Matroska without blocks".into(),
        });
    };
    let first_cluster = d.parser().first_cluster().unwrap_or(first.input_offset);
    let first_point = (first_cluster, first.pts as f64 / timescale);
    let cues = read_cues(src, d.parser(), lead, first_point);
    let mut duration = d.parser().duration().map(|t| t / timescale);
    let (points, end, from_cues) = match cues {
        Some((points, end)) => (points, end, true),
        None => {
            let mut points = vec![first_point];
            // Without Info's Duration, the scan sees where the last packet ends.
            let mut last_end = first.pts.saturating_add(packet_duration(&first));
            while let Some(p) = d.next_packet()? {
                let new_cluster = points.last().is_some_and(|l| l.0 != p.input_offset);
                if Some(p.track) == lead && p.keyframe && new_cluster {
                    points.push((p.input_offset, p.pts as f64 / timescale));
                }
                last_end = last_end.max(p.pts.saturating_add(packet_duration(&p)));
            }
            duration.get_or_insert(last_end as f64 / timescale);
            (points, d.parser().clusters_end(), false)
        }
    };
    Ok(ClusterIndex {
        tracks,
        duration,
        parser: d.parser().for_range(0),
        points,
        end,
        from_cues,
    })
}

/// The lead track's cue points as (Cluster offset, seconds), starting with `first` (the first
/// Cluster), and where the last Cluster ends; `None` when the file has no usable Cues.
fn read_cues<S: Source>(
    src: &S,
    parser: &MkvParser,
    lead: Option<u64>,
    first: (u64, f64),
) -> Option<(Vec<(u64, f64)>, u64)> {
    let len = src.len();
    let at = parser.seek_position(ids::CUES).filter(|&at| at < len)?;
    let mut head = [0u8; limits::MAX_ID_LEN + limits::MAX_SIZE_LEN];
    let n = head
        .len()
        .min(usize::try_from(len - at).unwrap_or(usize::MAX));
    src.read_at(at, &mut head[..n]).ok()?;
    let h = ebml::read_header(&head[..n]).ok()?;
    let size = h
        .size
        .filter(|&s| h.id == ids::CUES && s <= limits::MAX_CUES)?;
    let body_at = at + h.len as u64;
    let mut body = vec![0u8; usize::try_from(size).ok()?];
    src.read_at(body_at, &mut body).ok()?;
    let timescale = f64::from(parser.timescale().max(1));
    // Cues after the Clusters end them; Cues before them leave the Segment's end.
    let end = if at > first.0 {
        at
    } else {
        parser.segment_end().unwrap_or(len).min(len)
    };
    let mut points: Vec<(u64, f64)> = parser
        .parse_cues(&body, body_at)
        .into_iter()
        .filter(|c| Some(c.track) == lead && c.cluster_offset > first.0 && c.cluster_offset < end)
        .map(|c| (c.cluster_offset, c.time as f64 / timescale))
        .collect();
    if points.is_empty() {
        return None;
    }
    points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    points.dedup_by_key(|p| p.0);
    points.insert(0, first);
    Some((points, end))
}

/// A packet's duration in ticks, 0 when unknown.
fn packet_duration(p: &crate::Packet) -> i64 {
    p.duration
        .map_or(0, |d| i64::try_from(d).unwrap_or(i64::MAX))
}
