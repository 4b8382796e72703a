//! `tkhd`: track header.

use super::buf::BoxBuf;

/// What `tkhd` says about a track.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrackHeader {
    /// track_ID (1-based).
    pub(crate) id: u32,
    /// Duration in the movie timescale (0 for fragmented output).
    pub(crate) duration: u64,
    /// Alternate group: 0 video, 1 audio, 2 text.
    pub(crate) alternate_group: u16,
    /// Audio tracks have volume 1.0.
    pub(crate) audio: bool,
    /// Presentation size in pixels (0 for audio).
    pub(crate) width: u32,
    pub(crate) height: u32,
}

/// Write `tkhd` (enabled, in movie; version 1 for long durations).
pub(crate) fn write(b: &mut BoxBuf, h: &TrackHeader) {
    let v1 = h.duration > u64::from(u32::MAX);
    let open = b.begin_full(b"tkhd", u8::from(v1), 0x3);
    if v1 {
        b.u64(0);
        b.u64(0);
        b.u32(h.id);
        b.u32(0);
        b.u64(h.duration);
    } else {
        b.u32(0);
        b.u32(0);
        b.u32(h.id);
        b.u32(0);
        b.u32(h.duration as u32);
    }
    b.zeros(8);
    b.u16(0); // layer
    b.u16(h.alternate_group);
    b.u16(if h.audio { 0x0100 } else { 0 });
    b.u16(0);
    b.unity_matrix();
    b.u32(h.width.min(0xffff) << 16);
    b.u32(h.height.min(0xffff) << 16);
    b.end(open);
}
