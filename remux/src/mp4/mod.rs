//! MP4 output (faststart and fragmented) and MP4/MOV input.
//!
//! Our own box writer, one box per file (see docs/remux.md for why not the `mp4`
//! crate). The muxer takes [`crate::Track`]s and [`crate::Packet`]s from any
//! demuxer: [`FaststartPlan`] and [`FaststartWriter`] write moov before mdat in two passes over the
//! packets, [`FragmentedMuxer`] streams init segment + moof/mdat pairs. [`demux`] reads MP4/MOV.

mod buf;
mod dac3;
pub mod demux;
mod dfla;
mod dops;
mod edts;
pub mod esds;
mod faststart;
mod fragmented;
mod ftyp;
mod hdlr;
mod mdhd;
mod minf;
mod mvhd;
mod stbl;
mod stsd;
mod text;
mod timing;
mod tkhd;
pub(crate) mod track;
mod trak;
mod tx3g;
mod vpcc;

pub use faststart::{FaststartHeader, FaststartPlan, FaststartWriter};
pub use fragmented::{FragmentOptions, FragmentOut, FragmentedMuxer, MAX_FRAGMENT_BYTES};
pub use stsd::EntryOptions;
