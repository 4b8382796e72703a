//! `mvhd`: movie header (timescale, duration, next track id).

use super::buf::BoxBuf;

/// Write `mvhd`; version 1 when the duration does not fit 32 bits.
pub(crate) fn write(b: &mut BoxBuf, timescale: u32, duration: u64, next_track_id: u32) {
    let v1 = duration > u64::from(u32::MAX);
    let open = b.begin_full(b"mvhd", u8::from(v1), 0);
    if v1 {
        b.u64(0);
        b.u64(0);
        b.u32(timescale);
        b.u64(duration);
    } else {
        b.u32(0);
        b.u32(0);
        b.u32(timescale);
        b.u32(duration as u32);
    }
    b.u32(0x0001_0000); // rate 1.0
    b.u16(0x0100); // volume 1.0
    b.zeros(10);
    b.unity_matrix();
    b.zeros(24);
    b.u32(next_track_id);
    b.end(open);
}
