//! Decode times and durations for the output.
//!
//! Matroska gives presentation times only. For video without decode times we derive them the
//! way ffmpeg does: the decode time of the n-th packet (decode order) is the n-th smallest
//! presentation time, found with a reorder window of [`REORDER_DEPTH`] packets. Decode times
//! are forced strictly increasing. A sample's duration is the distance to the next decode time;
//! the last sample's duration is its own (BlockDuration / stts), else the track's nominal
//! DefaultDuration, else the previous sample's.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use bytes::Bytes;

use crate::{Extent, Packet};

/// Frames a decoder may hold back for reordering (H.264/HEVC allow at most 16).
pub(crate) const REORDER_DEPTH: usize = 16;

/// A sample with its final decode time, presentation time and duration (track ticks).
#[derive(Debug, Clone)]
pub(crate) struct TimedSample {
    pub(crate) dts: i64,
    pub(crate) pts: i64,
    pub(crate) duration: u64,
    pub(crate) keyframe: bool,
    pub(crate) data: Bytes,
    /// See [`Packet::omitted`].
    pub(crate) omitted: Option<Extent>,
    pub(crate) input_offset: u64,
}

impl TimedSample {
    /// The payload size, read or not.
    pub(crate) fn size(&self) -> usize {
        self.data.len() + self.omitted.map_or(0, |e| e.len)
    }
}

/// The per-track timing stage: packets in decode order in, timed samples out.
#[derive(Debug)]
pub(crate) struct Timing {
    derive: bool,
    default_duration: Option<u64>,
    heap: BinaryHeap<Reverse<i64>>,
    waiting: VecDeque<Packet>,
    held: Option<(Packet, i64)>,
    last_dts: Option<i64>,
    last_delta: u64,
}

impl Timing {
    /// `derive`: compute decode times from presentation times (video from Matroska).
    pub(crate) fn new(derive: bool, default_duration: Option<u64>) -> Timing {
        Timing {
            derive,
            default_duration,
            heap: BinaryHeap::new(),
            waiting: VecDeque::new(),
            held: None,
            last_dts: None,
            last_delta: 0,
        }
    }

    /// Feed one packet (decode order); completed samples are appended to `out`.
    pub(crate) fn push(&mut self, packet: Packet, out: &mut Vec<TimedSample>) {
        if self.derive && packet.dts.is_none() {
            self.heap.push(Reverse(packet.pts));
            self.waiting.push_back(packet);
            while self.waiting.len() > REORDER_DEPTH {
                self.release_one(out);
            }
        } else {
            let dts = packet.dts.unwrap_or(packet.pts);
            self.assign(packet, dts, out);
        }
    }

    fn release_one(&mut self, out: &mut Vec<TimedSample>) {
        if let (Some(p), Some(Reverse(dts))) = (self.waiting.pop_front(), self.heap.pop()) {
            self.assign(p, dts, out);
        }
    }

    fn assign(&mut self, packet: Packet, dts: i64, out: &mut Vec<TimedSample>) {
        let dts = match self.last_dts {
            Some(last) if dts <= last => last.saturating_add(1),
            _ => dts,
        };
        self.last_dts = Some(dts);
        if let Some((held, held_dts)) = self.held.take() {
            let delta = dts.saturating_sub(held_dts).max(1) as u64;
            self.last_delta = delta;
            out.push(sample(held, held_dts, delta));
        }
        self.held = Some((packet, dts));
    }

    /// End of input: release everything held.
    pub(crate) fn finish(&mut self, out: &mut Vec<TimedSample>) {
        while !self.waiting.is_empty() {
            self.release_one(out);
        }
        if let Some((held, dts)) = self.held.take() {
            let duration = held
                .duration
                .filter(|d| *d > 0)
                .or(self.default_duration.filter(|d| *d > 0))
                .unwrap_or(self.last_delta.max(1));
            out.push(sample(held, dts, duration));
        }
    }
}

fn sample(p: Packet, dts: i64, duration: u64) -> TimedSample {
    TimedSample {
        dts,
        pts: p.pts,
        duration,
        keyframe: p.keyframe,
        data: p.data,
        omitted: p.omitted,
        input_offset: p.input_offset,
    }
}

/// Extension used by the faststart planner, which needs times but not payloads.
pub(crate) trait WithoutData {
    /// The same packet with an empty payload.
    fn without_data(self) -> Packet;
}

impl WithoutData for Packet {
    fn without_data(self) -> Packet {
        Packet {
            data: Bytes::new(),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(pts: i64) -> Packet {
        Packet {
            track: 1,
            pts,
            dts: None,
            duration: None,
            keyframe: false,
            data: Bytes::new(),
            omitted: None,
            input_offset: 0,
        }
    }

    #[test]
    fn bframes_get_sorted_pts_as_dts() {
        let mut t = Timing::new(true, Some(40));
        let mut out = Vec::new();
        for pts in [0, 120, 40, 80, 240, 160, 200] {
            t.push(pkt(pts), &mut out);
        }
        t.finish(&mut out);
        let dts: Vec<i64> = out.iter().map(|s| s.dts).collect();
        assert_eq!(dts, vec![0, 40, 80, 120, 160, 200, 240]);
        assert!(out.iter().all(|s| s.duration == 40));
    }
}
