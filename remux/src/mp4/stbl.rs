//! The sample table of a faststart track: sizes and chunks recorded as samples are laid out,
//! times recorded as the timing stage releases them; written as stts, ctts, stss, stsc, stsz
//! and stco (co64 once an offset passes 4 GiB).

use super::buf::BoxBuf;

/// Decode time, presentation time, duration and sync flag of one sample.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SampleTime {
    pub(crate) dts: i64,
    pub(crate) pts: i64,
    pub(crate) duration: u32,
    pub(crate) keyframe: bool,
}

/// A run of consecutive samples of one track in mdat.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunk {
    /// Offset from the start of the mdat payload.
    pub(crate) offset: u64,
    /// Number of samples.
    pub(crate) count: u32,
}

/// Everything `stbl` needs, minus `stsd`.
#[derive(Debug, Default)]
pub(crate) struct SampleTable {
    pub(crate) sizes: Vec<u32>,
    pub(crate) times: Vec<SampleTime>,
    pub(crate) chunks: Vec<Chunk>,
}

impl SampleTable {
    /// Amount to add to every decode time so that all composition offsets are ≥ 0.
    pub(crate) fn ctts_shift(&self) -> i64 {
        self.times
            .iter()
            .map(|t| t.dts - t.pts)
            .max()
            .unwrap_or(0)
            .max(0)
    }

    /// Sum of durations (the media duration).
    pub(crate) fn media_duration(&self) -> u64 {
        self.times.iter().map(|t| u64::from(t.duration)).sum()
    }

    /// Largest mdat-relative chunk offset.
    pub(crate) fn max_chunk_offset(&self) -> u64 {
        self.chunks.last().map_or(0, |c| c.offset)
    }

    /// Write stts, ctts, stss, stsc, stsz, stco/co64 (`base` = file offset of mdat payload).
    pub(crate) fn write(&self, b: &mut BoxBuf, base: u64, video: bool, co64: bool) {
        self.write_stts(b);
        self.write_ctts(b);
        if video && !self.times.iter().all(|t| t.keyframe) {
            let open = b.begin_full(b"stss", 0, 0);
            let keys: Vec<u32> = self
                .times
                .iter()
                .enumerate()
                .filter(|(_, t)| t.keyframe)
                .map(|(i, _)| i as u32 + 1)
                .collect();
            b.u32(keys.len() as u32);
            for k in keys {
                b.u32(k);
            }
            b.end(open);
        }
        self.write_stsc(b);
        self.write_stsz(b);
        let open = b.begin_full(if co64 { b"co64" } else { b"stco" }, 0, 0);
        b.u32(self.chunks.len() as u32);
        for c in &self.chunks {
            if co64 {
                b.u64(base + c.offset);
            } else {
                b.u32((base + c.offset) as u32);
            }
        }
        b.end(open);
    }

    fn write_stts(&self, b: &mut BoxBuf) {
        let runs = run_lengths(self.times.iter().map(|t| t.duration));
        let open = b.begin_full(b"stts", 0, 0);
        b.u32(runs.len() as u32);
        for (count, delta) in runs {
            b.u32(count);
            b.u32(delta);
        }
        b.end(open);
    }

    fn write_ctts(&self, b: &mut BoxBuf) {
        let shift = self.ctts_shift();
        if self.times.iter().all(|t| t.pts - t.dts + shift == 0) {
            return;
        }
        let runs = run_lengths(
            self.times
                .iter()
                .map(|t| (t.pts - t.dts + shift).clamp(0, i64::from(u32::MAX)) as u32),
        );
        let open = b.begin_full(b"ctts", 0, 0);
        b.u32(runs.len() as u32);
        for (count, offset) in runs {
            b.u32(count);
            b.u32(offset);
        }
        b.end(open);
    }

    fn write_stsc(&self, b: &mut BoxBuf) {
        let mut entries = Vec::new();
        for (i, c) in self.chunks.iter().enumerate() {
            if entries.last().map(|&(_, n)| n) != Some(c.count) {
                entries.push((i as u32 + 1, c.count));
            }
        }
        let open = b.begin_full(b"stsc", 0, 0);
        b.u32(entries.len() as u32);
        for (first, n) in entries {
            b.u32(first);
            b.u32(n);
            b.u32(1);
        }
        b.end(open);
    }

    fn write_stsz(&self, b: &mut BoxBuf) {
        let open = b.begin_full(b"stsz", 0, 0);
        let first = self.sizes.first().copied().unwrap_or(0);
        if !self.sizes.is_empty() && self.sizes.iter().all(|s| *s == first) {
            b.u32(first);
            b.u32(self.sizes.len() as u32);
        } else {
            b.u32(0);
            b.u32(self.sizes.len() as u32);
            for s in &self.sizes {
                b.u32(*s);
            }
        }
        b.end(open);
    }
}

/// (count, value) runs of equal consecutive values.
pub(crate) fn run_lengths(values: impl Iterator<Item = u32>) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for v in values {
        match runs.last_mut() {
            Some((n, last)) if *last == v => *n += 1,
            _ => runs.push((1, v)),
        }
    }
    runs
}

/// Write an empty sample table (fragmented init segments).
pub(crate) fn write_empty(b: &mut BoxBuf) {
    for fourcc in [b"stts", b"stsc", b"stco"] {
        let open = b.begin_full(fourcc, 0, 0);
        b.u32(0);
        b.end(open);
    }
    let open = b.begin_full(b"stsz", 0, 0);
    b.u32(0);
    b.u32(0);
    b.end(open);
}
