//! `trak`: one track's header, edit list and media (mdhd, hdlr, minf, stbl).

use super::buf::BoxBuf;
use super::edts::{self, Edit};
use super::stbl::{self, SampleTable};
use super::tkhd::{self, TrackHeader};
use super::{hdlr, mdhd, minf};
use crate::Track;

/// The sample table part of a `trak`.
pub(crate) enum Table<'a> {
    /// Faststart: the real table, mdat payload at file offset `base`, 64-bit offsets or not.
    Full {
        table: &'a SampleTable,
        base: u64,
        co64: bool,
    },
    /// Fragmented init segment: no samples here.
    Empty,
}

/// Everything `trak` says about one output track.
pub(crate) struct TrakParams<'a> {
    pub(crate) header: TrackHeader,
    pub(crate) edits: &'a [Edit],
    pub(crate) track: &'a Track,
    pub(crate) media_duration: u64,
    /// The sample entry box (avc1, mp4a, ...), already encoded.
    pub(crate) entry: &'a [u8],
    pub(crate) table: Table<'a>,
}

/// Write one `trak`.
pub(crate) fn write(b: &mut BoxBuf, p: &TrakParams) {
    let trak = b.begin(b"trak");
    tkhd::write(b, &p.header);
    if !p.edits.is_empty() {
        edts::write(b, p.edits);
    }
    let mdia = b.begin(b"mdia");
    mdhd::write(
        b,
        p.track.timescale,
        p.media_duration,
        p.track.language.as_deref(),
    );
    let (handler, name) = super::stsd::handler(p.track);
    hdlr::write(b, handler, name);
    let minf = b.begin(b"minf");
    minf::write_headers(b, p.track.kind);
    let stbl_open = b.begin(b"stbl");
    let stsd = b.begin_full(b"stsd", 0, 0);
    b.u32(1);
    b.put(p.entry);
    b.end(stsd);
    match p.table {
        Table::Full { table, base, co64 } => {
            table.write(b, base, p.track.kind == crate::TrackKind::Video, co64)
        }
        Table::Empty => stbl::write_empty(b),
    }
    b.end(stbl_open);
    b.end(minf);
    b.end(mdia);
    b.end(trak);
}
