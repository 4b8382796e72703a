//! `ftyp`: file type and compatible brands.

use super::buf::BoxBuf;

/// Write `ftyp` with major brand `isom` and the brands our output uses.
pub(crate) fn write(b: &mut BoxBuf, fragmented: bool, extra: &[[u8; 4]]) {
    let open = b.begin(b"ftyp");
    b.put(b"isom");
    b.u32(0x200);
    b.put(b"isom");
    b.put(b"iso2");
    if fragmented {
        // tfdt v1 / trun v1 (signed composition offsets) come from iso6.
        b.put(b"iso6");
    }
    for brand in extra {
        b.put(brand);
    }
    b.put(b"mp41");
    b.end(open);
}
