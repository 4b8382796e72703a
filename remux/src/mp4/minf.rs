//! The media information headers: `vmhd`, `smhd`, `nmhd` and `dinf`/`dref`.

use super::buf::BoxBuf;
use crate::TrackKind;

/// Write the media header box for `kind` followed by `dinf` (data in this file).
pub(crate) fn write_headers(b: &mut BoxBuf, kind: TrackKind) {
    match kind {
        TrackKind::Video => {
            let open = b.begin_full(b"vmhd", 0, 1);
            b.zeros(8);
            b.end(open);
        }
        TrackKind::Audio => {
            let open = b.begin_full(b"smhd", 0, 0);
            b.zeros(4);
            b.end(open);
        }
        TrackKind::Subtitle => {
            let open = b.begin_full(b"nmhd", 0, 0);
            b.end(open);
        }
    }
    let dinf = b.begin(b"dinf");
    let dref = b.begin_full(b"dref", 0, 0);
    b.u32(1);
    let url = b.begin_full(b"url ", 0, 1);
    b.end(url);
    b.end(dref);
    b.end(dinf);
}
