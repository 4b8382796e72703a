//! `hdlr`: handler type (vide, soun, sbtl) and name.

use super::buf::BoxBuf;

/// Write `hdlr` with a NUL-terminated name.
pub(crate) fn write(b: &mut BoxBuf, handler: &[u8; 4], name: &str) {
    let open = b.begin_full(b"hdlr", 0, 0);
    b.u32(0);
    b.put(handler);
    b.zeros(12);
    b.put(name.as_bytes());
    b.u8(0);
    b.end(open);
}
