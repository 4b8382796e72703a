//! `edts`/`elst`: the edit list mapping a track's media time onto the movie timeline.

use super::buf::BoxBuf;

/// One edit: `media_time` -1 is an empty edit (the track starts later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    /// Duration in the movie timescale (0 in fragmented init segments: "to the end").
    pub(crate) segment_duration: u64,
    /// Start in the media timescale, or -1 for an empty edit.
    pub(crate) media_time: i64,
}

/// Write `edts` holding one `elst` (version 1 when a value needs 64 bits).
pub(crate) fn write(b: &mut BoxBuf, edits: &[Edit]) {
    let v1 = edits.iter().any(|e| {
        e.segment_duration > u64::from(u32::MAX)
            || e.media_time > i64::from(i32::MAX)
            || e.media_time < -1
    });
    let edts = b.begin(b"edts");
    let elst = b.begin_full(b"elst", u8::from(v1), 0);
    b.u32(edits.len() as u32);
    for e in edits {
        if v1 {
            b.u64(e.segment_duration);
            b.u64(e.media_time as u64);
        } else {
            b.u32(e.segment_duration as u32);
            b.i32(e.media_time as i32);
        }
        b.u16(1); // media_rate_integer
        b.u16(0);
    }
    b.end(elst);
    b.end(edts);
}
